"""The hub's in-process event bus.

Everything that happens (a journal entry committed, a scan, a weight, a cart change) is
published here once; the web socket, device bindings, counts and sync each subscribe to the
topics they care about. Publishing never blocks and never raises into the publisher: a slow
subscriber loses its oldest events (and is told how many) rather than stalling the shop.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Event:
    """One thing that happened. `topic` is dotted: `journal.sale.completed`, `device.scan`."""

    topic: str
    data: dict[str, Any]
    at: float = field(default_factory=time.time)


def topic_matches(pattern: str, topic: str) -> bool:
    """`*` matches all; `device.*` matches `device.scan` and `device.rfid.read`."""
    if pattern == "*" or pattern == topic:
        return True
    if pattern.endswith(".*"):
        return topic.startswith(pattern[:-1])
    return False


class Subscription:
    """A bounded queue of events for one consumer; iterate it with `async for`."""

    def __init__(self, bus: EventBus, patterns: tuple[str, ...], maxsize: int,
                 exclude: frozenset[str] = frozenset()) -> None:
        self._bus = bus
        self.patterns = patterns
        self.exclude = exclude
        self._queue: asyncio.Queue[Event] = asyncio.Queue(maxsize)
        self.dropped = 0

    def wants(self, topic: str) -> bool:
        return topic not in self.exclude and any(topic_matches(p, topic) for p in self.patterns)

    def offer(self, event: Event) -> None:
        if self._queue.full():
            # Drop the oldest: a live view wants the newest state, not a backlog.
            self._queue.get_nowait()
            self.dropped += 1
        self._queue.put_nowait(event)

    async def get(self) -> Event:
        return await self._queue.get()

    def get_nowait(self) -> Event | None:
        try:
            return self._queue.get_nowait()
        except asyncio.QueueEmpty:
            return None

    def close(self) -> None:
        self._bus._unsubscribe(self)

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Event:
        return await self._queue.get()

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class EventBus:
    """Fan-out of events to subscriptions (queues) and listeners (plain callbacks).

    Must be used from the event loop thread; other threads use `publish_threadsafe`.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._subs: list[Subscription] = []
        self._listeners: list[tuple[str, Callable[[Event], None]]] = []
        self._loop = loop
        # Who wants a topic, worked out once per topic until someone (un)subscribes: an RFID
        # reader publishes a thousand reads a second past fifty browsers' subscriptions.
        self._routes: dict[str, tuple[list[Subscription],
                                      list[Callable[[Event], None]]]] = {}

    def publish(self, topic: str, **data: Any) -> Event:
        event = Event(topic, data)
        self.publish_event(event)
        return event

    def _route(self, topic: str) -> tuple[list[Subscription], list[Callable[[Event], None]]]:
        route = self._routes.get(topic)
        if route is None:
            if len(self._routes) > 4_096:  # topics are a fixed vocabulary; belt and braces
                self._routes.clear()
            route = self._routes[topic] = (
                [sub for sub in self._subs if sub.wants(topic)],
                [listener for pattern, listener in self._listeners
                 if topic_matches(pattern, topic)])
        return route

    def publish_event(self, event: Event) -> None:
        subs, listeners = self._route(event.topic)
        for sub in subs:
            sub.offer(event)
        for listener in listeners:
            try:
                listener(event)
            except Exception:  # one bad listener must not stop the others
                log.exception("event listener failed", extra={"topic": event.topic})

    def publish_threadsafe(self, topic: str, **data: Any) -> None:
        loop = self._loop
        if loop is None:
            raise RuntimeError("event bus is not bound to a loop")
        loop.call_soon_threadsafe(self.publish_event, Event(topic, data))

    def subscribe(self, *patterns: str, maxsize: int = 1000,
                  exclude: tuple[str, ...] = ()) -> Subscription:
        """A queue of the events matching `patterns`; topics in `exclude` are never queued
        (a browser's socket is not filled with raw tag reads only to drop them)."""
        sub = Subscription(self, patterns or ("*",), maxsize, frozenset(exclude))
        self._subs = [*self._subs, sub]  # a new list: a publish under way keeps its own
        self._routes.clear()
        return sub

    def listen(self, pattern: str, listener: Callable[[Event], None]) -> Callable[[], None]:
        """Call `listener(event)` synchronously on every matching event; returns an unlisten."""
        entry = (pattern, listener)
        self._listeners = [*self._listeners, entry]
        self._routes.clear()

        def unlisten() -> None:
            if entry in self._listeners:
                self._listeners = [e for e in self._listeners if e is not entry]
                self._routes.clear()
        return unlisten

    def _unsubscribe(self, sub: Subscription) -> None:
        if sub in self._subs:
            self._subs = [s for s in self._subs if s is not sub]
            self._routes.clear()
