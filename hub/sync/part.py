"""The sync part of `loupe run`: replicate to HQ when enrolled, idle (and say so) when not.

`loupe enroll` on a running hub goes through the hub (`hub.control`), which then calls
`SyncPart.restart()`: replication starts with the new enrollment at once, no restart needed.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from hub.runtime import Runtime
from hub.sync.model import SyncBook
from hub.sync.replicator import Replicator, SyncState, load_enrollment
from hub.sync.settings import SyncSettings, read_settings

log = logging.getLogger(__name__)


class SyncPart:
    """Runs the replicator for the books' current enrollment (`runtime.sync`)."""

    def __init__(self, runtime: Runtime, settings: SyncSettings) -> None:
        self.runtime = runtime
        self.settings = settings
        self.book = SyncBook(runtime.store.ledger)  # the sync area's own tables
        self.replicator: Replicator | None = None
        self.idle_because = ""

    async def restart(self) -> str:
        """(Re)start replication from the enrollment in the books; say what now happens."""
        await self.stop()
        runtime = self.runtime
        enrollment = await load_enrollment(runtime.store.ledger)
        if not self.settings.enabled or enrollment is None:
            why = ("sync.enabled is false" if not self.settings.enabled else
                   "this store is not enrolled with HQ (run `loupe enroll BUNDLE`)")
            self.idle_because = why
            log.info("sync idle: %s", why)
            runtime.bus.publish("sync.state", **self.status())
            return f"sync idle: {why}"
        replicator = Replicator(runtime.store, self.settings, enrollment)
        await replicator.start()
        self.replicator = replicator
        return f"replicating to {replicator.broker.url}"

    def status(self) -> dict[str, Any]:
        """Where sync stands: the replicator's state, or idle and why."""
        if self.replicator is not None:
            return self.replicator.status()
        return {"state": SyncState.IDLE, "connected": False, "problem": self.idle_because,
                "backlog": 0, "seq": self.runtime.store.ledger.seq, "acked": 0}

    async def stop(self) -> None:
        replicator, self.replicator = self.replicator, None
        if replicator is not None:
            await replicator.stop()


@contextlib.asynccontextmanager
async def part(runtime: Runtime) -> AsyncIterator[SyncPart]:
    settings = read_settings(runtime.config.section("sync"))  # ConfigError names the key
    sync = SyncPart(runtime, settings)
    await sync.restart()
    runtime.sync = sync
    try:
        yield sync
    finally:
        runtime.sync = None
        await sync.stop()
