"""Helpers for the sync tests (imported by name: a module called `conftest` is ambiguous
when several test folders have one)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from pathlib import Path

from hub.bus import EventBus
from hub.store import Store, init_store
from hub.sync.broker import Mosquitto
from hub.sync.enroll import HQKeys, enroll_store, read_bundle
from hub.sync.hq import HQ, Receiver, open_hq, publish_signed
from hub.sync.replicator import Replicator, load_enrollment
from hub.sync.settings import Broker, SyncSettings

PIECE = {"sku": "RING-SOL-1", "description": "Solitaire ring, 18k white gold", "category": "ring",
         "metal": "gold", "fineness": 750, "metal_weight_mg": 3200, "cost": 90000,
         "tag_price": 250000}
CARD = [{"type": "cash", "amount": 0}]


async def until(cond: Callable[[], object], what: str, timeout: float = 30.0) -> None:
    """Wait for a condition (a bound on a hang, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while True:
        result = cond()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for: {what}")
        await asyncio.sleep(0.02)


class HQRunner:
    def __init__(self, hq: HQ, broker: Mosquitto) -> None:
        self.hq = hq
        self.receiver = Receiver(hq, Broker.parse(broker.url, "test"))
        self.task = asyncio.create_task(self.receiver.run())

    async def call(self, fn, *args):
        return await self.receiver._call(fn, *args)

    async def head(self, store_id: str) -> int:
        row = await self.call(self.hq.storage.store, store_id)
        return row.head_seq if row else 0

    async def close(self) -> None:
        self.task.cancel()
        # Bounded: a receiver that swallowed its cancellation fails the test, never hangs it.
        done, _ = await asyncio.wait({self.task}, timeout=10)
        assert done, "the HQ receiver did not stop within 10 s"
        await self.receiver.close()


def make_bundle(keys: HQKeys, store_id: str, broker_url: str) -> bytes:
    hq = open_hq(keys)
    try:
        bundle, secret = keys.make_bundle(store_id, Broker.parse(broker_url, "test"))
        hq.storage.add_store(store_id, secret)
    finally:
        hq.storage.close()
    return bundle


async def new_store(tmp_path: Path, store_id: str, pieces: int = 5) -> Store:
    data_dir = tmp_path / store_id
    if not (data_dir / "loupe.toml").exists():
        init_store(data_dir, store_id, f"Maison {store_id}", "EUR")
        store = await Store.open(data_dir, EventBus())
        await store.items.receive_many(
            [{**PIECE, "item_id": f"{store_id}-{i}"} for i in range(pieces)], actor="admin")
        return store
    return await Store.open(data_dir, EventBus())


async def enroll(store: Store, bundle: bytes) -> None:
    await enroll_store(store.ledger, store.config.data_dir,
                       read_bundle(bundle, store.config.store_id))


class Hub:
    """A store with its replicator, as `loupe run` would have it."""

    def __init__(self, store: Store, replicator: Replicator) -> None:
        self.store = store
        self.rep = replicator

    async def sell(self, item_id: str, client_id: str | None = None) -> dict:
        piece = await self.store.items.get(item_id)
        tenders = [{**CARD[0], "amount": piece["tag_price"]}]
        return await self.store.sales.complete(register_id="R1", actor="admin",
                                               lines=[{"item_id": item_id}], tenders=tenders,
                                               client_id=client_id)

    async def close(self) -> None:
        await self.rep.stop()
        await self.store.close()


FAST = SyncSettings(resend_after_s=1.0, batch_entries=50)


async def journal(store: Store) -> list:
    return await store.ledger.entries(0, 1_000_000)


async def hq_entries(hq: HQRunner, store_id: str) -> list:
    return await hq.call(hq.hq.storage.entries, store_id, 0, 1_000_000)


def hq_stored_bytes(hq: HQ, pg_cluster) -> bytes:
    """Every byte HQ's database keeps on disk: its SQLite files, or on PostgreSQL the
    database's own files and the cluster's write-ahead log (written before any page)."""
    if hq.keys.db is None:
        return b"".join(p.read_bytes() for p in hq.keys.db_path.parent.glob(
            f"{hq.keys.db_path.name}*"))
    oid = hq.storage.query("SELECT oid FROM pg_database WHERE datname = current_database()")
    dirs = [pg_cluster.data / "base" / str(oid[0]["oid"]), pg_cluster.data / "pg_wal"]
    return b"".join(p.read_bytes() for d in dirs for p in d.rglob("*") if p.is_file())


class Hubs:
    """Running hubs by store id: `start` opens (and the first time enrolls) a store,
    `stop` closes it keeping its books and enrollment, `close` stops them all."""

    def __init__(self, tmp_path: Path, keys: HQKeys, broker: Mosquitto, pieces: int = 3) -> None:
        self.tmp_path, self.keys, self.broker, self.pieces = tmp_path, keys, broker, pieces
        self.running: dict[str, Hub] = {}
        self.enrolled: set[str] = set()

    async def start(self, store_id: str) -> Hub:
        store = await new_store(self.tmp_path, store_id, pieces=self.pieces)
        if store_id not in self.enrolled:
            await enroll(store, make_bundle(self.keys, store_id, self.broker.url))
            self.enrolled.add(store_id)
        hub = Hub(store, Replicator(store, FAST, await load_enrollment(store.ledger)))
        await hub.rep.start()
        self.running[store_id] = hub
        return hub

    async def stop(self, store_id: str) -> None:
        await self.running.pop(store_id).close()

    async def close(self) -> None:
        for hub in list(self.running.values()):
            with contextlib.suppress(Exception):
                await hub.close()


async def send(hq: HQRunner, broker: Mosquitto, store_id: str, mtype: str, body: dict) -> str:
    """HQ signs a message and publishes it; returns its id once the broker has it."""
    name, payload = await hq.call(hq.hq.message, store_id, mtype, body)
    await publish_signed(Broker.parse(broker.url, "t"), None, "test-hq-cli", [(name, payload)])
    return json.loads(payload)["doc"]["id"]


async def caught_up(hq: HQRunner, hub: Hub) -> bool:
    """HQ holds every entry of the hub's journal."""
    return await hq.head(hub.store.config.store_id) == hub.store.ledger.seq
