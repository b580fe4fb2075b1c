"""The stock report: what the boutique holds, grouped by category, location, ownership,
designer or metal, valued at cost, at retail (the tag) and at today's metal value (HQ's rate
for the alloy, `HQBook.rate_in`), and how long it has waited: 0-90, 91-180, 181-365 and over
365 days since it was received (the journal's time of its `item.received`: as that moment's seq, found by bisection).

Held stock is what is the store's to answer for: in stock, reserved, returned and awaiting
inspection, out on approval, at the bench. The pieces table is the writer's projection; a
grouped read of it is one query (100,000 pieces: see docs/performance.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any

from hub.core import metals
from hub.core.errors import Invalid

GROUPS = ("category", "location", "ownership", "designer", "metal")
HELD = ("in_stock", "reserved", "returned", "memo_out", "in_repair")
AGES = (("0-90", 0, 90), ("91-180", 91, 180), ("181-365", 181, 365), ("365+", 366, None))
COSTS = ("cost", "aged_cost")


def ask_stock(query: dict[str, str]) -> str:
    by = (query.get("by") or "category").strip()
    if by not in GROUPS:
        raise Invalid("stock is grouped by {choices}", "by", choices=", ".join(GROUPS))
    return by


def stock_report(tx: Any, hq: Any, currency: str, by: str, *, cost: bool,
                 now: datetime | None = None) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    # Received before each bucket's start (the first: ever), as the journal seq of that
    # moment: a bucket is one count less the next, and no piece's entry is read.
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
    grouped: dict[str, dict[str, Any]] = {}
    totals = _empty()
    rates: dict[tuple[str, int], Any] = {}
    for r in rows:
        row = grouped.setdefault(r["value"], _empty())
        value = _metal_value(tx, hq, rates, r["metal"], r["fineness"], r["weight"], currency)
        for target in (row, totals):
            for f in ("pieces", "cost", "retail"):
                target[f] += r[f]
            if value is None and r["metal"] and r["weight"]:
                target["unpriced"] += r["pieces"]
            else:
                target["metal_value"] += value or 0
            for i, (name, _, _) in enumerate(AGES):
                older_n = r[f"n{i}"] - (r[f"n{i + 1}"] if i + 1 < len(AGES) else 0)
                older_c = r[f"c{i}"] - (r[f"c{i + 1}"] if i + 1 < len(AGES) else 0)
                target["ages"][name]["pieces"] += older_n
                target["ages"][name]["cost"] += older_c
    out_rows = sorted(({"key": k, **v} for k, v in grouped.items()),
                      key=lambda r: (-r["retail"], r["key"]))
    out = {"by": by, "currency": currency, "rows": out_rows, "totals": totals, "cost": cost,
           "as_of": now.strftime("%Y-%m-%dT%H:%M:%SZ")}
    if not cost:
        for row in (*out_rows, totals):
            row.pop("cost")
            for bucket in row["ages"].values():
                bucket.pop("cost")
    return out


def _last_seq_before(tx: Any, ts: str) -> int:
    """The last journal seq written before `ts` (0: none). The journal's times never go back
    (the hub writes now; the demo's history walks forward), so a bisection finds it."""
    lo, hi = 0, tx.seq
    while lo < hi:
        mid = (lo + hi + 1) // 2
        row = tx.one("SELECT ts FROM journal WHERE seq = ?", (mid,))
        if row is not None and row["ts"] < ts:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _empty() -> dict[str, Any]:
    return {"pieces": 0, "cost": 0, "retail": 0, "metal_value": 0, "unpriced": 0,
            "ages": {name: {"pieces": 0, "cost": 0} for name, _, _ in AGES}}


def _metal_value(tx: Any, hq: Any, rates: dict[tuple[str, int], Any], metal: str | None,
                 fineness: int | None, weight: int, currency: str) -> int | None:
    """The metal in these pieces at HQ's rate today, in whole minor units; None: no rate."""
    if not metal or not fineness or not weight:
        return 0
    key = (metal, fineness)
    if key not in rates:
        rates[key] = hq.rate_in(tx, metal, fineness, currency)
    rate = rates[key]
    if rate is None:
        return None
    return int(metals.metal_value(weight, fineness, Fraction(rate["per_gram_exact"]), None))
