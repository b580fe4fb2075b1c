"""The sync screen and API: sync state with the backlog draining, conflicts, click-and-collect
holds, online orders to pack and ship, refused HQ messages, and which other stores hold a
piece's style. The live progress
bar follows the `sync.state` events the replicator publishes (forwarded on the WebSocket)."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from hub.sync.part import SyncPart
from hub.web.kernel import (
    Endpoints,
    json_response,
    read_json,
    render,
    runtime_of,
    service,
    session_of,
    store_of,
)
from hub.words import N_

STATIC = Path(__file__).parent / "static"


def _sync(request: web.Request) -> SyncPart:
    return service(runtime_of(request).sync, N_("sync with head office"))


async def status(request: web.Request) -> web.Response:
    return json_response(_sync(request).status())


async def conflicts(request: web.Request) -> web.Response:
    return json_response({"conflicts": await store_of(request).hq.conflicts()})


async def reservations(request: web.Request) -> web.Response:
    return json_response({"reservations": await store_of(request).hq.reservations(
        request.query.get("status") or None)})


async def refusals(request: web.Request) -> web.Response:
    return json_response({"refusals": await _sync(request).book.refusals(200)})


async def style(request: web.Request) -> web.Response:
    sku = request.match_info["sku"]
    return json_response({"sku": sku, "stores": await store_of(request).hq.stock_elsewhere(sku)})


async def collect(request: web.Request) -> web.Response:
    """The client collects a held piece at this register (or the session's)."""
    body = await read_json(request)
    session = session_of(request)
    sale = await store_of(request).hq.collect(
        request.match_info["reservation_id"],
        register_id=body.get("register_id") or session.register_id,
        actor=session.staff_id, tenders=body.get("tenders"))
    return json_response(sale, 201)


async def orders(request: web.Request) -> web.Response:
    return json_response({"orders": await store_of(request).hq.orders(
        request.query.get("status") or None)})


async def ship(request: web.Request) -> web.Response:
    """An online order packed: the piece scanned, the carrier's tracking number; sold."""
    body = await read_json(request)
    session = session_of(request)
    sale = await store_of(request).hq.ship(
        request.match_info["order_id"], scanned=body.get("scanned"),
        carrier=body.get("carrier"), tracking=body.get("tracking"),
        register_id=body.get("register_id") or session.register_id, actor=session.staff_id)
    return json_response(sale, 201)


async def page(request: web.Request) -> web.Response:
    return await render(request, "sync.html", {})


def setup(table: Endpoints) -> None:
    table.api("GET", "/api/v1/sync", status, permission="sync.view",
              summary="Sync with HQ: state, acknowledged seq and backlog")
    table.api("GET", "/api/v1/sync/conflicts", conflicts, permission="sync.view",
              summary="Conflicts between HQ's messages and the store's books")
    table.api("GET", "/api/v1/sync/reservations", reservations, permission="sync.view",
              summary="Click-and-collect holds from HQ", query=("status",))
    table.api("POST", "/api/v1/sync/reservations/{reservation_id}/collect", collect,
              permission="sync.collect",
              summary="The client collects a held piece: release it and sell it",
              body={"type": "object", "properties": {"register_id": {"type": "string"},
                                                     "tenders": {"type": "array"}}})
    table.api("GET", "/api/v1/sync/orders", orders, permission="sync.collect",
              summary="Online orders to ship from this store, with where each goes",
              query=("status",))
    table.api("POST", "/api/v1/sync/orders/{order_id}/ship", ship, permission="sync.collect",
              summary="An online order packed and shipped: the piece scanned, then sold,"
                      " paid online",
              body={"type": "object", "required": ["scanned", "carrier", "tracking"],
                    "properties": {"scanned": {"type": "string"},
                                   "carrier": {"type": "string"},
                                   "tracking": {"type": "string"},
                                   "register_id": {"type": "string"}}})
    table.api("GET", "/api/v1/sync/refusals", refusals, permission="sync.refusals",
              summary="HQ messages refused (unsigned, forged, replayed, misaddressed)")
    table.api("GET", "/api/v1/sync/styles/{sku}", style, permission="sync.view",
              summary="Which other stores of the chain hold this style")
    table.page("/sync", page, permission="sync.view", title=N_("Head office sync"), nav=True,
               order=80)
    table.script("/sync/sync.js", STATIC / "sync.js")
    table.templates("hub.sync")
    table.topics("sync.*")
