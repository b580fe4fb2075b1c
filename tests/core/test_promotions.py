"""hub/core/promotions.py: HQ's promotions checked strictly, applied in the cart by the price
function, stacked and capped by their rules, named on the sale, never under cost unasked."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from builders import cash, piece
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.core import promotions
from hub.core.approvals import ApprovalNeeded
from hub.core.errors import Invalid
from hub.core.sales import validate_lines
from hub.store import Store, init_store

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


def promo(pid: str, rule: dict, *, starts: str = "2026-12-01", ends: str = "2026-12-24",
          name: str | None = None) -> dict:
    return {"id": f"m-{pid}", "type": "promotion", "chain": "maison", "store": "paris-01",
            "issued_at": "2026-12-01T08:00:00Z",
            "body": {"promotion_id": pid, "name": name or f"Promotion {pid}", "starts": starts,
                     "ends": ends, "rule": rule}}


@pytest.fixture
async def shop(store):
    store.prices.now = lambda: NOW
    await store.staff.enroll("mona", "Mona Manager", "manager", "135790", actor="test")
    await store.items.receive_many([
        piece(1, designer="Kōno", collection="Lune", tag_price=200_000, cost=80_000),
        piece(2, designer="Kōno", collection="Soleil", tag_price=100_000, cost=95_000),
        piece(3, designer="Other", category="bracelet", tag_price=50_000, cost=10_000)], "test")
    return store


def test_a_rule_is_checked_strictly():
    assert promotions.validate_rule({"percent_off": 10, "category": "ring"})["percent_bp"] == 1000
    for bad, field in (({}, "rule"), ({"percent_bp": 1000, "amount_off": 5}, "rule"),
                       ({"percent_bp": 0}, "rule.percent_bp"),
                       ({"amount_off": 100, "colour": "red"}, "rule"),
                       ({"amount_off": 100, "tier": []}, "rule.tier"),
                       ({"amount_off": 100, "priority": 5000}, "rule.priority")):
        with pytest.raises(Invalid) as exc:
            promotions.validate_rule(bad)
        assert field in {p.field for p in exc.value.problems}
    with pytest.raises(Invalid, match="end after it starts"):
        promotions.validate_promotion(promo("P", {"amount_off": 1}, starts="2026-12-24",
                                            ends="2026-12-01")["body"])


async def test_hq_refuses_a_bad_rule(shop):
    with pytest.raises(Invalid):
        await shop.hq.apply(promo("BAD", {"percent": 10}), "sig")


async def test_a_running_promotion_is_applied_and_named_on_the_sale(shop):
    await shop.hq.apply(promo("LUNE", {"percent_bp": 1000, "collection": "Lune"},
                              name="Lune −10 %"), "sig")
    await shop.hq.apply(promo("LATER", {"percent_bp": 5000}, starts="2027-01-01",
                              ends="2027-01-31"), "sig")
    await shop.carts.add("R1", item_id="P-1")
    cart = await shop.carts.add("R1", item_id="P-3")
    first = cart["lines"][0]
    assert first["promotions"] == [{"promotion_id": "LUNE", "name": "Lune −10 %",
                                    "amount": 20_000}]
    assert first["total"] == 180_000 and "promotions" not in cart["lines"][1]
    assert cart["total"] == 230_000
    await shop.carts.add_tender("R1", {"type": "cash", "amount": 230_000})
    sale = await shop.sales.get(await shop.carts.complete("R1", actor="test"))
    assert sale["lines"][0]["promotions"][0]["promotion_id"] == "LUNE"
    receipt = await shop.receipt(sale)
    shown = [(b.text, b.right) for b in receipt.blocks]
    assert ("  Lune −10 %", "-€200.00") in shown, shown


async def test_a_tier_promotion_asks_the_clienteling_hook(shop):
    await shop.hq.apply(promo("GOLD", {"percent_bp": 1500, "designer": "Kōno",
                                       "tier": "gold"}), "sig")
    client = await shop.clients.create({"first_name": "Zoë", "last_name": "M"}, "test")
    shop.sales.tier_of = lambda tx, cid: "gold" if cid == client["client_id"] else None
    cart = await shop.carts.add("R1", item_id="P-1")
    assert "promotions" not in cart["lines"][0]  # no client, no tier
    cart = await shop.carts.attach_client("R1", client["client_id"])
    assert cart["lines"][0]["promotions"][0]["amount"] == 30_000


async def test_below_cost_needs_a_manager(shop):
    await shop.hq.apply(promo("SOLEIL", {"amount_off": 20_000, "collection": "Soleil"}),
                        "sig")
    cart = await shop.carts.add("R1", item_id="P-2")  # 1,000.00 − 200.00 < cost 950.00
    assert cart["lines"][0]["below_cost"] is True
    await shop.carts.add_tender("R1", {"type": "cash", "amount": cart["total"]})
    with pytest.raises(ApprovalNeeded) as exc:
        await shop.carts.complete("R1", actor="test")
    assert exc.value.action["kind"] == "below_cost"
    approval = await shop.approvals.decide(exc.value.action, "mona", "135790",
                                           requested_by="test")
    await shop.carts.complete("R1", actor="test", approval_id=approval["approval_id"])


def _line(gross: int, **over) -> dict:
    return {"piece": {"category": "ring", "designer": "Kōno", "collection": "Lune", **over},
            "gross": gross, "quantity": 1}


def _p(pid: str, **rule) -> dict:
    return {"promotion_id": pid, "name": pid, "rule": {**promotions._DEFAULTS, **rule}}


def test_an_exclusive_promotion_applies_alone_and_stackable_ones_add_up():
    stack = [_p("A", percent_bp=1000), _p("B", amount_off=500)]
    assert [a["amount"] for a in promotions.apply(stack, [_line(10_000)], None)[0]] == [1000,
                                                                                       500]
    top = [*stack, _p("X", percent_bp=3000, exclusive=True, priority=9)]
    assert promotions.apply(top, [_line(10_000)], None)[0] == [
        {"promotion_id": "X", "name": "X", "amount": 3000}]
    low = [*stack, _p("X", percent_bp=3000, exclusive=True, priority=-1 + 1)]
    # same priority: by id, A first and stackable, so X (exclusive) stays out
    assert [a["promotion_id"] for a in promotions.apply(low, [_line(10_000)], None)[0]] == [
        "A", "B"]


def test_caps_per_line_and_per_sale():
    capped = [_p("C", percent_bp=5000, cap_per_line=3000, cap_per_sale=4000)]
    taken = promotions.apply(capped, [_line(10_000), _line(10_000), _line(10_000)], None)
    assert [sum(a["amount"] for a in t) for t in taken] == [3000, 1000, 0]


promos = st.lists(st.builds(
    lambda i, pct, off, excl, prio, cap_l, cap_s: _p(
        f"P{i}", **({"percent_bp": pct} if pct else {"amount_off": off}), exclusive=excl,
        priority=prio, cap_per_line=cap_l, cap_per_sale=cap_s),
    st.integers(0, 99), st.one_of(st.none(), st.integers(1, 10_000)), st.integers(1, 10**6),
    st.booleans(), st.integers(0, 3), st.one_of(st.none(), st.integers(0, 10**6)),
    st.one_of(st.none(), st.integers(0, 10**6))), max_size=5,
    unique_by=lambda p: p["promotion_id"])


@given(promos, st.lists(st.integers(0, 10**7), min_size=1, max_size=6))
def test_promotions_never_go_below_zero_and_respect_their_caps(running, grosses):
    taken = promotions.apply(running, [_line(g) for g in grosses], None)
    assert taken == promotions.apply(running, [_line(g) for g in grosses], None)
    for gross, line in zip(grosses, taken, strict=True):
        assert 0 <= sum(a["amount"] for a in line) <= gross
        exclusive = [a for a in line if any(p["promotion_id"] == a["promotion_id"]
                                            and p["rule"]["exclusive"] for p in running)]
        assert not exclusive or len(line) == 1
    for p in running:
        spent = [a["amount"] for line in taken for a in line
                 if a["promotion_id"] == p["promotion_id"]]
        if p["rule"]["cap_per_line"] is not None:
            assert all(s <= p["rule"]["cap_per_line"] for s in spent)
        if p["rule"]["cap_per_sale"] is not None:
            assert sum(spent) <= p["rule"]["cap_per_sale"]


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pct=st.integers(1, 9000), discount=st.integers(0, 50_000),
       cash_over=st.integers(0, 10_000))
def test_a_receipt_adds_up_with_promotions(store_sync, pct, discount, cash_over):
    store_sync(pct, discount, cash_over)


@pytest.fixture
def store_sync(tmp_path_factory):
    """One store for every example (a store per example would take seconds each)."""
    loop = asyncio.new_event_loop()
    config = init_store(tmp_path_factory.mktemp("promo") / "s", "paris-01", "Maison", "EUR")
    store = loop.run_until_complete(Store.open(config))
    store.prices.now = lambda: NOW
    counter = iter(range(10**6))

    async def one(pct: int, discount: int, cash_over: int) -> None:
        n = next(counter)
        await store.hq.apply(promo(f"X{n}", {"percent_bp": pct, "designer": f"D{n}"}), "s")
        await store.items.receive_many([piece(f"A{n}", designer=f"D{n}", tag_price=123_457),
                                        piece(f"B{n}", designer=f"D{n}", tag_price=99_999)],
                                       "t")
        lines = validate_lines([{"item_id": f"A{n}"}, {"item_id": f"B{n}"}])
        basket = await store.ledger.read(lambda tx: store.sales.price_in(tx, lines, 0))
        discount_ = min(discount, basket["total"])
        total = (await store.ledger.read(lambda tx: store.sales.price_in(
            tx, lines, discount_)))["total"]
        sale = await store.sales.complete(register_id="R1", actor="t", lines=lines,
                                          discount=discount_,
                                          tenders=cash(total + cash_over))
        got = await store.sales.get(sale["sale_id"])
        promoted = sum(a["amount"] for ln in got["lines"] for a in ln.get("promotions", ()))
        assert promoted > 0
        assert sum(ln["total"] for ln in got["lines"]) == got["total"]
        assert got["subtotal"] - got["discount"] == got["total"]  # prices include tax
        assert sum(ln["tax"] for ln in got["lines"]) == got["tax"]
        assert sum(t["amount"] for t in got["tenders"]) - got["change"] == got["total"]
        assert got["change"] == cash_over
        for ln in got["lines"]:
            assert ln["discount"] >= sum(a["amount"] for a in ln.get("promotions", ()))

    yield lambda *a: loop.run_until_complete(one(*a))
    loop.run_until_complete(store.close())
    loop.close()
