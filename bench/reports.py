"""Reports benchmark.

- `reports.sale_ms` against `reports.sale_baseline_ms`: a sale completed with the reports area
  projecting its running totals, against the same sales in a store without the area (what the
  writer pays for the totals).
- `reports.dashboard_p99_ms`: the sales report over a year by day, by category and by
  associate, read from a year of hourly totals (10 open hours a day, 8 categories, 6 metals,
  12 designers, 8 associates, 3 registers: the rows a year of a busy boutique's sales leaves,
  written straight into `report_sales`, since the journal stamps every entry with the time it
  is written); baseline: the same reads' SQL alone, without grouping.
- `reports.stock_p99_ms`: the stock report by category and by location (retail, metal value
  at HQ's rates, cost, ages) over 100,000 pieces held; baseline: a COUNT(*) of the pieces.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random


async def _sales_ms(root: Path, with_reports: bool, n: int) -> float:
    from hub import layers
    from hub.store import Store, init_store

    config = init_store(root, "bench-01", "Maison Bench", "EUR")
    areas = tuple(a for a in layers.areas() if with_reports or a.name != "reports")
    async with await Store.open(config, areas=areas) as store:
        await store.items.receive_many(
            [{"item_id": f"P{i:05d}", "sku": "RING-1", "description": "Ring", "category": "ring",
              "metal": "gold", "fineness": 750, "cost": 100_000, "tag_price": 250_000}
             for i in range(n)], "bench")
        started = time.perf_counter()
        for i in range(n):
            await store.sales.complete(register_id="R1", actor="bench",
                                       lines=[{"item_id": f"P{i:05d}"}],
                                       tenders=[{"type": "cash", "amount": 250_000}])
        return (time.perf_counter() - started) * 1000 / n


def _year_of_rows(days: int) -> list[tuple]:
    rng = Random(1)
    values = {"store": [""], "associate": [f"staff{i}" for i in range(8)],
              "register": ["R1", "R2", "R3"],
              "category": ["ring", "necklace", "bracelet", "earrings", "pendant", "brooch",
                           "watch", "set"],
              "metal": ["gold", "platinum", "silver", "palladium", "titanium", ""],
              "designer": [f"Maison {i}" for i in range(12)]}
    start = datetime(2025, 12, 1, tzinfo=UTC)
    rows = []
    for d in range(days):
        for h in range(9, 19):
            hour = (start + timedelta(days=d, hours=h)).strftime("%Y-%m-%dT%H")
            for dim, vals in values.items():
                for v in vals:
                    if dim != "store" and rng.random() < 0.6:
                        continue  # not every value sells every hour
                    net = rng.randrange(50_000, 900_000)
                    rows.append((hour, dim, v, 1, 1, 0, net, 0, net // 2, net))
    return rows


async def _stock(root: Path, n: int, rounds: int) -> tuple[float, float, float]:
    from hub.reports.stock import stock_report
    from hub.store import Store, init_store

    rng = Random(2)
    config = init_store(root, "bench-03", "Maison Bench", "EUR")
    async with await Store.open(config) as store:
        metal = [("gold", 750), ("gold", 585), ("platinum", 950), ("silver", 925)]
        for start in range(0, n, 5000):
            pieces = []
            for i in range(start, min(n, start + 5000)):
                m, f = rng.choice(metal)
                pieces.append({"item_id": f"P{i:06d}", "sku": f"S-{i % 900}",
                               "description": "Ring", "category": rng.choice(
                                   ["ring", "necklace", "bracelet", "earrings", "pendant"]),
                               "metal": m, "fineness": f,
                               "metal_weight_mg": rng.randrange(1500, 30000),
                               "location": f"showcase-{i % 12}", "designer": f"Maison {i % 9}",
                               "cost": 40_000, "tag_price": 100_000})
            await store.items.receive_many(pieces, "bench")
        await store.hq.apply({"id": "m-r", "type": "rates", "chain": "b", "store": "bench-03",
                              "issued_at": "2026-12-03T08:00:00Z", "body": {"rates": [
                                  {"metal": m, "fineness": f, "per_gram": 5_000,
                                   "currency": "EUR", "valid_from": "2026-12-03T08:00:00Z",
                                   "valid_until": "2099-12-31T18:00:00Z"}
                                  for m, f in metal]}}, "sig")
        timings, counts = [], []
        for _ in range(rounds):
            for by in ("category", "location"):
                started = time.perf_counter()
                await store.ledger.read(lambda tx, b=by: stock_report(
                    tx, store.hq, "EUR", b, cost=True))
                timings.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            await store.ledger.fetch("SELECT COUNT(*) FROM items WHERE cost >= 0")
            counts.append((time.perf_counter() - started) * 1000)
        timings.sort()
        return (statistics.median(timings), timings[min(len(timings) - 1,
                                                        int(len(timings) * 0.99))],
                statistics.median(counts))


async def run(quick: bool, out) -> dict[str, float]:
    from hub.reports.sales import SalesReport, ask
    from hub.store import Store, init_store

    n = 200 if quick else 1000
    with tempfile.TemporaryDirectory(prefix="loupe-bench-reports-") as tmp:
        root = Path(tmp)
        base = await _sales_ms(root / "without", False, n)
        sale = await _sales_ms(root / "with", True, n)
        base = min(base, await _sales_ms(root / "without-2", False, n))  # noisy VM
        print(f"  a sale: {sale:.2f} ms with the running totals, {base:.2f} ms without"
              f" ({n} sales each)", file=out)
        rows = _year_of_rows(366)
        config = init_store(root / "year", "bench-02", "Maison Bench", "EUR")
        async with await Store.open(config) as store:
            await store.ledger.transact(lambda tx: tx.conn.executemany(
                "INSERT INTO report_sales (hour, dimension, value, sales, units, discounts, net,"
                " refunds, cost, costed) VALUES (?,?,?,?,?,?,?,?,?,?)", rows))
            report = SalesReport(store.ledger, "Europe/Paris", "EUR")
            today = datetime(2026, 11, 30).date()
            queries = [ask({"from": "2025-12-01", "to": "2026-11-30", "by": by,
                            "compare": "last_year"}, today)
                       for by in ("day", "category", "associate", "month")]
            timings, sql = [], []
            for _ in range(5 if quick else 20):
                for q in queries:
                    started = time.perf_counter()
                    await report.report(q, margin=True)
                    timings.append((time.perf_counter() - started) * 1000)
                    dim = "store" if q.by in ("day", "month") else q.by
                    started = time.perf_counter()
                    await store.ledger.fetch("SELECT * FROM report_sales WHERE dimension = ?"
                                             " AND hour >= ? AND hour <= ?",
                                             (dim, "2025-11-30T23", "2026-11-30T22"))
                    sql.append((time.perf_counter() - started) * 1000)
            timings.sort()
            p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))]
            print(f"  a year's report ({len(rows):,} hourly rows): p50"
                  f" {statistics.median(timings):.1f} ms, p99 {p99:.1f} ms; its SQL alone"
                  f" p50 {statistics.median(sql):.1f} ms", file=out)
        stock_p50, stock_p99, count_ms = await _stock(root / "stock", 10_000 if quick else 100_000,
                                                      5 if quick else 20)
        print(f"  the stock report over {10_000 if quick else 100_000:,} pieces: p50"
              f" {stock_p50:.1f} ms, p99 {stock_p99:.1f} ms; COUNT(*) of them {count_ms:.1f} ms",
              file=out)
    return {"reports.stock_p50_ms": stock_p50, "reports.stock_p99_ms": stock_p99,
            "reports.stock_count_baseline_ms": count_ms,
            "reports.sale_ms": sale, "reports.sale_baseline_ms": base,
            "reports.dashboard_p50_ms": statistics.median(timings),
            "reports.dashboard_p99_ms": p99, "reports.dashboard_sql_p50_ms": statistics.median(sql),
            "reports.year_rows": float(len(rows))}


