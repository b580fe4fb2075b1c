"""HQ's word in the store's books: prices, metal rates, catalog pieces, promotions, client
updates, reservations (click-and-collect), online activity, and the conflicts they raise.

The sync layer verifies HQ's signature and hands this module a checked message; here it
becomes one `hq.message` entry (keeping HQ's signature, so an auditor can check it again)
plus the core entries it implies (`item.updated` for a price, `item.received` for a catalog
piece, `client.updated` for a profile), all in one transaction. A message id is applied
once: a replay is refused. What cannot be applied as asked (a reservation for a piece sold
while offline, a price for a sold piece) is an `hq.conflict` entry: never resolved silently.
This module knows nothing of MQTT.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from hub.config import ConfigError
from hub.core import fields, metals, outbox, prices, promotions
from hub.core.clients import Clients, validate_profile
from hub.core.errors import Invalid, NotFound, Refused
from hub.core.fields import Form
from hub.core.items import Items, load_piece_tx, money_field, set_status
from hub.core.projector import touch_item
from hub.core.sales import Sales, validate_lines, validate_tenders
from hub.ledger.journal import Entry
from hub.ledger.ledger import Ledger, Tx
from hub.ledger.schema import Migration, Schema
from hub.words import Term

# v1 as first shipped also made the sync layer's tables (sync_state, sync_hq_keys,
# sync_refusals); they belong to the sync area now, which adopts them where they exist.
_HQ_V1 = """
-- projections (rebuilt from hq.* entries) --------------------------------------------------

CREATE TABLE hq_messages (
    message_id TEXT PRIMARY KEY,
    type       TEXT NOT NULL,
    outcome    TEXT NOT NULL,          -- applied | conflict | refused (since the chain issue)
    seq        INTEGER NOT NULL
);

CREATE TABLE hq_conflicts (
    seq        INTEGER PRIMARY KEY,
    ts         TEXT NOT NULL,
    kind       TEXT NOT NULL,
    item_id    TEXT,
    ref        TEXT,
    detail     TEXT NOT NULL
);

CREATE TABLE hq_reservations (
    reservation_id TEXT PRIMARY KEY,
    item_id        TEXT NOT NULL,
    client_id      TEXT NOT NULL,
    pickup_by      TEXT NOT NULL,
    status         TEXT NOT NULL,      -- held | collected | cancelled
    seq            INTEGER NOT NULL,
    updated_seq    INTEGER NOT NULL
);

CREATE TABLE hq_rates (
    metal       TEXT NOT NULL,
    fineness    INTEGER NOT NULL,
    currency    TEXT NOT NULL,
    per_gram    INTEGER NOT NULL,      -- minor units per gram of the alloy's fine metal
    valid_from  TEXT NOT NULL,
    valid_until TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    PRIMARY KEY (metal, fineness, currency)
);

CREATE TABLE hq_promotions (
    promotion_id TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    starts       TEXT NOT NULL,
    ends         TEXT NOT NULL,
    rule         TEXT NOT NULL,
    seq          INTEGER NOT NULL
);

CREATE TABLE hq_activity (
    seq       INTEGER NOT NULL,
    pos       INTEGER NOT NULL,
    client_id TEXT NOT NULL,
    action    TEXT NOT NULL,           -- viewed | wishlisted
    ref       TEXT NOT NULL,           -- item id or sku
    at        TEXT NOT NULL,
    PRIMARY KEY (seq, pos)
);
CREATE INDEX hq_activity_client ON hq_activity(client_id, at);

CREATE TABLE hq_stock_elsewhere (
    sku      TEXT NOT NULL,
    store_id TEXT NOT NULL,
    count    INTEGER NOT NULL,
    seq      INTEGER NOT NULL,
    PRIMARY KEY (sku, store_id)
);
"""

# v2: what head office sets for a part of the hub (a `settings` message): the chain's tier
# thresholds, its follow-up rules.
_HQ_V2 = """
CREATE TABLE hq_settings (
    section TEXT PRIMARY KEY,               -- tiers | clienteling ...
    body    TEXT NOT NULL,                  -- JSON: the section's keys, as in loupe.toml
    seq     INTEGER NOT NULL
);
"""

# v3: orders the web shop took online, to be shipped from this store. The address is in the
# `hq.online_order` entry (encrypted in the journal), never in this table.
_HQ_V3 = """
CREATE TABLE hq_orders (
    order_id    TEXT PRIMARY KEY,
    item_id     TEXT NOT NULL,
    client_id   TEXT NOT NULL,
    paid        INTEGER NOT NULL,           -- minor units, paid at the web shop
    currency    TEXT NOT NULL,
    ship_by     TEXT NOT NULL,
    status      TEXT NOT NULL,              -- to_ship | shipped | cancelled
    carrier     TEXT,
    tracking    TEXT,
    seq         INTEGER NOT NULL,           -- its hq.online_order entry
    updated_seq INTEGER NOT NULL
);
"""

SCHEMA = Schema("hq", (Migration(1, _HQ_V1), Migration(2, _HQ_V2), Migration(3, _HQ_V3)),
                projections=("hq_messages", "hq_conflicts", "hq_reservations", "hq_rates",
                             "hq_promotions", "hq_activity", "hq_stock_elsewhere",
                             "hq_settings", "hq_orders"))

ACTOR = "hq"


@dataclass(frozen=True)
class Applied:
    seq: int
    outcome: str  # applied | conflict (a refusal raises Refused)
    conflict: str | None = None


@dataclass(frozen=True)
class Conflict:
    """Why a message cannot be applied as asked: an `hq.conflict` entry, never a silent fix."""

    kind: str
    item_id: str | None
    detail: str


def _nothing(*_: Any) -> None:
    return None


@dataclass(frozen=True)
class MessageType:
    """One kind of HQ message and what it does to the books.

    `fields`: what its body must carry (the wire refuses a body without them).
    `validate(book, body, profile)`: checks the body before the transaction (raises
    Invalid) and returns what `apply` needs. `conflict(tx, body)`: why it cannot be applied
    as asked, or None. `apply(book, tx, message, checked)`: the core entries it implies.
    `project(tx, body, seq)`: its rows in the hq_* projections, from its `hq.message`
    entry (so a rebuild replays it).
    """

    name: str
    fields: tuple[str, ...]
    validate: Callable[[HQBook, dict[str, Any], dict[str, Any] | None], Any] = _nothing
    conflict: Callable[[Tx, dict[str, Any]], Conflict | None] = _nothing
    apply: Callable[[HQBook, Tx, dict[str, Any], Any], None] = _nothing
    project: Callable[[Tx, dict[str, Any], int], None] = _nothing


# -- checking message bodies ------------------------------------------------------------------

def _text(body: dict[str, Any], field: str, max_len: int = 200) -> str:
    return fields.text(body.get(field), field, required=True, max_len=max_len)


def _check_currency(value: Any, currency: str, field: str) -> None:
    if value != currency:
        raise Invalid("“{value}” is not the store's currency {currency}", field,
                      value=str(value), currency=currency)


def _check_rates(rates: Any, currency: str) -> None:
    if not isinstance(rates, list) or not rates:
        raise Invalid("at least one rate is needed", "rates")
    for i, rate in enumerate(rates):
        f = Form(rate, f"rates[{i}]")
        for field in ("metal", "valid_from", "valid_until"):
            f.text(field, required=True, max_len=40)
        f.whole("fineness", lo=1, hi=1000, required=True)
        if f.amount("per_gram", required=True) == 0:
            f.problem("per_gram", "a metal rate is more than zero")
        f.check(_check_currency, rate.get("currency"), currency, f.path("currency"))
        f.done()
        if rate["valid_until"] <= rate["valid_from"]:
            raise Invalid("a rate's validity must end after it begins", f"rates[{i}]")


def _check_events(events: Any) -> None:
    if not isinstance(events, list) or not 0 < len(events) <= 500:
        raise Invalid("this must be a list of 1 to {max} events", "events", max=500)
    for i, event in enumerate(events):
        f = Form(event, f"events[{i}]")
        f.choice("action", ("viewed", "wishlisted"), required=True, lower=False)
        f.text("ref", required=True, max_len=60)
        f.text("at", required=True, max_len=40)
        f.done()


def _texts(*names: str, max_len: int = 200) -> Callable[..., None]:
    def validate(book: HQBook, body: dict[str, Any], profile: dict[str, Any] | None) -> None:
        for name in names:
            _text(body, name, max_len)
    return validate


# -- what each message does -------------------------------------------------------------------

def _piece_conflict(tx: Tx, mtype: str, item_id: str, what: str) -> Conflict | None:
    """A price or a hold for a piece this store does not have, or already sold."""
    item = tx.one("SELECT status, status_ref FROM items WHERE item_id = ?", (item_id,))
    if item is None:
        return Conflict("unknown_piece", item_id,
                        f"HQ sent a {mtype} for piece {item_id}, which is not in this store")
    if item["status"] == "sold":
        return Conflict(f"{mtype}_for_sold_piece", item_id,
                        f"piece {item_id} was {what} but was already sold in store"
                        f" ({item['status_ref']})")
    if mtype in ("reservation", "online_order") and item["status"] != "in_stock":
        return Conflict(f"{mtype}_unavailable", item_id,
                        f"piece {item_id} cannot be held: it is {item['status']}"
                        f" ({item['status_ref']})")
    return None


def _price_validate(book: HQBook, body: dict[str, Any], profile: dict[str, Any] | None) -> None:
    _text(body, "item_id", 40)
    money_field(body.get("tag_price"), "tag_price")
    _check_currency(body.get("currency"), book.items.currency, "currency")


def _price_apply(book: HQBook, tx: Tx, message: dict[str, Any], checked: Any) -> None:
    body = message["body"]
    current = load_piece_tx(tx, body["item_id"])
    tx.append("item.updated", f"item:{body['item_id']}", {
        "item_id": body["item_id"], "changes": {"tag_price": body["tag_price"]},
        "before": {"tag_price": current["tag_price"]},
        "reason": f"HQ price list (message {message['id']})"}, actor=ACTOR)


def _rates_project(tx: Tx, body: dict[str, Any], seq: int) -> None:
    # The rates, and every piece priced by the gram they reach, in this one transaction.
    prices.rates_in(tx, body["rates"], seq)


def _catalog_conflict(tx: Tx, body: dict[str, Any]) -> Conflict | None:
    item_id = body["piece"].get("item_id")
    if tx.one("SELECT 1 FROM items WHERE item_id = ?", (item_id,)):
        return Conflict("catalog_duplicate", item_id,
                        f"HQ assigned piece {item_id}, already in this store")
    return None


def _promotion_validate(book: HQBook, body: dict[str, Any],
                        profile: dict[str, Any] | None) -> None:
    promotions.validate_promotion(body)  # strict: hub/core/promotions.py


def _promotion_project(tx: Tx, body: dict[str, Any], seq: int) -> None:
    tx.execute("INSERT INTO hq_promotions (promotion_id, name, starts, ends, rule, seq)"
               " VALUES (?,?,?,?,?,?) ON CONFLICT(promotion_id) DO UPDATE SET"
               " name = excluded.name, starts = excluded.starts, ends = excluded.ends,"
               " rule = excluded.rule, seq = excluded.seq",
               (body["promotion_id"], body["name"], body["starts"], body["ends"],
                json.dumps(body["rule"], sort_keys=True), seq))


def _client_validate(book: HQBook, body: dict[str, Any],
                     profile: dict[str, Any] | None) -> dict[str, Any]:
    _text(body, "client_id", 20)
    if profile is None:
        raise Invalid("the sealed profile was not opened", "sealed_profile")
    # Written by another hub, maybe an older one: its words are moved, not refused.
    return validate_profile(profile, stored=True)


def _reservation_project(tx: Tx, body: dict[str, Any], seq: int) -> None:
    tx.execute("INSERT INTO hq_reservations (reservation_id, item_id, client_id, pickup_by,"
               " status, seq, updated_seq) VALUES (?,?,?,?,'held',?,?)",
               (body["reservation_id"], body["item_id"], body["client_id"], body["pickup_by"],
                seq, seq))
    set_status(tx, body["item_id"], "reserved", f"reservation:{body['reservation_id']}", seq)


def _cancel_conflict(tx: Tx, body: dict[str, Any]) -> Conflict | None:
    row = tx.one("SELECT status, item_id FROM hq_reservations WHERE reservation_id = ?",
                 (body["reservation_id"],))
    if row is None or row["status"] != "held":
        state = "unknown" if row is None else row["status"]
        return Conflict("cancel_not_held", None if row is None else row["item_id"],
                        f"reservation {body['reservation_id']} is {state}: nothing to cancel")
    return None


def _release(tx: Tx, reservation_id: str, status: str, seq: int) -> None:
    row = tx.one("SELECT item_id FROM hq_reservations WHERE reservation_id = ?",
                 (reservation_id,))
    tx.execute("UPDATE hq_reservations SET status = ?, updated_seq = ? WHERE reservation_id = ?",
               (status, seq, reservation_id))
    if row is not None:
        set_status(tx, row["item_id"], "in_stock", None, seq)


def _order_validate(book: HQBook, body: dict[str, Any],
                    ship_to: dict[str, Any] | None) -> dict[str, Any]:
    for name in ("order_id", "item_id", "client_id", "ship_by"):
        _text(body, name, 60)
    if money_field(body.get("paid"), "paid") == 0:
        raise Invalid("an online order is paid more than zero", "paid")
    _check_currency(body.get("currency"), book.items.currency, "currency")
    if ship_to is None:
        raise Invalid("the sealed address was not opened", "sealed_ship_to")
    return check_address(ship_to)


def check_address(raw: Any) -> dict[str, Any]:
    """Where an online order goes: a name, a street, a postcode, a city and a country."""
    f = Form(raw, "ship_to")
    address = {"name": f.text("name", required=True, max_len=120),
               "line1": f.text("line1", required=True, max_len=200),
               "line2": f.text("line2", max_len=200),
               "postcode": f.text("postcode", required=True, max_len=20),
               "city": f.text("city", required=True, max_len=80),
               "country": f.text("country", required=True, max_len=60),
               "phone": f.text("phone", max_len=40)}
    f.done()
    return {k: v for k, v in address.items() if v}


def _order_apply(book: HQBook, tx: Tx, message: dict[str, Any], ship_to: dict[str, Any]
                 ) -> None:
    body = message["body"]
    # Her address under her own key when she is a client here: an erasure shreds it too.
    client = tx.one("SELECT status FROM clients WHERE client_id = ?", (body["client_id"],))
    key_id = f"client:{body['client_id']}" if client and client["status"] == "active" \
        else "store"
    tx.append("hq.online_order", f"item:{body['item_id']}", {
        **{k: body[k] for k in ("order_id", "item_id", "client_id", "paid", "currency",
                                "ship_by")},
        "ship_to": ship_to, "message_id": message["id"]}, actor=ACTOR, key_id=key_id)


def _order_cancel_conflict(tx: Tx, body: dict[str, Any]) -> Conflict | None:
    row = tx.one("SELECT status, item_id FROM hq_orders WHERE order_id = ?", (body["order_id"],))
    if row is None or row["status"] != "to_ship":
        state = "unknown" if row is None else row["status"].replace("_", " ")
        return Conflict("cancel_not_to_ship", None if row is None else row["item_id"],
                        f"online order {body['order_id']} is {state}: nothing to cancel")
    return None


def _order_release(tx: Tx, order_id: str, status: str, seq: int, **shipped: Any) -> None:
    row = tx.one("SELECT item_id FROM hq_orders WHERE order_id = ?", (order_id,))
    tx.execute("UPDATE hq_orders SET status = ?, carrier = ?, tracking = ?, updated_seq = ?"
               " WHERE order_id = ?", (status, shipped.get("carrier"), shipped.get("tracking"),
                                       seq, order_id))
    if row is not None:
        set_status(tx, row["item_id"], "in_stock", None, seq)


def _activity_validate(book: HQBook, body: dict[str, Any],
                       profile: dict[str, Any] | None) -> None:
    _text(body, "client_id", 20)
    _check_events(body["events"])


def _activity_project(tx: Tx, body: dict[str, Any], seq: int) -> None:
    tx.conn.executemany(
        "INSERT INTO hq_activity (seq, pos, client_id, action, ref, at) VALUES (?,?,?,?,?,?)",
        [(seq, i, body["client_id"], e["action"], e["ref"], e["at"])
         for i, e in enumerate(body["events"])])


def _stock_validate(book: HQBook, body: dict[str, Any], profile: dict[str, Any] | None) -> None:
    _text(body, "sku", 60)
    stores = body["stores"]
    if not isinstance(stores, dict) or not all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in stores.values()):
        raise Invalid("this maps a store id to a count", "stores")


def _settings_validate(book: HQBook, body: dict[str, Any],
                       profile: dict[str, Any] | None) -> None:
    section, values = body["section"], body["values"]
    check = book.setting_checks.get(section) if isinstance(section, str) else None
    if check is None:
        raise Invalid("no part of this hub takes head office's settings for “{section}”",
                      "section", section=str(section))
    if not isinstance(values, dict):
        raise Invalid("settings are a table of keys, as in loupe.toml", "values")
    try:  # the part that owns the section refuses what it would refuse at start
        check(values)
    except ConfigError as exc:
        raise Invalid("head office's {section} settings are refused: {why}", "values",
                      section=section, why=str(exc)) from exc


class LayerMessage(Protocol):
    """A message type a layer takes (a wish from the web shop): checked before the
    transaction, applied inside it with the layer's own entries."""

    def validate(self, body: dict[str, Any]) -> Any: ...

    def apply_in(self, tx: Tx, checked: Any) -> None: ...


def _taken(book: HQBook, mtype: str) -> LayerMessage:
    taker = book.layer_messages.get(mtype)
    if taker is None:
        # Not the message's fault: a part not running here (yet). Not journaled as refused,
        # so HQ's re-sending brings it again once the part runs.
        raise Refused("unknown_type", "no part of this hub takes head office's “{type}”"
                      " messages now", field="type", type=mtype)
    return taker


def _settings_project(tx: Tx, body: dict[str, Any], seq: int) -> None:
    tx.execute("INSERT OR REPLACE INTO hq_settings (section, body, seq) VALUES (?, ?, ?)",
               (body["section"], json.dumps(body["values"], sort_keys=True), seq))


def _stock_project(tx: Tx, body: dict[str, Any], seq: int) -> None:
    tx.execute("DELETE FROM hq_stock_elsewhere WHERE sku = ?", (body["sku"],))
    tx.conn.executemany(
        "INSERT INTO hq_stock_elsewhere (sku, store_id, count, seq) VALUES (?,?,?,?)",
        [(body["sku"], store, count, seq) for store, count in body["stores"].items()])


# -- the message types: adding one is one entry here ------------------------------------------

MESSAGE_TYPES: dict[str, MessageType] = {t.name: t for t in (
    MessageType("price", ("item_id", "tag_price", "currency"), validate=_price_validate,
                conflict=lambda tx, body: _piece_conflict(tx, "price", body["item_id"],
                                                          "re-priced by HQ"),
                apply=_price_apply),
    MessageType("rates", ("rates",),
                validate=lambda book, body, _: _check_rates(body["rates"], book.items.currency),
                project=_rates_project),
    MessageType("catalog", ("piece",),
                validate=lambda book, body, _: book.items.validate(body["piece"]),
                conflict=_catalog_conflict,
                apply=lambda book, tx, _, piece: book.items.receive_in(tx, piece, ACTOR)),
    MessageType("promotion", ("promotion_id", "name", "starts", "ends", "rule"),
                validate=_promotion_validate, project=_promotion_project),
    MessageType("client", ("client_id", "sealed_profile"), validate=_client_validate,
                apply=lambda book, tx, message, profile: book.client_in(
                    tx, message["body"]["client_id"], profile)),
    MessageType("reservation", ("reservation_id", "item_id", "client_id", "pickup_by"),
                validate=_texts("reservation_id", "item_id", "client_id", "pickup_by",
                                max_len=60),
                conflict=lambda tx, body: _piece_conflict(tx, "reservation", body["item_id"],
                                                          "reserved online"),
                project=_reservation_project),
    MessageType("reservation_cancelled", ("reservation_id", "reason"),
                validate=_texts("reservation_id", max_len=60), conflict=_cancel_conflict,
                project=lambda tx, body, seq: _release(tx, body["reservation_id"], "cancelled",
                                                       seq)),
    # An order the web shop took, shipped from here: held until packed, then sold.
    MessageType("online_order", ("order_id", "item_id", "client_id", "paid", "currency",
                                 "ship_by", "sealed_ship_to"),
                validate=_order_validate,
                conflict=lambda tx, body: _piece_conflict(tx, "online_order", body["item_id"],
                                                          "ordered online"),
                apply=_order_apply),
    MessageType("online_order_cancelled", ("order_id", "reason"),
                validate=_texts("order_id", max_len=60), conflict=_order_cancel_conflict,
                project=lambda tx, body, seq: _order_release(tx, body["order_id"], "cancelled",
                                                             seq)),
    MessageType("activity", ("client_id", "events"), validate=_activity_validate,
                project=_activity_project),
    MessageType("stock_elsewhere", ("sku", "stores"), validate=_stock_validate,
                project=_stock_project),
    MessageType("settings", ("section", "values"), validate=_settings_validate,
                project=_settings_project),
    # HQ's word on a message to a client it was asked to send (hub/core/outbox.py).
    MessageType("notification_receipt", ("notification_id", "status", "channel", "reason"),
                validate=lambda book, body, _: outbox.check_receipt(body),
                project=outbox.receipt_in),
    MessageType("wishlist", ("client_id", "wish"),
                validate=lambda book, body, _: _taken(book, "wishlist").validate(body),
                apply=lambda book, tx, _, checked: _taken(book, "wishlist").apply_in(tx,
                                                                                    checked)),
    # Exchange rates for foreign currency tenders (hub/travel): home currency per unit.
    MessageType("exchange_rates", ("rates",),
                validate=lambda book, body, _: _taken(book, "exchange_rates").validate(body),
                apply=lambda book, tx, _, checked: _taken(book, "exchange_rates").apply_in(
                    tx, checked)),
    # Gift cards across the chain (hub/giftcards): HQ's chain-wide balance of a card, and
    # its word on a card of another store redeemed here (reconciled, or in conflict).
    *(MessageType(name, fields_, validate=lambda book, body, _, n=name: _taken(book, n).validate(
        body), apply=lambda book, tx, _, checked, n=name: _taken(book, n).apply_in(tx, checked))
      for name, fields_ in (("gift_card_balance", ("code", "balance", "elsewhere")),
                            ("gift_card_reconciliation", ("code", "ref", "outcome",
                                                          "balance")))),
    # Transfers between stores (hub/transfers): HQ asks a store to send a piece, tells the
    # chain what is on its way, and tells both ends how a transfer ended.
    *(MessageType(name, fields_, validate=lambda book, body, _, n=name: _taken(book, n).validate(
        body), apply=lambda book, tx, _, checked, n=name: _taken(book, n).apply_in(tx, checked))
      for name, fields_ in (("transfer_request", ("transfer_id", "item_id", "from_store",
                                                  "to_store")),
                            ("transfer_expected", ("transfer_id", "item_id", "from_store",
                                                   "to_store", "piece")),
                            ("transfer_settled", ("transfer_id", "item_id", "from_store",
                                                  "to_store", "status")))),
    # One client across stores (hub/hq/clients.py): this store's client is the same person
    # as other stores' clients; each keeps its record and links it to one chain-wide id.
    MessageType("client_merge", ("match_id", "chain_client_id", "client_id", "linked"),
                validate=lambda book, body, _: _link_validate(body),
                conflict=lambda tx, body: _link_conflict(tx, body),
                apply=lambda book, tx, message, linked: _link_apply(tx, message, linked)),
)}


def _link_validate(body: dict[str, Any]) -> list[dict[str, str]]:
    for name in ("match_id", "chain_client_id", "client_id"):
        _text(body, name, 60)
    linked = body["linked"]
    if not isinstance(linked, list) or not 0 < len(linked) <= 100:
        raise Invalid("this must be a list of 1 to {max} clients of other stores", "linked",
                      max=100)
    out = []
    for i, other in enumerate(linked):
        f = Form(other, f"linked[{i}]")
        store_id = f.text("store_id", required=True, max_len=60)
        client_id = f.text("client_id", required=True, max_len=60)
        f.done()
        out.append({"store_id": store_id, "client_id": client_id})
    return out


def _link_conflict(tx: Tx, body: dict[str, Any]) -> Conflict | None:
    row = tx.one("SELECT status FROM clients WHERE client_id = ?", (body["client_id"],))
    if row is None or row["status"] != "active":
        state = "unknown here" if row is None else row["status"]
        return Conflict("client_link_unavailable", None,
                        f"head office linked client {body['client_id']} to a client of"
                        f" another store, but that client is {state}")
    return None


def _link_apply(tx: Tx, message: dict[str, Any], linked: list[dict[str, str]]) -> None:
    body = message["body"]
    # Under her own key: an erasure shreds the link with the rest of her.
    tx.append("client.linked", f"client:{body['client_id']}", {
        "client_id": body["client_id"], "chain_client_id": body["chain_client_id"],
        "linked": linked, "match_id": body["match_id"], "message_id": message["id"]},
        actor=ACTOR, key_id=f"client:{body['client_id']}")


# -- projections ------------------------------------------------------------------------------

def _on_message(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    msg, outcome = p["message"], p["outcome"]
    tx.execute("INSERT INTO hq_messages (message_id, type, outcome, seq) VALUES (?,?,?,?)",
               (msg["id"], msg["type"], outcome, entry.seq))
    if outcome == "applied":
        MESSAGE_TYPES[msg["type"]].project(tx, msg["body"], entry.seq)


def _on_collected(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    _release(tx, p["reservation_id"], "collected", entry.seq)


def _on_order(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute("INSERT INTO hq_orders (order_id, item_id, client_id, paid, currency, ship_by,"
               " status, seq, updated_seq) VALUES (?,?,?,?,?,?,'to_ship',?,?)",
               (p["order_id"], p["item_id"], p["client_id"], p["paid"], p["currency"],
                p["ship_by"], entry.seq, entry.seq))
    set_status(tx, p["item_id"], "reserved", f"order:{p['order_id']}", entry.seq)


def _on_shipped(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    _order_release(tx, p["order_id"], "shipped", entry.seq, carrier=p["carrier"],
                   tracking=p["tracking"])


def _on_conflict(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute("INSERT INTO hq_conflicts (seq, ts, kind, item_id, ref, detail)"
               " VALUES (?,?,?,?,?,?)", (entry.seq, entry.ts, p["conflict"], p.get("item_id"),
                                         p.get("ref"), p["detail"]))
    if p.get("item_id"):
        touch_item(tx, p["item_id"], entry.seq)


PROJECTIONS = {
    "hq.message": _on_message,
    "hq.reservation_collected": _on_collected,
    "hq.online_order": _on_order,
    "hq.order_shipped": _on_shipped,
    "hq.conflict": _on_conflict,
}


# -- the service ------------------------------------------------------------------------------

class HQBook:
    """Applies verified HQ messages to the books; lists reservations, conflicts and rates."""

    def __init__(self, ledger: Ledger, items: Items, clients: Clients, sales: Sales) -> None:
        self.ledger = ledger
        self.items = items
        self.clients = clients
        self.sales = sales
        # The sections head office may set, each with its check (the part owning it sets
        # one at start: it raises Invalid, or ConfigError, for what it would not take).
        self.setting_checks: dict[str, Callable[[dict[str, Any]], Any]] = {}
        self.layer_messages: dict[str, LayerMessage] = {}  # types a layer takes (wishlist)
        # A rate moving more than this (basis points) against the current one is held for a
        # manager (`Prices.accept`): the Store sets it from `[pricing] max_rate_move_bp`.
        self.max_rate_move_bp = prices.PricingSettings().max_rate_move_bp

    async def apply(self, message: dict[str, Any], signature: str, *,
                    profile: dict[str, Any] | None = None) -> Applied:
        """Apply one HQ message whose signature the caller verified (`signature` is kept).

        A client message carries its profile sealed to this store; the caller opens it and
        passes it as `profile`, so the clear profile goes only into the client's own entry.
        Raises Refused (`replayed`, `invalid`, `unknown_type`, ...) for what must not enter
        the books; a refusal other than a replay or an unknown type is journaled first (an
        `hq.message` entry with outcome `refused` and the reason), once per message.
        """
        kind = MESSAGE_TYPES.get(message["type"])
        if kind is None:
            raise Refused("unknown_type", "head office message {message_id} is of a type this"
                          " hub does not know ({type}): refused", message_id=str(message["id"]),
                          type=str(message["type"]))
        try:
            checked = kind.validate(self, message["body"], profile)
            return await self.ledger.transact(
                lambda tx: self._apply_in(tx, kind, message, signature, checked))
        except Refused as exc:
            if exc.code in ("replayed", "unknown_type"):
                raise
            # HQ signed it and it is addressed here, but the books cannot take it: the
            # journal says so (HQ reads it as `refused` and stops re-sending), then the
            # caller records and shows the refusal as before.
            reason = exc.english()
            await self.ledger.transact(
                lambda tx: self._refused_in(tx, message, signature, reason))
            raise

    def _refused_in(self, tx: Tx, message: dict[str, Any], signature: str,
                    reason: str) -> None:
        if tx.one("SELECT 1 FROM hq_messages WHERE message_id = ?", (message["id"],)):
            return  # refused (or applied) once already: one entry per message
        # Personal data sealed to this store (a profile, an address) is not kept for a
        # message refused (her erasure may be why): the record says what was left out, and
        # HQ's signature then covers the message as sent, not as kept.
        body = message.get("body") or {}
        left_out = sorted(k for k in body if k.startswith("sealed_"))
        kept = {**message, "body": {k: v for k, v in body.items() if k not in left_out}}
        tx.append("hq.message", f"hq:{message['id']}",
                  {"message": kept, "sig": signature, "outcome": "refused",
                   "reason": reason[:500], "left_out": left_out}, actor=ACTOR)

    def _apply_in(self, tx: Tx, kind: MessageType, message: dict[str, Any], signature: str,
                  checked: Any) -> Applied:
        msg_id = message["id"]
        seen = tx.one("SELECT seq, outcome FROM hq_messages WHERE message_id = ?", (msg_id,))
        if seen is not None and seen["outcome"] == "refused":
            raise Refused("replayed", "head office message {message_id} was refused before"
                          " (journal entry {seq}): it is not taken again", message_id=msg_id,
                          seq=str(seen["seq"]))
        if seen is not None:
            raise Refused("replayed", "head office message {message_id} was already applied"
                          " (journal entry {seq}): replay refused", message_id=msg_id,
                          seq=str(seen["seq"]))
        conflict = kind.conflict(tx, message["body"])
        if conflict is None and kind.name == "rates":  # a move beyond the band waits
            why = prices.band_conflict(tx, message["body"]["rates"], self.max_rate_move_bp)
            conflict = Conflict("rate_move_held", None, why) if why else None
        outcome = "conflict" if conflict else "applied"
        record = tx.append("hq.message", f"hq:{msg_id}",
                           {"message": message, "sig": signature, "outcome": outcome},
                           actor=ACTOR)
        if conflict:
            item_id = conflict.item_id
            tx.append("hq.conflict", f"item:{item_id}" if item_id else f"hq:{msg_id}",
                      {"conflict": conflict.kind, "item_id": item_id, "ref": f"hq:{msg_id}",
                       "message_type": kind.name, "detail": conflict.detail}, actor=ACTOR)
            return Applied(record.seq, outcome, conflict.kind)
        kind.apply(self, tx, message, checked)
        return Applied(record.seq, outcome)

    async def settings(self, section: str) -> dict[str, Any]:
        """What head office last set for `section` (empty: nothing)."""
        row = await self.ledger.fetch_one("SELECT body FROM hq_settings WHERE section = ?",
                                          (section,))
        return {} if row is None else json.loads(row["body"])

    def client_in(self, tx: Tx, client_id: str, profile: dict[str, Any]) -> None:
        row = tx.one("SELECT status FROM clients WHERE client_id = ?", (client_id,))
        if row is None:
            self.clients.create_in(tx, profile, ACTOR, client_id=client_id)
            return
        if row["status"] != "active":
            raise Refused("client_forgotten", "client {client_id} was erased here: head"
                          " office's update is refused", client_id=client_id)
        self.clients.update_in(tx, client_id, profile, ACTOR)

    async def collect(self, reservation_id: str, *, register_id: str, actor: str,
                      tenders: Any, discount: int = 0) -> dict[str, Any]:
        """The client picks up a held piece: release the hold and sell it, in one go."""
        checked_tenders = validate_tenders(tenders)
        self.sales.check_register(register_id)

        def command(tx: Tx) -> Entry:
            row = tx.one("SELECT * FROM hq_reservations WHERE reservation_id = ?",
                         (reservation_id,))
            if row is None:
                raise NotFound("no reservation {reservation_id}", reservation_id=reservation_id)
            if row["status"] != "held":
                raise Refused("not_held", "reservation {reservation_id} is not held here"
                              " ({status})", reservation_id=reservation_id,
                              status=row["status"])
            tx.append("hq.reservation_collected", f"item:{row['item_id']}",
                      {"reservation_id": reservation_id, "item_id": row["item_id"],
                       "client_id": row["client_id"]}, actor=actor)
            return self._sell_released(tx, row, register_id=register_id, actor=actor,
                                       tenders=checked_tenders, discount=discount,
                                       note=f"click-and-collect {reservation_id}")

        entry = await self.ledger.transact(command)
        return await self.sales.get(entry.subject.split(":", 1)[1])

    async def ship(self, order_id: str, *, scanned: Any, carrier: Any, tracking: Any,
                   register_id: str, actor: str) -> dict[str, Any]:
        """An online order packed and handed to the carrier: the piece scanned must be the
        one ordered; the hold ends and the piece is sold, paid online, in one go."""
        f = Form({"scanned": scanned, "carrier": carrier, "tracking": tracking})
        code = f.text("scanned", required=True, max_len=60)
        shipped = {"carrier": f.text("carrier", required=True, max_len=60),
                   "tracking": f.text("tracking", required=True, max_len=60)}
        f.done()
        self.sales.check_register(register_id)

        def command(tx: Tx) -> Entry:
            row = tx.one("SELECT * FROM hq_orders WHERE order_id = ?", (order_id,))
            if row is None:
                raise NotFound("no online order {order_id}", order_id=order_id)
            if row["status"] != "to_ship":
                raise Refused("not_to_ship", "online order {order_id} is not waiting to be"
                              " shipped ({status})", order_id=order_id,
                              status=Term("order_status", row["status"]))
            found = tx.one("SELECT item_id FROM items WHERE item_id = ? OR epc = ?",
                           (code, code.upper()))
            if found is None or found["item_id"] != row["item_id"]:
                raise Refused("wrong_piece", "{scanned} is not the piece ordered: pack"
                              " {item_id} for online order {order_id}", field="scanned",
                              scanned=code, item_id=row["item_id"], order_id=order_id)
            tx.append("hq.order_shipped", f"item:{row['item_id']}",
                      {"order_id": order_id, "item_id": row["item_id"],
                       "client_id": row["client_id"], **shipped}, actor=actor)
            # What she paid online is the price: the difference from the tag, a discount.
            lines = validate_lines([{"item_id": row["item_id"]}])
            total = self.sales.price_in(tx, lines, 0, None)["total"]
            if row["paid"] > total:
                raise Refused("paid_above_price", "online order {order_id} was paid {paid},"
                              " more than the piece's price {price}: ask head office",
                              order_id=order_id, paid=self.sales.money(row["paid"]),
                              price=self.sales.money(total))
            return self._sell_released(
                tx, row, register_id=register_id, actor=actor, discount=total - row["paid"],
                tenders=validate_tenders([{"type": "online", "amount": row["paid"],
                                           "reference": order_id}]),
                note=f"online order {order_id}, shipped by {shipped['carrier']}"
                     f" {shipped['tracking']}", online_order=order_id)

        entry = await self.ledger.transact(command)
        return await self.sales.get(entry.subject.split(":", 1)[1])

    def _sell_released(self, tx: Tx, held: Any, *, register_id: str, actor: str,
                       tenders: list[dict[str, Any]], discount: int, note: str,
                       online_order: str | None = None) -> Entry:
        """Sell a piece whose hold (a reservation, an online order) just ended: to its
        client when she is one of this store's."""
        client = tx.one("SELECT status FROM clients WHERE client_id = ?", (held["client_id"],))
        client_id = held["client_id"] if client and client["status"] == "active" else None
        return self.sales.complete_in(
            tx, register_id=register_id, actor=actor,
            lines=validate_lines([{"item_id": held["item_id"]}]), tenders=tenders,
            client_id=client_id, discount=discount, note=note, online_order=online_order)

    # -- reads ----------------------------------------------------------------------------

    async def conflicts(self, limit: int = 100) -> list[dict[str, Any]]:
        rows = await self.ledger.fetch("SELECT * FROM hq_conflicts ORDER BY seq DESC LIMIT ?",
                                       (limit,))
        return [dict(r) for r in rows]

    async def orders(self, status: str | None = None) -> list[dict[str, Any]]:
        """Online orders to ship from here (or all), oldest first, each with where it goes
        (`ship_to`, opened from its journal entry: shown to staff, never stored in clear)."""
        sql = "SELECT * FROM hq_orders" + (" WHERE status = ?" if status else "") + \
            " ORDER BY seq"
        rows = [dict(r) for r in await self.ledger.fetch(sql, (status,) if status else ())]
        for row in rows:
            payload = await self.ledger.payload_at(row["seq"])
            row["ship_to"] = (payload or {}).get("ship_to")  # None: her key was shredded
        return rows

    async def reservations(self, status: str | None = None) -> list[dict[str, Any]]:
        if status:
            rows = await self.ledger.fetch("SELECT * FROM hq_reservations WHERE status = ?"
                                           " ORDER BY seq", (status,))
        else:
            rows = await self.ledger.fetch("SELECT * FROM hq_reservations ORDER BY seq")
        return [dict(r) for r in rows]

    def rate_in(self, tx: Tx, metal: str, fineness: int, currency: str) -> dict[str, Any] | None:
        """The rate that prices `metal` at `fineness` in `currency` (see hub/core/metals.py):
        HQ's rate for that very alloy, else its fine rate (1000) scaled by the fineness; None
        when HQ sent neither. The row as kept (`per_gram` for `rate_fineness`, validity, the
        seq of the message) with `per_gram_exact`, a Fraction for `fineness`."""
        rows = tx.all("SELECT * FROM hq_rates WHERE metal = ? AND currency = ? AND fineness"
                      " IN (?, 1000) ORDER BY fineness = ? DESC", (metal, currency, fineness,
                                                                   fineness))
        if not rows:
            return None
        row = dict(rows[0])
        row["rate_fineness"] = row.pop("fineness")
        row["per_gram_exact"] = metals.per_gram_of_alloy(row["per_gram"], row["rate_fineness"],
                                                         fineness)
        return row

    async def rates(self) -> list[dict[str, Any]]:
        rows = await self.ledger.fetch("SELECT * FROM hq_rates ORDER BY metal, fineness")
        return [dict(r) for r in rows]

    async def activity_of(self, client_id: str, limit: int = 50) -> list[dict[str, Any]]:
        """A client's online activity as HQ reported it (the web shop's pieces she viewed or
        wish-listed), latest first: `action` (viewed | wishlisted), `ref` (a serial or a
        SKU), `at`."""
        rows = await self.ledger.fetch(
            "SELECT action, ref, at FROM hq_activity WHERE client_id = ?"
            " ORDER BY at DESC, seq DESC, pos LIMIT ?", (client_id, limit))
        return [dict(r) for r in rows]

    async def stock_elsewhere(self, sku: str) -> dict[str, int]:
        rows = await self.ledger.fetch("SELECT store_id, count FROM hq_stock_elsewhere"
                                       " WHERE sku = ? ORDER BY store_id", (sku,))
        return {r["store_id"]: r["count"] for r in rows}

