"""A client's privacy on her page: her data exported for her (an encrypted PDF or JSON), and
her erasure (a manager, who types her name to confirm)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from hub.clienteling.event_lists import MAX_LISTED, EventLists, ask_of
from hub.clienteling.privacy import FORMATS, MIN_PASSPHRASE
from hub.clienteling.tiers import TIERS
from hub.core import fields
from hub.core.clients import CHANNELS, display_name
from hub.core.errors import Invalid
from hub.documents import render_pdf
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
    store_of,
)
from hub.words import N_
from hub.words.labels import METAL, STONE


async def exports(request: web.Request) -> web.Response:
    privacy = service(runtime_of(request).privacy, N_("the client book's exports"))
    client = await store_of(request).clients.get(request.match_info["client_id"])
    return json_response({"client_id": client["client_id"], "formats": list(FORMATS),
                          "min_passphrase": MIN_PASSPHRASE,
                          "exports": await privacy.exports_of(client["client_id"])})


async def export(request: web.Request) -> web.Response:
    privacy = service(runtime_of(request).privacy, N_("the client book's exports"))
    body = await read_json(request)
    out = await privacy.export(request.match_info["client_id"], body.get("format"),
                               body.get("passphrase"), actor=session_of(request).staff_id)
    return web.Response(body=out.body, content_type=out.content_type, headers={
        "Content-Disposition": f'attachment; filename="{out.filename}"',
        "Cache-Control": "no-store"})


async def erase(request: web.Request) -> web.Response:
    """Her erasure: the name typed must be hers, so a slip of the finger erases no one."""
    store = store_of(request)
    body = await read_json(request)
    client = await store.clients.get(request.match_info["client_id"])
    typed = fields.text(body.get("confirm"), "confirm", max_len=200) or ""
    name = display_name(client["profile"] or {})
    if client["profile"] is not None and typed.casefold().split() != name.casefold().split():
        raise Invalid("type her name, {name}, to confirm the erasure", "confirm", name=name)
    reason = fields.text(body.get("reason"), "reason", max_len=200) or "erasure request"
    seq = await store.clients.forget(client["client_id"], session_of(request).staff_id, reason)
    return json_response({"client_id": client["client_id"], "status": "forgotten", "seq": seq})


async def duplicates(request: web.Request) -> web.Response:
    return json_response({"duplicates": await store_of(request).clients.duplicates()})


async def duplicates_page(request: web.Request) -> web.Response:
    return await render(request, "duplicates.html",
                        {"pairs": await store_of(request).clients.duplicates()})


async def merge(request: web.Request) -> web.Response:
    body = await read_json(request)
    return json_response(await store_of(request).clients.merge(
        body.get("keep"), body.get("merge"), session_of(request).staff_id))


async def books_page(request: web.Request) -> web.Response:
    """The book by associate: how many clients each has, and one associate's clients."""
    runtime = runtime_of(request)
    store = runtime.store
    names = store.clients.names
    staff = store.staff.all()
    chosen = request.query.get("associate") or None
    if chosen is not None and store.staff.get(chosen) is None:
        raise Invalid("“{staff_id}” is not on the staff roster", "associate", staff_id=chosen)
    clients = []
    if chosen:
        tiers = runtime.tiers
        for cid in names.book_of(chosen):
            primary, _second = names.associates_of(cid)
            clients.append({"client_id": cid, "name": names.name_of(cid),
                            "primary": primary == chosen,
                            "tier": (await tiers.of(cid))["tier"] if tiers else None})
        clients.sort(key=lambda c: (c["name"] or "").casefold())
    return await render(request, "books.html", {
        "staff": staff, "sizes": {m.staff_id: len(names.book_of(m.staff_id)) for m in staff},
        "chosen": chosen, "clients": clients, "can_reassign": may(request, "clients.reassign"),
        "active": [m for m in staff if m.status == "active"]})


async def reassign(request: web.Request) -> web.Response:
    body = await read_json(request)
    return json_response(await store_of(request).clients.reassign(
        body.get("from_staff"), body.get("to_staff"), session_of(request).staff_id))


async def statement_pdf(request: web.Request) -> web.Response:
    privacy = service(runtime_of(request).privacy, N_("the client book's exports"))
    doc = await privacy.statement(request.match_info["client_id"])
    pdf = await render_pdf(doc)
    return web.Response(body=pdf, content_type="application/pdf", headers={
        "Content-Disposition": 'inline; filename="statement.pdf"', "Cache-Control": "no-store"})


async def print_statement(request: web.Request) -> web.Response:
    privacy = service(runtime_of(request).privacy, N_("the client book's exports"))
    body = await read_json(request)
    doc = await privacy.statement(request.match_info["client_id"])
    return json_response(await print_on_register(request, body, doc, "statement"))


def _lists(request: web.Request) -> EventLists:
    runtime = runtime_of(request)
    return EventLists(runtime.store, runtime.tiers)


async def lists_page(request: web.Request) -> web.Response:
    """A list for an event: the clients asked for, shown; it leaves encrypted or on paper."""
    ask = ask_of(dict(request.query), query=True)
    asked = bool(ask.as_dict())
    rows = await _lists(request).select(ask) if asked else []
    store = store_of(request)
    return await render(request, "lists.html", {
        "ask": ask, "asked": asked, "rows": rows, "tiers": TIERS[1:], "channels": CHANNELS,
        "metals": list(METAL), "stones": list(STONE), "designers": await store.items.designers(),
        "max": MAX_LISTED, "min_passphrase": MIN_PASSPHRASE,
        "printer": runtime_of(request).devices is not None})


async def export_list(request: web.Request) -> web.Response:
    body = await read_json(request)
    data = await _lists(request).export(ask_of(body), body.get("passphrase"),
                                        actor=session_of(request).staff_id)
    return web.Response(body=data, content_type="application/octet-stream", headers={
        "Content-Disposition": 'attachment; filename="client-list.csv.age"',
        "Cache-Control": "no-store"})


async def print_list(request: web.Request) -> web.Response:
    body = await read_json(request)
    ask = ask_of(body)
    lists = _lists(request)
    doc, count = await lists.printed(ask)
    printed = await print_on_register(request, body, doc, "client-list")
    await lists.record(ask, count, "print", session_of(request).staff_id)  # once it printed
    return json_response(printed)


async def privacy_panel(request: web.Request, client: dict[str, Any]) -> dict[str, Any] | None:
    privacy = runtime_of(request).privacy
    if privacy is None or client["profile"] is None:
        return None
    return {"exports": await privacy.exports_of(client["client_id"]),
            "can_export": may(request, "clients.export"),
            "can_erase": may(request, "clients.erase"), "min_passphrase": MIN_PASSPHRASE}


def setup(table: Endpoints) -> None:
    # Before the core's /clients/{client_id}: routes match in the order they are added.
    table.page("/clients/duplicates", duplicates_page, permission="clients.merge",
               title=N_("Possible duplicates"))
    table.page("/clients/books", books_page, permission="clients.view",
               title=N_("Books by associate"))
    table.api("POST", "/api/v1/clients/reassign", reassign, permission="clients.reassign",
              summary="Give one associate's book to another (she left, or moved store)",
              body={"type": "object", "required": ["from_staff", "to_staff"],
                    "properties": {"from_staff": {"type": "string"},
                                   "to_staff": {"type": "string"}}})
    table.file("/clients/{client_id}/statement.pdf", statement_pdf, permission="clients.view",
               summary="A client's statement (purchases, returns, certificates) as A4 PDF")
    table.api("POST", "/api/v1/clients/{client_id}/statement/print", print_statement,
              permission="clients.view",
              summary="Print a client's statement on a register's receipt printer",
              body={"type": "object", "properties": {"register": {"type": "string"}}})
    table.page("/clients/lists", lists_page, permission="clients.export",
               title=N_("Lists for an event"))
    ask = {"tier": {"type": "string", "enum": list(TIERS[1:])}, "metal": {"type": "string"},
           "stone": {"type": "string"}, "designer": {"type": "string"},
           "channel": {"type": "string", "enum": list(CHANNELS)}}
    table.api("POST", "/api/v1/clients/lists/export", export_list, permission="clients.export",
              summary="A list of clients for an event as an age-encrypted CSV (journaled)",
              produces=("application/octet-stream",),
              body={"type": "object", "required": ["passphrase"],
                    "properties": {**ask, "passphrase": {"type": "string",
                                                         "minLength": MIN_PASSPHRASE}}})
    table.api("POST", "/api/v1/clients/lists/print", print_list, permission="clients.export",
              summary="A list of clients for an event on a register's printer (journaled)",
              body={"type": "object", "properties": {**ask, "register": {"type": "string"}}})
    table.api("GET", "/api/v1/clients/duplicates", duplicates, permission="clients.merge",
              summary="Possible duplicate clients: a shared e-mail or phone, or alike names")
    table.api("POST", "/api/v1/clients/merge", merge, permission="clients.merge",
              summary="Merge two records of one client: `merge` is folded into `keep`, whose"
              " id stays; the other id points to it",
              body={"type": "object", "required": ["keep", "merge"],
                    "properties": {"keep": {"type": "string"}, "merge": {"type": "string"}}})
    table.client_panel("privacy", "client_privacy.html", privacy_panel,
                       permission="clients.view", order=95)
    table.api("GET", "/api/v1/clients/{client_id}/export", exports, permission="clients.export",
              summary="The exports of a client's own data so far, and the formats offered")
    table.api("POST", "/api/v1/clients/{client_id}/export", export,
              permission="clients.export",
              summary="Export a client's own data for her: an encrypted PDF (opens with the"
              " passphrase) or an age-encrypted JSON file",
              produces=("application/pdf", "application/octet-stream"),
              body={"type": "object", "required": ["format", "passphrase"],
                    "properties": {"format": {"type": "string", "enum": list(FORMATS)},
                                   "passphrase": {"type": "string",
                                                  "minLength": MIN_PASSPHRASE}}})
    table.api("POST", "/api/v1/clients/{client_id}/erase", erase, permission="clients.erase",
              summary="Erase a client at her request: her key is destroyed, her entries stay"
              " unreadable",
              body={"type": "object", "required": ["confirm"],
                    "properties": {"confirm": {"type": "string",
                                               "description": "her name, typed"},
                                   "reason": {"type": "string"}}})
