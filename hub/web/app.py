"""The staff web app, assembled: one aiohttp application serving every layer's JSON API,
screens and live events. `create_app(runtime)` builds it from the layers of the runtime
(each layer's `web` module adds to the one permission × endpoint table, `hub.web.kernel`);
tests drive it with aiohttp's test client, `hub.web.part` serves it for `loupe run`.

The security middleware here checks, for every route, the permission the table names
against the signed-in person's role (`hub.core.roles`), the CSRF token and the origin, and
turns every refusal into a clean answer in the store's words.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import WSCloseCode, web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError
from yarl import URL

from hub import layers
from hub.core.approvals import ApprovalNeeded
from hub.core.errors import Invalid, NotFound, Refused
from hub.core.pins import LockedOut
from hub.core.search import PAGES_KEPT
from hub.runtime import Runtime
from hub.web.kernel import (
    ENDPOINTS,
    MAX_BODY,
    METRICS_TOKEN,
    PUBLIC,
    ROUTE_ENDPOINT,
    RUNTIME,
    SESSION,
    SESSIONS,
    SIGNED_IN,
    STATS,
    TEMPLATES,
    WS_CLIENTS,
    ApiError,
    Endpoint,
    Endpoints,
    error_response,
    render,
    too_large,
    unreadable,
)
from hub.web.sessions import COOKIE, Session, Sessions
from hub.words import N_, Term, Words

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
SERVER_NAME = "Loupe"  # the Server header: no aiohttp or Python version to look up exploits by


def _words(request: web.Request) -> Words:
    return request.app[RUNTIME].store.words


def _refusal(request: web.Request, exc: Refused) -> web.Response:
    """A refusal as `{error, detail, field?, problems?}`: the machine code stays, the
    sentence is in the store's words (every field of a form at once in `problems`)."""
    words = _words(request)
    detail = words.refusal(exc)
    extra: dict[str, Any] = {}
    if isinstance(exc, LockedOut):
        response = error_response(429, exc.code, detail, retry_after_s=exc.retry_after_s)
        response.headers["Retry-After"] = str(exc.retry_after_s)
        return response
    if exc.field:  # lets a form show the sentence next to its input
        extra["field"] = exc.field
    if isinstance(exc, Invalid) and (len(exc.problems) > 1 or exc.field):
        extra["problems"] = words.problems(exc)
    if isinstance(exc, ApprovalNeeded):
        return error_response(403, exc.code, detail, action=exc.action)
    if isinstance(exc, NotFound):
        return error_response(404, exc.code, detail)
    if isinstance(exc, Invalid):
        return error_response(400, exc.code, detail, **extra)
    if exc.code.startswith("approval_"):
        return error_response(403, exc.code, detail)
    return error_response(409, exc.code, detail, **extra)


def _api_error(request: web.Request, exc: ApiError) -> web.Response:
    return error_response(exc.status, exc.error,
                          _words(request).sentence(exc.detail, exc.params), **exc.extra)


# What a person is told when a page cannot be shown (the API answers with its own codes).
_PAGE_ERRORS = {400: N_("This request could not be read."), 403: N_("You may not open this"
                " page."), 404: N_("There is no such page."), 405: N_("This page cannot be"
                " opened that way."), 413: N_("What was sent is too large.")}


_SECURITY_HEADERS = {
    # No inline script, no third-party anything: an injected tag cannot run or phone home.
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self';"
                               " img-src 'self' data:; connect-src 'self'; object-src 'none';"
                               " base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


# Sent on HTTPS only: once a tablet has seen the hub over HTTPS it never falls back to HTTP.
_HSTS = "max-age=31536000"
async def _on_response_prepare(request: web.Request, response: web.StreamResponse) -> None:
    """Security headers on every response the app sends: JSON, pages, files, redirects
    (raised or returned) and the WebSocket handshake."""
    response.headers.update(_SECURITY_HEADERS)
    response.headers["Server"] = SERVER_NAME
    if request.secure:
        response.headers["Strict-Transport-Security"] = _HSTS
    endpoint = request.app[ROUTE_ENDPOINT].get(request.match_info.route)
    if endpoint is not None and endpoint.kind in ("api", "page"):
        response.headers.setdefault("Cache-Control", "no-store")


def _wants_html(request: web.Request, endpoint: Endpoint | None) -> bool:
    return endpoint is not None and endpoint.kind == "page"


def _same_origin(request: web.Request) -> bool:
    """The Origin header (when a browser sends one) is this hub: scheme, host and port."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True  # no Origin (older browsers, scripts): the CSRF token decides
    try:
        there, here = URL(origin), request.url
        return (there.scheme, there.host, there.port) == (here.scheme, here.host, here.port)
    except ValueError:  # garbage (an Origin "null", from a sandboxed frame, has no scheme)
        return False


def _check_access(request: web.Request, endpoint: Endpoint, session: Session | None) -> None:
    app = request.app
    if endpoint.permission != PUBLIC:
        if session is None:
            token = app[METRICS_TOKEN]
            auth = request.headers.get("Authorization", "")
            if endpoint.token_ok and token and auth == f"Bearer {token}":
                return
            raise ApiError(401, "unauthorized", "sign in first")
        roles = app[RUNTIME].store.staff.roles
        if endpoint.permission != SIGNED_IN and not roles.allows(session.role,
                                                                 endpoint.permission):
            raise ApiError(403, "forbidden", "your role ({role}) may not do this: {what}",
                           params={"role": Term("role", session.role),
                                   "what": Term("permission", endpoint.permission)})
    if endpoint.kind == "ws" and not _same_origin(request):
        # Browsers send the cookie on a cross-site WebSocket handshake and no CORS applies:
        # the Origin is the only thing that tells another site's page from ours.
        raise ApiError(403, "csrf", "cross-origin WebSocket refused")
    if endpoint.changes_state:
        # CSRF: the session's token in a header (a cross-site form cannot set headers),
        # JSON only (a cross-site form cannot send it without a CORS preflight), same origin.
        if not _same_origin(request):
            raise ApiError(403, "csrf", "cross-origin request refused")
        if request.content_type != "application/json" and request.can_read_body and \
                not endpoint.upload:  # a file's route reads it with kernel.read_upload
            raise ApiError(415, "unsupported_media_type", "send JSON (application/json)")
        if endpoint.permission != PUBLIC and request.headers.get("X-CSRF-Token") != getattr(
                session, "csrf", None):
            raise ApiError(403, "csrf", "missing or wrong X-CSRF-Token header")


def _count(app: web.Application, status: int) -> None:
    outcome = "ok" if status < 400 else "refused" if status < 500 else "failed"
    stats = app[STATS]
    stats[outcome] = stats.get(outcome, 0) + 1


@web.middleware
async def security(request: web.Request, handler):
    """Roles, CSRF, clean JSON errors and the count of outcomes, for every route."""
    app = request.app
    route = request.match_info.route
    endpoint = app[ROUTE_ENDPOINT].get(route)
    session = app[SESSIONS].get(request.cookies.get(COOKIE))
    request[SESSION] = session
    try:
        if endpoint is not None:
            try:
                _check_access(request, endpoint, session)
            except ApiError as exc:
                if exc.status == 401 and _wants_html(request, endpoint):
                    raise web.HTTPSeeOther("/signin?next=" + request.path) from None
                raise
        response = await handler(request)
    except ApiError as exc:
        response = _api_error(request, exc)
    except Refused as exc:
        response = _refusal(request, exc)
    except web.HTTPRequestEntityTooLarge:
        response = _api_error(request, too_large())
    except web.HTTPException as exc:
        if exc.status < 400:
            _count(app, exc.status)
            raise  # a redirect: aiohttp sends it (with the headers of `_on_response_prepare`)
        message = _PAGE_ERRORS.get(exc.status, N_("The hub cannot do this."))
        response = error_response(exc.status, exc.reason.lower().replace(" ", "_"),
                                  _words(request).sentence(message))
    except (RequestPayloadError, HttpProcessingError) as exc:  # a body not read by read_json
        response = _api_error(request, unreadable(exc))
    except Exception:
        log.exception("request failed", extra={"path": request.path, "method": request.method})
        response = error_response(500, "internal", _words(request).sentence(
            "the hub could not do this; it is logged"))
    if response.status >= 400 and _wants_page(request, endpoint):
        response = await _error_page(request, response)
    if request.content.exception() is not None:
        response.force_close()  # the body cannot be read to its end: this connection is done
    _count(app, response.status)
    return response


def _wants_page(request: web.Request, endpoint: Endpoint | None) -> bool:
    """A person's browser asked for a page (a screen, or a URL typed by hand): an error is
    shown as a page, not as JSON. API calls and files keep their JSON answers."""
    if endpoint is not None:
        return endpoint.kind == "page"
    return (request.method == "GET" and not request.path.startswith("/api/")
            and "text/html" in request.headers.get("Accept", ""))


async def _error_page(request: web.Request, response: web.Response) -> web.Response:
    try:
        detail = json.loads(response.text or "{}").get("detail", "")
    except ValueError:
        detail = ""
    page = await render(request, "error.html", {"status": response.status,
                                                             "detail": detail}, response.status)
    for name in ("Retry-After",):
        if name in response.headers:
            page.headers[name] = response.headers[name]
    return page


def _templates(runtime: Runtime, table: Endpoints, app: web.Application) -> jinja2.Environment:
    words = runtime.store.words
    loaders = [jinja2.PackageLoader("hub.web", "templates")]
    loaders += [jinja2.PackageLoader(package, "templates") for package in table.template_packages]
    # The templates ship with the hub: compiled once, never looked at again on disk.
    env = jinja2.Environment(loader=jinja2.ChoiceLoader(loaders), autoescape=True,
                             auto_reload=False, trim_blocks=True, lstrip_blocks=True,
                             undefined=jinja2.StrictUndefined, extensions=["jinja2.ext.i18n"])
    # One language per store: the store's catalogue, installed once.
    env.install_gettext_translations(words.translations, newstyle=True)  # type: ignore[attr-defined]
    staff = runtime.store.staff
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
    env.filters["actor"] = lambda actor: words.actor(
        actor, {m.staff_id: m.name for m in staff.all()})
    env.globals["static"] = lambda name: str(
        app.router["static"].url_for(filename=name).with_query({"v": _static_version(name)}))
    env.globals["lang"] = words.tag
    env.globals["words_bundle"] = words.js_bundle((runtime.config.currency,))
    return env


def _static_version(name: str) -> str:
    try:
        return str(int((STATIC / name).stat().st_mtime))
    except OSError:
        return "0"


async def _websockets(app: web.Application):
    app[WS_CLIENTS] = set()
    yield
    for ws in list(app[WS_CLIENTS]):
        await ws.close(code=WSCloseCode.GOING_AWAY, message=b"hub stopping")


def create_app(runtime: Runtime) -> web.Application:
    """The web app over an opened `Runtime`: every layer of `runtime.layers` with a web
    module adds its routes, pages, templates and topics."""
    section = runtime.config.section("web")
    idle_s = section.seconds("idle_timeout_s", 900, 60, 86_400)
    metrics_token = section.text("metrics_token", "")
    # Search pages kept (about 48 kB each with their JSON): 0 reads the books every time.
    cache_pages = section.whole("search_cache_pages", PAGES_KEPT, 0, 100_000)
    section.done()
    if runtime.store.items.pages is not None:
        if cache_pages:
            runtime.store.items.pages.capacity = cache_pages
        else:
            runtime.store.items.pages = None
    app = web.Application(middlewares=[security], client_max_size=MAX_BODY)
    app.on_response_prepare.append(_on_response_prepare)
    app[RUNTIME] = runtime
    app[STATS] = {}
    app[SESSIONS] = Sessions(idle_s=idle_s)
    app[METRICS_TOKEN] = metrics_token

    table = Endpoints(permissions=runtime.store.staff.roles.permissions)
    app[ENDPOINTS] = table
    for layer in runtime.layers:
        if layer.web is not None:
            table.layer = layer.name
            layers.load(layer.web).setup(table)
    table.layer = "web"

    route_endpoint = {}
    for endpoint in table.all:
        route = app.router.add_route(endpoint.method, endpoint.path, endpoint.handler)
        route_endpoint[route] = endpoint
    app[ROUTE_ENDPOINT] = route_endpoint
    app.router.add_static("/static", STATIC, name="static")
    app[TEMPLATES] = _templates(runtime, table, app)
    app.cleanup_ctx.append(_websockets)
    return app
