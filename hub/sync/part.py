"""The sync part of `loupe run`: replicate to HQ when enrolled, idle (and say so) when not.

`loupe enroll` on a running hub goes through the hub (`hub.control`), which then calls
`SyncPart.restart()`: replication starts with the new enrollment at once, no restart needed.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from hub.sync.replicator import Replicator, SyncState, load_enrollment
from hub.sync.settings import SyncSettings, read_settings

log = logging.getLogger(__name__)


class SyncPart:
    """Runs the replicator for the books' current enrollment (`runtime.services["sync"]`)."""

    def __init__(self, runtime: Any, settings: SyncSettings) -> None:
        self.runtime = runtime
        self.settings = settings
        self.replicator: Replicator | None = None

    async def restart(self) -> str:
        """(Re)start replication from the enrollment in the books; say what now happens."""
        await self.stop()
        runtime = self.runtime
        enrollment = await load_enrollment(runtime.store.ledger)
        if not self.settings.enabled or enrollment is None:
            why = ("sync.enabled is false" if not self.settings.enabled else
                   "this store is not enrolled with HQ (run `loupe enroll BUNDLE`)")
            log.info("sync idle: %s", why)
            runtime.bus.publish("sync.state", state=SyncState.IDLE, connected=False, problem=why,
                                backlog=0, seq=runtime.store.ledger.seq, acked=0)
            return f"sync idle: {why}"
        replicator = Replicator(runtime.store, self.settings, enrollment)
        await replicator.start()
        self.replicator = replicator
        runtime.services["sync"] = replicator
        return f"replicating to {replicator.broker.url}"

    async def stop(self) -> None:
        replicator, self.replicator = self.replicator, None
        if replicator is not None:
            self.runtime.services.pop("sync", None)
            await replicator.stop()


@contextlib.asynccontextmanager
async def part(runtime: Any):
    settings = read_settings(runtime.config.section("sync"))  # ConfigError names the key
    sync = SyncPart(runtime, settings)
    await sync.restart()
    runtime.services["sync_part"] = sync
    try:
        yield
    finally:
        runtime.services.pop("sync_part", None)
        await sync.stop()
