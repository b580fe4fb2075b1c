"""Server-rendered screens in the shared layout (Jinja2, autoescaped: client notes and item
descriptions are attacker-controlled text). The sales floor fills itself from the JSON API
with `static/loupe.js`; every other screen is plain HTML that works without it."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import jinja2
from aiohttp import web

from hub.core.errors import Invalid, Refused
from hub.core.items import CATEGORIES, INSPECTION_OUTCOMES, METALS, STATUSES, group_stones
from hub.money import MoneyError
from hub.web.app import APPROVALS, RENDER, RUNTIME, SESSION, STAFF_KEY
from hub.web.endpoints import ANYONE, ENDPOINTS, MANAGERS, STAFF, ApiError, Endpoints
from hub.words import N_

TEMPLATES = web.AppKey("templates", jinja2.Environment)


def setup_templates(app: web.Application, table: Endpoints) -> None:
    runtime = app[RUNTIME]
    words = runtime.store.words
    loaders = [jinja2.PackageLoader("hub.web", "templates")]
    loaders += [jinja2.PackageLoader(pkg, folder) for pkg, folder in table.template_packages]
    env = jinja2.Environment(loader=jinja2.ChoiceLoader(loaders), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True,
                             undefined=jinja2.StrictUndefined, extensions=["jinja2.ext.i18n"])
    # One language per store: the store's catalogue, installed once.
    env.install_gettext_translations(words.translations, newstyle=True)  # type: ignore[attr-defined]
    env.filters["money"] = lambda amount, cur=None: words.money(amount, cur or
                                                                runtime.config.currency)
    env.filters["carat"] = words.carats
    env.filters["grams"] = words.grams
    env.filters["when"] = words.when
    env.filters["day"] = words.day
    env.filters["number"] = lambda n: "" if n is None else words.number(n)
    env.filters["percent"] = words.percent
    env.filters["term"] = lambda value, vocabulary: words.term(vocabulary, value)
    env.filters["field"] = words.field_label
    env.filters["actor"] = lambda actor: words.actor(actor, _staff_names(app))
    env.globals["static"] = lambda name: str(
        app.router["static"].url_for(filename=name).with_query(
            {"v": _static_version(app, name)}))
    env.globals["lang"] = words.tag
    env.globals["words_bundle"] = words.js_bundle((runtime.config.currency,))
    app[TEMPLATES] = env
    app[RENDER] = render_page


def _staff_names(app: web.Application) -> dict[str, str]:
    return {m.staff_id: m.name for m in app[STAFF_KEY].all()}


def _static_version(app: web.Application, name: str) -> str:
    from hub.web.app import STATIC

    try:
        return str(int((STATIC / name).stat().st_mtime))
    except OSError:
        return "0"


async def render_page(request: web.Request, template: str, context: dict[str, Any],
                      status: int = 200) -> web.Response:
    app = request.app
    session = request.get(SESSION)
    runtime = app[RUNTIME]
    nav = [n for n in app[ENDPOINTS].nav if session and (not n.roles or session.role in n.roles)]
    base = {"session": session, "nav": nav, "path": request.path,
            "store_name": runtime.config.store_name, "currency": runtime.config.currency,
            "demo": runtime.options.demo}
    html = app[TEMPLATES].get_template(template).render({**base, **context})
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")


def _store(request: web.Request) -> Any:
    return request.app[RUNTIME].store


async def home(request: web.Request) -> web.Response:
    raise web.HTTPSeeOther("/floor" if request.get(SESSION) else "/signin")


async def sign_in_page(request: web.Request) -> web.Response:
    config = request.app[RUNTIME].config
    return await render_page(request, "signin.html", {"registers": config.registers})


async def floor(request: web.Request) -> web.Response:
    config = request.app[RUNTIME].config
    register_id = request.query.get("register") or request[SESSION].register_id
    if register_id not in {r.id for r in config.registers}:
        register_id = config.registers[0].id
    return await render_page(request, "floor.html", {
        "registers": config.registers, "register_id": register_id,
        "tender_types": ("cash", "card", "store_credit", "gift_card", "bank_transfer")})


async def stock(request: web.Request) -> web.Response:
    from hub.web.api import search_filters

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
    return await render_page(request, "stock.html", {
        "found": found, "items": found.items if found else [], "pages": pages,
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
    from hub.web.api import redact_entry

    store = _store(request)
    item = await store.items.get(request.match_info["item_id"])
    history = [redact_entry(h) for h in await store.items.history(item["item_id"])]
    return await render_page(request, "item.html", {
        "item": item, "history": history, "inspection_outcomes": INSPECTION_OUTCOMES,
        "stone_groups": group_stones(item["stones"]),
        "can_inspect": request[SESSION].role in MANAGERS})


async def clients_page(request: web.Request) -> web.Response:
    query = request.query.get("q", "")[:100]
    clients = await _store(request).clients.search(query, 50) if query.strip() else []
    return await render_page(request, "clients.html", {"q": query, "clients": clients})


async def client_page(request: web.Request) -> web.Response:
    store = _store(request)
    client = await store.clients.get(request.match_info["client_id"])
    sales = await store.sales.for_client(client["client_id"])
    return await render_page(request, "client.html", {"client": client, "sales": sales})


# The fingers a ring size is usually kept for (the form offers them; any label is accepted).
FINGERS = (N_("left ring"), N_("right ring"), N_("left middle"), N_("right middle"),
           N_("left index"), N_("right index"), N_("left little"), N_("right little"),
           N_("thumb"))


def _form_profile(profile: dict[str, Any] | None) -> dict[str, Any]:
    """What the client form shows: the profile's fields, with empty ones for a new client."""
    p = profile or {}
    sizes = list((p.get("ring_sizes") or {}).items())
    return {
        "title": p.get("title") or "", "first_name": p.get("first_name") or "",
        "last_name": p.get("last_name") or "",
        "emails": "\n".join(p.get("emails") or []),
        "phones": "\n".join(p.get("phones") or []),
        "address": (p.get("addresses") or [{}])[0],
        # Two empty rows under the sizes already known, so a new finger needs no extra step.
        "ring_sizes": sizes + [("", "")] * 2,
        "birthday": (p.get("dates") or {}).get("birthday") or "",
        "anniversary": (p.get("dates") or {}).get("anniversary") or "",
        "designers": "\n".join((p.get("preferences") or {}).get("designers") or []),
        "notes": p.get("notes") or "",
        "marketing": bool((p.get("consent") or {}).get("marketing")),
    }


async def client_new_page(request: web.Request) -> web.Response:
    return await render_page(request, "client_form.html", {
        "client": None, "form": _form_profile(None), "fingers": FINGERS})


async def client_edit_page(request: web.Request) -> web.Response:
    client = await _store(request).clients.get(request.match_info["client_id"])
    if client["profile"] is None:
        raise ApiError(404, "not_found", "client {client_id} was erased",
                       params={"client_id": client["client_id"]})
    return await render_page(request, "client_form.html", {
        "client": client, "form": _form_profile(client["profile"]), "fingers": FINGERS})


async def sale_page(request: web.Request) -> web.Response:
    from hub.core.clients import display_name
    from hub.web.receipt import receipt_of

    store = _store(request)
    sale = await store.sales.get(request.match_info["sale_id"])
    receipt = await receipt_of(request.app[RUNTIME], sale)
    client_name = None
    if sale.get("client_id"):
        try:
            profile = (await store.clients.get(sale["client_id"]))["profile"]
            client_name = display_name(profile) if profile else None
        except Refused:
            client_name = None
    returnable = [ln for ln in sale["lines"] if ln["quantity"] > ln["returned_qty"]]
    config = request.app[RUNTIME].config
    return await render_page(request, "sale.html", {
        "sale": sale, "receipt": receipt, "client_name": client_name,
        "returnable": returnable if sale["status"] != "voided" else [],
        "can_void": sale["status"] == "completed",
        "registers": config.registers, "register_id": request[SESSION].register_id})


async def approvals_page(request: web.Request) -> web.Response:
    return await render_page(request, "approvals.html",
                             {"approvals": await request.app[APPROVALS].recent(200)})


async def settings_page(request: web.Request) -> web.Response:
    from hub.web.api import settings_of

    return await render_page(request, "settings.html", {
        "settings": settings_of(request), "staff": request.app[STAFF_KEY].all()})


def setup(table: Endpoints) -> None:
    table.page("/", home, roles=ANYONE, title=N_("Home"))
    table.page("/signin", sign_in_page, roles=ANYONE, title=N_("Sign in"))
    table.page("/floor", floor, roles=STAFF, title=N_("Sales floor"), nav=True, order=10)
    table.page("/items", stock, roles=STAFF, title=N_("Stock"), nav=True, order=20)
    table.page("/items/{item_id}", item_page, roles=STAFF, title=N_("Piece"))
    table.page("/clients", clients_page, roles=STAFF, title=N_("Clients"), nav=True, order=30)
    # /clients/new before /clients/{client_id}: routes match in the order they are added.
    table.page("/clients/new", client_new_page, roles=STAFF, title=N_("New client"))
    table.page("/clients/{client_id}", client_page, roles=STAFF, title=N_("Client"))
    table.page("/clients/{client_id}/edit", client_edit_page, roles=STAFF,
               title=N_("Edit client"))
    table.page("/sales/{sale_id}", sale_page, roles=STAFF, title=N_("Sale and receipt"))
    table.page("/approvals", approvals_page, roles=MANAGERS, title=N_("Approvals"), nav=True,
               order=80)
    table.page("/settings", settings_page, roles=MANAGERS, title=N_("Settings"), nav=True,
               order=90)
