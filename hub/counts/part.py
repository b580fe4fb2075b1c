"""The counts part of the daemon: feeds every open count from the bus while the hub runs."""

from __future__ import annotations

import contextlib
from typing import Any

from hub.counts.service import Counts
from hub.counts.settings import count_settings


@contextlib.asynccontextmanager
async def part(runtime: Any):
    counts = Counts(runtime.store, runtime.bus, count_settings(runtime.config))
    await counts.start()
    runtime.services["counts"] = counts
    try:
        yield counts
    finally:
        runtime.services.pop("counts", None)
        await counts.stop()  # flushes the reads of open counts: a restart resumes them
