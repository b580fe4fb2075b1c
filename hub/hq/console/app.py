"""HQ's console: an aiohttp app of server-rendered pages for the chain's people (owners,
merchandisers, auditors), served in the receiver's process by `loupe hq run --web`.

Every route names a permission of `hub.hq.console.auth.MATRIX`; the middleware checks it
against the signed-in role, the CSRF token on every POST, and turns every refusal or fault
into a page with a sentence. All storage reads go through `Console.call` (HQ's storage
thread), and what the console publishes goes through the receiver's MQTT client.

Other parts of HQ mount on the same app: `create_app(console, setups=[shop.setup])` calls
each `setup(app, console)`; a setup names each of its routes' permission with `permit`
(a route without one is refused), `auth.PUBLIC` for an API with its own checks.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import ssl
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import aiomqtt
import jinja2
from aiohttp import web

from hub.hq import clients as hq_clients
from hub.hq import transfers
from hub.hq.console import part, reads
from hub.hq.console.auth import MATRIX, PUBLIC, ROLE_WORDS, allows
from hub.sync.tls import write_secret
from hub.sync.wire import WireError
from hub.web.sessions import Session, Sessions
from hub.words import N_, Words, labels

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
COOKIE = "loupe_hq_session"
PRE_COOKIE = "loupe_hq_signin"  # the sign-in form's own CSRF token, before any session
SERVER_NAME = "Loupe HQ"
MAX_FORM = 16 * 1024

CONSOLE: web.AppKey[Console] = web.AppKey("console")
PERMITS: web.AppKey[dict[Any, str]] = web.AppKey("permits")
SESSIONS: web.AppKey[Sessions] = web.AppKey("sessions")
TEMPLATES: web.AppKey[jinja2.Environment] = web.AppKey("templates")
SESSION: web.RequestKey[Session | None] = web.RequestKey("session")
FORM: web.RequestKey[dict[str, str]] = web.RequestKey("form")
FAILURES: web.AppKey[dict[str, tuple[int, float]]] = web.AppKey("failures")
MAX_FAILURES = 5  # wrong passwords in a row for one name before it waits LOCKOUT_S
LOCKOUT_S = 300.0

_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'none'; style-src 'self';"
                               " img-src 'self' data:; object-src 'none'; base-uri 'none';"
                               " frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY", "Cache-Control": "no-store",
}

# Why a request was refused, in a sentence (each permission has its own).
REFUSED = {
    "stores.view": N_("Your role may not see the stores."),
    "stores.verify": N_("Your role may not check a store's chain."),
    "stock.view": N_("Your role may not see the stock."),
    "clients.view": N_("Your role may not see clients."),
    "clients.personal": N_("Your role may not see a client's personal details."),
    "clients.merge": N_("Your role may not merge or dismiss client matches."),
    "sales.view": N_("Your role may not see sales."),
    "conflicts.view": N_("Your role may not see conflicts."),
    "conflicts.resolve": N_("Your role may not resolve conflicts."),
    "messages.view": N_("Your role may not see head office's messages."),
    "transit.view": N_("Your role may not see transfers."),
    "transit.request": N_("Your role may not ask for transfers."),
}
_STATUS_SENTENCES = {400: N_("This request could not be read."),
                     404: N_("There is no such page."),
                     405: N_("This page cannot be opened that way."),
                     413: N_("What was sent is too large.")}
RESOLUTION_WORDS = {"corrected": N_("Corrected at the store"),
                    "accepted": N_("Accepted as it is"),
                    "written_off": N_("Written off"), "no_action": N_("No action needed")}
MATCH_REASON = {"email": N_("Same e-mail address"), "phone": N_("Same phone number"),
                "email+phone": N_("Same e-mail address and phone number")}
MATCH_STATUS = {"proposed": N_("Proposed"), "merged": N_("Merged"),
                "dismissed": N_("Dismissed")}
DELIVERY_STATUS = {"sent": N_("Sent"), "applied": N_("Applied"),
                   "conflict": N_("In conflict"), "refused": N_("Refused by the store")}
CLIENT_STATUS = {"active": N_("Active"), "forgotten": N_("Erased at her request")}
MESSAGE_TYPE = {"metal_rates": N_("Metal rates"), "price": N_("Price change"),
                "promotion": N_("Promotion"), "exchange_rates": N_("Exchange rates"),
                "reservation": N_("Reservation"), "transfer_request": N_("Transfer request"),
                "transfer_settled": N_("Transfer settled"), "online_order": N_("Online order"),
                "online_order_cancelled": N_("Online order cancelled"),
                "reservation_cancelled": N_("Reservation cancelled")}
HQ_ORDER_STATUS = {"sent": N_("Sent to the store"), "to_ship": N_("To pack and ship"),
                   "shipped": N_("Shipped"), "cancelled": N_("Cancelled online"),
                   "conflict": N_("In conflict: the piece was not free")}
CONFLICT_KIND = {"reserved_piece_sold": N_("A piece reserved online was sold"),
                 "shop_unavailable": N_("Asked for online, not free at the store"),
                 "transfer_misdelivered": N_("Received at the wrong store"),
                 "transfer_overdue": N_("Transfer not received in time")}
NAV = (("/stores", N_("Stores"), "stores.view"), ("/stock", N_("Stock"), "stock.view"),
       ("/clients", N_("Clients"), "clients.view"), ("/sales", N_("Sales"), "sales.view"),
       ("/conflicts", N_("Conflicts"), "conflicts.view"),
       ("/messages", N_("Messages"), "messages.view"),
       ("/transit", N_("In transit"), "transit.view"), ("/reports", N_("Reports"), "sales.view"))


class Refusal(Exception):
    """A request refused with a sentence (already in words)."""

    def __init__(self, status: int, sentence: str) -> None:
        super().__init__(sentence)
        self.status = status
        self.sentence = sentence


@dataclass
class Console:
    """What the console's app gets: HQ, a way to run on HQ's storage thread, a way to
    publish HQ's signed messages, and the words it shows."""

    hq: Any  # hub.sync.hq.HQ
    call: Callable[..., Awaitable[Any]]
    publish: Callable[[list[tuple[str, bytes]]], Awaitable[None]]
    words: Words

    @classmethod
    def of_receiver(cls, receiver: Any, words: Words) -> Console:
        async def publish(messages: list[tuple[str, bytes]]) -> None:
            client = receiver.client
            if client is None:
                raise Refusal(503, words._("Head office is not connected to the broker just"
                                           " now: nothing was sent. Try again in a moment."))
            try:
                for name, payload in messages:
                    await client.publish(name, payload, qos=1)
            except aiomqtt.MqttError:
                raise Refusal(503, words._(
                    "Head office lost the broker while sending: the decision is recorded;"
                    " the messages page shows what reached each store.")) from None

        return cls(receiver.hq, receiver._call, publish, words)


Setup = Callable[[web.Application, Console], None]


def permit(app: web.Application, route: Any, permission: str) -> None:
    """Name the permission a route needs (`auth.PUBLIC` for none)."""
    if permission != PUBLIC and permission not in MATRIX:
        raise ValueError(f"unknown console permission {permission!r}")
    app[PERMITS][route] = permission


# -- middleware -----------------------------------------------------------------------------

def _session(request: web.Request) -> Session | None:
    return request.get(SESSION)


async def _page_error(request: web.Request, status: int, sentence: str) -> web.Response:
    return render_page(request, "error.html", {"sentence": sentence}, status=status)


@web.middleware
async def guard(request: web.Request, handler: Callable[..., Awaitable[web.StreamResponse]]
                ) -> web.StreamResponse:
    console = request.app[CONSOLE]
    _ = console.words._
    try:
        permission = request.app[PERMITS].get(request.match_info.route)
        if permission is None:
            missing = getattr(request.match_info, "http_exception", None)
            if isinstance(missing, web.HTTPException):  # no such page, or wrong method
                raise missing
            raise Refusal(403, _("You may not open this page."))
        session = request.app[SESSIONS].get(request.cookies.get(COOKIE))
        if session is not None and not await console.call(part.still_allowed,
                                                          console.hq.storage, session.name):
            request.app[SESSIONS].end(session.sid)
            session = None
        request[SESSION] = session
        if permission != PUBLIC:
            if session is None:
                if request.method == "GET":
                    raise web.HTTPSeeOther("/signin")
                raise Refusal(401, _("Please sign in first: nothing was changed."))
            if not allows(session.role, permission):
                raise Refusal(403, _(REFUSED[permission]))
            if request.method == "POST":
                form = await _form(request)
                if not hmac.compare_digest(str(form.get("csrf", "")), session.csrf):
                    raise Refusal(403, _("This form is out of date or was not sent from the"
                                         " console: nothing was changed. Open the page again."))
        return await handler(request)
    except web.HTTPRedirection:
        raise
    except Refusal as exc:
        return await _page_error(request, exc.status, exc.sentence)
    except web.HTTPException as exc:
        sentence = _STATUS_SENTENCES.get(exc.status, N_("This request could not be handled."))
        return await _page_error(request, exc.status, _(sentence))
    except Exception:  # never a stack trace on a page; the log has it
        log.exception("the HQ console failed on a request", extra={"path": request.path})
        return await _page_error(request, 500, _("Something went wrong at head office:"
                                                 " nothing was changed. Try again."))


async def _form(request: web.Request) -> dict[str, str]:
    if FORM not in request:
        if (request.content_length or 0) > MAX_FORM:
            raise Refusal(413, request.app[CONSOLE].words._("What was sent is too large."))
        data = await request.post()
        request[FORM] = {k: v for k, v in data.items() if isinstance(v, str)}
    return request[FORM]


async def _headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.update(_HEADERS)
    response.headers["Server"] = SERVER_NAME
    if request.secure:
        response.headers["Strict-Transport-Security"] = "max-age=31536000"


# -- rendering ------------------------------------------------------------------------------

def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"),
                              autoescape=True, undefined=jinja2.StrictUndefined,
                              trim_blocks=True, lstrip_blocks=True)


def render_page(request: web.Request, template: str, context: dict[str, Any],
            status: int = 200) -> web.Response:
    console = request.app[CONSOLE]
    w = console.words
    session = _session(request)
    role = session.role if session else None

    def seconds(n: int | None) -> str:
        if n is None:
            return ""
        sign, n = ("-" if n < 0 else ""), abs(n)
        if n < 120:
            return sign + w.ngettext("%(n)s second", "%(n)s seconds", n) % {"n": w.number(n)}
        if n < 7200:
            m = n // 60
            return sign + w.ngettext("%(n)s minute", "%(n)s minutes", m) % {"n": w.number(m)}
        h = n // 3600
        return sign + w.ngettext("%(n)s hour", "%(n)s hours", h) % {"n": w.number(h)}

    page = request.app[TEMPLATES].get_template(template).render(
        _=w._, w=w, session=session, role_word=w._(ROLE_WORDS[role]) if role else "",
        may=lambda p: allows(role, p), seconds=seconds, path=request.path,
        nav=[(href, w._(label)) for href, label, p in NAV if allows(role, p)],
        words_of=lambda table, code: w._(table[code]) if code in table else
        str(code or "").replace("_", " "), labels=labels, **context)
    return web.Response(text=page, status=status, content_type="text/html", charset="utf-8")


# -- pages ----------------------------------------------------------------------------------

async def signin_page(request: web.Request) -> web.Response:
    token = secrets.token_urlsafe(24)
    response = render_page(request, "signin.html", {"pre": token, "problem": None})
    response.set_cookie(PRE_COOKIE, token, httponly=True, secure=True, samesite="Strict",
                        path="/signin")
    return response


async def signin(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE]
    _ = console.words._
    form = await _form(request)
    pre = request.cookies.get(PRE_COOKIE, "")
    if not pre or not hmac.compare_digest(str(form.get("pre", "")), pre):
        raise Refusal(403, _("This sign-in form is out of date: open the page again."))
    name, password = form.get("name", "")[:40], form.get("password", "")[:200]
    failures = request.app[FAILURES]
    count, since = failures.get(name, (0, 0.0))
    if count >= MAX_FAILURES and time.monotonic() - since < LOCKOUT_S:
        raise Refusal(429, _("Too many wrong passwords for this name: wait a few minutes"
                             " and try again."))
    who = await console.call(part.sign_in, console.hq.storage, name, password)
    if who is None:
        failures[name] = (count + 1 if count < MAX_FAILURES else 1, time.monotonic())
        response = render_page(request, "signin.html", {
            "pre": pre, "problem": _("That name and password do not match an active member"
                                     " of the console's staff.")}, status=401)
        return response
    failures.pop(name, None)
    old = _session(request)
    if old is not None:
        request.app[SESSIONS].end(old.sid)
    session = request.app[SESSIONS].start(who["name"], who["name"], who["role"], None)
    response = web.HTTPSeeOther("/stores")
    response.set_cookie(COOKIE, session.sid, httponly=True, secure=True, samesite="Strict",
                        path="/")
    response.del_cookie(PRE_COOKIE, path="/signin")
    log.info("console sign-in", extra={"staff": who["name"], "role": who["role"]})
    raise response


async def signout(request: web.Request) -> web.StreamResponse:
    session = _session(request)
    if session is not None:
        form = await _form(request)
        if not hmac.compare_digest(str(form.get("csrf", "")), session.csrf):
            raise Refusal(403, request.app[CONSOLE].words._(
                "This form is out of date or was not sent from the console: nothing was"
                " changed. Open the page again."))
        request.app[SESSIONS].end(session.sid)
    response = web.HTTPSeeOther("/signin")
    response.del_cookie(COOKIE, path="/")
    raise response


async def home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPSeeOther("/stores" if _session(request) else "/signin")


async def stores_page(request: web.Request) -> web.Response:
    console = request.app[CONSOLE]
    rows = await console.call(reads.stores, console.hq.storage)
    return render_page(request, "stores.html", {"stores": rows})


async def verify_store(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE]
    store_id = request.match_info["store_id"]
    try:
        await console.call(reads.verify, console.hq, store_id)
    except (LookupError, WireError):
        raise Refusal(404, console.words._("There is no enrolled store by that name.")) from None
    raise web.HTTPSeeOther("/stores")


async def stock_page(request: web.Request) -> web.Response:
    console = request.app[CONSOLE]
    q = request.query.get("q", "")[:200]
    rows = await console.call(reads.stock_search, console.hq.storage, q,
                              console.words.search_synonyms()) if q.strip() else []
    stores = sorted({r["store_id"] for r in rows})
    return render_page(request, "stock.html", {"q": q, "rows": rows, "stores": stores})


async def clients_page(request: web.Request) -> web.Response:
    console = request.app[CONSOLE]
    storage = console.hq.storage
    rows = await console.call(reads.clients, storage)
    proposals = await console.call(reads.proposals, storage)
    return render_page(request, "clients.html", {
        "clients": rows, "proposals": proposals, "match_reasons": MATCH_REASON,
        "match_statuses": MATCH_STATUS, "client_statuses": CLIENT_STATUS})


async def client_page(request: web.Request) -> web.Response:
    console = request.app[CONSOLE]
    store_id, client_id = request.match_info["store_id"], request.match_info["client_id"]
    history = await console.call(reads.client_history, console.hq.storage, store_id,
                                 client_id)
    profile = None
    session = _session(request)
    if session is not None and allows(session.role, "clients.personal"):
        # Decrypted here, in memory, for this page only: never stored or logged.
        profile = await console.call(console.hq.client_profile, store_id, client_id)
    if not history and profile is None:
        raise Refusal(404, console.words._("Head office has no such client."))
    shown = []
    for k, v in (profile or {}).items():  # her details as text; nested records left out
        if isinstance(v, list) and all(isinstance(x, str) for x in v):
            v = ", ".join(v)
        if isinstance(v, str | int) and not isinstance(v, bool) and v != "":
            shown.append((k, v))
    return render_page(request, "client.html", {"store_id": store_id, "client_id": client_id,
                                            "history": history, "profile": shown})


async def _match_action(request: web.Request, action: str) -> web.StreamResponse:
    console = request.app[CONSOLE]
    _ = console.words._
    match_id = (await _form(request)).get("match_id", "")[:100]
    actor = _session(request).name  # type: ignore[union-attr]
    try:
        if action == "merge":
            messages = await console.call(hq_clients.merge, console.hq, match_id, actor)
            await console.publish(messages)
        else:
            await console.call(hq_clients.dismiss, console.hq.storage, match_id, actor)
    except (KeyError, LookupError, ValueError, WireError) as exc:
        raise Refusal(409, _("This match could not be changed: %(why)s") % {"why": str(exc)}) from None
    raise web.HTTPSeeOther("/clients")


async def merge_clients(request: web.Request) -> web.StreamResponse:
    return await _match_action(request, "merge")


async def dismiss_clients(request: web.Request) -> web.StreamResponse:
    return await _match_action(request, "dismiss")


def _day(text: str | None) -> date:
    if not text:
        return datetime.now(UTC).date()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Refusal(400, "") from None


async def sales_page(request: web.Request) -> web.Response:
    console = request.app[CONSOLE]
    try:
        day = _day(request.query.get("day"))
    except Refusal:
        raise Refusal(400, console.words._("That is not a date: pick a day from the"
                                           " calendar.")) from None
    rows = await console.call(reads.sales_by_day, console.hq.storage, day.isoformat())
    totals: dict[str, list[int]] = {}
    for r in rows:
        t = totals.setdefault(r["currency"], [0, 0])
        t[0] += r["sales"] or 0
        t[1] += r["total"] or 0
    return render_page(request, "sales.html", {"day": day.isoformat(), "rows": rows,
                                           "totals": sorted(totals.items())})


async def conflicts_page(request: web.Request) -> web.Response:
    console = request.app[CONSOLE]
    rows = await console.call(reads.conflicts, console.hq.storage)
    return render_page(request, "conflicts.html", {
        "conflicts": rows, "kinds": CONFLICT_KIND, "resolutions": RESOLUTION_WORDS})


async def resolve_conflict(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE]
    form = await _form(request)
    try:
        conflict_id = int(request.match_info["conflict_id"])
        await console.call(part.resolve_conflict, console.hq.storage, conflict_id,
                           form.get("resolution", ""), form.get("note", ""),
                           _session(request).name)  # type: ignore[union-attr]
    except part.StaffError as exc:
        raise Refusal(409, console.words._(_RESOLVE_SENTENCES.get(str(exc), str(exc)))) from None
    except ValueError:
        raise Refusal(404, console.words._("There is no such conflict.")) from None
    raise web.HTTPSeeOther("/conflicts")


# The part's refusals, as words to translate.
_RESOLVE_SENTENCES = {"choose one of the resolutions offered":
                      N_("Choose one of the resolutions offered: nothing was recorded."),
                      "the note is longer than 500 characters":
                      N_("The note is longer than 500 characters: nothing was recorded."),
                      "there is no such conflict": N_("There is no such conflict."),
                      "this conflict is already resolved":
                      N_("This conflict is already resolved: nothing was changed.")}


async def messages_page(request: web.Request) -> web.Response:
    console = request.app[CONSOLE]
    data = await console.call(reads.messages, console.hq.storage)
    return render_page(request, "messages.html", {**data, "types": MESSAGE_TYPE,
                                              "statuses": DELIVERY_STATUS})


async def transit_page(request: web.Request) -> web.Response:
    console = request.app[CONSOLE]
    data = await console.call(reads.in_transit, console.hq.storage)
    return render_page(request, "transit.html", {**data, "order_status": HQ_ORDER_STATUS})


async def request_transfer(request: web.Request) -> web.StreamResponse:
    """Head office asks a store to send one of its pieces to another."""
    console = request.app[CONSOLE]
    form = await _form(request)
    item_id, from_store, to_store = (form.get(k, "").strip()[:60] for k in (
        "item_id", "from_store", "to_store"))
    if not (item_id and from_store and to_store):
        raise Refusal(400, console.words._("Name the piece, the store that sends it and the"
                                           " store that receives it: nothing was asked."))
    try:
        _, messages = await console.call(transfers.request, console.hq, item_id, from_store,
                                         to_store, _session(request).name)  # type: ignore[union-attr]
    except WireError as exc:
        raise Refusal(409, console.words._("This transfer could not be asked for: %(why)s")
                      % {"why": str(exc)}) from None
    await console.publish(messages)
    raise web.HTTPSeeOther("/transit")


async def stylesheet(request: web.Request) -> web.FileResponse:
    return web.FileResponse(HERE / "static" / "console.css",
                            headers={"Content-Type": "text/css"})


ROUTES: tuple[tuple[str, str, Callable[..., Awaitable[web.StreamResponse]], str], ...] = (
    ("GET", "/", home, PUBLIC),
    ("GET", "/signin", signin_page, PUBLIC),
    ("POST", "/signin", signin, PUBLIC),
    ("POST", "/signout", signout, PUBLIC),
    ("GET", "/console.css", stylesheet, PUBLIC),
    ("GET", "/stores", stores_page, "stores.view"),
    ("POST", "/stores/{store_id}/verify", verify_store, "stores.verify"),
    ("GET", "/stock", stock_page, "stock.view"),
    ("GET", "/clients", clients_page, "clients.view"),
    ("GET", "/clients/{store_id}/{client_id}", client_page, "clients.view"),
    ("POST", "/clients/merge", merge_clients, "clients.merge"),
    ("POST", "/clients/dismiss", dismiss_clients, "clients.merge"),
    ("GET", "/sales", sales_page, "sales.view"),
    ("GET", "/conflicts", conflicts_page, "conflicts.view"),
    ("POST", "/conflicts/{conflict_id}/resolve", resolve_conflict, "conflicts.resolve"),
    ("GET", "/messages", messages_page, "messages.view"),
    ("GET", "/transit", transit_page, "transit.view"),
    ("POST", "/transit/request", request_transfer, "transit.request"),
)


def create_app(console: Console, setups: Iterable[Setup] = (),
               sessions: Sessions | None = None) -> web.Application:
    app = web.Application(middlewares=[guard], client_max_size=MAX_FORM * 4)
    app[CONSOLE] = console
    app[PERMITS] = {}
    app[FAILURES] = {}
    app[SESSIONS] = sessions or Sessions(idle_s=1800.0)
    app[TEMPLATES] = _environment()
    app.on_response_prepare.append(_headers)
    for method, path, handler, permission in ROUTES:
        permit(app, app.router.add_route(method, path, handler), permission)
    for setup in setups:  # the web shop's API (hub/hq/shop.py) and whatever comes next
        setup(app, console)
    return app


def server_context(keys: Any, names: tuple[str, ...]) -> ssl.SSLContext:
    """HTTPS with a certificate from HQ's own CA (kept in HQ's data dir, reissued when
    the names change)."""
    folder = keys.data_dir / "console-tls"
    folder.mkdir(exist_ok=True)
    cert, key, said = folder / "server.pem", folder / "server.key", folder / "names"
    if not cert.exists() or not key.exists() or \
            (said.read_text() if said.exists() else "") != ",".join(names):
        cert_pem, key_pem = keys.server_cert(names)
        cert.write_bytes(cert_pem)
        write_secret(key, key_pem)
        said.write_text(",".join(names))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    return context


async def serve(app: web.Application, host: str, port: int,
                context: ssl.SSLContext | None) -> web.AppRunner:
    """Start serving; the caller keeps the runner and calls `cleanup()` to stop."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port, ssl_context=context).start()
    return runner
