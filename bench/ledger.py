"""Ledger figures: group-commit append rate vs plain aiosqlite, verify rate, rebuild time.

- `ledger.append_per_s`: durable sales per second, 100 concurrent callers (each sale is one
  journal entry plus its projection rows, committed with synchronous=FULL).
- `ledger.baseline_insert_per_s`: plain aiosqlite inserts of rows of the same size, same
  pragmas, one transaction per row, 100 concurrent callers; `ledger.append_ratio` divides the
  two (target >= 2).
- `ledger.verify_per_s`: entries whose hash chain and Ed25519 signature are checked per second.
- `ledger.rebuild_100k_s`: rebuilding every projection from 100,000 entries (scaled from a
  smaller journal with --quick).
- `ledger.sale_commit_p99_ms` (and `_p50_ms`): a sale's durable commit (the `await` of
  `sales.complete`), one sale after another, while an RFID count takes 1,100 reads/s and
  flushes them, and ten tablets poll what they show (the register's cart, recent sales, a
  stock search). Target p99 < 20 ms. `ledger.sale_commit_idle_p99_ms` / `_p50_ms`: the same
  sales on the same store with nothing else going on, measured first.
"""

from __future__ import annotations

import asyncio
import os
import random
import sqlite3
import tempfile
import time
from pathlib import Path

import aiosqlite

from hub.counts.service import Counts
from hub.ledger.ledger import verify_database
from hub.ledger.schema import PRAGMAS
from hub.store import Store, init_store

CALLERS = 100
TABLETS = 10
POLL_S = 0.25  # each tablet asks for its screen four times a second
READS_PER_S = 1_100  # a fixed reader
READ_BURST_S = 0.1


def _piece(n: int) -> dict:
    return {"item_id": f"B-{n}", "sku": "BENCH", "description": "18k gold ring with 0.50 ct diamond",
            "category": "ring", "metal": "gold", "fineness": 750, "karat": 18,
            "metal_weight_mg": 3_500, "cost": 120_000, "tag_price": 350_000,
            "stones": [{"type": "diamond", "carat_cents": 50, "shape": "round", "colour": "G",
                        "clarity": "VS2", "lab": "GIA", "certificate": str(10**9 + n)}]}


async def _appends(root: Path, sales: int) -> tuple[float, int, int]:
    config = init_store(root / "append", "bench-01", "Bench", "EUR")
    async with await Store.open(config) as store:
        for i in range(0, sales, 1000):
            await store.items.receive_many([_piece(n) for n in range(i, min(i + 1000, sales))], "b")
        queue = list(range(sales))
        batches_before = store.ledger.batches

        async def caller() -> None:
            while queue:
                n = queue.pop()
                await store.sales.complete(register_id="R1", actor="b",
                                           lines=[{"item_id": f"B-{n}"}],
                                           tenders=[{"type": "cash", "amount": 350_000}])

        started = time.perf_counter()
        await asyncio.gather(*(caller() for _ in range(CALLERS)))
        elapsed = time.perf_counter() - started
        row = sqlite3.connect(config.db_path).execute(
            "SELECT length(payload) + length(prev_hash) + length(hash) + length(signature)"
            " + length(kind) + length(subject) + length(ts) FROM journal ORDER BY seq DESC"
            " LIMIT 1").fetchone()[0]
        return sales / elapsed, row, store.ledger.batches - batches_before


async def _baseline(root: Path, rows: int, row_size: int) -> float:
    async with aiosqlite.connect(root / "baseline.db", isolation_level=None) as db:
        for pragma in PRAGMAS:
            await db.execute(pragma)
        await db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB NOT NULL)")
        body = os.urandom(row_size)
        queue = list(range(rows))

        async def caller() -> None:
            while queue:
                queue.pop()
                # One transaction per row: what a writer without group commit must do to
                # acknowledge each sale only once it is durable.
                await db.execute("BEGIN IMMEDIATE")
                await db.execute("INSERT INTO t (body) VALUES (?)", (body,))
                await db.execute("COMMIT")

        lock = asyncio.Lock()

        async def serial_caller() -> None:
            async with lock:  # transactions on one connection cannot interleave
                await caller()

        started = time.perf_counter()
        await asyncio.gather(*(serial_caller() for _ in range(CALLERS)))
        return rows / (time.perf_counter() - started)


async def _rebuild(root: Path, entries: int) -> tuple[float, float]:
    config = init_store(root / "rebuild", "bench-02", "Bench", "EUR")
    async with await Store.open(config) as store:
        for i in range(0, entries, 2000):
            await store.items.receive_many([_piece(n) for n in range(i, min(i + 2000, entries))],
                                           "b")
        started = time.perf_counter()
        count = await store.ledger.rebuild()
        rebuild_s = time.perf_counter() - started
    started = time.perf_counter()
    verdict = verify_database(config.db_path)
    verify_s = time.perf_counter() - started
    assert verdict.ok and verdict.count == count == entries
    return rebuild_s, entries / verify_s


def _ms_quantile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, int(len(ordered) * q) - 1))] * 1000


async def _sale_commits(root: Path, sales: int, out) -> dict[str, float]:
    """Sales one after another, idle then under a count and ten tablets (the docstring)."""
    config = init_store(root / "sale_commit", "bench-02", "Bench", "EUR")
    pieces = 2 * sales + 3_000  # the sold pieces and a showcase for the count to read
    async with await Store.open(config) as store:
        for i in range(0, pieces, 1000):
            await store.items.receive_many([_piece(n) for n in range(i, min(i + 1000, pieces))],
                                           "b")
        epcs = [r["epc"] for r in await store.items.tagged(("epc",))]

        async def sell(numbers: range) -> list[float]:
            took = []
            for n in numbers:
                started = time.perf_counter()
                await store.sales.complete(register_id="R1", actor="b",
                                           lines=[{"item_id": f"B-{n}"}],
                                           tenders=[{"type": "cash", "amount": 350_000}])
                took.append(time.perf_counter() - started)
                await asyncio.sleep(0.005)  # the next customer; lets the others in
            return took

        idle = await sell(range(0, sales))
        stopping = False
        polls = reads = 0

        async def tablet(n: int) -> None:
            nonlocal polls
            while not stopping:
                await store.carts.get("R1")
                await store.sales.recent(20)
                await store.items.search(text="diamond" if n % 2 else None, limit=50)
                polls += 1
                await asyncio.sleep(POLL_S)

        async def reader() -> None:
            nonlocal reads
            rng = random.Random(7)
            burst = int(READS_PER_S * READ_BURST_S)
            while not stopping:
                for _ in range(burst):
                    store.bus.publish("device.rfid.read", device="fx-1",
                                      epc=epcs[rng.randrange(len(epcs))], antenna=1,
                                      rssi_cdbm=-5000, location="showcase-1", ts="")
                reads += burst
                await asyncio.sleep(READ_BURST_S)

        counts = Counts(store, store.bus)
        await counts.start()
        try:
            await counts.start_count("full", None, "bench")
            load = [asyncio.create_task(reader())]
            load += [asyncio.create_task(tablet(n)) for n in range(TABLETS)]
            await asyncio.sleep(1.0)  # the count under way before the first sale
            started, reads_before, polls_before = time.perf_counter(), reads, polls
            busy = await sell(range(sales, 2 * sales))
            elapsed = time.perf_counter() - started
            stopping = True
            await asyncio.gather(*load)
        finally:
            await counts.stop()
    figures = {"ledger.sale_commit_p50_ms": _ms_quantile(busy, 0.50),
               "ledger.sale_commit_p99_ms": _ms_quantile(busy, 0.99),
               "ledger.sale_commit_idle_p50_ms": _ms_quantile(idle, 0.50),
               "ledger.sale_commit_idle_p99_ms": _ms_quantile(idle, 0.99)}
    print(f"ledger: {sales} sales one after another: idle p50"
          f" {figures['ledger.sale_commit_idle_p50_ms']:.1f} ms, p99"
          f" {figures['ledger.sale_commit_idle_p99_ms']:.1f} ms; during a count"
          f" ({(reads - reads_before) / elapsed:,.0f} reads/s) and {TABLETS} tablets ({(polls - polls_before) / elapsed:.0f}"
          f" screens/s) p50 {figures['ledger.sale_commit_p50_ms']:.1f} ms, p99"
          f" {figures['ledger.sale_commit_p99_ms']:.1f} ms (target < 20 ms)", file=out)
    return figures


async def run(quick: bool, out) -> dict[str, float]:
    sales = 1_000 if quick else 5_000
    entries = 10_000 if quick else 100_000
    with tempfile.TemporaryDirectory(dir=os.environ.get("LOUPE_BENCH_DIR")) as tmp:
        root = Path(tmp)
        append_rate, row_size, batches = await _appends(root, sales)
        print(f"ledger: {sales} sales by {CALLERS} callers: {append_rate:,.0f}/s durable,"
              f" {sales / max(batches, 1):.1f} sales per commit, {row_size} B journal rows",
              file=out)
        base_rate = await _baseline(root, max(sales // 5, 500), row_size)
        print(f"ledger: baseline aiosqlite one-transaction-per-row: {base_rate:,.0f}/s", file=out)
        rebuild_s, verify_rate = await _rebuild(root, entries)
        scale = 100_000 / entries
        print(f"ledger: rebuild of {entries:,} entries {rebuild_s:.2f} s; verify"
              f" {verify_rate:,.0f} entries/s", file=out)
        commits = await _sale_commits(root, 200 if quick else 1_000, out)
    return {
        **commits,
        "ledger.append_per_s": append_rate,
        "ledger.baseline_insert_per_s": base_rate,
        "ledger.append_ratio": append_rate / base_rate,
        "ledger.verify_per_s": verify_rate,
        "ledger.rebuild_100k_s": rebuild_s * scale,
    }
