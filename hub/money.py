"""Money: integers in minor units with an ISO 4217 currency. No floats, ever."""

from __future__ import annotations

from dataclasses import dataclass

# Active ISO 4217 codes with their minor-unit exponent (ISO 4217 list, 2024 edition).
_MINOR_UNITS = {
    "AED": 2, "AFN": 2, "ALL": 2, "AMD": 2, "AOA": 2, "ARS": 2, "AUD": 2, "AWG": 2, "AZN": 2,
    "BAM": 2, "BBD": 2, "BDT": 2, "BHD": 3, "BIF": 0, "BMD": 2, "BND": 2, "BOB": 2, "BRL": 2,
    "BSD": 2, "BTN": 2, "BWP": 2, "BYN": 2, "BZD": 2, "CAD": 2, "CDF": 2, "CHF": 2, "CLP": 0,
    "CNY": 2, "COP": 2, "CRC": 2, "CUP": 2, "CVE": 2, "CZK": 2, "DJF": 0, "DKK": 2, "DOP": 2,
    "DZD": 2, "EGP": 2, "ERN": 2, "ETB": 2, "EUR": 2, "FJD": 2, "FKP": 2, "GBP": 2, "GEL": 2,
    "GHS": 2, "GIP": 2, "GMD": 2, "GNF": 0, "GTQ": 2, "GYD": 2, "HKD": 2, "HNL": 2, "HTG": 2,
    "HUF": 2, "IDR": 2, "ILS": 2, "INR": 2, "IQD": 3, "IRR": 2, "ISK": 0, "JMD": 2, "JOD": 3,
    "JPY": 0, "KES": 2, "KGS": 2, "KHR": 2, "KMF": 0, "KPW": 2, "KRW": 0, "KWD": 3, "KYD": 2,
    "KZT": 2, "LAK": 2, "LBP": 2, "LKR": 2, "LRD": 2, "LSL": 2, "LYD": 3, "MAD": 2, "MDL": 2,
    "MGA": 2, "MKD": 2, "MMK": 2, "MNT": 2, "MOP": 2, "MRU": 2, "MUR": 2, "MVR": 2, "MWK": 2,
    "MXN": 2, "MYR": 2, "MZN": 2, "NAD": 2, "NGN": 2, "NIO": 2, "NOK": 2, "NPR": 2, "NZD": 2,
    "OMR": 3, "PAB": 2, "PEN": 2, "PGK": 2, "PHP": 2, "PKR": 2, "PLN": 2, "PYG": 0, "QAR": 2,
    "RON": 2, "RSD": 2, "RUB": 2, "RWF": 0, "SAR": 2, "SBD": 2, "SCR": 2, "SDG": 2, "SEK": 2,
    "SGD": 2, "SHP": 2, "SLE": 2, "SOS": 2, "SRD": 2, "SSP": 2, "STN": 2, "SYP": 2, "SZL": 2,
    "THB": 2, "TJS": 2, "TMT": 2, "TND": 3, "TOP": 2, "TRY": 2, "TTD": 2, "TWD": 2, "TZS": 2,
    "UAH": 2, "UGX": 0, "USD": 2, "UYU": 2, "UZS": 2, "VES": 2, "VND": 0, "VUV": 0, "WST": 2,
    "XAF": 0, "XCD": 2, "XOF": 0, "XPF": 0, "YER": 2, "ZAR": 2, "ZMW": 2, "ZWG": 2,
}


class MoneyError(ValueError):
    """An amount or currency that cannot be money."""


def minor_units(currency: str) -> int:
    """Digits after the decimal point for `currency` (EUR 2, JPY 0, KWD 3)."""
    try:
        return _MINOR_UNITS[currency]
    except (KeyError, TypeError):
        raise MoneyError(f"unknown currency {currency!r}: not an active ISO 4217 code") from None


def check_currency(currency: object) -> str:
    if not isinstance(currency, str):
        raise MoneyError(f"currency must be a 3-letter ISO 4217 code, got {currency!r}")
    minor_units(currency)
    return currency


def check_amount(amount: object, what: str = "amount", *, allow_negative: bool = False) -> int:
    """An integer number of minor units; bools and floats are refused, not coerced."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise MoneyError(f"{what} must be an integer in minor units, got {amount!r}")
    if amount < 0 and not allow_negative:
        raise MoneyError(f"{what} must not be negative, got {amount}")
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
            raise MoneyError(f"cannot combine {self.currency} with {other!r}")

    def format(self) -> str:
        return format_amount(self.amount, self.currency)


def format_amount(amount: int, currency: str) -> str:
    """`123456, "EUR"` -> `1,234.56 EUR` (display only; never parsed back)."""
    digits = minor_units(currency)
    sign = "-" if amount < 0 else ""
    whole, frac = divmod(abs(amount), 10**digits) if digits else (abs(amount), 0)
    text = f"{whole:,}"
    if digits:
        text += f".{frac:0{digits}d}"
    return f"{sign}{text} {currency}"


def parse_amount(text: str, currency: str) -> int:
    """Parse a decimal string such as `1234.5` into minor units, exactly (no float)."""
    digits = minor_units(currency)
    raw = text.strip().replace(",", "").replace("_", "")
    neg = raw.startswith("-")
    if neg:
        raw = raw[1:]
    whole, _, frac = raw.partition(".")
    if not whole and not frac:
        raise MoneyError(f"not an amount: {text!r}")
    if not (whole or "0").isdigit() or (frac and not frac.isdigit()):
        raise MoneyError(f"not an amount: {text!r}")
    if len(frac) > digits:
        raise MoneyError(f"{text!r} has more decimals than {currency} allows ({digits})")
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
