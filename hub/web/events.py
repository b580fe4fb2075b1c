"""Live events to the browsers (/api/v1/events) and the scanner binding.

The WebSocket forwards bus events to signed-in screens: committed journal entries (with
client and staff payloads stripped: a profile never leaves the hub this way), cart changes,
and the topics of the devices, counts and sync layers. A scan from a scanner bound to a
register adds the scanned piece to that register's cart, so every screen showing it updates.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from hub.bus import Event
from hub.core.errors import Refused
from hub.web.app import CARTS, RUNTIME, SESSIONS, session_of
from hub.web.endpoints import ENDPOINTS, STAFF, Endpoints

log = logging.getLogger(__name__)

WS_CLIENTS = web.AppKey("ws_clients", set)
# Journal kinds whose payload a screen may see; every other entry goes out as a header only.
_PUBLIC_PAYLOADS = ("item.", "stock.", "sale.", "approval.")


def redact_journal(topic: str, data: dict[str, Any]) -> dict[str, Any] | None:
    out = {k: data.get(k) for k in ("seq", "kind", "subject", "actor", "ts")}
    if str(data.get("kind", "")).startswith(_PUBLIC_PAYLOADS):
        out["payload"] = data.get("payload")
    return out


def _pass(topic: str, data: dict[str, Any]) -> dict[str, Any] | None:
    return data


def _drop(topic: str, data: dict[str, Any]) -> dict[str, Any] | None:
    return None


def _topics(table: Endpoints) -> dict[str, Any]:
    # Raw tag reads come at up to ~1,000/s per reader: screens get count.progress instead.
    topics: dict[str, Any] = {"journal.*": redact_journal, "cart.*": _pass,
                              "device.rfid.read": _drop, "device.*": _pass,
                              "count.*": _pass, "sync.*": _pass}
    for pattern, redact in table.topic_patterns.items():
        topics[pattern] = redact or _pass
    return topics


def _frame(topics: dict[str, Any], event: Event) -> str | None:
    from hub.bus import topic_matches

    for pattern, redact in topics.items():
        if topic_matches(pattern, event.topic):
            data = redact(event.topic, event.data)
            if data is None:
                return None
            return json.dumps({"topic": event.topic, "at": event.at, "data": data},
                              default=str, ensure_ascii=False)
    return None


async def events_socket(request: web.Request) -> web.WebSocketResponse:
    session = session_of(request)
    app = request.app
    topics = _topics(app[ENDPOINTS])
    ws = web.WebSocketResponse(heartbeat=30)
    await ws.prepare(request)
    app[WS_CLIENTS].add(ws)
    sub = app[RUNTIME].bus.subscribe(*topics, maxsize=500)

    async def forward() -> None:
        while not ws.closed:
            event = await sub.get()
            if not app[SESSIONS].alive(session.sid):
                await ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"signed out")
                return
            frame = _frame(topics, event)
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


async def websockets(app: web.Application):
    app[WS_CLIENTS] = set()
    yield
    for ws in list(app[WS_CLIENTS]):
        await ws.close(code=WSCloseCode.GOING_AWAY, message=b"hub stopping")


async def scanner_binding(app: web.Application):
    """`device.scan` {device, register, code, symbology} -> that register's cart."""
    runtime = app[RUNTIME]
    tasks: set[asyncio.Task] = set()

    async def add_scanned(data: dict[str, Any]) -> None:
        from hub.web.api import find_piece

        register_id, code = data.get("register"), str(data.get("code") or "")
        if register_id not in runtime.store.sales.registers:
            return  # a scanner bound to no register (or stock room): nothing to ring up
        counts = runtime.services.get("counts")
        if counts is not None and counts.sweeping(data.get("device")):
            return  # lent to a stock count: its scans count pieces, they do not sell them
        piece = await find_piece(runtime.store, code)
        try:
            if piece is None:
                raise Refused("not_found", "no piece with serial, tag or SKU “{code}”",
                              code=code)
            cart = await app[CARTS].add(register_id, item_id=piece["item_id"])
        except Refused as exc:
            runtime.bus.publish("cart.scan_refused", register_id=register_id, code=code[:60],
                                error=exc.code, detail=runtime.store.words.refusal(exc))
            return
        runtime.bus.publish("cart.changed", register_id=register_id, why="scanned",
                            by=data.get("device"), cart=cart)

    def on_scan(event: Event) -> None:
        task = asyncio.get_running_loop().create_task(add_scanned(event.data))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    unlisten = runtime.bus.listen("device.scan", on_scan)
    yield
    unlisten()
    for task in list(tasks):
        task.cancel()


def setup(table: Endpoints) -> None:
    table.websocket("/api/v1/events", events_socket, roles=STAFF,
                    summary="Live events: journal entries, carts, devices, counts, sync")
