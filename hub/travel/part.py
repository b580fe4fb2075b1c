"""The travel layer's part of the daemon: `[currency]` and `[tax_free]` read at start (a
wrong key stops the hub with the key named), and `runtime.travel`."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from hub.runtime import Runtime
from hub.travel.service import Travel, travel_of


@contextlib.asynccontextmanager
async def part(runtime: Runtime) -> AsyncIterator[Travel]:
    with travel_of(runtime.store) as travel:
        runtime.travel = travel
        try:
            yield travel
        finally:
            runtime.travel = None
