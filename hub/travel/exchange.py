"""Foreign currency at the counter (area `exchange`): HQ's exchange rates, a tender typed in
another currency, and what the drawer holds of each currency at closing.

- **Rates** come from HQ as an `exchange_rates` message {rates: [{currency, rate,
  valid_from, valid_until}]}: `rate` is a decimal string, the home currency for one unit
  of the foreign one (EUR per USD: "0.9215"), read as a `Fraction` and never as a float.
  A rate moving more than `[currency] max_move_bp` against the current one is held
  (`exchange.rates_held`) until a manager accepts it (`exchange.rate_accepted`); the others
  are applied (`exchange.rates_set`). A rate is named by `<currency>@<seq>`: the entry that
  set it.
- **A tender in another currency**: the associate types the foreign amount; the hub takes
  HQ's rate less the store's spread (`[currency] spread_bp`) and rounds **down** to the
  home currency's minor unit, once (in the store's favour: the client is never credited a
  fraction of a cent she did not hand over). The cart keeps the home amount and the detail
  {currency, foreign_amount (minor units of that currency), rate (the rate applied, spread
  included, as an exact decimal), rate_ref}. Change is always given in the home currency.
  The cart checks the detail as it takes the tender, and the sale's transaction checks it
  again (this module is a `SaleExtension`): a rate that changed or lapsed in between, or
  an amount that is not the conversion, refuses the sale in words.
- **The Z report** (`closure_section`): foreign cash and cards taken per currency (less what
  voids gave back), so the drawer is counted in each currency.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from hub.config import Config, ConfigError
from hub.core.errors import Invalid, NotFound, Refused
from hub.core.fields import Form
from hub.ledger.journal import Entry
from hub.ledger.ledger import Tx
from hub.ledger.schema import Migration, Schema
from hub.money import Money, MoneyError, check_currency, minor_units
from hub.words import N_, Term

if TYPE_CHECKING:  # the layer declares this area: no import of the store at load
    from hub.store import Store

SCHEMA = Schema("exchange", (Migration(1, """
CREATE TABLE exchange_rates (              -- the rate in force per currency
    currency    TEXT PRIMARY KEY,
    rate        TEXT NOT NULL,             -- home currency for one unit, exact decimal
    valid_from  TEXT NOT NULL,
    valid_until TEXT NOT NULL,
    seq         INTEGER NOT NULL           -- the entry that set it: its rate_ref is <cur>@<seq>
);
CREATE TABLE exchange_held (               -- moves beyond the band, waiting for a manager
    seq         INTEGER NOT NULL,
    currency    TEXT NOT NULL,
    rate        TEXT NOT NULL,
    previous    TEXT NOT NULL,
    move_bp     INTEGER NOT NULL,
    valid_from  TEXT NOT NULL,
    valid_until TEXT NOT NULL,
    status      TEXT NOT NULL,             -- held | accepted | superseded
    PRIMARY KEY (seq, currency)
);
CREATE TABLE exchange_tenders (            -- foreign money taken (and given back by voids)
    seq           INTEGER NOT NULL,
    pos           INTEGER NOT NULL,
    doc_id        TEXT NOT NULL,           -- the sale, or the void
    movement      TEXT NOT NULL,           -- taken | given_back
    type          TEXT NOT NULL,           -- cash | card
    currency      TEXT NOT NULL,
    foreign_amount INTEGER NOT NULL,       -- minor units of that currency
    home_amount   INTEGER NOT NULL,
    rate          TEXT NOT NULL,
    rate_ref      TEXT NOT NULL,
    PRIMARY KEY (seq, pos)
);
"""),), projections=("exchange_rates", "exchange_held", "exchange_tenders"))

MESSAGE = "exchange_rates"
ACCEPT = "exchange.accept"
PERMISSIONS = {ACCEPT: N_("Accept a move of an exchange rate beyond the band")}
GRANTS = {"manager": (ACCEPT,)}
FOREIGN_TENDERS = ("cash", "card")
DETAIL = ("currency", "foreign_amount", "rate", "rate_ref")
# A rate as HQ writes it: at most 9 digits before the point and 6 after, so the rate
# applied (4 more decimals for the spread) never looks like a card number to the tender
# check, and a foreign amount stays well inside it too.
_RATE = re.compile(r"^[0-9]{1,9}(\.[0-9]{1,6})?$")
_REF = re.compile(r"^([A-Z]{3})@([0-9]{1,12})$")
MAX_FOREIGN = 10**10  # minor units of the foreign currency: 100 million dollars
MAX_RATES = 60


@dataclass(frozen=True)
class ExchangeSettings:
    """`[currency]`: the spread taken off HQ's rate, the currencies the counter takes
    (empty: every one HQ gives a rate for), and the band a new rate may move within."""

    spread_bp: int = 300
    accepted: tuple[str, ...] = ()
    max_move_bp: int = 500
    cards: bool = True  # a card charged in the client's currency (dynamic conversion)


def exchange_settings(config: Config) -> ExchangeSettings:
    section = config.section("currency")
    d = ExchangeSettings()
    spread = section.whole("spread_bp", d.spread_bp, 0, 5000)
    accepted = section.texts("accepted", d.accepted)
    for code in accepted:
        try:
            check_currency(code)
        except MoneyError:
            raise ConfigError(f"currency.accepted: “{code}” is no ISO 4217 currency") from None
        if code == config.currency:
            raise ConfigError(f"currency.accepted: {code} is the store's own currency")
    band = section.whole("max_move_bp", d.max_move_bp, 1, 10_000)
    cards = section.flag("cards", d.cards)
    section.done()
    return ExchangeSettings(spread, tuple(accepted), band, cards)


# -- exact arithmetic -------------------------------------------------------------------------

def parse_rate(text: Any, field: str = "rate") -> Fraction:
    """HQ's decimal string, exactly; more than zero."""
    if not isinstance(text, str) or not _RATE.fullmatch(text.strip()):
        raise Invalid("a rate is a decimal number such as 0.9215 (at most 6 decimals)", field)
    rate = Fraction(text.strip())
    if rate <= 0:
        raise Invalid("a rate is more than zero", field)
    return rate


def decimal_text(value: Fraction) -> str:
    """An exact decimal of a fraction whose denominator divides a power of ten (rates
    always are: 6 decimals, times a spread in basis points), trailing zeros dropped."""
    den, twos, fives = value.denominator, 0, 0
    while den % 2 == 0:
        den, twos = den // 2, twos + 1
    while den % 5 == 0:
        den, fives = den // 5, fives + 1
    if den != 1:
        raise ValueError(f"{value} has no exact decimal")
    places = max(twos, fives)
    scaled = value * 10**places
    assert scaled.denominator == 1
    digits = str(scaled.numerator).rjust(places + 1, "0")
    whole, frac = (digits[:-places], digits[-places:]) if places else (digits, "")
    frac = frac.rstrip("0")
    return f"{whole}.{frac}" if frac else whole


def applied_rate(rate: Fraction, spread_bp: int) -> Fraction:
    """HQ's rate less the store's spread: what one unit of the foreign currency buys."""
    return rate * Fraction(10_000 - spread_bp, 10_000)


def convert(foreign_amount: int, foreign: str, home: str, applied: Fraction) -> int:
    """Minor units of the foreign currency to minor units of the home one at `applied`,
    rounded down (the store's favour), once."""
    exact = (Fraction(foreign_amount, 10 ** minor_units(foreign)) * applied
             * 10 ** minor_units(home))
    return exact.numerator // exact.denominator


def move_bp(previous: Fraction, new: Fraction) -> int:
    """How far a new rate moves from the previous one, in basis points (rounded up, so a
    move just beyond the band is never read as inside it)."""
    move = abs(new - previous) / previous * 10_000
    return -((-move.numerator) // move.denominator)


def _moment(value: Any, field: str) -> datetime:
    if not isinstance(value, str):
        raise Invalid("a moment such as 2026-12-01T08:00:00+01:00", field)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise Invalid("a moment such as 2026-12-01T08:00:00+01:00", field) from None
    if moment.tzinfo is None:
        raise Invalid("a moment with its offset, such as 2026-12-01T08:00:00+01:00", field)
    return moment


def check_rates(body: dict[str, Any], home: str) -> list[dict[str, Any]]:
    """An `exchange_rates` body, every problem at once: ISO 4217 codes other than the
    store's, each once, exact positive rates, a validity that ends after it begins."""
    f = Form(body, allowed=("rates",))
    raw = f.get("rates")
    if not isinstance(raw, list) or not 0 < len(raw) <= MAX_RATES:
        raise Invalid("this must be a list of 1 to {max} rates", "rates", max=MAX_RATES)
    out, problems, seen = [], [], set()
    for i, item in enumerate(raw):
        try:
            r = Form(item, f"rates[{i}]", allowed=("currency", "rate", "valid_from",
                                                   "valid_until"))
        except Invalid as exc:
            problems += exc.problems
            continue
        code = r.get("currency")
        try:
            code = check_currency(code)
            if code == home:
                r.problem("currency", "{currency} is the store's own currency", currency=code)
            elif code in seen:
                r.problem("currency", "{currency} is twice in the message", currency=code)
            seen.add(code)
        except MoneyError:
            r.problem("currency", "“{value}” is no ISO 4217 currency", value=str(code))
        rate = r.check(parse_rate, r.get("rate"), r.path("rate"))
        start = r.check(_moment, r.get("valid_from"), r.path("valid_from"))
        end = r.check(_moment, r.get("valid_until"), r.path("valid_until"))
        if start is not None and end is not None and end <= start:
            r.problem("valid_until", "a rate's validity must end after it begins")
        problems += r.problems
        if not r.problems:
            out.append({"currency": code, "rate": decimal_text(rate),
                        "valid_from": start.astimezone(UTC).isoformat(),
                        "valid_until": end.astimezone(UTC).isoformat()})
    if problems:
        raise Invalid.many(problems)
    return out


# -- projections ------------------------------------------------------------------------------

def _set_rate(tx: Tx, rate: dict[str, Any], seq: int) -> None:
    tx.execute("INSERT INTO exchange_rates (currency, rate, valid_from, valid_until, seq)"
               " VALUES (?,?,?,?,?) ON CONFLICT(currency) DO UPDATE SET rate = excluded.rate,"
               " valid_from = excluded.valid_from, valid_until = excluded.valid_until,"
               " seq = excluded.seq", (rate["currency"], rate["rate"], rate["valid_from"],
                                        rate["valid_until"], seq))
    # A rate in force makes an older move still held for that currency moot.
    tx.execute("UPDATE exchange_held SET status = 'superseded' WHERE currency = ? AND"
               " status = 'held' AND seq < ?", (rate["currency"], seq))


def _on_set(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    for rate in p["rates"]:
        _set_rate(tx, rate, entry.seq)


def _on_held(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    for r in p["rates"]:
        tx.execute("UPDATE exchange_held SET status = 'superseded' WHERE currency = ? AND"
                   " status = 'held'", (r["currency"],))
        tx.execute("INSERT INTO exchange_held (seq, currency, rate, previous, move_bp,"
                   " valid_from, valid_until, status) VALUES (?,?,?,?,?,?,?,'held')",
                   (entry.seq, r["currency"], r["rate"], r["previous"], r["move_bp"],
                    r["valid_from"], r["valid_until"]))


def _on_accepted(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute("UPDATE exchange_held SET status = 'accepted' WHERE seq = ? AND currency = ?",
               (p["held_seq"], p["rate"]["currency"]))
    _set_rate(tx, p["rate"], entry.seq)


def _foreign(tender: dict[str, Any]) -> bool:
    return tender["type"] in FOREIGN_TENDERS and bool((tender.get("detail") or {}).get(
        "currency"))


def _record(tx: Tx, entry: Entry, doc_id: str, tenders: list[dict[str, Any]],
            movement: str) -> None:
    for pos, t in enumerate(tenders):
        if not _foreign(t):
            continue
        d = t["detail"]
        tx.execute("INSERT INTO exchange_tenders (seq, pos, doc_id, movement, type, currency,"
                   " foreign_amount, home_amount, rate, rate_ref) VALUES (?,?,?,?,?,?,?,?,?,?)",
                   (entry.seq, pos, doc_id, movement, t["type"], d["currency"],
                    int(d["foreign_amount"]), t["amount"], d["rate"], d["rate_ref"]))


def _on_sale(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    _record(tx, entry, p["sale_id"], p["tenders"], "taken")


def _on_void(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    # A void hands back the very notes it took (its tenders are the sale's, detail and all);
    # a return's refund is counted out in the home currency, whatever its detail says.
    assert p is not None
    _record(tx, entry, p["return_id"], p["tenders"], "given_back")


PROJECTIONS = {
    "exchange.rates_set": _on_set,
    "exchange.rates_held": _on_held,
    "exchange.rate_accepted": _on_accepted,
    "sale.completed": _on_sale,
    "sale.voided": _on_void,
}


def closure_section(tx: Any, from_seq: int, through_seq: int) -> dict[str, Any]:
    """The Z report's foreign currencies: per currency and tender, what was taken and given
    back (its own minor units) and what it counted for in the home currency."""
    rows = tx.all(
        "SELECT currency, type, movement, COUNT(*) AS n, SUM(foreign_amount) AS foreign_amount,"
        " SUM(home_amount) AS home_amount FROM exchange_tenders WHERE seq > ? AND seq <= ?"
        " GROUP BY currency, type, movement ORDER BY currency, type", (from_seq, through_seq))
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        row = out.setdefault((r["currency"], r["type"]), {
            "currency": r["currency"], "type": r["type"], "count": 0, "taken": 0,
            "given_back": 0, "net": 0, "home_taken": 0, "home_given_back": 0})
        row["count"] += r["n"] if r["movement"] == "taken" else 0
        row[r["movement"]] += r["foreign_amount"]
        row[f"home_{r['movement']}"] += r["home_amount"]
        row["net"] = row["taken"] - row["given_back"]
    return {"currencies": list(out.values())}


# -- the service ------------------------------------------------------------------------------

class RatesMessage:
    """HQ's `exchange_rates` message, as the HQ book hands it to this layer."""

    def __init__(self, exchange: Exchange) -> None:
        self.exchange = exchange

    def validate(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        return check_rates(body, self.exchange.home)

    def apply_in(self, tx: Tx, checked: list[dict[str, Any]]) -> None:
        self.exchange.rates_in(tx, checked)


class Exchange:
    """Rates, quotes, foreign tenders into a cart, their checks in the sale."""

    tenders: frozenset[str] = frozenset()  # a foreign tender is cash or a card

    def __init__(self, store: Store, settings: ExchangeSettings | None = None, *,
                 now: Callable[[], datetime] | None = None) -> None:
        self.store, self.ledger = store, store.ledger
        self.settings = settings or exchange_settings(store.config)
        self.home = store.config.currency
        self.now = now or (lambda: datetime.now(UTC))

    def money(self, amount: int, currency: str | None = None) -> Money:
        return Money(amount, currency or self.home)

    # -- rates ------------------------------------------------------------------------------

    def rates_in(self, tx: Tx, rates: list[dict[str, Any]]) -> None:
        """HQ's rates: applied, or held for a manager when they move beyond the band."""
        applied, held = [], []
        for rate in rates:
            row = tx.one("SELECT rate FROM exchange_rates WHERE currency = ?",
                         (rate["currency"],))
            if row is not None:
                moved = move_bp(Fraction(row["rate"]), Fraction(rate["rate"]))
                if moved > self.settings.max_move_bp:
                    held.append({**rate, "previous": row["rate"], "move_bp": moved})
                    continue
            applied.append(rate)
        if applied:
            tx.append("exchange.rates_set", "exchange:rates", {"rates": applied}, actor="hq")
        if held:
            tx.append("exchange.rates_held", "exchange:rates",
                      {"rates": held, "max_move_bp": self.settings.max_move_bp}, actor="hq")

    async def accept(self, held_seq: Any, currency: Any, *, actor: str) -> dict[str, Any]:
        """A manager puts a held rate in force (refused once another rate replaced it)."""
        f = Form({"held_seq": held_seq, "currency": currency})
        seq = f.whole("held_seq", lo=1, required=True)
        code = f.text("currency", required=True, max_len=3)
        f.done()

        def command(tx: Tx) -> Entry:
            row = tx.one("SELECT * FROM exchange_held WHERE seq = ? AND currency = ?",
                         (seq, code))
            if row is None:
                raise NotFound("no held rate {ref}", ref=f"{code}@{seq}")
            if row["status"] != "held":
                raise Refused("not_held", "the rate {ref} is no longer waiting: it was"
                              " {status}", ref=f"{code}@{seq}",
                              status=Term("exchange_held", row["status"]))
            rate = {k: row[k] for k in ("currency", "rate", "valid_from", "valid_until")}
            return tx.append("exchange.rate_accepted", "exchange:rates",
                             {"held_seq": seq, "rate": rate, "previous": row["previous"],
                              "move_bp": row["move_bp"]}, actor=actor)

        entry = await self.ledger.transact(command)
        return {"seq": entry.seq, "currency": code, "rate_ref": f"{code}@{entry.seq}"}

    def taken(self, currency: str) -> bool:
        return currency != self.home and (not self.settings.accepted
                                          or currency in self.settings.accepted)

    def _rate_in(self, tx: Tx, currency: str, field: str = "currency") -> dict[str, Any]:
        """The rate in force for `currency`, now valid, or a refusal in words."""
        if not self.taken(currency):
            raise Refused("currency_not_taken", "this store does not take {currency}",
                          currency=currency, field=field)
        row = tx.one("SELECT * FROM exchange_rates WHERE currency = ?", (currency,))
        if row is None:
            raise Refused("no_rate", "head office has sent no rate for {currency}: it cannot"
                          " be taken", currency=currency, field=field)
        now = self.now()
        if not (datetime.fromisoformat(row["valid_from"]) <= now
                < datetime.fromisoformat(row["valid_until"])):
            raise Refused("stale_rate", "the rate for {currency} is not valid now: wait for"
                          " head office's new rate", currency=currency, field=field)
        return dict(row)

    def quote_in(self, tx: Tx, currency: Any, foreign_amount: Any) -> dict[str, Any]:
        """What `foreign_amount` (minor units of `currency`) counts for here, now."""
        try:
            code = check_currency(currency)
        except MoneyError:
            raise Invalid("“{value}” is no ISO 4217 currency", "currency",
                          value=str(currency)) from None
        f = Form({"foreign_amount": foreign_amount})
        amount = f.whole("foreign_amount", lo=1, hi=MAX_FOREIGN, required=True)
        f.done()
        row = self._rate_in(tx, code)
        applied = applied_rate(Fraction(row["rate"]), self.settings.spread_bp)
        home = convert(amount, code, self.home, applied)
        if home <= 0:
            raise Refused("too_small", "{amount} is less than the smallest amount of {home}",
                          amount=self.money(amount, code), home=self.home,
                          field="foreign_amount")
        return {"currency": code, "foreign_amount": amount, "amount": home,
                "hq_rate": row["rate"], "rate": decimal_text(applied),
                "rate_ref": f"{code}@{row['seq']}", "spread_bp": self.settings.spread_bp,
                "valid_until": row["valid_until"]}

    async def quote(self, currency: Any, foreign_amount: Any) -> dict[str, Any]:
        return await self.ledger.read(lambda tx: self.quote_in(tx, currency, foreign_amount))

    def parse_foreign(self, raw: Any, currency: Any) -> int:
        """The foreign amount as typed (`500`, `500,00` in the store's writing) or as minor
        units (an integer), in minor units of `currency`."""
        try:
            code = check_currency(currency)
        except MoneyError:
            raise Invalid("“{value}” is no ISO 4217 currency", "currency",
                          value=str(currency)) from None
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        try:
            return self.store.words.parse_amount(raw, code)
        except MoneyError as exc:
            raise Invalid(exc.message, "foreign_amount", **exc.params) from None

    async def take(self, register_id: Any, raw: Any, *, by: str) -> dict[str, Any]:
        """A foreign tender into the register's cart: the hub computes its home amount."""
        f = Form(raw, allowed=("currency", "foreign_amount", "type", "brand", "last4",
                               "auth_code", "terminal_ref"))
        kind = f.choice("type", FOREIGN_TENDERS, lower=False, vocabulary="tender") or "cash"
        currency = f.text("currency", required=True, max_len=3)
        f.done()
        if kind == "card" and not self.settings.cards:
            raise Refused("foreign_card_not_taken", "this store charges cards in its own"
                          " currency only", field="type")
        amount = self.parse_foreign(raw.get("foreign_amount"), currency)
        quote = await self.quote(currency, amount)
        extra = {k: raw[k] for k in ("brand", "last4", "auth_code", "terminal_ref")
                 if kind == "card" and raw.get(k) is not None}
        tender = {"type": kind, "amount": quote["amount"], "currency": quote["currency"],
                  "foreign_amount": str(quote["foreign_amount"]), "rate": quote["rate"],
                  "rate_ref": quote["rate_ref"], **extra}
        return await self.store.carts.add_tender(register_id, tender, by=by)

    # -- checks in the cart and the sale ------------------------------------------------------

    def check_in(self, tx: Tx, tender: dict[str, Any], where: str = "tenders") -> None:
        """A foreign tender's detail against the rate in force: all four keys, the rate
        named still the one in force and valid, the rate and the home amount as the hub
        computes them. Another tender passes untouched."""
        detail = tender.get("detail") or {}
        given = [k for k in DETAIL if k in detail]
        if not given:
            return
        if len(given) != len(DETAIL):
            raise Invalid("a tender in another currency names its currency, foreign amount,"
                          " rate and rate reference", where)
        code = detail["currency"]
        ref = _REF.fullmatch(detail["rate_ref"])
        if ref is None or ref.group(1) != code:
            raise Invalid("“{ref}” is not a rate of {currency}", where, ref=detail["rate_ref"],
                          currency=code)
        if not detail["foreign_amount"].isdigit():
            raise Invalid("a foreign amount is in that currency's minor units", where)
        row = self._rate_in(tx, code, where)
        if int(ref.group(2)) != row["seq"]:
            raise Refused("rate_changed", "the rate for {currency} changed since this tender"
                          " was taken: remove it and take it again", currency=code,
                          field=where)
        quote = self.quote_in(tx, code, int(detail["foreign_amount"]))
        if detail["rate"] != quote["rate"] or tender["amount"] != quote["amount"]:
            raise Refused("foreign_amount_mismatch", "{foreign} counts for {amount} at the"
                          " rate of now, not {given}", foreign=self.money(
                              quote["foreign_amount"], code),
                          amount=self.money(quote["amount"]),
                          given=self.money(tender["amount"]), field=where)

    def sold_in(self, tx: Tx, sale: dict[str, Any], actor: str) -> None:
        for i, tender in enumerate(sale["tenders"]):
            self.check_in(tx, tender, f"tenders[{i}]")

    def returned_in(self, tx: Tx, sale: dict[str, Any], back: dict[str, Any],
                    actor: str) -> None:
        return None

    def voided_in(self, tx: Tx, sale: dict[str, Any], back: dict[str, Any],
                  actor: str) -> None:
        return None

    # -- reads ----------------------------------------------------------------------------

    async def rates(self) -> list[dict[str, Any]]:
        """The rates in force, each with the rate the counter applies and whether it is
        valid now."""
        rows = await self.ledger.fetch("SELECT * FROM exchange_rates ORDER BY currency")
        now, out = self.now(), []
        for r in rows:
            applied = applied_rate(Fraction(r["rate"]), self.settings.spread_bp)
            out.append({**dict(r), "rate_ref": f"{r['currency']}@{r['seq']}",
                        "applied": decimal_text(applied), "taken": self.taken(r["currency"]),
                        "valid": datetime.fromisoformat(r["valid_from"]) <= now
                        < datetime.fromisoformat(r["valid_until"])})
        return out

    async def held(self) -> list[dict[str, Any]]:
        rows = await self.ledger.fetch("SELECT * FROM exchange_held WHERE status = 'held'"
                                       " ORDER BY seq DESC, currency")
        return [dict(r) for r in rows]

    async def taken_between(self, from_seq: int, through_seq: int) -> dict[str, Any]:
        return await self.ledger.read(lambda tx: closure_section(tx, from_seq, through_seq))
