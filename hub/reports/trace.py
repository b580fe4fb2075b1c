"""The journal entries behind a figure of the sales report (its "show entries" link): for one
row (a day, week or month, or a value of a dimension) over a range of the store's days, the
sales, returns and voids that made it, each with what it added to the row.

This is the one read of the reports that goes to the journal: the range's seq span is found
by bisection on the entries' times (the journal's times never go back), only that span is
read, and each entry's share is what the projection adds up (`book.entry_figures`), so the
list's sum is the figure. A page holds at most `PAGE` entries; `next` continues after it.
Nothing of a client is said: no name, no id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hub.core.errors import Invalid
from hub.ledger.journal import ENTRY_COLUMNS, Entry
from hub.ledger.ledger import Ledger, Tx
from hub.reports.book import FIGURES, KINDS, entry_figures
from hub.reports.sales import GROUPINGS, HIDDEN, PERIODS, Asked, SalesReport, ask, period_key

TRACED = (*GROUPINGS, "store")  # `store`: the whole store (the table's "All" row)
PAGE = 500
_BATCH = 1000  # journal rows read at once while filling a page
_KINDS = ", ".join(f"'{k}'" for k in KINDS)


@dataclass(frozen=True)
class Traced:
    """A checked request: the report's range and grouping, the row's key, and where the
    page begins (after that journal seq)."""

    asked: Asked
    key: str
    after: int


def ask_trace(query: dict[str, str], today: date) -> Traced:
    """Read `from`, `to`, `by` (as the report), `key` (the row: a day `2026-12-03`, a week
    `2026-W49`, a month `2026-12`, or a dimension's value, "" included) and `after` (a seq);
    every problem is said."""
    problems: list[Invalid] = []
    try:
        asked = ask({k: query[k] for k in ("from", "to", "by") if k in query}, today, TRACED)
    except Invalid as exc:
        problems += exc.problems
        asked = None
    given = query.get("key")
    key = (given or "").strip()
    if given is None and (asked is None or asked.by != "store"):
        problems.append(Invalid("say which row of the report: its key", "key"))
    elif len(key) > 200:
        problems.append(Invalid("a row's key is at most {n} characters", "key", n="200"))
    elif asked is not None and asked.by in PERIODS and key not in {
            period_key(asked.by, d) for d in _days(asked.first, asked.last)}:
        problems.append(Invalid("“{value}” is not a day, week or month of this range",
                                "key", value=key[:20]))
    after_text = (query.get("after") or "0").strip()
    if not after_text.isdigit() or len(after_text) > 15:
        problems.append(Invalid("“{value}” is not an entry's number", "after",
                                value=after_text[:20]))
    if problems:
        raise Invalid.many(problems)
    assert asked is not None
    return Traced(asked, key if asked.by != "store" else "", int(after_text))


def last_seq_before(tx: Tx, ts: str) -> int:
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


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _next_hour(hour: str) -> str:
    return (datetime.strptime(hour, "%Y-%m-%dT%H") + timedelta(hours=1)).strftime(
        "%Y-%m-%dT%H:00:00")


def _span(report: SalesReport, traced: Traced) -> tuple[str, str, str, str]:
    """The report's UTC hours (first, last) and the times to read the journal between:
    for a period, its own days (one more on each side: a local day's hours are told by the
    report's rule, below), else the whole range."""
    asked = traced.asked
    lo, hi = report.hours(asked.first, asked.last)
    if asked.by in PERIODS:
        mine = [d for d in _days(asked.first, asked.last)
                if period_key(asked.by, d) == traced.key]
        if not mine:
            return lo, hi, "", ""
        scan_lo, scan_hi = report.hours(mine[0] - timedelta(days=1),
                                        mine[-1] + timedelta(days=1))
        lo_ts, hi_ts = max(lo, scan_lo), min(hi, scan_hi)
    else:
        lo_ts, hi_ts = lo, hi
    return lo, hi, f"{lo_ts}:00:00", _next_hour(hi_ts)


async def trace(ledger: Ledger, report: SalesReport, traced: Traced, *,
                margin: bool) -> dict[str, Any]:
    """The row's figures and the entries behind them, one page: each entry's seq, time (UTC
    and the store's), kind, document (the sale's or the return's number), the sale it
    belongs to, `amount` (what it added to the net) and every figure it added. `sum` is the
    page's; `next` is the `after` of the next page (None: this is the last)."""
    asked, key = traced.asked, traced.key
    # A period's row is the store's figures of its days; any other, its dimension's value.
    by, value = ("store", "") if asked.by in PERIODS else (asked.by, key)

    def read(tx: Tx) -> dict[str, Any]:
        figure = report.row(tx, asked.by, key, asked.first, asked.last)
        lo, hi, start, end = _span(report, traced)
        found: list[dict[str, Any]] = []
        if start:
            cursor = max(traced.after, last_seq_before(tx, start))
            through = last_seq_before(tx, end)
            while len(found) <= PAGE and cursor < through:
                rows = tx.all(f"SELECT {ENTRY_COLUMNS} FROM journal WHERE seq > ? AND"
                              f" seq <= ? AND kind IN ({_KINDS}) ORDER BY seq LIMIT ?",
                              (cursor, through, _BATCH))
                if not rows:
                    break
                for row in rows:
                    entry = Entry.from_row(tuple(row))
                    cursor = entry.seq
                    hour = entry.ts[:13]
                    if not lo <= hour <= hi or (asked.by in PERIODS and period_key(
                            asked.by, report.local_day(hour)) != key):
                        continue
                    shown = _entry(tx, ledger, report, entry, by, value)
                    if shown is not None:
                        found.append(shown)
                        if len(found) > PAGE:
                            break
        more = len(found) > PAGE
        return {"figure": figure, "entries": found[:PAGE],
                "next": found[PAGE - 1]["seq"] if more else None}

    out = await ledger.read(read)
    total = dict.fromkeys(FIGURES, 0)
    for e in out["entries"]:
        for f in FIGURES:
            total[f] += e["figures"][f]
    if not margin:
        for figures in (out["figure"], total, *(e["figures"] for e in out["entries"])):
            for name in HIDDEN:
                figures.pop(name, None)
    return {"from": asked.first.isoformat(), "to": asked.last.isoformat(), "by": asked.by,
            "key": key, "currency": report.currency, "margin": margin, **out, "sum": total}


def _entry(tx: Tx, ledger: Ledger, report: SalesReport, entry: Entry, by: str,
           key: str) -> dict[str, Any] | None:
    """What one entry added to the row (None: nothing, it is not behind this row)."""
    p = ledger.decrypt(entry)
    if p is None:
        return None
    added = [figures for dimension, value, figures in entry_figures(tx, entry, p)
             if dimension == by and value == key]
    if not added:
        return None
    sums = {f: sum(a.get(f, 0) for a in added) for f in FIGURES}
    moment = datetime.fromisoformat(entry.ts.replace("Z", "+00:00")).astimezone(UTC)
    return {"seq": entry.seq, "ts": entry.ts,
            "local": moment.astimezone(report.zone).isoformat(timespec="seconds"),
            "kind": entry.kind,
            "document": p["sale_id"] if entry.kind == "sale.completed" else p["return_id"],
            "sale_id": p["sale_id"], "amount": sums["net"], "figures": sums}
