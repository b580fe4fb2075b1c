"""Clienteling outcomes: the appointments held and the follow-ups done over a range of the
store's days, and how many of them a purchase by the same client followed within 30 days.

What the books already keep is read, in one snapshot: `appointments` (their stage, their
associate, their start), `followup_outcomes` (who did it, when, how), `sales` (who bought,
when) and `returns` (what they refunded); all projections the writer keeps, so a rebuild
gives the same figures. Nothing is kept by this report itself.

The rules, chosen once:

- **An appointment is held** when she came (arrived or done); cancelled and no-show ones are
  counted beside, and those still booked or confirmed (to come, or not marked) too. The
  range is of the appointments' start (the store's days); its associate is the one booked.
- **A follow-up is done** on the day its `followup.done` was written, by whoever wrote it;
  its kind is the first part of its id (every source names it so: `date:`, `purchase:`,
  `appointment:`...), how it was done is its outcome (called, message left...).
- **A purchase follows** an appointment when it is a sale to the same client from the
  appointment's start (a sale during the visit counts) to the end of the 30th store day
  after the day it was held; it follows a follow-up when it was written after it, from that
  same day to the 30th day after. Voided and wholly returned sales lead to nothing; a sale
  partly returned counts for what it kept: its total less what its returns refunded (as a
  client's spend counts it, `Sales.client_totals`, returns made since included).
- **A sale counts once per appointment (or follow-up)**: an appointment followed by three
  sales is one converted appointment, with the net of the three. A sale that followed two
  appointments (or two follow-ups) is the outcome of each, so the net adds up by associate
  and by kind, and is not the store's sales of those days (the sales report says those).
- **Share** is converted over held (or done), in basis points; None when none was held.
  `open` counts those whose 30 days have not all passed yet: their share may still rise.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hub.core.errors import Invalid
from hub.reports.sales import ask_days

WINDOW_DAYS = 30
DEFAULT_DAYS = 90
GLANCE_DAYS = 30

HELD = ("arrived", "done")
WAITING = ("booked", "confirmed")
GONE = ("cancelled", "no_show")
LIVE = "s.status NOT IN ('voided', 'returned')"  # a sale that still stands
_NET = "s.total - COALESCE((SELECT SUM(r.refund) FROM returns r WHERE r.sale_id = s.sale_id), 0)"


@dataclass(frozen=True)
class Range:
    """A checked range of the store's days, both included."""

    first: date
    last: date


def ask_outcomes(query: dict[str, str], today: date) -> Range:
    """Read `from` and `to` (`sales.ask_days`; by default the 90 days to today); every
    problem is said, nothing is guessed."""
    problems: list[Invalid] = []
    first, last = ask_days(query, today, problems, default_days=DEFAULT_DAYS)
    if not problems and first > today:
        problems.append(Invalid("the range begins after today: nothing has happened yet",
                                "from"))
    if problems:
        raise Invalid.many(problems)
    return Range(first, last)


class _Days:
    """UTC moments to the store's days and back."""

    def __init__(self, timezone: str) -> None:
        self.zone = ZoneInfo(timezone)
        self._seen: dict[str, date] = {}

    def start(self, day: date) -> str:
        """The UTC moment the store's `day` begins, as `YYYY-MM-DDTHH:MM:SS` (a prefix that
        compares right with the journal's times and the appointments' alike)."""
        return datetime.combine(day, time(), self.zone).astimezone(UTC).strftime(
            "%Y-%m-%dT%H:%M:%S")

    def of(self, ts: str) -> date:
        """The store's day of a UTC moment (`...Z`, with or without its fraction)."""
        key = ts[:19]
        day = self._seen.get(key)
        if day is None:
            day = self._seen[key] = datetime.strptime(key, "%Y-%m-%dT%H:%M:%S").replace(
                tzinfo=UTC).astimezone(self.zone).date()
        return day


def _empty(*names: str) -> dict[str, int]:
    return dict.fromkeys((*names, "converted", "sales", "net", "open"), 0)


def _share(converted: int, of: int) -> int | None:
    return converted * 10_000 // of if of else None


def _rows(groups: dict[str, dict[str, int]], counted: str) -> list[dict[str, Any]]:
    rows = [{"key": k, **v, "share_bp": _share(v["converted"], v[counted])}
            for k, v in groups.items()]
    return sorted(rows, key=lambda r: (-r[counted], -r["net"], r["key"]))


def _add(target: dict[str, int], figures: dict[str, int]) -> None:
    for name, value in figures.items():
        target[name] += value


def _followed(sales: Iterable[Any], since: str, first: date, last: date, days: _Days,
              after_seq: int = 0) -> tuple[int, int]:
    """(sales, net) of a client's `sales` from moment `since` (and journal seq `after_seq`)
    whose store day is from `first` to `last`."""
    n = net = 0
    for s in sales:
        if s["ts"][:19] >= since[:19] and s["seq"] > after_seq \
                and first <= days.of(s["ts"]) <= last:
            n, net = n + 1, net + s["net"]
    return n, net


def _sales_of(tx: Any, clients: Iterable[str], lo: str, hi: str) -> dict[str, list[Any]]:
    """Each client's standing sales with moments from `lo` to before `hi`, by her index."""
    out: dict[str, list[Any]] = {}
    for client_id in clients:
        out[client_id] = tx.all(
            f"SELECT s.seq, s.ts, {_NET} AS net FROM sales s WHERE s.client_id = ? AND"
            f" s.ts >= ? AND s.ts < ? AND {LIVE} ORDER BY s.seq", (client_id, lo, hi))
    return out


def _appointments(tx: Any, days: _Days, first: date, last: date,
                  today: date) -> dict[str, Any]:
    lo, hi = days.start(first), days.start(last + timedelta(days=1))
    rows = tx.all("SELECT appointment_id, client_id, associate, kind, status, start_ts FROM"
                  " appointments WHERE start_ts >= ? AND start_ts < ? ORDER BY start_ts,"
                  " appointment_id", (lo, hi))
    held = [r for r in rows if r["status"] in HELD]
    sales = _sales_of(tx, sorted({r["client_id"] for r in held}), lo,
                      days.start(last + timedelta(days=WINDOW_DAYS + 1)))
    names = ("held", "cancelled", "no_show", "waiting")
    totals = _empty(*names)
    by: dict[str, dict[str, dict[str, int]]] = {"associate": {}, "kind": {}}
    for r in rows:
        figures = _empty(*names)
        if r["status"] in HELD:
            day = days.of(r["start_ts"])
            n, net = _followed(sales[r["client_id"]], r["start_ts"], day,
                               day + timedelta(days=WINDOW_DAYS), days)
            figures.update(held=1, converted=int(n > 0), sales=n, net=net,
                           open=int(day + timedelta(days=WINDOW_DAYS) >= today))
        else:
            figures["waiting" if r["status"] in WAITING else r["status"]] = 1
        _add(totals, figures)
        for dimension, groups in by.items():
            _add(groups.setdefault(r[dimension], _empty(*names)), figures)
    return {"totals": {**totals, "share_bp": _share(totals["converted"], totals["held"])},
            "by_associate": _rows(by["associate"], "held"),
            "by_kind": _rows(by["kind"], "held")}


def _followups(tx: Any, days: _Days, first: date, last: date, today: date) -> dict[str, Any]:
    lo, hi = days.start(first), days.start(last + timedelta(days=1))
    rows = tx.all("SELECT followup_id, client_id, outcome, seq, ts, actor FROM"
                  " followup_outcomes WHERE ts >= ? AND ts < ? ORDER BY seq", (lo, hi))
    sales = _sales_of(tx, sorted({r["client_id"] for r in rows}), lo,
                      days.start(last + timedelta(days=WINDOW_DAYS + 1)))
    totals = _empty("done")
    by: dict[str, dict[str, dict[str, int]]] = {"associate": {}, "kind": {}, "outcome": {}}
    for r in rows:
        day = days.of(r["ts"])
        n, net = _followed(sales[r["client_id"]], r["ts"], day,
                           day + timedelta(days=WINDOW_DAYS), days, after_seq=r["seq"])
        figures = {"done": 1, "converted": int(n > 0), "sales": n, "net": net,
                   "open": int(day + timedelta(days=WINDOW_DAYS) >= today)}
        _add(totals, figures)
        keys = {"associate": r["actor"], "kind": r["followup_id"].split(":", 1)[0],
                "outcome": r["outcome"]}
        for dimension, groups in by.items():
            _add(groups.setdefault(keys[dimension], _empty("done")), figures)
    return {"totals": {**totals, "share_bp": _share(totals["converted"], totals["done"])},
            "by_associate": _rows(by["associate"], "done"), "by_kind": _rows(by["kind"], "done"),
            "by_outcome": _rows(by["outcome"], "done")}


def outcomes_report(tx: Any, timezone: str, currency: str, asked: Range,
                    today: date) -> dict[str, Any]:
    """The report over `asked` (run it inside `ledger.read`): `from`, `to`, `window_days`,
    `currency`, and `appointments` (`totals`, `by_associate`, `by_kind`) and `followups`
    (`totals`, `by_associate`, `by_kind`, `by_outcome`). Each row: `key` (a staff id, a
    kind, an outcome), `held` (appointments; also `cancelled`, `no_show`, `waiting`) or
    `done` (follow-ups), `converted`, `share_bp`, `sales`, `net` (minor units), `open`."""
    days = _Days(timezone)
    return {"from": asked.first.isoformat(), "to": asked.last.isoformat(),
            "window_days": WINDOW_DAYS, "currency": currency,
            "appointments": _appointments(tx, days, asked.first, asked.last, today),
            "followups": _followups(tx, days, asked.first, asked.last, today)}


def outcomes_glance(tx: Any, timezone: str, today: date) -> dict[str, Any]:
    """For the dashboard (run it inside `ledger.read`, beside its other reads): the last 30
    store days to `today` included, as `{"from", "to", "appointments": {"held",
    "converted", "share_bp"}, "followups": {"done", "converted", "share_bp"}}`; `share_bp`
    in basis points, None when none was held (done). Appointments of the last days still
    have part of their 30 days to come."""
    first = today - timedelta(days=GLANCE_DAYS - 1)
    days = _Days(timezone)
    a = _appointments(tx, days, first, today, today)["totals"]
    f = _followups(tx, days, first, today, today)["totals"]
    return {"from": first.isoformat(), "to": today.isoformat(),
            "appointments": {k: a[k] for k in ("held", "converted", "share_bp")},
            "followups": {k: f[k] for k in ("done", "converted", "share_bp")}}
