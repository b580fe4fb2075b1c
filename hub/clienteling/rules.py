"""When a client is due a follow-up: pure rules over dates and purchases, no I/O.

A follow-up is *due* on a day: a date to remember `date_lead_days` before it falls (time to
choose a gift); a purchase of at least `after_purchase_min` each of `after_purchase_days`
after it was made (how is she enjoying it? +180 days, +11 months); a bridal purchase (a ring
of a bridal collection) each of `bridal_days` after; an appointment done
`after_appointment_days` after; a client whose last purchase is `lapsed_months` old; a
wish-listed piece back in stock or repriced, the day it happened. From its due day it is on
Today for `open_days`, then Overdue for `overdue_days`, then it drops off; it is Upcoming in
the `upcoming_days` before. Each has an id that names what it is about and when it is due,
so marking it done once settles it for good, and next year's anniversary is another one.

Marketing outreach (dates, lapsed clients, wish lists: a reason to sell) waits while she is
in her cooling-off period, `cooling_off_days` after any purchase; care after a purchase, a
bridal purchase or an appointment is one-to-one service and does not.
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
KINDS = ("date", "purchase", "bridal", "appointment", "lapsed", "wish",
         "payment_due")  # an instalment of a layaway not paid (hub.workshop.layaways)
MARKETING = frozenset({"date", "lapsed", "wish"})  # held back in the cooling-off period


@dataclass(frozen=True)
class Rules:
    """`[clienteling]` in loupe.toml (every key optional)."""

    date_lead_days: int = 14
    after_purchase_days: tuple[int, ...] = (180, 335)  # +6 months, +11 months
    after_purchase_min: int = 500_000  # minor units of the store's currency
    bridal_days: tuple[int, ...] = (30, 60, 90)
    bridal_collections: tuple[str, ...] = ("bridal", "engagement", "wedding")  # words in a name
    after_appointment_days: int = 2  # 0: no follow-up after an appointment
    lapsed_months: int = 18  # 0: lapsed clients are not followed up
    cooling_off_days: int = 14
    upcoming_days: int = 7
    open_days: int = 14
    overdue_days: int = 30

    @property
    def horizon(self) -> tuple[int, int]:
        """How far back and ahead of today a due day can lie and still be listed."""
        return self.open_days + self.overdue_days - 1, self.upcoming_days


def rules_of(config: Config, hq: dict[str, Any] | None = None) -> Rules:
    """From the store config, with what head office set (`hq`) over it; a problem names
    `clienteling.<key>`, an unknown key is refused."""
    section = config.section("clienteling", hq)
    d = Rules()
    rules = Rules(
        date_lead_days=section.whole("date_lead_days", d.date_lead_days, 0, 90),
        after_purchase_days=section.increasing("after_purchase_days", d.after_purchase_days, 1, 730),
        after_purchase_min=section.whole("after_purchase_min", d.after_purchase_min, 0, 10**12),
        bridal_days=section.increasing("bridal_days", d.bridal_days, 1, 730),
        bridal_collections=tuple(w.casefold() for w in section.texts(
            "bridal_collections", d.bridal_collections)),
        after_appointment_days=section.whole("after_appointment_days",
                                             d.after_appointment_days, 0, 90),
        lapsed_months=section.whole("lapsed_months", d.lapsed_months, 0, 60),
        cooling_off_days=section.whole("cooling_off_days", d.cooling_off_days, 0, 90),
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


def date_days(today: date, rules: Rules) -> dict[tuple[int, int], date]:
    """The days a date to remember may fall on for its follow-up to be listed today."""
    back, ahead = rules.horizon
    lead = timedelta(days=rules.date_lead_days)
    return _days_in(today - timedelta(days=back) + lead, today + timedelta(days=ahead) + lead)


def date_followups(dated: Iterable[tuple[str, Iterable[tuple[str, str]]]], today: date,
                   rules: Rules) -> list[FollowUp]:
    """The follow-ups of dates to remember whose due day lies within the listed horizon:
    one look-up per date kept (the book's dates are not scanned day by day)."""
    lead = timedelta(days=rules.date_lead_days)
    falls = date_days(today, rules)
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


def _listable(due: date, today: date, rules: Rules) -> bool:
    back, ahead = rules.horizon
    return -ahead <= (today - due).days <= back


def purchase_window(today: date, rules: Rules,
                    lags: tuple[int, ...] | None = None) -> tuple[date, date]:
    """The days whose purchases are due a follow-up, after one of `lags` (the purchase
    lags), within the listed horizon."""
    back, ahead = rules.horizon
    lags = rules.after_purchase_days if lags is None else lags
    return (today - timedelta(days=back + max(lags)),
            today + timedelta(days=ahead - min(lags)))


def purchase_followups(purchases: Iterable[Mapping[str, Any]], today: date, rules: Rules,
                       kind: str = "purchase") -> list[FollowUp]:
    """The follow-ups of purchases (`sale_id`, `client_id`, `ts`, `total`) due within the
    horizon: one for each lag after it (`after_purchase_days`, or `bridal_days` for the
    "bridal" kind). The first lag's id is the sale's alone, later ones add the lag."""
    lags, least = ((rules.after_purchase_days, rules.after_purchase_min) if kind == "purchase"
                   else (rules.bridal_days, 0))
    out = []
    for sale in purchases:
        if sale["total"] < least:
            continue
        on = date.fromisoformat(sale["ts"][:10])
        for n, lag in enumerate(lags):
            due = on + timedelta(days=lag)
            if _listable(due, today, rules):
                fid = f"{kind}:{sale['client_id']}:{sale['sale_id']}"
                out.append(FollowUp(fid if n == 0 else f"{fid}:{lag}d", kind,
                                    sale["client_id"], sale["sale_id"], on, due,
                                    sale["total"]))
    return out


def add_months(day_: date, months: int) -> date:
    """The same day `months` later (the month's last day when it has fewer)."""
    year, month = divmod(day_.month - 1 + months, 12)
    year, month = day_.year + year, month + 1
    for d in (day_.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("every month has a 28th")


def lapsed_window(today: date, rules: Rules) -> tuple[date, date]:
    """The days a client's last purchase may have been made on for her to be due a
    lapsed-client follow-up within the horizon (a few days wide, months are uneven)."""
    back, ahead = rules.horizon
    first = add_months(today - timedelta(days=back), -rules.lapsed_months)
    last = add_months(today + timedelta(days=ahead), -rules.lapsed_months)
    return first - timedelta(days=3), last + timedelta(days=3)


def lapsed_followups(last_purchases: Iterable[Mapping[str, Any]], today: date,
                     rules: Rules) -> list[FollowUp]:
    """Clients whose last purchase (`client_id`, `sale_id`, `ts`: her latest, none after)
    is `lapsed_months` old: due that day, about the last sale."""
    if not rules.lapsed_months:
        return []
    out = []
    for sale in last_purchases:
        on = date.fromisoformat(sale["ts"][:10])
        due = add_months(on, rules.lapsed_months)
        if _listable(due, today, rules):
            out.append(FollowUp(f"lapsed:{sale['client_id']}:{sale['sale_id']}", "lapsed",
                                sale["client_id"], sale["sale_id"], on, due))
    return out


def appointment_followups(done: Iterable[Mapping[str, Any]], today: date,
                          rules: Rules) -> list[FollowUp]:
    """Appointments done (`appointment_id`, `client_id`, `day`): a thank-you call
    `after_appointment_days` later."""
    if not rules.after_appointment_days:
        return []
    out = []
    for appointment in done:
        on = date.fromisoformat(appointment["day"][:10])
        due = on + timedelta(days=rules.after_appointment_days)
        if _listable(due, today, rules):
            out.append(FollowUp(
                f"appointment:{appointment['client_id']}:{appointment['appointment_id']}",
                "appointment", appointment["client_id"], appointment["appointment_id"], on,
                due))
    return out


def wish_followups(events: Iterable[Mapping[str, Any]], today: date,
                   rules: Rules) -> list[FollowUp]:
    """A wish-listed piece back in stock or repriced (`client_id`, `item_id`, `what`, `ts`):
    due the day it happened, about the piece."""
    out = []
    for event in events:
        on = date.fromisoformat(event["ts"][:10])
        if _listable(on, today, rules):
            out.append(FollowUp(
                f"wish:{event['client_id']}:{event['item_id']}:{event['what']}:{on.isoformat()}",
                "wish", event["client_id"], event["item_id"], on, on))
    return out


def cooling_off(followup: FollowUp, last_purchase: date | None, today: date,
                rules: Rules) -> bool:
    """Whether marketing outreach waits: she bought within `cooling_off_days` of today."""
    return (followup.kind in MARKETING and last_purchase is not None
            and 0 <= (today - last_purchase).days < rules.cooling_off_days)
