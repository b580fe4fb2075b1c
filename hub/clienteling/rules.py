"""When a client is due a follow-up: pure rules over dates and purchases, no I/O.

A follow-up is *due* on a day: a date to remember `date_lead_days` before it falls (time to
choose a gift), a purchase of at least `after_purchase_min` `after_purchase_days` after it
was made (how is she enjoying it?). From its due day it is on Today for `open_days`, then
Overdue for `overdue_days`, then it drops off; it is Upcoming in the `upcoming_days` before.
Each has an id that names what it is about and when it is due, so marking it done once
settles it for good, and next year's anniversary is another follow-up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from hub.config import Config


class Due(StrEnum):
    """Where a follow-up stands on a given day."""

    UPCOMING = "upcoming"
    TODAY = "today"
    OVERDUE = "overdue"


OUTCOMES = ("called", "message_left", "emailed", "visited")  # how a follow-up was done


@dataclass(frozen=True)
class Rules:
    """`[clienteling]` in loupe.toml (every key optional)."""

    date_lead_days: int = 14
    after_purchase_days: int = 180
    after_purchase_min: int = 500_000  # minor units of the store's currency
    upcoming_days: int = 7
    open_days: int = 14
    overdue_days: int = 30

    @property
    def horizon(self) -> tuple[int, int]:
        """How far back and ahead of today a due day can lie and still be listed."""
        return self.open_days + self.overdue_days - 1, self.upcoming_days


def rules_of(config: Config) -> Rules:
    """From the store config; a problem names `clienteling.<key>`, an unknown key is refused."""
    section = config.section("clienteling")
    d = Rules()
    rules = Rules(
        date_lead_days=section.whole("date_lead_days", d.date_lead_days, 0, 90),
        after_purchase_days=section.whole("after_purchase_days", d.after_purchase_days, 1, 730),
        after_purchase_min=section.whole("after_purchase_min", d.after_purchase_min, 0, 10**12),
        upcoming_days=section.whole("upcoming_days", d.upcoming_days, 0, 60),
        open_days=section.whole("open_days", d.open_days, 1, 60),
        overdue_days=section.whole("overdue_days", d.overdue_days, 0, 365))
    section.done()
    return rules


@dataclass(frozen=True)
class FollowUp:
    """One follow-up: `kind` is "date" (`about` names the date: birthday...) or "purchase"
    (`about` is the sale); `on` is the day the date falls or the purchase was made."""

    followup_id: str
    kind: str
    client_id: str
    about: str
    on: date
    due: date
    amount: int | None = None

    def stands(self, today: date, rules: Rules) -> Due | None:
        age = (today - self.due).days
        if -rules.upcoming_days <= age < 0:
            return Due.UPCOMING
        if 0 <= age < rules.open_days:
            return Due.TODAY
        if rules.open_days <= age < rules.open_days + rules.overdue_days:
            return Due.OVERDUE
        return None


def _days_in(first: date, last: date) -> dict[tuple[int, int], date]:
    """(month, day) -> the day between `first` and `last` it falls on; 29 February falls on
    the 28th in a year without one. The window is shorter than a year, so one day each."""
    out: dict[tuple[int, int], date] = {}
    day_ = first
    while day_ <= last:
        out[(day_.month, day_.day)] = day_
        if (day_.month, day_.day) == (2, 28) and (day_ + timedelta(days=1)).month == 3:
            out[(2, 29)] = day_
        day_ += timedelta(days=1)
    return out


def date_followups(dated: Iterable[tuple[str, Iterable[tuple[str, str]]]], today: date,
                   rules: Rules) -> list[FollowUp]:
    """The follow-ups of dates to remember whose due day lies within the listed horizon:
    one look-up per date kept (the book's dates are not scanned day by day)."""
    back, ahead = rules.horizon
    lead = timedelta(days=rules.date_lead_days)
    falls = _days_in(today - timedelta(days=back) + lead, today + timedelta(days=ahead) + lead)
    out = []
    for client_id, dates in dated:
        for kind, kept in dates:  # (kind, day kept) pairs
            try:
                on = falls.get((int(kept[-5:-3]), int(kept[-2:])))
            except (ValueError, TypeError):
                continue
            if on is not None:
                out.append(FollowUp(f"date:{client_id}:{kind}:{on.isoformat()}", "date",
                                    client_id, kind, on, on - lead))
    return out


def purchase_window(today: date, rules: Rules) -> tuple[date, date]:
    """The days whose purchases are due a follow-up within the listed horizon."""
    back, ahead = rules.horizon
    lag = timedelta(days=rules.after_purchase_days)
    return today - timedelta(days=back) - lag, today + timedelta(days=ahead) - lag


def purchase_followups(purchases: Iterable[Mapping[str, Any]], today: date,
                       rules: Rules) -> list[FollowUp]:
    """The follow-ups of purchases (`sale_id`, `client_id`, `ts`, `total`) in the window."""
    first, last = purchase_window(today, rules)
    out = []
    for sale in purchases:
        on = date.fromisoformat(sale["ts"][:10])
        if first <= on <= last and sale["total"] >= rules.after_purchase_min:
            due = on + timedelta(days=rules.after_purchase_days)
            out.append(FollowUp(f"purchase:{sale['client_id']}:{sale['sale_id']}", "purchase",
                                sale["client_id"], sale["sale_id"], on, due, sale["total"]))
    return out
