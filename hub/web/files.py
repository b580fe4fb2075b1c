"""Plain GETs beside the API: health, Prometheus metrics, the store's CA certificate and
the OpenAPI document generated from the role × endpoint table."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from hub.web.kernel import (
    ENDPOINTS,
    PUBLIC,
    RUNTIME,
    SESSIONS,
    STATS,
    WS_CLIENTS,
    ApiError,
    Endpoints,
    json_response,
)
from hub.web.openapi import openapi_document
from hub.web.tls import ca_cert_path

FAVICON = Path(__file__).parent / "static" / "favicon.svg"


async def healthz(request: web.Request) -> web.Response:
    store = request.app[RUNTIME].store
    return json_response({"ok": True, "store_id": store.config.store_id,
                          "seq": store.ledger.seq})


async def metrics(request: web.Request) -> web.Response:
    app = request.app
    store = app[RUNTIME].store
    stats, lockout = app[STATS], store.staff.lockout
    lines = [
        "# HELP loupe_journal_seq Last committed journal sequence number.",
        "# TYPE loupe_journal_seq gauge",
        f"loupe_journal_seq {store.ledger.seq}",
        "# HELP loupe_ledger_commits_total Group commits made by the ledger writer.",
        "# TYPE loupe_ledger_commits_total counter",
        f"loupe_ledger_commits_total {store.ledger.batches}",
        "# HELP loupe_http_requests_total HTTP requests answered, by outcome: ok (1xx-3xx),"
        " refused (4xx), failed (5xx: a fault of the hub), malformed (refused by the HTTP"
        " parser before any route).",
        "# TYPE loupe_http_requests_total counter",
        *(f'loupe_http_requests_total{{outcome="{outcome}"}} {stats.get(outcome, 0)}'
          for outcome in ("ok", "refused", "failed", "malformed")),
        "# HELP loupe_pin_locks_total Locks earned by repeated wrong PINs (sign-in, approvals).",
        "# TYPE loupe_pin_locks_total counter",
        f"loupe_pin_locks_total {lockout.locks_total}",
        "# HELP loupe_pin_guesses_refused_total PINs refused unchecked during a lock.",
        "# TYPE loupe_pin_guesses_refused_total counter",
        f"loupe_pin_guesses_refused_total {lockout.refused_total}",
        "# HELP loupe_sessions Signed-in staff sessions.",
        "# TYPE loupe_sessions gauge",
        f"loupe_sessions {len(app[SESSIONS])}",
        "# HELP loupe_websockets Open live-event WebSockets.",
        "# TYPE loupe_websockets gauge",
        f"loupe_websockets {len(app[WS_CLIENTS])}",
    ]
    pages = store.items.pages
    if pages is not None:
        lines += [
            "# HELP loupe_search_cache_total Piece searches asked of the page cache, by outcome.",
            "# TYPE loupe_search_cache_total counter",
            f'loupe_search_cache_total{{outcome="hit"}} {pages.hits}',
            f'loupe_search_cache_total{{outcome="miss"}} {pages.misses}',
            "# HELP loupe_search_cache_clears_total Times a change to a piece emptied the cache.",
            "# TYPE loupe_search_cache_clears_total counter",
            f"loupe_search_cache_clears_total {pages.clears}",
            "# HELP loupe_search_cache_pages Search pages the cache holds.",
            "# TYPE loupe_search_cache_pages gauge",
            f"loupe_search_cache_pages {len(pages)}",
        ]
    devices = app[RUNTIME].devices
    if devices is not None:
        lines += devices.metrics_lines()
    return web.Response(text="\n".join(lines) + "\n",
                        content_type="text/plain", charset="utf-8",
                        headers={"X-Content-Type-Options": "nosniff"})


async def ca_certificate(request: web.Request) -> web.Response:
    path = ca_cert_path(request.app[RUNTIME].config.data_dir)
    if not path.exists():
        raise ApiError(404, "not_found", "this hub has no certificate authority yet")
    return web.Response(body=path.read_bytes(), content_type="application/x-x509-ca-cert",
                        headers={"Content-Disposition": 'attachment; filename="loupe-ca.crt"'})


async def favicon(request: web.Request) -> web.Response:
    """Browsers ask for /favicon.ico whatever the page says: the same mark as the layout's."""
    return web.Response(body=FAVICON.read_bytes(), content_type="image/svg+xml",
                        headers={"Cache-Control": "max-age=86400"})


async def openapi(request: web.Request) -> web.Response:
    return json_response(openapi_document(request.app[ENDPOINTS], request.app[RUNTIME]))


def setup(table: Endpoints) -> None:
    table.file("/healthz", healthz, permission=PUBLIC, summary="Liveness and journal position")
    table.file("/metrics", metrics, permission="metrics.view", token_ok=True,
               summary="Prometheus metrics (who may read them, or the configured bearer token)")
    table.file("/favicon.ico", favicon, permission=PUBLIC, summary="The hub's icon for browsers")
    table.file("/ca.crt", ca_certificate, permission=PUBLIC,
               summary="The store's CA certificate, to trust once on each tablet")
    table.api("GET", "/api/v1/openapi.json", openapi, permission=PUBLIC,
              summary="This API, described in OpenAPI 3")
