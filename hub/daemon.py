"""`loupe run`: the daemon's life as one structured sequence, like aiohttp's web_runner.

The store's lock is taken first (`hub.control`: one writer per store) and the books open
next; both are let go last. Between them, each layer's *part* (`hub/layers.py`, in order:
devices, counts, sync, web, the control channel) is an async context manager entered in
order and exited in reverse, so on SIGTERM the control channel and the web stop taking
requests first, devices and sync stop, and the ledger finishes its in-flight commits before
the process exits.

A part is `async def part(runtime)`, decorated with `contextlib.asynccontextmanager`, that
yields once it is running and sets its typed member of the `Runtime` (`runtime.devices`,
`runtime.counts`...).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

from hub import layers, systemd
from hub.backup.restore import refuse_if_restoring
from hub.bus import EventBus
from hub.config import Config
from hub.control import BooksHeld, BooksLock, ControlError
from hub.ledger import schema, upgrade
from hub.runtime import Layer, Options, Runtime
from hub.store import Store

log = logging.getLogger(__name__)


def hold_books(data_dir: Path, options: Options) -> BooksLock:
    """The store's lock, for the life of the hub; a second hub on these books is refused."""
    try:
        return BooksLock.acquire(data_dir, "loupe demo" if options.demo else "loupe run")
    except BooksHeld as held:
        raise ControlError(f"{held}: one hub per store, and this one cannot start"
                           " beside it") from None


@contextlib.asynccontextmanager
async def running(config: Config, options: Options, lock: BooksLock | None = None,
                  with_layers: tuple[Layer, ...] = layers.LAYERS) -> AsyncIterator[Runtime]:
    """Take the store's lock (unless `lock` is already held), open the books and start every
    layer's part; yields the Runtime; stops all in reverse."""
    refuse_if_restoring(config.data_dir)  # a restore that has not fetched HQ's entries yet
    lock = lock or hold_books(config.data_dir, options)
    try:
        if not options.demo:  # books of an earlier Loupe: verified by this one before migrated
            await asyncio.to_thread(upgrade.refuse_unverified, config.db_path, (
                schema.LEDGER, *layers.schemas(layers.areas(with_layers))), config.data_dir)
        bus = EventBus(asyncio.get_running_loop())
        store = await Store.open(config, bus, with_layers=with_layers)
        runtime = Runtime(config, store, bus, options, with_layers)
        try:
            async with contextlib.AsyncExitStack() as stack:
                for layer in with_layers:
                    if layer.part is not None:
                        await stack.enter_async_context(layers.load(layer.part).part(runtime))
                        log.info("part started", extra={"part": layer.name})
                yield runtime
                log.info("stopping")
        finally:
            await store.close()
            log.info("stopped", extra={"seq": store.ledger.seq})
    finally:
        lock.release()


@contextlib.contextmanager
def collector_paused() -> Iterator[Callable[[], None]]:
    """The cyclic garbage collector paused while the hub starts; the callable yielded
    resumes it with what the start made frozen out of its rounds (`gc.freeze`).

    The start reads the books into memory: objects that live as long as the hub. Made with
    the collector on, each batch of them set off a round that walked all the others again
    (20,000 clients' profiles: 1.63 s to open with it on, 0.57 s with it off); frozen, the
    later rounds do not walk them either. What the start leaves in a cycle is kept for
    good: the start makes few."""
    gc.disable()
    resumed = False

    def resume() -> None:
        nonlocal resumed
        if not resumed:
            resumed = True
            gc.freeze()
            gc.enable()

    try:
        yield resume
    finally:
        resume()


async def run(config: Config, options: Options, lock: BooksLock | None = None) -> None:
    """Run until SIGTERM or SIGINT, then stop cleanly."""
    loop = asyncio.get_running_loop()
    with collector_paused() as started:
        async with running(config, options, lock) as runtime, \
                systemd.told(runtime) as stopping:
            # The parts' own loads (the counts' pieces) go on after the hub answers.
            loaded = asyncio.ensure_future(when_loaded(runtime.loading, started))

            def stop() -> None:
                stopping()  # systemd hears it before the parts stop
                runtime.stopping.set()

            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, stop)
            log.info("running", extra={"store_id": config.store_id,
                                       "seq": runtime.store.ledger.seq})
            await runtime.stopping.wait()
            loaded.cancel()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)


async def when_loaded(loading: list[Awaitable[None]], then: Callable[[], None]) -> None:
    """`then()` once every load is done (failed or not: each says so itself)."""
    await asyncio.gather(*loading, return_exceptions=True)
    then()
