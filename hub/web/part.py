"""The web part of `loupe run` / `loupe demo`: serve the app, advertise it, stop cleanly."""

from __future__ import annotations

import contextlib
import logging

from aiohttp import web

from hub.web.app import create_app

log = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def part(runtime):
    opts = runtime.options
    config = runtime.config
    app = create_app(runtime)
    ssl_context = None
    if not opts.insecure_http:
        from hub.web.tls import server_context

        ssl_context = server_context(config.data_dir, config.store_id, config.store_name)
    # In-flight requests get 5 s to finish at shutdown, then the books close.
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=5)
    await runner.setup()
    site = web.TCPSite(runner, opts.host, opts.port, ssl_context=ssl_context)
    await site.start()
    port = runner.addresses[0][1] if runner.addresses else opts.port
    scheme = "http" if ssl_context is None else "https"
    runtime.services["web"] = {"app": app, "port": port, "scheme": scheme}
    shown = "localhost" if opts.host in ("127.0.0.1", "0.0.0.0") else opts.host
    print(f"Loupe is serving {config.store_name} at {scheme}://{shown}:{port}/", flush=True)
    log.info("web serving", extra={"scheme": scheme, "port": port})
    try:
        async with contextlib.AsyncExitStack() as stack:
            if opts.zeroconf:
                from hub.web.zeroconf import advertised

                try:
                    await stack.enter_async_context(advertised(
                        config.store_id, config.store_name, port, ssl_context is not None,
                        opts.host))
                except OSError as exc:  # no multicast here: the shop still sells
                    log.warning("zeroconf advertising failed", extra={"error": str(exc)})
            yield
    finally:
        await runner.cleanup()
