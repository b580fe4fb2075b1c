"""A store's backup file, sent to HQ over the broker (`<store>/backup`), in chunks.

The file is already encrypted (hub/backup/archive.py): the broker and HQ carry opaque bytes.
Each message is one JSON line (store, file name, chunk index and count, the whole file's
size and SHA-256, where the chunk goes) then the chunk's bytes. HQ (hub/hq/backups.py) writes them at their
offset and keeps the file once the last one makes the hash match.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path

import aiomqtt

from hub.store import Store
from hub.sync.mqtt import make_client
from hub.sync.replicator import load_enrollment
from hub.sync.settings import Broker
from hub.sync.wire import topic

CHUNK = 192 * 1024  # under a message's default limit with room for the header


class BackupNotSent(Exception):
    """The backup is written here but did not reach HQ; said in words."""


def chunks(path: Path, store_id: str) -> list[bytes]:
    """Every message of the file, built once (blocking: run it on a worker thread)."""
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    count = max(1, -(-len(data) // CHUNK))
    return [json.dumps({"store": store_id, "name": path.name, "index": i, "count": count,
                        "offset": i * CHUNK, "size": len(data),
                        "sha256": digest}).encode() + b"\n"
            + data[i * CHUNK:(i + 1) * CHUNK] for i in range(count)]


async def send_backup(store: Store, path: Path, timeout_s: float = 600.0) -> int:
    """Send one backup file to HQ; returns the bytes sent. Raises `BackupNotSent`."""
    enrollment = await load_enrollment(store.ledger)
    if enrollment is None:
        raise BackupNotSent("this store is not enrolled with HQ")
    broker = Broker.parse(enrollment.broker, "enrollment broker")
    messages = await asyncio.to_thread(chunks, path, enrollment.store_id)
    client = make_client(broker, f"loupe-{enrollment.chain_id}-{enrollment.store_id}-backup",
                         tls=enrollment.tls(), persistent=False, inflight=16)
    name = topic(enrollment.chain_id, enrollment.store_id, "backup")
    try:
        async with asyncio.timeout(timeout_s), client:
            for message in messages:
                await client.publish(name, message, qos=1)
    except TimeoutError:
        raise BackupNotSent(f"HQ's broker took more than {timeout_s:.0f} s") from None
    except (aiomqtt.MqttError, OSError) as exc:
        raise BackupNotSent(f"cannot reach HQ's broker {broker.url}: {exc}") from None
    return sum(len(m) for m in messages)
