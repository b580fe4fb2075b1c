"""After `loupe restore`: the entries written since the backup, back from HQ's copy.

The restored books end at the backup's seq; HQ holds every entry it acknowledged after it.
The hub says hello asking for them (`catch_up_after`), HQ answers on `<store>/restore` with
a signed head (its seq, and the keys it destroyed: a client forgotten since) and then its
copy of the journal in batches, each entry exactly as this store wrote it and the data keys
sealed to this store's own box key. Every entry must continue this journal's chain under
this store's signature (`Tx.adopt`), so HQ can give back only what the store wrote.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import aiomqtt
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from hub.ledger.ledger import Tx
from hub.store import Store
from hub.sync.enroll import BOX_KEY_ID
from hub.sync.model import SyncBook
from hub.sync.mqtt import make_client
from hub.sync.replicator import Replicator, load_enrollment
from hub.sync.settings import SyncSettings, read_settings
from hub.sync.wire import WireError, decode_batch, key_aad, open_sealed, topic, verify_doc

log = logging.getLogger(__name__)


class CatchUpError(Exception):
    """The catch-up could not finish; the books keep what was taken so far."""


@dataclass(frozen=True)
class CaughtUp:
    before: int   # the restored journal's seq
    head: int     # the journal's seq now: HQ's head, or the backup's when HQ had less
    destroyed: int  # keys HQ had destroyed since the backup (forgotten clients)

    @property
    def entries(self) -> int:
        return self.head - self.before


async def catch_up(store: Store, *, settings: SyncSettings | None = None,
                   timeout_s: float = 120.0) -> CaughtUp:
    """Fetch and adopt every entry HQ holds after this journal's end; HQ's head is then
    this store's seq and its cursor. Raises `CatchUpError` in words."""
    ledger = store.ledger
    enrollment = await load_enrollment(ledger)
    if enrollment is None:
        raise CatchUpError("this store is not enrolled with HQ: there is no copy to fetch"
                           " from (restore with --without-hq to accept the backup as it is)")
    settings = settings or read_settings(store.config.section("sync"))
    replicator = Replicator(store, settings, enrollment)  # its hello and its broker
    box = X25519PrivateKey.from_private_bytes(ledger.keyring.get(BOX_KEY_ID)[1])
    chain, store_id = enrollment.chain_id, enrollment.store_id
    before = ledger.seq
    head: int | None = None
    destroyed: list[str] = []
    client = make_client(replicator.broker, f"loupe-{chain}-{store_id}-restore",
                         tls=enrollment.tls(), persistent=False)
    try:
        async with asyncio.timeout(timeout_s), client:
            await client.subscribe([(topic(chain, store_id, "restore"), 1)])
            await client.publish(topic(chain, store_id, "hello"),
                                 replicator.hello(catch_up_after=before), qos=1)
            async for message in client.messages:
                payload = message.payload if isinstance(message.payload, bytes) else b""
                if head is None:
                    doc, _ = verify_doc(replicator.hq_key, payload, "HQ's catch-up")
                    if doc.get("type") != "catch_up" or doc.get("store") != store_id or \
                            doc.get("chain") != chain or doc.get("after") != before:
                        continue  # an answer to an earlier attempt
                    head, destroyed = int(doc["head"]), list(doc.get("destroyed") or [])
                    await ledger.transact(lambda tx, gone=destroyed: _forget(tx, gone))
                else:
                    batch = decode_batch(payload, store_id)
                    keys = [(k.key_id, k.version, open_sealed(
                        box, k.wrapped, key_aad(chain, store_id, k.key_id, k.version)))
                        for k in batch.keys]
                    entries = [e for e in batch.entries if e.seq > ledger.seq]
                    await ledger.transact(lambda tx, k=keys, e=entries: _adopt(tx, k, e))
                if head is not None and ledger.seq >= head:
                    break
    except TimeoutError:
        raise CatchUpError(
            f"HQ did not answer within {timeout_s:.0f} s (broker {replicator.broker.url}):"
            f" the books hold seq {ledger.seq}; run `loupe restore --catch-up` again") from None
    except WireError as exc:
        raise CatchUpError(f"HQ's answer was refused: {exc}") from None
    except (aiomqtt.MqttError, OSError) as exc:
        raise CatchUpError(f"cannot reach HQ's broker {replicator.broker.url}: {exc}") from None
    if head is None or ledger.seq < head:
        raise CatchUpError(f"HQ's copy ended early: the books hold seq {ledger.seq} of {head}")
    # HQ's word: all of it, or (a backup newer than HQ's copy: entries the old box wrote
    # while the broker was away) up to its head, and the replicator sends it the rest.
    await SyncBook(ledger).save_cursor(min(head, ledger.seq))
    log.info("restored store caught up from HQ", extra={"from_seq": before, "seq": ledger.seq,
                                                        "hq_seq": head})
    return CaughtUp(before, ledger.seq, len(destroyed))


def _forget(tx: Tx, key_ids: list[str]) -> None:
    for key_id in key_ids:
        tx.adopt_key(key_id, 1, None)


def _adopt(tx: Tx, keys: list[tuple[str, int, bytes]], entries: list) -> None:
    for key_id, version, secret in keys:
        tx.adopt_key(key_id, version, secret)
    if entries:
        tx.adopt(entries)
