"""Web benchmark: item search over HTTP on a store of 100,000 pieces, against a bare aiohttp
handler returning a fixed JSON body of the same size; and process start to first request.

Both servers run as their own processes (the hub as `loupe run`), the load generator here,
so the ratio compares like with like on this machine. The built store is cached under /tmp.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

PIN = "975310"
QUERIES = ("category=ring&status=in_stock&limit=20", "q=Aurore&limit=20",
           "metal=gold&fineness=750&price_min=200000&price_max=900000&limit=20",
           "category=necklace&location=showcase-2&limit=20", "stone=diamond&limit=20")
# Queries the projection answers from an index with early exit: the web layer's own cost.
FAST_QUERIES = ("q=Aurore&limit=20", "metal=gold&fineness=750&price_min=200000&limit=20",
                "limit=20", "q=Nocturne&limit=20")
if os.environ.get("LOUPE_BENCH_WEB_FAST"):
    QUERIES = FAST_QUERIES
BASELINE = """
import sys
from aiohttp import web
body = b'{"items":[' + b'x' * (int(sys.argv[2]) - 12) + b'],"count":1}'
async def handler(request):
    return web.Response(body=body, content_type="application/json")
app = web.Application()
app.router.add_get("/api/v1/items", handler)
app.router.add_get("/healthz", handler)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _build_store(pieces: int, out) -> Path:
    """A store of `pieces` generated pieces and one bench associate (cached between runs)."""
    from hub.core.staff import Staff
    from hub.generate import make_piece
    from hub.store import Store, init_store

    folder = Path(tempfile.gettempdir()) / f"loupe-bench-web-{pieces}"
    if (folder / "ready").exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    started = time.perf_counter()
    config = init_store(folder, "bench-01", "Maison Bench", "EUR")
    async with await Store.open(config) as store:
        rng = random.Random(7)
        batch = 5000
        for start in range(0, pieces, batch):
            made = [make_piece(rng, n, config.default_tax)
                    for n in range(start + 1, min(start + batch, pieces) + 1)]
            await store.items.receive_many(made, actor="bench")
        await Staff(store.ledger).enroll("bench", "Bench Associate", "associate", PIN,
                                         actor="bench")
    (folder / "ready").write_text("ok")
    print(f"  built a store of {pieces} pieces in {time.perf_counter() - started:.1f} s",
          file=out)
    return folder


async def _wait_up(url: str, proc: subprocess.Popen, timeout: float = 60) -> float:
    started = time.perf_counter()
    async with aiohttp.ClientSession() as session:
        while time.perf_counter() - started < timeout:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}")
            try:
                async with session.get(url) as resp:
                    if resp.status == 200:
                        return time.perf_counter()
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.01)
    raise RuntimeError(f"{url} did not answer in {timeout} s")


async def _load(base: str, cookies: dict[str, str], seconds: float,
                workers: int) -> tuple[float, float, int]:
    """Requests per second, p99 latency (ms) and mean body size over `seconds`."""
    latencies: list[float] = []
    sizes: list[int] = []
    stop = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=workers)
    async with aiohttp.ClientSession(connector=connector, cookies=cookies) as session:
        async def worker(n: int) -> None:
            i = n
            while time.perf_counter() < stop:
                t0 = time.perf_counter()
                async with session.get(f"{base}/api/v1/items?{QUERIES[i % len(QUERIES)]}") as r:
                    body = await r.read()
                    assert r.status == 200, body[:200]
                latencies.append(time.perf_counter() - t0)
                sizes.append(len(body))
                i += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker(n) for n in range(workers)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    return len(latencies) / elapsed, p99, sum(sizes) // max(1, len(sizes))


async def run(quick: bool, out) -> dict[str, float]:
    pieces = 5_000 if quick else 100_000
    seconds = 2.0 if quick else 6.0
    workers = 8
    folder = await _build_store(pieces, out)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}

    port = _free_port()
    started = time.perf_counter()
    hub = subprocess.Popen([sys.executable, "-m", "hub", "run", "--data-dir", str(folder),
                            "--host", "127.0.0.1", "--port", str(port), "--insecure-http",
                            "--no-zeroconf", "--log-level", "warning"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        startup = await _wait_up(f"http://127.0.0.1:{port}/healthz", hub) - started
        base = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as session:
            async with session.post(f"{base}/api/v1/session",
                                    json={"staff_id": "bench", "pin": PIN}) as r:
                assert r.status == 200, await r.text()
                cookies = {k: v.value for k, v in r.cookies.items()}
        await _load(base, cookies, 0.5, workers)  # warm the page cache and the connections
        rps, p99, size = await _load(base, cookies, seconds, workers)
    finally:
        hub.terminate()
        hub.wait(10)

    port = _free_port()
    bare = subprocess.Popen([sys.executable, "-c", BASELINE, str(port), str(size)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        await _wait_up(f"http://127.0.0.1:{port}/healthz", bare)
        base = f"http://127.0.0.1:{port}"
        await _load(base, {}, 0.5, workers)
        bare_rps, bare_p99, _ = await _load(base, {}, seconds, workers)
    finally:
        bare.terminate()
        bare.wait(10)

    print(f"  store: {pieces} pieces; {workers} concurrent clients for {seconds:.0f} s;"
          f" mean body {size} bytes", file=out)
    print(f"  hub search:   {rps:8.0f} req/s  p99 {p99:6.1f} ms", file=out)
    print(f"  bare aiohttp: {bare_rps:8.0f} req/s  p99 {bare_p99:6.1f} ms", file=out)
    print(f"  ratio {rps / bare_rps:.2f} (target >= 0.4); startup {startup:.2f} s (target < 2 s)",
          file=out)
    return {"web.search_rps": rps, "web.search_p99_ms": p99, "web.search_ratio": rps / bare_rps,
            "web.baseline_rps": bare_rps, "web.startup_s": startup}
