"""hub/core/prices.py: pieces priced by the gram at HQ's rates, re-priced in the rates'
transaction, named on every price; held rate moves, stale rates, quotes, tags to reprint."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest
from builders import cash, piece
from hypothesis import given
from hypothesis import strategies as st

from hub.config import ConfigError, parse_config, render_config
from hub.core import metals, prices
from hub.core.approvals import ApprovalNeeded
from hub.core.errors import Invalid, NotFound, Refused
from hub.ledger.ledger import dump_projections

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
CHAIN = {"making_per_gram": 1500, "making_bp": 0, "stones": 0, "margin_bp": 0, "round_to": 100,
         "rounding": "nearest"}


def message(msg_id: str, mtype: str, body: dict) -> dict:
    return {"id": msg_id, "type": mtype, "chain": "maison", "store": "paris-01",
            "issued_at": "2026-12-02T08:00:00Z", "body": body}


def rates(msg_id: str, per_gram: int, *, fineness: int = 750, metal: str = "gold",
          valid_from: str = "2026-12-02T08:00:00Z",
          valid_until: str = "2026-12-02T18:00:00Z") -> dict:
    return message(msg_id, "rates", {"rates": [
        {"metal": metal, "fineness": fineness, "per_gram": per_gram, "currency": "EUR",
         "valid_from": valid_from, "valid_until": valid_until}]})


def chain(n: int, **over) -> dict:
    """The issue's chain: 18.40 g of 750 gold, making charge 15.00 a gram."""
    return piece(f"G-{n}", **{"sku": "CHAIN-750", "description": "Gold chain",
                              "category": "necklace", "metal": "gold", "fineness": 750,
                              "metal_weight_mg": 18_400, "cost": 90_000, "tag_price": 0,
                              "stones": [], "pricing": dict(CHAIN), **over})


@pytest.fixture
async def shop(store):
    store.prices.now = lambda: NOW
    await store.staff.enroll("mona", "Mona Manager", "manager", "135790", actor="test")
    return store


# -- the function -----------------------------------------------------------------------------

rules = st.fixed_dictionaries({
    "making_per_gram": st.integers(0, 10**5), "making_bp": st.integers(0, 50_000),
    "stones": st.integers(0, 10**8), "margin_bp": st.integers(0, 50_000),
    "round_to": st.sampled_from([1, 10, 100, 1000]), "rounding": st.sampled_from(metals.ROUNDING)})


@given(st.integers(1, 10**7), st.sampled_from([375, 585, 750, 916, 999]),
       st.integers(1, 10**6), st.sampled_from([None, 1000]), rules)
def test_price_by_the_gram_is_exact_and_the_same_every_time(weight, fineness, per_gram,
                                                            rate_fineness, rule):
    rf = rate_fineness or fineness
    price = prices.rate_price(weight, fineness, per_gram, rf, rule)
    exact = prices.rate_price_exact(weight, fineness, per_gram, rf, rule)
    assert price == metals.round_amount(exact["total"], rule["round_to"], rule["rounding"])
    assert price == prices.rate_price(weight, fineness, per_gram, rf, rule)
    assert exact["total"] == exact["metal"] + exact["making"] + exact["stones"] + exact["margin"]
    assert abs(price - exact["total"]) <= rule["round_to"]


def test_the_issue_chain():
    # 18.40 g × 82.40 a gram + 18.40 g × 15.00 making = 1,516.16 + 276.00 = 1,792.16 → 1,792
    assert prices.rate_price(18_400, 750, 8240, 750, CHAIN) == 179_200
    parts = prices.rate_price_exact(18_400, 750, 8240, 750, CHAIN)
    assert parts["metal"] == Fraction(151_616) and parts["making"] == 27_600
    # from the fine rate: 109.87 a gram of fine gold is 82.4025 for 18 karat (1,792.206)
    assert prices.rate_price(18_400, 750, 10_987, 1000, {**CHAIN, "round_to": 1}) == 179_221


def test_a_rule_is_checked_in_words():
    with pytest.raises(Invalid, match="not both"):
        prices.validate_pricing({"making_per_gram": 100, "making_bp": 500})
    with pytest.raises(Invalid) as exc:
        prices.validate_pricing({"rounding": "sideways", "colour": "red"})
    assert {p.field for p in exc.value.problems} >= {"pricing.rounding", "pricing"}
    assert prices.validate_pricing({"making_bp": 1200}, prices.PricingSettings(round_to=1000)) \
        == {"making_per_gram": 0, "making_bp": 1200, "stones": 0, "margin_bp": 0,
            "round_to": 1000, "rounding": "nearest"}


def test_pricing_section_of_the_config(tmp_path):
    doc = tomllib.loads(render_config("s1", "Shop", "EUR"))
    doc["pricing"] = {"round_to": 1000, "rounding": "up", "max_rate_move_bp": 500,
                      "quote_days": 3}
    assert prices.pricing_settings(parse_config(doc, tmp_path)) == prices.PricingSettings(
        1000, "up", 500, 3)
    for bad, where in (({"rounding": "sideways"}, "pricing.rounding"),
                       ({"quote_days": 0}, "pricing.quote_days"),
                       ({"round_too": 1}, "pricing.round_too")):
        with pytest.raises(ConfigError, match=where):
            prices.pricing_settings(parse_config({**doc, "pricing": bad}, tmp_path))


async def test_a_rate_priced_piece_needs_its_metal(shop):
    with pytest.raises(Invalid) as exc:
        await shop.items.receive(chain(1, metal="steel", fineness=None), "test")
    assert {"metal", "fineness"} <= {p.field for p in exc.value.problems}


# -- rates in the books -----------------------------------------------------------------------

async def test_no_rate_is_refused_at_the_cart_then_rates_price_the_piece(shop):
    await shop.items.receive(chain(1), "test")
    with pytest.raises(Refused, match="no rate for") as no_rate:
        await shop.carts.add("R1", item_id="G-1")
    assert "no rate for gold 750: it cannot be sold" in shop.words.refusal(no_rate.value)
    applied = await shop.hq.apply(rates("m-rates-01", 8240), "sig")
    item = await shop.items.get("G-1")
    assert item["tag_price"] == 179_200
    assert item["price_rate"]["per_gram"] == 8240
    assert item["price_rate"]["message_id"] == "m-rates-01"
    assert item["price_rate_seq"] == applied.seq
    history = await shop.items.history("G-1")
    assert history[-1]["seq"] == applied.seq and history[-1]["kind"] == "hq.message"

    cart = await shop.carts.add("R1", item_id="G-1")
    line = cart["lines"][0]
    assert line["unit_price"] == 179_200 and line["rate"]["message_id"] == "m-rates-01"
    assert not line.get("stale")
    await shop.carts.add_tender("R1", {"type": "cash", "amount": 179_200})
    sale_id = await shop.carts.complete("R1", actor="test")
    sale = await shop.sales.get(sale_id)
    assert sale["lines"][0]["rate"] == line["rate"]


async def test_every_piece_follows_new_rates_and_a_rebuild_gives_the_same_rows(shop):
    await shop.hq.apply(rates("m-rates-01", 8240), "sig")
    await shop.items.receive_many([chain(n) for n in range(1, 6)], "test")
    await shop.items.receive(piece(9), "test")  # a fixed-price piece: never follows
    await shop.sales.complete(register_id="R1", actor="test", lines=[{"item_id": "G-5"}],
                              tenders=cash(179_200))
    moved = await shop.hq.apply(rates("m-rates-02", 8500), "sig")
    for n in range(1, 5):
        item = await shop.items.get(f"G-{n}")
        assert item["tag_price"] == prices.rate_price(18_400, 750, 8500, 750, CHAIN)
        assert item["price_rate_seq"] == moved.seq
    assert (await shop.items.get("G-5"))["tag_price"] == 179_200  # sold: keeps its price
    assert (await shop.items.get("P-9"))["tag_price"] == 950_000
    # a fine rate does not move a piece HQ quotes its own alloy for
    await shop.hq.apply(rates("m-rates-03", 11_300, fineness=1000), "sig")
    assert (await shop.items.get("G-1"))["price_rate_seq"] == moved.seq
    before = dump_projections(shop.config.db_path, shop.ledger.schemas)
    await shop.ledger.rebuild()
    assert dump_projections(shop.config.db_path, shop.ledger.schemas) == before
    assert (await shop.ledger.verify()).ok


async def test_a_zero_or_negative_rate_is_refused_by_the_message_check(shop):
    for bad in (0, -100):
        with pytest.raises(Invalid):
            await shop.hq.apply(rates(f"m-bad-{bad}", bad), "sig")
    assert await shop.prices.rates() == []


async def test_a_move_beyond_the_band_waits_for_a_manager(shop):
    await shop.items.receive(chain(1), "test")
    await shop.hq.apply(rates("m-rates-01", 8240), "sig")
    held = await shop.hq.apply(rates("m-rates-02", 9240), "sig")  # +12 %: beyond 10 %
    assert held.outcome == "conflict" and held.conflict == "rate_move_held"
    assert (await shop.items.get("G-1"))["tag_price"] == 179_200  # not applied
    waiting = await shop.prices.held()
    assert [h["message_id"] for h in waiting] == ["m-rates-02"]
    assert waiting[0]["rates"][0]["per_gram"] == 9240
    accepted = await shop.prices.accept("m-rates-02", actor="mona")
    item = await shop.items.get("G-1")
    assert item["tag_price"] == prices.rate_price(18_400, 750, 9240, 750, CHAIN)
    assert item["price_rate"]["message_id"] == "m-rates-02"
    assert item["price_rate_seq"] == accepted["seq"]
    assert await shop.prices.held() == []
    with pytest.raises(NotFound):
        await shop.prices.accept("m-rates-02", actor="mona")
    before = dump_projections(shop.config.db_path, shop.ledger.schemas)
    await shop.ledger.rebuild()
    assert dump_projections(shop.config.db_path, shop.ledger.schemas) == before


async def test_a_sale_past_the_rates_validity_needs_a_manager(shop):
    await shop.items.receive(chain(1), "test")
    await shop.hq.apply(rates("m-rates-01", 8240), "sig")
    shop.prices.now = lambda: NOW + timedelta(hours=9)  # 19:00: the rate ended at 18:00
    cart = await shop.carts.add("R1", item_id="G-1")
    assert cart["lines"][0]["stale"] is True
    await shop.carts.add_tender("R1", {"type": "cash", "amount": 179_200})
    with pytest.raises(ApprovalNeeded) as exc:
        await shop.carts.complete("R1", actor="test")
    assert exc.value.action["kind"] == "stale_rate"
    approval = await shop.approvals.decide(exc.value.action, "mona", "135790",
                                           requested_by="test")
    sale_id = await shop.carts.complete("R1", actor="test", approval_id=approval["approval_id"])
    assert (await shop.sales.get(sale_id))["total"] == 179_200


async def test_a_quote_locks_the_price_until_it_expires(shop):
    await shop.items.receive_many([chain(1), chain(2)], "test")
    await shop.hq.apply(rates("m-rates-01", 8240), "sig")
    quote = await shop.prices.quote("G-1", actor="test")
    assert quote["unit_price"] == 179_200 and quote["rate"]["per_gram"] == 8240
    assert quote["valid_until"] == "2026-12-09T10:00:00Z"
    await shop.hq.apply(rates("m-rates-02", 8700), "sig")  # +5.6 %: applied
    assert (await shop.items.get("G-1"))["tag_price"] > 179_200
    cart = await shop.carts.add("R1", item_id="G-1", quote_id=quote["quote_id"])
    assert cart["lines"][0]["unit_price"] == 179_200
    assert cart["lines"][0]["quote_id"] == quote["quote_id"]
    with pytest.raises(NotFound):  # a quote is of its piece
        await shop.carts.add("R2", item_id="G-2", quote_id=quote["quote_id"])
    shop.prices.now = lambda: NOW + timedelta(days=8)
    cart = await shop.carts.get("R1")
    with pytest.raises(Refused, match="was valid until"):
        await shop.carts.add("R2", item_id="G-1", quote_id=quote["quote_id"])


async def test_tags_of_moved_prices_are_listed_until_reprinted(shop):
    await shop.hq.apply(rates("m-rates-01", 8240), "sig")
    await shop.items.receive_many([chain(1), chain(2)], "test")
    assert await shop.prices.tags_to_reprint() == []
    await shop.hq.apply(rates("m-rates-02", 8500), "sig")
    listed = await shop.prices.tags_to_reprint()
    assert [t["item_id"] for t in listed] == ["G-1", "G-2"]
    assert await shop.prices.tags_printed(["G-1"], actor="test") == 1
    assert [t["item_id"] for t in await shop.prices.tags_to_reprint()] == ["G-2"]


async def test_an_edit_reprices_and_going_back_to_a_fixed_price(shop):
    await shop.hq.apply(rates("m-rates-01", 8240), "sig")
    await shop.items.receive(chain(1), "test")
    item = await shop.items.update("G-1", {"pricing": {**CHAIN, "making_per_gram": 2000}},
                                   "mona")
    assert item["tag_price"] == prices.rate_price(18_400, 750, 8240, 750,
                                                  {**CHAIN, "making_per_gram": 2000})
    item = await shop.items.update("G-1", {"pricing": None, "tag_price": 150_000}, "mona")
    assert item["pricing"] is None and item["price_rate"] is None
    assert item["tag_price"] == 150_000
