"""Several HQ receivers (`loupe hq run --worker NAME`) sharing a chain's stores through MQTT 5
shared subscriptions: the contiguous-ack logic lives in the database, so whichever worker gets
a store's batch, HQ keeps every entry once, in order, and acks the right head.

The stores here are simulated (bench/sync.py's `simulated_store`: sealed, chained, signed
batches made without a hub) and behave as a replicator does: QoS 1 publishes within a window,
go-back-N from HQ's acked head on a reported gap or when no ack progress came for a while.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sync_helpers import until

from bench.sync import simulated_store
from hub.ledger.journal import Entry
from hub.sync import hqstore
from hub.sync.broker import Mosquitto
from hub.sync.enroll import HQKeys
from hub.sync.hq import DISPATCH_LEASE, HQ, open_hq
from hub.sync.hqstore import HQStorage
from hub.sync.mqtt import make_client
from hub.sync.pgstore import PostgresHQStorage
from hub.sync.settings import Broker, SyncSettings
from hub.sync.wire import decode_batch, topic, verify_doc

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = SyncSettings(batch_entries=25)
WINDOW = 100  # entries a simulated store sends ahead of HQ's ack, at most
RESEND_S = 1.0  # no ack progress for this long: go back to HQ's head (a replicator's resend)


@dataclass
class Sim:
    """One simulated store's backlog and its replicator-like cursor."""

    store_id: str
    batches: list[tuple[int, int, bytes]]  # (first seq, last seq, payload)
    entries: list[Entry]
    public_key: str
    box_key: str
    acked: int = 0
    next: int = 0  # index of the next batch to publish
    progress_at: float = field(default_factory=time.monotonic)

    @property
    def last(self) -> int:
        return self.entries[-1].seq

    def go_back(self) -> None:
        self.next = next(i for i, b in enumerate(self.batches) if b[1] > self.acked)
        self.progress_at = time.monotonic()


def make_sims(keys: HQKeys, count: int, per_store: int) -> list[Sim]:
    sims = []
    for i in range(count):
        s = simulated_store(keys, f"s{i:02d}", per_store, SETTINGS)
        batches, entries = [], []
        for payload in s.payloads:
            got = decode_batch(payload, s.store_id).entries
            batches.append((got[0].seq, got[-1].seq, payload))
            entries += got
        sims.append(Sim(s.store_id, batches, entries, s.public_key, s.box_key))
    return sims


Opener = Callable[[], HQStorage]


def register(keys: HQKeys, sims: list[Sim], open_storage: Opener | None = None) -> None:
    """Enroll the stores at HQ as their hellos would have."""
    storage = open_storage() if open_storage else open_hq(keys).storage
    try:
        for s in sims:
            storage.add_store(s.store_id, "00" * 32)
            storage.register(s.store_id, s.public_key, s.box_key)
    finally:
        storage.close()


@pytest.fixture
def storages(hq_keys: HQKeys):
    """(HQ's keys, an opener of one more connection to HQ's database): one per worker."""
    return hq_keys, lambda: open_hq(hq_keys).storage


# -- a run split across two workers, in-process --------------------------------------------

def test_a_run_split_across_two_workers_ends_contiguous(storages) -> None:
    keys, open_storage = storages
    (sim,) = make_sims(keys, 1, 100)
    register(keys, [sim], open_storage)
    # Two workers: two connections to one database.
    w1, w2 = HQ(keys, open_storage()), HQ(keys, open_storage())
    try:
        half = len(sim.batches) // 2
        first, second = sim.batches[:half], sim.batches[half:]
        # The second half reaches w2 first: held in the database, not a gap yet (young).
        for _, _, payload in second:
            got = w2.ingest(sim.store_id, payload)
            assert (got.head, got.gap, got.stored) == (0, False, 0)
        assert w1.storage.held(sim.store_id) == sim.last - second[0][0] + 1
        # A resend of a held batch changes nothing.
        assert w1.ingest(sim.store_id, second[0][2]).head == 0
        # w1 stores the first half; its last batch takes w2's held entries along.
        for n, (_, last, payload) in enumerate(first):
            got = w1.ingest(sim.store_id, payload)
            if n < len(first) - 1:
                assert (got.head, got.gap) == (last, False)
        assert (got.head, got.gap, got.stored) == (sim.last, False, sim.last - first[-1][0] + 1)
        assert w2.storage.held(sim.store_id) == 0
        assert w2.storage.entries(sim.store_id, 0, 10_000) == sim.entries
        assert w2.verify_store(sim.store_id) == f"ok: {sim.last} entries"
        # A whole resend is dropped by (store, seq): HQ's head, nothing stored twice.
        got = w2.ingest(sim.store_id, first[0][2])
        assert (got.head, got.gap, got.stored) == (sim.last, False, 0)
    finally:
        w1.storage.close()
        w2.storage.close()


def test_held_entries_become_a_gap_after_the_patience(storages, monkeypatch) -> None:
    """Entries that waited past GAP_PATIENCE_S make HQ ask for a resend from its head."""
    assert hqstore.GAP_PATIENCE_S == 2.0
    keys, open_storage = storages
    (sim,) = make_sims(keys, 1, 50)
    register(keys, [sim], open_storage)
    hq = HQ(keys, open_storage())
    try:
        assert hq.ingest(sim.store_id, sim.batches[1][2]).gap is False  # young: patience
        monkeypatch.setattr(hqstore, "GAP_PATIENCE_S", 0.0)  # as if they had waited
        got = hq.ingest(sim.store_id, sim.batches[1][2])
        assert (got.head, got.gap) == (0, True)
        got = hq.ingest(sim.store_id, sim.batches[0][2])
        assert (got.head, got.gap) == (sim.batches[1][1], False)
    finally:
        hq.storage.close()


def test_the_dispatch_lease_goes_to_one_worker_at_a_time(storages) -> None:
    keys, open_storage = storages
    w1, w2 = HQ(keys, open_storage()), HQ(keys, open_storage())
    try:
        assert w1.storage.take_lease(DISPATCH_LEASE, "w1", 60)
        assert not w2.storage.take_lease(DISPATCH_LEASE, "w2", 60)
        assert w1.storage.take_lease(DISPATCH_LEASE, "w1", -1)  # renewed (here: expired)
        assert w2.storage.take_lease(DISPATCH_LEASE, "w2", 60)  # expired: w2 takes it
        assert not w1.storage.take_lease(DISPATCH_LEASE, "w1", 60)
    finally:
        w1.storage.close()
        w2.storage.close()


# -- two worker processes, twenty stores, one worker killed mid-drain -------------------------

def start_worker(hq_dir: Path, broker: Mosquitto, name: str, log: Path,
                 extra: tuple[str, ...] = ()) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "hub", "hq", "run", "--data-dir", str(hq_dir), "--broker",
         broker.url, "--worker", name, "--log-level", "info", *extra], cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=open(log, "wb"))


class Stores:
    """Every simulated store on one MQTT connection, each with its own cursor."""

    def __init__(self, sims: list[Sim], keys: HQKeys) -> None:
        self.sims = {s.store_id: s for s in sims}
        self.keys = keys
        self.wake = asyncio.Event()
        self.on_ack: list = []
        self.gaps = 0

    def acked(self) -> int:
        return sum(s.acked for s in self.sims.values())

    def _ack(self, payload: bytes) -> None:
        doc, _ = verify_doc(self.keys.signing.public_key(), payload, "ack")
        sim = self.sims[doc["store"]]
        if doc["seq"] > sim.acked:
            sim.acked, sim.progress_at = doc["seq"], time.monotonic()
        sent = sim.batches[sim.next - 1][1] if sim.next else 0
        if doc.get("gap") and sent > sim.acked:
            self.gaps += 1
            sim.go_back()
        for hook in self.on_ack:
            hook()
        self.wake.set()

    async def run(self, broker: Broker) -> None:
        chain = self.keys.chain_id
        async with make_client(broker, "simulated-stores", persistent=False) as client:
            await client.subscribe(f"loupe/{chain}/+/ack", qos=1)

            async def acks() -> None:
                async for message in client.messages:
                    self._ack(bytes(message.payload))

            listener = asyncio.create_task(acks())
            try:
                while True:
                    self.wake.clear()
                    for sim in self.sims.values():
                        if sim.acked < sim.last and time.monotonic() - sim.progress_at > RESEND_S:
                            sim.go_back()  # a lost batch (a dead worker's share): resend
                        while (sim.next < len(sim.batches)
                               and sim.batches[sim.next][0] <= sim.acked + WINDOW):
                            await client.publish(topic(chain, sim.store_id, "journal"),
                                                 sim.batches[sim.next][2], qos=1)
                            sim.next += 1
                    # The resend timer ticks without acks too.
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.wake.wait(), 0.2)
            finally:
                listener.cancel()
                await asyncio.wait({listener})


def heads(open_storage: Opener) -> dict[str, int]:
    storage = open_storage()
    try:
        return {r.store_id: r.head_seq for r in storage.stores()}
    finally:
        storage.close()


def lease_holder(open_storage: Opener) -> str | None:
    storage = open_storage()
    try:
        rows = storage.query("SELECT holder FROM leases WHERE name = ?", (DISPATCH_LEASE,))
        return rows[0]["holder"] if rows else None
    finally:
        storage.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def hq_db(request, tmp_path: Path, pg_cluster):
    """(`loupe hq run` arguments, a storage opener) for HQ's database: its SQLite file, or
    PostgreSQL (the storage several workers are meant for) chosen by `loupe hq init --db`."""
    if request.param == "sqlite":
        keys = HQKeys.create(tmp_path / "hq", "maison")
        yield keys, (), lambda: open_hq(keys).storage
        return
    if pg_cluster is None:
        pytest.skip("PostgreSQL is not installed (scripts/test installs it)")
    url = pg_cluster.createdb(f"hq_{uuid.uuid4().hex[:10]}")
    hq_dir = tmp_path / "hq-pg"
    subprocess.run([sys.executable, "-m", "hub", "hq", "init", "--data-dir", str(hq_dir),
                    "--chain-id", "maison", "--db", url], cwd=ROOT, check=True,
                   capture_output=True)
    keys = HQKeys.load(hq_dir)
    storage = open_hq(keys).storage
    assert isinstance(storage, PostgresHQStorage)
    storage.close()
    yield keys, (), lambda: open_hq(keys).storage


async def test_two_workers_share_the_stores_and_survive_one_killed(tmp_path: Path, hq_db,
                                                                   broker: Mosquitto) -> None:
    keys, db_args, open_storage = hq_db
    sims = make_sims(keys, 20, 200)
    register(keys, sims, open_storage)
    logs = {name: tmp_path / f"{name}.log" for name in ("w1", "w2")}
    workers = {name: start_worker(keys.data_dir, broker, name, log, db_args)
               for name, log in logs.items()}
    stores = Stores(sims, keys)
    pump = None
    try:
        def subscribed() -> bool:
            for name, proc in workers.items():  # a worker that could not start says why
                assert proc.poll() is None, (name, logs[name].read_text()[-2000:])
            return all("HQ receiver connected" in log.read_text() for log in logs.values())

        await until(subscribed, "both workers subscribed", 30)
        # The lease holder is the worker killed, so the other must take the dispatcher over.
        await until(lambda: lease_holder(open_storage) is not None, "a worker holds the lease", 30)
        holder = lease_holder(open_storage)
        victim = holder.rsplit("-", 1)[1]
        survivor = next(n for n in workers if n != victim)
        total = sum(s.last for s in sims)

        def kill_mid_drain() -> None:
            if stores.acked() >= total // 3 and workers[victim].poll() is None:
                os.kill(workers[victim].pid, signal.SIGKILL)

        stores.on_ack.append(kill_mid_drain)
        pump = asyncio.create_task(stores.run(Broker.parse(broker.url, "test")))
        await until(lambda: workers[victim].poll() is not None, "one worker killed", 30)
        assert stores.acked() < total, "the drain ended before the kill"
        want = {s.store_id: s.last for s in sims}
        await until(lambda: heads(open_storage) == want, "every store's head at HQ", 60)
        await until(lambda: lease_holder(open_storage) == f"loupe-hq-maison-{survivor}",
                    "the survivor took the dispatch lease", 30)
        assert workers[survivor].poll() is None
    finally:
        if pump is not None:
            pump.cancel()
            await asyncio.wait({pump})
        for proc in workers.values():
            if proc.poll() is None:
                proc.terminate()
                proc.wait(10)

    hq = HQ(keys, open_storage())
    try:
        for sim in sims:
            held = hq.storage.entries(sim.store_id, 0, 100_000)
            assert held == sim.entries  # every entry once, in order, as the store sent it
            assert hq.storage.held(sim.store_id) == 0
            assert hq.verify_store(sim.store_id) == f"ok: {sim.last} entries"
            assert hq.storage.store(sim.store_id).problem is None
    finally:
        hq.storage.close()
    for name, log in logs.items():  # no worker refused anything or failed
        errors = [json.loads(line) for line in log.read_text().splitlines()
                  if line.startswith("{") and json.loads(line).get("level") == "error"]
        assert not errors, (name, errors[:3])

