"""The web shop's API at HQ over HTTPS on the console's app, against real hubs through a real
broker: signed reservations held and collected in store, replays, bad signatures, a piece
sold meanwhile, Shopify's orders/create, the availability feed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import ssl
from typing import TYPE_CHECKING

import aiohttp
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sync_helpers import until

from hub.core.errors import Refused
from hub.hq import shop

if TYPE_CHECKING:  # the console's fixture (tests/hq/conftest.py), for annotations only
    from tests.hq.conftest import Chain


class Shop:
    """The platform's side: it signs each body with the shared secret."""

    def __init__(self, chain: Chain) -> None:
        self.chain = chain
        self.secret = shop.make_secret(chain.keys.data_dir, "loupe").encode()
        self.shopify = shop.make_secret(chain.keys.data_dir, "shopify").encode()
        self.context = ssl.create_default_context(cafile=str(chain.ca))

    async def post(self, path: str, doc: dict, event: str, *, signature: str | None = None,
                   shopify: bool = False) -> tuple[int, dict]:
        body = json.dumps(doc).encode()
        if shopify:
            mac = base64.b64encode(hmac.new(self.shopify, body, hashlib.sha256).digest())
            headers = {"X-Shopify-Hmac-Sha256": signature or mac.decode(),
                       "X-Shopify-Webhook-Id": event, "X-Shopify-Topic": "orders/create"}
        else:
            headers = {"X-Loupe-Signature": signature or shop.sign(self.secret, body),
                       "X-Loupe-Event-Id": event}
        async with aiohttp.ClientSession() as http, http.post(
                self.chain.url + path, data=body, ssl=self.context,
                headers={**headers, "Content-Type": "application/json"}) as r:
            return r.status, await r.json()

    async def availability(self, sku: str) -> dict:
        headers = {"X-Loupe-Event-Id": "n1", "X-Loupe-Signature": shop.sign(self.secret, b"n1")}
        async with aiohttp.ClientSession() as http, http.get(
                f"{self.chain.url}/shop/v1/availability?sku={sku}", ssl=self.context,
                headers=headers) as r:
            assert r.status == 200
            return await r.json()


def _ring(store_id: str, item_id: str, rid: str) -> dict:
    return {"reservation_id": rid, "store_id": store_id, "item_id": item_id,
            "client_id": "WEBCLIENT1", "pickup_by": "2026-12-24T18:00:00Z"}


async def _status(chain: Chain, rid: str) -> str | None:
    rows = await chain.call(chain.hq.hq.storage.query, "SELECT status FROM reservations"
                            " WHERE reservation_id = ?", (rid,))
    return rows[0]["status"] if rows else None


async def test_a_ring_reserved_online_is_held_and_collected_in_lyon(chain: Chain):
    web = Shop(chain)
    lyon = chain.hubs["lyon"]
    status, done = await web.post("/shop/v1/reservations", _ring("lyon", "lyon-1", "W-1"), "e1")
    assert (status, done["status"]) == (202, "accepted")
    again = await web.post("/shop/v1/reservations", _ring("lyon", "lyon-1", "W-1"), "e1")
    assert again == (200, {"status": "already received", "event_id": "e1"})
    await until(lambda: _held(lyon, "W-1"), "held at Lyon")
    assert (await lyon.store.items.get("lyon-1"))["status"] == "reserved"
    sale = await lyon.store.hq.collect("W-1", register_id="R1", actor="admin",
                                       tenders=[{"type": "cash", "amount": 250000}])
    assert sale["lines"][0]["item_id"] == "lyon-1"
    await until(lambda: _collected(chain, "W-1"), "collected at HQ")
    feed = await web.availability("RING-SOL-1")
    counts = {s["store_id"]: s["in_stock"] for s in feed["styles"][0]["stores"]}
    assert counts == {"lyon": 2, "paris": 2}  # paris-0 and lyon-1 are sold


async def _held(hub, rid: str) -> bool:
    return any(r["reservation_id"] == rid and r["status"] == "held"
               for r in await hub.store.hq.reservations(None))


async def _collected(chain: Chain, rid: str) -> bool:
    return await _status(chain, rid) == "collected"


async def test_bad_signatures_malformed_bodies_and_sold_pieces_are_refused(chain: Chain):
    web = Shop(chain)
    status, done = await web.post("/shop/v1/reservations", _ring("lyon", "lyon-2", "W-2"),
                                  "e2", signature="sha256=" + "0" * 64)
    assert status == 401 and "signature" in done["error"]
    assert await _status(chain, "W-2") is None  # nothing reserved
    status, done = await web.post("/shop/v1/reservations", {"store_id": "lyon"}, "e3")
    assert status == 400 and "reservation_id" in done["error"]
    status, done = await web.post("/shop/v1/reservations", _ring("paris", "paris-0", "W-3"),
                                  "e4")
    assert status == 409 and "sold" in done["error"]  # never a silent double sale
    conflicts = await chain.call(chain.hq.hq.storage.conflicts)
    assert [(c["source"], c["item_id"]) for c in conflicts] == [("shop", "paris-0")]
    status, done = await web.post("/shop/v1/reservations", _ring("nice", "n-1", "W-4"), "e5")
    assert status == 404 and "nice" in done["error"]
    events = await chain.call(chain.hq.hq.storage.query, "SELECT event_id, outcome FROM"
                              " shop_events ORDER BY event_id")
    assert events == [{"event_id": "e3", "outcome": "refused"},
                      {"event_id": "e4", "outcome": "conflict"},
                      {"event_id": "e5", "outcome": "refused"}]


ORDER = {  # the shape of Shopify's orders/create payload (REST Admin API, Order)
    "id": 820982911946154508, "name": "#1001", "email": "jon@example.com",
    "created_at": "2026-12-01T10:00:00-05:00", "currency": "EUR",
    "total_price": "2500.00", "customer": {"id": 115310627314723954},
    "line_items": [{"id": 866550311766439020, "sku": "RING-SOL-1", "quantity": 1,
                    "title": "Solitaire ring", "price": "2500.00"}],
    "shipping_lines": [{"code": "Pickup", "title": "Pick up in store", "price": "0.00"}],
    "note_attributes": [{"name": "pickup_store", "value": "lyon"}]}


async def test_a_shopify_order_becomes_a_reservation_at_its_pickup_store(chain: Chain):
    web = Shop(chain)
    status, done = await web.post("/shop/v1/shopify/orders-create", ORDER, "s1",
                                  signature="bm90IHRoZSBobWFj", shopify=True)
    assert status == 401
    status, done = await web.post("/shop/v1/shopify/orders-create", ORDER, "s1", shopify=True)
    assert status == 202 and done["reservation_id"] == "SHOPIFY-1001"
    await until(lambda: _held(chain.hubs["lyon"], "SHOPIFY-1001"), "held at Lyon")
    no_pickup = {**ORDER, "id": 1, "note_attributes": []}
    status, done = await web.post("/shop/v1/shopify/orders-create", no_pickup, "s2",
                                  shopify=True)
    assert status == 422 and "pick-up store" in done["error"]


@given(st.binary(max_size=300), st.binary(min_size=1, max_size=64), st.binary(max_size=8))
def test_only_the_body_signed_with_the_secret_verifies(body, secret, change):
    signature = shop.sign(secret, body)
    assert shop.signed_by(secret, body, signature)
    assert not shop.signed_by(secret, body + change + b"x", signature)
    assert not shop.signed_by(secret + b"!", body, signature)
    assert not shop.signed_by(None, body, signature)


# -- online orders shipped from a store ------------------------------------------------------

ADDRESS = {"name": "Camille Roux", "line1": "14 rue des Remparts", "postcode": "69005",
           "city": "Lyon", "country": "FR"}


def _order(oid: str, **over) -> dict:
    return {"order_id": oid, "sku": "RING-SOL-1", "client_id": "WEBCLIENT2",
            "paid": 240000, "currency": "EUR", "ship_to": ADDRESS, **over}


async def _order_status(chain: Chain, oid: str) -> str | None:
    rows = await chain.call(chain.hq.hq.storage.query, "SELECT status FROM online_orders"
                            " WHERE order_id = ?", (oid,))
    return rows[0]["status"] if rows else None


def _order_is(chain: Chain, oid: str, status: str):
    async def cond() -> bool:
        return await _order_status(chain, oid) == status
    return cond


async def test_an_order_paid_online_is_shipped_from_the_store_holding_the_style(chain: Chain,
                                                                                browser):
    web = Shop(chain)
    lyon = chain.hubs["lyon"]
    # No store named: HQ picks the one holding most of the style (Lyon 3, Paris 2).
    status, done = await web.post("/shop/v1/orders", _order("WO-1"), "o1")
    assert (status, done["store_id"]) == (202, "lyon"), done
    item_id = done["item_id"]
    await until(_order_is(chain, "WO-1", "to_ship"), "Lyon holds it to ship")
    assert (await lyon.store.items.get(item_id))["status"] == "reserved"
    [waiting] = await lyon.store.hq.orders("to_ship")
    assert waiting["ship_to"]["line1"] == "14 rue des Remparts" and waiting["paid"] == 240000
    # The address went sealed to Lyon: HQ's log of the message holds no street in clear.
    [logged] = await chain.call(chain.hq.hq.storage.query, "SELECT signed FROM messages"
                                " WHERE type = 'online_order'")
    assert b"Remparts" not in bytes(logged["signed"])

    # The wrong piece scanned: refused, nothing sold.
    other = next(f"lyon-{i}" for i in range(3) if f"lyon-{i}" != item_id)
    with pytest.raises(Refused, match="not the piece ordered"):
        await lyon.store.hq.ship("WO-1", scanned=other, carrier="Colissimo",
                                 tracking="6A123", register_id="R1", actor="admin")
    assert (await lyon.store.items.get(item_id))["status"] == "reserved"
    sale = await lyon.store.hq.ship("WO-1", scanned=item_id, carrier="Colissimo",
                                    tracking="6A12345678", register_id="R1", actor="admin")
    assert sale["lines"][0]["item_id"] == item_id
    assert [(t["type"], t["amount"], t["detail"].get("reference")) for t in sale["tenders"]] == [
        ("online", 240000, "WO-1")]
    assert sale["total"] == 240000  # what she paid online; the tag was 2,500.00
    assert (await lyon.store.items.get(item_id))["status"] == "sold"
    await until(_order_is(chain, "WO-1", "shipped"), "shipped at HQ")
    [row] = await chain.call(chain.hq.hq.storage.query, "SELECT carrier, tracking FROM"
                             " online_orders WHERE order_id = 'WO-1'")
    assert row == {"carrier": "Colissimo", "tracking": "6A12345678"}
    b = browser()  # the owner reads it on the console, in words
    await b.sign_in("olga")
    _, page = await b.get("/transit")
    order_row = re.search(r'<tr data-order="WO-1">.*?</tr>', page, re.S).group(0)
    assert "Shipped" in order_row and "6A12345678" in order_row and "€2,400.00" in order_row
    with pytest.raises(Refused, match="not waiting to be shipped"):
        await lyon.store.hq.ship("WO-1", scanned=item_id, carrier="Colissimo",
                                 tracking="6A12345678", register_id="R1", actor="admin")


async def test_an_online_order_is_cancelled_and_bad_orders_change_nothing(chain: Chain):
    web = Shop(chain)
    paris = chain.hubs["paris"]
    status, done = await web.post("/shop/v1/orders", _order("WO-2", store_id="paris",
                                                            item_id="paris-1"), "o2")
    assert status == 202
    await until(_order_is(chain, "WO-2", "to_ship"), "Paris holds it")
    # Held for the order: the web shop cannot reserve it for someone else.
    status, done = await web.post("/shop/v1/reservations", _ring("paris", "paris-1", "W-9"),
                                  "o3")
    assert status == 409 and "online order WO-2" in done["error"]
    status, done = await web.post("/shop/v1/orders/WO-2/cancel", {"reason": "changed mind"},
                                  "o4")
    assert status == 202
    await until(_order_is(chain, "WO-2", "cancelled"), "cancelled at HQ")
    assert (await paris.store.items.get("paris-1"))["status"] == "in_stock"
    [piece] = await chain.call(chain.hq.hq.storage.query, "SELECT status FROM items WHERE"
                               " store_id = 'paris' AND item_id = 'paris-1'")
    assert piece["status"] == "in_stock"  # free again for the web shop too
    status, done = await web.post("/shop/v1/orders/WO-2/cancel", {}, "o5")
    assert status == 409 and "cancelled" in done["error"]

    before = await chain.call(chain.hq.hq.storage.query, "SELECT COUNT(*) AS n FROM messages")
    for event, doc, code, words in (
            ("o6", _order("WO-3", store_id="paris", item_id="paris-0"), 409, "sold"),
            ("o7", _order("WO-4", ship_to={"name": "Camille"}), 400, "line1"),
            ("o8", _order("WO-5", paid=0), 400, "paid"),
            ("o9", _order("WO-6", currency="CHF"), 409, "CHF"),
            ("o10", _order("WO-1-dup", store_id="paris", item_id="paris-1",
                           currency="USD"), 422, "USD")):
        status, done = await web.post("/shop/v1/orders", doc, event)
        assert (status, words in done["error"]) == (code, True), (event, done)
    assert await chain.call(chain.hq.hq.storage.query,
                            "SELECT COUNT(*) AS n FROM messages") == before  # nothing sent


async def test_a_shopify_order_without_a_pickup_store_is_shipped(chain: Chain):
    web = Shop(chain)
    shipped = {**ORDER, "id": 2, "name": "#1002", "note_attributes": [
        {"name": "ship_from_store", "value": "paris"}], "total_price": "2450.50",
        "shipping_address": {"first_name": "Jon", "last_name": "Snow",
                             "address1": "1 Castle Black", "zip": "75001", "city": "Paris",
                             "country_code": "FR"}}
    status, done = await web.post("/shop/v1/shopify/orders-create", shipped, "s3",
                                  shopify=True)
    assert (status, done["order_id"], done["store_id"]) == (202, "SHOPIFY-1002", "paris")
    await until(_order_is(chain, "SHOPIFY-1002", "to_ship"), "Paris holds it")
    [order] = await chain.hubs["paris"].store.hq.orders("to_ship")
    assert (order["paid"], order["ship_to"]["name"]) == (245050, "Jon Snow")
