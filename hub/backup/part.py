"""The nightly backup of `loupe run`: at `backup.at` store time, to `backup.path`, keeping
`backup.keep`; on a worker thread (SQLite's backup and age run there, never on the loop).
Without `backup.path` the part idles and `loupe doctor` says there is no recent backup."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

from hub.backup.archive import BackupError, Made
from hub.backup.restore import read_secret_file
from hub.backup.service import back_up
from hub.backup.settings import BackupSettings, read_settings
from hub.runtime import Runtime

log = logging.getLogger(__name__)


def next_run(settings: BackupSettings, now: datetime) -> datetime:
    """The next `backup.at` after `now` (an aware datetime in the store's zone)."""
    at = now.replace(hour=settings.at.hour, minute=settings.at.minute, second=0,
                     microsecond=0)
    return at if at > now else at + timedelta(days=1)  # wall-clock days: DST keeps 03:00


class Nightly:
    def __init__(self, runtime: Runtime, settings: BackupSettings) -> None:
        self.runtime = runtime
        self.settings = settings

    async def backup_now(self) -> Made:
        """One backup to `backup.path`, said on the bus (`backup.made`/`backup.failed`)."""
        runtime, settings = self.runtime, self.settings
        try:
            if settings.path is None:
                raise BackupError("backup.path is not set in loupe.toml")
            passphrase = (read_secret_file(settings.passphrase_file, "passphrase file")
                          if settings.passphrase_file else None)
            made, hq = await back_up(runtime.store, settings.path, passphrase=passphrase,
                                     keep=settings.keep, send=settings.to_hq)
        except (BackupError, OSError) as exc:
            log.error("backup failed", extra={"error": str(exc)})
            runtime.bus.publish("backup.failed", problem=str(exc))
            raise
        log.info("backup written", extra={"path": str(made.path), "seq": made.seq,
                                          "bytes": made.size, "hq": hq})
        runtime.bus.publish("backup.made", **made.to_json(), hq=hq)
        return made

    async def run(self) -> None:
        tz = self.runtime.store.words.tz
        while True:
            now = datetime.now(tz)
            await asyncio.sleep((next_run(self.settings, now) - now).total_seconds())
            with contextlib.suppress(BackupError, OSError):  # said above; tomorrow again
                await self.backup_now()


@contextlib.asynccontextmanager
async def part(runtime: Runtime) -> AsyncIterator[Nightly]:
    nightly = Nightly(runtime, read_settings(runtime.config))  # ConfigError names the key
    task = (asyncio.create_task(nightly.run(), name="backup-nightly")
            if nightly.settings.path is not None else None)
    try:
        yield nightly
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
