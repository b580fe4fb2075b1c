"""Foreign currency tenders: HQ's rates (exact, validated, a move beyond the band held for a
manager), the conversion (exact, rounded down once, change in the home currency), the cart's
and the sale's checks (a stale rate, a rate changed between cart and sale, a forged amount),
the receipt, and the Z report's count per currency."""

from __future__ import annotations

import asyncio
import tempfile
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from builders import piece
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.core.errors import Invalid, Refused
from hub.money import minor_units
from hub.receipts import build_receipt, receipt_settings
from hub.store import Store, init_store
from hub.travel.exchange import (
    Exchange,
    ExchangeSettings,
    applied_rate,
    check_rates,
    convert,
    decimal_text,
    move_bp,
    parse_rate,
)
from hub.travel.service import travel_of

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def rates_body(*rates: tuple[str, str], start: datetime = T0 - timedelta(hours=1),
               hours: int = 24) -> dict[str, Any]:
    return {"rates": [{"currency": c, "rate": r, "valid_from": start.isoformat(),
                       "valid_until": (start + timedelta(hours=hours)).isoformat()}
                      for c, r in rates]}


_n = iter(range(1, 10_000))


async def push(store, body: dict[str, Any]) -> Any:
    return await store.hq.apply({"id": f"fx-{next(_n)}", "type": "exchange_rates",
                                 "body": body}, "sig")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def fx(store, clock):
    exchange = Exchange(store, ExchangeSettings(spread_bp=300, max_move_bp=500), now=clock)
    with travel_of(store, exchange=exchange) as travel:
        await store.items.receive_many([piece(n, tag_price=100_000 * n) for n in range(1, 6)],
                                       actor="test")
        yield travel.exchange


# -- the arithmetic -------------------------------------------------------------------------

rate_texts = st.builds(lambda whole, frac, places: f"{whole}.{str(frac).rjust(places, '0')}",
                       st.integers(0, 999), st.integers(0, 999_999), st.integers(6, 6)).filter(
    lambda t: Fraction(t) > 0)
currencies = st.sampled_from(["USD", "GBP", "CHF", "JPY", "CNY", "KWD"])


@settings(max_examples=300)
@given(rate_texts, st.integers(0, 5000), st.integers(1, 10**10), currencies,
       st.sampled_from(["EUR", "JPY", "BHD"]))
def test_conversion_is_exact_rounded_down_once(text, spread, amount, foreign, home):
    rate = parse_rate(text)
    assert rate == Fraction(text)  # exact: no float anywhere
    applied = applied_rate(rate, spread)
    home_amount = convert(amount, foreign, home, applied)
    exact = Fraction(amount, 10 ** minor_units(foreign)) * applied * 10 ** minor_units(home)
    assert home_amount <= exact < home_amount + 1  # down, by less than one minor unit
    assert convert(amount, foreign, home, applied) == home_amount  # same inputs, same amount
    assert Fraction(decimal_text(applied)) == applied  # the rate kept is the rate applied
    assert len(decimal_text(applied).partition(".")[2]) <= 10  # never reads as a card number


@given(rate_texts, rate_texts)
def test_move_is_never_under_read(a, b):
    moved = move_bp(Fraction(a), Fraction(b))
    assert moved >= abs(Fraction(b) - Fraction(a)) / Fraction(a) * 10_000 > moved - 1


def test_rates_message_is_checked_whole():
    with pytest.raises(Invalid) as exc:
        check_rates({"rates": [
            {"currency": "EUR", "rate": "1", "valid_from": T0.isoformat(),
             "valid_until": (T0 + timedelta(hours=1)).isoformat()},
            {"currency": "XXQ", "rate": "0.9", "valid_from": T0.isoformat(),
             "valid_until": T0.isoformat()},
            {"currency": "USD", "rate": "1e3", "valid_from": "today", "valid_until": "x"},
            {"currency": "GBP", "rate": 1.17, "valid_from": T0.isoformat(),
             "valid_until": (T0 + timedelta(hours=1)).isoformat()},
            {"currency": "CHF", "rate": "0.000000", "valid_from": T0.isoformat(),
             "valid_until": (T0 + timedelta(hours=1)).isoformat()}]}, "EUR")
    fields = {p.field for p in exc.value.problems}
    assert {"rates[0].currency", "rates[1].currency", "rates[1].valid_until", "rates[2].rate",
            "rates[2].valid_from", "rates[3].rate", "rates[4].rate"} <= fields


# -- rates from HQ ------------------------------------------------------------------------

async def test_rates_applied_then_a_move_beyond_the_band_is_held(store, fx):
    await push(store, rates_body(("USD", "0.9215"), ("GBP", "1.1700")))
    rates = {r["currency"]: r for r in await fx.rates()}
    assert rates["USD"]["rate"] == "0.9215" and rates["USD"]["applied"] == "0.893855"
    assert rates["USD"]["valid"]
    # +2 % applies; +8 % waits for a manager and the rate in force stays.
    await push(store, rates_body(("USD", "0.9400"), ("GBP", "1.2636")))
    rates = {r["currency"]: r for r in await fx.rates()}
    assert rates["USD"]["rate"] == "0.94" and rates["GBP"]["rate"] == "1.17"
    held = await fx.held()
    assert [(h["currency"], h["rate"], h["move_bp"]) for h in held] == [("GBP", "1.2636", 800)]
    done = await fx.accept(held[0]["seq"], "GBP", actor="marc")
    assert {r["currency"]: r["rate"] for r in await fx.rates()}["GBP"] == "1.2636"
    assert done["rate_ref"] == f"GBP@{done['seq']}"
    with pytest.raises(Refused) as exc:
        await fx.accept(held[0]["seq"], "GBP", actor="marc")
    assert exc.value.code == "not_held"
    assert await fx.held() == []


async def test_a_rate_the_store_does_not_take_and_a_stale_rate_are_refused(store, fx, clock):
    with pytest.raises(Refused) as exc:
        await fx.quote("USD", 10_000)
    assert exc.value.code == "no_rate"
    with pytest.raises(Refused) as exc:
        await fx.quote("EUR", 10_000)
    assert exc.value.code == "currency_not_taken"
    await push(store, rates_body(("USD", "0.9215"), hours=2))
    assert (await fx.quote("USD", 50_000))["amount"] == 44_692  # 500 × 0.893855 = 446.9275
    clock.now = T0 + timedelta(hours=1, minutes=1)
    with pytest.raises(Refused) as exc:
        await fx.quote("USD", 50_000)
    assert exc.value.code == "stale_rate" and "not valid now" in str(exc.value)


# -- at the counter -----------------------------------------------------------------------

async def test_half_in_dollars_change_in_euros_receipt_adds_up(store, fx):
    await push(store, rates_body(("USD", "0.9215"), ("JPY", "0.006123")))
    await store.carts.add("R1", item_id="P-3", by="anna")  # 3,000.00
    cart = await fx.take("R1", {"currency": "USD", "foreign_amount": "1,700.00"}, by="anna")
    usd = cart["tenders"][0]
    assert usd["amount"] == 151_955 and usd["detail"] == {  # 1700 × 0.893855 = 1519.5535
        "currency": "USD", "foreign_amount": "170000", "rate": "0.893855", "rate_ref":
        usd["detail"]["rate_ref"]}
    cart = await fx.take("R1", {"currency": "JPY", "foreign_amount": 250_000}, by="anna")
    assert cart["tenders"][1]["amount"] == 148_482  # 250000 × 0.00593931 = 1484.8275
    await store.carts.add_tender("R1", {"type": "cash", "amount": 10_000}, by="anna")
    sale_id = await store.carts.complete("R1", actor="anna")
    sale = await store.sales.get(sale_id)
    change = sum(t["amount"] for t in sale["tenders"]) - sale["total"]
    assert change == sale["change"] == 10_437  # in euros, whatever she paid with
    receipt = build_receipt(sale, {}, receipt_settings(store.config))
    text = "\n".join(b.text + " " + b.right for b in receipt.blocks)
    assert "US$1,700.00 at 1 USD = 0.893855 EUR" in text
    assert "¥250,000 at 1 JPY = 0.00593931 EUR" in text
    assert "Change given €104.37" in text
    # Z report: each currency counted in its own money.
    section = await fx.taken_between(0, 10**9)
    got = {r["currency"]: (r["taken"], r["home_taken"], r["count"]) for r in
           section["currencies"]}
    assert got == {"USD": (170_000, 151_955, 1), "JPY": (250_000, 148_482, 1)}


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 200_000), min_size=1, max_size=4))
def test_tenders_and_change_always_add_up(amounts):
    """Whatever dollars she hands over, the sale's tenders less the change are its total,
    and the change is in euros (the home currency)."""
    async def run() -> None:
        config = init_store(Path(tempfile.mkdtemp()) / "s", "paris-01", "Maison", "EUR")
        async with await Store.open(config) as store:
            exchange = Exchange(store, ExchangeSettings(), now=Clock())
            with travel_of(store, exchange=exchange):
                await store.items.receive_many([piece(1, tag_price=50_000)], actor="t")
                await push(store, rates_body(("USD", "0.9215")))
                await store.carts.add("R1", item_id="P-1", by="a")
                for a in amounts:
                    try:
                        await exchange.take("R1", {"currency": "USD", "foreign_amount": a},
                                            by="a")
                    except Refused:
                        break  # nothing is due any more: the cart says so
                cart = await store.carts.get("R1")
                paid = sum(t["amount"] for t in cart["tenders"])
                if paid < cart["total"]:
                    await store.carts.add_tender("R1", {"type": "cash",
                                                        "amount": cart["total"] - paid}, by="a")
                sale = await store.sales.get(await store.carts.complete("R1", actor="a"))
                assert sum(t["amount"] for t in sale["tenders"]) - sale["change"] == \
                    sale["total"]
                assert sale["change"] >= 0 and sale["currency"] == "EUR"
    asyncio.run(run())  # a property test makes its own store and loop per example


async def test_the_rate_changed_between_cart_and_sale(store, fx):
    await push(store, rates_body(("USD", "0.9215")))
    await store.carts.add("R1", item_id="P-1", by="anna")
    await fx.take("R1", {"currency": "USD", "foreign_amount": "1200"}, by="anna")
    await push(store, rates_body(("USD", "0.9300")))  # inside the band: in force at once
    with pytest.raises(Refused) as exc:
        await store.carts.complete("R1", actor="anna")
    assert exc.value.code == "rate_changed"
    assert await store.sales.recent() == []  # nothing of the sale was written


async def test_a_forged_amount_is_refused_by_the_cart_and_by_the_sale(store, fx):
    await push(store, rates_body(("USD", "0.9215")))
    ref = (await fx.quote("USD", 100_000))["rate_ref"]
    forged = {"type": "cash", "amount": 100_000, "currency": "USD", "foreign_amount": "100000",
              "rate": "0.99", "rate_ref": ref}
    await store.carts.add("R1", item_id="P-1", by="anna")
    with pytest.raises(Refused) as exc:
        await store.carts.add_tender("R1", forged, by="anna")
    assert exc.value.code == "foreign_amount_mismatch"
    with pytest.raises(Refused) as exc:  # straight to the sale: its transaction checks again
        await store.sales.complete(register_id="R1", actor="anna",
                                   lines=[{"item_id": "P-1"}], tenders=[forged])
    assert exc.value.code == "foreign_amount_mismatch"
    with pytest.raises(Refused):
        await store.carts.add_tender("R1", {"type": "cash", "amount": 1000,
                                            "currency": "USD"}, by="anna")
    assert await store.sales.recent() == []


async def test_a_void_gives_the_dollars_back_in_the_z_report(store, fx):
    await push(store, rates_body(("USD", "0.9215")))
    await store.carts.add("R1", item_id="P-1", by="anna")
    await fx.take("R1", {"currency": "USD", "foreign_amount": "2000"}, by="anna")
    sale_id = await store.carts.complete("R1", actor="anna")
    await store.sales.void(sale_id, register_id="R1", actor="marc", reason="wrong piece")
    usd = (await fx.taken_between(0, 10**9))["currencies"][0]
    assert (usd["taken"], usd["given_back"], usd["net"]) == (200_000, 200_000, 0)
    report = await store.closures.report()
    assert report["totals"]["exchange"]["currencies"][0]["net"] == 0
