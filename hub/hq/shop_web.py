"""The web shop's HTTP API on HQ's console app (hub/hq/shop.py says what each request does):
a webhook's signature and event id checked, one `WebShop` call on HQ's storage thread, its
signed messages published, an answer in JSON with a sentence when refused."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aiohttp import web

from hub.hq import shopify
from hub.hq.console.app import permit
from hub.hq.console.auth import PUBLIC
from hub.hq.shop import (
    MAX_BODY,
    ShopRefusal,
    WebShop,
    read_secret,
    shopify_signed_by,
    signed_by,
)
from hub.sync.wire import WireError

# -- HTTP: a webhook checked, one service call, its messages published ------------------------

def _answer(status: int, doc: dict[str, Any]) -> web.Response:
    return web.json_response(doc, status=status)


async def _webhook(request: web.Request, console: Any, topic: str,
                   act: Callable[[WebShop, dict[str, Any]], Any], *, source: str = "loupe"
                   ) -> web.Response:
    raw = await request.read()
    if len(raw) > MAX_BODY:
        return _answer(413, {"error": "the body is too big"})
    data_dir = console.hq.keys.data_dir
    secret = read_secret(data_dir, source)
    if source == "shopify":
        ok = shopify_signed_by(secret, raw, request.headers.get("X-Shopify-Hmac-Sha256"))
        event_id = request.headers.get("X-Shopify-Webhook-Id")
    else:
        ok = signed_by(secret, raw, request.headers.get("X-Loupe-Signature"))
        event_id = request.headers.get("X-Loupe-Event-Id")
    if secret is None:
        return _answer(503, {"error": f"the web shop's {source} secret is not set at head"
                                      " office (`loupe hq shop-secret`): nothing was done"})
    if not ok:
        return _answer(401, {"error": "the signature does not match this body: nothing was"
                                      " done"})
    if not event_id or len(event_id) > 100:
        return _answer(400, {"error": "the request names no event id: nothing was done"})
    try:
        body = json.loads(raw or b"{}")
        if not isinstance(body, dict):
            raise ValueError
    except ValueError:
        return _answer(400, {"error": "the body is not a JSON object: nothing was done"})
    shop = WebShop(console.hq)
    if not await console.call(shop.record, source, event_id, topic):
        return _answer(200, {"status": "already received", "event_id": event_id})
    try:
        done, messages = await console.call(act, shop, body)
    except (ShopRefusal, shopify.OrderRefused) as exc:
        await console.call(shop.outcome, source, event_id, exc.outcome, exc.sentence)
        return _answer(exc.status, {"error": exc.sentence})
    except WireError as exc:
        await console.call(shop.outcome, source, event_id, "refused", str(exc))
        return _answer(400, {"error": str(exc)})
    await console.publish(messages)
    return _answer(202, {**done, "status": "accepted", "event_id": event_id})


def setup(app: web.Application, console: Any) -> None:
    """Mount the shop's API on the console's app (its own signatures: no console session)."""
    async def reservations(request: web.Request) -> web.Response:
        return await _webhook(request, console, "reservations/create",
                              lambda shop, body: shop.reserve(body))

    async def cancel(request: web.Request) -> web.Response:
        rid = request.match_info["reservation_id"]
        return await _webhook(request, console, "reservations/cancel",
                              lambda shop, body: shop.cancel(rid, body))

    async def activity(request: web.Request) -> web.Response:
        return await _webhook(request, console, "activity",
                              lambda shop, body: shop.activity(body))

    async def wishlist(request: web.Request) -> web.Response:
        return await _webhook(request, console, "wishlist",
                              lambda shop, body: shop.wishlist(body))

    async def orders(request: web.Request) -> web.Response:
        return await _webhook(request, console, "orders/create",
                              lambda shop, body: shop.order(body))

    async def cancel_order(request: web.Request) -> web.Response:
        oid = request.match_info["order_id"]
        return await _webhook(request, console, "orders/cancel",
                              lambda shop, body: shop.cancel_order(oid, body))

    def _shopify(shop: WebShop, order: dict[str, Any]) -> Any:
        what, body = shopify.request_of(order)
        return shop.reserve(body) if what == "reservation" else shop.order(body)

    async def shopify_orders(request: web.Request) -> web.Response:
        return await _webhook(request, console, "orders/create", _shopify,
                              source="shopify")

    async def availability(request: web.Request) -> web.Response:
        secret = read_secret(console.hq.keys.data_dir, "loupe")
        nonce = request.headers.get("X-Loupe-Event-Id", "")
        if not signed_by(secret, nonce.encode(), request.headers.get("X-Loupe-Signature")):
            return _answer(401, {"error": "sign the event id with the shop's secret"})
        shop = WebShop(console.hq)
        return _answer(200, await console.call(shop.availability, request.query.get("sku")))

    for method, path, handler in (
            ("POST", "/shop/v1/reservations", reservations),
            ("POST", "/shop/v1/reservations/{reservation_id}/cancel", cancel),
            ("POST", "/shop/v1/activity", activity),
            ("POST", "/shop/v1/wishlist", wishlist),
            ("POST", "/shop/v1/orders", orders),
            ("POST", "/shop/v1/orders/{order_id}/cancel", cancel_order),
            ("POST", "/shop/v1/shopify/orders-create", shopify_orders),
            ("GET", "/shop/v1/availability", availability)):
        permit(app, app.router.add_route(method, path, handler), PUBLIC)
