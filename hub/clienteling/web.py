"""The follow-ups' screen and API: the day's lists, and a follow-up done."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

from aiohttp import web

from hub.clienteling.callsheet import describe
from hub.clienteling.rules import OUTCOMES
from hub.core import fields
from hub.documents import render_pdf
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
    runtime = runtime_of(request)
    followups = service(runtime.followups, N_("the follow-ups"))
    day_ = await followups.day()
    for listed in (day_["today"], day_["overdue"], day_["upcoming"], day_["snoozed"]):
        for f in listed:
            f["what"] = describe(f, runtime.store.words)
    return await render(request, "followups.html", {"followups": day_, "outcomes": OUTCOMES,
                                                    "printer": runtime.devices is not None})


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


async def call_sheet_pdf(request: web.Request) -> web.Response:
    followups = service(runtime_of(request).followups, N_("the follow-ups"))
    doc = await followups.call_sheet(associate=request.query.get("associate") or None)
    pdf = await asyncio.to_thread(render_pdf, doc)  # laying out pages is CPU work
    return web.Response(body=pdf, content_type="application/pdf", headers={
        "Content-Disposition": 'inline; filename="call-sheet.pdf"', "Cache-Control": "no-store"})


async def print_call_sheet(request: web.Request) -> web.Response:
    runtime = runtime_of(request)
    followups = service(runtime.followups, N_("the follow-ups"))
    devices = service(runtime.devices, N_("the devices"))
    body = await read_json(request)
    session = session_of(request)
    register = (fields.text(body.get("register"), "register", max_len=40)
                or session.register_id or runtime.config.registers[0].id)
    doc = await followups.call_sheet(associate=body.get("associate") or None)
    job = f"callsheet:{followups.today().isoformat()}:{uuid.uuid4().hex[:8]}"
    return json_response(await devices.print_document(doc, register, job))


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
    table.file("/followups/callsheet.pdf", call_sheet_pdf, permission="clients.view",
               summary="This week's call sheet as an A4 PDF (?associate= for one book)")
    table.api("POST", "/api/v1/followups/callsheet/print", print_call_sheet,
              permission="clients.view", summary="Print this week's call sheet on a register's"
              " receipt printer",
              body={"type": "object", "properties": {"register": {"type": "string"},
                                                     "associate": {"type": "string"}}})
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
