"""The JSON API under /api/v1: sign-in, pieces, clients, register carts, sales, approvals,
staff and settings. Handlers validate what they read, call the core services and answer
JSON; refusals become `{error, detail}` with a 4xx in the app's middleware."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from hub.core import fields
from hub.core.approvals import check_action
from hub.core.clients import PROFILE_FIELDS
from hub.core.errors import Invalid, Refused
from hub.core.fields import Form
from hub.core.items import CATEGORIES, INSPECTION_OUTCOMES, METALS, STATUSES
from hub.core.sales import TENDER_TYPES
from hub.core.staff import check_pin_format, check_staff_id
from hub.epc import EpcError, normalise_epc
from hub.ledger.journal import Entry
from hub.ledger.ledger import Tx
from hub.web.app import (
    APPROVALS,
    CARTS,
    LOCKOUT,
    RUNTIME,
    SESSION,
    SESSIONS,
    STAFF_KEY,
    json_response,
    read_json,
    session_of,
)
from hub.web.endpoints import ADMINS, ANYONE, MANAGERS, STAFF, ApiError, Endpoints
from hub.web.receipt import receipt_of
from hub.web.sessions import COOKIE

# -- helpers ------------------------------------------------------------------------------------


def _runtime(request: web.Request) -> Any:
    return request.app[RUNTIME]


def _store(request: web.Request) -> Any:
    return request.app[RUNTIME].store


def _q_int(request: web.Request, name: str, lo: int = 0, hi: int = 10**12) -> int | None:
    return fields.whole(request.query.get(name), name, lo=lo, hi=hi, from_text=True)


def _q_text(request: web.Request, name: str, max_len: int = 100) -> str | None:
    return fields.text(request.query.get(name), name, max_len=max_len)


def _q_choice(request: web.Request, name: str, choices: tuple[str, ...],
              vocabulary: str | None = None) -> str | None:
    return fields.choice(request.query.get(name), name, choices, vocabulary=vocabulary,
                         lower=False)


def _path_int(request: web.Request, name: str) -> int:
    return fields.whole(request.match_info[name], name, lo=0, hi=999_999, required=True,
                        from_text=True)


def _publish_cart(request: web.Request, cart: dict[str, Any], why: str) -> None:
    session = request.get(SESSION)
    _runtime(request).bus.publish("cart.changed", register_id=cart["register_id"], why=why,
                                  by=session.staff_id if session else None, cart=cart)


# -- sign-in ------------------------------------------------------------------------------------


async def sign_in(request: web.Request) -> web.Response:
    body = await read_json(request)
    staff_id = check_staff_id(body.get("staff_id"))
    pin = check_pin_format(body.get("pin"))
    register_id = body.get("register_id")
    runtime = _runtime(request)
    if register_id is not None:
        runtime.store.sales.check_register(register_id)
    member = await request.app[LOCKOUT].check_pin(request.app[STAFF_KEY], staff_id, pin,
                                                  via="sign_in")
    if member is None:
        raise ApiError(401, "signin_refused", "wrong staff id or PIN")
    sessions = request.app[SESSIONS]
    old = request.cookies.get(COOKIE)
    if old:
        sessions.end(old)  # a new session id at every sign-in: no fixation
    register_id = register_id or runtime.config.registers[0].id
    session = sessions.start(member.staff_id, member.name, member.role, register_id)
    response = json_response(_whoami(session))
    secure = not runtime.options.insecure_http
    response.set_cookie(COOKIE, session.sid, httponly=True, secure=secure, samesite="Strict",
                        path="/")
    return response


def _whoami(session: Any) -> dict[str, Any]:
    return {"staff_id": session.staff_id, "name": session.name, "role": session.role,
            "register_id": session.register_id, "csrf": session.csrf}


async def who_am_i(request: web.Request) -> web.Response:
    return json_response(_whoami(session_of(request)))


async def sign_out(request: web.Request) -> web.Response:
    request.app[SESSIONS].end(session_of(request).sid)
    response = json_response({"signed_out": True})
    response.del_cookie(COOKIE, path="/")
    return response


# -- pieces -------------------------------------------------------------------------------------

ITEM_QUERY = ("q", "category", "metal", "fineness", "stone", "designer", "price_min",
              "price_max", "location", "status", "limit", "offset")


def _search_text(value: Any) -> str | None:
    """The search box's words: any text (control characters become spaces), 100 at most."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise Invalid("this must be text", "q")
    if len(value) > 100:
        raise Invalid("this is longer than {max} characters", "q", max=100)
    return value


def search_filters(query: Any, prices: dict[str, int | None] | None = None) -> dict[str, Any]:
    """A stock search's filters from a query string, every problem at once. `prices` are
    the price bounds already read (the stock page reads what a person typed; the API takes
    minor units)."""
    f = Form(query, query=True)
    filters = {
        "text": f.check(_search_text, f.get("q")),
        "category": f.choice("category", CATEGORIES, vocabulary="category", lower=False),
        "metal": f.choice("metal", METALS, vocabulary="metal", lower=False),
        "fineness": f.whole("fineness", lo=1, hi=1000),
        "stone": f.text("stone", max_len=60),
        "designer": f.text("designer", max_len=120),
        "location": f.text("location", max_len=80),
        "status": f.choice("status", STATUSES, vocabulary="status", lower=False),
        "limit": f.whole("limit", lo=1, hi=500) or 50,
        "offset": f.whole("offset", lo=0, hi=10**7) or 0,
    }
    if prices is None:
        prices = {k: f.amount(k) for k in ("price_min", "price_max")}
    f.done()
    return {**filters, **prices}


async def search_items(request: web.Request) -> web.Response:
    """A page of pieces: `count` on this page, `total` matched in all (with
    `total_is_capped`, more than `total`), and `next_offset` for the next page or null."""
    found = await _store(request).items.search(**search_filters(request.query))
    return json_response({"items": found.items, "count": len(found.items), "total": found.total,
                          "total_is_capped": found.total_is_capped, "offset": found.offset,
                          "limit": found.limit, "next_offset": found.next_offset})


async def get_item(request: web.Request) -> web.Response:
    return json_response(await _store(request).items.get(request.match_info["item_id"]))


async def inspect_item(request: web.Request) -> web.Response:
    body = await read_json(request)
    piece = await _store(request).items.inspect(
        request.match_info["item_id"], body.get("outcome"), body.get("note"),
        actor=session_of(request).staff_id)
    return json_response(piece)


async def item_history(request: web.Request) -> web.Response:
    history = await _store(request).items.history(request.match_info["item_id"])
    return json_response({"history": [redact_entry(h) for h in history]})


def redact_entry(entry: dict[str, Any]) -> dict[str, Any]:
    """A history entry for a browser: client profiles never leave in it."""
    if entry["kind"].startswith(("client.", "staff.")):
        return {**entry, "payload": None}
    return entry


async def find_piece(store: Any, code: str) -> dict[str, Any] | None:
    """A scanned code: a serial, an EPC (hex or tag URI) or a SKU, in that order."""
    code = code.strip()
    if not code or len(code) > 100:
        return None
    try:
        return await store.items.get(code)
    except Refused:  # not a serial: try the next form
        pass
    try:
        piece = await store.items.by_epc(normalise_epc(code))
        if piece is not None:
            return piece
    except EpcError:
        pass
    # A SKU: a piece of that style in stock, else the last one sold or put aside, so the
    # register says "was already sold (R1-000042)" rather than "no piece".
    return await store.items.by_sku(code)


async def lookup(request: web.Request) -> web.Response:
    code = _q_text(request, "code") or ""
    piece = await find_piece(_store(request), code)
    if piece is None:
        raise ApiError(404, "not_found", "no piece with serial, tag or SKU “{code}”",
                       params={"code": code})
    return json_response(piece)


# -- clients ------------------------------------------------------------------------------------


async def search_clients(request: web.Request) -> web.Response:
    query = _q_text(request, "q") or ""
    limit = _q_int(request, "limit", 1, 100) or 20
    return json_response({"clients": await _store(request).clients.search(query, limit)})


async def create_client(request: web.Request) -> web.Response:
    body = await read_json(request)
    client = await _store(request).clients.create(body, actor=session_of(request).staff_id)
    return json_response(client, 201)


async def get_client(request: web.Request) -> web.Response:
    return json_response(await _store(request).clients.get(request.match_info["client_id"]))


async def update_client(request: web.Request) -> web.Response:
    body = await read_json(request)
    client = await _store(request).clients.update(request.match_info["client_id"], body,
                                                  actor=session_of(request).staff_id)
    return json_response(client)


async def client_sales(request: web.Request) -> web.Response:
    store = _store(request)
    client_id = request.match_info["client_id"]
    await store.clients.get(client_id)  # 404 for an unknown client
    return json_response({"sales": await store.sales.for_client(client_id)})


# -- register carts -----------------------------------------------------------------------------


def _register(request: web.Request) -> str:
    register_id = request.match_info["register_id"]
    _store(request).sales.check_register(register_id)
    return register_id


async def get_cart(request: web.Request) -> web.Response:
    return json_response(await request.app[CARTS].get(_register(request)))


async def clear_cart(request: web.Request) -> web.Response:
    cart = await request.app[CARTS].clear(_register(request))
    _publish_cart(request, cart, "cleared")
    return json_response(cart)


async def add_line(request: web.Request) -> web.Response:
    register_id = _register(request)
    body = await read_json(request)
    item_id, sku = body.get("item_id"), body.get("sku")
    if "code" in body:  # a typed or scanned code: resolve like the scanner does
        code = fields.text(body["code"], "code", required=True, max_len=100)
        piece = await find_piece(_store(request), code)
        if piece is None:
            raise ApiError(404, "not_found", "no piece with serial, tag or SKU “{code}”",
                           params={"code": code})
        item_id = piece["item_id"]
    cart = await request.app[CARTS].add(register_id, item_id=item_id, sku=sku,
                                        quantity=body.get("quantity", 1))
    _publish_cart(request, cart, "line_added")
    return json_response(cart)


async def remove_line(request: web.Request) -> web.Response:
    cart = await request.app[CARTS].remove(_register(request), _path_int(request, "line_no"))
    _publish_cart(request, cart, "line_removed")
    return json_response(cart)


async def set_price(request: web.Request) -> web.Response:
    body = await read_json(request)
    cart = await request.app[CARTS].set_price(
        _register(request), _path_int(request, "line_no"), body.get("unit_price"),
        approval_id=body.get("approval_id"), actor=session_of(request).staff_id)
    _publish_cart(request, cart, "price_changed")
    return json_response(cart)


async def attach_client(request: web.Request) -> web.Response:
    body = await read_json(request)
    cart = await request.app[CARTS].attach_client(_register(request), body.get("client_id"))
    _publish_cart(request, cart, "client_attached")
    return json_response(cart)


async def set_discount(request: web.Request) -> web.Response:
    body = await read_json(request)
    cart = await request.app[CARTS].set_discount(
        _register(request), body.get("amount"), percent_bp=body.get("percent_bp"),
        approval_id=body.get("approval_id"), actor=session_of(request).staff_id)
    _publish_cart(request, cart, "discount")
    return json_response(cart)


async def add_tender(request: web.Request) -> web.Response:
    body = await read_json(request)
    cart = await request.app[CARTS].add_tender(_register(request), body)
    _publish_cart(request, cart, "tender_added")
    return json_response(cart)


async def remove_tender(request: web.Request) -> web.Response:
    cart = await request.app[CARTS].remove_tender(_register(request),
                                                  _path_int(request, "index"))
    _publish_cart(request, cart, "tender_removed")
    return json_response(cart)


async def complete(request: web.Request) -> web.Response:
    register_id = _register(request)
    body = await read_json(request)
    carts = request.app[CARTS]
    sale_id = await carts.complete(register_id, actor=session_of(request).staff_id,
                                   note=body.get("note"), approval_id=body.get("approval_id"))
    sale = await _store(request).sales.get(sale_id)
    _publish_cart(request, await carts.get(register_id), "completed")
    return json_response({"sale": sale, "receipt": await receipt_of(_runtime(request), sale)}, 201)


async def no_sale(request: web.Request) -> web.Response:
    """Open the drawer without a sale: a manager approves it, the journal records it."""
    register_id = _register(request)
    body = await read_json(request)
    reason = fields.text(body.get("reason"), "reason", required=True, max_len=200)
    action = {"kind": "no_sale", "register_id": register_id, "reason": reason}
    seq = await request.app[APPROVALS].spend(body.get("approval_id"), action,
                                             actor=session_of(request).staff_id)
    devices = _runtime(request).services.get("devices")
    if devices is None:
        return json_response({"seq": seq, "drawer_opened": False,
                              "problem": _store(request).words.render(
                                  "no devices are running on this hub")})
    try:
        result = await devices.open_drawer(register_id)
    except Refused as exc:  # the printer that kicks the drawer is unplugged or busy
        return json_response({"seq": seq, "drawer_opened": False,
                              "problem": _store(request).words.refusal(exc)})
    return json_response({"seq": seq, "drawer_opened": bool(result.get("open"))})


# -- sales --------------------------------------------------------------------------------------


async def recent_sales(request: web.Request) -> web.Response:
    limit = _q_int(request, "limit", 1, 500) or 50
    return json_response({"sales": await _store(request).sales.recent(limit)})


async def get_sale(request: web.Request) -> web.Response:
    return json_response(await _store(request).sales.get(request.match_info["sale_id"]))


async def sale_receipt(request: web.Request) -> web.Response:
    sale = await _store(request).sales.get(request.match_info["sale_id"])
    return json_response(await receipt_of(_runtime(request), sale))


def _reason(body: dict[str, Any]) -> str:
    return fields.text(body.get("reason"), "reason", required=True, max_len=500, multiline=True)


async def _sale_request(request: web.Request) -> tuple[Any, dict[str, Any], dict[str, Any], str]:
    """The store, body, sale and register of a void or return request, checked."""
    store = _store(request)
    body = await read_json(request)
    sale = await store.sales.get(request.match_info["sale_id"])
    register_id = body.get("register_id")
    store.sales.check_register(register_id)
    return store, body, sale, register_id


async def _approved(request: web.Request, body: dict[str, Any], action: dict[str, Any],
                    record: Callable[[Tx, str, str | None], Entry]) -> web.Response:
    """Spend the manager's approval and record the change in one transaction, so the
    approval is used only if the change is recorded; answer with the new document. The
    change names the manager who approved it."""
    store = _store(request)
    actor = session_of(request).staff_id
    approvals = request.app[APPROVALS]

    def command(tx: Tx) -> Entry:
        approvals.spend_in(tx, body.get("approval_id"), action, actor=actor)
        return record(tx, actor, approvals.approver_in(tx, body.get("approval_id")))

    entry = await store.ledger.transact(command)
    return json_response(await store.sales.document(entry), 201)


async def void_sale(request: web.Request) -> web.Response:
    store, body, sale, register_id = await _sale_request(request)
    action = {"kind": "void", "sale_id": sale["sale_id"], "register_id": register_id,
              "amount": sale["total"], "reason": _reason(body)}
    return await _approved(request, body, action, lambda tx, actor, by: store.sales.void_in(
        tx, sale["sale_id"], register_id=register_id, actor=actor, reason=action["reason"],
        approved_by=by))


async def return_sale(request: web.Request) -> web.Response:
    store, body, sale, register_id = await _sale_request(request)
    lines = body.get("lines")
    if lines is not None and (not isinstance(lines, list) or len(lines) > 200):
        raise Invalid("choose the lines to return", "lines")
    action = {"kind": "return", "sale_id": sale["sale_id"], "register_id": register_id,
              "lines": lines, "reason": _reason(body)}
    return await _approved(request, body, action, lambda tx, actor, by: store.sales.return_in(
        tx, sale["sale_id"], register_id=register_id, actor=actor, reason=action["reason"],
        lines=lines, approved_by=by))


# -- approvals ----------------------------------------------------------------------------------


async def approve(request: web.Request) -> web.Response:
    """A manager types their id and PIN on the associate's screen, for this one action."""
    body = await read_json(request)
    action = check_action(body.get("action"))
    approval = await request.app[APPROVALS].decide(
        action, body.get("manager_id"), body.get("pin"),
        requested_by=session_of(request).staff_id)
    return json_response(approval, 201)


async def list_approvals(request: web.Request) -> web.Response:
    limit = _q_int(request, "limit", 1, 500) or 100
    return json_response({"approvals": await request.app[APPROVALS].recent(limit)})


# -- staff and settings -------------------------------------------------------------------------


def _member(m: Any) -> dict[str, Any]:
    return {"staff_id": m.staff_id, "name": m.name, "role": m.role, "status": m.status}


async def list_staff(request: web.Request) -> web.Response:
    return json_response({"staff": [_member(m) for m in request.app[STAFF_KEY].all()]})


async def enroll_staff(request: web.Request) -> web.Response:
    body = await read_json(request)
    member = await request.app[STAFF_KEY].enroll(
        body.get("staff_id"), body.get("name"), body.get("role"), body.get("pin"),
        actor=session_of(request).staff_id)
    return json_response(_member(member), 201)


async def change_staff(request: web.Request) -> web.Response:
    body = await read_json(request)
    extra = set(body) - {"pin", "role", "status"}
    if extra:
        raise Invalid("unknown field “{name}”", name=sorted(extra)[0])
    staff_id = request.match_info["staff_id"]
    member = await request.app[STAFF_KEY].change(
        staff_id, actor=session_of(request).staff_id, pin=body.get("pin"),
        role=body.get("role"), status=body.get("status"))
    if "role" in body or body.get("status") == "left":
        request.app[SESSIONS].end_for(staff_id)  # a changed role signs them in again
    return json_response(_member(member))


def settings_of(request: web.Request) -> dict[str, Any]:
    runtime = _runtime(request)
    config = runtime.config
    return {"store_id": config.store_id, "store_name": config.store_name,
            "currency": config.currency, "timezone": config.timezone,
            "registers": [{"id": r.id, "name": r.name} for r in config.registers],
            "tax_rates": [{"code": t.code, "name": t.name, "rate_bp": t.rate_bp}
                          for t in config.tax_rates],
            "prices_include_tax": config.prices_include_tax,
            "max_discount_pct": request.app[CARTS].max_discount_bp // 100}


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
    api("POST", "/api/v1/session", sign_in, roles=ANYONE, summary="Sign in with staff id and PIN",
        body={"type": "object", "required": ["staff_id", "pin"],
              "properties": {"staff_id": {"type": "string"}, "pin": {"type": "string"},
                             "register_id": {"type": "string"}}})
    api("GET", "/api/v1/session", who_am_i, roles=STAFF, summary="Who is signed in")
    api("DELETE", "/api/v1/session", sign_out, roles=STAFF, summary="Sign out")

    api("GET", "/api/v1/items", search_items, roles=STAFF, summary="Search pieces",
        query=ITEM_QUERY)
    api("GET", "/api/v1/lookup", lookup, roles=STAFF,
        summary="Find a piece by serial, EPC or SKU", query=("code",))
    api("GET", "/api/v1/items/{item_id}", get_item, roles=STAFF,
        summary="A piece with its stones and certificates")
    api("GET", "/api/v1/items/{item_id}/history", item_history, roles=STAFF,
        summary="Every journal entry that touched a piece")
    api("POST", "/api/v1/items/{item_id}/inspection", inspect_item, roles=MANAGERS,
        summary="Inspect a returned piece: back to stock, to repair, or written off",
        body=_body("outcome", outcome={"enum": list(INSPECTION_OUTCOMES)}, note=_TEXT))

    api("GET", "/api/v1/clients", search_clients, roles=STAFF, summary="Search the client book",
        query=("q", "limit"))
    api("POST", "/api/v1/clients", create_client, roles=STAFF, summary="Add a client",
        body=_PROFILE)
    api("GET", "/api/v1/clients/{client_id}", get_client, roles=STAFF,
        summary="A client's profile")
    api("PATCH", "/api/v1/clients/{client_id}", update_client, roles=STAFF,
        summary="Change a client's profile", body=_PROFILE)
    api("GET", "/api/v1/clients/{client_id}/sales", client_sales, roles=STAFF,
        summary="A client's purchase history")

    api("GET", _CART, get_cart, roles=STAFF, summary="A register's cart")
    api("DELETE", _CART, clear_cart, roles=STAFF, summary="Empty a register's cart")
    api("POST", _CART + "/lines", add_line, roles=STAFF,
        summary="Add a piece (item_id, or a scanned code) or a stock line (sku)",
        body=_body(item_id=_TEXT, code=_TEXT, sku=_TEXT, quantity=_INT))
    api("DELETE", _CART + "/lines/{line_no}", remove_line, roles=STAFF, summary="Remove a line")
    api("PUT", _CART + "/lines/{line_no}/price", set_price, roles=STAFF,
        summary="Change a line's price (manager approval)",
        body=_body("unit_price", unit_price=_INT, approval_id=_TEXT))
    api("PUT", _CART + "/client", attach_client, roles=STAFF,
        summary="Attach a client (or null)", body=_body(client_id=_ID_OR_NULL))
    api("PUT", _CART + "/discount", set_discount, roles=STAFF,
        summary="Discount the basket by an amount or a percentage (basis points; above the"
                " threshold: manager approval)",
        body=_body(amount=_INT, percent_bp=_INT, approval_id=_TEXT))
    api("POST", _CART + "/tenders", add_tender, roles=STAFF, summary="Take a tender",
        body=_body("type", "amount", type={"enum": list(TENDER_TYPES)}, amount=_INT,
                   brand=_TEXT, last4=_TEXT, auth_code=_TEXT, terminal_ref=_TEXT,
                   reference=_TEXT))
    api("DELETE", _CART + "/tenders/{index}", remove_tender, roles=STAFF,
        summary="Remove a tender")
    api("POST", _CART + "/complete", complete, roles=STAFF,
        summary="Complete the sale; returns the sale and its receipt (approval_id: a discount"
                " approved again after the basket changed)",
        body=_body(note=_TEXT, approval_id=_TEXT))
    api("POST", "/api/v1/registers/{register_id}/no-sale", no_sale, roles=STAFF,
        summary="Open the drawer without a sale (manager approval)",
        body=_body("reason", reason=_TEXT, approval_id=_TEXT))

    api("GET", "/api/v1/sales", recent_sales, roles=STAFF, summary="Recent sales",
        query=("limit",))
    api("GET", "/api/v1/sales/{sale_id}", get_sale, roles=STAFF, summary="A sale")
    api("GET", "/api/v1/sales/{sale_id}/receipt", sale_receipt, roles=STAFF,
        summary="A sale's receipt layout")
    api("POST", "/api/v1/sales/{sale_id}/void", void_sale, roles=STAFF,
        summary="Void a sale (manager approval)",
        body=_body("register_id", "reason", register_id=_TEXT, reason=_TEXT,
                   approval_id=_TEXT))
    api("POST", "/api/v1/sales/{sale_id}/return", return_sale, roles=STAFF,
        summary="Return lines of a sale (manager approval)",
        body=_body("register_id", "reason", register_id=_TEXT, reason=_TEXT,
                   lines=_LINE_REFS, approval_id=_TEXT))

    api("POST", "/api/v1/approvals", approve, roles=STAFF,
        summary="A manager's PIN approves one exact action", body={
            "type": "object", "required": ["action", "manager_id", "pin"],
            "properties": {"action": _OBJ, "manager_id": {"type": "string"},
                           "pin": {"type": "string"}}})
    api("GET", "/api/v1/approvals", list_approvals, roles=MANAGERS,
        summary="Approvals and refusals", query=("limit",))

    api("GET", "/api/v1/staff", list_staff, roles=MANAGERS, summary="The staff roster")
    api("POST", "/api/v1/staff", enroll_staff, roles=ADMINS, summary="Enroll a staff member",
        body=_body("staff_id", "name", "role", "pin", staff_id=_TEXT, name=_TEXT,
                   role={"enum": ["associate", "manager", "admin"]}, pin=_TEXT))
    api("PATCH", "/api/v1/staff/{staff_id}", change_staff, roles=ADMINS,
        summary="Change a member's PIN, role or status",
        body=_body(pin=_TEXT, role={"enum": ["associate", "manager", "admin"]},
                   status={"enum": ["active", "left"]}))
    api("GET", "/api/v1/settings", get_settings, roles=MANAGERS,
        summary="Registers, tax rates and sales settings")
