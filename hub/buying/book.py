"""Buying gold from clients, and trade-ins (area `buying`).

A buy-in (`B<seq>`) is bought from a living client who showed an identity document kept in
her sealed profile (an expired one refuses the purchase). Its lots are weighed (mg), their
metal and fineness checked by `hub.core.metals` (any fineness for an assayed lot) and the
test named. The price is `price_of`: HQ's fine (spot) rate × weight × purity × (1 − refining
− margin), exact, rounded down once. The associate may offer less; more needs a manager.

Two entries per purchase: `buyin.details` sealed under her key (the document shown, the
lots' descriptions and photos, a transfer's reference) and `buyin.recorded` under the
store's (weights, fineness, tests, rate, prices, payout, the hold's end). Payout is cash
from a register (the Z report's `buying` section, so the drawer reconciles), a bank
transfer, store credit (`hub.giftcards.credit`) or a trade-in: the value held on the
account `trade_in:<buyin>` (kind `trade_in`) until a sale for her spends it as the
`trade_in` tender (this is that tender's `SaleExtension`). A return or void of that sale
gives the value back to the same account: the trade-in is open again, for another sale.

Every lot sits out `[buying] hold_days`: until then it is no piece, and it may not be melted
or taken into stock; after, a manager releases it (`buyin.released`) to the melt or to
stock, received as a piece through `Items` in the same transaction.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import pyrage

from hub.config import Config
from hub.core import fields, metals
from hub.core.accounts import Movement
from hub.core.approvals import Approvals
from hub.core.errors import Invalid, NotFound, Refused
from hub.core.fields import Form
from hub.documents import Document
from hub.giftcards.credit import issue_store_credit_in
from hub.ledger.journal import Entry
from hub.ledger.ledger import Tx
from hub.ledger.schema import Migration, Schema
from hub.money import Money
from hub.words import Term
from hub.words.labels import METAL

if TYPE_CHECKING:  # the store is built from the layers: no import at run time
    from hub.store import Store

SCHEMA = Schema("buying", (Migration(1, """
CREATE TABLE buyins (
    buyin_id    TEXT PRIMARY KEY,           -- B<seq of its first entry>
    seq         INTEGER NOT NULL,
    ts          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    client_id   TEXT NOT NULL,
    register_id TEXT,
    payout      TEXT NOT NULL,              -- cash | bank_transfer | store_credit | trade_in
    computed    INTEGER NOT NULL,           -- what the formula gave
    price       INTEGER NOT NULL,           -- what she was paid (or credited)
    currency    TEXT NOT NULL,
    hold_until  TEXT NOT NULL,              -- the first day a lot may leave its hold
    approved_by TEXT,
    details_seq INTEGER NOT NULL,           -- the sealed entry with what is hers
    record      TEXT NOT NULL               -- the recorded payload, JSON (no personal data)
);
CREATE INDEX buyins_client ON buyins(client_id, seq);
CREATE INDEX buyins_ts ON buyins(ts);
CREATE TABLE buyin_lots (
    buyin_id    TEXT NOT NULL,
    pos         INTEGER NOT NULL,
    metal       TEXT NOT NULL,
    fineness    INTEGER NOT NULL,
    weight_mg   INTEGER NOT NULL,
    test        TEXT NOT NULL,
    value       INTEGER NOT NULL,           -- its share, rounded down (for the screen)
    status      TEXT NOT NULL,              -- held | melt | stock
    hold_until  TEXT NOT NULL,
    released_seq INTEGER,
    item_id     TEXT,                       -- the piece it became
    PRIMARY KEY (buyin_id, pos)
);
CREATE INDEX buyin_lots_held ON buyin_lots(status, hold_until);
"""),), projections=("buyins", "buyin_lots"))

BUY, RELEASE, REPORT = "buying.buy", "buying.release", "buying.report"
GRANTS = {"associate": (BUY,), "manager": (BUY, RELEASE, REPORT)}
PAYOUTS = ("cash", "bank_transfer", "store_credit", "trade_in")
TESTS = ("hallmark", "touchstone", "xrf", "fire_assay", "electronic")
BUYING_METALS = tuple(m for m in METAL if m in metals.FINENESSES)
ACCOUNT_KIND = "trade_in"
TENDER = "trade_in"
MAX_LOTS = 30
MAX_WEIGHT_MG = 10_000_000  # 10 kg: more is no counter purchase
BP = 10_000


@dataclass(frozen=True)
class BuyingSettings:
    hold_days: int = 14
    refining_bp: int = 300   # what the refiner keeps
    margin_bp: int = 1200    # the store's margin


def settings_of(config: Config) -> BuyingSettings:
    section = config.section("buying")
    d = BuyingSettings()
    settings = BuyingSettings(
        hold_days=section.whole("hold_days", d.hold_days, 0, 365),
        refining_bp=section.whole("refining_bp", d.refining_bp, 0, 5000),
        margin_bp=section.whole("margin_bp", d.margin_bp, 0, 5000))
    section.done()
    return settings


def lot_value(weight_mg: int, fineness: int, fine_per_gram: int | Fraction,
              refining_bp: int, margin_bp: int) -> Fraction:
    """A lot's exact worth to the store: its fine metal at the spot rate, less refining and
    margin (basis points). Never negative, never above the metal's spot value."""
    keep = max(0, BP - refining_bp - margin_bp)
    return metals.metal_value(weight_mg, fineness, fine_per_gram, 1000) * Fraction(keep, BP)


def price_of(lots: list[tuple[int, int, int | Fraction]], refining_bp: int,
             margin_bp: int) -> int:
    """The buying price of lots [(weight_mg, fineness, fine_per_gram)]: their exact values
    summed, rounded down once (the store never pays a fraction of a cent more)."""
    total = sum((lot_value(w, f, r, refining_bp, margin_bp) for w, f, r in lots), Fraction(0))
    return metals.round_amount(total, 1, "down")


def account_of(buyin_id: str) -> str:
    return f"trade_in:{buyin_id}"


def last_digits(number: str, n: int = 4) -> str:
    digits = number.replace(" ", "").replace("-", "")
    return "…" + digits[-n:]


def _on_recorded(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute("INSERT INTO buyins (buyin_id, seq, ts, actor, client_id, register_id, payout,"
               " computed, price, currency, hold_until, approved_by, details_seq, record)"
               " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
               (p["buyin_id"], entry.seq, entry.ts, entry.actor, p["client_id"],
                p.get("register_id"), p["payout"], p["computed"], p["price"], p["currency"],
                p["hold_until"], p.get("approved_by"), p["details_seq"],
                _json(p)))
    for lot in p["lots"]:
        tx.execute("INSERT INTO buyin_lots (buyin_id, pos, metal, fineness, weight_mg, test,"
                   " value, status, hold_until) VALUES (?,?,?,?,?,?,?,?,?)",
                   (p["buyin_id"], lot["pos"], lot["metal"], lot["fineness"],
                    lot["weight_mg"], lot["test"], lot["value"], "held", p["hold_until"]))


def _on_released(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute("UPDATE buyin_lots SET status = ?, released_seq = ?, item_id = ? WHERE"
               " buyin_id = ? AND pos = ?",
               (p["to"], entry.seq, p.get("item_id"), p["buyin_id"], p["pos"]))


def _json(p: dict[str, Any]) -> str:
    return json.dumps(p, sort_keys=True, separators=(",", ":"))


PROJECTIONS = {"buyin.recorded": _on_recorded, "buyin.released": _on_released}


def closure_section(tx: Any, from_seq: int, through_seq: int) -> dict[str, Any]:
    """The Z report's buying lines: cash paid out of each drawer for buy-ins (so the drawer
    reconciles), and what was bought by payout."""
    cash: dict[str, int] = {}
    by_payout: dict[str, int] = {}
    count = 0
    for row in tx.all("SELECT register_id, payout, price FROM buyins WHERE seq > ? AND"
                      " seq <= ?", (from_seq, through_seq)):
        count += 1
        by_payout[row["payout"]] = by_payout.get(row["payout"], 0) + row["price"]
        if row["payout"] == "cash":
            cash[row["register_id"]] = cash.get(row["register_id"], 0) + row["price"]
    return {"purchases": count, "cash_paid_out": sum(cash.values()),
            "cash_paid_out_by_register": cash, "by_payout": by_payout}


class Buying:
    """Buy-ins, the hold, releases, trade-ins (a SaleExtension) and the purchases register."""

    tenders = frozenset({TENDER})

    def __init__(self, store: Store, settings: BuyingSettings | None = None) -> None:
        self.store, self.ledger, self.words = store, store.ledger, store.words
        self.settings = settings or BuyingSettings()
        self.currency = store.config.currency
        self.now: Callable[[], datetime] = lambda: datetime.now(UTC)  # tests move it

    def today(self) -> date:
        return self.now().astimezone(self.words.tz).date()

    def money(self, amount: int) -> Money:
        return Money(amount, self.currency)

    # -- the price ------------------------------------------------------------------------

    def spot_in(self, tx: Tx, metal: str) -> dict[str, Any]:
        """HQ's fine rate of `metal` now, or a refusal in words."""
        rate = self.store.hq.rate_in(tx, metal, 1000, self.currency)
        now = self.now()
        if rate is None:
            raise Refused("no_rate", "head office has sent no rate for {metal}: nothing can be"
                          " bought until it does", metal=Term("metal", metal), field="lots")
        if not _valid(rate, now):
            raise Refused("stale_rate", "head office's rate for {metal} is not valid now"
                          " (valid until {until}): nothing can be bought until a new one comes",
                          metal=Term("metal", metal), until=rate["valid_until"], field="lots")
        return rate

    def _lots(self, raw: Any) -> list[dict[str, Any]]:
        if not isinstance(raw, list) or not raw:
            raise Invalid("a purchase has at least one lot", "lots")
        if len(raw) > MAX_LOTS:
            raise Invalid("a purchase has at most {max} lots", "lots", max=MAX_LOTS)
        out, problems = [], []
        for i, item in enumerate(raw):
            f = Form(item, f"lots[{i}]", allowed=("description", "metal", "fineness",
                                                   "weight_mg", "test", "photos"))
            description = f.text("description", required=True, max_len=300)
            metal = f.choice("metal", BUYING_METALS, required=True, lower=False,
                             vocabulary="metal")
            test = f.choice("test", TESTS, required=True, lower=False, vocabulary="metal_test")
            weight = f.whole("weight_mg", lo=1, hi=MAX_WEIGHT_MG, required=True)
            fineness = f.check(metals.check_fineness, f.get("fineness"), f.path("fineness"),
                               metal=metal, any_fineness=test not in (None, "hallmark"))
            photos = f.texts("photos", max_items=10, max_len=80)
            problems += f.problems
            out.append({"pos": i + 1, "description": description, "metal": metal,
                        "test": test, "weight_mg": weight, "fineness": fineness,
                        "photos": photos})
        if problems:
            raise Invalid.many(problems)
        return out

    def quote_in(self, tx: Tx, lots: list[dict[str, Any]]) -> dict[str, Any]:
        """The computed price of checked lots, with each lot's share and the rates named."""
        s = self.settings
        rates: dict[str, dict[str, Any]] = {}
        values, exact = [], Fraction(0)
        for lot in lots:
            if lot["metal"] not in rates:
                rates[lot["metal"]] = self.spot_in(tx, lot["metal"])
            fine = rates[lot["metal"]]["per_gram_exact"]
            v = lot_value(lot["weight_mg"], lot["fineness"], fine, s.refining_bp, s.margin_bp)
            exact += v
            spot = metals.metal_value(lot["weight_mg"], lot["fineness"], fine, 1000)
            values.append({"pos": lot["pos"], "value": metals.round_amount(v, 1, "down"),
                           "spot_value": metals.round_amount(spot, 1, "down"),
                           "fine_mg": metals.round_amount(
                               metals.fine_weight_mg(lot["weight_mg"], lot["fineness"]), 1,
                               "down")})
        return {"computed": metals.round_amount(exact, 1, "down"), "lots": values,
                "rates": {m: {"per_gram": r["per_gram"], "seq": r["seq"],
                              "valid_until": r["valid_until"]} for m, r in rates.items()},
                "refining_bp": s.refining_bp, "margin_bp": s.margin_bp,
                "currency": self.currency}

    async def quote(self, raw: Any) -> dict[str, Any]:
        lots = self._lots(raw)
        return await self.ledger.read(lambda tx: self.quote_in(tx, lots))

    # -- buying ---------------------------------------------------------------------------

    async def _seller(self, client_id: Any, document: Any, new_document: Any = None, *,
                      actor: str = "") -> tuple[str, dict[str, str]]:
        """A living client and the identity document she showed (valid today)."""
        client_id = fields.identifier(client_id, "client_id", what="a client id") or ""
        try:
            client = await self.store.clients.get(client_id)
        except NotFound:
            raise Invalid("no client {client_id}: gold is bought from a known client",
                          "client_id", client_id=client_id) from None
        if client["status"] != "active" or client.get("profile") is None:
            raise Invalid("client {client_id} is erased or merged: buy from the kept record",
                          "client_id", client_id=client_id)
        docs = client["profile"].get("identity_documents") or []
        if new_document not in (None, {}):  # shown at the counter: kept in her profile first
            updated = await self.store.clients.update(
                client_id, {"identity_documents": [*docs, new_document]}, actor)
            docs = updated["profile"]["identity_documents"]
            document = len(docs) - 1
        if not docs:
            raise Refused("no_identity", "buying from a client needs her identity document:"
                          " add it to her profile first", field="document")
        index = fields.whole(document, "document", lo=0, hi=len(docs) - 1)
        chosen = docs[index] if index is not None else max(docs, key=lambda d: d["expiry"])
        if date.fromisoformat(chosen["expiry"]) < self.today():
            raise Refused("identity_expired", "her {kind} expired on {day}: nothing can be"
                          " bought from her on it", kind=Term("identity_document",
                                                             chosen["type"]),
                          day=date.fromisoformat(chosen["expiry"]), field="document")
        return client_id, chosen

    async def buy(self, raw: Any, *, actor: str) -> dict[str, Any]:
        """Buy lots from her. Fields: client_id, document (which of her documents; the one
        valid longest when not said), new_document (one she shows now, added to her profile
        first), lots, payout, register_id (cash), reference (a
        transfer), offered (at most the computed price without `approval_id`)."""
        f = Form(raw, allowed=("client_id", "document", "new_document", "lots", "payout",
                               "register_id", "reference", "offered", "approval_id"))
        payout = f.choice("payout", PAYOUTS, required=True, lower=False,
                          vocabulary="buyin_payout")
        offered = f.amount("offered")
        reference = f.text("reference", max_len=60)
        if payout == "bank_transfer" and not reference:
            f.problem("reference", "a bank transfer needs its reference")
        register_id = None
        if payout == "cash" or f.get("register_id"):
            try:
                register_id = self.store.sales.check_register(f.get("register_id"),
                                                              "register_id")
            except Invalid as exc:
                f.problems += exc.problems
        lots = f.check(self._lots, f.get("lots")) or []
        seller = None
        try:
            seller = await self._seller(f.get("client_id"), f.get("document"),
                                        None if f.problems else f.get("new_document"),
                                        actor=actor)
        except Invalid as exc:
            f.problems += exc.problems
        f.done()
        assert seller is not None and payout is not None
        client_id, document = seller
        if offered == 0:
            raise Invalid("a price above zero is paid for what is bought", "offered")
        approval_id = raw.get("approval_id") if isinstance(raw, dict) else None
        hold_until = (self.today() + timedelta(days=self.settings.hold_days)).isoformat()
        key_id = f"client:{client_id}"

        def command(tx: Tx) -> Entry:
            quote = self.quote_in(tx, lots)
            price = quote["computed"] if offered is None else offered
            if price <= 0:
                raise Refused("nothing_to_pay", "at today's rate these lots are worth nothing"
                              " to buy", field="lots")
            approved_by = None
            if price > quote["computed"]:
                action = {"kind": "buyin_price", "amount": price, "base": quote["computed"],
                          "register_id": register_id}
                Approvals.spend_in(tx, approval_id, action, actor=actor)
                approved_by = Approvals.approver_in(tx, approval_id)
            for lot in lots:
                for photo in lot["photos"]:
                    self.store.attachments.check_in(tx, photo, key_id)
            buyin_id = f"B{tx.seq + 1}"
            subject = f"buyin:{buyin_id}"
            sealed = tx.append("buyin.details", subject, {
                "buyin_id": buyin_id, "document": document, "reference": reference,
                "lots": [{"pos": lot["pos"], "description": lot["description"],
                          "photos": lot["photos"]} for lot in lots]},
                actor=actor, key_id=key_id)
            shares = {v["pos"]: v for v in quote["lots"]}
            entry = tx.append("buyin.recorded", subject, {
                "buyin_id": buyin_id, "client_id": client_id, "register_id": register_id,
                "payout": payout, "computed": quote["computed"], "price": price,
                "currency": self.currency, "hold_until": hold_until,
                "approved_by": approved_by, "details_seq": sealed.seq,
                "rates": quote["rates"], "refining_bp": quote["refining_bp"],
                "margin_bp": quote["margin_bp"], "document_type": document["type"],
                "lots": [{"pos": lot["pos"], "metal": lot["metal"],
                          "fineness": lot["fineness"], "weight_mg": lot["weight_mg"],
                          "test": lot["test"], "value": shares[lot["pos"]]["value"],
                          "spot_value": shares[lot["pos"]]["spot_value"]} for lot in lots]},
                actor=actor)
            if payout == "store_credit":
                issue_store_credit_in(tx, self.store.accounts, client_id, price, subject,
                                      actor, currency=self.currency)
            elif payout == "trade_in":
                self.store.accounts.move_in(tx, self._movement(
                    buyin_id, client_id, "issued", price, subject), actor=actor)
            return entry

        entry = await self.ledger.transact(command)
        return await self.get(entry.subject.split(":", 1)[1])

    def _movement(self, buyin_id: str, client_id: str, movement: str, amount: int,
                  ref: str) -> Movement:
        return Movement(account_of(buyin_id), ACCOUNT_KIND, f"client:{client_id}",
                        self.currency, movement, amount, ref)

    # -- reads ----------------------------------------------------------------------------

    async def get(self, buyin_id: Any) -> dict[str, Any]:
        buyin_id = fields.identifier(buyin_id, "buyin_id", what="a purchase number") or ""
        row = await self.ledger.fetch_one("SELECT * FROM buyins WHERE buyin_id = ?",
                                          (buyin_id,))
        if row is None:
            raise NotFound("no purchase {buyin_id}", buyin_id=buyin_id)
        out = {k: row[k] for k in row.keys() if k != "record"}
        record = json.loads(row["record"])
        lots = await self.ledger.fetch("SELECT * FROM buyin_lots WHERE buyin_id = ?"
                                       " ORDER BY pos", (buyin_id,))
        details = await self.ledger.payload_at(row["details_seq"]) or {}
        said = {d["pos"]: d for d in details.get("lots", [])}
        out["lots"] = [{**dict(lot), "description": said.get(lot["pos"], {}).get("description"),
                        "photos": said.get(lot["pos"], {}).get("photos", []),
                        "spot_value": next((x["spot_value"] for x in record["lots"]
                                            if x["pos"] == lot["pos"]), None)}
                       for lot in lots]
        document = details.get("document")
        out["document"] = ({"type": document["type"], "last": last_digits(document["number"]),
                            "country": document["country"], "expiry": document["expiry"]}
                           if document else None)
        out["reference"] = details.get("reference")
        out["rates"] = record["rates"]
        out["refining_bp"], out["margin_bp"] = record["refining_bp"], record["margin_bp"]
        out["trade_in_left"] = (await self.store.accounts.balance(account_of(buyin_id))
                                if row["payout"] == "trade_in" else None)
        out["releasable"] = date.fromisoformat(row["hold_until"]) <= self.today()
        return out

    async def of_client(self, client_id: str) -> list[dict[str, Any]]:
        rows = await self.ledger.fetch(
            "SELECT b.buyin_id, b.ts, b.payout, b.price, b.currency, b.hold_until,"
            " COALESCE(a.balance, 0) AS left FROM buyins b LEFT JOIN accounts a ON"
            " a.account_id = 'trade_in:' || b.buyin_id WHERE b.client_id = ?"
            " ORDER BY b.seq DESC LIMIT 100", (client_id,))
        return [dict(r) for r in rows]

    async def open_trade_ins(self, client_id: str) -> list[dict[str, Any]]:
        """Her trade-ins with value left to spend on a sale."""
        return [r for r in await self.of_client(client_id)
                if r["payout"] == "trade_in" and r["left"] > 0]

    async def held(self) -> list[dict[str, Any]]:
        """Lots still in their hold, the soonest free first: what may be melted when."""
        rows = await self.ledger.fetch(
            "SELECT l.*, b.ts FROM buyin_lots l JOIN buyins b USING (buyin_id) WHERE"
            " l.status = 'held' ORDER BY l.hold_until, l.buyin_id, l.pos LIMIT 500")
        today = self.today()
        return [{**dict(r), "releasable": date.fromisoformat(r["hold_until"]) <= today}
                for r in rows]

    # -- the hold and its releases ----------------------------------------------------------

    async def release(self, buyin_id: Any, pos: Any, raw: Any, *,
                      actor: str) -> dict[str, Any]:
        """A lot out of its hold (a manager): `to` melt (a scrap lot) or stock (a piece:
        category and tag price, its serial by default `<buyin>-<pos>`)."""
        buyin_id = fields.identifier(buyin_id, "buyin_id", what="a purchase number") or ""
        pos = fields.whole(pos, "pos", lo=1, hi=MAX_LOTS, required=True, from_text=True)
        f = Form(raw, allowed=("to", "lot", "category", "tag_price", "item_id", "sku",
                               "description", "location"))
        to = f.choice("to", ("melt", "stock"), required=True, lower=False,
                      vocabulary="buyin_lot_status")
        scrap_lot = f.text("lot", max_len=40)
        piece_raw = {k: f.get(k) for k in ("category", "tag_price", "item_id", "sku",
                                           "description", "location") if f.get(k) not in (None, "")}
        f.done()
        if not self.store.staff.may(actor)(RELEASE):
            raise Refused("not_allowed", "only a manager releases a bought lot from its hold")

        def command(tx: Tx) -> Entry:
            lot = tx.one("SELECT * FROM buyin_lots WHERE buyin_id = ? AND pos = ?",
                         (buyin_id, pos))
            if lot is None:
                raise NotFound("purchase {buyin_id} has no lot {pos}", buyin_id=buyin_id,
                               pos=pos)
            if lot["status"] != "held":
                raise Refused("lot_released", "lot {pos} of {buyin_id} was already {status}",
                              pos=pos, buyin_id=buyin_id,
                              status=Term("buyin_lot_status", lot["status"]))
            ends = date.fromisoformat(lot["hold_until"])
            if ends > self.today():
                raise Refused("on_hold", "lot {pos} of {buyin_id} is in its hold period until"
                              " {day}: it may not be melted, sold or taken into stock"
                              " before then", pos=pos, buyin_id=buyin_id, day=ends)
            item_id = None
            if to == "stock":
                piece = self.store.items.validate({
                    "item_id": f"{buyin_id}-{pos}", "sku": f"BOUGHT-{buyin_id}-{pos}",
                    "description": "", "category": "other",
                    "cost": lot["value"], "tag_price": 0, **piece_raw,
                    "metal": lot["metal"], "fineness": lot["fineness"],
                    "metal_weight_mg": lot["weight_mg"]})
                self.store.items.receive_in(tx, piece, actor)
                item_id = piece["item_id"]
            return tx.append("buyin.released", f"buyin:{buyin_id}", {
                "buyin_id": buyin_id, "pos": pos, "to": to, "item_id": item_id,
                "lot": scrap_lot}, actor=actor)

        await self.ledger.transact(command)
        return await self.get(buyin_id)

    # -- the trade-in tender (a SaleExtension) ----------------------------------------------

    def sold_in(self, tx: Tx, sale: dict[str, Any], actor: str) -> None:
        for t in sale["tenders"]:
            if t["type"] != TENDER:
                continue
            ref = str(t["detail"].get("reference") or "")
            row = tx.one("SELECT client_id, payout FROM buyins WHERE buyin_id = ?", (ref,))
            if row is None or row["payout"] != "trade_in":
                raise Refused("no_trade_in", "“{ref}” is no trade-in of this store",
                              ref=ref, field="tenders")
            if row["client_id"] != sale.get("client_id"):
                raise Refused("trade_in_elsewhere", "trade-in {ref} is another client's: it"
                              " pays only for a sale to her", ref=ref, field="tenders")
            left = self.store.accounts.balance_in(tx, account_of(ref))
            if t["amount"] > left:
                raise Refused("trade_in_short", "trade-in {ref} has {left} left, less than"
                              " {amount}", ref=ref, left=self.money(left),
                              amount=self.money(t["amount"]), field="tenders")
            self.store.accounts.move_in(tx, self._movement(
                ref, row["client_id"], "applied", t["amount"], sale["sale_id"]), actor=actor)

    def returned_in(self, tx: Tx, sale: dict[str, Any], back: dict[str, Any],
                    actor: str) -> None:
        """What a return or void gives back in the trade-in tender goes back on her trade-in:
        it is open again for another sale (the gold is the store's; the value is hers)."""
        for t in back["tenders"]:
            if t["type"] != TENDER:
                continue
            ref = str(t["detail"].get("reference") or "")
            row = tx.one("SELECT client_id FROM buyins WHERE buyin_id = ?", (ref,))
            if row is None:
                continue
            self.store.accounts.move_in(tx, self._movement(
                ref, row["client_id"], "refunded", t["amount"], back["return_id"]),
                actor=actor)

    voided_in = returned_in

    # -- the purchases register -------------------------------------------------------------

    async def report(self, start: Any, end: Any) -> list[dict[str, Any]]:
        """Purchases between two days (store time, both included), oldest first: the seller's
        document (type and last digits only), lots, price, payout, hold end."""
        first = date.fromisoformat(fields.day(start, "from") or self.today().isoformat())
        last = date.fromisoformat(fields.day(end, "to") or self.today().isoformat())
        if last < first:
            raise Invalid("the period ends before it starts", "to")
        if (last - first).days > 400:
            raise Invalid("a report covers at most {days} days", "to", days=400)
        tz = self.words.tz
        lo = datetime.combine(first, datetime.min.time(), tz).astimezone(UTC)
        hi = datetime.combine(last + timedelta(days=1), datetime.min.time(), tz).astimezone(UTC)
        rows = await self.ledger.fetch(
            "SELECT buyin_id FROM buyins WHERE ts >= ? AND ts < ? ORDER BY seq LIMIT 2000",
            (lo.strftime("%Y-%m-%dT%H:%M:%S"), hi.strftime("%Y-%m-%dT%H:%M:%S")))
        return [await self.get(r["buyin_id"]) for r in rows]

    async def export(self, start: Any, end: Any, passphrase: Any, *, actor: str) -> bytes:
        """The register as CSV, age-encrypted with `passphrase`; journaled first."""
        if not isinstance(passphrase, str) or len(passphrase.strip()) < MIN_PASSPHRASE:
            raise Invalid("the passphrase needs at least {min} characters: it opens the file",
                          "passphrase", min=MIN_PASSPHRASE)
        rows = await self.report(start, end)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["purchase", "at", "document", "document_last", "country", "lot",
                         "metal", "fineness", "weight_mg", "test", "price_minor", "currency",
                         "payout", "hold_until"])
        for b in rows:
            doc = b["document"] or {}
            for lot in b["lots"]:
                writer.writerow([b["buyin_id"], b["ts"], doc.get("type"), doc.get("last"),
                                 doc.get("country"), lot["pos"], lot["metal"],
                                 lot["fineness"], lot["weight_mg"], lot["test"],
                                 b["price"] if lot["pos"] == 1 else "", b["currency"],
                                 b["payout"], b["hold_until"]])
        await self.record_export(start, end, len(rows), "csv", actor)
        return await asyncio.to_thread(pyrage.passphrase.encrypt, out.getvalue().encode(),
                                       passphrase)

    async def printed(self, start: Any, end: Any) -> tuple[Document, int]:
        rows = await self.report(start, end)
        w = self.words
        doc = Document(w._("Register of purchases"))
        doc.add("title", doc.title, center=True)
        for b in rows:
            doc.add("rule")
            doc.add("pair", b["buyin_id"], w.when(b["ts"]))
            if b["document"]:
                doc.add("pair", w.term("identity_document", b["document"]["type"]),
                        b["document"]["last"])
            for lot in b["lots"]:
                doc.add("small", f"{w.term('metal', lot['metal'])} {lot['fineness']} ‰ · "
                                 f"{w.grams(lot['weight_mg'])} · "
                                 f"{w.term('metal_test', lot['test'])}")
            doc.add("pair", w.term("buyin_payout", b["payout"]),
                    w.money(b["price"], b["currency"]))
        return doc, len(rows)

    async def record_export(self, start: Any, end: Any, count: int, how: str,
                            actor: str) -> None:
        """The register left the hub (csv or print): a `buyin.report_exported` entry."""
        await self.ledger.transact(lambda tx: tx.append(
            "buyin.report_exported", "buying:report",
            {"from": str(start or ""), "to": str(end or ""), "count": count, "how": how},
            actor=actor))


MIN_PASSPHRASE = 12


def _valid(rate: dict[str, Any], now: datetime) -> bool:
    try:
        start = datetime.fromisoformat(rate["valid_from"].replace("Z", "+00:00"))
        until = datetime.fromisoformat(rate["valid_until"].replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        return False
    return start <= now < until
