"""The appointments' screens and API: the day and week view with the booking form, an
appointment with its stages and its tray, the tray's preparation list (on screen and on a
register's receipt printer), and the client page's panel. Each handler turns HTTP into one
call of `Appointments` (`runtime.appointments`) and back."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from hub.clienteling.appointments import KINDS, MACHINE, OVER, Appointments
from hub.core.errors import Invalid, Refused
from hub.core.fields import Form
from hub.documents import render_text
from hub.web.kernel import (
    Endpoints,
    json_response,
    may,
    print_on_register,
    read_json,
    render,
    runtime_of,
    service,
    session_of,
)
from hub.words import N_

STATIC = Path(__file__).parent / "static"
DURATIONS = (30, 45, 60, 90, 120, 180)
MAX_DAYS = 62  # the longest window the list answers at once


def _appointments(request: web.Request) -> Appointments:
    return service(runtime_of(request).appointments, N_("the appointments"))


def _id(request: web.Request) -> str:
    return request.match_info["appointment_id"]


def _me(request: web.Request) -> str:
    return session_of(request).staff_id


def window(query: Any, today: date) -> tuple[date, date, str | None, str | None]:
    """`from`, `to` (ISO days, a week from today by default), `associate`, `salon`."""
    f = Form(query, query=True)
    first, last = f.day("from"), f.day("to")
    associate = f.identifier("associate", required=False, what="a staff id")
    salon = f.text("salon", max_len=40)
    f.done()
    start = date.fromisoformat(first) if first else today
    end = date.fromisoformat(last) if last else start + timedelta(days=6)
    if end < start:
        raise Invalid("the last day comes before the first", "to")
    if (end - start).days >= MAX_DAYS:
        raise Invalid("ask for at most {days} days at a time", "to", days=MAX_DAYS)
    return start, end, associate, salon


# -- API ----------------------------------------------------------------------------------------


async def list_api(request: web.Request) -> web.Response:
    appointments = _appointments(request)
    first, last, associate, salon = window(request.query, appointments.today())
    return json_response({"from": first.isoformat(), "to": last.isoformat(),
                          "appointments": await appointments.between(
                              first, last, associate=associate, salon=salon)})


async def book_api(request: web.Request) -> web.Response:
    body = await read_json(request)
    return json_response(await _appointments(request).book(body, actor=_me(request)), 201)


async def get_api(request: web.Request) -> web.Response:
    return json_response(await _appointments(request).get(_id(request)))


async def move_api(request: web.Request) -> web.Response:
    body = await read_json(request)
    return json_response(await _appointments(request).move(
        _id(request), body.get("move"), body.get("note"), actor=_me(request)))


async def pull_api(request: web.Request) -> web.Response:
    body = await read_json(request)
    return json_response(await _appointments(request).pull(_id(request), body,
                                                            actor=_me(request)))


async def close_api(request: web.Request) -> web.Response:
    return json_response(await _appointments(request).close_tray(_id(request),
                                                                 actor=_me(request)))


async def prep_api(request: web.Request) -> web.Response:
    appointments = _appointments(request)
    prep = await appointments.prep(_id(request))
    return json_response({**prep, "text": render_text(appointments.prep_document(prep))})


async def print_prep_api(request: web.Request) -> web.Response:
    """The preparation list on a register's receipt printer (the signed-in one's by
    default); a fresh job id each time, so asking again prints again."""
    appointments = _appointments(request)
    body = await read_json(request)
    prep = await appointments.prep(_id(request))
    return json_response(await print_on_register(
        request, body, appointments.prep_document(prep), f"prep:{prep['appointment_id']}"))


# -- screens ------------------------------------------------------------------------------------


def _url(**query: Any) -> str:
    return "/appointments?" + urlencode({k: v for k, v in query.items() if v})


async def page(request: web.Request) -> web.Response:
    """The day or the week, per associate and salon, and the booking form (pre-filled with
    a client when her page sent a person here)."""
    runtime = runtime_of(request)
    appointments = _appointments(request)
    today = appointments.today()
    q = request.query
    view = "day" if q.get("view") == "day" else "week"
    try:
        day = date.fromisoformat(q.get("day", "")) if q.get("day") else today
    except ValueError:
        day = today
    staff = [m for m in runtime.store.staff.all() if m.status == "active"]
    associate = q.get("associate") if q.get("associate") in {m.staff_id for m in staff} else None
    salon = q.get("salon") if q.get("salon") in appointments.settings.salons else None
    first = day if view == "day" else day - timedelta(days=day.weekday())
    last = first if view == "day" else first + timedelta(days=6)
    found = await appointments.between(first, last, associate=associate, salon=salon)
    days = []
    for n in range((last - first).days + 1):
        d = first + timedelta(days=n)
        days.append((d.isoformat(), [a for a in found if a["day"] == d.isoformat()]))
    step = timedelta(days=1 if view == "day" else 7)
    keep = {"view": view, "associate": associate, "salon": salon}
    client_id = (q.get("client") or "")[:40] or None
    client_name = runtime.store.clients.names.name_of(client_id) if client_id else None
    me = session_of(request).staff_id
    return await render(request, "appointments.html", {
        "view": view, "day": day.isoformat(), "today": today.isoformat(), "days": days,
        "first": first.isoformat(), "last": last.isoformat(),
        "previous": _url(day=(first - step).isoformat(), **keep),
        "next": _url(day=(first + step).isoformat(), **keep),
        "this_period": _url(day=today.isoformat(), **keep),
        "associate": associate, "salon": salon, "staff": staff,
        "salons": appointments.settings.salons, "kinds": KINDS, "durations": DURATIONS,
        "default_minutes": appointments.settings.default_minutes,
        "me": me if me in {m.staff_id for m in staff} else "",
        "client": {"client_id": client_id, "name": client_name} if client_name else None,
        "book_day": max(day, today).isoformat()})


async def appointment_page(request: web.Request) -> web.Response:
    runtime = runtime_of(request)
    appointments = _appointments(request)
    shown = await appointments.get(_id(request))
    tray = await appointments.tray(shown["appointment_id"])
    # Only the moves this person may make (reopening is a manager's).
    shown["moves"] = [m for m in shown["moves"] if may(request, MACHINE.move(m).permission)]
    return await render(request, "appointment.html", {
        "a": shown, "tray": tray, "registers": runtime.config.registers,
        "register_id": session_of(request).register_id,
        "printer": runtime.devices is not None,
        "over": shown["status"] in OVER})


async def prep_page(request: web.Request) -> web.Response:
    runtime = runtime_of(request)
    prep = await _appointments(request).prep(_id(request))
    return await render(request, "appointment_prep.html", {
        "prep": prep, "a": prep["appointment"], "registers": runtime.config.registers,
        "register_id": session_of(request).register_id,
        "printer": runtime.devices is not None})


async def client_panel(request: web.Request, client: dict[str, Any]) -> dict[str, Any] | None:
    appointments = runtime_of(request).appointments
    if appointments is None:
        return None
    try:
        return await appointments.of_client(client["client_id"])
    except Refused:
        return None


# -- the table ----------------------------------------------------------------------------------

_TEXT = {"type": "string"}


def setup(table: Endpoints) -> None:
    table.page("/appointments", page, permission="clients.view", title=N_("Appointments"),
               nav=True, order=36)
    table.page("/appointments/{appointment_id}", appointment_page, permission="clients.view",
               title=N_("Appointment"))
    table.page("/appointments/{appointment_id}/prep", prep_page, permission="clients.view",
               title=N_("Preparation list"))
    table.script("/clienteling/appointments.js", STATIC / "appointments.js")
    table.client_panel("appointments", "client_appointments.html", client_panel,
                       permission="clients.view", order=40)
    table.api("GET", "/api/v1/appointments", list_api, permission="clients.view",
              summary="Appointments from one day to another (a week from today by default),"
                      " one associate's or one salon's", query=("from", "to", "associate", "salon"))
    table.api("POST", "/api/v1/appointments", book_api, permission="appointments.book",
              summary="Book an appointment (refused when the associate or the salon is taken)",
              body={"type": "object", "required": ["kind", "client_id", "associate", "salon",
                                                   "start"],
                    "properties": {"kind": {"enum": list(KINDS)}, "client_id": _TEXT,
                                   "associate": _TEXT, "salon": _TEXT,
                                   "start": {"type": "string",
                                             "description": "YYYY-MM-DDTHH:MM, store time"},
                                   "end": _TEXT, "duration_min": {"type": "integer"},
                                   "note": _TEXT}})
    table.api("GET", "/api/v1/appointments/{appointment_id}", get_api,
              permission="clients.view",
              summary="An appointment: who, when, where, its stage, its moves and its tray")
    table.api("POST", "/api/v1/appointments/{appointment_id}/status", move_api,
              permission="appointments.book",
              summary="Move an appointment on: confirm, arrived, done, no-show, cancel (a note),"
                      " reopen (a manager, a note)",
              body={"type": "object", "required": ["move"],
                    "properties": {"move": {"enum": [m.name for m in MACHINE.moves]},
                                   "note": _TEXT}})
    table.api("POST", "/api/v1/appointments/{appointment_id}/tray", pull_api,
              permission="appointments.book",
              summary="Pull pieces onto the appointment's tray: each is held for it",
              body={"type": "object", "required": ["item_ids"],
                    "properties": {"item_ids": {"type": "array", "items": _TEXT},
                                   "tray": _TEXT}})
    table.api("POST", "/api/v1/appointments/{appointment_id}/tray/close", close_api,
              permission="appointments.book",
              summary="Close the tray: its pieces go back to their showcases",
              body={"type": "object", "properties": {}})
    table.api("GET", "/api/v1/appointments/{appointment_id}/prep", prep_api,
              permission="clients.view",
              summary="The tray's preparation list: each piece, its showcase and its price")
    table.api("POST", "/api/v1/appointments/{appointment_id}/prep/print", print_prep_api,
              permission="appointments.book",
              summary="Print the preparation list on a register's receipt printer",
              body={"type": "object", "properties": {"register": _TEXT}})
