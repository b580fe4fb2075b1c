"""Live events to the browsers: /api/v1/events.

The WebSocket forwards the bus topics every layer declared (`Endpoints.topics`) to signed-in
screens, each through its layer's redactor: committed journal entries as
`hub.core.entries.browser_entry` allows (the same allowlist as a piece's history), cart
changes, and the devices', counts' and sync's own topics. The subscription is made with the
topics a browser never gets excluded, so they never even reach its queue.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from hub.bus import Event, topic_matches
from hub.web.kernel import (
    ENDPOINTS,
    RUNTIME,
    SESSIONS,
    SIGNED_IN,
    WS_CLIENTS,
    Endpoints,
    Redactor,
    for_browser,
    session_of,
)

log = logging.getLogger(__name__)


def journal_entry(request: web.Request, topic: str, data: dict[str, Any]) -> dict[str, Any]:
    return for_browser(request, data)


def _frame(request: web.Request, topics: dict[str, Redactor | None], event: Event) -> str | None:
    for pattern, redact in topics.items():
        if topic_matches(pattern, event.topic):
            data = event.data if redact is None else redact(request, event.topic, event.data)
            if data is None:
                return None
            return json.dumps({"topic": event.topic, "at": event.at, "data": data},
                              default=str, ensure_ascii=False)
    return None


async def events_socket(request: web.Request) -> web.WebSocketResponse:
    session = session_of(request)
    app = request.app
    table = app[ENDPOINTS]
    topics = table.topic_patterns
    # Subscribed before the handshake completes: once a browser is connected, nothing
    # published after that moment is missed.
    sub = app[RUNTIME].bus.subscribe(*topics, maxsize=500,
                                     exclude=tuple(table.topics_excluded))
    ws = web.WebSocketResponse(heartbeat=30)
    try:
        await ws.prepare(request)
    except BaseException:
        sub.close()
        raise
    app[WS_CLIENTS].add(ws)

    async def forward() -> None:
        while not ws.closed:
            event = await sub.get()
            if not app[SESSIONS].alive(session.sid):
                await ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"signed out")
                return
            frame = _frame(request, topics, event)
            if frame is not None:
                await ws.send_str(frame)

    sender = asyncio.create_task(forward())
    try:
        async for msg in ws:  # browsers only listen; a ping or close is all we expect
            if msg.type == WSMsgType.ERROR:
                break
    finally:
        sender.cancel()
        sub.close()
        app[WS_CLIENTS].discard(ws)
    return ws


def setup(table: Endpoints) -> None:
    table.websocket("/api/v1/events", events_socket, permission=SIGNED_IN,
                    summary="Live events: journal entries, carts, devices, counts, sync")
    table.topics("journal.*", journal_entry)
    table.topics("cart.*")
