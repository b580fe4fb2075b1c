"""Workshop benchmark: the board's API and page with 5,000 open jobs over HTTP, against the
same hub's `/healthz` in the same run.

The store is filled through the jobs' own service (intake, moves, deposits), the hub runs as
its own process (`loupe run`), the load generator is here, one request at a time.
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from bench.clients import PIN, _create
from bench.web import _free_port, _p99_ms, _wait_up
from hub.generate import make_client
from hub.store import Store, init_store
from hub.workshop.deposits import Deposits
from hub.workshop.jobs import Jobs, WorkshopSettings

MOVES = ((), ("to_bench",), ("to_vendor",), ("to_bench", "to_quality_check"),
         ("to_bench", "to_quality_check", "to_ready"))


async def _fill(folder: Path, jobs_n: int) -> None:
    config = init_store(folder, "bench-jobs", "Maison Bench", "EUR")
    rng = random.Random(12)
    async with await Store.open(config) as store:
        await store.staff.enroll("bench", "Bench Associate", "associate", PIN, actor="bench")
        clients = await _create(store, [make_client(rng, n) for n in range(500)])
        deposits = Deposits(store.ledger, store.accounts, "EUR")
        jobs = Jobs(store, deposits, WorkshopSettings())
        deposits.holders["J"] = jobs

        async def one(n: int) -> None:
            job = await jobs.open({
                "kind": "repair", "client_id": clients[n % len(clients)],
                "item_kind": rng.choice(("ring", "necklace", "bracelet", "earrings")),
                "description": "a piece to mend", "weight_mg": 2000 + n, "stone_count": n % 4,
                "services": [{"service": "polish", "price": 3000 + n % 50 * 100}],
                "express": n % 9 == 0,
                "deposit": {"register_id": "R1", "tenders": [{"type": "cash",
                                                              "amount": 1000}]}
                if n % 2 else None}, actor="bench")
            for move in MOVES[n % len(MOVES)]:
                await jobs.move(job["job_id"], move, actor="bench")

        for start in range(0, jobs_n, 250):  # concurrent intakes share the writer's commits
            await asyncio.gather(*(one(n) for n in range(start, min(start + 250, jobs_n))))


async def _board(folder: Path, requests: int, out) -> dict[str, float]:
    port = _free_port()
    hub = subprocess.Popen([sys.executable, "-m", "hub", "run", "--data-dir", str(folder),
                            "--host", "127.0.0.1", "--port", str(port), "--insecure-http",
                            "--no-zeroconf", "--log-level", "warning"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           env={**os.environ, "PYTHONUNBUFFERED": "1"})
    base = f"http://127.0.0.1:{port}"
    paths = {"api": "/api/v1/jobs/board", "page": "/workshop", "healthz": "/healthz"}
    timings: dict[str, list[float]] = {name: [] for name in paths}
    sizes: dict[str, int] = {}
    try:
        await _wait_up(f"{base}/healthz", hub)
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            r = await session.post(f"{base}/api/v1/session", json={"staff_id": "bench",
                                                                   "pin": PIN})
            assert r.status == 200, await r.text()
            for _ in range(10):  # warm up
                for path in paths.values():
                    await (await session.get(base + path)).read()
            for _ in range(requests):
                for name, path in paths.items():
                    t0 = time.perf_counter()
                    async with session.get(base + path) as resp:
                        body = await resp.read()
                        assert resp.status == 200, body[:200]
                    timings[name].append(time.perf_counter() - t0)
                    sizes[name] = len(body)
    finally:
        hub.terminate()
        hub.wait(10)
    p99 = {name: _p99_ms(samples) for name, samples in timings.items()}
    print(f"  board API p99 {p99['api']:.1f} ms ({sizes['api'] // 1024} kB), board page p99"
          f" {p99['page']:.1f} ms ({sizes['page'] // 1024} kB); /healthz p99"
          f" {p99['healthz']:.1f} ms (same hub, {requests} requests each, one at a time)",
          file=out)
    return {"jobs.board_p99_ms": p99["api"], "jobs.board_page_p99_ms": p99["page"],
            "jobs.healthz_p99_ms": p99["healthz"]}


async def run(quick: bool, out) -> dict[str, float]:
    jobs_n = 500 if quick else 5_000
    with tempfile.TemporaryDirectory(prefix="loupe-bench-jobs-") as tmp:
        folder = Path(tmp) / "store"
        t0 = time.perf_counter()
        await _fill(folder, jobs_n)
        print(f"  {jobs_n} open jobs taken in through the service in"
              f" {time.perf_counter() - t0:.1f} s", file=out)
        return await _board(folder, 30 if quick else 200, out)
