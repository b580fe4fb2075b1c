"""Precious metal arithmetic in one place: fineness (parts per thousand, ‰), karats, the troy
ounce, a weight's fine metal, and what it is worth at a rate. Pricing by the gram, quotes,
buying gold and the reports all use these, so a gram is a gram everywhere.

Weights are integers in milligrams; fineness is an integer in ‰ (750 is 18 karat gold);
money is integers in minor units. Everything in between is an exact `Fraction`: rounding
happens once, at the end, by the caller's rule (`round_amount`).

A metal rate (HQ's `rates` message, the `hq_rates` projection) is minor units per gram of
the alloy at its fineness: `gold:750:8240` is 82.40 a gram of 18 karat gold; a rate at
fineness 1000 is the fine (spot) rate, from which any other alloy follows by its fineness.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from hub.core.errors import Invalid
from hub.money import round_half_up_div

# The troy ounce, in which bullion is quoted: exactly 31.1034768 g.
TROY_OUNCE_MG = Fraction("31103.4768")
MG_PER_GRAM = 1000
PER_MILLE = 1000

# Hallmarked finenesses, by metal (the values a jeweler types; others are refused as typos
# unless `any_fineness` is asked for, e.g. a tested scrap lot at 583).
FINENESSES: dict[str, tuple[int, ...]] = {
    "gold": (333, 375, 417, 500, 585, 750, 833, 875, 900, 916, 958, 990, 995, 999, 1000),
    "platinum": (850, 900, 950, 999, 1000),
    "palladium": (500, 950, 999, 1000),
    "silver": (800, 830, 835, 900, 925, 935, 958, 970, 999, 1000),
}
# Karat to its hallmark fineness: 14 karat is marked 585 (not 583.3), 22 is 916.
KARAT_FINENESS = {8: 333, 9: 375, 10: 417, 12: 500, 14: 585, 18: 750, 20: 833, 21: 875,
                  22: 916, 23: 958, 24: 999}


def karat_of(fineness: int) -> int | None:
    """The karat a gold fineness is marked as (750 → 18), or None for one no karat names."""
    for karat, value in KARAT_FINENESS.items():
        if value == fineness:
            return karat
    return None


def fineness_of_karat(karat: int) -> int:
    """The hallmark fineness of a karat (18 → 750); refused for a karat no hallmark uses."""
    if karat not in KARAT_FINENESS:
        raise Invalid("{karat} karat is not a hallmarked gold: use one of {known}", "karat",
                      karat=karat, known=", ".join(map(str, KARAT_FINENESS)))
    return KARAT_FINENESS[karat]


def exact_karat_fineness(karat: int) -> Fraction:
    """The fineness a karat means arithmetically (14 karat = 583⅓ ‰), for a tested lot."""
    return Fraction(karat * PER_MILLE, 24)


def check_fineness(value: Any, field: str = "fineness", *, metal: str | None = None,
                   any_fineness: bool = False) -> int:
    """A fineness in ‰ as typed: a whole number from 1 to 1000; for a known metal, one of its
    hallmarks unless `any_fineness` (an assayed lot)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid("a fineness is a whole number of thousandths, such as 750", field)
    if not 1 <= value <= PER_MILLE:
        raise Invalid("a fineness is between 1 and 1000 thousandths", field)
    marks = FINENESSES.get(metal or "")
    if marks and not any_fineness and value not in marks:
        raise Invalid("{value} is not a hallmark of {metal}: use one of {known}", field,
                      value=value, metal=metal, known=", ".join(map(str, marks)))
    return value


def fine_weight_mg(weight_mg: int, fineness: int) -> Fraction:
    """The pure metal in a weight of alloy, in mg."""
    return Fraction(weight_mg * fineness, PER_MILLE)


def per_gram_of_alloy(per_gram: int | Fraction, rate_fineness: int,
                      fineness: int) -> Fraction:
    """A rate quoted for one fineness, turned into one for another: a rate is per gram of
    alloy, so the fine metal in a gram decides (the fine rate 1000 × 750/1000 for 18 karat)."""
    return Fraction(per_gram) * fineness / rate_fineness


def metal_value(weight_mg: int, fineness: int, per_gram: int | Fraction,
                rate_fineness: int | None = None) -> Fraction:
    """What `weight_mg` of alloy at `fineness` is worth at a rate of `per_gram` minor units a
    gram of alloy at `rate_fineness` (the same fineness when not given)."""
    rate = Fraction(per_gram) if rate_fineness in (None, fineness) else per_gram_of_alloy(
        per_gram, rate_fineness, fineness)
    return Fraction(weight_mg, MG_PER_GRAM) * rate


def per_gram_from_troy_ounce(per_ounce: int | Fraction) -> Fraction:
    """A price per troy ounce (how bullion is quoted) as a price per gram."""
    return Fraction(per_ounce) * MG_PER_GRAM / TROY_OUNCE_MG


def per_troy_ounce_from_gram(per_gram: int | Fraction) -> Fraction:
    return Fraction(per_gram) * TROY_OUNCE_MG / MG_PER_GRAM


ROUNDING = ("nearest", "up", "down")


def round_amount(amount: Fraction | int, step: int = 1, mode: str = "nearest") -> int:
    """An exact amount to a whole number of `step` minor units (100: whole euros): `nearest`
    rounds half up, `up` never under, `down` never over. The one rounding of a computed
    price; the same inputs always give the same amount."""
    exact = Fraction(amount)
    return round_ratio(exact.numerator, exact.denominator, step, mode)


def round_ratio(numerator: int, denominator: int, step: int = 1, mode: str = "nearest") -> int:
    """`round_amount` of numerator/denominator (denominator > 0) in integers only: the
    re-pricing of a whole stock after new rates makes no Fraction per piece."""
    if step < 1:
        raise ValueError("a rounding step is at least one minor unit")
    if mode not in ROUNDING:
        raise ValueError(f"rounding is one of {ROUNDING}, not {mode}")
    den = denominator * step
    if mode == "up":
        whole = -((-numerator) // den)
    elif mode == "down":
        whole = numerator // den
    else:  # half away from zero, as every other rounding of money (hub.money)
        whole = round_half_up_div(numerator, den)
    return whole * step
