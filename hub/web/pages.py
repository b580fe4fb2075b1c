"""Server-rendered screens in the shared layout (Jinja2, autoescaped: client notes and item
descriptions are attacker-controlled text). The sales floor fills itself from the JSON API
with `static/loupe.js`; every other screen is plain HTML that works without it."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from aiohttp import web

from hub.core.clients import display_name
from hub.core.errors import Invalid, Refused
from hub.core.items import (
    CATEGORIES,
    INSPECTION_OUTCOMES,
    METALS,
    STATUSES,
    group_stones,
    search_filters,
)
from hub.money import MoneyError
from hub.store import Store
from hub.web.api import settings_of
from hub.web.client_profile import form_context, profile_view
from hub.web.kernel import (
    ENDPOINTS,
    PUBLIC,
    SESSION,
    ApiError,
    Endpoints,
    for_browser,
    may,
    piece_for_browser,
    render,
    runtime_of,
    store_of,
)
from hub.web.receipt import receipt_of
from hub.words import N_


def _store(request: web.Request) -> Store:
    return store_of(request)


async def home(request: web.Request) -> web.Response:
    """Where a person starts: the first screen of the menu their role may open (an
    associate's day when the clienteling layer runs, else the sales floor)."""
    if not request.get(SESSION):
        raise web.HTTPSeeOther("/signin")
    for entry in request.app[ENDPOINTS].nav:
        if may(request, entry.permission):
            raise web.HTTPSeeOther(entry.path)
    raise web.HTTPSeeOther("/floor")


async def sign_in_page(request: web.Request) -> web.Response:
    config = runtime_of(request).config
    return await render(request, "signin.html", {"registers": config.registers})


async def floor(request: web.Request) -> web.Response:
    config = runtime_of(request).config
    register_id = request.query.get("register") or request[SESSION].register_id
    if register_id not in {r.id for r in config.registers}:
        register_id = config.registers[0].id
    return await render(request, "floor.html", {
        "registers": config.registers, "register_id": register_id,
        "floor_panels": [p for p in request.app[ENDPOINTS].floor_panels
                         if may(request, p.permission)],
        "tender_types": ("cash", "card", "store_credit", "gift_card", "bank_transfer",
                         *sorted(set().union(*(e.tenders for e in
                                               runtime_of(request).store.sales.extensions))))})


async def stock(request: web.Request) -> web.Response:
    store = _store(request)
    found, problems, pages = None, [], {}
    prices, typed_wrong = _typed_prices(request)
    try:
        try:
            filters = search_filters(request.query, prices)
        except Invalid as exc:  # every wrong filter at once, the prices' with the others'
            raise Invalid.many(typed_wrong + exc.problems) from None
        if typed_wrong:
            raise Invalid.many(typed_wrong)
        found = await store.items.search(**filters)
    except Refused as exc:
        problems = store.words.problems(exc) or [{"field": "", "label": "",
                                                   "message": store.words.refusal(exc)}]
    if found is not None:
        # Previous / Next keep every filter of this page's URL and change only the offset.
        kept = [(k, v) for k, v in request.query.items() if k != "offset" and v != ""]
        if found.offset > 0:
            pages["previous"] = _with_offset(kept, max(0, found.offset - found.limit))
        if found.next_offset is not None:
            pages["next"] = _with_offset(kept, found.next_offset)
    return await render(request, "stock.html", {
        "found": found, "pages": pages,
        "items": [piece_for_browser(request, p) for p in found.items] if found else [],
        "filters": request.query, "problems": problems,
        "categories": CATEGORIES, "metals": METALS, "statuses": STATUSES})


def _typed_prices(request: web.Request) -> tuple[dict[str, int | None], list[Invalid]]:
    """The stock form's price bounds as a person types them (`3 000`, `1.500,50 €`), and
    what could not be read."""
    store = _store(request)
    prices: dict[str, int | None] = {}
    wrong = []
    for key in ("price_min", "price_max"):
        typed = (request.query.get(key) or "").strip()
        try:
            prices[key] = store.words.parse_amount(typed, store.config.currency) \
                if typed else None
        except MoneyError as exc:
            prices[key] = None
            wrong.append(Invalid(exc.message, key, **exc.params))
    return prices, wrong


def _with_offset(query: list[tuple[str, str]], offset: int) -> str:
    return "/items?" + urlencode(query + ([("offset", str(offset))] if offset else []))


async def item_page(request: web.Request) -> web.Response:
    store = _store(request)
    item = piece_for_browser(request, await store.items.get(request.match_info["item_id"]))
    entries = await store.items.history(item["item_id"])
    history = [for_browser(request, h) for h in entries]
    # The entries that re-priced it by HQ's rates (their payload stays off the browser).
    repriced = {h["seq"] for h in entries if h["kind"] == "rates.accepted" or (
        h["kind"] == "hq.message" and ((h["payload"] or {}).get("message") or {}).get("type")
        == "rates")}
    hold = store.holds.shown(await store.holds.of(item["item_id"]))  # on a tray: where
    return await render(request, "item.html", {
        "item": item, "history": history, "hold": hold,
        "inspection_outcomes": INSPECTION_OUTCOMES,
        "priced": store.prices.shown(item),  # by the gram: its rate, stale or not
        "repriced": repriced,
        "stone_groups": group_stones(item["stones"]),
        "can_inspect": may(request, "pieces.inspect")})


async def clients_page(request: web.Request) -> web.Response:
    query = request.query.get("q", "")[:100]
    clients = await _store(request).clients.search(query, 50) if query.strip() else []
    return await render(request, "clients.html", {"q": query, "clients": clients})


async def client_page(request: web.Request) -> web.Response:
    store = _store(request)
    client = await store.clients.get(request.match_info["client_id"])
    if client.get("merged_into"):  # an older record of her: her page is the kept one's
        raise web.HTTPSeeOther(f"/clients/{client['merged_into']}")
    sales = await store.sales.for_client(client["client_id"])
    summary = await store.client_summary(client["client_id"])
    panels = await request.app[ENDPOINTS].panels_of(request, client)  # the layers' sections
    today = datetime.now(store.words.tz).date()
    view = profile_view(store, client["profile"], today) if client["profile"] else None
    return await render(request, "client.html", {"client": client, "sales": sales,
                                                 "summary": summary, "panels": panels,
                                                 "view": view})


async def client_new_page(request: web.Request) -> web.Response:
    return await render(request, "client_form.html", await form_context(_store(request), None))


async def client_edit_page(request: web.Request) -> web.Response:
    store = _store(request)
    client = await store.clients.get(request.match_info["client_id"])
    if client["profile"] is None:
        raise ApiError(404, "not_found", "client {client_id} was erased",
                       params={"client_id": client["client_id"]})
    return await render(request, "client_form.html", await form_context(store, client))


async def sale_page(request: web.Request) -> web.Response:
    store = _store(request)
    sale = await store.sales.get(request.match_info["sale_id"])
    receipt = await receipt_of(store, sale)
    client_name = None
    if sale.get("client_id"):
        try:
            profile = (await store.clients.get(sale["client_id"]))["profile"]
            client_name = display_name(profile) if profile else None
        except Refused:
            client_name = None
    returnable = [ln for ln in sale["lines"] if ln["quantity"] > ln["returned_qty"]
                  and not ln.get("service")]  # a service (a gift card) only goes by a void
    config = runtime_of(request).config
    return await render(request, "sale.html", {
        "sale": sale, "receipt": receipt, "client_name": client_name,
        "returnable": returnable if sale["status"] != "voided" else [],
        "can_void": sale["status"] == "completed" and may(request, "returns.request"),
        "registers": config.registers, "register_id": request[SESSION].register_id})


async def approvals_page(request: web.Request) -> web.Response:
    return await render(request, "approvals.html",
                        {"approvals": await _store(request).approvals.recent(200)})


async def settings_page(request: web.Request) -> web.Response:
    staff = _store(request).staff
    return await render(request, "settings.html", {
        "settings": settings_of(request), "staff": staff.all(), "roles": staff.roles.all(),
        "permissions": list(staff.roles.permissions), "can_change_roles": may(request, "roles.manage")})


def setup(table: Endpoints) -> None:
    table.page("/", home, permission=PUBLIC, title=N_("Home"))
    table.page("/signin", sign_in_page, permission=PUBLIC, title=N_("Sign in"))
    table.page("/floor", floor, permission="sell", title=N_("Sales floor"), nav=True, order=10)
    table.page("/items", stock, permission="stock.view", title=N_("Stock"), nav=True, order=20)
    table.page("/items/{item_id}", item_page, permission="stock.view", title=N_("Piece"))
    table.page("/clients", clients_page, permission="clients.view", title=N_("Clients"),
               nav=True, order=30)
    # /clients/new before /clients/{client_id}: routes match in the order they are added.
    table.page("/clients/new", client_new_page, permission="clients.edit",
               title=N_("New client"))
    table.page("/clients/{client_id}", client_page, permission="clients.view",
               title=N_("Client"))
    table.page("/clients/{client_id}/edit", client_edit_page, permission="clients.edit",
               title=N_("Edit client"))
    table.page("/sales/{sale_id}", sale_page, permission="sell", title=N_("Sale and receipt"))
    table.page("/approvals", approvals_page, permission="approvals.view",
               title=N_("Approvals"), nav=True, order=80)
    table.page("/settings", settings_page, permission="settings.view", title=N_("Settings"),
               nav=True, order=90)
