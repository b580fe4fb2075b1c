"""What the counts tell a manager: accuracy per count and over time, shrinkage by value and
category, the locations with most discrepancies, and the closing count of a day.

All read the counts projections (rebuilt from the journal), never the working reads; what
a piece is and where it stands now comes from the core's `Items`.
"""

from __future__ import annotations

import json
from typing import Any

from hub.core.errors import NotFound
from hub.core.items import Items
from hub.counts.model import CountStatus
from hub.ledger.ledger import Ledger

_NOW = ("description", "status", "location")  # a discrepancy's piece as the books say today


def _row(row: Any) -> dict[str, Any]:
    out = {k: row[k] for k in row.keys()}
    if "scope" in out:
        out["scope"] = json.loads(out["scope"]) if out["scope"] is not None else None
    return out


async def counts_list(ledger: Ledger, *, since: str | None = None, until: str | None = None,
                      limit: int = 100) -> list[dict[str, Any]]:
    """Counts newest first, with their figures once closed (accuracy in basis points)."""
    rows = await ledger.fetch(
        "SELECT * FROM counts WHERE day >= ? AND day <= ? ORDER BY started_seq DESC LIMIT ?",
        (since or "0000-00-00", until or "9999-99-99", max(1, min(limit, 1000))))
    return [_row(r) for r in rows]


async def count_detail(ledger: Ledger, items: Items, count_id: str) -> dict[str, Any]:
    """A count and its discrepancies (missing, misplaced) with where each stands now."""
    row = await ledger.fetch_one("SELECT * FROM counts WHERE count_id = ?", (count_id,))
    if row is None:
        raise NotFound("no count {count_id}", count_id=count_id)
    rows = await ledger.fetch("SELECT * FROM count_discrepancies WHERE count_id = ?"
                              " ORDER BY kind, item_id", (count_id,))
    now = await items.columns_of({r["item_id"] for r in rows}, _NOW)
    discrepancies = []
    for r in rows:
        piece = now.get(r["item_id"])
        discrepancies.append({**_row(r), "description": piece["description"] if piece else None,
                              "status_now": piece["status"] if piece else None,
                              "location_now": piece["location"] if piece else None})
    return {**_row(row), "discrepancies": discrepancies}


async def accuracy(ledger: Ledger, *, since: str | None = None,
                   until: str | None = None) -> dict[str, Any]:
    """Inventory accuracy per closed count and overall (pieces in place / pieces expected)."""
    rows = await ledger.fetch(
        "SELECT count_id, kind, day, closed_ts, expected, found, in_place, missing, misplaced,"
        " unknown, accuracy_bp FROM counts WHERE status = ? AND day >= ? AND day <= ?"
        " ORDER BY closed_seq", (CountStatus.CLOSED, since or "0000-00-00", until or "9999-99-99"))
    counts = [_row(r) for r in rows]
    expected = sum(c["expected"] for c in counts)
    in_place = sum(c["in_place"] for c in counts)
    return {"counts": counts, "expected": expected, "in_place": in_place,
            "accuracy_bp": in_place * 10_000 // expected if expected else None}


async def shrinkage(ledger: Ledger, *, since: str | None = None,
                    until: str | None = None) -> dict[str, Any]:
    """Pieces confirmed missing after a count, by category, at tag price and cost; pieces
    later found again are shown apart and not counted as lost."""
    rows = await ledger.fetch(
        "SELECT d.category, c.currency, COUNT(*) AS pieces, SUM(d.tag_price) AS tag_value,"
        " SUM(d.cost) AS cost_value, SUM(d.found_seq IS NOT NULL) AS found_again,"
        " SUM(CASE WHEN d.found_seq IS NULL THEN d.tag_price ELSE 0 END) AS lost_tag_value,"
        " SUM(CASE WHEN d.found_seq IS NULL THEN d.cost ELSE 0 END) AS lost_cost"
        " FROM count_discrepancies d JOIN counts c ON c.count_id = d.count_id"
        " WHERE d.kind = 'missing' AND d.resolved_seq IS NOT NULL AND c.day >= ? AND c.day <= ?"
        " GROUP BY d.category, c.currency ORDER BY lost_tag_value DESC, d.category",
        (since or "0000-00-00", until or "9999-99-99"))
    by_category = [_row(r) for r in rows]
    return {"by_category": by_category,
            "pieces": sum(r["pieces"] - r["found_again"] for r in by_category),
            "lost_tag_value": sum(r["lost_tag_value"] for r in by_category),
            "lost_cost": sum(r["lost_cost"] for r in by_category),
            "currency": by_category[0]["currency"] if by_category else None}


async def hot_locations(ledger: Ledger, *, since: str | None = None, until: str | None = None,
                        limit: int = 10) -> list[dict[str, Any]]:
    """Locations with the most discrepancies: pieces missing from them, pieces of theirs read
    elsewhere, and other locations' pieces read in them."""
    rows = await ledger.fetch(
        "WITH d AS (SELECT d.* FROM count_discrepancies d JOIN counts c"
        "  ON c.count_id = d.count_id WHERE c.status = ? AND c.day >= ? AND c.day <= ?),"
        " hits AS ("
        "  SELECT location, kind = 'missing' AS missing, kind = 'misplaced' AS out_, 0 AS in_"
        "  FROM d UNION ALL"
        "  SELECT found_location, 0, 0, 1 FROM d WHERE kind = 'misplaced')"
        " SELECT location, SUM(missing) AS missing, SUM(out_) AS misplaced_out,"
        " SUM(in_) AS misplaced_in, COUNT(*) AS discrepancies FROM hits"
        " GROUP BY location ORDER BY discrepancies DESC, location LIMIT ?",
        (CountStatus.CLOSED, since or "0000-00-00", until or "9999-99-99",
         max(1, min(limit, 100))))
    return [_row(r) for r in rows]


def closure_section(tx: Any, from_seq: int, through_seq: int) -> dict[str, Any]:
    """The counts closed since the last Z report, for the next one: the day's closing count
    becomes part of the day's signed record."""
    rows = tx.all("SELECT count_id, kind, status, scope, expected, found, in_place, missing,"
                  " misplaced, unknown, accuracy_bp, missing_value, closed_seq FROM counts"
                  " WHERE closed_seq > ? AND closed_seq <= ? ORDER BY closed_seq",
                  (from_seq, through_seq))
    counts = [_row(r) for r in rows]
    closing = [c for c in counts if c["kind"] == "closing" and c["status"] == CountStatus.CLOSED]
    return {"closing_count": closing[-1] if closing else None, "counts": counts}


async def day_record(ledger: Ledger, day: str) -> dict[str, Any]:
    """The counts of a business day, the last closing count first among them: part of the
    day's record beside its Z report."""
    rows = await ledger.fetch("SELECT * FROM counts WHERE day = ? ORDER BY started_seq", (day,))
    counts = [_row(r) for r in rows]
    closing = [c for c in counts if c["kind"] == "closing" and c["status"] == CountStatus.CLOSED]
    return {"day": day, "closing_count": closing[-1] if closing else None, "counts": counts}
