"""The layaways' API: the open layaways (each saying if it is overdue), opening one with its
schedule and a first payment, a layaway with its schedule, payments and timeline, an
instalment, the delivery through a sale, giving it up by the store's policy, and paying back
what a return left on it. Each handler turns HTTP into one call of `Layaways`
(`runtime.layaways`) and back; `client_panel` is the client page's data (its template is the
screens')."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from hub.core.errors import Refused
from hub.core.fields import Form
from hub.web.kernel import (
    Endpoints,
    json_response,
    read_json,
    runtime_of,
    service,
    session_of,
)
from hub.words import N_
from hub.workshop.jobs import INTAKE, MANAGE
from hub.workshop.layaways import Layaways

_TEXT = {"type": "string"}
_TENDERS = {"type": "array", "items": {"type": "object"}}
_PAYMENT = {"type": "object", "required": ["register_id", "tenders"],
            "properties": {"register_id": _TEXT, "tenders": _TENDERS}}


def layaways_of(request: web.Request) -> Layaways:
    return service(runtime_of(request).layaways, N_("the layaways"))


def _id(request: web.Request) -> str:
    return request.match_info["layaway_id"]


def _me(request: web.Request) -> str:
    return session_of(request).staff_id


async def list_api(request: web.Request) -> web.Response:
    layaways = layaways_of(request)
    f = Form(request.query, query=True, allowed=("client_id", "overdue"))
    client_id = f.identifier("client_id", required=False, what="a client id")
    overdue = f.choice("overdue", ("true", "false")) == "true"
    f.done()
    if client_id:
        return json_response({"layaways": await layaways.of_client(client_id)})
    listed = await (layaways.overdue() if overdue else layaways.open_ones())
    return json_response({"layaways": listed,
                          "overdue": sum(1 for x in listed if x["overdue"])})


async def open_api(request: web.Request) -> web.Response:
    body = await read_json(request)
    return json_response(await layaways_of(request).open(body, actor=_me(request)), 201)


async def get_api(request: web.Request) -> web.Response:
    return json_response(await layaways_of(request).get(_id(request)))


async def pay_api(request: web.Request) -> web.Response:
    body = await read_json(request)
    return json_response(await layaways_of(request).pay(_id(request), body,
                                                        actor=_me(request)))


async def complete_api(request: web.Request) -> web.Response:
    body = await read_json(request)
    return json_response(await layaways_of(request).complete(_id(request), body,
                                                             actor=_me(request)))


async def cancel_api(request: web.Request) -> web.Response:
    body = await read_json(request)
    return json_response(await layaways_of(request).cancel(_id(request), body,
                                                           actor=_me(request)))


async def refund_api(request: web.Request) -> web.Response:
    body = await read_json(request)
    return json_response(await layaways_of(request).refund(_id(request), body,
                                                           actor=_me(request)))


async def client_panel(request: web.Request, client: dict[str, Any]) -> dict[str, Any] | None:
    """Her layaways for the client page (None while the workshop does not run)."""
    layaways = runtime_of(request).layaways
    if layaways is None:
        return None
    try:
        listed = await layaways.of_client(client["client_id"])
    except Refused:
        return None
    return {"layaways": listed, "open": [x for x in listed if x["stage"] == "open"]}


def setup(table: Endpoints) -> None:
    table.api("GET", "/api/v1/layaways", list_api, permission="clients.view",
              summary="Open layaways, each saying if an instalment is overdue (or only the"
                      " overdue ones, or one client's)", query=("client_id", "overdue"))
    table.api("POST", "/api/v1/layaways", open_api, permission=INTAKE,
              summary="Set a piece aside for a client on a payment schedule (a first"
                      " payment with it)",
              body={"type": "object", "required": ["client_id", "item_id", "schedule"],
                    "properties": {
                        "client_id": _TEXT, "item_id": _TEXT,
                        "schedule": {"oneOf": [
                            {"type": "object", "required": ["instalments"],
                             "properties": {"instalments": {"type": "integer"},
                                            "first_due": {"type": "string",
                                                          "description": "YYYY-MM-DD"}}},
                            {"type": "array", "items": {
                                "type": "object", "required": ["due", "amount"],
                                "properties": {"due": _TEXT,
                                               "amount": {"type": "integer"}}}}]},
                        "first_payment": _PAYMENT}})
    table.api("GET", "/api/v1/layaways/{layaway_id}", get_api, permission="clients.view",
              summary="A layaway: the piece, the schedule with what is paid, its payments and"
                      " timeline")
    table.api("POST", "/api/v1/layaways/{layaway_id}/payments", pay_api, permission=INTAKE,
              summary="Take an instalment on a layaway (at most what is still due)",
              body=_PAYMENT)
    table.api("POST", "/api/v1/layaways/{layaway_id}/complete", complete_api,
              permission=INTAKE,
              summary="Sell her the piece: everything she paid applied, tenders for the rest",
              body={"type": "object", "required": ["register_id"],
                    "properties": {"register_id": _TEXT, "tenders": _TENDERS}})
    table.api("POST", "/api/v1/layaways/{layaway_id}/cancel", cancel_api, permission=MANAGE,
              summary="She gives it up: the piece back in its showcase, what she paid back"
                      " less the store's fee",
              body={"type": "object", "required": ["note"],
                    "properties": {"note": _TEXT, "register_id": _TEXT,
                                   "tenders": _TENDERS}})
    table.api("POST", "/api/v1/layaways/{layaway_id}/refund", refund_api, permission=MANAGE,
              summary="Pay back what a returned piece's sale left on a completed layaway",
              body=_PAYMENT)
