"""The one field module: every value that crosses a boundary (a form, a query string, a CSV
row, an HQ message, a CLI argument) is checked here, with the same rules and the same words.

Single values: `text`, `identifier`, `whole`, `amount`, `choice`, `boolean`, `day`, `texts`.
Each returns the clean value or raises `Invalid` naming its field. A whole input object goes
through a `Form`, which reads field by field, keeps every problem, and raises them together at
`done()` (`Invalid.many`), so a person sees all the errors of a form at once, each beside its
field, and nothing is written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from typing import Any, TypeVar

from hub.core.errors import Invalid
from hub.money import MAX_AMOUNT, MoneyError, check_amount
from hub.words import Listing, Term

T = TypeVar("T")

TEXT_MAX = 500
# A short id a person or the hub made: staff ids, register ids, serials, approval ids.
ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,59}$")
_ALLOWED_CONTROL = "\t"


def _absent(value: Any, field: str | None, required: bool) -> bool:
    """Nothing given: fine, or "this is required"."""
    if value is None or value == "":
        if required:
            raise Invalid("this is required", field)
        return True
    return False


def text(value: Any, field: str | None, *, required: bool = False, max_len: int = TEXT_MAX,
         multiline: bool = False) -> str | None:
    """Trimmed text without control characters (newlines only where `multiline`)."""
    if _absent(value, field, required):
        return None
    if not isinstance(value, str):
        raise Invalid("this must be text", field)
    value = value.strip()
    if len(value) > max_len:
        raise Invalid("this is longer than {max} characters", field, max=max_len)
    allowed = _ALLOWED_CONTROL + ("\n\r" if multiline else "")
    if any((ord(ch) < 32 or ord(ch) == 127) and ch not in allowed for ch in value):
        raise Invalid("this must not contain control characters", field)
    if not value:
        if required:
            raise Invalid("this is required", field)
        return None
    return value


def identifier(value: Any, field: str | None, *, required: bool = True,
               pattern: re.Pattern[str] = ID, what: str = "an id") -> str | None:
    """An id string: a list, an object or a number where an id belongs is refused."""
    if _absent(value, field, required):
        return None
    if not isinstance(value, str) or not pattern.match(value):
        raise Invalid("this is not {what}", field, what=what)
    return value


_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def whole(value: Any, field: str | None, *, lo: int | None = None, hi: int | None = None,
          required: bool = False, from_text: bool = False) -> int | None:
    """A whole number (bools and floats refused); `from_text` reads one from a query string."""
    if _absent(value, field, required):
        return None
    if from_text and isinstance(value, str):
        raw = value.strip()
        if not raw.isascii() or not raw.lstrip("-").isdigit() or len(raw) > 16:
            raise Invalid("this must be a whole number", field)
        value = int(raw)
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid("this must be a whole number", field)
    # Past SQLite's 64 bits no row has the number: a clean refusal, not an OverflowError.
    lo = _INT64_MIN if lo is None else max(lo, _INT64_MIN)
    hi = _INT64_MAX if hi is None else min(hi, _INT64_MAX)
    if value < lo:
        raise Invalid("this must be at least {lo}", field, lo=lo)
    if value > hi:
        raise Invalid("this must be at most {hi}", field, hi=hi)
    return value


def amount(value: Any, field: str | None, *, required: bool = False,
           hi: int | None = None, from_text: bool = False) -> int | None:
    """An amount in minor units, not negative (the API speaks integers; screens parse what
    a person types with `Words.parse_amount` before they send it)."""
    if _absent(value, field, required):
        return None
    if from_text and isinstance(value, str):
        value = whole(value, field, lo=0, from_text=True)
    try:
        check_amount(value, "amount")
    except MoneyError:
        raise Invalid("this must be an amount in minor units (a whole number)", field) from None
    if value < 0:
        raise Invalid("this must not be negative", field)
    if value > MAX_AMOUNT or (hi is not None and value > hi):
        raise Invalid("this is more than the store allows", field)
    return value


def choice(value: Any, field: str | None, choices: Iterable[str], *, required: bool = False,
           vocabulary: str | None = None, lower: bool = True) -> str | None:
    choices = tuple(choices)
    if _absent(value, field, required):
        return None
    if not isinstance(value, str):
        raise Invalid("this must be text", field)
    picked = value.strip().lower() if lower else value.strip()
    if picked not in choices:
        shown = Listing(tuple(Term(vocabulary, c) if vocabulary else c for c in choices), "or")
        raise Invalid("“{value}” is not one of: {choices}", field, value=value, choices=shown)
    return picked


def boolean(value: Any, field: str | None, *, default: bool = False) -> bool:
    if value is None:
        return default
    if not isinstance(value, bool):
        raise Invalid("this must be true or false", field)
    return value


def day(value: Any, field: str | None, *, year_optional: bool = False) -> str | None:
    """A calendar day, YYYY-MM-DD (or --MM-DD when the year may be unknown: ISO 8601)."""
    raw = text(value, field, max_len=10)
    if raw is None:
        return None
    try:
        if year_optional and raw.startswith("--"):
            if len(raw) != 7 or raw[4] != "-":
                raise ValueError
            date(2000, int(raw[2:4]), int(raw[5:7]))
        else:
            date.fromisoformat(raw)
            if len(raw) != 10:
                raise ValueError
    except ValueError:
        form = "YYYY-MM-DD or --MM-DD" if year_optional else "YYYY-MM-DD"
        raise Invalid("“{value}” is not a date ({form})", field, value=raw, form=form) from None
    return raw


def texts(value: Any, field: str | None, *, max_items: int = 10,
          max_len: int = 200) -> list[str]:
    """A list of texts (one text counts as a list of one); empty entries dropped."""
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise Invalid("this must be a list of texts", field)
    if len(value) > max_items:
        raise Invalid("this holds at most {max} entries", field, max=max_items)
    out = []
    for i, item in enumerate(value):
        clean = text(item, f"{field}[{i}]" if field else None, max_len=max_len)
        if clean:
            out.append(clean)
    return out


class Form:
    """One input object read field by field; every problem is kept and raised at `done()`."""

    def __init__(self, raw: Any, where: str | None = None, *,
                 allowed: Iterable[str] | None = None, query: bool = False) -> None:
        self.where = where
        self.query = query
        self.problems: list[Invalid] = []
        if hasattr(raw, "keys") and hasattr(raw, "get") and not isinstance(raw, dict):
            raw = {k: raw.get(k) for k in raw.keys()}  # a query string's MultiDict
        if not isinstance(raw, dict):
            raise Invalid("this must be an object", where)
        self.raw = raw
        if allowed is not None:
            for key in sorted(set(raw) - set(allowed), key=str):
                self.problems.append(Invalid("unknown field “{name}”", where, name=str(key)))

    def path(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def has(self, key: str) -> bool:
        return key in self.raw

    def get(self, key: str) -> Any:
        return self.raw.get(key)

    def problem(self, key: str | None, message: str, **params: Any) -> None:
        self.problems.append(Invalid(message, self.path(key) if key else self.where, **params))

    def check(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Run one check; a refusal is kept (with every problem it carries) and None returned."""
        try:
            return fn(*args, **kwargs)
        except Invalid as exc:
            self.problems.extend(exc.problems)
            return None

    def text(self, key: str, **kw: Any) -> str | None:
        return self.check(text, self.raw.get(key), self.path(key), **kw)

    def identifier(self, key: str, **kw: Any) -> str | None:
        return self.check(identifier, self.raw.get(key), self.path(key), **kw)

    def whole(self, key: str, **kw: Any) -> int | None:
        return self.check(whole, self.raw.get(key), self.path(key), from_text=self.query, **kw)

    def amount(self, key: str, **kw: Any) -> int | None:
        return self.check(amount, self.raw.get(key), self.path(key), from_text=self.query,
                          **kw)

    def choice(self, key: str, choices: Iterable[str], **kw: Any) -> str | None:
        return self.check(choice, self.raw.get(key), self.path(key), choices, **kw)

    def boolean(self, key: str, **kw: Any) -> bool | None:
        return self.check(boolean, self.raw.get(key), self.path(key), **kw)

    def day(self, key: str, **kw: Any) -> str | None:
        return self.check(day, self.raw.get(key), self.path(key), **kw)

    def texts(self, key: str, **kw: Any) -> list[str]:
        return self.check(texts, self.raw.get(key), self.path(key), **kw) or []

    def done(self) -> None:
        if self.problems:
            raise Invalid.many(self.problems)
