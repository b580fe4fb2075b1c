"""The web shop at HQ: an HTTP API an e-commerce platform calls, on the console's app.

Every request is a webhook signed with the shop's secret: `X-Loupe-Signature: sha256=<hex
HMAC-SHA256 of the raw body>`, and names its event, `X-Loupe-Event-Id` (a platform retries
with the same id: the second is answered "already received" and nothing is done twice). What
it asks for becomes HQ's signed messages to a store, through the existing flows:

- `POST /shop/v1/reservations` {reservation_id, store_id, item_id, client_id, pickup_by}:
  click-and-collect (message `reservation`; the store holds the piece or records a conflict;
  its `hq.reservation_collected` entry ends it at HQ);
- `POST /shop/v1/reservations/{id}/cancel` {reason}: `reservation_cancelled`;
- `POST /shop/v1/orders` {order_id, item_id or sku, client_id, paid, currency, ship_to,
  store_id (optional: else the store holding most of the style, in that currency)}: an
  order paid online, shipped from a store (message `online_order`, the address sealed to
  that store; the store packs it by scan, its `hq.order_shipped` entry ends it at HQ);
  `POST /shop/v1/orders/{id}/cancel` {reason}: `online_order_cancelled`;
- `POST /shop/v1/activity` {store_id, client_id, events: [{action viewed|wishlisted, ref,
  at}]}: what she looked at online (`activity`); `POST /shop/v1/wishlist` {store_id,
  client_id, wish}: her wish list (`wishlist`);
- `GET /shop/v1/availability?sku=` (signed over the empty body, the event id a nonce):
  per style and store, how many pieces are in stock, from HQ's projection;
- `POST /shop/v1/shopify/orders-create`: Shopify's `orders/create` webhook (hub/hq/shopify.py),
  `X-Shopify-Hmac-Sha256` (base64) and `X-Shopify-Webhook-Id`: a reservation when the client
  collects in a boutique, else an online order shipped from one.

Before it sends, HQ checks its own projection: a piece sold, held or on its way is refused
with a conflict recorded (`conflicts`, source `shop`), never a silent double sale; what still
slips through (a sale in the shop not yet at HQ) is the store's conflict, back in its journal.
Every event is recorded in `shop_events` with its outcome. Secrets live in HQ's data dir
(`loupe hq shop-secret --source loupe|shopify`, 0600), never in the repository. The HTTP
side is hub/hq/shop_web.py; this module is the service, its table and its secrets.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import ssl
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hub.core.errors import Invalid
from hub.core.hq import check_address
from hub.ledger.ledger import utc_now
from hub.sync.hqstore import Fact, HQPart, release_held
from hub.sync.tls import write_secret

SOURCES = ("loupe", "shopify")
MAX_BODY = 256 * 1024

SCHEMA = """
CREATE TABLE IF NOT EXISTS shop_events (
    event_id TEXT NOT NULL, source TEXT NOT NULL, topic TEXT NOT NULL,
    received_at TEXT NOT NULL,
    outcome TEXT NOT NULL,              -- accepted | refused | conflict
    detail TEXT,
    PRIMARY KEY (source, event_id)
);
CREATE TABLE IF NOT EXISTS online_orders (
    order_id TEXT PRIMARY KEY, store_id TEXT NOT NULL, item_id TEXT NOT NULL,
    client_id TEXT NOT NULL, paid INTEGER NOT NULL, currency TEXT NOT NULL,
    status TEXT NOT NULL,               -- sent | to_ship | shipped | cancelled | conflict
    carrier TEXT, tracking TEXT,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL
);
"""
ORDER_DAYS = 3  # the store ships within this many days


def _order_fact(db: Any, store_id: str, d: dict[str, Any]) -> None:
    db.execute("UPDATE online_orders SET status = :status, carrier = COALESCE(:carrier,"
               " carrier), tracking = COALESCE(:tracking, tracking), updated_at = :at"
               " WHERE order_id = :order_id AND store_id = :store_id",
               {"carrier": None, "tracking": None, **d, "store_id": store_id,
                "at": utc_now()})
    if d["status"] == "cancelled":
        release_held(db, store_id, "online_orders", "order_id", d["order_id"])


def _project(store_id: str, entry: Any, p: dict[str, Any]) -> list[Fact]:
    """An online order's life at its store, from the store's own entries."""
    if entry.kind == "hq.order_shipped":
        return [Fact("online_order", {"order_id": p["order_id"], "status": "shipped",
                                      "carrier": p["carrier"], "tracking": p["tracking"]})]
    if entry.kind != "hq.message":
        return []
    message = p.get("message") or {}
    mtype, body = message.get("type"), message.get("body") or {}
    if mtype == "online_order":
        status = "to_ship" if p.get("outcome") == "applied" else "conflict"
    elif mtype == "online_order_cancelled" and p.get("outcome") == "applied":
        status = "cancelled"
    else:
        return []
    return [Fact("online_order", {"order_id": body.get("order_id"), "status": status})]


PART = HQPart("shop", schema=SCHEMA, facts={"online_order": _order_fact},
              kinds=("hq.message", "hq.order_shipped"), project=_project)


class ShopRefusal(Exception):
    """A request the shop API refuses: the HTTP status and a sentence."""

    def __init__(self, status: int, sentence: str, outcome: str = "refused") -> None:
        super().__init__(sentence)
        self.status, self.sentence, self.outcome = status, sentence, outcome


# -- secrets and signatures -------------------------------------------------------------------

def secret_path(data_dir: Path, source: str) -> Path:
    return data_dir / f"shop-{source}.secret"


def make_secret(data_dir: Path, source: str) -> str:
    if source not in SOURCES:
        raise ValueError(f"unknown web shop source {source!r}: {' or '.join(SOURCES)}")
    secret = secrets.token_hex(32)
    write_secret(secret_path(data_dir, source), secret.encode())
    return secret


def read_secret(data_dir: Path, source: str) -> bytes | None:
    path = secret_path(data_dir, source)
    return path.read_bytes().strip() if path.exists() else None


def sign(secret: bytes, body: bytes) -> str:
    """Our header's value for a body."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def signed_by(secret: bytes | None, body: bytes, header: str | None) -> bool:
    return bool(secret) and header is not None and hmac.compare_digest(
        sign(secret, body), header)


def shopify_signed_by(secret: bytes | None, body: bytes, header: str | None) -> bool:
    """Shopify's `X-Shopify-Hmac-Sha256`: base64 of HMAC-SHA256 of the raw body."""
    if not secret or header is None:
        return False
    want = base64.b64encode(hmac.new(secret, body, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(want, header.strip())


# -- the service: what each request does (on HQ's storage thread) ----------------------------

def _text(body: dict[str, Any], name: str, max_len: int = 60) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip() or len(value) > max_len:
        raise ShopRefusal(400, f"{name}: a text of 1 to {max_len} characters is needed")
    return value.strip()


class WebShop:
    """The web shop's requests against HQ: each returns the signed messages to publish."""

    def __init__(self, hq: Any) -> None:
        self.hq = hq

    @property
    def storage(self) -> Any:
        return self.hq.storage

    def _store(self, body: dict[str, Any]) -> str:
        store_id = _text(body, "store_id", 40)
        row = self.storage.store(store_id)
        if row is None or row.public_key is None:
            raise ShopRefusal(404, f"head office has no store {store_id!r}")
        return store_id

    def _conflict(self, store_id: str, item_id: str, ref: str, detail: str) -> ShopRefusal:
        self.storage.append_facts(store_id, [Fact("conflict", {
            "source": "shop", "kind": "shop_unavailable", "item_id": item_id, "ref": ref,
            "detail": detail})])
        return ShopRefusal(409, detail, "conflict")

    def _piece(self, store_id: str, body: dict[str, Any], ref: str) -> str:
        """The piece a request names, or the first in stock of the style (`sku`) it names,
        checked against HQ's projection: in stock and held for nobody, else a conflict."""
        if not body.get("item_id") and isinstance(body.get("sku"), str):
            # A style, not a piece (a platform's order line): the first piece free.
            for row in self.storage.query("SELECT item_id FROM items WHERE store_id = ? AND"
                                          " sku = ? AND status = 'in_stock' ORDER BY item_id",
                                          (store_id, body["sku"])):
                if self._held(store_id, row["item_id"]) is None:
                    return row["item_id"]
            raise self._conflict(store_id, body["sku"], ref,
                                 f"style {body['sku']} is not in stock at {store_id}")
        item_id = _text(body, "item_id")
        rows = self.storage.query("SELECT status FROM items WHERE store_id = ? AND item_id = ?",
                                  (store_id, item_id))
        if not rows:
            raise ShopRefusal(404, f"store {store_id} has no piece {item_id}")
        held = self._held(store_id, item_id)
        if held:
            raise self._conflict(store_id, item_id, ref, f"piece {item_id} is already held at"
                                 f" {store_id} for {held}")
        if rows[0]["status"] != "in_stock":
            raise self._conflict(store_id, item_id, ref, f"piece {item_id} cannot be"
                                 f" {'reserved' if ref.startswith('reservation') else 'sold'}"
                                 f" at {store_id}: it is {rows[0]['status'].replace('_', ' ')}")
        return item_id

    def _held(self, store_id: str, item_id: str) -> str | None:
        """What holds a piece at HQ's word: a reservation or an online order not ended."""
        reservation = self.storage.active_reservation(store_id, item_id)
        if reservation:
            return f"reservation {reservation}"
        rows = self.storage.query("SELECT order_id FROM online_orders WHERE store_id = ? AND"
                                  " item_id = ? AND status IN ('sent', 'to_ship')",
                                  (store_id, item_id))
        return f"online order {rows[0]['order_id']}" if rows else None

    def reserve(self, body: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, bytes]]]:
        store_id = self._store(body)
        rid = _text(body, "reservation_id")
        if self.storage.query("SELECT 1 FROM reservations WHERE reservation_id = ?", (rid,)):
            raise ShopRefusal(409, f"reservation {rid} exists already")
        item_id = self._piece(store_id, body, f"reservation:{rid}")
        fields = {"reservation_id": rid, "item_id": item_id,
                  **{k: _text(body, k) for k in ("client_id", "pickup_by")}}
        message = self.hq.message(store_id, "reservation", fields)
        return {"reservation_id": rid, "store_id": store_id, "item_id": item_id,
                "status": "sent"}, [message]

    def order(self, body: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, bytes]]]:
        """An order paid online, to be shipped from a store."""
        order_id = _text(body, "order_id")
        if self.storage.query("SELECT 1 FROM online_orders WHERE order_id = ?", (order_id,)):
            raise ShopRefusal(409, f"online order {order_id} exists already")
        currency = _text(body, "currency", 3).upper()
        paid = body.get("paid")
        if not isinstance(paid, int) or isinstance(paid, bool) or paid <= 0:
            raise ShopRefusal(400, "paid: what the client paid, in minor units (a whole number"
                                   " above zero), is needed")
        try:
            ship_to = check_address(body.get("ship_to"))
        except Invalid as exc:
            raise ShopRefusal(400, str(exc)) from None
        store_id = self._store(body) if body.get("store_id") else self._ships(body, currency)
        item_id = self._piece(store_id, body, f"order:{order_id}")
        piece = self.storage.query("SELECT currency FROM items WHERE store_id = ? AND"
                                   " item_id = ?", (store_id, item_id))[0]
        if piece["currency"] != currency:
            raise ShopRefusal(422, f"online order {order_id} was paid in {currency}, but"
                                   f" {store_id} sells in {piece['currency']}: nothing was sent")
        fields = {"order_id": order_id, "item_id": item_id, "client_id": _text(body, "client_id"),
                  "paid": paid, "currency": currency, "ship_to": ship_to,
                  "ship_by": (datetime.now(UTC) + timedelta(days=ORDER_DAYS)).strftime(
                      "%Y-%m-%dT18:00:00Z")}
        message = self.hq.message(store_id, "online_order", fields)
        now = utc_now()
        self.storage.execute(
            "INSERT INTO online_orders (order_id, store_id, item_id, client_id, paid, currency,"
            " status, created_at, updated_at) VALUES (?,?,?,?,?,?,'sent',?,?)",
            (order_id, store_id, item_id, fields["client_id"], paid, currency, now, now))
        return {"order_id": order_id, "store_id": store_id, "item_id": item_id,
                "status": "sent"}, [message]

    def _ships(self, body: dict[str, Any], currency: str) -> str:
        """The store an order without one ships from: the one holding most of its style
        in stock, in the order's currency (ties: the first by id)."""
        sku = body.get("sku")
        if not isinstance(sku, str) or not sku:
            raise ShopRefusal(400, "store_id or sku: name the store, or the style so head"
                                   " office chooses the store")
        rows = self.storage.query(
            "SELECT i.store_id, COUNT(*) AS n FROM items i JOIN stores s ON s.store_id ="
            " i.store_id WHERE i.sku = ? AND i.status = 'in_stock' AND i.currency = ? AND"
            " s.public_key IS NOT NULL GROUP BY i.store_id ORDER BY n DESC, i.store_id",
            (sku, currency))
        if not rows:
            raise ShopRefusal(409, f"no store holds style {sku} in stock, priced in {currency}:"
                                   " nothing was sent", "conflict")
        return rows[0]["store_id"]

    def cancel_order(self, order_id: str, body: dict[str, Any]
                     ) -> tuple[dict[str, Any], list[tuple[str, bytes]]]:
        return self._cancel("online_orders", "order_id", order_id, ("sent", "to_ship"),
                            "online_order_cancelled", "online order", body)

    def cancel(self, reservation_id: str, body: dict[str, Any]
               ) -> tuple[dict[str, Any], list[tuple[str, bytes]]]:
        return self._cancel("reservations", "reservation_id", reservation_id, ("held",),
                            "reservation_cancelled", "reservation", body)

    def _cancel(self, table: str, key: str, value: str, open_: tuple[str, ...], mtype: str,
                what: str, body: dict[str, Any]
                ) -> tuple[dict[str, Any], list[tuple[str, bytes]]]:
        """A hold the web shop calls off (a reservation, an online order), while it is open."""
        rows = self.storage.query(f"SELECT store_id, status FROM {table} WHERE {key} = ?",
                                  (value,))
        if not rows:
            raise ShopRefusal(404, f"head office has no {what} {value!r}")
        if rows[0]["status"] not in open_:
            raise ShopRefusal(409, f"{what} {value} is {rows[0]['status'].replace('_', ' ')}:"
                                   " it cannot be cancelled")
        reason = str(body.get("reason") or "cancelled online")[:200]
        message = self.hq.message(rows[0]["store_id"], mtype, {key: value, "reason": reason})
        return {key: value, "status": "cancelling"}, [message]

    def activity(self, body: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, bytes]]]:
        store_id = self._store(body)
        events = body.get("events")
        if not isinstance(events, list) or not 0 < len(events) <= 500:
            raise ShopRefusal(400, "events: a list of 1 to 500 events is needed")
        message = self.hq.message(store_id, "activity", {
            "client_id": _text(body, "client_id"), "events": events})
        return {"store_id": store_id, "events": len(events)}, [message]

    def wishlist(self, body: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, bytes]]]:
        store_id = self._store(body)
        wish = body.get("wish")
        if not isinstance(wish, dict):
            raise ShopRefusal(400, "wish: an object describing the wish is needed")
        message = self.hq.message(store_id, "wishlist", {"client_id": _text(body, "client_id"),
                                                         "wish": wish})
        return {"store_id": store_id}, [message]

    def availability(self, sku: str | None) -> dict[str, Any]:
        sql = ("SELECT sku, store_id, COUNT(*) AS in_stock, MIN(tag_price) AS from_price,"
               " MIN(currency) AS currency FROM items WHERE status = 'in_stock'")
        params: tuple[Any, ...] = ()
        if sku:
            sql += " AND sku = ?"
            params = (sku,)
        rows = self.storage.query(sql + " GROUP BY sku, store_id ORDER BY sku, store_id",
                                  params)
        styles: dict[str, list[dict[str, Any]]] = {}
        for r in rows:
            styles.setdefault(r["sku"], []).append({k: r[k] for k in (
                "store_id", "in_stock", "from_price", "currency")})
        return {"styles": [{"sku": k, "stores": v} for k, v in styles.items()],
                "as_of": utc_now()}

    def record(self, source: str, event_id: str, topic: str) -> bool:
        """Claim an event id: False when it was received before (a retry)."""
        return self.storage.execute(
            "INSERT INTO shop_events (event_id, source, topic, received_at, outcome) VALUES"
            " (?,?,?,?,'accepted') ON CONFLICT DO NOTHING",
            (event_id, source, topic, utc_now())) == 1

    def outcome(self, source: str, event_id: str, outcome: str, detail: str | None) -> None:
        self.storage.execute("UPDATE shop_events SET outcome = ?, detail = ? WHERE source = ?"
                             " AND event_id = ?", (outcome, detail, source, event_id))


# -- the command line and the chain demo ------------------------------------------------------

def add_command(hq_parser: Callable[..., Any]) -> None:
    """`loupe hq shop-secret --source loupe|shopify`: a new secret, printed once."""
    p = hq_parser("shop-secret", "make the web shop's webhook secret (printed once)")
    p.add_argument("--source", choices=SOURCES, default="loupe",
                   help="loupe: our own API's signature; shopify: the Shopify app's secret")
    p.add_argument("--secret-file", help="Shopify's: a file holding the app's secret")
    p.set_defaults(func=_cmd_secret)


def _cmd_secret(args: Any) -> int:
    data_dir = Path(args.data_dir).resolve()
    if args.secret_file:  # Shopify makes the secret; HQ keeps a copy
        write_secret(secret_path(data_dir, args.source),
                     Path(args.secret_file).read_bytes().strip())
        print(f"kept the {args.source} secret in {secret_path(data_dir, args.source)}")
        return 0
    print(make_secret(data_dir, args.source))
    return 0


def demo_request(keys: Any, console_port: int, path: str, doc: dict[str, Any],
                 event_id: str) -> dict[str, Any]:
    """What the chain demo's simulated web shop does: one signed request to the shop API."""
    secret = read_secret(keys.data_dir, "loupe") or make_secret(keys.data_dir, "loupe").encode()
    body = json.dumps(doc).encode()
    request = urllib.request.Request(
        f"https://127.0.0.1:{console_port}{path}", data=body, method="POST",
        headers={"Content-Type": "application/json", "X-Loupe-Signature": sign(secret, body),
                 "X-Loupe-Event-Id": event_id})
    context = ssl.create_default_context(cafile=str(keys.data_dir / "ca.pem"))
    with urllib.request.urlopen(request, context=context, timeout=30) as answer:
        return json.loads(answer.read())


def demo_reservation(keys: Any, console_port: int, store_id: str, item_id: str,
                     client_id: str = "WEB-CLIENT-1") -> dict[str, Any]:
    """A reservation for collection at `store_id` in a week."""
    rid = f"WEB-{secrets.token_hex(3).upper()}"
    return demo_request(keys, console_port, "/shop/v1/reservations", {
        "reservation_id": rid, "store_id": store_id, "item_id": item_id,
        "client_id": client_id, "pickup_by": (datetime.now(UTC) + timedelta(
            days=7)).strftime("%Y-%m-%dT18:00:00Z")}, f"evt-{rid}")


def demo_order(keys: Any, console_port: int, store_id: str, item_id: str, paid: int,
               currency: str, client_id: str = "WEB-CLIENT-2") -> dict[str, Any]:
    """An order paid online, shipped from `store_id` to a client in Bordeaux."""
    oid = f"WO-{secrets.token_hex(3).upper()}"
    return demo_request(keys, console_port, "/shop/v1/orders", {
        "order_id": oid, "store_id": store_id, "item_id": item_id, "client_id": client_id,
        "paid": paid, "currency": currency,
        "ship_to": {"name": "Camille Roux", "line1": "8 cours de l'Intendance",
                    "postcode": "33000", "city": "Bordeaux", "country": "FR"}}, f"evt-{oid}")
