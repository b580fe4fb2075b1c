import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.money import (
    Money,
    MoneyError,
    allocate,
    check_currency,
    minor_units,
    parse_plain_amount,
    tax_included,
    tax_on_top,
)

CURRENCIES = st.sampled_from(["EUR", "JPY", "KWD", "USD", "CHF"])


@given(st.integers(-10**15, 10**15), CURRENCIES)
def test_plain_decimal_round_trips_exactly(amount, currency):
    digits = minor_units(currency)
    sign, whole, frac = "-" if amount < 0 else "", *divmod(abs(amount), 10**digits)
    text = f"{sign}{whole}" + (f".{frac:0{digits}d}" if digits else "")
    assert parse_plain_amount(text, currency) == amount


@given(st.integers(-10**12, 10**12), st.lists(st.integers(0, 10**9), min_size=1, max_size=30))
def test_allocate_sums_exactly_and_is_proportional(total, weights):
    parts = allocate(total, weights)
    assert sum(parts) == total
    wsum = sum(weights)
    if wsum:
        for part, weight in zip(parts, weights, strict=True):
            exact = abs(total) * weight / wsum
            assert abs(abs(part) - exact) < 1 + 1e-9


@given(st.integers(0, 10**12), st.integers(0, 10_000))
def test_tax_included_splits_gross_into_net_plus_tax(gross, rate_bp):
    tax = tax_included(gross, rate_bp)
    net = gross - tax
    assert 0 <= tax <= gross
    # Adding the tax back on top of the net lands within one minor unit of the gross.
    assert abs(net + tax_on_top(net, rate_bp) - gross) <= 1


def test_currency_digits_and_codes_come_from_cldr():
    assert [minor_units(c) for c in ("EUR", "JPY", "KWD", "CHF")] == [2, 0, 3, 2]
    for gone in ("FRF", "DEM", "EUX", "eur", ""):
        with pytest.raises(MoneyError, match="not an active ISO 4217 code"):
            check_currency(gone)


def test_unknown_currency_and_floats_are_refused():
    with pytest.raises(MoneyError, match="unknown currency “EUX”"):
        minor_units("EUX")
    with pytest.raises(MoneyError, match="integer in minor units"):
        Money(12.5, "EUR")  # type: ignore[arg-type]
    with pytest.raises(MoneyError, match="more decimals than JPY allows"):
        parse_plain_amount("10.5", "JPY")
    with pytest.raises(MoneyError, match="cannot combine EUR"):
        Money(1, "EUR") + Money(1, "USD")
    assert parse_plain_amount("1,234.5", "EUR") == 123450
