"""Client-book benchmark: the memory of the in-memory name index and how long it takes to
build at start, against a plain dict of the same names; and a client's page with 300
purchases over HTTP (the page and its headline API), against the same hub's `/healthz` in the
same run.

The hub runs as its own process (`loupe run`), the load generator here. Stores are built
under a temporary folder each run.
"""

from __future__ import annotations

import asyncio
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import aiohttp

from bench.web import _free_port, _p99_ms, _wait_up
from hub.clienteling.book import FollowUps
from hub.clienteling.rules import Rules, date_followups
from hub.core.clients import NameIndex, display_name, validate_profile
from hub.generate import make_client, make_piece
from hub.store import Store, init_store

PIN = "975310"


async def _create(store: Store, profiles: list[dict]) -> list[str]:
    """Generated clients as the generator writes them (their consent comes with its
    history, which the forms' API takes one change at a time)."""
    checked = [validate_profile(p) for p in profiles]
    return await store.ledger.transact(
        lambda tx: [store.clients.create_in(tx, p, "bench") for p in checked])


async def _index_memory(folder: Path, clients: int, out) -> dict[str, float]:
    config = init_store(folder, "bench-01", "Maison Bench", "EUR")
    rng = random.Random(5)
    async with await Store.open(config) as store:
        for start in range(0, clients, 2000):
            await _create(store, [make_client(rng, n)
                                  for n in range(start, min(start + 2000, clients))])
        store.clients.names = NameIndex()
        started = time.perf_counter()
        await store.clients.load_index()  # as at start: each profile decrypted
        load_s = time.perf_counter() - started
        store.clients.names = NameIndex()  # again, measured: the index alone
        tracemalloc.start()
        before = tracemalloc.take_snapshot()
        await store.clients.load_index()
        after = tracemalloc.take_snapshot()
        index_bytes = sum(s.size_diff for s in after.compare_to(before, "filename")
                          if s.size_diff > 0)
        profiles = [(c, p) for c, p in await _profiles(store)]
        before = tracemalloc.take_snapshot()
        plain = {c: display_name(p) for c, p in profiles}
        after = tracemalloc.take_snapshot()
        plain_bytes = sum(s.size_diff for s in after.compare_to(before, "filename")
                          if s.size_diff > 0)
        tracemalloc.stop()
        assert len(plain) == len(store.clients.names) == clients
    per_10k = index_bytes / 2**20 * 10_000 / clients
    plain_10k = plain_bytes / 2**20 * 10_000 / clients
    print(f"  name index: {per_10k:.2f} MB per 10,000 clients (a plain dict of the names:"
          f" {plain_10k:.2f} MB); built at start in {load_s:.2f} s for {clients:,} clients",
          file=out)
    return {"clients.index_mb_per_10k": per_10k, "clients.index_plain_mb_per_10k": plain_10k,
            "clients.index_load_s": load_s}


def _sales_rows(path: Path, clients: int, sales: int, rng: random.Random) -> None:
    """`sales` sales of the last two years spread over the book, written straight into the
    sales projection of a bench store no hub runs (as the journal's replay would leave it:
    the day's follow-ups only read the projection)."""
    now = time.time()
    conn = sqlite3.connect(path)
    rows = []
    for n in range(sales):
        ts = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z",
                           time.gmtime(now - rng.random() * 730 * 86_400))
        total = int(rng.lognormvariate(12.2, 1.0))  # a median near 2,000.00
        rows.append((f"R1-{n + 1:06d}", "R1", n + 1, n + 1, ts, "bench",
                     f"C{rng.randrange(clients):09d}", "EUR", total, 0, 0, total, "completed"))
    conn.executemany("INSERT INTO sales (sale_id, register_id, receipt_no, seq, ts, associate,"
                     " client_id, currency, subtotal, discount, tax, total, status)"
                     " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    conn.commit()
    conn.close()


async def _followups(folder: Path, clients: int, sales: int, out) -> dict[str, float]:
    """The day's follow-ups of a store with `clients` clients (their dates in the in-memory
    index, made up here as the start-up pass would leave them) and `sales` sales, every
    source on (dates, purchases, bridal, lapsed clients), against walking every client's
    dates once (what listing the dates cost before the index by day)."""
    config = init_store(folder, "bench-03", "Maison Bench", "EUR")
    rng = random.Random(3)
    async with await Store.open(config):
        pass  # the schema, migrated
    _sales_rows(config.db_path, clients, sales, rng)
    async with await Store.open(config) as store:
        names = store.clients.names
        for n in range(clients):
            names.put(f"C{n:09d}", {"first_name": "Client", "last_name": str(n), "dates": {
                "birthday": f"19{rng.randint(40, 99)}-{rng.randint(1, 12):02d}-"
                            f"{rng.randint(1, 28):02d}",
                "anniversary": f"--{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"}})
        followups = FollowUps(store, Rules())
        samples, listed = [], 0
        for _ in range(20):
            t0 = time.perf_counter()
            day = await followups.day()
            samples.append(time.perf_counter() - t0)
            listed = len(day["today"]) + len(day["overdue"]) + len(day["upcoming"])
        t0 = time.perf_counter()
        walked = date_followups(names.dated(), followups.today(), followups.rules)
        one_pass = time.perf_counter() - t0
    median = sorted(samples)[len(samples) // 2] * 1000
    print(f"  the day's follow-ups of {clients:,} clients with two dates each and {sales:,}"
          f" sales: {median:.0f} ms (median of 20; {listed:,} listed); walking every"
          f" client's dates once ({len(walked):,} in the window): {one_pass * 1000:.1f} ms",
          file=out)
    return {"clients.followups_50k_ms": median, "clients.followups_pass_ms": one_pass * 1000}


async def _profiles(store: Store) -> list[tuple[str, dict]]:
    rows = await store.ledger.fetch("SELECT client_id FROM clients WHERE status = 'active'")
    return [(r["client_id"], (await store.clients.get(r["client_id"]))["profile"])
            for r in rows]


async def _profile_page(folder: Path, purchases: int, requests: int, out) -> dict[str, float]:
    config = init_store(folder, "bench-02", "Maison Bench", "EUR")
    rng = random.Random(9)
    async with await Store.open(config) as store:
        await store.items.receive_many([make_piece(rng, n, config.default_tax)
                                        for n in range(1, purchases + 1)], actor="bench")
        [cid] = await _create(store, [make_client(rng, 1)])
        pieces = (await store.items.search(limit=500)).items
        for p in pieces[:purchases]:
            await store.sales.complete(register_id="R1", actor="bench", client_id=cid,
                                       lines=[{"item_id": p["item_id"]}],
                                       tenders=[{"type": "cash", "amount": p["tag_price"]}])
        await store.staff.enroll("bench", "Bench Associate", "associate", PIN, actor="bench")
    port = _free_port()
    hub = subprocess.Popen([sys.executable, "-m", "hub", "run", "--data-dir", str(folder),
                            "--host", "127.0.0.1", "--port", str(port), "--insecure-http",
                            "--no-zeroconf", "--log-level", "warning"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           env={**os.environ, "PYTHONUNBUFFERED": "1"})
    base = f"http://127.0.0.1:{port}"
    timings: dict[str, list[float]] = {"page": [], "summary": [], "healthz": []}
    try:
        await _wait_up(f"{base}/healthz", hub)
        # unsafe: the jar keeps cookies of a bare IP address (127.0.0.1)
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            r = await session.post(f"{base}/api/v1/session", json={"staff_id": "bench",
                                                                   "pin": PIN})
            assert r.status == 200, await r.text()
            paths = {"page": f"/clients/{cid}", "summary": f"/api/v1/clients/{cid}/summary",
                     "healthz": "/healthz"}
            for _ in range(20):  # warm up
                for path in paths.values():
                    await (await session.get(base + path)).read()
            for _ in range(requests):
                for name, path in paths.items():
                    t0 = time.perf_counter()
                    async with session.get(base + path) as resp:
                        body = await resp.read()
                        assert resp.status == 200, body[:200]
                    timings[name].append(time.perf_counter() - t0)
            page = await (await session.get(base + paths["page"])).read()
    finally:
        hub.terminate()
        hub.wait(10)
    p99 = {name: _p99_ms(samples) for name, samples in timings.items()}
    print(f"  client page with {purchases} purchases: p99 {p99['page']:.1f} ms"
          f" ({len(page) // 1024} kB); its headline API p99 {p99['summary']:.1f} ms;"
          f" /healthz p99 {p99['healthz']:.1f} ms (same hub, {requests} requests each, one"
          " at a time)", file=out)
    return {"clients.profile_p99_ms": p99["page"], "clients.summary_p99_ms": p99["summary"],
            "clients.healthz_p99_ms": p99["healthz"]}


async def run(quick: bool, out) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="loupe-bench-clients-") as tmp:
        index = await _index_memory(Path(tmp) / "book", 2_000 if quick else 10_000, out)
        page = await _profile_page(Path(tmp) / "page", 60 if quick else 300,
                                   50 if quick else 300, out)
        day = await _followups(Path(tmp) / "day", 5_000 if quick else 50_000,
                               20_000 if quick else 200_000, out)
    return {**index, **page, **day}


if __name__ == "__main__":
    asyncio.run(run(True, sys.stdout))
