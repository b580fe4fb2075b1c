"""Web benchmark: item search over HTTP on a store of 100,000 pieces, against a bare aiohttp
handler returning a fixed JSON body of the same size; process start to first request; and
the search service itself (no HTTP): free-text queries against filtered ones and against the
LIKE scan free text used to be, in the same run on the same store.

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
# Free-text searches a jeweler types: several words in any order, accents typed or not,
# prefixes, a plural, codes, and words that match nothing.
TEXT_QUERIES = ("ruby brooch", "brooch ruby", "Kono", "Kōno ring", "etoile", "Lumière riviera",
                "aur", "diam", "gold ring", "18k white gold", "white gold solitaire diamond",
                "rings", "sapphire watch", "Castellane Nocturne pearl", "ca", "eternity band",
                "LP-004242", "xyzzy", "emerald zzzz", "verdier bangle rose", "plat", "hoops 14k",
                "nothing matches this")
# Filtered searches answered from an index with early exit (the same run's reference).
FILTER_QUERIES = ({"category": "ring", "status": "in_stock"},
                  {"metal": "gold", "fineness": 750, "price_min": 200000, "price_max": 900000},
                  {"category": "necklace", "location": "showcase-2"}, {"stone": "diamond"},
                  {})
# What free-text search did before FTS5: LIKE over the text columns (a full scan on a miss).
LIKE_SQL = ("SELECT * FROM items WHERE (item_id LIKE ? OR sku LIKE ? OR epc = ? OR description"
            " LIKE ? OR designer LIKE ? OR collection LIKE ?) ORDER BY item_id LIMIT 20")
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
    from hub.ledger.schema import CORE
    from hub.store import Store, init_store

    # Named by the core schema version: a store built by older code is not migrated in place
    # (another checkout's benchmark may still use it).
    folder = Path(tempfile.gettempdir()) / f"loupe-bench-web-{pieces}-core{CORE.latest}"
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


def _p99_ms(samples: list[float]) -> float:
    samples = sorted(samples)
    return samples[max(0, int(len(samples) * 0.99) - 1)] * 1000


async def _service_search(folder: Path, rounds: int, out) -> dict[str, float]:
    """`Items.search` called in process (no HTTP): p99 of free-text and of filtered queries,
    and of the LIKE query free text used to be, on the same store in the same run."""
    from hub.store import Store

    text: list[float] = []
    filtered: list[float] = []
    like: list[float] = []
    slowest: dict[str, float] = {}
    async with await Store.open(folder) as store:
        search = store.items.search
        for q in TEXT_QUERIES:  # warm the page cache
            await search(text=q, limit=20)
        for _ in range(rounds):
            for q in TEXT_QUERIES:
                t0 = time.perf_counter()
                await search(text=q, limit=20)
                took = time.perf_counter() - t0
                text.append(took)
                slowest[q] = max(slowest.get(q, 0.0), took)
            for f in FILTER_QUERIES:
                t0 = time.perf_counter()
                await search(limit=20, **f)
                filtered.append(time.perf_counter() - t0)
        for _ in range(max(1, rounds // 10)):
            for q in TEXT_QUERIES:
                pattern = f"%{q}%"
                t0 = time.perf_counter()
                await store.ledger.fetch(LIKE_SQL, (pattern, pattern, q.upper(), pattern,
                                                    pattern, pattern))
                like.append(time.perf_counter() - t0)
        page = await search(text="gold", limit=20)
        broad = f"{'more than ' if page.total_is_capped else ''}{page.total:,}"
    worst = sorted(slowest.items(), key=lambda kv: -kv[1])[:3]
    print(f"  service search ({rounds} rounds of {len(TEXT_QUERIES)} text and"
          f" {len(FILTER_QUERIES)} filtered queries, page of 20 with its total):", file=out)
    print(f"    free text p99 {_p99_ms(text):6.2f} ms (target < 5 ms)   filtered p99"
          f" {_p99_ms(filtered):6.2f} ms   old LIKE free text p99 {_p99_ms(like):6.2f} ms",
          file=out)
    print("    slowest text: " + ", ".join(f"{q!r} {t * 1000:.2f} ms" for q, t in worst)
          + f"; 'gold' totals {broad}", file=out)
    return {"web.search_text_p99_ms": _p99_ms(text), "web.search_filter_p99_ms":
            _p99_ms(filtered), "web.search_like_p99_ms": _p99_ms(like)}


async def run(quick: bool, out) -> dict[str, float]:
    pieces = 5_000 if quick else 100_000
    seconds = 2.0 if quick else 6.0
    workers = 8
    folder = await _build_store(pieces, out)
    service = await _service_search(folder, 20 if quick else 100, out)
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
            "web.baseline_rps": bare_rps, "web.startup_s": startup, **service}
