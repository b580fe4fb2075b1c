"""The stock report: what the boutique holds, grouped by category, location, ownership,
designer or metal, valued at cost, at retail (the tag) and at today's metal value (HQ's rate
for the alloy, `HQBook.rate_in`), and how long it has waited: 0-90, 91-180, 181-365 and over
365 whole days since the UTC day it was received. Also the turnover and sell-through of a
range of the store's days by category or designer, the slow movers (the pieces held longest)
and the glance the dashboard reads.

Held stock is what is the store's to answer for: in stock, reserved, returned and awaiting
inspection, out on approval, at the bench. Everything here reads the writer's running totals
of it (`stock_months` and `stock_held`, hub/reports/stock_book.py) and of sales
(`report_sales`): hundreds to a few thousand rows, whatever the number of pieces (100,000 pieces: see
docs/performance.md)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from hub.core import metals
from hub.core.errors import Invalid
from hub.reports.sales import ask_days
from hub.reports.stock_book import DIMENSIONS, HELD

GROUPS = DIMENSIONS
AGES = (("0-90", 0, 90), ("91-180", 91, 180), ("181-365", 181, 365), ("365+", 366, None))
OLDEST = AGES[-1][0]
COSTS = ("cost", "aged_cost")
TURNOVER_GROUPS = ("category", "designer")
TURNOVER_DEFAULT_DAYS = 365
SLOW_MOVERS = 50

__all__ = ["AGES", "GROUPS", "HELD", "ask_stock", "ask_turnover", "slow_movers",
           "stock_glance", "stock_report", "turnover"]


def ask_stock(query: dict[str, str]) -> str:
    by = (query.get("by") or "category").strip()
    if by not in GROUPS:
        raise Invalid("stock is grouped by {choices}", "by", choices=", ".join(GROUPS))
    return by


def stock_report(tx: Any, hq: Any, currency: str, by: str, *, cost: bool,
                 now: datetime | None = None) -> dict[str, Any]:
    """`{by, currency, cost, as_of, rows: [{key, **figures}], totals: figures}`, figures
    being `{pieces, retail, metal_value, unpriced, cost?, ages: {bucket: {pieces, retail,
    metal_value, cost?}}}` (`unpriced`: pieces of a metal HQ sent no rate for; cost only
    when `cost`). Metal values are summed exactly and rounded down once per figure, so the
    rows and the buckets add up to the totals within a minor unit each."""
    now = now or datetime.now(UTC)
    today = now.date()
    # A bucket is the days received since its start: whole months where a month lies all
    # in one bucket, the days of the three months a bucket begins in.
    cuts = [(today - timedelta(days=lo)).isoformat() for _, lo, _ in AGES[1:]]
    edges = [c[:7] for c in cuts]
    days = " UNION ALL".join(
        " SELECT value, metal, fineness, CASE WHEN day > ? THEN 0 WHEN day > ? THEN 1"
        " WHEN day > ? THEN 2 ELSE 3 END AS age, pieces, cost, retail, weight"
        " FROM stock_held WHERE dimension = ? AND day BETWEEN ? AND ?" for _ in edges)
    rows = tx.all(
        "SELECT value, metal, fineness, age, SUM(pieces) AS pieces, SUM(cost) AS cost,"
        " SUM(retail) AS retail, SUM(weight) AS weight FROM ("
        " SELECT value, metal, fineness, CASE WHEN month > ? THEN 0 WHEN month > ? THEN 1"
        " WHEN month > ? THEN 2 ELSE 3 END AS age, pieces, cost, retail, weight"
        f" FROM stock_months WHERE dimension = ? AND month NOT IN (?, ?, ?) UNION ALL{days})"
        " GROUP BY value, metal, fineness, age",
        (*edges, by, *edges,
         *(v for m in edges for v in (*cuts, by, f"{m}-01", f"{m}-31"))))
    grouped: dict[str, dict[str, Any]] = {}
    totals = _empty()
    for r in rows:
        alloy = (r["metal"], r["fineness"]) if r["metal"] and r["fineness"] else None
        bucket = AGES[r["age"]][0]
        for target in (grouped.setdefault(r["value"], _empty()), totals):
            for part in (target, target["ages"][bucket]):
                for f in ("pieces", "cost", "retail"):
                    part[f] += r[f]
                if alloy and r["weight"]:
                    part["weight"][alloy] = part["weight"].get(alloy, 0) + r["weight"]
                    part["alloy_pieces"][alloy] = (part["alloy_pieces"].get(alloy, 0)
                                                   + r["pieces"])
    rates = _rates(tx, hq, totals["weight"], currency)
    out_rows = sorted(({"key": k, **_settled(v, rates, cost)} for k, v in grouped.items()),
                      key=lambda r: (-r["retail"], r["key"]))
    return {"by": by, "currency": currency, "rows": out_rows,
            "totals": _settled(totals, rates, cost),
            "cost": cost, "as_of": now.strftime("%Y-%m-%dT%H:%M:%SZ")}


def stock_glance(tx: Any, hq: Any, currency: str, *, cost: bool,
                 now: datetime | None = None) -> dict[str, Any]:
    """What the dashboard shows of the stock, the same figures as the stock report's totals:

        {"currency": "EUR", "as_of": "2026-12-03T10:00:00Z", "cost": bool,
         "held": {"pieces": int, "retail": int, "metal_value": int, "unpriced": int,
                  "cost": int (only when `cost`)},
         "unmoved": {"pieces": int, "retail": int, "metal_value": int,
                     "cost": int (only when `cost`)}}

    `unmoved` is the over-a-year bucket: the pieces received more than 365 days ago and
    still held. Amounts in minor units of `currency`; metal at HQ's rates today."""
    out = stock_report(tx, hq, currency, "category", cost=cost, now=now)
    totals = out["totals"]
    return {"currency": currency, "as_of": out["as_of"], "cost": cost,
            "held": {k: v for k, v in totals.items() if k != "ages"},
            "unmoved": dict(totals["ages"][OLDEST])}


def _zero() -> dict[str, Any]:
    # Weights are summed per alloy, and valued once per figure at the end.
    return {"pieces": 0, "cost": 0, "retail": 0, "weight": {}, "alloy_pieces": {}}


def _empty() -> dict[str, Any]:
    return {**_zero(), "ages": {name: _zero() for name, _, _ in AGES}}


def _rates(tx: Any, hq: Any, alloys: Any, currency: str
           ) -> tuple[dict[tuple[str, int], int | None], int]:
    """HQ's rates today as whole numbers over one denominator: a milligram of each alloy is
    worth `per_mg[alloy] / denominator` minor units (None: HQ sent no rate), so the weights
    are valued exactly in integers (a Fraction a figure and alloy costs a report 50 ms)."""
    exact = {}
    for alloy in alloys:
        rate = hq.rate_in(tx, *alloy, currency)
        exact[alloy] = None if rate is None else metals.metal_value(
            1, alloy[1], Fraction(rate["per_gram_exact"]))
    denominator = math.lcm(1, *(v.denominator for v in exact.values() if v is not None))
    return {a: None if v is None else int(v * denominator) for a, v in exact.items()}, \
        denominator


def _settled(figures: dict[str, Any], rates: tuple[dict[tuple[str, int], int | None], int],
             cost: bool) -> dict[str, Any]:
    """Metal valued at today's rates, exactly, then rounded down to the minor unit once;
    no cost for who may not see it."""
    per_mg, denominator = rates

    def one(part: dict[str, Any]) -> dict[str, Any]:
        out = {k: part[k] for k in ("pieces", "retail", *(("cost",) if cost else ()))}
        out["metal_value"] = sum(weight * (per_mg[alloy] or 0)
                                 for alloy, weight in part["weight"].items()) // denominator
        return out

    unpriced = sum(n for alloy, n in figures["alloy_pieces"].items() if per_mg[alloy] is None)
    return {**one(figures), "unpriced": unpriced,
            "ages": {name: one(part) for name, part in figures["ages"].items()}}


# -- turnover and sell-through ----------------------------------------------------------------

@dataclass(frozen=True)
class TurnoverAsked:
    """A checked request: the store's days (both included) and the grouping."""

    first: date
    last: date
    by: str


def ask_turnover(query: dict[str, str], today: date) -> TurnoverAsked:
    """Read `from`, `to` (`sales.ask_days`; the last 365 days when left out) and `by`
    (category or designer); every problem is said, nothing is guessed."""
    problems: list[Invalid] = []
    first, last = ask_days(query, today, problems, default_days=TURNOVER_DEFAULT_DAYS)
    by = (query.get("by") or "category").strip()
    if by not in TURNOVER_GROUPS:
        problems.append(Invalid("turnover is grouped by {choices}", "by",
                                choices=", ".join(TURNOVER_GROUPS)))
    if problems:
        raise Invalid.many(problems)
    return TurnoverAsked(first, last, by)


def turnover(tx: Any, timezone: str, currency: str, asked: TurnoverAsked, *,
             cost: bool) -> dict[str, Any]:
    """`{from, to, by, currency, basis, rows: [{key, **figures}], totals: figures}`:

    - `sold`: units sold over the range less units returned (`report_sales`);
    - `held`: pieces held now (`stock_months`);
    - `sell_through_bp`: sold / (sold + held), in basis points (None: neither);
    - `turnover_bp`: with `cost` (basis "cost"), the cost of what was sold over the range /
      the cost of what is held now; else (basis "retail") the net sales over the range /
      the retail value held now; in basis points (10,000 is once), None when nothing is held;
    - `sold_net`, `held_retail`; with `cost` also `sold_cost`, `held_cost`."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(asked.first, time(), zone).astimezone(UTC)
    end = datetime.combine(asked.last + timedelta(days=1), time(), zone).astimezone(UTC)
    hours = (start.strftime("%Y-%m-%dT%H"), (end - timedelta(hours=1)).strftime("%Y-%m-%dT%H"))
    figures: dict[str, dict[str, int]] = {}
    zero = {"sold": 0, "sold_net": 0, "sold_cost": 0, "held": 0, "held_retail": 0,
            "held_cost": 0}
    for r in tx.all("SELECT value, SUM(units) AS units, SUM(net) AS net, SUM(cost) AS cost"
                    " FROM report_sales WHERE dimension = ? AND hour BETWEEN ? AND ?"
                    " GROUP BY value", (asked.by, *hours)):
        if asked.by == "category" and r["value"] == "service":
            continue  # a service line is no stock to turn
        figures[r["value"]] = {**zero, "sold": r["units"], "sold_net": r["net"],
                               "sold_cost": r["cost"]}
    for r in tx.all("SELECT value, SUM(pieces) AS pieces, SUM(retail) AS retail, SUM(cost)"
                    " AS cost FROM stock_months WHERE dimension = ? GROUP BY value",
                    (asked.by,)):
        row = figures.setdefault(r["value"], dict(zero))
        row.update(held=r["pieces"], held_retail=r["retail"], held_cost=r["cost"])
    totals = dict(zero)
    for row in figures.values():
        for k in zero:
            totals[k] += row[k]
    rows = sorted(({"key": k, **_turned(v, cost)} for k, v in figures.items()),
                  key=lambda r: (-r["sold"], -r["held"], r["key"]))
    return {"from": asked.first.isoformat(), "to": asked.last.isoformat(), "by": asked.by,
            "currency": currency, "basis": "cost" if cost else "retail", "rows": rows,
            "totals": _turned(totals, cost)}


def _turned(f: dict[str, int], cost: bool) -> dict[str, Any]:
    moved, held = (f["sold_cost"], f["held_cost"]) if cost else (f["sold_net"], f["held_retail"])
    out = {k: v for k, v in f.items() if cost or k not in ("sold_cost", "held_cost")}
    out["sell_through_bp"] = (max(0, f["sold"]) * 10_000 // (f["sold"] + f["held"])
                              if f["sold"] + f["held"] > 0 else None)
    out["turnover_bp"] = moved * 10_000 // held if held > 0 else None
    return out


# -- slow movers ------------------------------------------------------------------------------

def slow_movers(tx: Any, *, cost: bool, now: datetime | None = None,
                limit: int = SLOW_MOVERS) -> list[dict[str, Any]]:
    """The held pieces that have waited longest, oldest first: `[{item_id, url, description,
    category, designer, location, received (UTC day), days, retail, cost?}]`. Pieces only:
    no client is named here."""
    today = (now or datetime.now(UTC)).date()
    out = []
    for r in tx.all("SELECT s.item_id, s.day, i.description, i.category, i.designer,"
                    " i.location, i.tag_price, i.cost FROM stock_pieces s JOIN items i"
                    " USING (item_id) WHERE s.held = 1 ORDER BY s.received_seq LIMIT ?",
                    (limit,)):
        piece = {"item_id": r["item_id"], "url": f"/items/{quote(r['item_id'])}",
                 "description": r["description"], "category": r["category"],
                 "designer": r["designer"] or "", "location": r["location"],
                 "received": r["day"], "days": (today - date.fromisoformat(r["day"])).days,
                 "retail": r["tag_price"]}
        if cost:
            piece["cost"] = r["cost"]
        out.append(piece)
    return out
