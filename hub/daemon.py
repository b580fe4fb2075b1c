"""`loupe run`: the daemon's life as one structured sequence, like aiohttp's web_runner.

The store's lock is taken first (`hub.control`: one writer per store) and the books open
next; both are let go last. Between them, each *part* (devices, counts,
sync, web — whichever are installed) is an async context manager entered in order and exited
in reverse, so on SIGTERM the web stops taking requests, devices and sync stop, and the ledger
finishes its in-flight commits before the process exits.

A part is a module with `async def part(runtime)`, decorated with
`contextlib.asynccontextmanager`, that yields once it is running. Parts share what they offer
through `runtime.services` (the device manager, the replicator...), looked up by name.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub.bus import EventBus
from hub.config import Config
from hub.control import BooksLock
from hub.layers import optional_modules
from hub.store import Store

log = logging.getLogger(__name__)

# In start order; a module that is not installed yet is skipped.
# The control channel comes last: CLI commands arrive once every part they may touch runs,
# and stop arriving first at shutdown.
PART_MODULES = ("hub.devices.part", "hub.counts.part", "hub.sync.part", "hub.web.part",
                "hub.control")


@dataclass
class Options:
    """How this run was asked for (from the command line)."""

    host: str = "0.0.0.0"
    port: int = 8443
    insecure_http: bool = False
    demo: bool = False
    zeroconf: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Runtime:
    config: Config
    store: Store
    bus: EventBus
    options: Options
    services: dict[str, Any] = field(default_factory=dict)
    stopping: asyncio.Event = field(default_factory=asyncio.Event)


def load_parts() -> list[Any]:
    return optional_modules(PART_MODULES)


def hold_books(data_dir: Path, options: Options) -> BooksLock:
    """The store's lock, for the life of the hub; a second hub on these books is refused."""
    from hub.control import BooksHeld, ControlError

    try:
        return BooksLock.acquire(data_dir, "loupe demo" if options.demo else "loupe run")
    except BooksHeld as held:
        raise ControlError(f"{held}: one hub per store, and this one cannot start"
                           " beside it") from None


@contextlib.asynccontextmanager
async def running(config: Config, options: Options, lock: BooksLock | None = None):
    """Take the store's lock (unless `lock` is already held), open the books and start every
    part; yields the Runtime; stops all in reverse."""
    lock = lock or hold_books(config.data_dir, options)
    try:
        bus = EventBus(asyncio.get_running_loop())
        store = await Store.open(config, bus)
        runtime = Runtime(config, store, bus, options)
        try:
            async with contextlib.AsyncExitStack() as stack:
                for module in load_parts():
                    await stack.enter_async_context(module.part(runtime))
                    log.info("part started", extra={"part": module.__name__})
                yield runtime
                log.info("stopping")
        finally:
            await store.close()
            log.info("stopped", extra={"seq": store.ledger.seq})
    finally:
        lock.release()


async def run(config: Config, options: Options, lock: BooksLock | None = None) -> None:
    """Run until SIGTERM or SIGINT, then stop cleanly."""
    loop = asyncio.get_running_loop()
    async with running(config, options, lock) as runtime:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, runtime.stopping.set)
        log.info("running", extra={"store_id": config.store_id, "seq": runtime.store.ledger.seq})
        await runtime.stopping.wait()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
