"""The chain's sales at head office, store by store: HQ's roll-up of the figures each store's
own sales report shows (hub/reports/book.py), kept from the entries the stores send.

`chain_sales` holds, per store, currency and UTC hour, what that store's sales, returns and
voids of the hour did: sales, units, discounts, net (sold less refunded), refunds and the
sales of two pieces or more (for the attachment rate), by the store's own rules: a line of no tax (a gift card sold) is money held, not a sale, so it is
left out of units and net, and a void gives back the sale less what was held; the refund
counts in the hour of the return. The facts are applied in the transaction that stores the
store's run (an `HQPart`), and `rebuild` makes the same rows again from HQ's copy of the
journal. What a return needs of the sale it takes back (which lines were money held) is kept
in `chain_sales_held`: ids, line numbers and amounts, nothing of a client.

The reads run whole on HQ's storage thread. Days are the console's days (its time zone, the
chain's), read from the UTC hours as a store reads its own: the same days give the same
figures as the store's `/api/v1/reports/sales` when the store keeps the same time zone.
"""

from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hub.core.errors import Invalid
from hub.ledger.journal import ENTRY_COLUMNS, Entry
from hub.reports.sales import ask_days, derived, period_key
from hub.reports.stock import HELD
from hub.sync.hqstore import Db, Fact, HQPart, HQStorage

SCHEMA = """
CREATE TABLE IF NOT EXISTS chain_sales (
    store_id  TEXT NOT NULL,
    hour      TEXT NOT NULL,            -- UTC 'YYYY-MM-DDTHH' of the store's entry
    currency  TEXT NOT NULL,
    sales     INTEGER NOT NULL,         -- sales made (returns do not take them back)
    units     INTEGER NOT NULL,         -- units sold less units returned
    discounts INTEGER NOT NULL,         -- minor units
    net       INTEGER NOT NULL,         -- minor units: sold less refunded
    refunds   INTEGER NOT NULL,         -- minor units refunded (returns and voids)
    attached  INTEGER NOT NULL,         -- sales of two pieces or more
    PRIMARY KEY (hour, store_id, currency)  -- a report reads a range of hours, every store
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS chain_sales_held (
    store_id TEXT NOT NULL, sale_id TEXT NOT NULL, line_no INTEGER NOT NULL,
    total    INTEGER NOT NULL,          -- a line of money held (a gift card sold)
    PRIMARY KEY (store_id, sale_id, line_no)
);
"""

KINDS = ("sale.completed", "sale.returned", "sale.voided")
FIGURES = ("sales", "units", "discounts", "net", "refunds", "attached")
PERIODS = ("day", "week", "month")
SHOWN = ("net", "sales", "units", "discounts", "refunds", "average_basket",
         "attachment_bp")  # what the chart may show
DEFAULT_DAYS = 30
_CHUNK = 1000  # entries read at a time by a rebuild


# -- what HQ reads from a store's entries ------------------------------------------------------

def _held(line: dict[str, Any]) -> bool:
    # A line of no tax (a gift card sold) is money held, not a sale (as the Z report says).
    return not line.get("tax_code")


def project(store_id: str, entry: Entry, p: dict[str, Any]) -> list[Fact]:
    hour = entry.ts[:13]  # '2026-12-03T14' of '2026-12-03T14:05:09.123456Z'
    if entry.kind == "sale.completed":
        held = [[line["line_no"], line["total"]] for line in p["lines"] if _held(line)]
        units = sum(line["quantity"] for line in p["lines"] if not _held(line))
        return [Fact("chain_sale", {
            "sale_id": p["sale_id"], "hour": hour, "currency": p["currency"], "units": units,
            "discounts": p["discount"], "net": p["total"] - sum(t for _, t in held),
            "attached": 1 if units >= 2 else 0, "held": held})]
    return [Fact("chain_return", {
        "sale_id": p["sale_id"], "hour": hour, "currency": p["currency"],
        "void": entry.kind == "sale.voided", "refund": p["refund"],
        "lines": [[line["line_no"], line["quantity"]] for line in p["lines"]]})]


# The existing row's columns named by their table, beside `excluded` (the row proposed).
_ADD = (f"INSERT INTO chain_sales (store_id, hour, currency, {', '.join(FIGURES)}) VALUES"
        f" ({', '.join('?' * (3 + len(FIGURES)))}) ON CONFLICT(hour, store_id, currency) DO"
        f" UPDATE SET {', '.join(f'{f} = chain_sales.{f} + excluded.{f}' for f in FIGURES)}")


def _add(db: Db, store_id: str, hour: str, currency: str, **figures: int) -> None:
    row = {**dict.fromkeys(FIGURES, 0), **figures}
    db.execute(_ADD, (store_id, hour, currency, *(row[f] for f in FIGURES)))


def _on_sale(db: Db, store_id: str, d: dict[str, Any]) -> None:
    db.executemany("INSERT INTO chain_sales_held (store_id, sale_id, line_no, total) VALUES"
                   " (?,?,?,?) ON CONFLICT DO NOTHING",
                   [(store_id, d["sale_id"], no, total) for no, total in d["held"]])
    _add(db, store_id, d["hour"], d["currency"], sales=1, units=d["units"],
         discounts=d["discounts"], net=d["net"], attached=d["attached"])


def _on_return(db: Db, store_id: str, d: dict[str, Any]) -> None:
    held = {r["line_no"]: r["total"] for r in db.query(
        "SELECT line_no, total FROM chain_sales_held WHERE store_id = ? AND sale_id = ?",
        (store_id, d["sale_id"]))}
    units = sum(quantity for no, quantity in d["lines"] if no not in held)
    # A void gives back the whole sale, money held included: that part was never a sale.
    refunded = d["refund"] - (sum(held.values()) if d["void"] else 0)
    _add(db, store_id, d["hour"], d["currency"], units=-units, net=-refunded,
         refunds=refunded)


FACTS = {"chain_sale": _on_sale, "chain_return": _on_return}

PART = HQPart("reports", schema=SCHEMA, facts=FACTS, kinds=KINDS, project=project)


def rebuild(hq: Any, store_id: str | None = None) -> int:
    """Make the roll-up again from HQ's copy of the journal (every store, or one), each
    store in one transaction holding its row (a batch arriving meanwhile waits, then
    counts once); returns the entries read. Call it on HQ's storage thread."""
    storage: HQStorage = hq.storage
    ids = [store_id] if store_id else [r.store_id for r in storage.stores()]
    lock = getattr(storage, "_lock", "")  # PostgreSQL's FOR UPDATE; SQLite's is the writer's
    marks = ",".join("?" * len(KINDS))
    read = 0
    for sid in ids:
        cache: dict[str, Any] = {}
        with storage.transaction() as db:
            db.query("SELECT store_id FROM stores WHERE store_id = ?" + lock, (sid,))
            db.execute("DELETE FROM chain_sales WHERE store_id = ?", (sid,))
            db.execute("DELETE FROM chain_sales_held WHERE store_id = ?", (sid,))
            after = 0
            while True:
                rows = db.query(f"SELECT {ENTRY_COLUMNS} FROM entries WHERE store_id = ? AND"
                                f" kind IN ({marks}) AND seq > ? ORDER BY seq LIMIT ?",
                                (sid, *KINDS, after, _CHUNK))
                for r in rows:
                    entry = Entry.from_row(tuple(r.values()))
                    p = hq.decrypt(sid, entry, cache)
                    if p is None:  # its key is gone: HQ never read it either
                        continue
                    for fact in project(sid, entry, p):
                        FACTS[fact.what](db, sid, fact.data)
                    read += 1
                if len(rows) < _CHUNK:
                    break
                after = rows[-1]["seq"]
    return read


# -- what the console asks for -------------------------------------------------------------------

@dataclass(frozen=True)
class Asked:
    """A checked request: the range (the console's days, both included), the period rows
    are grouped by, and the figure the chart shows."""

    first: date
    last: date
    by: str
    figure: str


def ask(query: dict[str, str], today: date) -> Asked:
    """Read `from`, `to` (the store's report's `ask_days`), `by` (day, week, month) and
    `figure`; every problem is said, nothing is guessed."""
    problems: list[Invalid] = []
    first, last = ask_days(query, today, problems, default_days=DEFAULT_DAYS)
    by = (query.get("by") or "day").strip()
    if by not in PERIODS:
        problems.append(Invalid("a report is grouped by {choices}", "by",
                                choices=", ".join(PERIODS)))
    figure = (query.get("figure") or "net").strip()
    if figure not in SHOWN:
        problems.append(Invalid("choose one of the figures the form offers", "figure"))
    if problems:
        raise Invalid.many(problems)
    return Asked(first, last, by, figure)


class ChainReport:
    """The chain's figures by store, in one time zone (the console's)."""

    def __init__(self, timezone: str | ZoneInfo) -> None:
        self.zone = timezone if isinstance(timezone, ZoneInfo) else ZoneInfo(timezone)

    def today(self) -> date:
        return datetime.now(self.zone).date()

    def _hours(self, first: date, last: date) -> tuple[str, str]:
        start = datetime.combine(first, time(), self.zone).astimezone(UTC)
        end = datetime.combine(last + timedelta(days=1), time(), self.zone).astimezone(UTC)
        return start.strftime("%Y-%m-%dT%H"), (end - timedelta(hours=1)).strftime("%Y-%m-%dT%H")

    def _spans(self, by: str, first: date, last: date) -> list[tuple[str, str, str]]:
        """Each period of the range with its first and last UTC hour: a period is days in
        a row, so one span of hours (a day of summer time has 23 or 25)."""
        spans: list[tuple[str, str, str]] = []
        day = first
        while day <= last:
            key, (lo, hi) = period_key(by, day), self._hours(day, day)
            if spans and spans[-1][0] == key:
                spans[-1] = (key, spans[-1][1], hi)
            else:
                spans.append((key, lo, hi))
            day += timedelta(days=1)
        return spans

    def _sums(self, db: HQStorage, first: date, last: date
              ) -> dict[tuple[str, str], dict[str, int]]:
        """(store, currency) -> its figures over the range, summed by the database."""
        rows = db.query(f"SELECT store_id, currency, {_SUMS} FROM chain_sales c WHERE hour"
                        " BETWEEN ? AND ? GROUP BY store_id, currency",
                        self._hours(first, last))
        return {(r["store_id"], r["currency"]): {f: int(r[f] or 0) for f in FIGURES}
                for r in rows}

    @staticmethod
    def _each(db: HQStorage, found: set[tuple[str, str]]) -> list[tuple[str, str | None]]:
        """(store, currency) for every store HQ knows, in order: the currencies it sold in
        over the range, else the one it prices its pieces in or ever sold in (a store with
        no sale yet still says its zero in its money), else none."""
        have: dict[str, list[str]] = {}
        for store_id, currency in sorted(found):
            have.setdefault(store_id, []).append(currency)
        out: list[tuple[str, str | None]] = []
        for r in db.query("SELECT store_id FROM stores ORDER BY store_id"):
            store_id = r["store_id"]
            if store_id not in have:  # one row each, by the first column of a key
                known = db.query("SELECT currency FROM items WHERE store_id = ? AND"
                                 " currency IS NOT NULL LIMIT 1", (store_id,)) or db.query(
                    "SELECT currency FROM chain_sales WHERE store_id = ? LIMIT 1", (store_id,))
                have[store_id] = [known[0]["currency"]] if known else []
            out += [(store_id, c) for c in have[store_id] or [None]]
        return out

    def report(self, storage: HQStorage, asked: Asked) -> dict[str, Any]:
        """Every store's figures over the range, by period: {from, to, by, figure,
        periods: [key], stores: [{store_id, currency, totals, rows: [{key, figures...}]}],
        totals: [{currency, figures...}] (the chain, one per currency)}. The database sums
        each period's hours: what comes back is a row per period and store."""
        spans = self._spans(asked.by, asked.first, asked.last)
        keys = [key for key, _, _ in spans]
        rows = storage.query(
            f"WITH periods (k, lo, hi) AS (VALUES {', '.join(['(?, ?, ?)'] * len(spans))})"
            f" SELECT p.k, c.store_id, c.currency, {_SUMS} FROM periods p JOIN chain_sales c"
            " ON c.hour BETWEEN p.lo AND p.hi GROUP BY p.k, c.store_id, c.currency",
            [v for span in spans for v in span])
        grouped: dict[tuple[str, str | None], dict[str, list[int]]] = {
            sc: {k: [0] * len(FIGURES) for k in keys}
            for sc in self._each(storage, {(r["store_id"], r["currency"]) for r in rows})}
        for r in rows:
            grouped[(r["store_id"], r["currency"])][r["k"]] = [int(r[f] or 0) for f in FIGURES]
        stores, chain = [], {}
        for (store_id, currency), periods in grouped.items():
            totals = [sum(v[i] for v in periods.values()) for i in range(len(FIGURES))]
            stores.append({"store_id": store_id, "currency": currency,
                           "totals": derived(dict(zip(FIGURES, totals, strict=True))),
                           "rows": [{"key": k, **derived(dict(zip(FIGURES, v, strict=True)))}
                                    for k, v in periods.items()]})
            if currency is not None:
                into = chain.setdefault(currency, [0] * len(FIGURES))
                for i, v in enumerate(totals):
                    into[i] += v
        return {"from": asked.first.isoformat(), "to": asked.last.isoformat(),
                "by": asked.by, "figure": asked.figure, "periods": keys, "stores": stores,
                "totals": [{"currency": c, **derived(dict(zip(FIGURES, v, strict=True)))}
                           for c, v in sorted(chain.items())]}

    def glance(self, storage: HQStorage, today: date | None = None) -> list[dict[str, Any]]:
        """Each store: yesterday against the same weekday last year (52 weeks before), and
        this month so far against the same days of last year's month, as the store's own
        glance reads them: [{store_id, currency, yesterday: {day, totals, before},
        month: {from, to, totals, before}}]."""
        today = today or self.today()
        yesterday = today - timedelta(days=1)
        month = today.replace(day=1)
        shift = timedelta(weeks=52)
        year_ago = month.replace(year=month.year - 1)
        same_day = year_ago.replace(day=min(today.day,
                                            monthrange(year_ago.year, year_ago.month)[1]))
        ranges = {"yesterday": self._sums(storage, yesterday, yesterday),
                  "yesterday_before": self._sums(storage, yesterday - shift, yesterday - shift),
                  "month": self._sums(storage, month, today),
                  "month_before": self._sums(storage, year_ago, same_day)}
        each = self._each(storage, {sc for sums in ranges.values() for sc in sums})

        def of(name: str, sc: tuple[str, str | None]) -> dict[str, Any]:
            return derived(ranges[name].get(sc) or dict.fromkeys(FIGURES, 0))  # type: ignore[arg-type]

        return [{"store_id": s, "currency": c,
                 "yesterday": {"day": yesterday.isoformat(), "totals": of("yesterday", (s, c)),
                               "before": of("yesterday_before", (s, c))},
                 "month": {"from": month.isoformat(), "to": today.isoformat(),
                           "totals": of("month", (s, c)), "before": of("month_before", (s, c))}}
                for s, c in each]


_SUMS = ", ".join(f"SUM(c.{f}) AS {f}" for f in FIGURES)


def stock_held(storage: HQStorage) -> list[dict[str, Any]]:
    """What each store holds at retail, from HQ's copy of its pieces (`items`), held as the
    store's stock report counts it: [{store_id, currency, pieces, retail}]."""
    marks = ",".join("?" * len(HELD))
    rows = storage.query(f"SELECT store_id, currency, COUNT(*) AS pieces, SUM(tag_price) AS"
                         f" retail FROM items WHERE status IN ({marks}) GROUP BY store_id,"
                         " currency ORDER BY store_id, currency", HELD)
    return [{"store_id": r["store_id"], "currency": r["currency"], "pieces": int(r["pieces"]),
             "retail": int(r["retail"] or 0)} for r in rows]
