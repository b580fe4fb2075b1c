"""The transfers part of the daemon: `[transfers]` read at start (a wrong key stops the hub
with the key named), `runtime.transfers`, and HQ's transfer messages taken by this store."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator

from hub.runtime import Runtime
from hub.store import Store
from hub.transfers.book import Transfers, messages_of, settings_of


@contextlib.contextmanager
def transfers_of(store: Store) -> Iterator[Transfers]:
    """The transfers of a store, taking HQ's transfer messages while inside (the part, the
    demo and tests use the same)."""
    transfers = Transfers(store, settings_of(store.config))
    taken = messages_of(transfers)
    store.hq.layer_messages.update(taken)
    try:
        yield transfers
    finally:
        for name in taken:
            store.hq.layer_messages.pop(name, None)


@contextlib.asynccontextmanager
async def part(runtime: Runtime) -> AsyncIterator[Transfers]:
    with transfers_of(runtime.store) as transfers:
        runtime.transfers = transfers
        try:
            yield transfers
        finally:
            runtime.transfers = None
