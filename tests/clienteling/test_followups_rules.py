"""Follow-up rules as properties: every date to remember and every fine purchase comes up
once a year (once at all), in its window, for exactly as long as the rules say; a purchase
below the threshold never does."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from hub.clienteling.rules import Due, Rules, date_followups, purchase_followups

rules_st = st.builds(Rules, date_lead_days=st.integers(0, 30), after_purchase_days=st.integers(1, 400),
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
def test_a_purchase_comes_up_once_if_it_is_fine_enough(total, made, rules):
    sale = {"sale_id": "R1-000001", "client_id": "C1", "ts": f"{made.isoformat()}T15:04:05Z",
            "total": total}
    due = made + timedelta(days=rules.after_purchase_days)
    today_days = []
    for n in range(-rules.upcoming_days - 3, rules.open_days + rules.overdue_days + 3):
        today = due + timedelta(days=n)
        found = purchase_followups([sale], today, rules)
        assert len(found) <= 1
        listed = [f for f in found if f.stands(today, rules) is not None]
        if total < rules.after_purchase_min:
            assert listed == []
            continue
        if listed and listed[0].stands(today, rules) is Due.TODAY:
            today_days.append(today)
        expected = (Due.UPCOMING if -rules.upcoming_days <= n < 0 else Due.TODAY
                    if 0 <= n < rules.open_days else Due.OVERDUE
                    if n < rules.open_days + rules.overdue_days and n >= 0 else None)
        assert (listed[0].stands(today, rules) if listed else None) == expected
    if total >= rules.after_purchase_min:
        assert today_days == [due + timedelta(days=k) for k in range(rules.open_days)]
