"""The web kernel: what every layer's web module needs, and nothing of any layer.

This module imports no other module of `hub.web` (the app, the core's screens and every
layer's `web.py` import it; it imports none of them), so a layer's screens cost one import.

A layer adds its part of the UI with a module named in its `Layer(web=...)`, defining
`setup(table)` over the one permission × endpoint table::

    from hub.web.kernel import Endpoints, json_response, render, runtime_of, service

    def setup(table: Endpoints) -> None:
        table.api("GET", "/api/v1/devices", list_devices, permission="devices.view",
                  summary="Devices and their health")
        table.page("/devices", devices_page, permission="devices.view", title=N_("Devices"),
                   nav=True, order=60)
        table.script("/devices/devices.js", STATIC / "devices.js")  # the screen's own JS
        table.templates("hub.devices")       # its Jinja2 templates (they extend layout.html)
        table.topics("device.*", exclude=("device.rfid.read",))  # pushed over the WebSocket

    async def list_devices(request):
        manager = service(runtime_of(request).devices, N_("the devices"))  # 503 when off
        return json_response({"devices": manager.snapshot()})

A handler turns HTTP into one service call and back. It raises `ApiError` (or the core's
`Refused`) for a clean `{error, detail}` answer in the store's words; `session_of(request)`
is the signed-in staff member's session.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import jinja2
import orjson
from aiohttp import hdrs, web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.multipart import (
    BodyPartReader,
    content_disposition_filename,
    parse_content_disposition,
)
from aiohttp.web_protocol import RequestPayloadError

from hub.core.entries import browser_entry
from hub.runtime import Runtime
from hub.store import Store
from hub.web.sessions import Session, Sessions
from hub.words import N_

# -- permissions --------------------------------------------------------------------------------

PUBLIC = ""  # no sign-in needed (health, sign-in, the CA certificate, scripts)
SIGNED_IN = "signed in"  # anyone signed in, whatever their role (who am I, sign out, events)

T = TypeVar("T")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# A redactor turns a bus event's data into what a browser may see (None: not sent).
Redactor = Callable[[Session, str, dict[str, Any]], dict[str, Any] | None]

MAX_BODY = 64 * 1024  # a cart change or a client profile is a few kB at most


class ApiError(Exception):
    """A clean refusal: answered as `{"error": code, "detail": sentence}` with `status`.
    `detail` is a message template (a gettext id) filled from `params` in the store's
    words; `extra` goes into the JSON as it is."""

    def __init__(self, status: int, error: str, detail: str, *,
                 params: dict[str, Any] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.error = error
        self.detail = detail
        self.params = params or {}
        self.extra = extra


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    permission: str  # a permission of the store's roles book, PUBLIC or SIGNED_IN
    kind: str  # api | page | ws | file
    summary: str
    body: dict[str, Any] | None = None  # JSON Schema of the request body (OpenAPI)
    query: tuple[str, ...] = ()  # query parameters (OpenAPI)
    token_ok: bool = False  # a configured bearer token may stand in for a session
    layer: str = "web"
    upload: bool = False  # takes a file (`read_upload`): multipart or raw bytes, not JSON
    produces: tuple[str, ...] = ("application/json",)  # what a success answers (OpenAPI)

    @property
    def changes_state(self) -> bool:
        return self.method not in ("GET", "HEAD", "OPTIONS")


@dataclass(frozen=True)
class NavEntry:
    path: str
    title: str
    permission: str
    order: int


PanelLoader = Callable[[web.Request, dict[str, Any]], Awaitable[dict[str, Any] | None]]


@dataclass(frozen=True)
class ClientPanel:
    """A layer's section of the client page (the consultation screen): `load(request,
    client)` returns what its template shows, or None to show nothing (the client was
    erased, nothing to say). A panel placed in the "headline" sits beside the name and
    lifetime; "main" ones follow in `order`. `summary`: the same data goes into
    `GET /api/v1/clients/{id}/summary` under the panel's name (the cart's headline)."""

    name: str
    template: str
    load: PanelLoader
    permission: str
    place: str = "main"
    order: int = 50
    summary: bool = False
    layer: str = "web"


@dataclass(frozen=True)
class FloorPanel:
    """A layer's part of the sales floor's cart (sell a gift card, take a foreign currency,
    pay on the card terminal): `template` is drawn under the tender form for a person with
    `permission`; `script` (a path the layer serves with `table.script`) loads after
    loupe.js and reaches the cart through `loupe.onFloor(fn)`: `fn(floor)` gets
    {register(), cartPath(), cart(), currency, change(method, path, body, approvable), ask,
    confirmAction, reload(), showReceipt, onCart(fn), tenderLabel(type, fn)}."""

    name: str
    template: str
    permission: str
    script: str | None = None
    order: int = 50
    layer: str = "web"


@dataclass
class Endpoints:
    """The table; filled by each layer's web `setup`, frozen once the app is assembled."""

    all: list[Endpoint] = field(default_factory=list)
    nav: list[NavEntry] = field(default_factory=list)
    template_packages: list[str] = field(default_factory=list)
    topic_patterns: dict[str, Redactor | None] = field(default_factory=dict)
    topics_excluded: set[str] = field(default_factory=set)
    client_panels: list[ClientPanel] = field(default_factory=list)
    floor_panels: list[FloorPanel] = field(default_factory=list)
    permissions: Collection[str] = ()  # every permission the hub knows (its roles book's)
    layer: str = "web"  # the layer whose `setup` is adding routes now

    def _add(self, endpoint: Endpoint) -> Endpoint:
        if any(e.method == endpoint.method and e.path == endpoint.path for e in self.all):
            raise ValueError(f"{endpoint.method} {endpoint.path} is already in the table")
        if endpoint.kind in ("api", "ws") and not endpoint.path.startswith("/api/v1/"):
            raise ValueError(f"API paths start with /api/v1/: {endpoint.path}")
        if endpoint.permission not in (PUBLIC, SIGNED_IN, *self.permissions):
            raise ValueError(f"{endpoint.path}: “{endpoint.permission}” is no permission"
                             " (the core's are in hub/core/roles.py, a layer declares its own"
                             " in its Layer)")
        self.all.append(endpoint)
        return endpoint

    def api(self, method: str, path: str, handler: Handler, *, permission: str,
            summary: str, body: dict[str, Any] | None = None, query: tuple[str, ...] = (),
            token_ok: bool = False, upload: bool = False,
            produces: tuple[str, ...] = ("application/json",)) -> Endpoint:
        """`upload`: the route takes a file (its handler reads it with `read_upload`), so
        its body is multipart or raw bytes rather than JSON; CSRF token and origin still.
        `produces`: the content types a success answers with (a file: an export); a
        refusal is JSON whatever this says."""
        return self._add(Endpoint(method.upper(), path, handler, permission, "api", summary,
                                  body, query, token_ok, self.layer, upload, produces))

    def page(self, path: str, handler: Handler, *, permission: str, title: str,
             nav: bool = False, order: int = 50) -> Endpoint:
        if nav:
            self.nav.append(NavEntry(path, title, permission, order))
            self.nav.sort(key=lambda n: n.order)
        return self._add(Endpoint("GET", path, handler, permission, "page", title,
                                  layer=self.layer))

    def file(self, path: str, handler: Handler, *, permission: str, summary: str,
             token_ok: bool = False) -> Endpoint:
        """A plain GET that is neither JSON API nor page (health, metrics, the CA)."""
        return self._add(Endpoint("GET", path, handler, permission, "file", summary,
                                  token_ok=token_ok, layer=self.layer))

    def script(self, path: str, file: Path) -> Endpoint:
        """A screen's own JavaScript, served from the layer's folder (public: it holds no
        data, and a page that failed to sign in still loads it)."""
        async def serve(request: web.Request) -> web.Response:
            return web.Response(body=file.read_bytes(), content_type="text/javascript",
                                charset="utf-8", headers={"Cache-Control": "no-cache"})
        return self.file(path, serve, permission=PUBLIC, summary=f"The {file.name} script")

    def websocket(self, path: str, handler: Handler, *, permission: str,
                  summary: str) -> Endpoint:
        return self._add(Endpoint("GET", path, handler, permission, "ws", summary,
                                  layer=self.layer))

    def client_panel(self, name: str, template: str, load: PanelLoader, *, permission: str,
                     place: str = "main", order: int = 50, summary: bool = False) -> None:
        """Add a section to the client page (see `ClientPanel`)."""
        if place not in ("headline", "main"):
            raise ValueError(f"client panel {name}: place is headline or main, not {place}")
        if any(p.name == name for p in self.client_panels):
            raise ValueError(f"client panel {name} is already on the client page")
        if permission not in (PUBLIC, SIGNED_IN, *self.permissions):
            raise ValueError(f"client panel {name}: “{permission}” is no permission")
        self.client_panels.append(ClientPanel(name, template, load, permission, place, order,
                                              summary, self.layer))
        self.client_panels.sort(key=lambda p: (p.order, p.name))

    def floor_panel(self, name: str, template: str, *, permission: str = "sell",
                    script: str | None = None, order: int = 50) -> None:
        """Add a part to the sales floor's cart (see `FloorPanel`)."""
        if any(p.name == name for p in self.floor_panels):
            raise ValueError(f"floor panel {name} is already on the sales floor")
        if permission not in (PUBLIC, SIGNED_IN, *self.permissions):
            raise ValueError(f"floor panel {name}: “{permission}” is no permission")
        self.floor_panels.append(FloorPanel(name, template, permission, script, order,
                                            self.layer))
        self.floor_panels.sort(key=lambda p: (p.order, p.name))

    async def panels_of(self, request: web.Request, client: dict[str, Any], *,
                        summary: bool = False) -> list[tuple[ClientPanel, dict[str, Any]]]:
        """The client page's panels this person may see, each with what it shows (with
        `summary`, only those the summary API carries: the others are not even loaded)."""
        out = []
        for panel in self.client_panels:
            if summary and not panel.summary:
                continue
            if may(request, panel.permission):
                data = await panel.load(request, client)
                if data is not None:
                    out.append((panel, data))
        return out

    def templates(self, package: str) -> None:
        """The layer's Jinja2 templates, in `<package>/templates`."""
        self.template_packages.append(package)

    def topics(self, pattern: str, redact: Redactor | None = None, *,
               exclude: tuple[str, ...] = ()) -> None:
        """Push bus events matching `pattern` over /api/v1/events (through `redact`); the
        topics in `exclude` are never even queued for a browser (raw tag reads)."""
        self.topic_patterns[pattern] = redact
        self.topics_excluded.update(exclude)


# -- the app's keys -----------------------------------------------------------------------------

RUNTIME = web.AppKey("runtime", Runtime)
ENDPOINTS = web.AppKey("endpoints", Endpoints)
SESSIONS = web.AppKey("sessions", Sessions)
ROUTE_ENDPOINT = web.AppKey("route_endpoint", dict[Any, Endpoint])
STATS = web.AppKey("stats", dict[str, int])  # requests answered, by outcome (/metrics)
METRICS_TOKEN = web.AppKey("metrics_token", str)  # `[web] metrics_token`: /metrics for scrapers
TEMPLATES = web.AppKey("templates", jinja2.Environment)
WS_CLIENTS = web.AppKey("ws_clients", set[web.WebSocketResponse])
SESSION = web.RequestKey("session", Session)  # the signed-in Session, or None


def runtime_of(request: web.Request) -> Runtime:
    return request.app[RUNTIME]


def store_of(request: web.Request) -> Store:
    return request.app[RUNTIME].store


def session_of(request: web.Request) -> Session:
    session = request.get(SESSION)
    if session is None:  # the middleware already refused anonymous calls; belt and braces
        raise ApiError(401, "unauthorized", "sign in first")
    return session


def may(request: web.Request, permission: str) -> bool:
    """Whether the signed-in person's role has `permission` (a page shows a button or not)."""
    session = request.get(SESSION)
    if permission == PUBLIC:
        return True
    if session is None:
        return False
    return permission == SIGNED_IN or store_of(request).staff.roles.allows(session.role,
                                                                           permission)


def service(member: T | None, what: str) -> T:
    """A layer's running service from the runtime, or a clean 503 naming it (`what`, a
    gettext id: "the devices") when that part of the hub is not running."""
    if member is None:
        raise ApiError(503, "not_running", "this hub is not running {what}",
                       params={"what": what})
    return member


async def print_on_register(request: web.Request, body: dict[str, Any], doc: Any,
                            job: str) -> dict[str, Any]:
    """Print a document (hub.documents) on the receipt printer of the register the body
    names, or the signed-in one's; `job` names the print job (a fresh one prints again)."""
    runtime = runtime_of(request)
    devices = service(runtime.devices, N_("the devices"))
    register = body.get("register") or session_of(request).register_id
    runtime.store.sales.check_register(register, "register")
    return await devices.print_document(doc, register, f"{job}:{uuid.uuid4().hex[:8]}")


# -- what a browser may see ---------------------------------------------------------------------


def for_browser(request: web.Request, entry: dict[str, Any]) -> dict[str, Any]:
    """A journal entry as this person's browser may see it (REST history and WebSocket
    alike): `hub.core.entries.browser_entry`, with costs for those who may see them."""
    return browser_entry(entry, cost_ok=may(request, "cost.view"))


def piece_for_browser(request: web.Request, piece: dict[str, Any]) -> dict[str, Any]:
    """A piece without its cost for a role that may not see costs."""
    if "cost" in piece and not may(request, "cost.view"):
        return {k: v for k, v in piece.items() if k != "cost"}
    return piece


# -- responses ----------------------------------------------------------------------------------


def json_bytes(data: Any) -> bytes:
    """Compact JSON in UTF-8, other scripts as themselves (not \\u escapes). orjson, about
    seven times faster than the standard library; the standard library for what orjson
    refuses (an integer past 64 bits), so the output means the same either way."""
    try:
        return orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:  # orjson.JSONEncodeError
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def json_body(body: bytes, status: int = 200) -> web.Response:
    """A response of JSON already encoded (`json_bytes`)."""
    return web.Response(body=body, status=status, content_type="application/json",
                        charset="utf-8")


def json_response(data: Any, status: int = 200) -> web.Response:
    return json_body(json_bytes(data), status)


def error_response(status: int, error: str, detail: str, **extra: Any) -> web.Response:
    return json_response({"error": error, "detail": detail, **extra}, status)


async def render(request: web.Request, template: str, context: dict[str, Any],
                 status: int = 200) -> web.Response:
    """A page in the shared layout: the template (which extends "layout.html") with the
    signed-in person, the menu they may open and the store's name."""
    app = request.app
    session = request.get(SESSION)
    runtime = app[RUNTIME]
    nav = [n for n in app[ENDPOINTS].nav if session and may(request, n.permission)]
    base = {"session": session, "nav": nav, "path": request.path,
            "store_name": runtime.config.store_name, "currency": runtime.config.currency,
            "demo": runtime.options.demo, "may": lambda permission: may(request, permission)}
    html = app[TEMPLATES].get_template(template).render({**base, **context})
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")


# -- reading requests ---------------------------------------------------------------------------

# Surrogates, escaped ("\\ud800") or as bytes (json.loads decodes with "surrogatepass").
_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]|\xed[\xa0-\xbf]")


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999 parses as infinity
        raise ValueError(f"{text[:40]} is out of range")
    return value


def unreadable(exc: Exception) -> ApiError:
    # aiohttp's message names the problem ("Can not decode content-encoding: gzip")
    return ApiError(400, "bad_body", "the request body cannot be read: {why}",
                    params={"why": str(getattr(exc, "message", None) or exc)})


def too_large() -> ApiError:
    return ApiError(413, "too_large", "the body is over {limit} bytes", params={"limit": MAX_BODY})


async def read_json(request: web.Request) -> dict[str, Any]:
    """The request's JSON object body, or a clean 400/413."""
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise too_large() from None
    except (RequestPayloadError, HttpProcessingError) as exc:  # bad gzip, cut-off chunks
        raise unreadable(exc) from None
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


# -- reading a file -----------------------------------------------------------------------------

UPLOAD_SLACK = 64 * 1024  # what a multipart body holds beside its file: boundaries, fields
UPLOAD_FIELD_MAX = 4096   # a text field beside the file (a kind, a caption)
UPLOAD_FIELDS_MAX = 20
_MB = 1024 * 1024


@dataclass(frozen=True)
class Upload:
    """A file sent to the hub: its bytes, and the name and content type the sender gave
    (claims, to be checked: `hub.core.attachments`); `fields`, the small text fields of a
    multipart form beside it."""

    data: bytes
    filename: str | None
    content_type: str | None
    fields: dict[str, str] = field(default_factory=dict)


def file_too_large(max_bytes: int, size: int | None) -> ApiError:
    if size is None:  # sent in chunks: how much more was coming is not known
        return ApiError(413, "too_large", "a file may be at most {limit} MB; this one is"
                        " larger", params={"limit": max_bytes // _MB})
    return ApiError(413, "too_large", "a file may be at most {limit} MB; this one is {size} MB",
                    params={"limit": max_bytes // _MB,  # as hub.core.attachments says it
                            "size": max((size + _MB // 2) // _MB, max_bytes // _MB + 1)})


async def read_upload(request: web.Request, *, max_bytes: int) -> Upload:
    """The one file of a request: a `multipart/form-data` part with a filename (the other
    parts are small text fields), or the raw body (its name from `Content-Disposition` or
    `?name=`). Read as it streams and refused with a 413 sentence the moment it passes
    `max_bytes`, at once when `Content-Length` says so; aiohttp's own `client_max_size` (the
    JSON cap) is not involved, since neither path buffers the body through `request.read()`.
    A refused body is not read to its end: aiohttp drains or drops the connection."""
    length = request.content_length
    if length is not None and length > max_bytes + UPLOAD_SLACK:
        raise file_too_large(max_bytes, length)
    try:
        if request.content_type.startswith("multipart/"):
            return await _read_multipart(request, max_bytes, length)
        data = bytearray()
        async for chunk in request.content.iter_chunked(64 * 1024):
            data += chunk
            if len(data) > max_bytes:
                raise file_too_large(max_bytes, length)
    except (RequestPayloadError, HttpProcessingError) as exc:  # bad gzip, cut-off chunks
        raise unreadable(exc) from None
    except ValueError as exc:  # a multipart body that is not one
        raise unreadable(exc) from None
    name = request.query.get("name")
    disposition = request.headers.get(hdrs.CONTENT_DISPOSITION)
    if disposition:
        name = content_disposition_filename(parse_content_disposition(disposition)[1]) or name
    return Upload(bytes(data), name, request.headers.get(hdrs.CONTENT_TYPE))


async def _read_multipart(request: web.Request, max_bytes: int, length: int | None) -> Upload:
    reader = await request.multipart()
    found: Upload | None = None
    texts: dict[str, str] = {}
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            raise ApiError(400, "bad_body", "send the file as one part of a form")
        if part.filename is not None:
            if found is not None:
                raise ApiError(400, "one_file", "send one file at a time")
            data = bytearray()
            # read_chunk, not read(): read() stops at the JSON cap with aiohttp's own answer
            while chunk := await part.read_chunk(64 * 1024):
                data += chunk
                if len(data) > max_bytes:
                    raise file_too_large(max_bytes, length)
            found = Upload(bytes(data), part.filename, part.headers.get(hdrs.CONTENT_TYPE))
            continue
        if len(texts) >= UPLOAD_FIELDS_MAX:
            raise ApiError(400, "bad_body", "a file is sent with at most {n} fields",
                           params={"n": UPLOAD_FIELDS_MAX})
        raw = bytearray()
        while chunk := await part.read_chunk(UPLOAD_FIELD_MAX):
            raw += chunk
            if len(raw) > UPLOAD_FIELD_MAX:
                raise ApiError(400, "bad_body", "the field {name} is over {limit} bytes",
                               params={"name": part.name or "", "limit": UPLOAD_FIELD_MAX})
        try:
            texts[part.name or ""] = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ApiError(400, "bad_body", "the field {name} is not text",
                           params={"name": part.name or ""}) from None
    if found is None:
        raise ApiError(400, "no_file", "no file was sent")
    return Upload(found.data, found.filename, found.content_type, texts)
