"""The store's configuration: one TOML file, `loupe.toml`, in the data dir.

Validated at start; every problem names the key and what is wrong with it, so a technician
editing the file over SSH knows exactly what to fix.
"""

from __future__ import annotations

import os
import re
import tomllib
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub.money import MoneyError, check_currency, minor_units
from hub.words import LocaleError, parse_locale, parse_timezone

CONFIG_NAME = "loupe.toml"
DATA_DIR_ENV = "LOUPE_DATA_DIR"

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")

# Sections other layers own; the core checks only that they are tables.
_OWNED_ELSEWHERE = {"web", "devices", "sync", "counts", "receipts", "clienteling", "tiers",
                    "appointments", "loyalty", "workshop", "layaway", "pricing",
                    "gift_cards", "currency", "tax_free", "buying", "backup"}
_KNOWN = {"store", "keys", "registers", "tax_rates", "sales", "epc"} | _OWNED_ELSEWHERE


class ConfigError(ValueError):
    """A configuration problem; the message names the key."""


@dataclass(frozen=True)
class Register:
    id: str
    name: str


@dataclass(frozen=True)
class TaxRate:
    code: str
    name: str
    rate_bp: int  # basis points: 2000 = 20 %


@dataclass(frozen=True)
class Config:
    data_dir: Path
    store_id: str
    store_name: str
    currency: str
    timezone: str
    locale: str  # BCP 47, e.g. fr-FR: the store's language and how it writes numbers
    master_key_file: Path
    registers: tuple[Register, ...]
    tax_rates: tuple[TaxRate, ...]
    prices_include_tax: bool
    default_tax: str
    max_line_price: int  # minor units: a price above this is a typing mistake
    max_discount_bp: int  # a discount above this share of the basket needs a manager
    epc_company_prefix: int
    epc_object_class: int
    raw: dict[str, Any] = field(repr=False, default_factory=dict)

    @property
    def db_path(self) -> Path:
        return self.data_dir / "loupe.db"

    def section(self, name: str, over: dict[str, Any] | None = None) -> Section:
        """A layer's own section (`web`, `devices`, `sync`...), to read key by key and end
        with `done()`; empty when absent. `over`: keys set from elsewhere (head office's
        settings) that stand over the file's."""
        raw = self.raw.get(name)
        if over:
            raw = {**(raw if isinstance(raw, dict) else {}), **over}
        return Section(name, raw)

    def register(self, register_id: str) -> Register:
        for reg in self.registers:
            if reg.id == register_id:
                return reg
        raise ConfigError(f"registers: no register {register_id!r}")


class Section:
    """One table of loupe.toml read key by key with the same rules everywhere: a wrong type
    or range names `section.key`; a key nobody reads is refused at `done()` (a typo in a
    key must not be silently ignored)."""

    def __init__(self, name: str, raw: Any) -> None:
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            raise ConfigError(f"{name}: must be a table")
        self.name, self.raw, self._read = name, raw, set()

    def _get(self, key: str) -> Any:
        self._read.add(key)
        return self.raw.get(key)

    def has(self, key: str) -> bool:
        return key in self.raw

    def text(self, key: str, default: str = "") -> str:
        value = self._get(key)
        if value is None:
            return default
        if not isinstance(value, str):
            raise ConfigError(f"{self.name}.{key}: must be text, got {value!r}")
        return value

    def texts(self, key: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        value = self._get(key)
        if value is None:
            return default
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{self.name}.{key}: must be a list of text lines")
        return tuple(value)

    def whole(self, key: str, default: int, lo: int, hi: int) -> int:
        value = self._get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise ConfigError(f"{self.name}.{key}: must be a whole number from {lo} to {hi},"
                              f" got {value!r}")
        return value

    def increasing(self, key: str, default: tuple[int, ...], lo: int, hi: int) -> tuple[int, ...]:
        """Whole numbers from `lo` to `hi`, one or an increasing list (`[30, 60, 90]`)."""
        value = self._get(key)
        if value is None:
            return default
        values = [value] if isinstance(value, int) else value
        if (not isinstance(values, list) or not values or not all(
                isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi for v in values)
                or values != sorted(set(values))):
            raise ConfigError(f"{self.name}.{key}: must be a whole number from {lo} to {hi}"
                              f" or an increasing list of them, got {value!r}")
        return tuple(values)

    def seconds(self, key: str, default: float, lo: float, hi: float) -> float:
        value = self._get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
            raise ConfigError(f"{self.name}.{key}: must be seconds from {lo:g} to {hi:g},"
                              f" got {value!r}")
        return float(value)

    def flag(self, key: str, default: bool) -> bool:
        value = self._get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise ConfigError(f"{self.name}.{key}: must be true or false, got {value!r}")
        return value

    def table(self, key: str) -> dict[str, Any]:
        value = self._get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise ConfigError(f"{self.name}.{key}: must be a table")
        return value

    def rest(self) -> dict[str, Any]:
        """The keys not read yet (a section whose keys are names: devices, layouts)."""
        out = {k: v for k, v in self.raw.items() if k not in self._read}
        self._read.update(out)
        return out

    def done(self) -> None:
        unknown = sorted(set(self.raw) - self._read)
        if unknown:
            raise ConfigError(f"{self.name}.{unknown[0]}: unknown key (known:"
                              f" {', '.join(sorted(self._read))})")


def resolve_data_dir(value: str | os.PathLike[str] | None) -> Path:
    """`--data-dir`, else `$LOUPE_DATA_DIR`; one of them must be given."""
    chosen = value or os.environ.get(DATA_DIR_ENV)
    if not chosen:
        raise ConfigError(f"no data dir: pass --data-dir or set {DATA_DIR_ENV}")
    return Path(chosen).expanduser().resolve()


def _get(table: dict[str, Any], key: str, where: str, kind: type, default: Any = ...) -> Any:
    if key not in table:
        if default is ...:
            raise ConfigError(f"{where}.{key}: missing")
        return default
    value = table[key]
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise ConfigError(f"{where}.{key}: must be an integer, got {value!r}")
    if not isinstance(value, kind):
        raise ConfigError(f"{where}.{key}: must be a {kind.__name__}, got {value!r}")
    return value


def _check_keys(table: dict[str, Any], where: str, allowed: set[str]) -> None:
    extra = sorted(set(table) - allowed)
    if extra:
        raise ConfigError(f"{where}: unknown key {extra[0]!r} (allowed: {', '.join(sorted(allowed))})")


def _check_id(value: str, where: str) -> str:
    if not _ID.match(value):
        raise ConfigError(f"{where}: {value!r} must be 1-40 letters, digits, '-' or '_'")
    return value


def parse_config(doc: dict[str, Any], data_dir: Path) -> Config:
    if "staff" in doc:
        raise ConfigError("staff: staff are kept in the books now (PINs hashed, names"
                          " encrypted): remove [[staff]] from loupe.toml and enroll each"
                          " person with `loupe staff add`")
    _check_keys(doc, "loupe.toml", _KNOWN)
    for name in _OWNED_ELSEWHERE:
        if name in doc and not isinstance(doc[name], dict):
            raise ConfigError(f"{name}: must be a table")

    store = _get(doc, "store", "loupe.toml", dict)
    _check_keys(store, "store", {"id", "name", "currency", "timezone", "locale"})
    store_id = _check_id(_get(store, "id", "store", str), "store.id")
    store_name = _get(store, "name", "store", str).strip()
    if not store_name:
        raise ConfigError("store.name: must not be empty")
    currency = _get(store, "currency", "store", str)
    try:
        check_currency(currency)
    except MoneyError as exc:
        raise ConfigError(f"store.currency: {exc}") from None
    timezone = _get(store, "timezone", "store", str, "UTC")
    locale = _get(store, "locale", "store", str, "en-GB")
    try:
        parse_timezone(timezone)
    except LocaleError as exc:
        raise ConfigError(f"store.timezone: {exc}") from None
    try:
        parse_locale(locale)
    except LocaleError as exc:
        raise ConfigError(f"store.locale: {exc}") from None

    keys = _get(doc, "keys", "loupe.toml", dict, {})
    _check_keys(keys, "keys", {"master_key_file"})
    key_file = Path(_get(keys, "master_key_file", "keys", str, "master.key"))
    if not key_file.is_absolute():
        key_file = data_dir / key_file

    registers_raw = _get(doc, "registers", "loupe.toml", list, [])
    if not registers_raw:
        raise ConfigError("registers: at least one register is needed")
    registers = []
    for i, reg in enumerate(registers_raw):
        where = f"registers[{i}]"
        if not isinstance(reg, dict):
            raise ConfigError(f"{where}: must be a table")
        _check_keys(reg, where, {"id", "name"})
        registers.append(Register(_check_id(_get(reg, "id", where, str), f"{where}.id"),
                                  _get(reg, "name", where, str, "")))
    if len({r.id for r in registers}) != len(registers):
        raise ConfigError("registers: register ids must be unique")

    rates_raw = _get(doc, "tax_rates", "loupe.toml", list, [])
    rates = []
    for i, rate in enumerate(rates_raw):
        where = f"tax_rates[{i}]"
        if not isinstance(rate, dict):
            raise ConfigError(f"{where}: must be a table")
        _check_keys(rate, where, {"code", "name", "rate_bp"})
        bp = _get(rate, "rate_bp", where, int)
        if not 0 <= bp <= 10_000:
            raise ConfigError(f"{where}.rate_bp: must be between 0 and 10000 (basis points), got {bp}")
        rates.append(TaxRate(_check_id(_get(rate, "code", where, str), f"{where}.code"),
                             _get(rate, "name", where, str, ""), bp))
    if not rates:
        rates.append(TaxRate("exempt", "No tax", 0))

    sales = _get(doc, "sales", "loupe.toml", dict, {})
    _check_keys(sales, "sales", {"prices_include_tax", "default_tax", "max_line_price",
                                 "max_discount_pct"})
    include = _get(sales, "prices_include_tax", "sales", bool, True)
    default_tax = _get(sales, "default_tax", "sales", str, rates[0].code)
    if default_tax not in {r.code for r in rates}:
        raise ConfigError(f"sales.default_tax: {default_tax!r} is not a code in tax_rates")
    # In the currency's major unit, as a person writes it in the file (500000 = 500,000 EUR).
    max_major = _get(sales, "max_line_price", "sales", int, 1_000_000)
    if not 1 <= max_major <= 10**12:
        raise ConfigError("sales.max_line_price: must be a whole amount from 1 to 10^12 in"
                          f" {currency}'s major unit, got {max_major}")
    max_discount_pct = _get(sales, "max_discount_pct", "sales", int, 10)
    if not 0 <= max_discount_pct <= 100:
        raise ConfigError("sales.max_discount_pct: must be a percentage from 0 to 100,"
                          f" got {max_discount_pct}")

    epc = _get(doc, "epc", "loupe.toml", dict, {})
    _check_keys(epc, "epc", {"company_prefix", "object_class"})
    prefix = _get(epc, "company_prefix", "epc", int, 0)
    if not 0 <= prefix < 2**28:
        raise ConfigError("epc.company_prefix: must fit GID-96's 28-bit manager number")
    object_class = _get(epc, "object_class", "epc", int, store_object_class(store_id))
    if not 2 <= object_class < 2**24:
        raise ConfigError("epc.object_class: must fit GID-96's 24-bit object class, from 2"
                          f" (1 is the tags of the first hubs), got {object_class}")

    return Config(
        data_dir=data_dir, store_id=store_id, store_name=store_name, currency=currency,
        timezone=timezone, locale=locale, master_key_file=key_file,
        registers=tuple(registers), tax_rates=tuple(rates), prices_include_tax=include,
        default_tax=default_tax,
        max_line_price=max_major * 10 ** minor_units(currency),
        max_discount_bp=max_discount_pct * 100,
        epc_company_prefix=prefix, epc_object_class=object_class, raw=doc,
    )


def store_object_class(store_id: str) -> int:
    """The GID-96 object class a store's new tags carry unless `[epc] object_class` sets it:
    one per store, so the stores of a chain sharing a manager number never mint the same tag
    (the serial is each store's journal seq); a chain numbering its stores sets it."""
    return 2 + zlib.crc32(store_id.encode()) % (2**24 - 2)


def load_config(data_dir: Path) -> Config:
    path = data_dir / CONFIG_NAME
    if not path.exists():
        raise ConfigError(f"{path}: no store here (run `loupe init` first)")
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    return parse_config(doc, data_dir)


def render_config(store_id: str, store_name: str, currency: str, timezone: str = "UTC",
                  locale: str = "en-GB") -> str:
    """The config `loupe init` writes: a working store with sensible defaults, commented."""
    name = store_name.replace("\\", "\\\\").replace('"', '\\"')
    return f'''# Loupe store configuration. Validated at every start; see docs/operations.md.

[store]
id = "{store_id}"
name = "{name}"
currency = "{currency}"      # ISO 4217; amounts are integers in its minor unit
timezone = "{timezone}"
locale = "{locale}"           # language and number formats: fr-FR, de-DE, en-GB...

[keys]
master_key_file = "master.key"   # 0600; the hub refuses to start if others can read it

[[registers]]
id = "R1"
name = "Front counter"

[[registers]]
id = "R2"
name = "Salon"

[[tax_rates]]
code = "standard"
name = "Standard rate"
rate_bp = 2000                 # basis points: 2000 = 20 %

[[tax_rates]]
code = "exempt"
name = "Exempt"
rate_bp = 0

[sales]
prices_include_tax = true      # tag prices are what the client pays
default_tax = "standard"
max_line_price = 1000000       # in {currency}: a line priced above this is a typing mistake
max_discount_pct = 10          # a bigger discount needs a manager's PIN

[epc]
company_prefix = 0             # GID-96 manager number for tags this store encodes
# object_class = 17            # this store's class in it (default: one from the store id)

# Staff are enrolled with `loupe staff add` (PINs are hashed, names encrypted in the books).

# The nightly encrypted backup (`loupe backup` now): to HQ's key once enrolled, and to a
# passphrase if one is set. Without a path there is no nightly backup; `loupe doctor` says so.
# [backup]
# path = "/media/loupe-backup"   # a USB stick or a second disk
# at = "03:00"                   # store time
# keep = 14                      # the newest kept at the path
# passphrase_file = "/etc/loupe/backup.pass"   # 0600
'''
