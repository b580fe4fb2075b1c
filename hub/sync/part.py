"""The sync part of `loupe run`: replicate to HQ when enrolled, idle (and say so) when not."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from hub.sync.replicator import Replicator, load_enrollment
from hub.sync.settings import parse_settings

log = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def part(runtime: Any):
    settings = parse_settings(runtime.config.section("sync"))  # ConfigError names the key
    enrollment = await load_enrollment(runtime.store)
    if not settings.enabled or enrollment is None:
        why = ("sync.enabled is false" if not settings.enabled else
               "this store is not enrolled with HQ (run `loupe enroll BUNDLE`)")
        log.info("sync idle: %s", why)
        runtime.bus.publish("sync.state", state="idle", connected=False, problem=why,
                            backlog=0, seq=runtime.store.ledger.seq, acked=0)
        yield
        return
    replicator = Replicator(runtime.store, settings, enrollment)
    runtime.services["sync"] = replicator
    await replicator.start()
    try:
        yield
    finally:
        await replicator.stop()
