"""Money: integers in minor units with an ISO 4217 currency. No floats, ever.

Which codes are current and how many digits each has after the decimal point come from CLDR
(Babel), like every other number the hub shows; how an amount is written for a person is
`hub.words`'s business, not this module's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from babel.core import get_global
from babel.numbers import get_currency_precision


def _active_currencies() -> frozenset[str]:
    """Codes some territory tenders today, from CLDR's territory data (Babel)."""
    active = set()
    for currencies in get_global("territory_currencies").values():
        for code, _start, end, tender in currencies:
            if end is None and tender:
                active.add(code)
    return frozenset(active)


_ACTIVE = _active_currencies()


# The largest amount a price or tender may be, in minor units (10 billion euros): far above
# any jewel, and low enough that 200 lines of 10,000 each still fit SQLite's 64-bit integers.
MAX_AMOUNT = 10**12


class MoneyError(ValueError):
    """An amount or currency that cannot be money. Like a refusal (`hub.core.errors`), it
    keeps its message template and values apart so a screen can say it in the store's
    language."""

    code = "invalid_amount"
    field: str | None = None
    problems: list[Any] = []

    def __init__(self, message: str, **params: Any) -> None:
        self.message = message
        self.params = params
        super().__init__(message.format(**{k: str(v) for k, v in params.items()}))


def minor_units(currency: str) -> int:
    """Digits after the decimal point for `currency` (EUR 2, JPY 0, KWD 3)."""
    if not isinstance(currency, str) or currency not in _ACTIVE:
        raise MoneyError("unknown currency “{currency}”: not an active ISO 4217 code",
                         currency=str(currency)[:12])
    return get_currency_precision(currency)


def check_currency(currency: object) -> str:
    if not isinstance(currency, str):
        raise MoneyError("a currency is a 3-letter ISO 4217 code such as EUR")
    minor_units(currency)
    return currency


def check_amount(amount: object, what: str = "amount", *, allow_negative: bool = False) -> int:
    """An integer number of minor units; bools and floats are refused, not coerced."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise MoneyError("{what} must be an integer in minor units", what=what)
    if amount < 0 and not allow_negative:
        raise MoneyError("{what} must not be negative", what=what)
    return amount


@dataclass(frozen=True, slots=True)
class Money:
    amount: int
    currency: str

    def __post_init__(self) -> None:
        check_amount(self.amount, allow_negative=True)
        check_currency(self.currency)

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money) or other.currency != self.currency:
            raise MoneyError("cannot combine {currency} with another currency",
                             currency=self.currency)


def parse_plain_amount(text: str, currency: str) -> int:
    """A plain decimal such as `1234.5` (what spreadsheets and scripts write; `,` and `_`
    as thousands marks are tolerated) into minor units, exactly (no float)."""
    digits = minor_units(currency)
    raw = text.strip().replace(",", "").replace("_", "")
    neg = raw.startswith("-")
    if neg:
        raw = raw[1:]
    whole, _, frac = raw.partition(".")
    if not whole and not frac:
        raise MoneyError("“{text}” is not an amount", text=text.strip()[:40])
    if not (whole or "0").isdigit() or (frac and not frac.isdigit()) \
            or not (whole + frac).isascii():
        raise MoneyError("“{text}” is not an amount", text=text.strip()[:40])
    if len(frac) > digits:
        raise MoneyError("“{text}” has more decimals than {currency} allows ({digits})",
                         text=text.strip()[:40], currency=currency, digits=digits)
    value = int(whole or "0") * 10**digits + int((frac or "0").ljust(digits, "0") or "0")
    return -value if neg else value


def round_half_up_div(numerator: int, denominator: int) -> int:
    """Integer division rounding half away from zero (commercial rounding)."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    q, r = divmod(abs(numerator), denominator)
    if 2 * r >= denominator:
        q += 1
    return q if numerator >= 0 else -q


def tax_included(gross: int, rate_bp: int) -> int:
    """Tax contained in a tax-inclusive `gross` at `rate_bp` basis points (2000 = 20 %)."""
    return round_half_up_div(gross * rate_bp, 10_000 + rate_bp)


def tax_on_top(net: int, rate_bp: int) -> int:
    """Tax to add to a tax-exclusive `net` at `rate_bp` basis points."""
    return round_half_up_div(net * rate_bp, 10_000)


def allocate(total: int, weights: list[int]) -> list[int]:
    """Split `total` in proportion to `weights` so the parts sum exactly to `total`.

    Used to spread a sale-level discount over its lines (largest remainder method).
    """
    if not weights:
        return []
    wsum = sum(weights)
    if wsum == 0:
        parts = [0] * len(weights)
        parts[0] = total
        return parts
    sign = -1 if total < 0 else 1
    t = abs(total)
    raw = [t * w for w in weights]
    parts = [r // wsum for r in raw]
    remainders = sorted(range(len(weights)), key=lambda i: (-(raw[i] % wsum), i))
    for i in remainders[: t - sum(parts)]:
        parts[i] += 1
    return [sign * p for p in parts]
