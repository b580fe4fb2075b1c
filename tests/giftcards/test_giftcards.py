"""Gift cards and store credit on a real store: sold as a sale line (a liability, no tax,
out of the Z report's sales), spent as a tender, given back by returns and voids; store
credit from a return; exchanges in one transaction; cash refunds with a manager."""

from __future__ import annotations

import pytest
from builders import cash, client, piece

from hub.core.approvals import ApprovalNeeded
from hub.core.errors import Invalid, NotFound, Refused
from hub.giftcards import codes, credit
from hub.giftcards.cards import GiftCardSettings, account_of
from hub.giftcards.part import giftcards_of
from hub.ledger.ledger import dump_projections
from hub.store import Store, init_store

SETTINGS = GiftCardSettings(min_amount=1_000, max_amount=500_000, offline_limit=20_000)


def books(store: Store):
    return store.ledger.seq, dump_projections(store.ledger.db_path, store.ledger.schemas)


async def refused(store: Store, coro) -> Refused:
    before = books(store)
    with pytest.raises(Refused) as exc:
        await coro
    assert books(store) == before, "a refusal wrote something"
    return exc.value


@pytest.fixture
async def shop(tmp_path):
    config = init_store(tmp_path / "s", "paris-01", "Maison", "EUR", "Europe/Paris")
    store = await Store.open(config)
    for staff_id, name, role in (("sophie", "Sophie Martin", "associate"),
                                 ("mona", "Mona Laurent", "manager")):
        await store.staff.enroll(staff_id, name, role, "135790", actor="test")
    await store.items.receive_many([piece(i, tag_price=100_000 * i) for i in range(1, 6)],
                                   actor="test")
    her = (await store.clients.create(client(), "test"))["client_id"]
    with giftcards_of(store, SETTINGS) as cards:
        yield store, cards, her
    await store.close()


async def sell_card(store, cards, amount, **kw):
    code = cards.new_code()
    sale = await store.sales.complete(
        register_id="R1", actor="sophie",
        lines=[{"service": f"giftcard:{code}", "unit_price": amount}], tenders=cash(amount),
        **kw)
    return code, sale


async def approve(store, coro_fn):
    with pytest.raises(ApprovalNeeded) as exc:
        await coro_fn(None)
    granted = await store.approvals.decide(exc.value.action, "mona", "135790",
                                           requested_by="sophie")
    return exc.value.action, await coro_fn(granted["approval_id"])


def test_codes_round_trip_and_catch_typos():
    code = codes.new_code("paris-01")
    assert codes.parse(code) == ("paris-01", code)
    assert codes.parse(f" {code.lower()} ")[1] == code
    body = code.split("-")[-1]
    for i in range(len(body)):  # every single wrong character is caught
        for ch in codes.ALPHABET:
            if ch != body[i]:
                wrong = f"paris-01-{body[:i]}{ch}{body[i + 1:]}"
                with pytest.raises(Invalid):
                    codes.parse(wrong)
    assert len(codes.new_code("x" * 40)) <= 38


async def test_a_card_is_a_liability_not_revenue(shop):
    store, cards, her = shop
    code, sale = await sell_card(store, cards, 50_000, client_id=her)
    assert sale["tax"] == 0 and sale["lines"][0]["tax"] == 0
    assert await store.accounts.balance(account_of(code)) == 50_000
    report = (await store.closures.report())["totals"]
    assert report["sales_total"] == 0 and report["gross"] == 0
    assert report["held_sold"]["total"] == 50_000
    assert report["giftcards"]["sold_total"] == 50_000
    assert report["tenders"]["cash"] == 50_000
    liabilities = {r["kind"]: r["balance"] for r in report["accounts"]["liabilities"]}
    assert liabilities["gift_card"] == 50_000
    # A piece sold with a sale discount: the card takes no share of it.
    sold = await store.sales.complete(
        register_id="R1", actor="sophie", discount=10_000,
        lines=[{"item_id": "P-1"}, {"service": f"giftcard:{cards.new_code()}",
                                    "unit_price": 20_000}], tenders=cash(110_000))
    assert [ln["discount"] for ln in sold["lines"]] == [10_000, 0]


async def test_redeem_return_and_void_give_back(shop):
    store, cards, her = shop
    code, _ = await sell_card(store, cards, 50_000)
    sale = await store.sales.complete(
        register_id="R1", actor="sophie", lines=[{"item_id": "P-1"}],
        tenders=[{"type": "gift_card", "amount": 30_000, "number": code.lower()},
                 *cash(70_000)])
    assert await store.accounts.balance(account_of(code)) == 20_000
    assert (await cards.lookup(code))["balance"] == 20_000
    back = await store.sales.return_lines(sale["sale_id"], register_id="R1", actor="mona",
                                          reason="changed her mind")
    assert {t["type"]: t["amount"] for t in back["tenders"]} == {"gift_card": 30_000,
                                                                  "cash": 70_000}
    assert await store.accounts.balance(account_of(code)) == 50_000


async def test_bad_cards_leave_the_books_as_they_were(shop):
    store, cards, her = shop
    code, _ = await sell_card(store, cards, 10_000)

    def paying(tenders):
        return store.sales.complete(register_id="R1", actor="sophie",
                                    lines=[{"item_id": "P-1"}], tenders=tenders)

    unknown = cards.new_code()
    exc = await refused(store, paying([{"type": "gift_card", "amount": 100_000,
                                        "number": unknown}]))
    assert exc.code == "not_found"
    exc = await refused(store, paying([{"type": "gift_card", "amount": 100_000,
                                        "number": code[:-1] + "Z" if code[-1] != "Z"
                                        else code[:-1] + "Y"}]))
    assert "mistyped" in str(exc)
    exc = await refused(store, paying([{"type": "gift_card", "amount": 20_000, "number": code},
                                       *cash(80_000)]))
    assert exc.code == "card_short"
    await paying([{"type": "gift_card", "amount": 10_000, "number": code}, *cash(90_000)])
    exc = await refused(store, store.sales.complete(
        register_id="R1", actor="sophie", lines=[{"item_id": "P-2"}],
        tenders=[{"type": "gift_card", "amount": 1, "number": code}, *cash(199_999)]))
    assert exc.code == "card_spent"
    # The cart says so as the tender is taken.
    await store.carts.add("R2", item_id="P-3")
    exc = await refused(store, store.carts.add_tender("R2", {"type": "gift_card",
                                                             "amount": 5, "number": code}))
    assert exc.code == "card_spent"
    # Amounts outside [gift_cards] and a card sold twice.
    exc = await refused(store, sell_card(store, cards, 999))
    assert exc.code == "card_amount"
    exc = await refused(store, store.sales.complete(
        register_id="R1", actor="sophie", lines=[{"service": f"giftcard:{code}",
                                                  "unit_price": 5_000}], tenders=cash(5_000)))
    assert exc.code == "card_sold"


async def test_void_cancels_an_unspent_card_only(shop):
    store, cards, her = shop
    code, sale = await sell_card(store, cards, 10_000)
    spent, spent_sale = await sell_card(store, cards, 10_000)
    await store.sales.complete(register_id="R1", actor="sophie", lines=[{"item_id": "P-1"}],
                               tenders=[{"type": "gift_card", "amount": 1_000,
                                         "number": spent}, *cash(99_000)])
    exc = await refused(store, store.sales.void(spent_sale["sale_id"], register_id="R1",
                                                actor="mona", reason="mistake"))
    assert exc.code == "card_spent_void"
    await store.sales.void(sale["sale_id"], register_id="R1", actor="mona", reason="mistake")
    assert await store.accounts.balance(account_of(code)) == 0
    assert (await cards.lookup(code))["status"] == "cancelled"
    exc = await refused(store, store.sales.complete(
        register_id="R1", actor="sophie", lines=[{"item_id": "P-2"}],
        tenders=[{"type": "gift_card", "amount": 1_000, "number": code}, *cash(199_000)]))
    assert exc.code == "card_cancelled"
    report = (await store.closures.report())["totals"]
    assert report["sales_total"] == 100_000 and report["net"] == 100_000


async def test_store_credit_from_a_return_and_spent_for_her_only(shop):
    store, cards, her = shop
    sale = await store.sales.complete(register_id="R1", actor="sophie",
                                      lines=[{"item_id": "P-2"}], tenders=cash(200_000),
                                      client_id=her)
    await approve(store, lambda approval: store.registers.return_lines(
        sale["sale_id"], register_id="R1", lines=None, reason="too big", approval_id=approval,
        actor="sophie", refund_to="store_credit"))
    assert (await cards.store_credit(her))["balance"] == 200_000
    other = (await store.clients.create(client("Léa", "Moreau"), "test"))["client_id"]
    exc = await refused(store, store.sales.complete(
        register_id="R1", actor="sophie", lines=[{"item_id": "P-1"}], client_id=other,
        tenders=[{"type": "store_credit", "amount": 100_000, "reference": her}]))
    assert exc.code == "credit_elsewhere"
    exc = await refused(store, store.sales.complete(
        register_id="R1", actor="sophie", lines=[{"item_id": "P-3"}], client_id=her,
        tenders=[{"type": "store_credit", "amount": 300_000, "reference": her}]))
    assert exc.code == "credit_short"
    await store.sales.complete(register_id="R1", actor="sophie", lines=[{"item_id": "P-1"}],
                               client_id=her,
                               tenders=[{"type": "store_credit", "amount": 100_000,
                                         "reference": her}])
    assert (await cards.store_credit(her))["balance"] == 100_000
    # Another layer (a trade-in) credits her through the one function, once per ref.
    await store.ledger.transact(lambda tx: credit.issue_store_credit_in(
        tx, store.accounts, her, 5_000, "trade-in:T1", "sophie", currency="EUR"))
    with pytest.raises(Refused):
        await store.ledger.transact(lambda tx: credit.issue_store_credit_in(
            tx, store.accounts, her, 5_000, "trade-in:T1", "sophie", currency="EUR"))
    assert (await cards.store_credit(her))["balance"] == 105_000


async def test_cash_refund_of_a_card_sale_needs_its_own_approval(shop):
    store, cards, her = shop
    sale = await store.sales.complete(
        register_id="R1", actor="sophie", lines=[{"item_id": "P-1"}],
        tenders=[{"type": "card", "amount": 100_000, "last4": "4242", "brand": "visa"}])
    action, back = await approve(store, lambda approval: store.registers.return_lines(
        sale["sale_id"], register_id="R1", lines=None, reason="gift", approval_id=approval,
        actor="sophie", refund_to="cash"))
    assert action["kind"] == "refund_cash"
    assert back["tenders"] == [{"type": "cash", "amount": 100_000, "detail": {}}]
    assert back["approved_by"] == "mona"


async def test_an_exchange_is_one_transaction(shop):
    store, cards, her = shop
    sale = await store.sales.complete(register_id="R1", actor="sophie",
                                      lines=[{"item_id": "P-2"}], tenders=cash(200_000),
                                      client_id=her)
    # The new piece is sold already: the whole exchange is refused, the return undone.
    await store.sales.complete(register_id="R1", actor="sophie", lines=[{"item_id": "P-5"}],
                               tenders=cash(500_000))
    exc = await refused(store, store.sales.exchange(
        sale["sale_id"], register_id="R1", actor="sophie", reason="size",
        lines_back=[{"line_no": 1}], new_lines=[{"item_id": "P-5"}]))
    assert exc.code == "item_sold"
    assert (await store.sales.get(sale["sale_id"]))["status"] == "completed"
    # A dearer piece: the refund pays toward it, cash the rest.
    done = await store.sales.exchange(
        sale["sale_id"], register_id="R1", actor="sophie", reason="size",
        lines_back=[{"line_no": 1}], new_lines=[{"item_id": "P-3"}], tenders=cash(100_000))
    assert done["return"]["tenders"] == [{"type": "exchange", "amount": 200_000,
                                          "detail": {"reference": sale["sale_id"]}}]
    new = await store.sales.get(done["sale"]["sale_id"])
    assert [t["type"] for t in new["tenders"]] == ["exchange", "cash"]
    assert new["client_id"] == her and done["sale"]["exchange_of"] == sale["sale_id"]
    assert (await store.items.get("P-3"))["status"] == "sold"
    # A cheaper one, back again: the rest of the refund goes to her store credit.
    done = await store.sales.exchange(
        new["sale_id"], register_id="R1", actor="sophie", reason="colour",
        lines_back=[{"line_no": 1}], new_lines=[{"item_id": "P-1"}],
        refund_tenders=[{"type": "store_credit", "amount": 200_000, "reference": her}])
    assert (await cards.store_credit(her))["balance"] == 200_000
    report = (await store.closures.report())["totals"]
    # Sold 200k, 500k, 300k and 100k; 200k and 300k came back through exchanges.
    assert report["net"] == 600_000 and report["tenders"]["cash"] == 800_000
    # No exchange tender outside an exchange.
    exc = await refused(store, store.sales.complete(
        register_id="R1", actor="sophie", lines=[{"item_id": "P-4"}],
        tenders=[{"type": "exchange", "amount": 400_000, "reference": "R1-000001"}]))
    assert exc.code == "exchange_only"


async def test_without_the_layer_its_tenders_are_refused(tmp_path):
    store = await Store.open(init_store(tmp_path / "b", "lyon-01", "Maison", "EUR"))
    try:
        await store.items.receive_many([piece(1)], actor="test")
        exc = await refused(store, store.sales.complete(
            register_id="R1", actor="t", lines=[{"item_id": "P-1"}],
            tenders=[{"type": "gift_card", "amount": 950_000, "number": "x"}]))
        assert exc.code == "tender_not_taken"
        with pytest.raises(NotFound):
            raise NotFound("x")
    finally:
        await store.close()
