"""The web part of `loupe run` / `loupe demo`: serve the app, advertise it, stop cleanly."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from aiohttp import web, web_response
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError

from hub.runtime import Runtime, WebServing
from hub.web.app import SERVER_NAME, create_app
from hub.web.kernel import STATS
from hub.web.tls import server_context
from hub.web.zeroconf import advertised

log = logging.getLogger(__name__)


class ProtocolLog(logging.LoggerAdapter):
    """aiohttp's server logger for the hub's site. A malformed request (300 headers, a
    20 kB header line, a body that is not the gzip it claims) is the sender's fault, not the
    hub's: one line without a traceback, at most `burst` lines then one per `every_s`
    seconds (the rest counted, and named in the next line), so nobody can flood the log.
    Anything else aiohttp reports keeps its traceback."""

    def __init__(self, on_malformed: Callable[[], None], burst: int = 10,
                 every_s: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(logging.getLogger("hub.web.http"), {})
        self.on_malformed = on_malformed
        self.burst, self.every_s, self.clock = burst, every_s, clock
        self._tokens, self._filled_at, self.suppressed = float(burst), clock(), 0

    def exception(self, msg: object, *args: Any, exc_info: Any = True, **kwargs: Any) -> None:
        if not isinstance(exc_info, HttpProcessingError | RequestPayloadError):
            super().exception(msg, *args, exc_info=exc_info, **kwargs)
            return
        if isinstance(exc_info, HttpProcessingError):  # refused by the parser: no route ran
            self.on_malformed()  # (a body error comes after its request was answered, counted)
        now = self.clock()
        self._tokens = min(self.burst, self._tokens + (now - self._filled_at) / self.every_s)
        self._filled_at = now
        if self._tokens < 1:
            self.suppressed += 1
            return
        self._tokens -= 1
        remote = args[0] if args else None  # "Error handling request from %s", remote
        problem = str(getattr(exc_info, "message", "") or exc_info).strip()[:200]
        self.logger.warning("malformed request refused", extra={
            "remote": remote, "problem": problem, "suppressed": self.suppressed})
        self.suppressed = 0


def _count_malformed(app: web.Application) -> Callable[[], None]:
    def count() -> None:
        app[STATS]["malformed"] = app[STATS].get("malformed", 0) + 1
    return count


@contextlib.asynccontextmanager
async def part(runtime: Runtime) -> AsyncIterator[None]:
    opts = runtime.options
    config = runtime.config
    app = create_app(runtime)
    ssl_context = None
    if not opts.insecure_http:
        ssl_context = server_context(config.data_dir, config.store_id, config.store_name)
    # aiohttp answers malformed requests itself, before the app's headers apply: its
    # default Server header would name aiohttp's and Python's versions.
    web_response.SERVER_SOFTWARE = SERVER_NAME
    # In-flight requests get 5 s to finish at shutdown, then the books close.
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=5,
                           logger=ProtocolLog(_count_malformed(app)))
    await runner.setup()
    site = web.TCPSite(runner, opts.host, opts.port, ssl_context=ssl_context)
    await site.start()
    port = runner.addresses[0][1] if runner.addresses else opts.port
    scheme = "http" if ssl_context is None else "https"
    runtime.web = WebServing(app, port, scheme)
    shown = "localhost" if opts.host in ("127.0.0.1", "0.0.0.0") else opts.host
    print(f"Loupe is serving {config.store_name} at {scheme}://{shown}:{port}/", flush=True)
    if opts.zeroconf:  # say so: the hub announces itself to every device on the network
        print(f"  advertised on the local network as {config.store_id}.local (_loupe._tcp);"
              " --no-zeroconf turns this off", flush=True)
    log.info("web serving", extra={"scheme": scheme, "port": port})
    try:
        async with contextlib.AsyncExitStack() as stack:
            if opts.zeroconf:
                try:
                    await stack.enter_async_context(advertised(
                        config.store_id, config.store_name, port, ssl_context is not None,
                        opts.host))
                except OSError as exc:  # no multicast here: the shop still sells
                    log.warning("zeroconf advertising failed", extra={"error": str(exc)})
            yield
    finally:
        runtime.web = None
        await runner.cleanup()
