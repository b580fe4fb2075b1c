"""The one price function: what a piece costs at a moment, and which rate said so.

A piece is fixed-price (its `tag_price`) or priced by the gram: its `pricing` rule (a making
charge per gram or as a share of the metal's value, its stones, a margin, its rounding) is
part of the piece, received and edited with it and journaled in `item.received` /
`item.updated`. Its price is then

    (weight × HQ's rate for its alloy + making + stones) × (1 + margin), rounded once

in integers only (`rate_price`): the same inputs always give the same price, and the
projection may recompute it on a rebuild and find the same rows.

When a `rates` message is applied (hub/core/hq.py), every rate-priced piece the new rates
reach follows in that very transaction: one `hq.message` entry, the `items` rows rewritten
with one `executemany` (`reprice_in`), and each piece's history pointing at that entry. A
rate moving more than `[pricing] max_rate_move_bp` against the current one is held for a
manager instead (`rate_move_held`, an `hq.conflict`), applied only when she accepts it
(`rates.accepted`). A quote locks a price and its rate for `[pricing] quote_days` days
(`price.quoted`); a batch of tags is reprinted after rates move (`item.tags_printed`).

This module knows nothing of HTTP; it imports no other service (sales and HQ import it).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from hub.config import Config, ConfigError
from hub.core import fields, metals
from hub.core.errors import NotFound, Refused
from hub.core.fields import Form
from hub.core.projector import touch_item
from hub.ledger.journal import Entry
from hub.ledger.ledger import Ledger, Tx
from hub.words import N_, Term

PRICING_KEYS = ("making_per_gram", "making_bp", "stones", "margin_bp", "round_to", "rounding")
RATE_METALS = tuple(metals.FINENESSES)  # the metals HQ quotes a rate for
BP = 10_000
# A piece no longer in the store keeps the price it was sold or written off at.
_GONE = ("sold", "written_off")
_SAFE_DAYS = 365


@dataclass(frozen=True)
class PricingSettings:
    """`[pricing]` in loupe.toml: the store's rounding for new rules, the band beyond which
    a rate move waits for a manager, and how long a quote holds."""

    round_to: int = 100  # minor units: 100 rounds to whole euros
    rounding: str = "nearest"  # nearest | up | down
    max_rate_move_bp: int = 1000  # 1000 = a move of 10 % against the current rate
    quote_days: int = 7


def pricing_settings(config: Config) -> PricingSettings:
    """The `[pricing]` section, each key checked with its own sentence (ConfigError)."""
    section = config.section("pricing")
    round_to = section.whole("round_to", 100, 1, 10**9)
    rounding = section.text("rounding", "nearest")
    if rounding not in metals.ROUNDING:
        raise ConfigError(f"pricing.rounding: must be one of {', '.join(metals.ROUNDING)},"
                          f" got {rounding!r}")
    band = section.whole("max_rate_move_bp", 1000, 1, 100_000)
    days = section.whole("quote_days", 7, 1, _SAFE_DAYS)
    section.done()
    return PricingSettings(round_to, rounding, band, days)


# -- a piece's rule ---------------------------------------------------------------------------

def validate_pricing(raw: Any, settings: PricingSettings = PricingSettings(),
                     field: str = "pricing") -> dict[str, Any] | None:
    """A piece's pricing rule as typed (None: a fixed price), every key kept explicit so the
    journal says exactly how it was priced: `making_per_gram` (minor units a gram of alloy)
    or `making_bp` (a share of the metal's value), `stones` (an amount), `margin_bp`,
    `round_to` and `rounding` (the store's when not given)."""
    if raw is None:
        return None
    f = Form(raw, field, allowed=PRICING_KEYS)
    per_gram = f.amount("making_per_gram")
    share = f.whole("making_bp", lo=0, hi=100_000)
    if per_gram and share:
        f.problem("making_bp", "give the making charge per gram or as a share of the metal's"
                               " value, not both")
    rule = {"making_per_gram": per_gram or 0, "making_bp": share or 0,
            "stones": f.amount("stones") or 0,
            "margin_bp": f.whole("margin_bp", lo=0, hi=100_000) or 0,
            "round_to": f.whole("round_to", lo=1, hi=10**9) or settings.round_to,
            "rounding": f.choice("rounding", metals.ROUNDING, lower=False) or settings.rounding}
    f.done()
    return rule


def check_rate_priced(piece: dict[str, Any], form: Form) -> None:
    """A rate-priced piece needs a metal HQ quotes, its fineness and its weight."""
    if not piece.get("pricing"):
        return
    if piece.get("metal") not in RATE_METALS:
        form.problem("metal", "a piece priced by the gram is of gold, platinum, palladium or"
                              " silver")
    if not piece.get("fineness"):
        form.problem("fineness", "a piece priced by the gram needs its fineness")
    if not piece.get("metal_weight_mg"):
        form.problem("metal_weight_mg", "a piece priced by the gram needs its metal weight")


def rate_price(weight_mg: int, fineness: int, per_gram: int, rate_fineness: int,
               rule: dict[str, Any]) -> int:
    """The price of a piece by the gram, in minor units: exact integers over one common
    denominator, rounded once by the rule's step and mode. The same as `rate_price_exact`
    rounded (the property tests check it), without a Fraction per piece."""
    den = metals.MG_PER_GRAM * rate_fineness * BP
    metal = weight_mg * per_gram * fineness  # over MG_PER_GRAM * rate_fineness
    making = (rule["making_per_gram"] * weight_mg * rate_fineness * BP
              + metal * rule["making_bp"])
    num = (metal * BP + making + rule["stones"] * den) * (BP + rule["margin_bp"])
    return metals.round_ratio(num, den * BP, rule["round_to"], rule["rounding"])


def rate_price_exact(weight_mg: int, fineness: int, per_gram: int, rate_fineness: int,
                     rule: dict[str, Any]) -> dict[str, Any]:
    """The price's parts before rounding (exact Fractions): what a quote or a page explains."""
    value = metals.metal_value(weight_mg, fineness, per_gram, rate_fineness)
    making = (metals.Fraction(rule["making_per_gram"] * weight_mg, metals.MG_PER_GRAM)
              + value * rule["making_bp"] / BP)
    before = value + making + rule["stones"]
    total = before * (BP + rule["margin_bp"]) / BP
    return {"metal": value, "making": making, "stones": rule["stones"],
            "margin": total - before, "total": total}


# -- rates, as HQ sent them -------------------------------------------------------------------

def moment(text: str, tz: tzinfo, *, end_of_day: bool = False) -> datetime:
    """A time HQ or a person wrote (ISO): a bare day is the store's day (its end when asked:
    valid through that day); a time without an offset is the store's time."""
    if len(text) == 10:
        day = datetime.fromisoformat(text).replace(tzinfo=tz)
        return day + timedelta(days=1) - timedelta(microseconds=1) if end_of_day else day
    at = datetime.fromisoformat(text)
    return at if at.tzinfo is not None else at.replace(tzinfo=tz)


def _rates_of(tx: Tx, currency: str | None = None) -> dict[tuple[str, int], dict[str, Any]]:
    rows = tx.all("SELECT * FROM hq_rates" + (" WHERE currency = ?" if currency else ""),
                  (currency,) if currency else ())
    return {(r["metal"], r["fineness"]): {k: r[k] for k in r.keys()} for r in rows}


def _pick(rates: dict[tuple[str, int], dict[str, Any]], metal: str,
          fineness: int) -> dict[str, Any] | None:
    """HQ's rate for that very alloy, else its fine rate (1000), scaled by the fineness."""
    return rates.get((metal, fineness)) or rates.get((metal, metals.PER_MILLE))


def _named(row: dict[str, Any], message_id: str | None) -> dict[str, Any]:
    """The rate as every price names it: metal, the fineness HQ quoted, per gram of that
    fineness, currency, validity, and the HQ message (and its entry) it came in."""
    return {"metal": row["metal"], "fineness": row["fineness"], "per_gram": row["per_gram"],
            "currency": row["currency"], "valid_from": row["valid_from"],
            "valid_until": row["valid_until"], "message_id": message_id, "seq": row["seq"]}


def _source_of(tx: Tx, seq: int) -> str | None:
    """The HQ message an entry of rates carried (applied, or accepted by a manager)."""
    row = tx.one("SELECT message_id FROM hq_messages WHERE seq = ?", (seq,)) or tx.one(
        "SELECT message_id FROM rate_acceptances WHERE accepted_seq = ?", (seq,))
    return row["message_id"] if row else None


def _price_row(piece: Any, rates: dict[tuple[str, int], dict[str, Any]],
               sources: dict[int, str | None], tx: Tx) -> tuple[int, str, int] | None:
    rule = json.loads(piece["pricing"])
    row = _pick(rates, piece["metal"], piece["fineness"])
    if row is None or not piece["metal_weight_mg"]:
        return None
    if row["seq"] not in sources:
        sources[row["seq"]] = _source_of(tx, row["seq"])
    price = rate_price(piece["metal_weight_mg"], piece["fineness"], row["per_gram"],
                       row["fineness"], rule)
    return price, json.dumps(_named(row, sources[row["seq"]]), sort_keys=True), row["seq"]


def price_piece_in(tx: Tx, item_id: str, seq: int) -> None:
    """A piece's price from its rule and today's rates (its receipt or its edit, `seq`):
    no rule, no rate (the cart refuses it in words until HQ sends one)."""
    piece = tx.one("SELECT item_id, metal, fineness, metal_weight_mg, pricing, status"
                   " FROM items WHERE item_id = ?", (item_id,))
    if piece is None:
        return
    if not piece["pricing"]:
        tx.execute("UPDATE items SET price_rate = NULL, price_rate_seq = NULL WHERE item_id = ?",
                   (item_id,))
        return
    priced = _price_row(piece, _rates_of(tx), {}, tx)
    if priced is None:
        tx.execute("UPDATE items SET price_rate = NULL, price_rate_seq = NULL WHERE item_id = ?",
                   (item_id,))
        return
    tx.execute("UPDATE items SET tag_price = ?, price_rate = ?, price_rate_seq = ?"
               " WHERE item_id = ?", (*priced, item_id))


def rates_in(tx: Tx, rates: list[dict[str, Any]], seq: int) -> int:
    """New rates into `hq_rates`, then every rate-priced piece they reach re-priced in the
    same transaction (entry `seq`: the message's, or a manager's acceptance of it). A piece
    follows only when the rate that prices it came in this entry. Returns how many moved."""
    tx.conn.executemany(
        "INSERT INTO hq_rates (metal, fineness, currency, per_gram, valid_from, valid_until,"
        " seq) VALUES (?,?,?,?,?,?,?) ON CONFLICT(metal, fineness, currency) DO UPDATE SET"
        " per_gram = excluded.per_gram, valid_from = excluded.valid_from,"
        " valid_until = excluded.valid_until, seq = excluded.seq",
        [(r["metal"], r["fineness"], r["currency"], r["per_gram"], r["valid_from"],
          r["valid_until"], seq) for r in rates])
    return reprice_in(tx, seq, sorted({(r["metal"], r["currency"]) for r in rates}))


def reprice_in(tx: Tx, seq: int, reached: Iterable[tuple[str, str]]) -> int:
    updates: list[tuple[int, str, int, int, str]] = []
    sources = {seq: _source_of(tx, seq)}
    for metal, currency in reached:
        rates = _rates_of(tx, currency)
        # A rule and a rate are the same for many pieces: each price is computed once.
        memo: dict[tuple[str, int, int], int] = {}
        named: dict[int, str] = {}
        for piece in tx.all(
                "SELECT item_id, fineness, metal_weight_mg, pricing FROM items"
                " WHERE metal = ? AND pricing IS NOT NULL AND status NOT IN (?, ?)"
                " ORDER BY item_id", (metal, *_GONE)):
            row = _pick(rates, metal, piece["fineness"])
            if row is None or row["seq"] != seq or not piece["metal_weight_mg"]:
                continue
            key = (piece["pricing"], piece["fineness"], piece["metal_weight_mg"])
            price = memo.get(key)
            if price is None:
                price = memo[key] = rate_price(piece["metal_weight_mg"], piece["fineness"],
                                               row["per_gram"], row["fineness"],
                                               json.loads(piece["pricing"]))
            text = named.get(row["fineness"])
            if text is None:
                text = named[row["fineness"]] = json.dumps(_named(row, sources[seq]),
                                                           sort_keys=True)
            updates.append((price, text, seq, seq, piece["item_id"]))
    tx.conn.executemany("UPDATE items SET tag_price = ?, price_rate = ?, price_rate_seq = ?,"
                        " updated_seq = ? WHERE item_id = ?", updates)
    tx.conn.executemany("INSERT OR IGNORE INTO item_history (item_id, seq) VALUES (?, ?)",
                        [(u[4], seq) for u in updates])
    return len(updates)


def band_conflict(tx: Tx, rates: list[dict[str, Any]], band_bp: int) -> str | None:
    """Why new rates wait for a manager: one moves more than `band_bp` against the rate it
    replaces (a typo at HQ, a feed gone wrong), or None."""
    current = _rates_of(tx)
    for r in rates:
        was = current.get((r["metal"], r["fineness"]))
        if was is None or was["currency"] != r["currency"]:
            continue
        if abs(r["per_gram"] - was["per_gram"]) * BP > was["per_gram"] * band_bp:
            return (f"the {r['metal']} {r['fineness']} rate moves from {was['per_gram']} to"
                    f" {r['per_gram']} {r['currency']} minor units a gram, more than"
                    f" {band_bp} basis points: held for a manager")
    return None


# -- projections ------------------------------------------------------------------------------

def _on_quoted(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute("INSERT INTO price_quotes (quote_id, item_id, client_id, unit_price, rate,"
               " valid_until, seq) VALUES (?,?,?,?,?,?,?)",
               (p["quote_id"], p["item_id"], p.get("client_id"), p["unit_price"],
                json.dumps(p["rate"], sort_keys=True) if p.get("rate") else None,
                p["valid_until"], entry.seq))
    touch_item(tx, p["item_id"], entry.seq)


def _on_accepted(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute("INSERT INTO rate_acceptances (message_id, held_seq, accepted_seq)"
               " VALUES (?,?,?)", (p["message_id"], p["held_seq"], entry.seq))
    rates_in(tx, p["rates"], entry.seq)


def _on_tags_printed(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.conn.executemany("UPDATE items SET tag_printed_price = ? WHERE item_id = ?",
                        [(t["price"], t["item_id"]) for t in p["tags"]])
    tx.conn.executemany("INSERT OR IGNORE INTO item_history (item_id, seq) VALUES (?, ?)",
                        [(t["item_id"], entry.seq) for t in p["tags"]])


PROJECTIONS = {
    "price.quoted": _on_quoted,
    "rates.accepted": _on_accepted,
    "item.tags_printed": _on_tags_printed,
}


# -- the service ------------------------------------------------------------------------------

def _parse(row: Any) -> dict[str, Any]:
    out = {k: row[k] for k in row.keys()}
    for key in ("pricing", "price_rate", "rate"):
        if isinstance(out.get(key), str):
            out[key] = json.loads(out[key])
    return out


NO_RATE = N_("piece {item_id} is priced by the gram and head office has sent no rate for"
             " {metal} {fineness}: it cannot be sold until one comes")


class Prices:
    """The price of a piece at a moment (the cart, the tags, the quotes and the pages ask
    here), quotes, held rate moves and the tags to reprint."""

    def __init__(self, ledger: Ledger, settings: PricingSettings, *, currency: str,
                 tz: tzinfo = UTC, now: Callable[[], datetime] | None = None) -> None:
        self.ledger = ledger
        self.settings = settings
        self.currency = currency
        self.tz = tz
        self.now = now or (lambda: datetime.now(UTC))

    def moment(self, text: str, *, end_of_day: bool = False) -> datetime:
        return moment(text, self.tz, end_of_day=end_of_day)

    def shown(self, piece: dict[str, Any]) -> dict[str, Any] | None:
        """What a piece's page says of its price by the gram: the rule, the rate (or none)
        and whether it is stale; None for a fixed-price piece."""
        if not piece.get("pricing"):
            return None
        rate = piece.get("price_rate")
        return {"rule": piece["pricing"], "rate": rate, "stale": self.stale(rate)}

    def stale(self, rate: dict[str, Any] | None, at: datetime | None = None) -> bool:
        """Past its validity, in the store's time."""
        if not rate:
            return False
        return (at or self.now()) > moment(rate["valid_until"], self.tz, end_of_day=True)

    def line_in(self, tx: Tx, piece: dict[str, Any], quote_id: str | None = None,
                at: datetime | None = None) -> dict[str, Any]:
        """What a cart line of this piece sells at: {unit_price, rate (or None), stale,
        quote_id}. A quote named sells at its price while valid; a rate-priced piece with no
        rate is refused in words."""
        at = at or self.now()
        if quote_id:
            quote = tx.one("SELECT * FROM price_quotes WHERE quote_id = ?", (quote_id,))
            if quote is None or quote["item_id"] != piece["item_id"]:
                raise NotFound("no quote {quote_id} for piece {item_id}", quote_id=quote_id,
                               item_id=piece["item_id"])
            if at > moment(quote["valid_until"], self.tz):
                raise Refused("quote_expired", "quote {quote_id} was valid until {until}: quote"
                              " the piece again at today's price", quote_id=quote_id,
                              until=moment(quote["valid_until"], self.tz).astimezone(
                                  self.tz).strftime("%Y-%m-%d %H:%M"))
            return {"unit_price": quote["unit_price"], "stale": False, "quote_id": quote_id,
                    "rate": json.loads(quote["rate"]) if quote["rate"] else None}
        if not piece.get("pricing"):
            return {"unit_price": piece["tag_price"], "rate": None, "stale": False,
                    "quote_id": None}
        rate = piece.get("price_rate")
        if isinstance(rate, str):
            rate = json.loads(rate)
        if not rate:
            raise Refused("no_rate", NO_RATE, item_id=piece["item_id"],
                          metal=Term("metal", piece.get("metal") or ""),
                          fineness=piece.get("fineness") or "")
        return {"unit_price": piece["tag_price"], "rate": rate, "stale": self.stale(rate, at),
                "quote_id": None}

    async def rate_for(self, metal: str, fineness: int, weight_mg: int | None = None
                       ) -> dict[str, Any] | None:
        """The rate that prices `metal` at `fineness` now (HQ's alloy rate, else its fine
        rate), as every price names it, with `stale`; with a weight, `metal_value` (minor
        units, rounded once): what a custom order's quote locks."""
        def read(tx: Tx) -> dict[str, Any] | None:
            row = _pick(_rates_of(tx, self.currency), metal, fineness)
            return None if row is None else _named(row, _source_of(tx, row["seq"]))
        rate = await self.ledger.read(read)
        if rate is None:
            return None
        rate["stale"] = self.stale(rate)
        if weight_mg:
            rate["metal_value"] = metals.round_amount(metals.metal_value(
                weight_mg, fineness, rate["per_gram"], rate["fineness"]))
        return rate

    # -- quotes -------------------------------------------------------------------------

    async def quote(self, item_id: Any, *, client_id: Any = None, actor: str) -> dict[str, Any]:
        """Lock a piece's price today (and the rate it used) for `quote_days` days: a cart
        line naming the quote sells at it while it is valid."""
        item_id = fields.identifier(item_id, "item_id", what="a serial")
        client_id = fields.identifier(client_id, "client_id", required=False,
                                      pattern=fields.ID, what="a client id")
        at = self.now()
        until = (at + timedelta(days=self.settings.quote_days)).astimezone(UTC)

        def command(tx: Tx) -> dict[str, Any]:
            row = tx.one("SELECT * FROM items WHERE item_id = ?", (item_id,))
            if row is None:
                raise NotFound("no piece with serial “{item_id}”", item_id=item_id)
            if row["status"] != "in_stock":
                raise Refused("item_not_in_stock", "piece {item_id} is not in stock: it takes"
                              " no quote", item_id=item_id)
            if client_id and not tx.one("SELECT 1 FROM clients WHERE client_id = ? AND"
                                        " status = 'active'", (client_id,)):
                raise NotFound("no client {client_id}", client_id=client_id)
            line = self.line_in(tx, _parse(row), at=at)
            if line["stale"]:
                raise Refused("stale_rate", "the rate of piece {item_id} is past its validity:"
                              " a quote waits for head office's new rate", item_id=item_id)
            quote = {"quote_id": "Q" + secrets.token_hex(5).upper(), "item_id": item_id,
                     "client_id": client_id, "unit_price": line["unit_price"],
                     "currency": self.currency, "rate": line["rate"],
                     "valid_until": until.strftime("%Y-%m-%dT%H:%M:%SZ")}
            tx.append("price.quoted", f"item:{item_id}", quote, actor=actor)
            return quote

        return await self.ledger.transact(command)

    async def quotes_of(self, item_id: str) -> list[dict[str, Any]]:
        rows = await self.ledger.fetch("SELECT * FROM price_quotes WHERE item_id = ?"
                                       " ORDER BY seq DESC", (item_id,))
        return [_parse(r) for r in rows]

    # -- rates and their held moves -----------------------------------------------------

    async def rates(self) -> list[dict[str, Any]]:
        """HQ's current rates, each with `stale` (past its validity now) and the message."""
        def read(tx: Tx) -> list[dict[str, Any]]:
            rows = tx.all("SELECT * FROM hq_rates ORDER BY metal, fineness, currency")
            return [{**_named({k: r[k] for k in r.keys()}, _source_of(tx, r["seq"]))}
                    for r in rows]
        return [{**r, "stale": self.stale(r)} for r in await self.ledger.read(read)]

    async def held(self) -> list[dict[str, Any]]:
        """Rate messages held for a manager (moved beyond the band) and not accepted yet."""
        def read(tx: Tx) -> list[Any]:
            return tx.all(
                "SELECT m.message_id, m.seq, c.ts, c.detail FROM hq_messages m"
                " JOIN hq_conflicts c ON c.ref = 'hq:' || m.message_id"
                " AND c.kind = 'rate_move_held' WHERE m.type = 'rates'"
                " AND m.outcome = 'conflict' AND NOT EXISTS (SELECT 1 FROM rate_acceptances a"
                " WHERE a.message_id = m.message_id) ORDER BY m.seq")
        out = []
        for row in await self.ledger.read(read):
            payload = await self.ledger.payload_at(row["seq"]) or {}
            out.append({"message_id": row["message_id"], "seq": row["seq"], "ts": row["ts"],
                        "detail": row["detail"],
                        "rates": payload.get("message", {}).get("body", {}).get("rates", [])})
        return out

    async def accept(self, message_id: Any, *, actor: str) -> dict[str, Any]:
        """A manager accepts a held rate move: its rates apply now and the pieces follow."""
        message_id = fields.text(message_id, "message_id", required=True, max_len=80)
        held = {h["message_id"]: h for h in await self.held()}
        if message_id not in held:
            raise NotFound("no rate message {message_id} waits for a manager",
                           message_id=message_id)
        h = held[message_id]

        def command(tx: Tx) -> Entry:
            if tx.one("SELECT 1 FROM rate_acceptances WHERE message_id = ?", (message_id,)):
                raise Refused("already_accepted", "rate message {message_id} was already"
                              " accepted", message_id=message_id)
            return tx.append("rates.accepted", f"hq:{message_id}",
                             {"message_id": message_id, "held_seq": h["seq"],
                              "rates": h["rates"]}, actor=actor)

        entry = await self.ledger.transact(command)
        return {"message_id": message_id, "seq": entry.seq}

    # -- tags ---------------------------------------------------------------------------

    async def tags_to_reprint(self, limit: int = 500) -> list[dict[str, Any]]:
        """Rate-priced pieces in stock whose price moved since their tag was last printed."""
        rows = await self.ledger.fetch(
            "SELECT item_id, description, tag_price, tag_printed_price, price_rate FROM items"
            " WHERE pricing IS NOT NULL AND status = 'in_stock' AND"
            " tag_printed_price IS NOT tag_price ORDER BY item_id LIMIT ?", (limit,))
        return [_parse(r) for r in rows]

    async def tags_printed(self, item_ids: Iterable[str], *, actor: str) -> int:
        """Record that these pieces' tags now show their current price (one entry)."""
        ids = sorted(set(item_ids))
        if not ids:
            return 0

        def command(tx: Tx) -> int:
            tags = []
            for item_id in ids:
                row = tx.one("SELECT tag_price, price_rate_seq FROM items WHERE item_id = ?",
                             (item_id,))
                if row is None:
                    raise NotFound("no piece with serial “{item_id}”", item_id=item_id)
                tags.append({"item_id": item_id, "price": row["tag_price"],
                             "rate_seq": row["price_rate_seq"]})
            tx.append("item.tags_printed", f"item:{ids[0]}", {"tags": tags}, actor=actor)
            return len(tags)

        return await self.ledger.transact(command)


def piece_view(piece: dict[str, Any]) -> dict[str, Any]:
    """A piece row as the services give it: its rule and its rate as objects."""
    return _parse(piece)
