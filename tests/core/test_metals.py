"""hub/core/metals.py: karats and finenesses, the troy ounce, a metal's value and the one
rounding of a computed price."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.core import metals
from hub.core.errors import Invalid

steps = st.sampled_from([1, 5, 10, 50, 100, 1000])
modes = st.sampled_from(metals.ROUNDING)


def test_karats_and_their_hallmarks_go_both_ways():
    for karat, fineness in metals.KARAT_FINENESS.items():
        assert metals.fineness_of_karat(karat) == fineness
        assert metals.karat_of(fineness) == karat
    assert metals.fineness_of_karat(18) == 750
    assert metals.karat_of(925) is None
    assert metals.exact_karat_fineness(14) == Fraction(1750, 3)  # 583⅓, marked 585
    with pytest.raises(Invalid, match="not a hallmarked gold"):
        metals.fineness_of_karat(13)


def test_fineness_checks_in_words():
    assert metals.check_fineness(750, metal="gold") == 750
    assert metals.check_fineness(583, metal="gold", any_fineness=True) == 583
    for bad, why in ((0, "between 1 and 1000"), (1001, "between 1 and 1000"),
                     ("750", "whole number"), (True, "whole number")):
        with pytest.raises(Invalid, match=why):
            metals.check_fineness(bad)
    with pytest.raises(Invalid, match="not a hallmark of gold"):
        metals.check_fineness(583, metal="gold")


def test_the_troy_ounce_is_exact():
    assert metals.TROY_OUNCE_MG == Fraction(311034768, 10000)
    assert metals.per_gram_from_troy_ounce(metals.TROY_OUNCE_MG / 1000) == 1
    assert metals.per_troy_ounce_from_gram(1) * 1000 == metals.TROY_OUNCE_MG


@given(st.integers(1, 10**9))
def test_ounce_and_gram_rates_convert_back_exactly(per_ounce):
    per_gram = metals.per_gram_from_troy_ounce(per_ounce)
    assert metals.per_troy_ounce_from_gram(per_gram) == per_ounce


@given(st.integers(0, 10**8), st.integers(1, 1000), st.integers(1, 10**7))
def test_a_fine_rate_prices_any_alloy_by_its_fine_metal(weight, fineness, fine_rate):
    # weight of alloy at the fine rate scaled == its fine weight at the fine rate
    by_alloy = metals.metal_value(weight, fineness, fine_rate, 1000)
    by_fine = metals.fine_weight_mg(weight, fineness) / 1000 * fine_rate
    assert by_alloy == by_fine
    assert metals.metal_value(weight, fineness, fine_rate) == Fraction(weight * fine_rate, 1000)


@given(st.fractions(min_value=-10**9, max_value=10**9), steps, modes)
def test_rounding_lands_on_the_step_and_in_the_right_direction(amount, step, mode):
    rounded = metals.round_amount(amount, step, mode)
    assert rounded % step == 0
    assert abs(rounded - amount) < step if mode != "nearest" else abs(rounded - amount) <= Fraction(step, 2)
    if mode == "up":
        assert rounded >= amount
    if mode == "down":
        assert rounded <= amount
    assert metals.round_amount(amount, step, mode) == rounded  # the same, every time


@given(st.integers(-10**12, 10**12), st.integers(1, 10**6), steps, modes)
def test_integer_rounding_is_the_fraction_rounding(num, den, step, mode):
    assert metals.round_ratio(num, den, step, mode) == metals.round_amount(
        Fraction(num, den), step, mode)


def test_half_rounds_away_from_zero_like_all_money():
    assert metals.round_amount(Fraction(5, 2)) == 3
    assert metals.round_amount(Fraction(-5, 2)) == -3
    assert metals.round_amount(150, 100) == 200
    with pytest.raises(ValueError):
        metals.round_amount(1, 0)
    with pytest.raises(ValueError):
        metals.round_amount(1, 1, "sideways")
