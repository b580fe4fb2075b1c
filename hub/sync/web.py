"""The sync screen and API: sync state with the backlog draining, conflicts, click-and-collect
holds, refused HQ messages, and which other stores hold a piece's style. The live progress
bar follows the `sync.state` events the replicator publishes (forwarded on the WebSocket)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web

from hub.core.errors import Invalid
from hub.core.hq import HQBook
from hub.sync.model import SyncBook
from hub.sync.replicator import SyncState
from hub.web.app import json_response, read_json, session_of
from hub.web.endpoints import ANYONE, MANAGERS, STAFF, endpoints, render
from hub.words import N_

STATIC = Path(__file__).parent / "static"


def setup(app: web.Application, runtime: Any) -> None:
    table = endpoints(app)
    store = runtime.store
    sync_book = SyncBook(store.ledger)

    def book() -> HQBook:
        return store.hq

    async def status(request: web.Request) -> web.Response:
        replicator = runtime.services.get("sync")
        if replicator is None:
            return json_response({"state": SyncState.IDLE, "connected": False,
                                  "seq": store.ledger.seq, "acked": 0, "backlog": 0,
                                  "problem": "this store is not enrolled with HQ"})
        return json_response(replicator.status())

    async def conflicts(request: web.Request) -> web.Response:
        return json_response({"conflicts": await book().conflicts()})

    async def reservations(request: web.Request) -> web.Response:
        return json_response({"reservations": await book().reservations(
            request.query.get("status") or None)})

    async def refusals(request: web.Request) -> web.Response:
        return json_response({"refusals": await sync_book.refusals(200)})

    async def style(request: web.Request) -> web.Response:
        sku = request.match_info["sku"]
        return json_response({"sku": sku, "stores": await book().stock_elsewhere(sku)})

    async def collect(request: web.Request) -> web.Response:
        body = await read_json(request)
        register_id = body.get("register_id") or session_of(request).register_id
        if not register_id:
            raise Invalid("say which register takes the payment", "register_id")
        sale = await book().collect(request.match_info["reservation_id"],
                                    register_id=register_id,
                                    actor=session_of(request).staff_id,
                                    tenders=body.get("tenders"))
        return json_response(sale, 201)

    async def page(request: web.Request) -> web.Response:
        return await render(request, "sync.html", {"currency": runtime.config.currency})

    async def script(request: web.Request) -> web.Response:
        return web.Response(body=(STATIC / "sync.js").read_bytes(),
                            content_type="application/javascript")

    table.api("GET", "/api/v1/sync", status, roles=STAFF,
              summary="Sync with HQ: state, acknowledged seq and backlog")
    table.api("GET", "/api/v1/sync/conflicts", conflicts, roles=STAFF,
              summary="Conflicts between HQ's messages and the store's books")
    table.api("GET", "/api/v1/sync/reservations", reservations, roles=STAFF,
              summary="Click-and-collect holds from HQ", query=("status",))
    table.api("POST", "/api/v1/sync/reservations/{reservation_id}/collect", collect,
              roles=STAFF, summary="The client collects a held piece: release it and sell it",
              body={"type": "object", "properties": {"register_id": {"type": "string"},
                                                     "tenders": {"type": "array"}}})
    table.api("GET", "/api/v1/sync/refusals", refusals, roles=MANAGERS,
              summary="HQ messages refused (unsigned, forged, replayed, misaddressed)")
    table.api("GET", "/api/v1/sync/styles/{sku}", style, roles=STAFF,
              summary="Which other stores of the chain hold this style")
    table.page("/sync", page, roles=STAFF, title=N_("Head office sync"), nav=True, order=80)
    table.file("/sync/sync.js", script, roles=ANYONE, summary="The sync screen's script")
    table.templates("hub.sync", "templates")
