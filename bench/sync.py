"""Sync with HQ: drain a journal backlog to the reference HQ receiver, and commit-to-HQ latency.

One local Mosquitto, the hub's replicator in this process, `loupe hq run` in another (HQ and
hub each get a core, as in production they get a machine). Baseline: a plain aiomqtt client
publishing the very same batch payloads at QoS 1 to the same broker, pipelined the same way.

HQ at chain scale (`sync.hq_ingest_per_s`): 100 simulated stores, each with its own keys and
a backlog of sealed, chained, signed entries made here as a hub makes them, enrolled at a fresh
HQ and drained at once through the one broker (their batches interleaved, as a hundred hubs
coming back together would send them) until HQ has acked every store's last entry. Baseline:
the very same payloads through the broker to a plain subscriber. On SQLite, on PostgreSQL (a
private cluster) and with two HQ workers on it (see `_hq_variants`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from hub.bus import EventBus
from hub.hq import pgcluster
from hub.ledger.journal import GENESIS_HASH, seal
from hub.store import Store, init_store
from hub.sync.broker import Mosquitto
from hub.sync.enroll import HQKeys, enroll_store, read_bundle
from hub.sync.hq import open_hq
from hub.sync.mqtt import make_client
from hub.sync.replicator import MAX_INFLIGHT_PUBLISHES, Replicator, load_enrollment
from hub.sync.settings import Broker, SyncSettings
from hub.sync.wire import WrappedKey, encode_batches, key_aad, public_hex, seal_to, topic

# A sale-sized payload (the real sale.completed of one piece is about this big).
SALE = {"sale_id": "R1-000000", "register_id": "R1", "receipt_no": 0, "client_id": None,
        "currency": "EUR", "lines": [{"line_no": 1, "item_id": "BENCH-0000001", "sku": "RING-1",
                                      "description": "Solitaire ring, 18k white gold, 0.50 ct",
                                      "quantity": 1, "unit_price": 250000, "discount": 0,
                                      "tax_code": "standard", "tax": 41667, "total": 250000}],
        "subtotal": 250000, "discount": 0, "tax": 41667, "total": 250000,
        "tenders": [{"type": "card", "amount": 250000, "brand": "visa", "last4": "4242"}],
        "change": 0, "note": None}


async def _backlog(store: Store, n: int) -> None:
    def command(tx, start: int, count: int) -> None:
        for i in range(start, start + count):
            tx.append("bench.sale", f"sale:R1-{i:06d}", {**SALE, "receipt_no": i}, actor="bench")

    for start in range(0, n, 2000):
        count = min(2000, n - start)
        await store.ledger.transact(lambda tx, s=start, c=count: command(tx, s, c))


async def _baseline(broker: Broker, payloads: list[bytes]) -> float:
    async with make_client(broker, "bench-baseline", persistent=False, inflight=64) as client:
        started = time.perf_counter()
        inflight: set[asyncio.Task[None]] = set()
        for payload in payloads:
            if len(inflight) >= MAX_INFLIGHT_PUBLISHES:
                _, inflight = await asyncio.wait(inflight, return_when=asyncio.FIRST_COMPLETED)
            inflight.add(asyncio.create_task(client.publish("bench/baseline", payload, qos=1)))
        await asyncio.gather(*inflight)
        return time.perf_counter() - started


async def _baseline_e2e(broker: Broker, payloads: list[bytes]) -> float:
    """Transport alone: publish at QoS 1 until a plain QoS 1 subscriber has every message."""
    async with make_client(broker, "bench-sub", persistent=False) as sub:
        await sub.subscribe("bench/e2e", qos=1)
        got = 0

        async def receive() -> None:
            nonlocal got
            async for _ in sub.messages:
                got += 1
                if got == len(payloads):
                    return

        receiver = asyncio.create_task(receive())
        started = time.perf_counter()
        async with make_client(broker, "bench-pub", persistent=False, inflight=64) as pub:
            inflight: set[asyncio.Task[None]] = set()
            for payload in payloads:
                if len(inflight) >= MAX_INFLIGHT_PUBLISHES:
                    _, inflight = await asyncio.wait(inflight,
                                                     return_when=asyncio.FIRST_COMPLETED)
                inflight.add(asyncio.create_task(pub.publish("bench/e2e", payload, qos=1)))
            await asyncio.gather(*inflight)
            await receiver
        return time.perf_counter() - started


STORES = 100
TS = "2026-12-02T09:00:00.000000Z"


@dataclass
class SimulatedStore:
    """A store's identity and its backlog as journal batches, made without a hub."""

    store_id: str
    public_key: str
    box_key: str
    payloads: list[bytes]
    last_seq: int


def simulated_store(keys: HQKeys, store_id: str, n: int, settings: SyncSettings,
                    first_seq: int = 1) -> SimulatedStore:
    """`n` sale-sized entries sealed, chained and signed as a hub's ledger does, cut into
    messages as its replicator does (slices of `batch_entries`, under the size limit)."""
    signing, box, data_key = Ed25519PrivateKey.generate(), X25519PrivateKey.generate(), os.urandom(32)
    wrapped = WrappedKey("store", 1, seal_to(keys.box.public_key(), data_key,
                                             key_aad(keys.chain_id, store_id, "store", 1)))
    prev, entries = GENESIS_HASH, []
    for seq in range(first_seq, first_seq + n):
        entry = seal(store_id=store_id, seq=seq, ts=TS, kind="bench.sale", actor="bench",
                     subject=f"sale:R1-{seq:06d}", key_id="store", key_version=1,
                     data_key=data_key, plaintext=json.dumps({**SALE, "receipt_no": seq}).encode(),
                     prev_hash=prev, sign=signing.sign)
        prev = entry.hash
        entries.append(entry)
    payloads = []
    for i in range(0, n, settings.batch_entries):
        payloads += [p for p, _ in encode_batches(store_id, entries[i:i + settings.batch_entries],
                                                  {"store": wrapped}, settings.max_message_bytes)]
    return SimulatedStore(store_id, public_hex(signing.public_key()), public_hex(box.public_key()),
                          payloads, first_seq + n - 1)


def interleaved(stores: list[SimulatedStore], chain: str) -> list[tuple[str, bytes]]:
    """Every store's batches, in order per store, the stores taking turns."""
    out = []
    for i in range(max(len(s.payloads) for s in stores)):
        out += [(topic(chain, s.store_id, "journal"), s.payloads[i]) for s in stores
                if i < len(s.payloads)]
    return out


async def _publish_all(client: Any, messages: list[tuple[str, bytes]]) -> None:
    inflight: set[asyncio.Task[None]] = set()
    for name, payload in messages:
        if len(inflight) >= MAX_INFLIGHT_PUBLISHES:
            _, inflight = await asyncio.wait(inflight, return_when=asyncio.FIRST_COMPLETED)
        inflight.add(asyncio.create_task(client.publish(name, payload, qos=1)))
    await asyncio.gather(*inflight)


async def _drain_to_hq(broker: Broker, chain: str, stores: list[SimulatedStore],
                       warm: SimulatedStore) -> float:
    """Seconds from the first batch published to HQ's ack of every store's last entry."""
    acked: dict[str, int] = {}
    want = {s.store_id: s.last_seq for s in stores}
    async with make_client(broker, "bench-stores", persistent=False, inflight=64) as client:
        await client.subscribe(f"loupe/{chain}/+/ack", qos=1)

        async def acks() -> None:
            async for message in client.messages:
                doc = json.loads(bytes(message.payload))["doc"]
                acked[doc["store"]] = max(acked.get(doc["store"], 0), doc["seq"])

        listener = asyncio.create_task(acks())
        try:
            # Warm-up: HQ subscribed (its session is new: what comes before is not queued).
            deadline = time.monotonic() + 60
            while acked.get(warm.store_id, 0) < warm.last_seq:
                if time.monotonic() > deadline:
                    raise RuntimeError("benchmark timed out waiting for HQ to subscribe")
                await _publish_all(client, interleaved([warm], chain))
                with contextlib.suppress(RuntimeError):
                    await _wait(lambda: acked.get(warm.store_id, 0) >= warm.last_seq, 0.5)
            started = time.perf_counter()
            await _publish_all(client, interleaved(stores, chain))
            await _wait(lambda: all(acked.get(k, 0) >= v for k, v in want.items()), 900)
            return time.perf_counter() - started
        finally:
            listener.cancel()
            await asyncio.wait({listener})


def _hq_variants() -> list[tuple[str, str, int]]:
    """(figure suffix, storage, workers) for each HQ set-up measured: SQLite with one
    receiver; PostgreSQL (a private cluster, hub/hq/pgcluster.py) with one and with two
    (`loupe hq run --worker`, MQTT 5 shared subscriptions) when PostgreSQL is installed."""
    variants = [("sqlite", "sqlite", 1)]
    if pgcluster.available():
        variants += [("postgresql", "postgresql", 1), ("postgresql_workers_2", "postgresql", 2)]
    return variants


async def chain_drain(n_per_store: int, out: Any) -> dict[str, float]:
    """HQ taking 100 stores' backlogs at once, per HQ variant, against the same payloads
    through the broker to a plain subscriber."""
    figures: dict[str, float] = {}
    settings = SyncSettings()
    with tempfile.TemporaryDirectory(prefix="loupe-bench-chain-") as tmp:
        root = Path(tmp)
        mq = Mosquitto(root / "broker")
        mq.start()
        try:
            broker = Broker.parse(mq.url, "bench")
            maker = HQKeys.create(root / "maker", "bench")  # only its keys: each HQ gets them
            started = time.process_time()
            stores = [simulated_store(maker, f"s{i:03d}", n_per_store, settings)
                      for i in range(STORES)]
            warm = simulated_store(maker, "warm", 1, settings)
            total = STORES * n_per_store
            print(f"chain: {STORES} stores x {n_per_store} entries made in"
                  f" {time.process_time() - started:.1f} s (CPU)", file=out)
            payloads = [p for _, p in interleaved(stores, "bench")]
            for name, storage, workers in _hq_variants():
                hq_dir = root / f"hq-{name}"
                shutil.copytree(root / "maker", hq_dir)
                drain_s = await _run_hq(hq_dir, mq.url, storage, workers, stores + [warm],
                                        lambda b=broker: _drain_to_hq(b, "bench", stores, warm))
                e2e_s = await _baseline_e2e(broker, payloads)
                print(f"chain drain ({name}): {total} entries of {STORES} stores"
                      f" ({sum(map(len, payloads)) / 1e6:.1f} MB in {len(payloads)} messages)"
                      f" stored and acked by HQ in {drain_s:.2f} s; the same bytes to a plain"
                      f" subscriber {e2e_s:.2f} s", file=out)
                figures[f"sync.hq_ingest_per_s.{name}"] = total / drain_s
                figures[f"sync.hq_ingest_baseline_e2e_per_s.{name}"] = total / e2e_s
                figures[f"sync.hq_ingest_ratio_e2e.{name}"] = e2e_s / drain_s
        finally:
            mq.stop()
    if "sync.hq_ingest_per_s.postgresql_workers_2" in figures:
        figures["sync.workers_2_vs_1"] = (figures["sync.hq_ingest_per_s.postgresql_workers_2"]
                                          / figures["sync.hq_ingest_per_s.postgresql"])
    return figures


async def _run_hq(hq_dir: Path, broker_url: str, storage: str, workers: int,
                  stores: list[SimulatedStore], drain: Any) -> float:
    """Enroll the stores at the HQ in `hq_dir` (as their hellos would), run `loupe hq run`
    on it (`workers` of them, each `--worker`, when more than one) for the drain, stop."""
    cluster = None
    keys = HQKeys.load(hq_dir)
    if storage == "postgresql":
        cluster = pgcluster.PgCluster(hq_dir / "pg")
        cluster.start()
        keys.use_db(cluster.createdb("hq"))
    hq = open_hq(keys)
    for s in stores:
        hq.storage.add_store(s.store_id, "00" * 32)
        hq.storage.register(s.store_id, s.public_key, s.box_key)
    hq.storage.close()
    log = open(os.environ.get("LOUPE_BENCH_HQ_LOG", os.devnull), "ab")
    procs = [subprocess.Popen(
        [sys.executable, "-m", "hub", "hq", "run", "--data-dir", str(hq_dir), "--broker",
         broker_url, "--log-level", "warning",
         *(["--worker", f"w{i + 1}"] if workers > 1 else [])],
        stdout=subprocess.DEVNULL, stderr=log) for i in range(workers)]
    try:
        return await drain()
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(10)
        log.close()
        if cluster is not None:
            cluster.stop()


async def _wait(cond, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise RuntimeError("benchmark timed out waiting for HQ")
        await asyncio.sleep(0.001)


async def run(quick: bool, out: Any = sys.stdout) -> dict[str, float]:
    n = 10_000 if quick else 100_000
    chain = await chain_drain(100 if quick else 1000, out)
    latency_samples = 50 if quick else 300
    with tempfile.TemporaryDirectory(prefix="loupe-bench-sync-") as tmp:
        root = Path(tmp)
        mq = Mosquitto(root / "broker")
        mq.start()
        hq_proc = None
        try:
            keys = HQKeys.create(root / "hq", "bench")
            hq = open_hq(keys)
            bundle, secret = keys.make_bundle("shop", Broker.parse(mq.url, "bench"))
            hq.storage.add_store("shop", secret)
            hq.storage.close()
            init_store(root / "shop", "shop", "Bench", "EUR")
            store = await Store.open(root / "shop", EventBus())
            await enroll_store(store.ledger, root / "shop", read_bundle(bundle, "shop"))
            await store.items.receive_many(
                [{"item_id": f"P{i:05d}", "sku": "RING-1", "description": "Ring",
                  "category": "ring", "cost": 1000, "tag_price": 250000}
                 for i in range(latency_samples)], actor="bench")
            hq_proc = subprocess.Popen(
                [sys.executable, "-m", "hub", "hq", "run", "--data-dir", str(root / "hq"),
                 "--broker", mq.url, "--log-level", "warning"], stdout=subprocess.DEVNULL,
                stderr=open(os.environ.get("LOUPE_BENCH_HQ_LOG", os.devnull), "wb"))
            settings = SyncSettings(resend_after_s=30.0)
            enrollment = await load_enrollment(store.ledger)
            # Warm-up: HQ up, the store's hello and its first entries stored. (HQ's session
            # is new, so what the hub sends before HQ subscribes is resent after 0.5 s.)
            rep = Replicator(store, SyncSettings(resend_after_s=0.5), enrollment)
            await rep.start()
            await _wait(lambda: rep.acked >= store.ledger.seq, 60)
            await rep.stop()

            started = time.perf_counter()
            await _backlog(store, n)
            print(f"backlog: {n} entries made in {time.perf_counter() - started:.1f} s",
                  file=out)
            rep = Replicator(store, settings, enrollment)
            # The same bytes the replicator will send, for the baselines.
            entries = await store.ledger.entries(rep.acked, store.ledger.seq)
            await rep.batches(entries[:1])  # seal the store key once, outside the timing
            payloads = []
            started = time.process_time()
            for i in range(0, len(entries), settings.batch_entries):
                payloads += [p for p, _ in await rep.batches(
                    entries[i:i + settings.batch_entries])]
            cut_s = time.process_time() - started
            # Baseline: serialising each entry's export, the least any cutting must do.
            started = time.process_time()
            for entry in entries:
                json.dumps(entry.to_export(), separators=(",", ":"))
            dumps_s = time.process_time() - started
            print(f"cut: the backlog into messages at {n / cut_s:,.0f} entries/s (CPU);"
                  f" baseline json.dumps of each entry {n / dumps_s:,.0f}/s", file=out)
            size = sum(map(len, payloads))
            del entries

            started = time.perf_counter()
            await rep.start()
            await _wait(lambda: rep.acked >= store.ledger.seq, 600)
            drain_s = time.perf_counter() - started
            print(f"drain: {n} entries ({size / 1e6:.1f} MB in {len(payloads)} messages)"
                  f" verified, stored and acked by HQ in {drain_s:.2f} s", file=out)

            broker = Broker.parse(mq.url, "bench")
            base_s = await _baseline(broker, payloads)
            print(f"baseline: plain aiomqtt QoS 1 publish of the same bytes {base_s:.2f} s",
                  file=out)
            e2e_s = await _baseline_e2e(broker, payloads)
            print(f"baseline: the same bytes through the broker to a plain subscriber"
                  f" {e2e_s:.2f} s", file=out)

            lat: list[float] = []
            for i in range(latency_samples):
                sale = await store.sales.complete(
                    register_id="R1", actor="bench", lines=[{"item_id": f"P{i:05d}"}],
                    tenders=[{"type": "cash", "amount": 250000}])
                committed = time.perf_counter()
                seq = (await store.ledger.fetch_one("SELECT seq FROM sales WHERE sale_id = ?",
                                                    (sale["sale_id"],)))["seq"]
                await _wait(lambda s=seq: rep.acked >= s, 30)
                lat.append((time.perf_counter() - committed) * 1000)
            lat.sort()
            p50, p99 = statistics.median(lat), lat[min(len(lat) - 1, int(len(lat) * 0.99))]
            print(f"commit to HQ stored (ack received): p50 {p50:.1f} ms, p99 {p99:.1f} ms"
                  f" over {len(lat)} sales", file=out)
            await rep.stop()
            await store.close()
        finally:
            if hq_proc is not None:
                hq_proc.terminate()
                hq_proc.wait(10)
            mq.stop()
    return {"sync.drain_per_s": n / drain_s,
            "sync.cut_per_s": n / cut_s, "sync.cut_baseline_dumps_per_s": n / dumps_s,
            "sync.baseline_publish_per_s": n / base_s,
            "sync.drain_ratio": base_s / drain_s,
            "sync.baseline_e2e_per_s": n / e2e_s,
            "sync.drain_ratio_e2e": e2e_s / drain_s,
            "sync.commit_to_hq_p50_ms": p50, "sync.commit_to_hq_p99_ms": p99,
            "sync.cores": float(os.cpu_count() or 0), **chain}
