"""Web benchmark: item search over HTTP on a store of 100,000 pieces, against a bare aiohttp
handler returning a fixed JSON body of the same size; process start to first request; and
the search service itself (no HTTP): free-text queries against filtered ones and against the
LIKE scan free text used to be, in the same run on the same store.

The HTTP mix is what a shop asks: 5,000 distinct searches (words from the store's own
designers, collections, categories and stones, filters, next pages), drawn with a Zipf skew,
so a few are asked often and most rarely. It runs three times on the hub — with the page
cache (its hit rate read from /metrics), without it (`[web] search_cache_pages = 0`), and on
searches the cache holds (the web path's own cost) — and once on the bare handler.

Both servers run as their own processes (the hub as `loupe run`), the load generator here,
so the ratio compares like with like on this machine. The built store is cached under /tmp.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp

PIN = "975310"
DISTINCT = 5_000  # distinct searches in the HTTP mix
METRICS_TOKEN = "bench-metrics-token-0123456789"
ZIPF_S = 1.0  # how skewed: the k-th most asked search is asked 1/k as often as the first
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
    from hub.core.schema import CORE
    from hub.generate import make_piece
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
        await store.staff.enroll("bench", "Bench Associate", "associate", PIN, actor="bench")
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


async def _load(base: str, cookies: dict[str, str], seconds: float, workers: int,
                paths: list[str]) -> tuple[float, float, int]:
    """Requests per second, p99 latency (ms) and mean body size over `seconds`, the workers
    walking `paths` (each from its own place) in turn."""
    latencies: list[float] = []
    sizes: list[int] = []
    stop = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=workers)
    async with aiohttp.ClientSession(connector=connector, cookies=cookies) as session:
        async def worker(n: int) -> None:
            i = n * len(paths) // workers
            while time.perf_counter() < stop:
                t0 = time.perf_counter()
                async with session.get(base + paths[i % len(paths)]) as r:
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


async def _search_mix(folder: Path, draws: int) -> tuple[list[str], list[str]]:
    """(`draws` request paths drawn from DISTINCT searches with a Zipf skew, the 50 most
    asked of them). Words come from the store's own pieces; a next page is asked only
    where the page before it said there is one. (Cached beside the store.)"""
    saved = folder / f"search-mix-{DISTINCT}.json"
    if saved.exists():
        ranked = json.loads(saved.read_text())
    else:
        ranked = await _distinct_searches(folder)
        saved.write_text(json.dumps(ranked))
    rng = random.Random(13)
    weights = [1 / (k + 1) ** ZIPF_S for k in range(len(ranked))]
    return rng.choices(ranked, weights, k=draws), ranked[:50]


async def _distinct_searches(folder: Path) -> list[str]:
    from hub.core.items import search_filters
    from hub.store import Store

    async with await Store.open(folder, read_only=True) as store:
        async def column(name: str) -> list[str]:
            rows = await store.ledger.fetch(f"SELECT DISTINCT {name} FROM items")
            return sorted(r[0] for r in rows if r[0])

        designers, collections, categories, locations, metals = [
            await column(c) for c in ("designer", "collection", "category", "location", "metal")]

        async def reachable(params: dict[str, Any]) -> bool:
            page = await store.items.search(**search_filters({k: str(v) for k, v in
                                                              params.items()}))
            return bool(page.items)

        stones = ["diamond", "ruby", "sapphire", "emerald", "pearl", "tourmaline", "spinel"]
        words = sorted({w for name in designers + collections for w in name.split()
                        if len(w) > 2} | set(categories) | set(stones) | set(metals)
                       | {"18k", "white", "rose", "yellow", "solitaire", "hoops", "eternity"})
        rng = random.Random(11)
        distinct: set[str] = set()
        while len(distinct) < DISTINCT:
            params = _one_search(rng, words, designers, categories, locations, metals)
            if params["offset"] and not await reachable(params):
                continue  # nobody is offered a page past the last
            distinct.add("/api/v1/items?" + urlencode(params))
    ranked = sorted(distinct)
    rng.shuffle(ranked)
    return ranked


def _one_search(rng: random.Random, words: list[str], designers: list[str],
                categories: list[str], locations: list[str], metals: list[str]
                ) -> dict[str, Any]:
    """A search a shop might ask: words typed in the box (perhaps with a filter), or the
    stock list narrowed by filters; now and then its next page."""
    params: dict[str, Any] = {"limit": 20}
    kind = rng.random()
    if kind < 0.55:  # words typed in the box, perhaps with a filter
        params["q"] = " ".join(rng.sample(words, rng.choice((1, 1, 2, 2, 3))))
        if rng.random() < 0.3:
            name, values = rng.choice((("category", categories), ("metal", metals)))
            params[name] = rng.choice(values)
    else:  # the stock list narrowed by filters
        if rng.random() < 0.7:
            params["category"] = rng.choice(categories)
        if rng.random() < 0.4:
            params["location"] = rng.choice(locations)
        if rng.random() < 0.4:
            params["metal"] = rng.choice(metals)
        if rng.random() < 0.3:
            params["designer"] = rng.choice(designers)
        if rng.random() < 0.3:
            low = rng.choice((100_000, 200_000, 500_000, 1_000_000))
            params["price_min"], params["price_max"] = low, low * rng.choice((2, 4))
        if rng.random() < 0.3:
            params["status"] = "in_stock"
    params["offset"] = rng.choice((0, 0, 0, 0, 20, 40))  # a next page, sometimes
    return params


async def _cache_counts(session: aiohttp.ClientSession, base: str) -> tuple[int, int]:
    async with session.get(f"{base}/metrics",
                           headers={"Authorization": f"Bearer {METRICS_TOKEN}"}) as r:
        assert r.status == 200, await r.text()
        text = await r.text()
    found = dict(re.findall(r'loupe_search_cache_total\{outcome="(\w+)"\} (\d+)', text))
    return int(found.get("hit", 0)), int(found.get("miss", 0))


def _set_search_cache(folder: Path, on: bool) -> None:
    """`[web] search_cache_pages` in the bench store's loupe.toml (a section this bench
    owns): the hub's default, or 0 (off)."""
    path = folder / "loupe.toml"
    text = path.read_text(encoding="utf-8").split("\n# bench\n", 1)[0]
    path.write_text(f"{text}\n# bench\n[web]\n{'' if on else 'search_cache_pages = 0'}\n"
                    f'metrics_token = "{METRICS_TOKEN}"\n', encoding="utf-8")


async def _hub_load(folder: Path, cached: bool, seconds: float, workers: int,
                    mixes: list[list[str]]) -> tuple[float, list[tuple[float, float, int]],
                                                     float | None]:
    """Start `loupe run` on the store, sign in, warm up, then load it with each mix in turn:
    (startup seconds, (req/s, p99, body size) per mix, the first mix's cache hit rate)."""
    _set_search_cache(folder, cached)
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
            results = []
            hit_rate = None
            for n, paths in enumerate(mixes):
                await _load(base, cookies, 0.5, workers, paths)  # warm the connections
                before = await _cache_counts(session, base)
                results.append(await _load(base, cookies, seconds, workers, paths))
                if n == 0 and cached:
                    hits, misses = (b - a for a, b in zip(before, await _cache_counts(
                        session, base), strict=True))
                    hit_rate = hits / max(1, hits + misses)
    finally:
        hub.terminate()
        hub.wait(10)
    return startup, results, hit_rate


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
        store.items.pages = None  # the search itself, every time
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
    mix, top = await _search_mix(folder, 200_000)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}

    startup, ((rps, p99, size), (hit_rps, hit_p99, _)), hit_rate = await _hub_load(
        folder, True, seconds, workers, [mix, top])
    _, ((cold_rps, cold_p99, _),), _ = await _hub_load(folder, False, seconds, workers, [mix])

    port = _free_port()
    bare = subprocess.Popen([sys.executable, "-c", BASELINE, str(port), str(size)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        await _wait_up(f"http://127.0.0.1:{port}/healthz", bare)
        base = f"http://127.0.0.1:{port}"
        await _load(base, {}, 0.5, workers, ["/api/v1/items"])
        bare_rps, bare_p99, _ = await _load(base, {}, seconds, workers, ["/api/v1/items"])
    finally:
        bare.terminate()
        bare.wait(10)

    hit_rate = hit_rate or 0.0
    print(f"  store: {pieces} pieces; {workers} concurrent clients for {seconds:.0f} s each;"
          f" {DISTINCT} distinct searches, Zipf s={ZIPF_S}; mean body {size} bytes", file=out)
    print(f"  hub, page cache on:   {rps:8.0f} req/s  p99 {p99:6.1f} ms"
          f"  (cache hit rate {hit_rate:.0%})", file=out)
    print(f"  hub, page cache off:  {cold_rps:8.0f} req/s  p99 {cold_p99:6.1f} ms", file=out)
    print(f"  hub, cached searches: {hit_rps:8.0f} req/s  p99 {hit_p99:6.1f} ms"
          "  (the web path alone)", file=out)
    print(f"  bare aiohttp:         {bare_rps:8.0f} req/s  p99 {bare_p99:6.1f} ms", file=out)
    print(f"  ratio {rps / bare_rps:.2f} with the cache (target >= 0.4),"
          f" {cold_rps / bare_rps:.2f} without, {hit_rps / bare_rps:.2f} on cached searches;"
          f" startup {startup:.2f} s (target < 2 s)", file=out)
    return {"web.search_rps": rps, "web.search_p99_ms": p99, "web.search_ratio": rps / bare_rps,
            "web.search_cache_hit_rate": hit_rate, "web.search_rps_uncached": cold_rps,
            "web.search_ratio_uncached": cold_rps / bare_rps,
            "web.search_ratio_cached_only": hit_rps / bare_rps,
            "web.baseline_rps": bare_rps, "web.startup_s": startup, **service}
