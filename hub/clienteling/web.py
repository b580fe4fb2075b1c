"""The follow-ups' screen and API: the day's lists, and a follow-up done."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web

from hub.clienteling.rules import OUTCOMES
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


async def page(request: web.Request) -> web.Response:
    followups = service(runtime_of(request).followups, N_("the follow-ups"))
    return await render(request, "followups.html", {"followups": await followups.day(),
                                                    "outcomes": OUTCOMES})


async def day(request: web.Request) -> web.Response:
    followups = service(runtime_of(request).followups, N_("the follow-ups"))
    return json_response(await followups.day())


async def done(request: web.Request) -> web.Response:
    followups = service(runtime_of(request).followups, N_("the follow-ups"))
    body = await read_json(request)
    return json_response(await followups.done(
        request.match_info["followup_id"], body.get("outcome"),
        actor=session_of(request).staff_id))


async def snooze(request: web.Request) -> web.Response:
    followups = service(runtime_of(request).followups, N_("the follow-ups"))
    body = await read_json(request)
    return json_response(await followups.snooze(
        request.match_info["followup_id"], body.get("until"),
        actor=session_of(request).staff_id))


async def log_contact(request: web.Request) -> web.Response:
    followups = service(runtime_of(request).followups, N_("the follow-ups"))
    body = await read_json(request)
    return json_response(await followups.log_contact(
        request.match_info["client_id"], body.get("outcome"), body.get("note"),
        actor=session_of(request).staff_id), 201)


async def contacts_panel(request: web.Request, client: dict[str, Any]) -> dict[str, Any] | None:
    followups = runtime_of(request).followups
    if followups is None:
        return None
    return {"contacts": await followups.log_of(client["client_id"]), "outcomes": OUTCOMES}


def setup(table: Endpoints) -> None:
    table.client_panel("contacts", "client_contacts.html", contacts_panel,
                       permission="clients.view", order=60)
    table.page("/followups", page, permission="clients.view", title=N_("Follow-ups"), nav=True,
               order=35)
    table.script("/clienteling/followups.js", STATIC / "followups.js")
    table.templates("hub.clienteling")
    table.api("GET", "/api/v1/followups", day, permission="clients.view",
              summary="The day's follow-ups: today, upcoming, overdue, and those done this week")
    table.api("POST", "/api/v1/followups/{followup_id}/done", done, permission="clients.edit",
              summary="A follow-up done, with how it went",
              body={"type": "object", "required": ["outcome"],
                    "properties": {"outcome": {"type": "string", "enum": list(OUTCOMES)}}})
    table.api("POST", "/api/v1/followups/{followup_id}/snooze", snooze,
              permission="clients.edit", summary="Put a follow-up off until a later day",
              body={"type": "object", "required": ["until"],
                    "properties": {"until": {"type": "string", "format": "date"}}})
    table.api("POST", "/api/v1/clients/{client_id}/contacts", log_contact,
              permission="clients.edit",
              summary="Log a call, visit or message with a client (her contact log)",
              body={"type": "object", "required": ["outcome"],
                    "properties": {"outcome": {"type": "string", "enum": list(OUTCOMES)},
                                   "note": {"type": "string", "maxLength": 2000}}})
