"""Count accuracy and shrinkage over a range of the store's days: every stock count completed
in the range (when, where, pieces expected, found, missing, misplaced, unexpected, its
accuracy), the range's accuracy, and the pieces written off as missing after those counts.

Accuracy here is pieces found over pieces expected, in basis points (a piece read in the
wrong showcase is found; the counts screen's own figure, pieces in their place, is
`in_place_bp`). The range's accuracy adds up every count's pieces (a full count of the
store weighs more than a spot check of one tray); a count that expected nothing is 100 %.
Unexpected: tags read that are on no piece of the books.

A piece gone for good is, in the books, a piece a manager confirmed `missing` after a count
did not read it (`item.status` with ref `count:<id>`, hub/counts/service.py
`confirm_missing`); one read again later is found, not lost. Shrinkage is those pieces, by
the day of the count that missed them, from the counts layer's `shrinkage`. Only counts that
closed are here: an expired count is partial, a cancelled one says nothing."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from hub.core.errors import Invalid
from hub.counts import reports
from hub.counts.model import CountStatus
from hub.ledger.ledger import Ledger
from hub.reports.sales import ask

GLANCE_DAYS = 30


def ask_counts(query: dict[str, str], today: date) -> tuple[date, date]:
    """`from` and `to` (YYYY-MM-DD, the last 30 days when left out), refused in sentences as
    the sales report refuses them (reversed, absurd, not a date)."""
    try:
        asked = ask({k: query[k] for k in ("from", "to") if k in query}, today)
    except OverflowError:  # `to` so early that the 30 days before it begin before year 1
        raise Invalid("“{value}” is too long ago for a report", "to",
                      value=str(query.get("to"))[:20]) from None
    return asked.first, asked.last


def _accuracy(found: int, expected: int) -> int:
    return found * 10_000 // expected if expected else 10_000


def _closed_counts(tx: Any, first: date, last: date) -> list[dict[str, Any]]:
    # The counts layer's `accuracy` leaves out where a count was (its scope) and its
    # `counts_list` stops at 1,000: its `counts` projection is read here directly, in one
    # snapshot, as hub/reports/stock.py reads `items`.
    rows = tx.all("SELECT count_id, kind, scope, day, closed_ts, expected, found, in_place,"
                  " missing, misplaced, unknown, accuracy_bp, missing_value FROM counts"
                  " WHERE status = ? AND day >= ? AND day <= ? ORDER BY closed_seq",
                  (CountStatus.CLOSED, first.isoformat(), last.isoformat()))
    return [{"count_id": r["count_id"], "kind": r["kind"], "day": r["day"],
             "closed_ts": r["closed_ts"],
             "scope": json.loads(r["scope"]) if r["scope"] is not None else None,
             "expected": r["expected"], "found": r["found"], "missing": r["missing"],
             "misplaced": r["misplaced"], "unexpected": r["unknown"],
             "accuracy_bp": _accuracy(r["found"], r["expected"]),
             "in_place_bp": r["accuracy_bp"], "missing_value": r["missing_value"]}
            for r in rows]


def _totals(counts: list[dict[str, Any]]) -> dict[str, Any]:
    totals = {f: sum(c[f] for c in counts) for f in ("expected", "found", "missing",
                                                      "misplaced", "unexpected",
                                                      "missing_value")}
    return {"counts": len(counts), **totals,
            "accuracy_bp": _accuracy(totals["found"], totals["expected"]) if counts else None}


async def counts_report(ledger: Ledger, first: date, last: date, *, cost: bool,
                        currency: str) -> dict[str, Any]:
    """{from, to, currency, cost, counts: [{count_id, kind, day, closed_ts, scope (None: the
    whole store), expected, found, missing, misplaced, unexpected, accuracy_bp, in_place_bp,
    missing_value (retail)}], totals: {counts, expected, found, missing, misplaced,
    unexpected, missing_value, accuracy_bp (None: no count)}, shrinkage: {pieces, retail,
    cost, found_again, by_category: [{category, pieces, retail, cost, found_again}]}}; no
    cost without `cost`."""
    counts = await ledger.read(lambda tx: _closed_counts(tx, first, last))
    lost = await reports.shrinkage(ledger, since=first.isoformat(), until=last.isoformat())
    by_category = [{"category": r["category"], "pieces": r["pieces"] - r["found_again"],
                    "retail": r["lost_tag_value"], "cost": r["lost_cost"],
                    "found_again": r["found_again"]} for r in lost["by_category"]]
    shrinkage = {"pieces": lost["pieces"], "retail": lost["lost_tag_value"],
                 "cost": lost["lost_cost"],
                 "found_again": sum(r["found_again"] for r in by_category),
                 "by_category": by_category}
    if not cost:
        for line in (shrinkage, *by_category):
            line.pop("cost")
    return {"from": first.isoformat(), "to": last.isoformat(), "currency": currency,
            "cost": cost, "counts": counts, "totals": _totals(counts), "shrinkage": shrinkage}


async def counts_glance(ledger: Ledger, today: date) -> dict[str, Any]:
    """For the dashboard, the counts closed in the 30 days to `today` (the store's day):
    {from, to, counts, accuracy_bp (found over expected, all counts' pieces together; None:
    no count), missing (pieces those counts did not find), lost (pieces confirmed missing
    after them and not found since)}."""
    first = today - timedelta(days=GLANCE_DAYS - 1)
    counts = await ledger.read(lambda tx: _closed_counts(tx, first, today))
    lost = await reports.shrinkage(ledger, since=first.isoformat(), until=today.isoformat())
    totals = _totals(counts)
    return {"from": first.isoformat(), "to": today.isoformat(), "counts": totals["counts"],
            "accuracy_bp": totals["accuracy_bp"], "missing": totals["missing"],
            "lost": lost["pieces"]}
