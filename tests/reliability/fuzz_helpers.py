"""A running hub for the reliability suite: `loupe run` (every layer's part, the web app on a
real socket) in a thread of its own with its own event loop, so synchronous clients
(schemathesis' requests, Hypothesis' `@given`) can drive it from the test's thread.

The journal is read through a read-only SQLite connection of the test's own: what a caller
sees is what was committed, whatever the hub holds in memory."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from typing import Any

from hub.config import Config
from hub.daemon import running
from hub.runtime import Options, Runtime


class HubThread:
    """`with HubThread(config) as hub:` — `hub.base` is its URL, `hub.runtime` its parts
    (read them from here only for what does not change under a request: the roles book),
    `hub.run(coro)` runs a coroutine on the hub's loop and returns its result."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.runtime: Runtime | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._ready: Future[Runtime] = Future()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._main, name="hub", daemon=True)
        self._db: sqlite3.Connection | None = None

    def _main(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        options = Options(host="127.0.0.1", port=0, insecure_http=True, zeroconf=False)
        try:
            async with running(self.config, options) as runtime:
                self._ready.set_result(runtime)
                await self._stop.wait()
        except BaseException as exc:
            if not self._ready.done():
                self._ready.set_exception(exc)
            raise

    def __enter__(self) -> HubThread:
        self._thread.start()
        self.runtime = self._ready.result(timeout=60)
        assert self.runtime.web is not None
        self.base = f"http://127.0.0.1:{self.runtime.web.port}"
        db = self.config.db_path
        self._db = sqlite3.connect(f"file:{db}?mode=ro", uri=True, check_same_thread=False)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._db is not None:
            self._db.close()
        if self.loop is not None and self._stop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)

    def run(self, coro: Any, timeout: float = 30) -> Any:
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def journal_tip(self) -> tuple[int, bytes]:
        """The last committed entry's (seq, hash)."""
        assert self._db is not None
        row = self._db.execute("SELECT seq, hash FROM journal ORDER BY seq DESC LIMIT 1"
                               ).fetchone()
        return (0, b"") if row is None else (row[0], bytes(row[1]))

    def entries_after(self, seq: int) -> list[tuple[int, str, str, str]]:
        """(seq, kind, actor, subject) of the entries committed after `seq`."""
        assert self._db is not None
        return [tuple(r) for r in self._db.execute(
            "SELECT seq, kind, actor, subject FROM journal WHERE seq > ? ORDER BY seq",
            (seq,))]

    def ids(self, column: str, limit: int = 2) -> list[str]:
        """A few values of `column` from whichever tables of the books have one (real ids
        for a path: a client, a job, a sale)."""
        assert self._db is not None
        found: list[str] = []
        tables = [r[0] for r in self._db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " AND name NOT LIKE '%_fts%'")]
        for table in sorted(tables):
            with contextlib.suppress(sqlite3.Error):
                columns = {r[1] for r in self._db.execute(f'PRAGMA table_info("{table}")')}
                if column not in columns:
                    continue
                for (value,) in self._db.execute(
                        f'SELECT DISTINCT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL'
                        f' ORDER BY rowid DESC LIMIT {limit}'):
                    if str(value) not in found:
                        found.append(str(value))
            if len(found) >= limit:
                break
        return found[:limit]


@contextlib.contextmanager
def hub_thread(config: Config) -> Iterator[HubThread]:
    with HubThread(config) as hub:
        yield hub
