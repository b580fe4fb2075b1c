"""Dispatch of committed entries to the projection handlers of each domain module."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hub.ledger.journal import Entry
from hub.ledger.ledger import Tx

Handler = Callable[[Tx, Entry, dict[str, Any] | None], None]


class Projector:
    """Maps entry kinds to handlers. Handlers must be deterministic functions of the entry
    and its payload: a rebuild replays them and must produce the same rows byte for byte."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = {}

    def register(self, kind: str, handler: Handler) -> None:
        self._handlers.setdefault(kind, []).append(handler)

    def register_all(self, handlers: dict[str, Handler]) -> None:
        for kind, handler in handlers.items():
            self.register(kind, handler)

    def apply(self, tx: Tx, entry: Entry, payload: dict[str, Any] | None) -> None:
        for handler in self._handlers.get(entry.kind, ()):
            handler(tx, entry, payload)


def touch_item(tx: Tx, item_id: str, seq: int) -> None:
    """Record that entry `seq` is part of a piece's history."""
    tx.execute("INSERT OR IGNORE INTO item_history (item_id, seq) VALUES (?, ?)", (item_id, seq))
