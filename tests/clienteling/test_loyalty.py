"""Loyalty points through real sales: earned per amount spent (more for a tier with a perk),
spent as a tender within the store's rules, taken back by a return or a void, the balance
always the sum of its movements and never below zero, a refused sale writing nothing."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.clienteling.loyalty import Loyalty, LoyaltyRules, account_of
from hub.core.errors import Refused
from hub.ledger.ledger import dump_projections
from tests.builders import cash, piece

_STORES = itertools.count()
RULES = LoyaltyRules(spend_per_point=100, point_value=5, redeem_min=100, redeem_max_pct=50,
                     tier_percent={"vip": 200})


async def _setup(store, tier=None):
    loyalty = Loyalty(store.accounts, RULES, "EUR", tier_in=lambda tx, cid: tier)
    store.sales.extensions.append(loyalty)
    her = await store.clients.create({"first_name": "Hélène", "last_name": "Fontaine"}, "t")
    return loyalty, her["client_id"]


async def _sell(store, serial, price, client_id, tenders=None):
    await store.items.receive_many([piece(serial, tag_price=price)], "t")
    return await store.sales.complete(register_id="R1", actor="alex",
                                      lines=[{"item_id": serial}],
                                      tenders=tenders or cash(price), client_id=client_id)


def _books(store):
    return store.ledger.seq, dump_projections(store.ledger.db_path, store.ledger.schemas)


async def test_points_are_earned_spent_and_taken_back(store):
    loyalty, her = await _setup(store)
    sale = await _sell(store, "L-1", 480_000, her)
    assert (await loyalty.of(her))["points"] == 4_800  # 1 point per 1.00 spent
    # 2,000 points (100.00) towards a 300.00 piece: earns on the 200.00 paid in money.
    await _sell(store, "L-2", 30_000, her, [{"type": "loyalty", "amount": 10_000},
                                           {"type": "cash", "amount": 20_000}])
    assert (await loyalty.of(her))["points"] == 4_800 - 2_000 + 200
    await store.sales.return_lines(sale["sale_id"], register_id="R1", actor="alex",
                                   reason="changed her mind")
    # L-1 earned 4,800 and she has spent 2,000 since: what is left of them goes back, the
    # balance never below zero.
    assert (await loyalty.of(her))["points"] == 0
    movements = await store.accounts.movements(account_of(her))
    assert sum(m["amount"] for m in movements) == await store.accounts.balance(account_of(her))
    before = _books(store)
    await store.rebuild()
    assert _books(store) == before  # balances are projections of the journal


async def test_a_vip_earns_double_and_a_void_takes_it_all_back(store):
    loyalty, her = await _setup(store, tier="vip")
    sale = await _sell(store, "V-1", 100_000, her)
    assert (await loyalty.of(her))["points"] == 2_000
    await store.sales.void(sale["sale_id"], register_id="R1", actor="mona", reason="wrong")
    assert (await loyalty.of(her))["points"] == 0


async def test_spending_points_outside_the_rules_is_refused_and_writes_nothing(store):
    loyalty, her = await _setup(store)
    await _sell(store, "R-1", 200_000, her)  # 2,000 points
    await store.items.receive_many([piece("R-2", tag_price=30_000)], "t")
    cases = [
        ([{"type": "loyalty", "amount": 250}, {"type": "cash", "amount": 29_750}], "too_few"),
        ([{"type": "loyalty", "amount": 15_001}, {"type": "cash", "amount": 14_999}], "value"),
        ([{"type": "loyalty", "amount": 20_000}, {"type": "cash", "amount": 10_000}],
         "too_much"),
    ]
    for tenders, code in cases:
        before = _books(store)
        try:
            await store.sales.complete(register_id="R1", actor="alex",
                                       lines=[{"item_id": "R-2"}], tenders=tenders,
                                       client_id=her)
        except Refused as exc:
            assert exc.code == f"loyalty_{code}", exc.code
        else:
            raise AssertionError(f"{code} was sold")
        assert _books(store) == before
    try:  # no client, no points
        await store.sales.complete(register_id="R1", actor="alex", lines=[{"item_id": "R-2"}],
                                   tenders=[{"type": "loyalty", "amount": 10_000},
                                            {"type": "cash", "amount": 20_000}])
    except Refused as exc:
        assert exc.code == "loyalty_no_client"
    store.sales.extensions.clear()
    try:  # the layer not running: the tender is not taken at all
        await store.sales.complete(register_id="R1", actor="alex", lines=[{"item_id": "R-2"}],
                                   tenders=[{"type": "loyalty", "amount": 10_000},
                                            {"type": "cash", "amount": 20_000}],
                                   client_id=her)
    except Refused as exc:
        assert exc.code == "tender_not_taken"


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prices=st.lists(st.integers(1_000, 400_000), min_size=1, max_size=5),
       returned=st.lists(st.booleans(), min_size=5, max_size=5))
async def test_the_balance_is_its_movements_and_never_below_zero(make_config, prices,
                                                                 returned):
    from hub.store import Store

    name = f"p{next(_STORES)}"  # a store per example (one test's tmp_path)
    async with await Store.open(make_config(name)) as store:
        loyalty, her = await _setup(store)
        sales = [await _sell(store, f"H-{n}", p, her) for n, p in enumerate(prices)]
        for sale, back in zip(sales, returned, strict=False):
            if back:
                await store.sales.return_lines(sale["sale_id"], register_id="R1",
                                               actor="alex", reason="no")
            balance = await store.accounts.balance(account_of(her))
            moved = await store.accounts.movements(account_of(her), 100)
            assert balance == sum(m["amount"] for m in moved) >= 0
        assert (await loyalty.of(her))["points"] == sum(
            p // 100 for p, back in zip(prices, returned, strict=False) if not back)

