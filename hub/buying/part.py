"""The buying part of the daemon: `[buying]` read at start (a wrong key stops the hub with
the key named), the buy-ins on the runtime, and the `trade_in` tender of sales."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator

from hub.buying.book import Buying, settings_of
from hub.runtime import Runtime
from hub.store import Store


@contextlib.contextmanager
def buying_of(store: Store) -> Iterator[Buying]:
    """The buy-ins on a store's sales while inside (the part, the demo and tests)."""
    buying = Buying(store, settings_of(store.config))
    store.sales.extensions.append(buying)
    try:
        yield buying
    finally:
        store.sales.extensions.remove(buying)


@contextlib.asynccontextmanager
async def part(runtime: Runtime) -> AsyncIterator[Buying]:
    with buying_of(runtime.store) as buying:
        runtime.buying = buying
        try:
            yield buying
        finally:
            runtime.buying = None
