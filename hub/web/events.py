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
from collections import OrderedDict
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


class Frames:
    """Each event encoded once for every browser: a sale fans out to every open screen
    (fifty on a busy day), and building its JSON per socket cost the loop more than
    anything else under load. A frame is kept per (event, pattern, role): a redactor
    decides by what the person's role may see (costs), so one role's sessions get the
    same bytes, and a browser still gets exactly what it got before."""

    RECENT = 256  # events kept encoded: more than a burst still queued for the slowest socket

    def __init__(self) -> None:
        # id(event) -> [the event (kept, so its id is not reused), the topics it was matched
        # in, the pattern it matched, its frames by (pattern, role)]
        self._recent: OrderedDict[int, list[Any]] = OrderedDict()

    def frame(self, request: web.Request, topics: dict[str, Redactor | None],
              event: Event) -> bytes | None:
        entry = self._recent.get(id(event))
        if entry is None or entry[0] is not event or entry[1] is not topics:
            pattern = next((p for p in topics if topic_matches(p, event.topic)), None)
            entry = [event, topics, pattern, {}]
            self._recent[id(event)] = entry
            if len(self._recent) > self.RECENT:
                self._recent.popitem(last=False)
        _, _, pattern, frames = entry
        if pattern is None:
            return None
        redact = topics[pattern]
        key = (pattern, None if redact is None else session_of(request).role)
        if key not in frames:
            data = event.data if redact is None else redact(request, event.topic, event.data)
            frames[key] = None if data is None else json.dumps(
                {"topic": event.topic, "at": event.at, "data": data},
                default=str, ensure_ascii=False).encode()
        return frames[key]


_FRAMES = Frames()  # events are the bus's own objects, so one cache serves every app


def _frame(request: web.Request, topics: dict[str, Redactor | None],
           event: Event) -> bytes | None:
    return _FRAMES.frame(request, topics, event)


async def events_socket(request: web.Request) -> web.WebSocketResponse:
    session = session_of(request)
    app = request.app
    table = app[ENDPOINTS]
    topics = table.topic_patterns
    # Subscribed before the handshake completes: once a browser is connected, nothing
    # published after that moment is missed.
    sub = app[RUNTIME].bus.subscribe(*topics, maxsize=500,
                                     exclude=tuple(table.topics_excluded))
    # No per-message deflate: each socket has its own compressor, so one frame could not be
    # shared; the frames are a few hundred bytes on the shop's own network.
    ws = web.WebSocketResponse(heartbeat=30, compress=False)
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
                await ws.send_frame(frame, WSMsgType.TEXT)  # the same bytes to every socket

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
