"""The one role × endpoint table, and how other layers add to the web app.

Every route the hub serves is an `Endpoint` in this table: its method, path, handler, the
roles allowed to call it, and what it is (JSON API, page, WebSocket). The app registers the
aiohttp routes from the table, the security middleware checks roles and CSRF from it, the
OpenAPI document is generated from it, and a test walks it for every role.

A layer (devices, counts, sync) adds its part of the UI with a module `hub.<layer>.web`
defining `setup(app, runtime) -> None`::

    from hub.web.endpoints import MANAGERS, STAFF, endpoints, render

    def setup(app, runtime):
        table = endpoints(app)
        table.api("GET", "/api/v1/devices", list_devices, roles=STAFF,
                  summary="Devices and their health")
        table.api("POST", "/api/v1/devices/{device}/test", test_device, roles=MANAGERS,
                  summary="Print a test page", body={"type": "object"})
        table.page("/devices", devices_page, roles=STAFF, title="Devices", nav=True)
        table.templates("hub.devices", "templates")   # your own Jinja2 templates
        table.topics("device.*")                       # bus topics pushed over the WebSocket

    async def devices_page(request):
        return await render(request, "devices.html", {"devices": ...})

Templates extend `"layout.html"` (`{% extends "layout.html" %}`, fill `{% block main %}`);
Jinja2 autoescaping is on. Handlers raise `ApiError` (or the core's `Refused`) for a clean
`{error, detail}` JSON answer; `request[SESSION]` is the signed-in staff session.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

ROLES = ("associate", "manager", "admin")
ANYONE: frozenset[str] = frozenset()  # no sign-in needed
STAFF = frozenset(ROLES)
MANAGERS = frozenset({"manager", "admin"})
ADMINS = frozenset({"admin"})

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# A redactor turns a bus event's data into what a browser may see (None: do not forward).
Redactor = Callable[[str, dict[str, Any]], dict[str, Any] | None]


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
    roles: frozenset[str]
    kind: str  # api | page | ws | file
    summary: str
    body: dict[str, Any] | None = None  # JSON Schema of the request body (OpenAPI)
    query: tuple[str, ...] = ()  # query parameters (OpenAPI)
    token_ok: bool = False  # a configured bearer token may stand in for a session
    area: str = "web"

    @property
    def changes_state(self) -> bool:
        return self.method not in ("GET", "HEAD", "OPTIONS")


@dataclass(frozen=True)
class NavEntry:
    path: str
    title: str
    roles: frozenset[str]
    order: int


@dataclass
class Endpoints:
    """The table; filled by the web app and each layer's `setup`, frozen at app start."""

    all: list[Endpoint] = field(default_factory=list)
    nav: list[NavEntry] = field(default_factory=list)
    template_packages: list[tuple[str, str]] = field(default_factory=list)
    topic_patterns: dict[str, Redactor | None] = field(default_factory=dict)
    area: str = "web"

    def _add(self, endpoint: Endpoint) -> Endpoint:
        if any(e.method == endpoint.method and e.path == endpoint.path for e in self.all):
            raise ValueError(f"{endpoint.method} {endpoint.path} is already in the table")
        if endpoint.kind in ("api", "ws") and not endpoint.path.startswith("/api/v1/"):
            raise ValueError(f"API paths start with /api/v1/: {endpoint.path}")
        self.all.append(endpoint)
        return endpoint

    def api(self, method: str, path: str, handler: Handler, *, roles: frozenset[str],
            summary: str, body: dict[str, Any] | None = None, query: tuple[str, ...] = (),
            token_ok: bool = False) -> Endpoint:
        return self._add(Endpoint(method.upper(), path, handler, roles, "api", summary, body,
                                  query, token_ok, self.area))

    def page(self, path: str, handler: Handler, *, roles: frozenset[str], title: str,
             nav: bool = False, order: int = 50) -> Endpoint:
        if nav:
            self.nav.append(NavEntry(path, title, roles, order))
            self.nav.sort(key=lambda n: n.order)
        return self._add(Endpoint("GET", path, handler, roles, "page", title, area=self.area))

    def file(self, path: str, handler: Handler, *, roles: frozenset[str], summary: str,
             token_ok: bool = False) -> Endpoint:
        """A plain GET that is neither JSON API nor page (health, metrics, the CA)."""
        return self._add(Endpoint("GET", path, handler, roles, "file", summary,
                                  token_ok=token_ok, area=self.area))

    def websocket(self, path: str, handler: Handler, *, roles: frozenset[str],
                  summary: str) -> Endpoint:
        return self._add(Endpoint("GET", path, handler, roles, "ws", summary, area=self.area))

    def templates(self, package: str, folder: str = "templates") -> None:
        self.template_packages.append((package, folder))

    def topics(self, pattern: str, redact: Redactor | None = None) -> None:
        """Forward bus events matching `pattern` over /api/v1/events (through `redact`)."""
        self.topic_patterns[pattern] = redact


ENDPOINTS = web.AppKey("endpoints", Endpoints)


def endpoints(app: web.Application) -> Endpoints:
    return app[ENDPOINTS]


async def render(request: web.Request, template: str, context: dict[str, Any],
                 status: int = 200) -> web.Response:
    """Render a page in the shared layout (imported lazily: pages live in hub.web.pages)."""
    from hub.web.pages import render_page

    return await render_page(request, template, context, status)
