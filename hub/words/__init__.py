"""Words and numbers the way the store writes them: one module for every screen, receipt,
error and the JavaScript.

A `Words` is one locale (`[store] locale`, e.g. `fr-FR`) and time zone: it translates
(gettext catalogues under `hub/words/locales`, kept with Babel: `scripts/words`), formats money,
weights, carats, numbers and dates from CLDR data (Babel), parses what a person types in an
amount field, names statuses, journal kinds and fields in words, and renders refusals
(`hub.core.errors`) as sentences. `js_bundle()` hands the browser the same symbols, patterns
and translations, so the JavaScript formats exactly as the server does.

Money stays integers in minor units: formatting goes through `Decimal(amount).scaleb(-digits)`
(exact), parsing builds the integer from digit strings. No float touches an amount.
"""

from __future__ import annotations

import gettext
import io
import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from babel.lists import format_list
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from hub.money import Money, MoneyError, minor_units, parse_plain_amount
from hub.words import labels

LOCALES = Path(__file__).parent / "locales"
DOMAIN = "loupe"
MAX_SHOWN = 60  # a value quoted in a sentence is cut here: input can be long, a toast is not


def N_(message: str) -> str:
    """Mark a message for translation where it is defined; translate where it is shown."""
    return message


class LocaleError(ValueError):
    """A locale or time zone this hub cannot use."""


def parse_locale(tag: str) -> Locale:
    """A BCP 47 tag (`fr-FR`, `de-DE`, `en-GB`) as a Babel locale, or a clear error."""
    if not isinstance(tag, str) or not re.fullmatch(r"[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*", tag):
        raise LocaleError(f"{tag!r} is not a locale tag such as fr-FR, de-DE or en-GB")
    try:
        return Locale.parse(tag.replace("_", "-"), sep="-")
    except (UnknownLocaleError, ValueError):
        raise LocaleError(f"{tag!r} is not a locale Loupe knows (e.g. fr-FR, de-DE, en-GB)") \
            from None


def parse_timezone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise LocaleError(f"{name!r} is not an IANA time zone such as Europe/Paris") from None


@cache
def _catalogue(language: str) -> gettext.NullTranslations:
    """The compiled messages of one language; English is the source and needs none."""
    po = LOCALES / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po.exists():
        return gettext.NullTranslations()
    with po.open("rb") as f:
        catalog = read_po(f, locale=language)
    buf = io.BytesIO()
    write_mo(buf, catalog)  # compiled in memory: the repository holds the .po only
    buf.seek(0)
    return gettext.GNUTranslations(buf)


# -- values that a sentence formats in the reader's way ------------------------------------------

@dataclass(frozen=True, slots=True)
class Grams:
    milligrams: int


@dataclass(frozen=True, slots=True)
class Carats:
    cents: int  # 1/100 ct


@dataclass(frozen=True, slots=True)
class Term:
    """A word from one of the vocabularies in `hub.words.labels` (a status, a category...)."""

    vocabulary: str
    value: str


@dataclass(frozen=True, slots=True)
class Listing:
    """Several values shown as one list ("ring, necklace and bracelet")."""

    values: tuple[Any, ...]
    conjunction: str = "and"  # and | or


@dataclass(frozen=True)
class CurrencyFormat:
    """How one currency is written in one locale (what the JavaScript needs to do the same)."""

    digits: int
    symbol: str
    pos_prefix: str
    pos_suffix: str
    neg_prefix: str
    neg_suffix: str


class Words:
    """One store's language, number formats and time zone."""

    def __init__(self, tag: str = "en-GB", timezone: str = "UTC") -> None:
        self.locale = parse_locale(tag)
        self.tag = str(self.locale).replace("_", "-")
        self.tz = parse_timezone(timezone)
        self.translations = _catalogue(self.locale.language)
        symbols = self.locale.number_symbols.get("latn", self.locale.number_symbols)
        self.decimal_symbol: str = symbols["decimal"]
        self.group_symbol: str = symbols["group"]
        self.minus_symbol: str = symbols.get("minusSign", "-")
        pattern = self.locale.decimal_formats[None]
        self.grouping: tuple[int, int] = pattern.grouping

    # -- translation ----------------------------------------------------------------------

    def _(self, message: str) -> str:
        return self.translations.gettext(message)

    gettext = _

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.translations.ngettext(singular, plural, n)

    # -- numbers and money ----------------------------------------------------------------

    def number(self, n: int) -> str:
        return self.decimal(n, 0)

    def decimal(self, scaled: int, digits: int) -> str:
        """`scaled` / 10**digits with exactly `digits` decimals (3071, 2 -> 30.71), grouped
        the locale's way. Written here from Babel's symbols rather than by Babel's formatter,
        so the JavaScript can do exactly the same (and Babel's quote stripping does not eat a
        Swiss `'` group mark)."""
        text = str(abs(scaled)).rjust(digits + 1, "0")
        whole, frac = (text[:-digits], text[-digits:]) if digits else (text, "")
        primary, secondary = self.grouping
        groups, size = [], primary
        while len(whole) > size:
            groups.insert(0, whole[-size:])
            whole, size = whole[:-size], secondary
        body = self.group_symbol.join([whole, *groups])
        if digits:
            body += self.decimal_symbol + frac
        return (self.minus_symbol + body) if scaled < 0 else body

    def money(self, amount: int | None, currency: str) -> str:
        if amount is None:
            return ""
        fmt = self.currency_format(currency)
        number = self.decimal(abs(amount), fmt.digits)
        if amount < 0:
            return fmt.neg_prefix + number + fmt.neg_suffix
        return fmt.pos_prefix + number + fmt.pos_suffix

    def percent(self, basis_points: int) -> str:
        """2000 bp -> "20 %" (as many decimals as the rate has, for tax rates)."""
        return babel_numbers.format_percent(Decimal(basis_points).scaleb(-4),
                                            locale=self.locale, decimal_quantization=False)

    def grams(self, milligrams: int | None) -> str:
        """One rounding rule everywhere: to the hundredth of a gram, half up (30.705 -> 30.71)."""
        if milligrams is None:
            return ""
        centigrams = (milligrams + 5) // 10 if milligrams >= 0 else -((-milligrams + 5) // 10)
        return f"{self.decimal(centigrams, 2)}\u00a0g"

    def carats(self, cents: int | None) -> str:
        if cents is None:
            return ""
        return f"{self.decimal(cents, 2)}\u00a0ct"

    @cache  # noqa: B019 - a handful of currencies per store, for the life of the process
    def currency_format(self, currency: str) -> CurrencyFormat:
        pattern = self.locale.currency_formats["standard"]
        symbol = babel_numbers.get_currency_symbol(currency, self.locale)

        def fill(part: str) -> str:
            part = part.replace("¤¤¤", currency).replace("¤¤", currency).replace("¤", symbol)
            return re.sub(r"'([^']*)'", lambda m: m.group(1) or "'", part)

        return CurrencyFormat(minor_units(currency), symbol, fill(pattern.prefix[0]),
                              fill(pattern.suffix[0]), fill(pattern.prefix[1]),
                              fill(pattern.suffix[1]))

    def parse_amount(self, text: Any, currency: str) -> int:
        """What a person types in an amount field, in this locale's way or the plain
        `1234.50`, to minor units. The locale's grouping must be regular (`3 190,00`,
        `3.190,00`); text that is not may still be a plain decimal (`1234.50` in Germany)."""
        if not isinstance(text, str):
            raise MoneyError("type an amount such as {example}", example=self.money(123450,
                                                                                     currency))
        raw = _strip_currency(text, currency, self.currency_format(currency).symbol)
        if not raw:
            raise MoneyError("type an amount such as {example}",
                             example=self.money(123450, currency))
        value = _parse_grouped(raw, self.decimal_symbol, self.group_symbol, self.grouping,
                               minor_units(currency))
        if value is not None:
            return value
        try:
            return parse_plain_amount(raw.replace("\u2212", "-"), currency)
        except MoneyError:
            raise MoneyError("“{text}” is not an amount: type it like {example}",
                             text=text.strip(), example=self.money(123450, currency)) from None

    def parse_discount(self, text: Any, base: int, currency: str) -> int:
        """`10 %` (of `base`, half up to the minor unit) or an amount, to minor units."""
        if isinstance(text, str) and text.strip().endswith("%"):
            number = text.strip()[:-1].strip()
            hundredths = _parse_grouped(number, self.decimal_symbol, self.group_symbol,
                                        self.grouping, 2)
            if hundredths is None:
                try:
                    hundredths = parse_plain_amount(number, "EUR")  # two decimals of a percent
                except MoneyError:
                    hundredths = None
            if hundredths is None or not 0 <= hundredths <= 10_000:
                raise MoneyError("“{text}” is not a percentage from 0 to 100", text=text.strip())
            q, r = divmod(base * hundredths, 10_000)
            return q + (1 if 2 * r >= 10_000 else 0)
        return self.parse_amount(text, currency)

    # -- dates ----------------------------------------------------------------------------

    def _moment(self, ts: str | datetime) -> datetime:
        if isinstance(ts, str):
            ts = datetime.fromisoformat(ts.replace("Z", "+00:00"))
        if ts.tzinfo is None:
            ts = ts.replace(tzinfo=UTC)
        return ts.astimezone(self.tz)

    def when(self, ts: str | datetime | None) -> str:
        """A moment in the store's time: `1 déc. 2026, 14:05`."""
        if not ts:
            return ""
        moment = self._moment(ts)
        date = babel_dates.format_date(moment, "medium", locale=self.locale)
        time = babel_dates.format_time(moment, "short", locale=self.locale)
        return self.locale.datetime_formats["medium"].format(time, date)

    def day(self, value: str | datetime | None, style: str = "medium") -> str:
        """A calendar day (`2026-12-01`, or `--12-01` when the year is unknown)."""
        if not value:
            return ""
        if isinstance(value, str) and value.startswith("--"):
            month, day = int(value[2:4]), int(value[5:7])
            return babel_dates.format_skeleton("MMMd", datetime(2000, month, day),
                                               locale=self.locale)
        if isinstance(value, str) and len(value) == 10:
            value = datetime.fromisoformat(value)
            return babel_dates.format_date(value.date(), style, locale=self.locale)
        return babel_dates.format_date(self._moment(value).date(), style, locale=self.locale)

    # -- vocabularies ---------------------------------------------------------------------

    def term(self, vocabulary: str, value: Any) -> str:
        """A status, category, tender type, journal kind... in words; an unknown value reads
        as itself with its underscores gone, never as a code."""
        if value is None or value == "":
            return ""
        label = labels.VOCABULARIES[vocabulary].get(str(value))
        if label is None:
            text = str(value).replace("_", " ").replace(".", " ")
            # A role the store named itself ("trainee") reads like the shipped ones.
            return text[:1].upper() + text[1:] if vocabulary == "role" else text
        return self._(label)

    def search_synonyms(self) -> dict[str, str]:
        """What a person of this language types for a category, metal, colour or stone,
        folded (plural too), to the word the pieces' data uses: "bagues" -> "ring"."""
        out: dict[str, str] = {}
        if self.locale.language == "en":
            return out
        for name in ("category", "metal", "colour", "stone"):
            for value, label in labels.VOCABULARIES[name].items():
                word = _fold(self._(label))
                if not word or word == value:
                    continue
                out.setdefault(word, value)
                if not word.endswith(("s", "x")):
                    out.setdefault(word + "s", value)  # the plural of most nouns here
        return out

    def field_label(self, path: str | None) -> str:
        """`tenders[0].last4` -> "Last 4 digits of the card (tender 1)";
        `ring_sizes.left ring` -> "Ring sizes (left ring)"."""
        if not path:
            return ""
        parts = re.findall(r"([^.\[\]]+)(?:\[(\d+)\])?", path)
        if not parts:
            return path
        leaf, leaf_index = parts[-1]
        if leaf in labels.FIELDS or len(parts) == 1:
            text = self._(labels.FIELDS.get(leaf, leaf.replace("_", " ").capitalize()))
        else:  # a key of a map (a finger, a topic): name the map, then the key
            parent = parts[-2][0]
            text = f"{self._(labels.FIELDS.get(parent, parent))} ({leaf})"
            parts = parts[:-1]
        if leaf_index:
            text = f"{text} {int(leaf_index) + 1}"
        for name, index in reversed(parts[:-1]):
            if index:
                owner = self._(labels.FIELDS.get(name + "[]", labels.FIELDS.get(name, name)))
                text = f"{text} ({owner.lower()} {int(index) + 1})"
                break
        return text

    def actor(self, actor: str | None, names: dict[str, str] | None = None) -> str:
        """Who did it: a staff member's name, or what a system actor is in words."""
        if not actor:
            return ""
        if names and actor in names and names[actor]:
            return names[actor]
        label = labels.ACTORS.get(actor)
        return self._(label) if label else actor

    # -- sentences ------------------------------------------------------------------------

    def render(self, message: str, params: dict[str, Any] | None = None) -> str:
        """Translate a message template and fill its values, each in the reader's way."""
        text = self._(message)
        if not params:
            return text
        shown = {k: self.value(v) for k, v in params.items()}
        try:
            return text.format(**shown)
        except (KeyError, IndexError, ValueError):
            return self._(message) if text != message else message

    def sentence(self, message: str, params: dict[str, Any] | None = None) -> str:
        """`render`, as a sentence on its own (capitalised)."""
        return _capitalised(self.render(message, params))

    def value(self, v: Any) -> str:
        if isinstance(v, Money):
            return self.money(v.amount, v.currency)
        if isinstance(v, Grams):
            return self.grams(v.milligrams)
        if isinstance(v, Carats):
            return self.carats(v.cents)
        if isinstance(v, Term):
            return self.term(v.vocabulary, v.value)
        if isinstance(v, Listing):
            items = [self.value(x) for x in v.values]
            if not items:
                return ""
            style = "or" if v.conjunction == "or" else "standard"
            return format_list(items, style=style, locale=self.locale)
        if isinstance(v, bool):
            return self._("yes") if v else self._("no")
        if isinstance(v, int):
            return self.number(v)
        text = str(v)
        if len(text) > MAX_SHOWN:
            text = text[:MAX_SHOWN - 1] + "…"
        # Control characters in a quoted value would break a log line or a receipt.
        return "".join("\ufffd" if unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp")
                       else ch for ch in text)

    def refusal(self, exc: Any) -> str:
        """A refusal (`hub.core.errors.Refused`, `hub.money.MoneyError`) as a sentence."""
        message = getattr(exc, "message", None)
        if message is None:
            return str(exc)
        text = self.render(message, getattr(exc, "params", None))
        field = getattr(exc, "field", None)
        problems = getattr(exc, "problems", None) or []
        if len(problems) > 1:
            fields = Listing(tuple(self.field_label(p.field) or self._("the form")
                                   for p in problems))
            return self.render("{n} fields need attention: {fields}",
                               {"n": len(problems), "fields": fields})
        if field:
            return self._("{label}: {message}").format(label=self.field_label(field),
                                                        message=text)
        return _capitalised(text)

    def problems(self, exc: Any) -> list[dict[str, str]]:
        """Every field at fault in a refused form, each with its sentence (for the screen)."""
        out = []
        for p in getattr(exc, "problems", None) or []:
            out.append({"field": p.field or "", "label": self.field_label(p.field),
                        "message": _capitalised(self.render(p.message, p.params))})
        return out

    # -- the browser's copy ---------------------------------------------------------------

    def js_bundle(self, currencies: tuple[str, ...]) -> dict[str, Any]:
        """What `loupe.js` needs to write and read numbers exactly as this module does,
        and the translations of its own messages and of the vocabularies it shows."""
        return {
            "locale": self.tag,
            "number": {"decimal": self.decimal_symbol, "group": self.group_symbol,
                       "minus": self.minus_symbol, "grouping": list(self.grouping)},
            "currencies": {c: self.currency_format(c).__dict__ for c in currencies},
            "messages": {m: self._(m) for m in _js_messages()},
            "terms": {name: {k: self._(v) for k, v in vocab.items()}
                      for name, vocab in labels.VOCABULARIES.items() if name != "kind"},
        }


def _fold(text: str) -> str:
    folded = "".join(c for c in unicodedata.normalize("NFKD", text.casefold())
                     if unicodedata.category(c) != "Mn")
    return " ".join(re.sub(r"[^\w]+", " ", folded).split())


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


_SPACES = "\u00a0\u202f\u2009 "


def _strip_currency(text: str, currency: str, symbol: str) -> str:
    raw = unicodedata.normalize("NFC", text).strip()
    for mark in sorted({symbol, currency}, key=len, reverse=True):
        if mark and mark in raw:
            raw = raw.replace(mark, "")
    return raw.strip().strip(_SPACES + "\u200f\u200e").strip()


def _parse_grouped(raw: str, decimal: str, group: str, grouping: tuple[int, int],
                   digits: int) -> int | None:
    """The locale's own writing, strictly: regular groups, at most `digits` decimals."""
    neg = raw[:1] in "-\u2212"
    if neg:
        raw = raw[1:].lstrip(_SPACES)
    whole, sep, frac = raw.rpartition(decimal) if decimal in raw else (raw, "", "")
    if sep and (not frac.isdigit() or len(frac) > digits or not frac.isascii()):
        return None
    spaces = group in _SPACES
    pieces = re.split("[" + re.escape(_SPACES) + "]" if spaces else re.escape(group), whole)
    if sep and whole == "":
        pieces = ["0"]  # ",50" is half a unit
    if not all(p.isdigit() and p.isascii() for p in pieces):
        return None
    if len(pieces) > 1:
        primary, secondary = grouping
        if not 1 <= len(pieces[0]) <= (secondary if len(pieces) > 2 else primary) \
                or len(pieces[-1]) != primary \
                or any(len(p) != secondary for p in pieces[1:-1]):
            return None
    value = int("".join(pieces)) * 10**digits + int(frac.ljust(digits, "0") or "0")
    return -value if neg else value


@cache
def _js_messages() -> tuple[str, ...]:
    """The message ids that `static/*.js` files ask for with `_("...")`."""
    found: set[str] = set()
    hub_dir = Path(__file__).resolve().parents[1]
    for js in sorted(hub_dir.glob("**/static/*.js")):
        for m in re.finditer(r"""(?<![\w.$])_\(\s*"((?:[^"\\]|\\.)*)"\s*[,)]""", js.read_text("utf-8")):
            found.add(json.loads(f'"{m.group(1)}"'))
    return tuple(sorted(found))


@cache
def words_for(tag: str, timezone: str = "UTC") -> Words:
    return Words(tag, timezone)


ENGLISH = Words("en-GB", "UTC")  # logs, the CLI and `str()` of a refusal

__all__ = ["Words", "words_for", "ENGLISH", "N_", "Grams", "Carats", "Term", "Listing",
           "LocaleError", "parse_locale", "parse_timezone"]
