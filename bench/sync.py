"""Sync with HQ: drain a journal backlog to the reference HQ receiver, and commit-to-HQ latency.

One local Mosquitto, the hub's replicator in this process, `loupe hq run` in another (HQ and
hub each get a core, as in production they get a machine). Baseline: a plain aiomqtt client
publishing the very same batch payloads at QoS 1 to the same broker, pipelined the same way.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from hub.bus import EventBus
from hub.store import Store, init_store
from hub.sync.broker import Mosquitto
from hub.sync.enroll import HQKeys, enroll_in, install_bundle, read_bundle
from hub.sync.hq import open_hq
from hub.sync.mqtt import make_client
from hub.sync.replicator import MAX_INFLIGHT_PUBLISHES, Replicator, load_enrollment
from hub.sync.settings import Broker, SyncSettings

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


async def _wait(cond, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise RuntimeError("benchmark timed out waiting for HQ")
        await asyncio.sleep(0.001)


async def run(quick: bool, out: Any = sys.stdout) -> dict[str, float]:
    n = 10_000 if quick else 100_000
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
            enrollment = install_bundle(read_bundle(bundle, "shop"), root / "shop")
            await store.ledger.transact(lambda tx: enroll_in(tx, enrollment))
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
            "sync.cores": float(os.cpu_count() or 0)}
