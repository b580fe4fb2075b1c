"""The Transfers screen and its API: a scan box (the store's scanner types into it, as on the
other screens), what is to be sent from here, on its way from here, expected here, received
here, and the conflicts both sides settle with head office. Each handler turns HTTP into one
call of `runtime.transfers` and back."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from hub.transfers.book import SEND, Transfers
from hub.web.kernel import (
    Endpoints,
    json_response,
    read_json,
    render,
    runtime_of,
    service,
    session_of,
)
from hub.words import N_

STATIC = Path(__file__).parent / "static"
_TEXT = {"type": "string"}


def transfers_of(request: web.Request) -> Transfers:
    return service(runtime_of(request).transfers, N_("transfers"))


async def board_api(request: web.Request) -> web.Response:
    return json_response(await transfers_of(request).board())


async def request_api(request: web.Request) -> web.Response:
    body = await read_json(request)
    done = await transfers_of(request).request(
        body.get("item_id"), to_store=body.get("to_store"), from_store=body.get("from_store"),
        actor=session_of(request).staff_id)
    return json_response(done, 201)


async def scan_api(request: web.Request) -> web.Response:
    body = await read_json(request)
    done = await transfers_of(request).scan(body.get("code"),
                                            actor=session_of(request).staff_id)
    return json_response(done)


async def cancel_api(request: web.Request) -> web.Response:
    done = await transfers_of(request).cancel(request.match_info["transfer_id"],
                                              actor=session_of(request).staff_id)
    return json_response(done)


async def transfers_page(request: web.Request) -> web.Response:
    transfers = transfers_of(request)
    board = await transfers.board()
    stores = sorted({s for rows in board.values() for r in rows
                     for s in (r["from_store"], r["to_store"])} - {transfers.store_id})
    return await render(request, "transfers.html", {
        **board, "store_id": transfers.store_id, "stores": stores,
        "warehouse": transfers.settings.warehouse,
        "overdue_days": transfers.settings.overdue_days})


def setup(table: Endpoints) -> None:
    table.api("GET", "/api/v1/transfers", board_api, permission=SEND,
              summary="Transfers: to send, on their way, expected here, received, conflicts")
    table.api("POST", "/api/v1/transfers", request_api, permission=SEND,
              summary="Ask for a transfer: a piece of ours to another store, or one of"
                      " theirs to here",
              body={"type": "object", "required": ["item_id"],
                    "properties": {"item_id": _TEXT, "to_store": _TEXT, "from_store": _TEXT}})
    table.api("POST", "/api/v1/transfers/scan", scan_api, permission=SEND,
              summary="A scanned piece: shipped when it is to be sent, received when it is"
                      " on its way",
              body={"type": "object", "required": ["code"], "properties": {"code": _TEXT}})
    table.api("POST", "/api/v1/transfers/{transfer_id}/cancel", cancel_api, permission=SEND,
              summary="Call off a transfer not yet shipped")
    table.page("/transfers", transfers_page, permission=SEND, title=N_("Transfers"), nav=True,
               order=45)
    table.script("/transfers/transfers.js", STATIC / "transfers.js")
    table.templates("hub.transfers")
