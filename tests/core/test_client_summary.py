"""A client's headline: what the purchases add up to (voids count for nothing, a return
against the sale it took back), and the next date to remember, from today on."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.core.clients import next_milestone
from hub.core.errors import NotFound
from tests.builders import cash, client, piece


def _falls_on(kept: str, day: date) -> bool:
    month, dom = int(kept[-5:-3]), int(kept[-2:])
    if (month, dom) == (2, 29) and not (day.year % 4 == 0 and (day.year % 100 or
                                                               day.year % 400 == 0)):
        return (day.month, day.day) == (2, 28)
    return (day.month, day.day) == (month, dom)


kept_days = st.one_of(
    st.dates(date(1930, 1, 1), date(2030, 12, 31)).map(date.isoformat),
    st.dates(date(2000, 1, 1), date(2000, 12, 31)).map(lambda d: d.strftime("--%m-%d")),
)


@given(dates=st.dictionaries(st.sampled_from(("birthday", "anniversary", "wedding")),
                             kept_days, max_size=3),
       today=st.dates(date(2020, 1, 1), date(2035, 12, 31)))
def test_the_next_date_is_the_first_day_from_today_any_of_them_falls_on(dates, today):
    found = next_milestone(dates, today)
    # Walk the calendar: the first day from today on that one of the dates falls on.
    first = next((today + timedelta(days=n) for n in range(367)
                  if any(_falls_on(v, today + timedelta(days=n)) for v in dates.values())),
                 None)
    if first is None:
        assert found is None
        return
    assert found is not None and found.day == first and found.days == (first - today).days
    kept = dates[found.kind]
    assert _falls_on(kept, found.day)
    if kept.startswith("--") or int(kept[:4]) >= found.day.year:
        assert found.years is None
    else:
        assert found.years == found.day.year - int(kept[:4])


def test_a_date_today_is_today_and_counts_its_years():
    m = next_milestone({"anniversary": "2016-12-02", "birthday": "--12-20"}, date(2026, 12, 2))
    assert (m.kind, m.days, m.years) == ("anniversary", 0, 10)


async def test_a_clients_totals_follow_sales_returns_and_voids(store):
    cid = (await store.clients.create(client(dates={"anniversary": "--01-15"}), "anna"))[
        "client_id"]
    other = (await store.clients.create(client("Inès", "Roux"), "anna"))["client_id"]
    for n in range(1, 6):
        await store.items.receive(piece(n, tag_price=100_000 * n), "admin")
    empty = await store.client_summary(cid)
    assert (empty["lifetime"], empty["purchases"], empty["average_basket"]) == (0, 0, None)

    def sell(*serials: int, who: str = cid):
        lines = [{"item_id": f"P-{n}"} for n in serials]
        return store.sales.complete(register_id="R1", actor="anna", lines=lines, client_id=who,
                                    tenders=cash(sum(100_000 * n for n in serials)))

    first = await sell(1, 2)  # 300,000
    kept = await sell(3)  # 300,000, then voided
    await store.sales.void(kept["sale_id"], register_id="R1", actor="marc", reason="keyed")
    await sell(4)  # 400,000
    await store.sales.return_lines(first["sale_id"], register_id="R1", actor="marc",
                                   reason="size", lines=[{"line_no": 2, "quantity": 1}])
    await sell(5, who=other)

    s = await store.client_summary(cid)
    assert s["currency"] == "EUR" and s["ring_sizes"] == {"left ring": "52"}
    assert (s["lifetime"], s["last_12_months"], s["purchases"]) == (500_000, 500_000, 2)
    assert s["average_basket"] == 250_000
    assert s["first_purchase"] <= s["last_purchase"]
    assert s["next_milestone"]["kind"] == "anniversary"
    assert s["next_milestone"]["day"][5:] == "01-15"
    assert (await store.client_summary(other))["lifetime"] == 500_000

    await store.clients.forget(cid, "marc")  # the amounts stay; sizes and dates go
    gone = await store.client_summary(cid)
    assert gone["lifetime"] == 500_000 and gone["ring_sizes"] == {}
    assert gone["next_milestone"] is None
    with pytest.raises(NotFound):
        await store.client_summary("C-NOBODY")
