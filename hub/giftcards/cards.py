"""Gift cards and store credit: money the store owes, never revenue (area `giftcards`).

A gift card is sold as a sale line `{"service": "giftcard:<code>", "unit_price": amount}`
(this module is the `giftcard` `ServiceSource`: no tax, no share of a discount, left out of
the Z report's sales). The sale's transaction issues it (`gift_card.sold`, and an `issued`
movement on the account `gift_card:<code>`, kind `gift_card`, owner the buyer `client:<id>`
or `store:<store id>`, unit the currency). It is spent as the `gift_card` tender {number}
and store credit as the `store_credit` tender {reference: her id} — both applied from their
accounts in the sale's own transaction (this module is their `SaleExtension`); a return or a
void gives the amount back (`refunded`); a void of the sale that sold a card cancels it
(`reversed`), only while nothing of it was spent.

**Cards of another store of the chain** (a code with another store's prefix) are not in
these books: a redemption is journaled as `gift_card.foreign_applied` (or `_refunded` by a
return), replicated to HQ with every entry. HQ keeps each card's chain-wide balance from
every store's replicated movements and answers with a `gift_card_reconciliation` message
(reconciled, or in conflict: then an `hq.conflict` entry, surfaced, never silently
accepted), and pushes `gift_card_balance` snapshots to every store. While the hub is online
it takes up to HQ's last balance less what it redeemed since; offline (or without a
snapshot) up to `[gift_cards] offline_limit` per card until HQ reconciles. The home store
mirrors what was spent elsewhere (`elsewhere` in the snapshot) on its own account, so its
liability follows the chain's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from hub.config import Config, ConfigError
from hub.core import fields
from hub.core.accounts import Accounts, Movement
from hub.core.errors import Invalid, NotFound, Refused
from hub.core.fields import Form
from hub.giftcards import codes, credit
from hub.ledger.journal import Entry
from hub.ledger.ledger import Tx
from hub.ledger.schema import Migration, Schema
from hub.money import Money, minor_units
from hub.words import N_

if TYPE_CHECKING:  # the layer declares this area: no import of the store at load
    from hub.store import Store

SCHEMA = Schema("giftcards", (Migration(1, """
CREATE TABLE gift_cards (
    code     TEXT PRIMARY KEY,
    amount   INTEGER NOT NULL,            -- what it was sold for
    currency TEXT NOT NULL,
    sale_id  TEXT NOT NULL,
    owner    TEXT NOT NULL,               -- store:<id> or client:<id> (opaque)
    status   TEXT NOT NULL,               -- active | cancelled
    seq      INTEGER NOT NULL,
    ts       TEXT NOT NULL,
    actor    TEXT NOT NULL
);
CREATE INDEX gift_cards_ts ON gift_cards(ts);
CREATE TABLE gift_card_foreign (          -- other stores' cards taken here
    ref      TEXT PRIMARY KEY,            -- <sale or return>/<tender position>
    code     TEXT NOT NULL,
    home     TEXT NOT NULL,               -- the prefix of the store that owes it
    movement TEXT NOT NULL,               -- applied | refunded
    amount   INTEGER NOT NULL,
    doc_id   TEXT NOT NULL,
    basis    TEXT NOT NULL,               -- online | offline
    status   TEXT NOT NULL,               -- pending | reconciled | conflict
    seq      INTEGER NOT NULL,
    ts       TEXT NOT NULL
);
CREATE INDEX gift_card_foreign_code ON gift_card_foreign(code, status);
CREATE TABLE gift_card_known (            -- head office's last balance of a card
    code      TEXT PRIMARY KEY,
    balance   INTEGER NOT NULL,
    elsewhere INTEGER NOT NULL,           -- spent at other stores, net
    seq       INTEGER NOT NULL
);
"""),), projections=("gift_cards", "gift_card_foreign", "gift_card_known"))

KIND = "gift_card"
TENDER = "gift_card"
SERVICE = "giftcard"
ELSEWHERE = "elsewhere:"  # the ref of a home store's mirror of what HQ saw spent elsewhere
PERMISSIONS = {"giftcards.sell": N_("Sell gift cards and take them as payment")}
GRANTS = {"associate": ("giftcards.sell",), "manager": ("giftcards.sell",)}


@dataclass(frozen=True)
class GiftCardSettings:
    """`[gift_cards]`, in the currency's major unit as a person writes it."""

    min_amount: int = 10
    max_amount: int = 5_000
    offline_limit: int = 200


def settings_of(config: Config, over: dict[str, Any] | None = None) -> GiftCardSettings:
    section = config.section("gift_cards", over)
    d = GiftCardSettings()
    unit = 10 ** minor_units(config.currency)
    lo = section.whole("min_amount", d.min_amount, 1, 10**9)
    hi = section.whole("max_amount", d.max_amount, 1, 10**9)
    if hi < lo:
        raise ConfigError(f"gift_cards.max_amount: {hi} is below min_amount {lo}")
    offline = section.whole("offline_limit", d.offline_limit, 0, 10**9)
    section.done()
    return GiftCardSettings(lo * unit, hi * unit, offline * unit)


def account_of(code: str) -> str:
    return f"gift_card:{code}"


# -- projections ------------------------------------------------------------------------------

def _on_sold(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute("INSERT INTO gift_cards (code, amount, currency, sale_id, owner, status, seq,"
               " ts, actor) VALUES (?,?,?,?,?,'active',?,?,?)",
               (p["code"], p["amount"], p["currency"], p["sale_id"], p["owner"], entry.seq,
                entry.ts, entry.actor))


def _on_cancelled(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute("UPDATE gift_cards SET status = 'cancelled' WHERE code = ?", (p["code"],))


def _on_foreign(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    movement = "applied" if entry.kind == "gift_card.foreign_applied" else "refunded"
    tx.execute("INSERT INTO gift_card_foreign (ref, code, home, movement, amount, doc_id,"
               " basis, status, seq, ts) VALUES (?,?,?,?,?,?,?,'pending',?,?)",
               (p["ref"], p["code"], p["home"], movement, p["amount"], p["doc_id"],
                p["basis"], entry.seq, entry.ts))


def _on_settled(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute("UPDATE gift_card_foreign SET status = ? WHERE ref = ?", (p["outcome"], p["ref"]))


def _on_known(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute("INSERT OR REPLACE INTO gift_card_known (code, balance, elsewhere, seq)"
               " VALUES (?,?,?,?)", (p["code"], p["balance"], p["elsewhere"], entry.seq))


PROJECTIONS = {
    "gift_card.sold": _on_sold,
    "gift_card.cancelled": _on_cancelled,
    "gift_card.foreign_applied": _on_foreign,
    "gift_card.foreign_refunded": _on_foreign,
    "gift_card.settled": _on_settled,
    "gift_card.known": _on_known,
}


def closure_section(tx: Any, from_seq: int, through_seq: int) -> dict[str, Any]:
    """The Z report's gift cards, apart from sales: sold and cancelled, spent here (this
    store's cards and other stores', owed by the chain), and what is outstanding."""
    rng = (from_seq, through_seq)
    sold = tx.one("SELECT COUNT(*) AS n, COALESCE(SUM(amount), 0) AS total FROM gift_cards"
                  " WHERE seq > ? AND seq <= ?", rng)
    moved = {r["movement"]: abs(r["amount"]) for r in tx.all(
        "SELECT m.movement, SUM(m.amount) AS amount FROM account_movements m JOIN accounts a"
        " ON a.account_id = m.account_id WHERE a.kind = ? AND m.seq > ? AND m.seq <= ?"
        " GROUP BY m.movement", (KIND, *rng))}
    foreign = {r["movement"]: r["amount"] for r in tx.all(
        "SELECT movement, SUM(amount) AS amount FROM gift_card_foreign WHERE seq > ? AND"
        " seq <= ? GROUP BY movement", rng)}
    held = tx.one("SELECT COALESCE(SUM(balance), 0) AS n, COUNT(*) AS cards FROM accounts"
                  " WHERE kind = ? AND balance > 0", (KIND,))
    return {"sold": sold["n"], "sold_total": sold["total"],
            "cancelled": moved.get("reversed", 0), "redeemed": moved.get("applied", 0),
            "refunded": moved.get("refunded", 0),
            "other_stores_redeemed": foreign.get("applied", 0) - foreign.get("refunded", 0),
            "outstanding": held["n"], "outstanding_cards": held["cards"]}


# -- the service ------------------------------------------------------------------------------

class GiftCards:
    """Gift cards and store credit: the `giftcard` service line, the `gift_card` and
    `store_credit` tenders (a SaleExtension), HQ's two gift card messages, the reads."""

    tenders = frozenset({TENDER, credit.TENDER})

    def __init__(self, store: Store, settings: GiftCardSettings) -> None:
        self.store, self.ledger = store, store.ledger
        self.accounts: Accounts = store.accounts
        self.settings = settings
        self.currency = store.config.currency
        self.store_id = store.config.store_id
        self.prefix = codes.store_prefix(self.store_id)
        self.online = False  # connected to HQ (the part follows `sync.state`)

    def money(self, amount: int) -> Money:
        return Money(amount, self.currency)

    def new_code(self) -> str:
        return codes.new_code(self.store_id)

    # -- selling a card (ServiceSource) ---------------------------------------------------

    def service_line_in(self, tx: Tx, ref: str) -> dict[str, Any]:
        prefix, code = codes.parse(ref.split(":", 1)[1], "service")
        if prefix != self.prefix:
            raise Refused("foreign_card", "gift card {number} is another store's: it is sold"
                          " there", number=code)
        if tx.one("SELECT 1 FROM gift_cards WHERE code = ?", (code,)):
            raise Refused("card_sold", "gift card {number} was sold already", number=code)
        return {"description": self.store.words.render(N_("Gift card {number}"), {"number": code}),
                "unit_price": 0, "tax_code": None}

    def check_amount(self, amount: int, field: str = "amount") -> None:
        if not self.settings.min_amount <= amount <= self.settings.max_amount:
            raise Refused("card_amount", "a gift card is sold for {low} to {high}",
                          low=self.money(self.settings.min_amount),
                          high=self.money(self.settings.max_amount), field=field)

    def _sell_in(self, tx: Tx, sale: dict[str, Any], line: dict[str, Any], actor: str) -> None:
        _, code = codes.parse(line["service"].split(":", 1)[1], "service")
        if line["discount"]:
            raise Refused("card_discounted", "gift card {number} is sold at its value: no"
                          " discount on it", number=code, field="discount")
        self.check_amount(line["total"], "unit_price")
        owner = f"client:{sale['client_id']}" if sale.get("client_id") else \
            f"store:{self.store_id}"
        tx.append("gift_card.sold", f"gift_card:{code}",
                  {"code": code, "amount": line["total"], "currency": self.currency,
                   "sale_id": sale["sale_id"], "owner": owner}, actor=actor)
        self.accounts.move_in(tx, Movement(account_of(code), KIND, owner, self.currency,
                                           "issued", line["total"], sale["sale_id"]),
                              actor=actor)

    # -- taking a card or her credit (the tenders) ------------------------------------------

    def _card_in(self, tx: Tx, number: Any) -> tuple[str, str, dict[str, Any] | None]:
        """(prefix, code, this store's card row or None for another store's)."""
        prefix, code = codes.parse(number)
        if prefix != self.prefix:
            return prefix, code, None
        row = tx.one("SELECT * FROM gift_cards WHERE code = ?", (code,))
        if row is None:
            raise NotFound("no gift card {number} was sold here", number=code)
        return prefix, code, dict(row)

    def _pending_in(self, tx: Tx, code: str) -> int:
        """What this store took on another store's card that HQ has not reconciled yet."""
        row = tx.one("SELECT COALESCE(SUM(CASE movement WHEN 'applied' THEN amount ELSE"
                     " -amount END), 0) AS n FROM gift_card_foreign WHERE code = ? AND"
                     " status = 'pending'", (code,))
        return row["n"]

    def available_in(self, tx: Tx, number: Any) -> dict[str, Any]:
        """What a card can pay now: {code, own, available, basis, status}."""
        prefix, code, row = self._card_in(tx, number)
        if row is not None:
            if row["status"] == "cancelled":
                raise Refused("card_cancelled", "gift card {number} was cancelled", number=code)
            balance = self.accounts.balance_in(tx, account_of(code))
            return {"code": code, "own": True, "available": balance, "basis": "books"}
        known = tx.one("SELECT balance FROM gift_card_known WHERE code = ?", (code,))
        pending = self._pending_in(tx, code)
        if self.online:
            if known is None:
                raise NotFound("head office knows no gift card {number}", number=code)
            return {"code": code, "own": False, "available": max(0, known["balance"] - pending),
                    "basis": "online", "home": prefix}
        cap = self.settings.offline_limit - pending
        if known is not None:
            cap = min(cap, known["balance"] - pending)
        return {"code": code, "own": False, "available": max(0, cap), "basis": "offline",
                "home": prefix}

    def _short(self, card: dict[str, Any], amount: int) -> Refused:
        if card["basis"] == "offline":
            return Refused("card_offline_limit", "head office cannot be reached: gift card"
                           " {number} of another store takes at most {available} now, not"
                           " {amount}", number=card["code"], available=self.money(
                               card["available"]), amount=self.money(amount), field="amount")
        if card["available"] == 0:
            return Refused("card_spent", "gift card {number} is spent: nothing is left on it",
                           number=card["code"], field="number")
        return Refused("card_short", "gift card {number} holds {available}, less than {amount}",
                       number=card["code"], available=self.money(card["available"]),
                       amount=self.money(amount), field="amount")

    def check_card_in(self, tx: Tx, tender: dict[str, Any], taken: list[dict[str, Any]],
                      client_id: str | None) -> None:
        """The cart's check of a gift card tender: it exists and holds the amount (less
        what the cart already takes from it)."""
        card = self.available_in(tx, tender["detail"].get("number"))
        tender["detail"]["number"] = card["code"]  # kept as the books write it
        already = sum(t["amount"] for t in taken if t["type"] == TENDER
                      and _same_code(t["detail"].get("number"), card["code"]))
        if tender["amount"] + already > card["available"]:
            raise self._short({**card, "available": max(0, card["available"] - already)},
                              tender["amount"])

    def check_credit_in(self, tx: Tx, tender: dict[str, Any], taken: list[dict[str, Any]],
                        client_id: str | None) -> None:
        who = self._credit_owner(tender, client_id)
        already = sum(t["amount"] for t in taken if t["type"] == credit.TENDER)
        held = credit.store_credit_in(tx, self.accounts, who)
        if tender["amount"] + already > held:
            raise Refused("credit_short", "her store credit is {held}, less than {amount}",
                          held=self.money(max(0, held - already)),
                          amount=self.money(tender["amount"]), field="amount")

    @staticmethod
    def _credit_owner(tender: dict[str, Any], client_id: str | None) -> str:
        who = str(tender["detail"].get("reference") or client_id or "")
        if not client_id:
            raise Refused("credit_no_client", "store credit is hers: attach the client to the"
                          " sale first", field="tenders")
        if who != client_id:
            raise Refused("credit_elsewhere", "store credit pays only for its own client's"
                          " sale", field="tenders")
        tender["detail"]["reference"] = who
        return who

    def _take_card_in(self, tx: Tx, sale: dict[str, Any], pos: int, t: dict[str, Any],
                      actor: str) -> None:
        card = self.available_in(tx, t["detail"].get("number"))
        if t["amount"] > card["available"]:
            raise self._short(card, t["amount"])
        ref = f"{sale['sale_id']}/{pos}"
        if card["own"]:
            row = tx.one("SELECT owner FROM gift_cards WHERE code = ?", (card["code"],))
            self.accounts.move_in(tx, Movement(account_of(card["code"]), KIND, row["owner"],
                                               self.currency, "applied", t["amount"], ref),
                                  actor=actor)
            return
        tx.append("gift_card.foreign_applied", f"gift_card:{card['code']}",
                  {"ref": ref, "code": card["code"], "home": card["home"],
                   "amount": t["amount"], "doc_id": sale["sale_id"], "basis": card["basis"],
                   "currency": self.currency}, actor=actor)

    def sold_in(self, tx: Tx, sale: dict[str, Any], actor: str) -> None:
        for line in sale["lines"]:
            if str(line.get("service") or "").startswith(f"{SERVICE}:"):
                self._sell_in(tx, sale, line, actor)
        for pos, t in enumerate(sale["tenders"]):
            if t["type"] == TENDER:
                self._take_card_in(tx, sale, pos, t, actor)
            elif t["type"] == credit.TENDER:
                who = self._credit_owner(t, sale.get("client_id"))
                held = credit.store_credit_in(tx, self.accounts, who)
                if t["amount"] > held:
                    raise Refused("credit_short", "her store credit is {held}, less than"
                                  " {amount}", held=self.money(held),
                                  amount=self.money(t["amount"]), field="tenders")
                self.accounts.move_in(tx, credit.movement(
                    who, "applied", t["amount"], f"{sale['sale_id']}/{pos}", self.currency),
                    actor=actor)

    def _give_back_in(self, tx: Tx, back: dict[str, Any], actor: str, credit_as: str) -> None:
        for pos, t in enumerate(back["tenders"]):
            ref = f"{back['return_id']}/{pos}"
            if t["type"] == credit.TENDER:
                who = str(t["detail"].get("reference") or "")
                if not who:
                    raise Invalid("store credit names her client id", "refund_tenders")
                self.accounts.move_in(tx, credit.movement(who, credit_as, t["amount"], ref,
                                                          self.currency), actor=actor)
            elif t["type"] == TENDER:
                prefix, code = codes.parse(t["detail"].get("number"))
                if prefix == self.prefix:
                    row = tx.one("SELECT owner FROM gift_cards WHERE code = ?", (code,))
                    if row is None:
                        raise NotFound("no gift card {number} was sold here", number=code)
                    self.accounts.move_in(tx, Movement(account_of(code), KIND, row["owner"],
                                                       self.currency, "refunded",
                                                       t["amount"], ref), actor=actor)
                else:
                    tx.append("gift_card.foreign_refunded", f"gift_card:{code}",
                              {"ref": ref, "code": code, "home": prefix, "amount": t["amount"],
                               "doc_id": back["return_id"],
                               "basis": "online" if self.online else "offline",
                               "currency": self.currency}, actor=actor)

    def returned_in(self, tx: Tx, sale: dict[str, Any], back: dict[str, Any],
                    actor: str) -> None:
        self._give_back_in(tx, back, actor, "issued")

    def voided_in(self, tx: Tx, sale: dict[str, Any], back: dict[str, Any],
                  actor: str) -> None:
        """A void cancels the cards it sold (only while unspent), then gives back what the
        sale took from cards and credit."""
        for line in back["lines"]:
            if not str(line.get("service") or "").startswith(f"{SERVICE}:"):
                continue
            _, code = codes.parse(line["service"].split(":", 1)[1], "service")
            row = tx.one("SELECT * FROM gift_cards WHERE code = ?", (code,))
            balance = self.accounts.balance_in(tx, account_of(code))
            if row is None:
                continue
            if balance != row["amount"]:
                raise Refused("card_spent_void", "gift card {number} was used ({spent} spent):"
                              " the sale that sold it cannot be voided", number=code,
                              spent=self.money(row["amount"] - balance))
            tx.append("gift_card.cancelled", f"gift_card:{code}",
                      {"code": code, "sale_id": back["sale_id"],
                       "return_id": back["return_id"]}, actor=actor)
            self.accounts.move_in(tx, Movement(account_of(code), KIND, row["owner"],
                                               self.currency, "reversed", balance,
                                               back["return_id"]), actor=actor)
        self._give_back_in(tx, back, actor, "refunded")

    # -- head office's word (LayerMessage takers) -------------------------------------------

    def balance_message(self) -> BalanceMessage:
        return BalanceMessage(self)

    def reconciliation_message(self) -> ReconciliationMessage:
        return ReconciliationMessage(self)

    # -- reads ------------------------------------------------------------------------------

    async def lookup(self, number: Any) -> dict[str, Any]:
        """A card by its code: its balance (what it can pay now), where the answer comes
        from, and its movements (this store's cards) or what was taken here (others')."""
        def read(tx: Tx) -> dict[str, Any]:
            _, code, row = self._card_in(tx, number)
            if row is not None:  # this store's: the books say all, cancelled or not
                balance = self.accounts.balance_in(tx, account_of(code))
                out: dict[str, Any] = {
                    "code": code, "own": True, "basis": "books", "currency": self.currency,
                    "available": balance if row["status"] == "active" else 0,
                    "status": row["status"], "sold_for": row["amount"],
                    "sale_id": row["sale_id"], "sold_at": row["ts"], "balance": balance}
                out["movements"] = [dict(r) for r in tx.all(
                    "SELECT seq, movement, amount, ref, ts, actor FROM account_movements"
                    " WHERE account_id = ? ORDER BY seq DESC LIMIT 100", (account_of(code),))]
            else:
                card = self.available_in(tx, code)
                out = {**card, "currency": self.currency}
                known = tx.one("SELECT balance FROM gift_card_known WHERE code = ?", (code,))
                out.update(status="active", hq_balance=known["balance"] if known else None,
                           balance=card["available"])
                out["movements"] = [dict(r) for r in tx.all(
                    "SELECT seq, movement, -amount AS amount, doc_id AS ref, ts, status"
                    " FROM gift_card_foreign WHERE code = ? ORDER BY seq DESC LIMIT 100",
                    (code,))]
                for m in out["movements"]:
                    if m["movement"] == "refunded":
                        m["amount"] = -m["amount"]
            return out

        return await self.ledger.read(read)

    async def sold_since(self, day_start: str, limit: int = 200) -> list[dict[str, Any]]:
        rows = await self.ledger.fetch(
            "SELECT g.code, g.amount, g.currency, g.sale_id, g.status, g.ts, g.actor,"
            " COALESCE(a.balance, 0) AS balance FROM gift_cards g LEFT JOIN accounts a"
            " ON a.account_id = 'gift_card:' || g.code WHERE g.ts >= ? ORDER BY g.seq DESC"
            " LIMIT ?", (day_start, limit))
        return [dict(r) for r in rows]

    async def sold_today(self) -> list[dict[str, Any]]:
        zone = ZoneInfo(self.store.config.timezone)
        start = datetime.combine(datetime.now(zone).date(), time(0), zone)
        return await self.sold_since(start.astimezone(ZoneInfo("UTC")).strftime(
            "%Y-%m-%dT%H:%M:%S.%fZ"))

    async def foreign(self, limit: int = 100) -> list[dict[str, Any]]:
        rows = await self.ledger.fetch("SELECT * FROM gift_card_foreign ORDER BY seq DESC"
                                       " LIMIT ?", (limit,))
        return [dict(r) for r in rows]

    async def store_credit(self, client_id: str) -> dict[str, Any]:
        fields.identifier(client_id, "client_id", pattern=fields.ID, what="a client id")
        account = credit.account_of(client_id)
        return {"client_id": client_id, "balance": await self.accounts.balance(account),
                "currency": self.currency,
                "movements": await self.accounts.movements(account, 20)}


def _same_code(raw: Any, code: str) -> bool:
    try:
        return codes.parse(raw)[1] == code
    except Invalid:
        return False


class BalanceMessage:
    """`gift_card_balance` {code, balance, elsewhere}: HQ's chain-wide balance of a card.
    Kept for another store's card (what the hub may take online); for this store's own, what
    was spent elsewhere is mirrored on its account, so the store's liability is the chain's."""

    def __init__(self, cards: GiftCards) -> None:
        self.cards = cards

    def validate(self, body: dict[str, Any]) -> dict[str, Any]:
        f = Form(body, allowed=("code", "balance", "elsewhere", "as_of"))
        balance = f.whole("balance", lo=-10**12, hi=10**12, required=True)
        elsewhere = f.whole("elsewhere", lo=-10**12, hi=10**12, required=True)
        f.done()
        prefix, code = codes.parse(body.get("code"), "code")
        return {"code": code, "prefix": prefix, "balance": balance, "elsewhere": elsewhere}

    def apply_in(self, tx: Tx, checked: dict[str, Any]) -> None:
        c = self.cards
        code = checked["code"]
        tx.append("gift_card.known", f"gift_card:{code}",
                  {k: checked[k] for k in ("code", "balance", "elsewhere")}, actor="hq")
        if checked["prefix"] != c.prefix:
            return
        row = tx.one("SELECT owner FROM gift_cards WHERE code = ?", (code,))
        if row is None:
            return
        mirrored = tx.one("SELECT COALESCE(-SUM(amount), 0) AS n FROM account_movements WHERE"
                          " account_id = ? AND ref LIKE ?", (account_of(code),
                                                            f"{ELSEWHERE}%"))["n"]
        gap = checked["elsewhere"] - mirrored
        if gap == 0:
            return
        balance = c.accounts.balance_in(tx, account_of(code))
        move = "applied" if gap > 0 else "refunded"
        amount = min(gap, balance) if gap > 0 else -gap
        ref = f"{ELSEWHERE}{tx.seq}"
        if amount:
            c.accounts.move_in(tx, Movement(account_of(code), KIND, row["owner"], c.currency,
                                            move, amount, ref), actor="hq")
        if gap > 0 and gap > balance:  # spent twice across the chain: surfaced
            tx.append("hq.conflict", f"gift_card:{code}",
                      {"conflict": "gift_card_overspent", "item_id": None,
                       "ref": f"gift_card:{code}", "message_type": "gift_card_balance",
                       "detail": f"gift card {code} was spent {gap - balance} beyond its"
                                 " balance across the chain"}, actor="hq")


class ReconciliationMessage:
    """`gift_card_reconciliation` {code, ref, outcome, balance}: HQ's word on another
    store's card taken here. A conflict is an `hq.conflict` entry too (the sync screen
    lists it, HQ receives it back): never settled silently."""

    def __init__(self, cards: GiftCards) -> None:
        self.cards = cards

    def validate(self, body: dict[str, Any]) -> dict[str, Any]:
        f = Form(body, allowed=("code", "ref", "outcome", "balance", "detail"))
        ref = f.text("ref", required=True, max_len=60)
        outcome = f.choice("outcome", ("reconciled", "conflict"), required=True, lower=False)
        balance = f.whole("balance", lo=-10**12, hi=10**12, required=True)
        f.done()
        _, code = codes.parse(body.get("code"), "code")
        return {"code": code, "ref": ref, "outcome": outcome, "balance": balance}

    def apply_in(self, tx: Tx, checked: dict[str, Any]) -> None:
        row = tx.one("SELECT status, amount FROM gift_card_foreign WHERE ref = ?",
                     (checked["ref"],))
        if row is None:
            raise NotFound("no gift card {number} was taken here as {ref}", number=checked["code"],
                           ref=checked["ref"])
        if row["status"] != "pending":
            return  # said once already
        tx.append("gift_card.settled", f"gift_card:{checked['code']}",
                  {"ref": checked["ref"], "code": checked["code"],
                   "outcome": checked["outcome"], "balance": checked["balance"]}, actor="hq")
        if checked["outcome"] == "conflict":
            tx.append("hq.conflict", f"gift_card:{checked['code']}",
                      {"conflict": "gift_card_overspent", "item_id": None,
                       "ref": f"gift_card:{checked['code']}",
                       "message_type": "gift_card_reconciliation",
                       "detail": f"gift card {checked['code']} of another store was taken here"
                                 f" ({checked['ref']}) beyond its balance across the chain"
                                 f" ({checked['balance']} after it)"}, actor="hq")
