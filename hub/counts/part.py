"""The counts part of the daemon: feeds every open count from the bus while the hub runs."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from hub.counts.service import Counts
from hub.counts.settings import count_settings
from hub.runtime import Runtime


@contextlib.asynccontextmanager
async def part(runtime: Runtime) -> AsyncIterator[Counts]:
    counts = Counts(runtime.store, runtime.bus, count_settings(runtime.config))
    counts.begin()  # the books load while the hub starts serving: `counts.ready()` waits
    runtime.loading.append(counts.loaded)
    runtime.counts = counts
    try:
        yield counts
    finally:
        runtime.counts = None
        await counts.stop()  # flushes the reads of open counts: a restart resumes them
