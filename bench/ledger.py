"""Ledger figures: group-commit append rate vs plain aiosqlite, verify rate, rebuild time.

- `ledger.append_per_s`: durable sales per second, 100 concurrent callers (each sale is one
  journal entry plus its projection rows, committed with synchronous=FULL).
- `ledger.baseline_insert_per_s`: plain aiosqlite inserts of rows of the same size, same
  pragmas, one transaction per row, 100 concurrent callers; `ledger.append_ratio` divides the
  two (target >= 2).
- `ledger.verify_per_s`: entries whose hash chain and Ed25519 signature are checked per second.
- `ledger.rebuild_100k_s`: rebuilding every projection from 100,000 entries (scaled from a
  smaller journal with --quick).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import tempfile
import time
from pathlib import Path

import aiosqlite

from hub.ledger.ledger import verify_database
from hub.ledger.schema import PRAGMAS
from hub.store import Store, init_store

CALLERS = 100


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
    return {
        "ledger.append_per_s": append_rate,
        "ledger.baseline_insert_per_s": base_rate,
        "ledger.append_ratio": append_rate / base_rate,
        "ledger.verify_per_s": verify_rate,
        "ledger.rebuild_100k_s": rebuild_s * scale,
    }
