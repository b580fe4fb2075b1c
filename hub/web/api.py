"""The JSON API under /api/v1 for the core's books: sign-in, pieces, clients, register carts,
sales, approvals, staff, roles and settings. Each handler reads what HTTP brought, makes one
call to a core service and answers JSON; refusals become `{error, detail}` in the app's
middleware."""

from __future__ import annotations

import functools
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from multidict import MultiDict

from hub.core import fields
from hub.core.approvals import check_action
from hub.core.clients import CHANNELS, CONSENT_HOW, PROFILE_FIELDS
from hub.core.errors import Invalid
from hub.core.items import INSPECTION_OUTCOMES, ITEM_QUERY, search_filters
from hub.core.roles import Role
from hub.core.sales import TENDER_TYPES
from hub.core.staff import Member, check_pin_format, check_staff_id
from hub.web.kernel import (
    ENDPOINTS,
    PUBLIC,
    SESSIONS,
    SIGNED_IN,
    ApiError,
    Endpoints,
    for_browser,
    json_body,
    json_bytes,
    json_response,
    may,
    piece_for_browser,
    read_json,
    runtime_of,
    session_of,
    store_of,
)
from hub.web.receipt import receipt_of
from hub.web.sessions import COOKIE, Session


def _q_int(request: web.Request, name: str, lo: int = 0, hi: int = 10**12) -> int | None:
    return fields.whole(request.query.get(name), name, lo=lo, hi=hi, from_text=True)


def _q_text(request: web.Request, name: str, max_len: int = 100) -> str | None:
    return fields.text(request.query.get(name), name, max_len=max_len)


def _path_int(request: web.Request, name: str) -> int:
    return fields.whole(request.match_info[name], name, lo=0, hi=999_999, required=True,
                        from_text=True)


def _me(request: web.Request) -> str:
    return session_of(request).staff_id


# -- sign-in ------------------------------------------------------------------------------------


async def sign_in(request: web.Request) -> web.Response:
    body = await read_json(request)
    staff_id = check_staff_id(body.get("staff_id"))
    pin = check_pin_format(body.get("pin"))
    runtime = runtime_of(request)
    register_id = body.get("register_id")
    if register_id is not None:
        runtime.store.sales.check_register(register_id)
    member = await runtime.store.staff.verify(staff_id, pin, via="sign_in")
    if member is None:
        raise ApiError(401, "signin_refused", "wrong staff id or PIN")
    sessions = request.app[SESSIONS]
    old = request.cookies.get(COOKIE)
    if old:
        sessions.end(old)  # a new session id at every sign-in: no fixation
    session = sessions.start(member.staff_id, member.name, member.role,
                             register_id or runtime.config.registers[0].id)
    response = json_response(_whoami(request, session))
    response.set_cookie(COOKIE, session.sid, httponly=True,
                        secure=not runtime.options.insecure_http, samesite="Strict", path="/")
    return response


def _whoami(request: web.Request, session: Session) -> dict[str, Any]:
    role = store_of(request).staff.roles.get(session.role)
    return {"staff_id": session.staff_id, "name": session.name, "role": session.role,
            "register_id": session.register_id, "csrf": session.csrf,
            "permissions": sorted(role.permissions) if role else []}


async def who_am_i(request: web.Request) -> web.Response:
    return json_response(_whoami(request, session_of(request)))


async def sign_out(request: web.Request) -> web.Response:
    request.app[SESSIONS].end(session_of(request).sid)
    response = json_response({"signed_out": True})
    response.del_cookie(COOKIE, path="/")
    return response


# -- pieces -------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1024)
def _filters_of(raw_query: str) -> dict[str, Any]:
    """A search's filters by its query string: reading them is a pure function of the
    string, and the searches a shop asks again and again skip it. (A refusal is not kept.)
    The dict is shared: read it, never change it."""
    return search_filters(MultiDict(parse_qsl(raw_query, keep_blank_values=True)))


async def search_items(request: web.Request) -> web.Response:
    """A page of pieces: `count` on this page, `total` matched in all (with
    `total_is_capped`, more than `total`), and `next_offset` for the next page or null."""
    found = await store_of(request).items.search(**_filters_of(request.rel_url.raw_query_string))
    # The body is kept with the page (and goes when the writer empties the page cache),
    # one for those who see costs and one for those who do not.
    key = ("json", may(request, "cost.view"))
    body = found.derived.get(key)
    if body is None:
        body = found.derived[key] = json_bytes({
            "items": [piece_for_browser(request, p) for p in found.items],
            "count": len(found.items), "total": found.total,
            "total_is_capped": found.total_is_capped, "offset": found.offset,
            "limit": found.limit, "next_offset": found.next_offset})
    return json_body(body)


async def get_item(request: web.Request) -> web.Response:
    store = store_of(request)
    piece = await store.items.get(request.match_info["item_id"])
    held = store.holds.shown(await store.holds.of(piece["item_id"]))  # on a tray: where
    return json_response({**piece_for_browser(request, piece), "hold": held})


async def inspect_item(request: web.Request) -> web.Response:
    body = await read_json(request)
    piece = await store_of(request).items.inspect(
        request.match_info["item_id"], body.get("outcome"), body.get("note"), actor=_me(request))
    return json_response(piece_for_browser(request, piece))


async def item_history(request: web.Request) -> web.Response:
    history = await store_of(request).items.history(request.match_info["item_id"])
    return json_response({"history": [for_browser(request, h) for h in history]})


async def lookup(request: web.Request) -> web.Response:
    piece = await store_of(request).items.lookup(request.query.get("code", ""))
    return json_response(piece_for_browser(request, piece))


# -- clients ------------------------------------------------------------------------------------


async def search_clients(request: web.Request) -> web.Response:
    query = _q_text(request, "q") or ""
    limit = _q_int(request, "limit", 1, 100) or 20
    return json_response({"clients": await store_of(request).clients.search(query, limit)})


async def create_client(request: web.Request) -> web.Response:
    body = await read_json(request)
    return json_response(await store_of(request).clients.create(body, actor=_me(request)), 201)


async def get_client(request: web.Request) -> web.Response:
    return json_response(await store_of(request).clients.get(request.match_info["client_id"]))


async def update_client(request: web.Request) -> web.Response:
    body = await read_json(request)
    return json_response(await store_of(request).clients.update(
        request.match_info["client_id"], body, actor=_me(request)))


async def set_client_consent(request: web.Request) -> web.Response:
    """Her yes or no to marketing on one channel, and how she gave it (kept in her history)."""
    body = await read_json(request)
    return json_response(await store_of(request).clients.set_consent(
        request.match_info["client_id"], body.get("channel"), body.get("marketing"),
        body.get("how"), actor=_me(request)))


async def client_sales(request: web.Request) -> web.Response:
    sales = await store_of(request).sales.for_client(request.match_info["client_id"])
    return json_response({"sales": sales})


async def client_summary(request: web.Request) -> web.Response:
    """Lifetime and last-12-months spend, purchases, average basket, first and last purchase,
    ring sizes and the next date to remember (`Store.client_summary`)."""
    store = store_of(request)
    summary = await store.client_summary(request.match_info["client_id"])
    client = await store.clients.get(summary["client_id"])
    for panel, data in await request.app[ENDPOINTS].panels_of(request, client, summary=True):
        summary[panel.name] = data  # what the layers add to the headline (the tier...)
    return json_response(summary)


# -- register carts -----------------------------------------------------------------------------


def _register(request: web.Request) -> str:
    return request.match_info["register_id"]


async def get_cart(request: web.Request) -> web.Response:
    return json_response(await store_of(request).carts.get(_register(request)))


async def clear_cart(request: web.Request) -> web.Response:
    return json_response(await store_of(request).carts.clear(_register(request), by=_me(request)))


async def add_line(request: web.Request) -> web.Response:
    body = await read_json(request)
    store = store_of(request)
    held_ok = body.get("confirm_held", False)  # a piece on a tray, sold all the same
    if "code" in body:  # a typed or scanned code: found like the scanner finds it
        cart = await store.registers.ring_up(_register(request), body["code"], by=_me(request),
                                             confirm_held=held_ok)
    else:
        cart = await store.carts.add(_register(request), item_id=body.get("item_id"),
                                     sku=body.get("sku"), quantity=body.get("quantity", 1),
                                     by=_me(request), confirm_held=held_ok,
                                     quote_id=body.get("quote_id"))
    return json_response(cart)


async def remove_line(request: web.Request) -> web.Response:
    return json_response(await store_of(request).carts.remove(
        _register(request), _path_int(request, "line_no"), by=_me(request)))


async def set_price(request: web.Request) -> web.Response:
    body = await read_json(request)
    return json_response(await store_of(request).carts.set_price(
        _register(request), _path_int(request, "line_no"), body.get("unit_price"),
        approval_id=body.get("approval_id"), actor=_me(request)))


async def attach_client(request: web.Request) -> web.Response:
    body = await read_json(request)
    return json_response(await store_of(request).carts.attach_client(
        _register(request), body.get("client_id"), by=_me(request)))


async def set_discount(request: web.Request) -> web.Response:
    body = await read_json(request)
    return json_response(await store_of(request).carts.set_discount(
        _register(request), body.get("amount"), percent_bp=body.get("percent_bp"),
        approval_id=body.get("approval_id"), actor=_me(request)))


async def add_tender(request: web.Request) -> web.Response:
    body = await read_json(request)
    approval_id = body.pop("approval_id", None)  # a card typed by hand at a terminal's register
    return json_response(await store_of(request).carts.add_tender(
        _register(request), body, by=_me(request), approval_id=approval_id))


async def remove_tender(request: web.Request) -> web.Response:
    return json_response(await store_of(request).carts.remove_tender(
        _register(request), _path_int(request, "index"), by=_me(request)))


async def complete(request: web.Request) -> web.Response:
    body = await read_json(request)
    runtime = runtime_of(request)
    sale = await runtime.store.registers.complete(
        _register(request), actor=_me(request), note=body.get("note"),
        approval_id=body.get("approval_id"))
    return json_response({"sale": sale, "receipt": await receipt_of(runtime.store, sale)}, 201)


async def no_sale(request: web.Request) -> web.Response:
    """Open the drawer without a sale: a manager approves it, the journal records it, and
    the devices layer kicks that register's drawer (`register.no_sale`)."""
    body = await read_json(request)
    opened = await store_of(request).registers.no_sale(
        _register(request), reason=body.get("reason"), approval_id=body.get("approval_id"),
        actor=_me(request))
    return json_response(opened)


# -- sales --------------------------------------------------------------------------------------


async def recent_sales(request: web.Request) -> web.Response:
    limit = _q_int(request, "limit", 1, 500) or 50
    return json_response({"sales": await store_of(request).sales.recent(limit)})


async def get_sale(request: web.Request) -> web.Response:
    return json_response(await store_of(request).sales.get(request.match_info["sale_id"]))


async def sale_receipt(request: web.Request) -> web.Response:
    """The receipt as it prints (`gift=1`: the gift receipt, without prices)."""
    store = store_of(request)
    gift = fields.boolean(request.query.get("gift", "0") == "1", "gift")
    sale = await store.sales.get(request.match_info["sale_id"])
    return json_response(await receipt_of(store, sale, gift=bool(gift)))


async def void_sale(request: web.Request) -> web.Response:
    body = await read_json(request)
    return json_response(await store_of(request).registers.void(
        request.match_info["sale_id"], register_id=body.get("register_id"),
        reason=body.get("reason"), approval_id=body.get("approval_id"), actor=_me(request)), 201)


async def return_sale(request: web.Request) -> web.Response:
    body = await read_json(request)
    return json_response(await store_of(request).registers.return_lines(
        request.match_info["sale_id"], register_id=body.get("register_id"),
        lines=body.get("lines"), reason=body.get("reason"),
        approval_id=body.get("approval_id"), actor=_me(request),
        refund_to=body.get("refund_to")), 201)


# -- approvals ----------------------------------------------------------------------------------


async def approve(request: web.Request) -> web.Response:
    """A manager types their id and PIN on the associate's screen, for this one action."""
    body = await read_json(request)
    approval = await store_of(request).approvals.decide(
        check_action(body.get("action")), body.get("manager_id"), body.get("pin"),
        requested_by=_me(request))
    return json_response(approval, 201)


async def list_approvals(request: web.Request) -> web.Response:
    limit = _q_int(request, "limit", 1, 500) or 100
    return json_response({"approvals": await store_of(request).approvals.recent(limit)})


# -- staff, roles and settings ------------------------------------------------------------------


def _member(m: Member) -> dict[str, Any]:
    return {"staff_id": m.staff_id, "name": m.name, "role": m.role, "status": m.status}


async def list_staff(request: web.Request) -> web.Response:
    return json_response({"staff": [_member(m) for m in store_of(request).staff.all()]})


async def enroll_staff(request: web.Request) -> web.Response:
    body = await read_json(request)
    member = await store_of(request).staff.enroll(
        body.get("staff_id"), body.get("name"), body.get("role"), body.get("pin"),
        actor=_me(request))
    return json_response(_member(member), 201)


async def change_staff(request: web.Request) -> web.Response:
    body = await read_json(request)
    extra = set(body) - {"pin", "role", "status"}
    if extra:
        raise Invalid("unknown field “{name}”", name=sorted(extra)[0])
    staff_id = request.match_info["staff_id"]
    member = await store_of(request).staff.change(
        staff_id, actor=_me(request), pin=body.get("pin"), role=body.get("role"),
        status=body.get("status"))
    if "role" in body or body.get("status") == "left":
        request.app[SESSIONS].end_for(staff_id)  # a changed role signs them in again
    return json_response(_member(member))


def role_view(role: Role) -> dict[str, Any]:
    return {"role": role.name, "permissions": sorted(role.permissions), "custom": role.custom}


async def list_roles(request: web.Request) -> web.Response:
    roles = store_of(request).staff.roles
    return json_response({"roles": [role_view(r) for r in roles.all()],
                          "permissions": list(roles.permissions)})


async def define_role(request: web.Request) -> web.Response:
    body = await read_json(request)
    role = await store_of(request).staff.roles.define(
        request.match_info["role"], body.get("permissions"), actor=_me(request))
    return json_response(role_view(role))


def settings_of(request: web.Request) -> dict[str, Any]:
    config = runtime_of(request).config
    return {"store_id": config.store_id, "store_name": config.store_name,
            "currency": config.currency, "timezone": config.timezone,
            "registers": [{"id": r.id, "name": r.name} for r in config.registers],
            "tax_rates": [{"code": t.code, "name": t.name, "rate_bp": t.rate_bp}
                          for t in config.tax_rates],
            "prices_include_tax": config.prices_include_tax,
            "max_discount_pct": config.max_discount_bp // 100}


async def get_settings(request: web.Request) -> web.Response:
    return json_response(settings_of(request))


# -- the table ----------------------------------------------------------------------------------

_OBJ = {"type": "object"}
_CART = "/api/v1/registers/{register_id}/cart"
_TEXT, _INT = {"type": "string"}, {"type": "integer"}
_ID_OR_NULL = {"type": ["string", "null"]}


def _body(*required: str, **properties: dict[str, Any]) -> dict[str, Any]:
    """A JSON object body with these fields (for OpenAPI, and the hostile-input tests)."""
    return {"type": "object", "properties": properties,
            **({"required": list(required)} if required else {})}


_PROFILE = _body(**{name: {} for name in PROFILE_FIELDS})
_LINE_REFS = {"type": "array", "items": _body("line_no", line_no=_INT, quantity=_INT)}


def setup(table: Endpoints) -> None:
    api = table.api
    api("POST", "/api/v1/session", sign_in, permission=PUBLIC, summary="Sign in with staff id and PIN",
        body={"type": "object", "required": ["staff_id", "pin"],
              "properties": {"staff_id": {"type": "string"}, "pin": {"type": "string"},
                             "register_id": {"type": "string"}}})
    api("GET", "/api/v1/session", who_am_i, permission=SIGNED_IN, summary="Who is signed in")
    api("DELETE", "/api/v1/session", sign_out, permission=SIGNED_IN, summary="Sign out")

    api("GET", "/api/v1/items", search_items, permission="stock.view", summary="Search pieces",
        query=ITEM_QUERY)
    api("GET", "/api/v1/lookup", lookup, permission="stock.view",
        summary="Find a piece by serial, EPC or SKU", query=("code",))
    api("GET", "/api/v1/items/{item_id}", get_item, permission="stock.view",
        summary="A piece with its stones and certificates")
    api("GET", "/api/v1/items/{item_id}/history", item_history, permission="stock.view",
        summary="Every journal entry that touched a piece")
    api("POST", "/api/v1/items/{item_id}/inspection", inspect_item, permission="pieces.inspect",
        summary="Inspect a returned piece: back to stock, to repair, or written off",
        body=_body("outcome", outcome={"enum": list(INSPECTION_OUTCOMES)}, note=_TEXT))

    api("GET", "/api/v1/clients", search_clients, permission="clients.view", summary="Search the client book",
        query=("q", "limit"))
    api("POST", "/api/v1/clients", create_client, permission="clients.edit", summary="Add a client",
        body=_PROFILE)
    api("GET", "/api/v1/clients/{client_id}", get_client, permission="clients.view",
        summary="A client's profile")
    api("PATCH", "/api/v1/clients/{client_id}", update_client, permission="clients.edit",
        summary="Change a client's profile", body=_PROFILE)
    api("POST", "/api/v1/clients/{client_id}/consent", set_client_consent,
        permission="clients.edit",
        summary="Record a client's yes or no to marketing on one channel (email, sms, phone,"
                " post, messaging) and how she gave it; the channel's history is kept",
        body=_body("channel", "marketing", "how", channel={"enum": list(CHANNELS)},
                   marketing={"type": "boolean"}, how={"enum": list(CONSENT_HOW)}))
    api("GET", "/api/v1/clients/{client_id}/sales", client_sales, permission="clients.view",
        summary="A client's purchase history")
    api("GET", "/api/v1/clients/{client_id}/summary", client_summary, permission="clients.view",
        summary="A client's headline: spend, purchases, sizes, next date to remember")

    api("GET", _CART, get_cart, permission="sell", summary="A register's cart")
    api("DELETE", _CART, clear_cart, permission="sell", summary="Empty a register's cart")
    api("POST", _CART + "/lines", add_line, permission="sell",
        summary="Add a piece (item_id, or a scanned code) or a stock line (sku); a piece held"
                " on a tray is refused (409 held) unless confirm_held",
        body=_body(item_id=_TEXT, code=_TEXT, sku=_TEXT, quantity=_INT,
                   confirm_held={"type": "boolean"}, quote_id={"type": "string"}))
    api("DELETE", _CART + "/lines/{line_no}", remove_line, permission="sell", summary="Remove a line")
    api("PUT", _CART + "/lines/{line_no}/price", set_price, permission="sell",
        summary="Change a line's price (manager approval)",
        body=_body("unit_price", unit_price=_INT, approval_id=_TEXT))
    api("PUT", _CART + "/client", attach_client, permission="sell",
        summary="Attach a client (or null)", body=_body(client_id=_ID_OR_NULL))
    api("PUT", _CART + "/discount", set_discount, permission="sell",
        summary="Discount the basket by an amount or a percentage (basis points; above the"
                " threshold: manager approval)",
        body=_body(amount=_INT, percent_bp=_INT, approval_id=_TEXT))
    api("POST", _CART + "/tenders", add_tender, permission="sell", summary="Take a tender",
        body=_body("type", "amount", type={"enum": list(TENDER_TYPES)}, amount=_INT,
                   brand=_TEXT, last4=_TEXT, auth_code=_TEXT, terminal_ref=_TEXT,
                   reference=_TEXT, approval_id=_TEXT))
    api("DELETE", _CART + "/tenders/{index}", remove_tender, permission="sell",
        summary="Remove a tender")
    api("POST", _CART + "/complete", complete, permission="sell",
        summary="Complete the sale; returns the sale and its receipt (approval_id: a discount"
                " approved again after the basket changed)",
        body=_body(note=_TEXT, approval_id=_TEXT))
    api("POST", "/api/v1/registers/{register_id}/no-sale", no_sale, permission="returns.request",
        summary="Open the drawer without a sale (manager approval)",
        body=_body("reason", reason=_TEXT, approval_id=_TEXT))

    api("GET", "/api/v1/sales", recent_sales, permission="sell", summary="Recent sales",
        query=("limit",))
    api("GET", "/api/v1/sales/{sale_id}", get_sale, permission="sell", summary="A sale")
    api("GET", "/api/v1/sales/{sale_id}/receipt", sale_receipt, permission="sell",
        summary="A sale's receipt layout (gift=1: the gift receipt)", query=("gift",))
    api("POST", "/api/v1/sales/{sale_id}/void", void_sale, permission="returns.request",
        summary="Void a sale (manager approval)",
        body=_body("register_id", "reason", register_id=_TEXT, reason=_TEXT,
                   approval_id=_TEXT))
    api("POST", "/api/v1/sales/{sale_id}/return", return_sale, permission="returns.request",
        summary="Return lines of a sale (manager approval)",
        body=_body("register_id", "reason", register_id=_TEXT, reason=_TEXT,
                   lines=_LINE_REFS, approval_id=_TEXT, refund_to=_TEXT))

    api("POST", "/api/v1/approvals", approve, permission=SIGNED_IN,
        summary="A manager's PIN approves one exact action", body={
            "type": "object", "required": ["action", "manager_id", "pin"],
            "properties": {"action": _OBJ, "manager_id": {"type": "string"},
                           "pin": {"type": "string"}}})
    api("GET", "/api/v1/approvals", list_approvals, permission="approvals.view",
        summary="Approvals and refusals", query=("limit",))

    api("GET", "/api/v1/staff", list_staff, permission="settings.view", summary="The staff roster")
    api("POST", "/api/v1/staff", enroll_staff, permission="staff.manage", summary="Enroll a staff member",
        body=_body("staff_id", "name", "role", "pin", staff_id=_TEXT, name=_TEXT,
                   role=_TEXT, pin=_TEXT))
    api("PATCH", "/api/v1/staff/{staff_id}", change_staff, permission="staff.manage",
        summary="Change a member's PIN, role or status",
        body=_body(pin=_TEXT, role=_TEXT,
                   status={"enum": ["active", "left"]}))
    api("GET", "/api/v1/settings", get_settings, permission="settings.view",
        summary="Registers, tax rates and sales settings")
    api("GET", "/api/v1/roles", list_roles, permission="settings.view",
        summary="The store's roles and what each may do")
    api("PUT", "/api/v1/roles/{role}", define_role, permission="roles.manage",
        summary="Set what a role may do (a new role, or a change to one)",
        body=_body("permissions", permissions={"type": "array", "items": _TEXT}))
