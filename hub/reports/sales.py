"""The sales report read from `report_sales` (hub/reports/book.py): a range of the store's
own days, grouped by day, week or month, or by associate, register, tier, category, metal,
designer or collection, with the same range a year before (52 weeks: the same weekdays)
beside it.

The range is in the store's time zone: its first day's midnight to its last day's end, as
UTC hours. Cost and margin are left out for a reader who may not see them."""

from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hub.core.errors import Invalid
from hub.ledger.ledger import Ledger
from hub.reports.book import DIMENSIONS, FIGURES, hours_rows
from hub.store import Store

PERIODS = ("day", "week", "month")
GROUPINGS = PERIODS + tuple(d for d in DIMENSIONS if d != "store")
MAX_DAYS = 3 * 366  # three years at once is already more than a screen shows
DEFAULT_DAYS = 30


@dataclass(frozen=True)
class Asked:
    """A checked request: the range (local days, both included), the grouping, and whether
    last year's same range is wanted."""

    first: date
    last: date
    by: str
    compare: bool


EARLIEST = date(2000, 1, 1)  # no store kept these books before: an earlier date is a typo


def ask_days(query: dict[str, str], today: date, problems: list[Invalid], *,
             default_days: int = DEFAULT_DAYS) -> tuple[date, date]:
    """`from` and `to` (YYYY-MM-DD) of a report: the store's days, both included, by default
    the `default_days` to `to` (today when left out). Every report reads its range here, so
    each refuses the same things in the same words; what is wrong goes to `problems` (the
    caller adds its own and says them all at once), the defaults standing in."""
    wrong = len(problems)

    def day(name: str, default: date) -> date:
        text = (query.get(name) or "").strip()
        if not text:
            return default
        try:
            asked = date.fromisoformat(text)
        except ValueError:
            problems.append(Invalid("“{value}” is not a date (year-month-day)", name,
                                    value=text[:20]))
            return default
        if not EARLIEST <= asked <= today + timedelta(days=366):
            problems.append(Invalid("a report covers days from {first} to a year from now",
                                    name, first=EARLIEST.isoformat()))
            return default
        return asked

    last = day("to", today)
    first = day("from", max(EARLIEST, last - timedelta(days=default_days - 1)))
    if len(problems) == wrong and first > last:
        problems.append(Invalid("the range ends before it begins: from {first} to {last}",
                                "from", first=first.isoformat(), last=last.isoformat()))
    elif len(problems) == wrong and (last - first).days + 1 > MAX_DAYS:
        problems.append(Invalid("a range of at most {days} days, please", "to",
                                days=str(MAX_DAYS)))
    return first, last


def ask(query: dict[str, str], today: date,
        groupings: tuple[str, ...] = GROUPINGS) -> Asked:
    """Read `from`, `to` (`ask_days`), `by` (one of `groupings`) and `compare`
    (`last_year` or nothing); every problem is said, nothing is guessed."""
    problems: list[Invalid] = []
    first, last = ask_days(query, today, problems)
    by = (query.get("by") or "day").strip()
    if by not in groupings:
        problems.append(Invalid("a report is grouped by {choices}", "by",
                                choices=", ".join(groupings)))
    compare = (query.get("compare") or "").strip()
    if compare not in ("", "last_year"):
        problems.append(Invalid("compare with last_year, or leave it out", "compare"))
    if problems:
        raise Invalid.many(problems)
    return Asked(first, last, by, compare == "last_year")


def period_key(by: str, day: date) -> str:
    """The day, ISO week or month a day falls in, as a row's key."""
    if by == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if by == "month":
        return f"{day.year}-{day.month:02d}"
    return day.isoformat()


def _periods(by: str, first: date, last: date) -> list[str]:
    keys: list[str] = []
    day = first
    while day <= last:
        if not keys or keys[-1] != period_key(by, day):
            keys.append(period_key(by, day))
        day += timedelta(days=1)
    return keys


def store_today(store: Store) -> date:
    """The store's day now (its time zone): what "yesterday" and "this month" mean there."""
    return datetime.now(ZoneInfo(store.config.timezone)).date()


class SalesReport:
    def __init__(self, ledger: Ledger, timezone: str, currency: str) -> None:
        self.ledger = ledger
        self.zone = ZoneInfo(timezone)
        self.currency = currency
        self._days: dict[str, date] = {}  # UTC hour -> the store's day it falls on

    @classmethod
    def of(cls, store: Store) -> SalesReport:
        """The store's own: its books, its time zone, its currency."""
        return cls(store.ledger, store.config.timezone, store.config.currency)

    def today(self) -> date:
        return datetime.now(self.zone).date()

    def hours(self, first: date, last: date) -> tuple[str, str]:
        """The UTC hours (first and last, both included) of the store's days `first` to
        `last`."""
        start = datetime.combine(first, time(), self.zone).astimezone(UTC)
        end = datetime.combine(last + timedelta(days=1), time(), self.zone).astimezone(UTC)
        return start.strftime("%Y-%m-%dT%H"), (end - timedelta(hours=1)).strftime("%Y-%m-%dT%H")

    def local_day(self, hour: str) -> date:
        """The store's day a UTC hour falls on (the day of the hour's start)."""
        day = self._days.get(hour)
        if day is None:
            day = self._days[hour] = datetime.strptime(hour, "%Y-%m-%dT%H").replace(
                tzinfo=UTC).astimezone(self.zone).date()
        return day

    async def report(self, asked: Asked, *, margin: bool) -> dict[str, Any]:
        def read(tx: Any) -> dict[str, Any]:
            out = {"from": asked.first.isoformat(), "to": asked.last.isoformat(),
                   "rows": self._rows(tx, asked.by, asked.first, asked.last),
                   "totals": self._totals(tx, asked.first, asked.last)}
            if asked.compare:
                shift = timedelta(weeks=52)
                first, last = asked.first - shift, asked.last - shift
                out["compare"] = {"from": first.isoformat(), "to": last.isoformat(),
                                  "totals": self._totals(tx, first, last)}
            return out

        out = await self.ledger.read(read)
        if not margin:
            _hide_cost(*out["rows"], out["totals"],
                       *([out["compare"]["totals"]] if "compare" in out else []))
        return {**out, "by": asked.by, "currency": self.currency, "margin": margin}

    async def glance(self, *, margin: bool) -> dict[str, Any]:
        """What a manager reads first: yesterday against the same weekday last year (52
        weeks before), and this month so far against the same days of last year's month."""
        today = self.today()
        yesterday = today - timedelta(days=1)
        month = today.replace(day=1)
        shift = timedelta(weeks=52)

        def read(tx: Any) -> dict[str, Any]:
            year_ago = month.replace(year=month.year - 1)
            same_day = min(today.day, monthrange(year_ago.year, year_ago.month)[1])
            return {"yesterday": {"day": yesterday.isoformat(),
                                  "totals": self._totals(tx, yesterday, yesterday),
                                  "before": self._totals(tx, yesterday - shift,
                                                         yesterday - shift)},
                    "month": {"from": month.isoformat(), "to": today.isoformat(),
                              "totals": self._totals(tx, month, today),
                              "before": self._totals(tx, year_ago,
                                                     year_ago.replace(day=same_day))}}

        out = await self.ledger.read(read)
        if not margin:
            _hide_cost(*(t for part in out.values() for t in (part["totals"], part["before"])))
        return out

    def _totals(self, tx: Any, first: date, last: date) -> dict[str, Any]:
        row = tx.one(f"SELECT {_SUMS} FROM report_sales WHERE dimension = 'store' AND"
                     " hour BETWEEN ? AND ?", self.hours(first, last))
        return derived({f: row[f] or 0 for f in FIGURES})

    def _rows(self, tx: Any, by: str, first: date, last: date) -> list[dict[str, Any]]:
        lo, hi = self.hours(first, last)
        if by not in PERIODS:  # summed by the database: a few rows come back
            rows = [{"key": r["value"], **derived({f: r[f] for f in FIGURES})}
                    for r in tx.all(f"SELECT value, {_SUMS} FROM report_sales WHERE"
                                    " dimension = ? AND hour BETWEEN ? AND ? GROUP BY value",
                                    (by, lo, hi))]
            return sorted(rows, key=lambda r: (-r["net"], r["key"]))
        # Periods of the store's days: each UTC hour's row to the local day it falls on.
        grouped = {k: [0] * len(FIGURES) for k in _periods(by, first, last)}
        for r in hours_rows(tx, "store", lo, hi):
            sums = grouped[period_key(by, self.local_day(r["hour"]))]
            for i, f in enumerate(FIGURES):
                sums[i] += r[f]
        return [{"key": k, **derived(dict(zip(FIGURES, v, strict=True)))}
                for k, v in grouped.items()]

    def row(self, tx: Any, by: str, key: str, first: date, last: date) -> dict[str, Any]:
        """The figures of one row of the report from `first` to `last`: a period's key (a
        day, a week, a month) or a value of a dimension (`store`: the whole store)."""
        lo, hi = self.hours(first, last)
        if by not in PERIODS:
            found = tx.one(f"SELECT {_SUMS} FROM report_sales WHERE dimension = ? AND"
                           " value = ? AND hour BETWEEN ? AND ?", (by, key, lo, hi))
            return derived({f: found[f] or 0 for f in FIGURES})
        sums = dict.fromkeys(FIGURES, 0)
        for r in hours_rows(tx, "store", lo, hi):
            if period_key(by, self.local_day(r["hour"])) == key:
                for f in FIGURES:
                    sums[f] += r[f]
        return derived(sums)


_SUMS = ", ".join(f"SUM({f}) AS {f}" for f in FIGURES)


HIDDEN = ("cost", "costed", "margin", "margin_bp")


def _hide_cost(*figures: dict[str, Any]) -> None:
    """For a reader who may not see them: no cost, nor anything derived from it."""
    for f in figures:
        for name in HIDDEN:
            f.pop(name, None)


def derived(f: dict[str, int]) -> dict[str, Any]:
    """The figures with what is read from them: the average basket, the attachment rate
    (the share of sales of two pieces or more, in basis points) and, where the cost is
    known (HQ's roll-up keeps none), the margin."""
    out = {**f, "average_basket": f["net"] // f["sales"] if f["sales"] else 0,
           "attachment_bp": f["attached"] * 10_000 // f["sales"] if f["sales"] else None}
    if "costed" in f:
        margin = f["costed"] - f["cost"]
        out.update(margin=margin,
                   margin_bp=margin * 10_000 // f["costed"] if f["costed"] > 0 else None)
    return out
