"""The follow-ups' screen and API: the day's lists, and a follow-up done."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web

from hub.clienteling import appointments_web, privacy_web, taste_web
from hub.clienteling.callsheet import describe
from hub.clienteling.rules import OUTCOMES
from hub.core import fields
from hub.core.errors import Invalid
from hub.documents import render_pdf
from hub.web.kernel import (
    Endpoints,
    json_response,
    print_on_register,
    read_json,
    render,
    runtime_of,
    service,
    session_of,
    store_of,
)
from hub.words import N_

STATIC = Path(__file__).parent / "static"


def associate_of(request: web.Request, value: str | None) -> str | None:
    """`?associate=` as a staff id on the roster (None: the whole store)."""
    value = fields.text(value, "associate", max_len=40)
    if not value:
        return None
    if store_of(request).staff.get(value) is None:
        raise Invalid("“{staff_id}” is not on the staff roster", "associate", staff_id=value)
    return value


def in_words(request: web.Request, day_: dict[str, Any]) -> dict[str, Any]:
    """The day's follow-ups, each with what it is about in words (for a screen)."""
    words = store_of(request).words
    for listed in (day_["today"], day_["overdue"], day_["upcoming"], day_["snoozed"]):
        for f in listed:
            f["what"] = describe(f, words)
    return day_


async def page(request: web.Request) -> web.Response:
    runtime = runtime_of(request)
    followups = service(runtime.followups, N_("the follow-ups"))
    associate = associate_of(request, request.query.get("associate"))
    day_ = in_words(request, await followups.day(associate=associate))
    staff = [m for m in runtime.store.staff.all() if m.status == "active"]
    return await render(request, "followups.html", {
        "followups": day_, "outcomes": OUTCOMES, "printer": runtime.devices is not None,
        "staff": staff, "associate": associate})


async def my_day(request: web.Request) -> web.Response:
    """The associate's home: her appointments and her book's follow-ups of the day."""
    runtime = runtime_of(request)
    followups = service(runtime.followups, N_("the follow-ups"))
    session = session_of(request)
    me = runtime.store.staff.get(session.staff_id)
    day_ = in_words(request, await followups.day(associate=session.staff_id))
    appointments = (await runtime.appointments.day_of(session.staff_id)
                    if runtime.appointments is not None else None)
    return await render(request, "today.html", {
        "me": me, "followups": day_, "appointments": appointments, "outcomes": OUTCOMES,
        "book_size": len(runtime.store.clients.names.book_of(session.staff_id))})


async def day(request: web.Request) -> web.Response:
    followups = service(runtime_of(request).followups, N_("the follow-ups"))
    associate = associate_of(request, request.query.get("associate"))
    return json_response(await followups.day(associate=associate))


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
    doc = await followups.call_sheet(
        associate=associate_of(request, request.query.get("associate")))
    pdf = await render_pdf(doc)
    return web.Response(body=pdf, content_type="application/pdf", headers={
        "Content-Disposition": 'inline; filename="call-sheet.pdf"', "Cache-Control": "no-store"})


async def print_call_sheet(request: web.Request) -> web.Response:
    followups = service(runtime_of(request).followups, N_("the follow-ups"))
    body = await read_json(request)
    doc = await followups.call_sheet(associate=associate_of(request, body.get("associate")))
    return json_response(await print_on_register(
        request, body, doc, f"callsheet:{followups.today().isoformat()}"))


async def loyalty_panel(request: web.Request, client: dict[str, Any]) -> dict[str, Any] | None:
    loyalty = runtime_of(request).loyalty
    if loyalty is None or not loyalty.rules.enabled:
        return None
    return await loyalty.of(client["client_id"])


async def contacts_panel(request: web.Request, client: dict[str, Any]) -> dict[str, Any] | None:
    followups = runtime_of(request).followups
    if followups is None:
        return None
    return {"contacts": await followups.log_of(client["client_id"]), "outcomes": OUTCOMES}


def setup(table: Endpoints) -> None:
    table.client_panel("contacts", "client_contacts.html", contacts_panel,
                       permission="clients.view", order=60)
    table.client_panel("loyalty", "client_loyalty.html", loyalty_panel,
                       permission="clients.view", place="headline", order=20, summary=True)
    privacy_web.setup(table)
    taste_web.setup(table)  # wish lists, tiers, recommendations
    appointments_web.setup(table)  # the calendar, trays and preparation lists
    table.script("/clienteling/privacy.js", STATIC / "privacy.js")
    table.page("/today", my_day, permission="clients.view", title=N_("My day"), nav=True,
               order=5)
    table.page("/followups", page, permission="clients.view", title=N_("Follow-ups"), nav=True,
               order=35)
    table.script("/clienteling/followups.js", STATIC / "followups.js")
    table.templates("hub.clienteling")
    table.api("GET", "/api/v1/followups", day, permission="clients.view",
              summary="The day's follow-ups: today, upcoming, overdue, put off, and those done"
              " this week (?associate= for one associate's book)", query=("associate",))
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
