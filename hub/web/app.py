"""The staff web app: one aiohttp application serving the JSON API, the WebSocket of live
events and the server-rendered UI. `create_app(runtime)` builds it; tests drive it with
aiohttp's test client, `hub.web.part` serves it for `loupe run` and `loupe demo`.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from aiohttp import web

from hub.core.approvals import ApprovalNeeded, Approvals
from hub.core.carts import Carts
from hub.core.errors import Invalid, NotFound, Refused
from hub.core.staff import Staff
from hub.layers import optional_modules
from hub.web.endpoints import ENDPOINTS, ApiError, Endpoint, Endpoints
from hub.web.sessions import COOKIE, Lockout, Session, Sessions

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
SESSION = web.RequestKey("session", object)  # the signed-in Session, or None


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(data, ensure_ascii=False, separators=(",", ":")),
                        status=status, content_type="application/json")


def error_response(status: int, error: str, detail: str, **extra: Any) -> web.Response:
    return json_response({"error": error, "detail": detail, **extra}, status)


def _refusal(exc: Refused) -> web.Response:
    if isinstance(exc, ApprovalNeeded):
        return error_response(403, exc.code, str(exc), action=exc.action)
    if isinstance(exc, NotFound):
        return error_response(404, exc.code, str(exc))
    if isinstance(exc, Invalid):  # `field` lets a form show the error next to its input
        return error_response(400, exc.code, str(exc),
                              **({"field": exc.field} if exc.field else {}))
    if exc.code.startswith("approval_"):
        return error_response(403, exc.code, str(exc))
    return error_response(409, exc.code, str(exc))


_SECURITY_HEADERS = {
    # No inline script, no third-party anything: an injected tag cannot run or phone home.
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self';"
                               " img-src 'self' data:; connect-src 'self'; object-src 'none';"
                               " base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def _wants_html(request: web.Request, endpoint: Endpoint | None) -> bool:
    return endpoint is not None and endpoint.kind == "page"


def _same_origin(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    if origin is None:
        return True  # no Origin (older browsers, scripts): the CSRF token decides
    host = request.headers.get("Host", "")
    return origin.split("://", 1)[-1] == host


def _check_access(request: web.Request, endpoint: Endpoint, session: Session | None) -> None:
    app = request.app
    if endpoint.roles:
        if session is None:
            token = app[RUNTIME].config.section("web").get("metrics_token")
            auth = request.headers.get("Authorization", "")
            if endpoint.token_ok and token and auth == f"Bearer {token}":
                return
            raise ApiError(401, "unauthorized", "sign in first")
        if session.role not in endpoint.roles:
            raise ApiError(403, "forbidden",
                           f"a {session.role} may not {endpoint.method} {endpoint.path}")
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


@web.middleware
async def security(request: web.Request, handler):
    """Roles, CSRF, clean JSON errors and security headers, for every route."""
    app = request.app
    app[STATS]["requests"] = app[STATS].get("requests", 0) + 1
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
        response = error_response(exc.status, exc.error, exc.detail, **exc.extra)
    except Refused as exc:
        response = _refusal(exc)
    except web.HTTPRequestEntityTooLarge:
        response = error_response(413, "too_large", f"the body is over {MAX_BODY} bytes")
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        response = error_response(exc.status, exc.reason.lower().replace(" ", "_"),
                                  exc.text or exc.reason)
    except Exception:
        log.exception("request failed", extra={"path": request.path, "method": request.method})
        app[STATS]["errors"] = app[STATS].get("errors", 0) + 1
        response = error_response(500, "internal", "the hub could not do this; it is logged")
    if not response.prepared:
        response.headers.update(_SECURITY_HEADERS)
        if endpoint is not None and endpoint.kind in ("api", "page"):
            response.headers.setdefault("Cache-Control", "no-store")
    return response


async def read_json(request: web.Request) -> dict[str, Any]:
    """The request's JSON object body, or a clean 400/413."""
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise ApiError(413, "too_large", f"the body is over {MAX_BODY} bytes") from None
    if not body:
        return {}
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "bad_json", f"the body is not valid JSON: {exc}") from None
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
    settings = runtime.config.section("web")
    app = web.Application(middlewares=[security], client_max_size=MAX_BODY)
    app[RUNTIME] = runtime
    app[STATS] = {}
    staff = store.staff
    approvals = Approvals(store.ledger, staff)
    app[STAFF_KEY] = staff
    app[APPROVALS] = approvals
    app[CARTS] = Carts(store.ledger, store.sales, approvals,
                       max_discount_bp=int(settings.get("max_discount_pct", 10)) * 100)
    app[SESSIONS] = Sessions(idle_s=float(settings.get("idle_timeout_s", 900)))
    app[LOCKOUT] = Lockout()
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


