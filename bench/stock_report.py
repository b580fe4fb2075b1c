"""Stock report benchmark: the report read from the writer's running totals (`stock_held`,
hub/reports/stock_book.py) against the query it replaced (a grouped scan of the pieces
table, the ages from journal seqs found by bisection), in the same run, over the same store.

- `stock_report.p50_ms`, `stock_report.p99_ms`: the stock report by category and by location
  (retail, metal value at HQ's rates, cost, ages with their retail and metal value) over
  100,000 pieces received over two years (the ledger's clock walked forward, as the demo's
  history does), a few thousand of them sold; target p99 < 100 ms.
- `stock_report.scan_p50_ms`, `stock_report.scan_p99_ms`: the old query (baseline).
- `stock_report.turnover_p99_ms`, `stock_report.slow_movers_p99_ms`, `stock_report.glance_p99_ms`:
  the other reads of the stock page and the dashboard.
- `stock_report.receive_ms`: a batch of 500 pieces received, per piece, with the running
  totals kept (what the writer pays), and `stock_report.rebuild_s`: the totals rebuilt.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from random import Random
from typing import Any

from hub.core import metals
from hub.ledger.ledger import utc_now
from hub.reports.stock import (
    AGES,
    HELD,
    _last_seq_before,
    ask_turnover,
    slow_movers,
    stock_glance,
    stock_report,
    turnover,
)
from hub.store import Store, init_store

ALLOYS = [("gold", 750), ("gold", 585), ("platinum", 950), ("silver", 925)]


def scan_report(tx: Any, hq: Any, currency: str, by: str, *, cost: bool,
                now: datetime | None = None) -> dict[str, Any]:
    """The stock report as it was read before the running totals (the baseline)."""
    now = now or datetime.now(UTC)
    cuts = [tx.seq] + [_last_seq_before(tx, (now - timedelta(days=lo)).strftime(
        "%Y-%m-%dT%H:%M:%S")) for _, lo, _ in AGES[1:]]
    ages = ", ".join(
        f"SUM(CASE WHEN received_seq <= ? THEN 1 ELSE 0 END) AS n{i}, SUM(CASE WHEN"
        f" received_seq <= ? THEN cost ELSE 0 END) AS c{i}" for i in range(len(AGES)))
    marks = ",".join("?" * len(HELD))
    rows = tx.all(
        f"SELECT COALESCE({by}, '') AS value, metal, fineness, COUNT(*) AS pieces,"
        f" SUM(cost) AS cost, SUM(tag_price) AS retail,"
        f" SUM(COALESCE(metal_weight_mg, 0)) AS weight, {ages}"
        f" FROM items WHERE status IN ({marks}) GROUP BY value, metal, fineness",
        (*(c for cut in cuts for c in (cut, cut)), *HELD))
    grouped: dict[str, dict[str, int]] = {}
    for r in rows:
        row = grouped.setdefault(r["value"], {"pieces": 0, "cost": 0, "retail": 0,
                                              "metal_value": 0})
        for f in ("pieces", "cost", "retail"):
            row[f] += r[f]
        rate = hq.rate_in(tx, r["metal"], r["fineness"], currency) if r["metal"] else None
        if rate is not None and r["weight"]:
            row["metal_value"] += int(metals.metal_value(
                r["weight"], r["fineness"], Fraction(rate["per_gram_exact"]), None))
    return {"rows": grouped}


def _p(timings: list[float], q: float) -> float:
    timings = sorted(timings)
    return timings[min(len(timings) - 1, int(len(timings) * q))]


async def _fill(store: Store, n: int, days: int, out: Any) -> float:
    """`n` pieces received in batches of 500 over `days` days up to today, ten of each
    batch sold the same day; returns the writer's cost per piece received (ms)."""
    rng = Random(3)
    batches = max(1, n // 500)
    start = datetime.now(UTC) - timedelta(days=days)
    spent = 0.0
    for b in range(batches):
        stamp = (start + timedelta(days=days * b / batches)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        store.ledger.clock = lambda s=stamp: s
        pieces = []
        for i in range(b * 500, min(n, (b + 1) * 500)):
            m, f = rng.choice(ALLOYS)
            pieces.append({"item_id": f"P{i:06d}", "sku": f"S-{i % 900}",
                           "description": "Ring", "category": rng.choice(
                               ["ring", "necklace", "bracelet", "earrings", "pendant"]),
                           "metal": m, "fineness": f,
                           "metal_weight_mg": rng.randrange(1500, 30000),
                           "location": f"showcase-{i % 12}", "designer": f"Maison {i % 9}",
                           "cost": rng.randrange(20_000, 90_000), "tag_price": 100_000})
        started = time.perf_counter()
        await store.items.receive_many(pieces, "bench")
        spent += time.perf_counter() - started
        for piece in pieces[:10]:
            await store.sales.complete(register_id="R1", actor="bench",
                                       lines=[{"item_id": piece["item_id"]}],
                                       tenders=[{"type": "cash", "amount": 100_000}])
        if b % 40 == 0:
            print(f"  … {min(n, (b + 1) * 500):,} pieces in", file=out)
    store.ledger.clock = utc_now
    return spent * 1000 / n


async def run(quick: bool, out: Any) -> dict[str, float]:
    n = 10_000 if quick else 100_000
    rounds = 5 if quick else 25
    with tempfile.TemporaryDirectory(prefix="loupe-bench-stock-") as tmp:
        config = init_store(Path(tmp) / "stock", "bench-03", "Maison Bench", "EUR")
        async with await Store.open(config) as store:
            receive_ms = await _fill(store, n, 730, out)
            await store.hq.apply({"id": "m-r", "type": "rates", "chain": "b",
                                  "store": "bench-03", "issued_at": "2026-12-03T08:00:00Z",
                                  "body": {"rates": [
                                      {"metal": m, "fineness": f, "per_gram": 5_000,
                                       "currency": "EUR", "valid_from": "2026-12-03T08:00:00Z",
                                       "valid_until": "2099-12-31T18:00:00Z"}
                                      for m, f in ALLOYS]}}, "sig")
            hq, zone = store.hq, store.config.timezone
            asked = ask_turnover({}, date.today())
            new, old, turn, slow, glance = [], [], [], [], []

            async def timed(into: list[float], read: Any) -> Any:
                started = time.perf_counter()
                got = await store.ledger.read(read)
                into.append((time.perf_counter() - started) * 1000)
                return got

            for _ in range(rounds):
                for by in ("category", "location"):
                    mine = await timed(new, lambda tx, b=by: stock_report(
                        tx, hq, "EUR", b, cost=True))
                    was = await timed(old, lambda tx, b=by: scan_report(
                        tx, hq, "EUR", b, cost=True))
                    # The same pieces, retail and cost either way (the ages' edges differ:
                    # whole days against the journal's seconds).
                    assert {r["key"]: (r["pieces"], r["retail"], r["cost"])
                            for r in mine["rows"]} == {
                        k: (v["pieces"], v["retail"], v["cost"]) for k, v in was["rows"].items()}
                await timed(turn, lambda tx: turnover(tx, zone, "EUR", asked, cost=True))
                await timed(slow, lambda tx: slow_movers(tx, cost=True))
                await timed(glance, lambda tx: stock_glance(tx, hq, "EUR", cost=True))
            held = await store.ledger.fetch("SELECT COUNT(*) AS n FROM stock_pieces"
                                            " WHERE held = 1")
            rows = await store.ledger.fetch("SELECT COUNT(*) AS n FROM stock_held")
            started = time.perf_counter()
            await store.ledger.rebuild()
            rebuild_s = time.perf_counter() - started
    figures = {"stock_report.p50_ms": statistics.median(new),
               "stock_report.p99_ms": _p(new, 0.99),
               "stock_report.scan_p50_ms": statistics.median(old),
               "stock_report.scan_p99_ms": _p(old, 0.99),
               "stock_report.turnover_p99_ms": _p(turn, 0.99),
               "stock_report.slow_movers_p99_ms": _p(slow, 0.99),
               "stock_report.glance_p99_ms": _p(glance, 0.99),
               "stock_report.receive_ms": receive_ms,
               "stock_report.rebuild_s": rebuild_s,
               "stock_report.held_rows": float(rows[0]["n"])}
    print(f"  {held[0]['n']:,} pieces held over two years, {rows[0]['n']:,} rows of running"
          f" totals", file=out)
    print(f"  the stock report (by category, by location): p50 {figures['stock_report.p50_ms']:.1f}"
          f" ms, p99 {figures['stock_report.p99_ms']:.1f} ms; the old query p50"
          f" {figures['stock_report.scan_p50_ms']:.1f} ms, p99"
          f" {figures['stock_report.scan_p99_ms']:.1f} ms", file=out)
    print(f"  turnover p99 {figures['stock_report.turnover_p99_ms']:.1f} ms, slow movers p99"
          f" {figures['stock_report.slow_movers_p99_ms']:.1f} ms, glance p99"
          f" {figures['stock_report.glance_p99_ms']:.1f} ms; a piece received"
          f" {receive_ms:.2f} ms; rebuild {rebuild_s:.1f} s", file=out)
    return figures
