"""The staff web app: one aiohttp application serving the JSON API, the WebSocket of live
events and the server-rendered UI. `create_app(runtime)` builds it; tests drive it with
aiohttp's test client, `hub.web.part` serves it for `loupe run` and `loupe demo`.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import re
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError
from yarl import URL

from hub.core.approvals import ApprovalNeeded, Approvals
from hub.core.carts import Carts
from hub.core.errors import Invalid, NotFound, Refused
from hub.core.staff import Staff
from hub.layers import optional_modules
from hub.web.endpoints import ENDPOINTS, ApiError, Endpoint, Endpoints
from hub.web.sessions import COOKIE, LockedOut, Lockout, Session, Sessions
from hub.words import N_, Term

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
# Layers that add pages and API routes when installed (each with `setup(app, runtime)`).
EXTENSION_MODULES = ("hub.devices.web", "hub.counts.web", "hub.sync.web")
MAX_BODY = 64 * 1024  # a cart change or a client profile is a few kB at most

RUNTIME = web.AppKey("runtime", Any)
STAFF_KEY = web.AppKey("staff", Staff)
CARTS = web.AppKey("carts", Carts)
APPROVALS = web.AppKey("approvals", Approvals)
SESSIONS = web.AppKey("sessions", Sessions)
LOCKOUT = web.AppKey("lockout", Lockout)
ROUTE_ENDPOINT = web.AppKey("route_endpoint", dict)
STATS = web.AppKey("stats", dict)
METRICS_TOKEN = web.AppKey("metrics_token", str)  # `[web] metrics_token`: /metrics for scrapers
SESSION = web.RequestKey("session", object)  # the signed-in Session, or None
RENDER = web.AppKey("render", object)  # pages.render_page, set once the templates are loaded


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(data, ensure_ascii=False, separators=(",", ":")),
                        status=status, content_type="application/json")


def error_response(status: int, error: str, detail: str, **extra: Any) -> web.Response:
    return json_response({"error": error, "detail": detail, **extra}, status)


def _words(request: web.Request) -> Any:
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
SERVER_NAME = "Loupe"  # the Server header: no aiohttp or Python version to look up exploits by


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
    if endpoint.roles:
        if session is None:
            token = app[METRICS_TOKEN]
            auth = request.headers.get("Authorization", "")
            if endpoint.token_ok and token and auth == f"Bearer {token}":
                return
            raise ApiError(401, "unauthorized", "sign in first")
        if session.role not in endpoint.roles:
            raise ApiError(403, "forbidden", "your role ({role}) may not do this",
                           params={"role": Term("role", session.role)})
    if endpoint.kind == "ws" and not _same_origin(request):
        # Browsers send the cookie on a cross-site WebSocket handshake and no CORS applies:
        # the Origin is the only thing that tells another site's page from ours.
        raise ApiError(403, "csrf", "cross-origin WebSocket refused")
    if endpoint.changes_state:
        # CSRF: the session's token in a header (a cross-site form cannot set headers),
        # JSON only (a cross-site form cannot send it without a CORS preflight), same origin.
        if not _same_origin(request):
            raise ApiError(403, "csrf", "cross-origin request refused")
        if request.content_type != "application/json" and request.can_read_body:
            raise ApiError(415, "unsupported_media_type", "send JSON (application/json)")
        if endpoint.roles and request.headers.get("X-CSRF-Token") != getattr(session, "csrf",
                                                                                 None):
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
        response = _api_error(request, _too_large())
    except web.HTTPException as exc:
        if exc.status < 400:
            _count(app, exc.status)
            raise  # a redirect: aiohttp sends it (with the headers of `_on_response_prepare`)
        message = _PAGE_ERRORS.get(exc.status, N_("The hub cannot do this."))
        response = error_response(exc.status, exc.reason.lower().replace(" ", "_"),
                                  _words(request).sentence(message))
    except (RequestPayloadError, HttpProcessingError) as exc:  # a body not read by read_json
        response = _api_error(request, _unreadable(exc))
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


def _unreadable(exc: Exception) -> ApiError:
    # aiohttp's message names the problem ("Can not decode content-encoding: gzip")
    return ApiError(400, "bad_body", "the request body cannot be read: {why}",
                    params={"why": str(getattr(exc, "message", None) or exc)})


def _too_large() -> ApiError:
    return ApiError(413, "too_large", "the body is over {limit} bytes", params={"limit": MAX_BODY})


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
    page = await request.app[RENDER](request, "error.html", {"status": response.status,
                                                             "detail": detail}, response.status)
    for name in ("Retry-After",):
        if name in response.headers:
            page.headers[name] = response.headers[name]
    return page


# Surrogates, escaped ("\\ud800") or as bytes (json.loads decodes with "surrogatepass").
_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]|\xed[\xa0-\xbf]")


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999 parses as infinity
        raise ValueError(f"{text[:40]} is out of range")
    return value


async def read_json(request: web.Request) -> dict[str, Any]:
    """The request's JSON object body, or a clean 400/413."""
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise _too_large() from None
    except (RequestPayloadError, HttpProcessingError) as exc:  # bad gzip, cut-off chunks
        raise _unreadable(exc) from None
    if not body:
        return {}
    try:
        data = json.loads(body, parse_constant=_no_constants, parse_float=_finite)
        if _SURROGATE.search(body):  # a lone surrogate parses, but is no UTF-8 text
            json.dumps(data, ensure_ascii=False).encode()
    except (ValueError, UnicodeError) as exc:
        raise ApiError(400, "bad_json", "the body is not valid JSON: {why}",
                       params={"why": str(exc)}) from None
    except RecursionError:
        raise ApiError(400, "bad_json", "the body is nested too deeply") from None
    if not isinstance(data, dict):
        raise ApiError(400, "bad_json", "the body must be a JSON object")
    return data


def session_of(request: web.Request) -> Session:
    session = request[SESSION]
    if session is None:  # the middleware already refused anonymous calls; belt and braces
        raise ApiError(401, "unauthorized", "sign in first")
    return session


def _load_extensions(app: web.Application, runtime: Any, table: Endpoints) -> None:
    for module in optional_modules(EXTENSION_MODULES):
        table.area = module.__name__.split(".")[1]
        module.setup(app, runtime)
        table.area = "web"


def create_app(runtime: Any) -> web.Application:
    """The web app over an opened `Runtime` (config, store, bus, options, services)."""
    from hub.web import api, events, files, pages

    store = runtime.store
    section = runtime.config.section("web")
    max_discount_pct = section.whole("max_discount_pct", 10, 0, 100)
    idle_s = section.seconds("idle_timeout_s", 900, 60, 86_400)
    app_metrics_token = section.text("metrics_token", "")
    section.done()
    app = web.Application(middlewares=[security], client_max_size=MAX_BODY)
    app.on_response_prepare.append(_on_response_prepare)
    app[RUNTIME] = runtime
    app[STATS] = {}
    staff = store.staff
    # One lockout per staff id, shared by sign-in and manager approvals.
    lockout = Lockout()
    approvals = Approvals(store.ledger, staff,
                          check_pin=functools.partial(lockout.check_pin, staff, via="approval"))
    app[STAFF_KEY] = staff
    app[APPROVALS] = approvals
    app[CARTS] = Carts(store.ledger, store.sales, approvals,
                       max_discount_bp=max_discount_pct * 100,
                       words=store.words)
    app[SESSIONS] = Sessions(idle_s=idle_s)
    app[METRICS_TOKEN] = app_metrics_token
    app[LOCKOUT] = lockout
    runtime.services.setdefault("staff", staff)
    runtime.services.setdefault("carts", app[CARTS])

    table = Endpoints()
    app[ENDPOINTS] = table
    files.setup(table)
    api.setup(table)
    events.setup(table)
    pages.setup(table)
    _load_extensions(app, runtime, table)

    route_endpoint = {}
    for endpoint in table.all:
        route = app.router.add_route(endpoint.method, endpoint.path, endpoint.handler)
        route_endpoint[route] = endpoint
    app[ROUTE_ENDPOINT] = route_endpoint
    app.router.add_static("/static", STATIC, name="static")
    pages.setup_templates(app, table)
    app.cleanup_ctx.append(events.scanner_binding)
    app.cleanup_ctx.append(events.websockets)
    return app


