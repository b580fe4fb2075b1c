"""Memo and consignment through their services on a real store: vendors and memo pieces
received (due dates in the store's time zone), the payable owed at once when one sells and
taken back by a return or a void, paying the vendor, giving a piece back (never sold again),
the aging list; a piece on approval becoming a sale to her or coming back, overdue ones as
follow-ups; a consignment's credit and commission, its agreed price asking a manager; the
stock value without what is not the store's; the Z report's memo lines; bad input refused
with nothing written; and a rebuild giving the same rows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from hub.clienteling.rules import Rules
from hub.core.approvals import ApprovalNeeded
from hub.core.errors import Invalid, NotFound, Refused
from hub.ledger.ledger import dump_projections
from hub.memo.book import consignment_credit, payable_account
from hub.memo.part import memo_of
from hub.store import Store, init_store
from tests.builders import cash, client, piece

COST, PRICE = 400_000, 1_000_000


async def open_shop(path):
    config = init_store(path / "s", "paris-01", "Maison", "EUR", "Europe/Paris")
    store = await Store.open(config)
    for staff_id, name, role in (("sophie", "Sophie Martin", "associate"),
                                 ("mona", "Mona Laurent", "manager")):
        await store.staff.enroll(staff_id, name, role, "135790", actor="test")
    her = (await store.clients.create(client("Camille", "Durand",
                                             primary_associate="sophie"), "test"))["client_id"]
    other = (await store.clients.create(client("Inès", "Roy"), "test"))["client_id"]
    return store, her, other


@pytest.fixture
async def shop(tmp_path):
    store, her, other = await open_shop(tmp_path)
    with memo_of(store) as memo:
        yield store, memo, her, other
    await store.close()


async def add_vendor(memo, name="Atelier Vendôme", terms=60):
    return (await memo.add_vendor({"name": name, "terms_days": terms}, actor="mona"))["vendor_id"]


async def receive(memo, vendor_id, *serials, **over):
    return await memo.receive({"vendor_id": vendor_id, "memo_ref": "M-2291",
                               "pieces": [piece(s, cost=COST, tag_price=PRICE) for s in serials],
                               **over}, actor="mona")


async def sell(store, *serials, client_id=None, total=None):
    lines = [{"item_id": s} for s in serials]
    return await store.sales.complete(register_id="R1", actor="sophie", lines=lines,
                                      tenders=cash(total or PRICE * len(serials)),
                                      client_id=client_id)


async def test_memo_in_due_in_the_store_time_zone_and_sold_owes_the_vendor(shop):
    store, memo, her, other = shop
    # 23:30 UTC on 31 January is already 1 February in Paris: terms count from there.
    memo.now = lambda: datetime(2026, 1, 31, 23, 30, tzinfo=UTC)
    vendor = await add_vendor(memo)
    await receive(memo, vendor, "M-1", "M-2")
    aging = await memo.aging()
    assert [p["due"] for p in aging] == ["2026-04-02", "2026-04-02"]  # 1 Feb + 60 days
    piece_ = await store.items.get("M-1")
    assert piece_["ownership"] == "memo" and piece_["status"] == "in_stock"
    assert await store.accounts.balance(payable_account(vendor)) == 0
    sale = await sell(store, "M-1")
    assert await store.accounts.balance(payable_account(vendor)) == COST
    page = await memo.vendor(vendor)
    assert page["payable"] == COST
    assert {p["item_id"]: p["state"] for p in page["pieces"]} == {"M-1": "sold",
                                                                  "M-2": "on_memo"}
    # A return takes the payable back; the piece is on memo again, awaiting inspection.
    await store.sales.return_lines(sale["sale_id"], register_id="R1", actor="mona",
                                   reason="changed her mind")
    assert await store.accounts.balance(payable_account(vendor)) == 0
    assert (await memo.vendor(vendor))["pieces"][0]["state"] == "on_memo"


async def test_owed_can_differ_from_cost_and_a_void_takes_it_back(shop):
    store, memo, her, other = shop
    vendor = await add_vendor(memo)
    await memo.receive({"vendor_id": vendor, "memo_ref": "M-1", "terms_days": 30,
                        "pieces": [{**piece("M-9", cost=COST, tag_price=PRICE),
                                    "owed": 350_000}]}, actor="mona")
    sale = await sell(store, "M-9")
    assert await store.accounts.balance(payable_account(vendor)) == 350_000
    await store.sales.void(sale["sale_id"], register_id="R1", actor="mona", reason="wrong")
    assert await store.accounts.balance(payable_account(vendor)) == 0
    assert (await store.items.get("M-9"))["status"] == "in_stock"


async def test_paying_the_vendor_and_a_return_after_it_refused(shop):
    store, memo, her, other = shop
    vendor = await add_vendor(memo)
    await receive(memo, vendor, "M-1")
    sale = await sell(store, "M-1")
    with pytest.raises(Refused) as exc:
        await memo.pay_vendor(vendor, {"amount": COST + 1, "method": "bank_transfer",
                                       "reference": "VIR-1"}, actor="mona")
    assert exc.value.code == "over_payable"
    page = await memo.pay_vendor(vendor, {"amount": COST, "method": "bank_transfer",
                                          "reference": "VIR-1"}, actor="mona")
    assert page["payable"] == 0
    assert [e["kind"] for e in page["events"]][:2] == ["paid", "sold"]
    seq = store.ledger.seq
    with pytest.raises(Refused) as exc:
        await store.sales.return_lines(sale["sale_id"], register_id="R1", actor="mona",
                                       reason="changed her mind")
    assert exc.value.code == "vendor_paid" and store.ledger.seq == seq


async def test_giving_back_to_the_vendor_closes_the_memo(shop):
    store, memo, her, other = shop
    vendor = await add_vendor(memo)
    await receive(memo, vendor, "M-1", "M-2")
    await memo.return_to_vendor("M-1", {"note": "not selling"}, actor="mona")
    assert (await store.items.get("M-1"))["status"] == "returned_to_vendor"
    with pytest.raises(Refused) as exc:
        await sell(store, "M-1")
    assert exc.value.code == "item_returned_to_vendor"
    with pytest.raises(Refused) as exc:  # twice: nothing more to send back
        await memo.return_to_vendor("M-1", {}, actor="mona")
    assert exc.value.code == "not_on_memo"
    assert [p["item_id"] for p in await memo.aging()] == ["M-2"]


async def test_aging_lists_overdue_first(shop):
    store, memo, her, other = shop
    memo.now = lambda: datetime(2026, 3, 1, 10, tzinfo=UTC)
    early, late = await add_vendor(memo, "Early", 30), await add_vendor(memo, "Late", 90)
    await receive(memo, late, "L-1")
    await receive(memo, early, "E-1")
    memo.now = lambda: datetime(2026, 4, 15, 10, tzinfo=UTC)  # 45 days on
    aging = await memo.aging()
    assert [(p["item_id"], p["overdue"]) for p in aging] == [("E-1", True), ("L-1", False)]
    assert aging[0]["days_left"] == -15


@pytest.mark.parametrize("body, field", [
    ({"terms_days": 45}, "terms_days"),
    ({"due": "2020-01-01"}, "due"),
    ({"due": "soon"}, "due"),
    ({"pieces": []}, "pieces"),
    ({"memo_ref": ""}, "memo_ref"),
    ({"pieces": [{"item_id": "X-1"}]}, "pieces[0].sku"),
])
async def test_bad_memo_refused_with_nothing_written(shop, body, field):
    store, memo, her, other = shop
    vendor = await add_vendor(memo)
    seq = store.ledger.seq
    with pytest.raises(Invalid) as exc:
        await memo.receive({"vendor_id": vendor, "memo_ref": "M-1",
                            "pieces": [piece("M-1")], **body}, actor="mona")
    assert field in [p.field for p in exc.value.problems]
    assert store.ledger.seq == seq


async def test_unknown_vendor_and_terms_refused(shop):
    store, memo, her, other = shop
    with pytest.raises(NotFound):
        await receive(memo, "V99", "M-1")
    with pytest.raises(Invalid) as exc:
        await memo.add_vendor({"name": "X", "terms_days": 45}, actor="mona")
    assert exc.value.field == "terms_days"
    await store.items.receive(piece("OWN-1"), "test")
    with pytest.raises(Refused) as exc:  # a piece of the store's own is not sent to a vendor
        await memo.return_to_vendor("OWN-1", {}, actor="mona")
    assert exc.value.code == "not_on_memo"


async def test_on_approval_becomes_a_sale_to_her_only(shop):
    store, memo, her, other = shop
    await store.items.receive(piece("A-1", tag_price=PRICE), "test")
    today = memo.today()
    out = await memo.send_out({"item_id": "A-1", "client_id": her,
                               "due": (today + timedelta(days=3)).isoformat()}, actor="sophie")
    assert out["client_name"] == "Camille Durand" and out["state"] == "out"
    assert (await store.items.get("A-1"))["status"] == "memo_out"
    with pytest.raises(Refused) as exc:  # the register cannot sell it
        await sell(store, "A-1", client_id=her)
    assert exc.value.code == "item_memo_out"
    sale = await memo.sell_out(out["memo_out_id"], {"register_id": "R1",
                                                    "tenders": cash(PRICE)}, actor="sophie")
    assert sale["client_id"] == her
    assert (await store.items.get("A-1"))["status"] == "sold"
    assert (await memo.out(out["memo_out_id"]))["state"] == "sold"
    with pytest.raises(Refused) as exc:
        await memo.come_back(out["memo_out_id"], actor="sophie")
    assert exc.value.code == "approval_closed"


async def test_on_approval_comes_back_and_overdue_is_a_followup(shop):
    store, memo, her, other = shop
    await store.items.receive(piece("A-1"), "test")
    await store.items.receive(piece("A-2"), "test")
    memo.now = lambda: datetime(2026, 5, 1, 9, tzinfo=UTC)
    one = await memo.send_out({"item_id": "A-1", "client_id": her, "due": "2026-05-04"},
                              actor="sophie")
    await memo.send_out({"item_id": "A-2", "client_id": other, "due": "2026-05-20"},
                        actor="sophie")
    memo.now = lambda: datetime(2026, 5, 6, 9, tzinfo=UTC)
    assert [o["item_id"] for o in await memo.outs(overdue=True)] == ["A-1"]
    found = await memo.followups(date(2026, 5, 6), Rules())
    assert [(f.client_id, f.about, f.kind) for f in found] == [(her, one["memo_out_id"],
                                                               "memo_due")]
    back = await memo.come_back(one["memo_out_id"], actor="sophie")
    assert back["state"] == "back" and (await store.items.get("A-1"))["status"] == "in_stock"
    assert await memo.followups(date(2026, 5, 6), Rules()) == []


@pytest.mark.parametrize("due, field", [("2020-01-01", "due"), (None, "due"),
                                        ("2099-01-01", "due")])
async def test_bad_approval_refused(shop, due, field):
    store, memo, her, other = shop
    await store.items.receive(piece("A-1"), "test")
    seq = store.ledger.seq
    with pytest.raises(Invalid) as exc:
        await memo.send_out({"item_id": "A-1", "client_id": her, "due": due}, actor="sophie")
    assert exc.value.field == field and store.ledger.seq == seq


async def test_approval_of_a_piece_not_in_stock_refused(shop):
    store, memo, her, other = shop
    await store.items.receive(piece("A-1"), "test")
    await sell(store, "A-1", total=950_000)
    with pytest.raises(Refused) as exc:
        await memo.send_out({"item_id": "A-1", "client_id": her,
                             "due": memo.today().isoformat()}, actor="sophie")
    assert exc.value.code == "not_in_stock"


async def test_consignment_credit_commission_and_payout(shop):
    store, memo, her, other = shop
    c = await memo.consign({"client_id": her, "commission_bp": 2_500, "minimum": 800_000,
                            "term_days": 180,
                            "piece": piece("W-1", category="watch", description="Steel watch",
                                           tag_price=PRICE)}, actor="mona")
    assert c["state"] == "held" and c["client_name"] == "Camille Durand"
    item = await store.items.get("W-1")
    assert item["ownership"] == "consignment" and item["vendor"] == c["consignment_id"]
    sale = await sell(store, "W-1", client_id=other)
    line = sale["lines"][0]
    net = line["total"] - line["tax"]
    commission, credit = consignment_credit(net, 2_500)
    assert commission + credit == net and credit == net - (net * 2_500 + 5_000) // 10_000
    mine = await memo.of_client(her)
    assert mine["credit"] == credit and mine["consignments"][0]["state"] == "sold"
    with pytest.raises(Refused) as exc:
        await memo.pay_consignor(her, {"amount": credit + 1, "method": "cheque",
                                       "reference": "CHQ-1"}, actor="mona")
    assert exc.value.code == "over_credit"
    assert (await memo.pay_consignor(her, {"amount": credit, "method": "cheque",
                                           "reference": "CHQ-1"}, actor="mona"))["credit"] == 0


async def test_consignment_return_reverses_and_give_back(shop):
    store, memo, her, other = shop
    c = await memo.consign({"client_id": her, "commission_bp": 3_000, "minimum": 500_000,
                            "term_days": 90, "piece": piece("W-1", tag_price=PRICE)},
                           actor="mona")
    sale = await sell(store, "W-1")
    assert (await memo.of_client(her))["credit"] > 0
    await store.sales.void(sale["sale_id"], register_id="R1", actor="mona", reason="wrong")
    assert (await memo.of_client(her))["credit"] == 0
    back = await memo.give_back(c["consignment_id"], actor="mona")
    assert back["state"] == "returned"
    assert (await store.items.get("W-1"))["status"] == "returned_to_vendor"


async def test_consignment_below_the_agreed_price_asks_a_manager(shop):
    store, memo, her, other = shop
    await memo.consign({"client_id": her, "commission_bp": 2_000, "minimum": 980_000,
                        "term_days": 90, "piece": piece("W-1", tag_price=PRICE)}, actor="mona")
    await store.carts.add("R1", item_id="W-1", by="sophie")
    await store.carts.set_discount("R1", amount=50_000, actor="sophie")  # 5 %: no manager
    await store.carts.add_tender("R1", {"type": "cash", "amount": 950_000}, by="sophie")
    seq = store.ledger.seq
    with pytest.raises(ApprovalNeeded) as exc:
        await store.carts.complete("R1", actor="sophie")
    assert exc.value.action["kind"] == "below_minimum" and store.ledger.seq == seq
    granted = await store.approvals.decide(exc.value.action, "mona", "135790",
                                           requested_by="sophie")
    sale_id = await store.carts.complete("R1", actor="sophie",
                                         approval_id=granted["approval_id"])
    sale = await store.sales.get(sale_id)
    assert sale["status"] == "completed"
    assert (await memo.of_client(her))["credit"] > 0


@pytest.mark.parametrize("body, field", [
    ({"commission_bp": 10_001}, "commission_bp"),
    ({"minimum": 2_000_000}, "minimum"),
    ({"term_days": 0}, "term_days"),
    ({"client_id": "C999"}, "client_id"),
])
async def test_bad_consignment_refused(shop, body, field):
    store, memo, her, other = shop
    seq = store.ledger.seq
    with pytest.raises(Invalid) as exc:
        await memo.consign({"client_id": her, "commission_bp": 2_000, "minimum": 500_000,
                            "term_days": 90, "piece": piece("W-1", tag_price=PRICE), **body},
                           actor="mona")
    assert field in [p.field for p in exc.value.problems]
    assert store.ledger.seq == seq


async def test_valuation_exposure_and_z_report(shop):
    store, memo, her, other = shop
    await store.items.receive(piece("OWN-1", tag_price=PRICE, cost=COST), "test")
    vendor = await add_vendor(memo)
    await receive(memo, vendor, "M-1", "M-2")
    await memo.consign({"client_id": her, "commission_bp": 2_000, "minimum": 500_000,
                        "term_days": 90, "piece": piece("W-1", tag_price=PRICE)}, actor="mona")
    await memo.send_out({"item_id": "OWN-1", "client_id": other,
                         "due": memo.today().isoformat()}, actor="sophie")
    summary = await store.summary()
    assert summary["stock_value"] == 0  # the store's own piece is out on approval
    assert summary["not_owned"]["memo"] == {"pieces": 2, "tag_price": 2 * PRICE,
                                            "cost": 2 * COST}
    assert summary["not_owned"]["consignment"]["pieces"] == 1
    await sell(store, "M-1")
    exposure = await memo.exposure()
    (v,) = exposure["vendors"]
    assert (v["pieces"], v["cost"], v["retail"], v["payable"]) == (1, COST, PRICE, COST)
    assert exposure["clients"][0]["client_id"] == other
    assert exposure["consignors"][0]["pieces"] == 1
    z = await store.closures.close_day("mona")
    section = z["totals"]["memo"]
    assert section["day"]["sold"] == {"count": 1, "amount": COST}
    assert section["on_memo"] == {"pieces": 1, "owed_if_sold": COST}
    kinds = {(r["kind"], r["balance"]) for r in z["totals"]["accounts"]["liabilities"]}
    assert ("vendor_payable", COST) in kinds


async def test_rebuild_gives_the_same_rows(shop):
    store, memo, her, other = shop
    vendor = await add_vendor(memo)
    await receive(memo, vendor, "M-1", "M-2")
    sale = await sell(store, "M-1")
    await store.sales.return_lines(sale["sale_id"], register_id="R1", actor="mona",
                                   reason="changed her mind")
    await memo.return_to_vendor("M-2", {}, actor="mona")
    await memo.consign({"client_id": her, "commission_bp": 2_000, "minimum": 500_000,
                        "term_days": 90, "piece": piece("W-1", tag_price=PRICE)}, actor="mona")
    await sell(store, "W-1")
    await store.items.receive(piece("A-1"), "test")
    await memo.send_out({"item_id": "A-1", "client_id": her, "due": memo.today().isoformat()},
                        actor="sophie")
    before = dump_projections(store.ledger.db_path, store.ledger.schemas)
    await store.rebuild()
    assert dump_projections(store.ledger.db_path, store.ledger.schemas) == before
