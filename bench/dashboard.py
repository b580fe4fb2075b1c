"""Dashboard benchmark, on a store of the issue's size: 100,000 pieces held and 500,000 sales
over five years (`--quick`: 10,000 pieces and 20,000 sales over a year), written through the
store's own services with the ledger's clock walking through the past (hub.generate.history),
so every figure comes from real entries and their projections.

- `dashboard.p99_ms` (the issue's `reports.dashboard_p99_ms`): the whole dashboard read
  (`hub.reports.dashboard.dashboard`: the glance, the month against its target, this month by
  four dimensions, the stock held and aged, and every other layer's glance it shows), as a
  manager's tablet asks it; baseline: the two statements a dashboard cannot do without (this
  month's store row sums and a COUNT(*) of the pieces held), in the same run.
- `dashboard.rebuild_s` (the issue's `reports.rebuild_s`): the reports' projections cleared
  and rebuilt from that journal (every entry read and decrypted, the reports' handlers
  applied); baseline: the same journal read and decrypted with no handler applied.

The store takes long to write (500,000 sales), so it is kept in `LOUPE_BENCH_DIR` (default
/var/tmp/loupe-bench-dashboard) and reused by later runs; delete it to write it again.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from pathlib import Path
from random import Random

SIZES = {False: (100_000, 500_000, 5 * 365), True: (10_000, 20_000, 365)}
CATEGORIES = ("ring", "necklace", "bracelet", "earrings", "pendant", "brooch", "watch")
METALS = (("gold", 750), ("gold", 585), ("platinum", 950), ("silver", 925))
STAFF = tuple(f"staff{i}" for i in range(8))
BATCH = 64  # sales in flight at once: the writer commits them together, as at a busy hour


def _piece(rng: Random, i: int) -> dict:
    metal, fineness = rng.choice(METALS)
    return {"item_id": f"P{i:07d}", "sku": f"S-{i % 900}", "description": "Ring",
            "category": rng.choice(CATEGORIES), "metal": metal, "fineness": fineness,
            "metal_weight_mg": rng.randrange(1500, 30000), "location": f"showcase-{i % 12}",
            "designer": f"Maison {i % 9}", "collection": f"Collection {i % 5}",
            "cost": 40_000 + 100 * (i % 50), "tag_price": 100_000 + 250 * (i % 50)}


async def _write(store, held: int, sales: int, days: int, out) -> None:
    from hub.generate import history

    rng = Random(7)
    total = held + sales
    started = time.perf_counter()
    with history(store, days, seed=7) as past:
        for staff_id in STAFF:
            if store.staff.get(staff_id) is None:
                await store.staff.enroll(staff_id, staff_id.title(), "associate", "1234",
                                         actor="bench")
        # The pieces sold come in along the years, a little before they sell.
        for start in range(0, total, 5000):
            await store.items.receive_many(
                [_piece(rng, i) for i in range(start, min(total, start + 5000))], "bench")
        price = {i: 100_000 + 250 * (i % 50) for i in range(50)}

        async def sell(n: int) -> None:
            past.sale(n, sales)
            await store.sales.complete(
                register_id="R1", actor=STAFF[n % len(STAFF)],
                lines=[{"item_id": f"P{held + n:07d}"}],
                tenders=[{"type": "cash", "amount": price[(held + n) % 50]}])

        for start in range(0, sales, BATCH):
            await asyncio.gather(*(sell(n) for n in range(start, min(sales, start + BATCH))))
            if start % 50_000 == 0 and start:
                print(f"    {start:,} sales written in {time.perf_counter() - started:.0f} s",
                      file=out, flush=True)
    print(f"  wrote {held:,} pieces held and {sales:,} sales in"
          f" {time.perf_counter() - started:.0f} s", file=out)


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


def _rebuild_reports(store) -> tuple[float, float]:
    """Seconds to rebuild the reports' projections from the journal, and to read and decrypt
    it alone (the floor under any rebuild)."""
    from hub import layers
    from hub.core.projector import Projector
    from hub.ledger.journal import ENTRY_COLUMNS, Entry
    from hub.ledger.ledger import Tx, projection_tables

    areas = [a for a in layers.areas() if a.name.startswith("report")]
    projector = Projector()
    for area in areas:
        projector.register_all(area.projections)
    ledger = store.ledger

    def rebuild(apply: bool) -> float:
        conn = ledger._connect(ledger.db_path)
        try:
            tx = Tx(ledger, conn, ledger.seq, b"")
            started = time.perf_counter()
            conn.execute("BEGIN")
            if apply:
                for table in projection_tables(tuple(a.schema for a in areas)):
                    conn.execute(f"DELETE FROM {table}")
            cursor = conn.execute(f"SELECT {ENTRY_COLUMNS} FROM journal ORDER BY seq")
            while rows := cursor.fetchmany(2000):
                for row in rows:
                    entry = Entry.from_row(tuple(row))
                    payload = ledger.decrypt(entry)
                    if apply:
                        projector.apply(tx, entry, payload)
            elapsed = time.perf_counter() - started
            conn.execute("ROLLBACK")  # the bench leaves the books as they were
            return elapsed
        finally:
            conn.close()

    return rebuild(True), rebuild(False)


async def run(quick: bool, out) -> dict[str, float]:
    from hub.bus import EventBus
    from hub.config import load_config
    from hub.reports.dashboard import dashboard
    from hub.reports.sales import store_today
    from hub.runtime import Options, Runtime
    from hub.store import Store, init_store

    held, sales, days = SIZES[quick]
    root = Path(os.environ.get("LOUPE_BENCH_DIR", "/var/tmp/loupe-bench-dashboard"))
    root = root / ("quick" if quick else "full")
    fresh = not (root / "loupe.toml").exists()
    config = init_store(root, "bench-dash", "Maison Bench", "EUR", "Europe/Paris") if fresh \
        else load_config(root)
    async with await Store.open(config) as store:
        if fresh or not (root / "written").exists():
            await _write(store, held, sales, days, out)
            (root / "written").write_text("yes\n")
        runtime = Runtime(config=config, store=store, bus=EventBus(), options=Options())
        today = store_today(store)
        month = today.replace(day=1).isoformat()
        timings, floor = [], []
        for _ in range(5 if quick else 30):
            started = time.perf_counter()
            await dashboard(runtime, margin=True)
            timings.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            await store.ledger.fetch("SELECT SUM(net), SUM(sales) FROM report_sales WHERE"
                                     " dimension = 'store' AND hour >= ?", (month,))
            await store.ledger.fetch("SELECT COUNT(*) FROM items WHERE status = 'in_stock'")
            floor.append((time.perf_counter() - started) * 1000)
        entries = store.ledger.seq
        print(f"  the dashboard ({held:,} pieces held, {sales:,} sales, {entries:,} entries):"
              f" p50 {statistics.median(timings):.1f} ms, p99 {_pct(timings, 0.99):.1f} ms;"
              f" its two unavoidable statements p50 {statistics.median(floor):.1f} ms",
              file=out)
        rebuilt, read = await asyncio.to_thread(_rebuild_reports, store)
        print(f"  the reports' projections rebuilt from {entries:,} entries: {rebuilt:.1f} s;"
              f" reading and decrypting the journal alone {read:.1f} s", file=out)
    return {"dashboard.p50_ms": statistics.median(timings), "dashboard.p99_ms": _pct(timings, 0.99),
            "dashboard.floor_p50_ms": statistics.median(floor), "dashboard.rebuild_s": rebuilt,
            "dashboard.read_journal_s": read, "dashboard.entries": float(entries)}
