"""Follow-up rules as properties: every date to remember and every fine purchase comes up
once a year (once at all), in its window, for exactly as long as the rules say; a purchase
below the threshold never does."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from hypothesis import assume, given
from hypothesis import strategies as st

from hub.clienteling.rules import (
    KINDS,
    MARKETING,
    Due,
    FollowUp,
    Rules,
    add_months,
    appointment_followups,
    cooling_off,
    date_days,
    date_followups,
    lapsed_followups,
    lapsed_window,
    purchase_followups,
    wish_followups,
)
from hub.core.clients import NameIndex

lags_st = st.lists(st.integers(1, 400), min_size=1, max_size=3, unique=True).map(
    lambda v: tuple(sorted(v)))
rules_st = st.builds(Rules, date_lead_days=st.integers(0, 30), after_purchase_days=lags_st,
                     bridal_days=lags_st, after_appointment_days=st.integers(0, 30),
                     cooling_off_days=st.integers(0, 30),
                     after_purchase_min=st.integers(0, 1_000_000), upcoming_days=st.integers(0, 10),
                     open_days=st.integers(1, 20), overdue_days=st.integers(0, 40))
kept_days = st.one_of(
    st.dates(date(1940, 1, 1), date(2020, 12, 31)).map(date.isoformat),
    st.dates(date(2000, 1, 1), date(2000, 12, 31)).map(lambda d: d.strftime("--%m-%d")),
)


def _listed(dates: dict[str, str], today: date, rules: Rules) -> dict[str, Due]:
    return {f.followup_id: f.stands(today, rules)
            for f in date_followups([("C1", tuple(dates.items()))], today, rules)
            if f.stands(today, rules) is not None}


@given(kept=kept_days, start=st.dates(date(2024, 1, 1), date(2030, 12, 31)), rules=rules_st)
def test_a_date_comes_up_once_a_year_for_its_window(kept, start, rules):
    days: dict[str, dict[Due, list[date]]] = {}
    for n in range(366 + 366):  # two years of days
        today = start + timedelta(days=n)
        listed = _listed({"anniversary": kept}, today, rules)
        assert len(listed) <= 1  # never two of the same date at once
        for fid, stands in listed.items():
            days.setdefault(fid, {}).setdefault(stands, []).append(today)
    month_day = kept[-5:]
    for fid, by in days.items():
        on = date.fromisoformat(fid.rsplit(":", 1)[1])
        due = on - timedelta(days=rules.date_lead_days)
        assert on.strftime("%m-%d") == month_day or (month_day == "02-29" and
                                                     on.strftime("%m-%d") == "02-28")
        if start <= due and due + timedelta(days=rules.open_days) <= start + timedelta(731):
            # Wholly inside the walk: Today on exactly open_days days from its due day.
            assert by[Due.TODAY] == [due + timedelta(days=k) for k in range(rules.open_days)]
        for day in by.get(Due.UPCOMING, []):
            assert 0 < (due - day).days <= rules.upcoming_days
        for day in by.get(Due.OVERDUE, []):
            assert rules.open_days <= (day - due).days < rules.open_days + rules.overdue_days
    # Each occurrence of the walk's years whose window lies inside it was listed.
    assert len([f for f in days if Due.TODAY in days[f]]) >= 1


@given(total=st.integers(0, 2_000_000), made=st.dates(date(2025, 1, 1), date(2027, 1, 1)),
       rules=rules_st)
def test_a_purchase_comes_up_once_per_lag_if_it_is_fine_enough(total, made, rules):
    sale = {"sale_id": "R1-000001", "client_id": "C1", "ts": f"{made.isoformat()}T15:04:05Z",
            "total": total}
    today_days: dict[str, list[date]] = {}
    last = max(rules.after_purchase_days) + rules.open_days + rules.overdue_days + 3
    for n in range(-rules.upcoming_days - 3, last):
        today = made + timedelta(days=n)
        listed = {f.followup_id: f.stands(today, rules)
                  for f in purchase_followups([sale], today, rules)
                  if f.stands(today, rules) is not None}
        if total < rules.after_purchase_min:
            assert listed == {}
            continue
        expected = {}
        for k, lag in enumerate(rules.after_purchase_days):
            age = n - lag
            stands = (Due.UPCOMING if -rules.upcoming_days <= age < 0 else Due.TODAY
                      if 0 <= age < rules.open_days else Due.OVERDUE
                      if 0 <= age < rules.open_days + rules.overdue_days else None)
            if stands is not None:
                fid = "purchase:C1:R1-000001" + ("" if k == 0 else f":{lag}d")
                expected[fid] = stands
        assert listed == expected
        for fid, stands in listed.items():
            if stands is Due.TODAY:
                today_days.setdefault(fid, []).append(today)
    if total >= rules.after_purchase_min:  # each lag: Today on open_days days from its due day
        assert sorted(today_days.values()) == sorted(
            [made + timedelta(days=lag + k) for k in range(rules.open_days)]
            for lag in rules.after_purchase_days)


def _walk(found_of, start: date, days: int, rules: Rules) -> dict[str, list[date]]:
    """The days each follow-up id stands on Today over a walk of `days` from `start`."""
    today_days: dict[str, list[date]] = {}
    for n in range(days):
        today = start + timedelta(days=n)
        for f in found_of(today):
            if f.stands(today, rules) is Due.TODAY:
                today_days.setdefault(f.followup_id, []).append(today)
    return today_days


@given(made=st.dates(date(2024, 1, 1), date(2026, 12, 31)), months=st.integers(1, 30),
       rules=rules_st)
def test_a_lapsed_client_comes_up_once_when_her_last_purchase_is_old_enough(made, months,
                                                                            rules):
    rules = replace(rules, lapsed_months=months)
    last = {"client_id": "C1", "sale_id": "R1-000009", "ts": f"{made.isoformat()}T10:00:00Z"}
    due = add_months(made, months)
    start = due - timedelta(days=rules.upcoming_days + 5)
    walk = _walk(lambda today: lapsed_followups([last], today, rules), start,
                 rules.upcoming_days + rules.open_days + rules.overdue_days + 10, rules)
    assert walk == {"lapsed:C1:R1-000009": [due + timedelta(days=k)
                                            for k in range(rules.open_days)]}
    assert (due.year * 12 + due.month) - (made.year * 12 + made.month) == months
    # The window the sales are asked for holds her last purchase whenever it is listed.
    for n in range(-rules.upcoming_days, rules.open_days + rules.overdue_days):
        first, lastday = lapsed_window(due + timedelta(days=n), rules)
        assert first <= made <= lastday


@given(kind=st.sampled_from(KINDS), bought=st.integers(-5, 60), rules=rules_st)
def test_marketing_waits_out_the_cooling_off_and_care_never_does(kind, bought, rules):
    today = date(2026, 6, 1)
    f = FollowUp(f"{kind}:C1:x", kind, "C1", "x", today, today)
    last = today - timedelta(days=bought)
    held = cooling_off(f, last, today, rules)
    assert held == (kind in MARKETING and 0 <= bought < rules.cooling_off_days)
    assert not cooling_off(f, None, today, rules)


@given(day_=st.dates(date(2025, 1, 1), date(2027, 12, 31)), rules=rules_st)
def test_appointments_and_wishes_come_up_once_in_their_window(day_, rules):
    assume(rules.after_appointment_days > 0)
    done = [{"appointment_id": "A1", "client_id": "C1", "day": day_.isoformat()}]
    wish = [{"client_id": "C1", "item_id": "P1", "what": "back_in_stock",
             "ts": f"{day_.isoformat()}T09:00:00Z"}]
    span = rules.upcoming_days + rules.open_days + rules.overdue_days + 100
    start = day_ - timedelta(days=rules.upcoming_days + 3)
    due = day_ + timedelta(days=rules.after_appointment_days)
    assert _walk(lambda t: appointment_followups(done, t, rules), start, span, rules) == {
        "appointment:C1:A1": [due + timedelta(days=k) for k in range(rules.open_days)]}
    assert _walk(lambda t: wish_followups(wish, t, rules), start, span, rules) == {
        f"wish:C1:P1:back_in_stock:{day_.isoformat()}": [day_ + timedelta(days=k)
                                                         for k in range(rules.open_days)]}


@given(book=st.lists(st.tuples(st.sampled_from(["C1", "C2", "C3", "C4"]),
                               st.dictionaries(st.sampled_from(["birthday", "anniversary"]),
                                               kept_days, max_size=2),
                               st.booleans()), max_size=12),
       today=st.dates(date(2025, 1, 1), date(2028, 12, 31)), rules=rules_st)
def test_the_day_index_finds_what_a_walk_of_every_date_finds(book, today, rules):
    """The in-memory index by day, kept through changes and erasures, lists the same
    follow-ups as walking every client's dates."""
    names = NameIndex()
    for client_id, dates, erased in book:
        if erased:
            names.drop(client_id)
        else:
            names.put(client_id, {"first_name": "A", "last_name": client_id, "dates": dates})
    walked = date_followups(names.dated(), today, rules)
    looked_up = date_followups(names.dated_on(date_days(today, rules)), today, rules)
    assert sorted(f.followup_id for f in looked_up) == sorted(f.followup_id for f in walked)
