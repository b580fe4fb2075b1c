"""A small box: the memory and start-up of `loupe run` on a store of 100,000 pieces and 20,000
clients (`--quick`: 10,000 and 2,000), as on a Pi-class box.

- `smallbox.startup_s`: process start to the first `/healthz` answered, median of several
  starts; beside it the time `Store.open` itself takes (from the hub's own "store opened"
  log line), `smallbox.ready_s` (process start to a manager signed in with a client search
  and the counts' overview answered: every index in memory) and, as baselines in the same
  run, the start of an empty store and the bare imports of the web app (`python -c "import
  hub.web.app ..."`).
- `smallbox.rss_mb`: VmRSS (/proc/PID/status) after start, after a warm-up of what a shop
  does (pieces searched, clients looked up, the dashboard, a few sales over the POS cart),
  and over a few minutes of light load (`smallbox.rss_growth_mb`: last sample minus the
  first after the warm-up); `smallbox.peak_rss_mb` is VmHWM at the end. Baselines: the
  empty store's hub after start, and the bare imports.

The store is written through the store's own services (`hub.generate.generate`) once and
kept under `LOUPE_BENCH_DIR` (default /var/tmp/loupe-bench-smallbox); delete it to write it
again. The hub runs as its own process; the load generator here.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from bench.web import _free_port, _wait_up

PIN = "975310"
SIZES = {False: (100_000, 20_000, 2_000), True: (10_000, 2_000, 200)}  # pieces, clients, sales
STARTS = {False: 5, True: 3}
SOAK_S = {False: 180.0, True: 20.0}
IMPORTS = "import hub.web.app, hub.daemon, hub.layers, hub.store"


def _root() -> Path:
    return Path(os.environ.get("LOUPE_BENCH_DIR", "/var/tmp/loupe-bench-smallbox"))


async def _build_store(quick: bool, out) -> Path:
    """100,000 pieces, 20,000 clients and a few sales, through the services (cached)."""
    from hub.core.schema import CORE
    from hub.generate import generate
    from hub.store import Store, init_store

    pieces, clients, sales = SIZES[quick]
    folder = _root() / f"{'quick' if quick else 'full'}-core{CORE.latest}"
    if (folder / "ready").exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    config = init_store(folder, "bench-small", "Maison Bench", "EUR", "Europe/Paris")
    async with await Store.open(config) as store:
        await store.staff.enroll("bench", "Bench Manager", "manager", PIN, actor="bench")
        for n in range(4):
            await store.staff.enroll(f"assoc{n}", f"Associate {n}", "associate", PIN,
                                     actor="bench")
        made = await generate(store, items=pieces, clients=clients, sales=sales, seed=3,
                              actor="bench")
    (folder / "ready").write_text(json.dumps(made))
    print(f"  wrote a store of {pieces:,} pieces, {clients:,} clients and {made['sales']:,}"
          f" sales in {time.perf_counter() - started:.0f} s", file=out, flush=True)
    return folder


def _empty_store(parent: Path) -> Path:
    from hub.store import init_store

    folder = parent / "empty"
    init_store(folder, "bench-empty", "Maison Vide", "EUR", "Europe/Paris")
    return folder


def _cpu_s(pid: int) -> float:
    """User and system CPU seconds a process has used (its threads included): on a
    machine shared with other work, steadier than the wall clock."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _memory(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a process, in MB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0]) / 1024
    return found["VmRSS"], found["VmHWM"]


class Hub:
    """`loupe run` on a store, as its own process; its log (JSON lines) kept in a file."""

    def __init__(self, folder: Path, log: Path) -> None:
        self.folder, self.log = folder, log
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.spawned = 0.0

    async def start(self) -> float:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        started = self.spawned = time.perf_counter()
        with self.log.open("w") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "hub", "run", "--data-dir", str(self.folder),
                 "--host", "127.0.0.1", "--port", str(self.port), "--insecure-http",
                 "--no-zeroconf", "--log-level", "info"],
                stdout=log, stderr=subprocess.STDOUT, env=env)
        return await _wait_up(f"{self.base}/healthz", self.proc) - started

    async def ready(self) -> float:
        """Seconds from the process's start to a signed-in manager's first client search
        and count overview answered: every index in memory (the counts load after the
        hub answers)."""
        async with aiohttp.ClientSession(self.base, cookie_jar=aiohttp.CookieJar(
                unsafe=True)) as http:
            async with http.post("/api/v1/session", json={
                    "staff_id": "bench", "pin": PIN, "register_id": "R1"}) as r:
                assert r.status == 200, await r.text()
            for path in ("/api/v1/clients?q=ma&limit=20", "/api/v1/counts"):
                async with http.get(path) as r:
                    assert r.status == 200, (path, r.status, await r.text())
        return time.perf_counter() - self.spawned

    def opened_s(self) -> float | None:
        """How long `Store.open` took, from the hub's log: "store opened" less the first
        line the daemon logs once its imports are done."""
        first = opened = None
        for line in self.log.read_text(errors="replace").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if "store_open_s" in record:
                return float(record["store_open_s"])
            ts = record.get("ts") or record.get("time")
            if first is None:
                first = ts
            if record.get("msg", record.get("message")) == "store opened":
                opened = ts
        return None if first is None or opened is None else _seconds(opened) - _seconds(first)

    def cpu_s(self) -> float:
        assert self.proc is not None
        return _cpu_s(self.proc.pid)

    def memory(self) -> tuple[float, float]:
        assert self.proc is not None
        return _memory(self.proc.pid)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _seconds(ts: Any) -> float:
    if isinstance(ts, int | float):
        return float(ts)
    from datetime import datetime

    return datetime.fromisoformat(str(ts).replace("Z", "+00:00")).timestamp()


class Shop:
    """What the floor asks of the hub: a manager signed in, at register R1."""

    def __init__(self, hub: Hub, pieces: list[str], clients: list[str], names: list[str],
                 rng: random.Random) -> None:
        self.hub, self.rng = hub, rng
        self.pieces, self.clients, self.names = pieces, clients, names
        self.http: aiohttp.ClientSession | None = None
        self.csrf = ""
        self.sold = 0

    async def __aenter__(self) -> Shop:
        jar = aiohttp.CookieJar(unsafe=True)
        self.http = aiohttp.ClientSession(self.hub.base, cookie_jar=jar)
        async with self.http.post("/api/v1/session", json={
                "staff_id": "bench", "pin": PIN, "register_id": "R1"}) as r:
            me = await r.json()
            assert r.status == 200, me
        self.csrf = me["csrf"]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.http is not None
        await self.http.close()

    async def _get(self, path: str) -> None:
        assert self.http is not None
        async with self.http.get(path) as r:
            body = await r.read()
            assert r.status == 200, (path, r.status, body[:300])

    async def _send(self, method: str, path: str, body: dict | None = None) -> tuple[int, Any]:
        assert self.http is not None
        async with self.http.request(method, path, json=body,
                                     headers={"X-CSRF-Token": self.csrf}) as r:
            return r.status, await r.json()

    async def search(self) -> None:
        word = self.rng.choice(("ring", "gold", "diamond", "sapphire", "pearl", "watch",
                                "18k", "platinum", "emerald", "bracelet"))
        await self._get(f"/api/v1/items?q={word}&limit=20")
        await self._get(f"/api/v1/items?category={self.rng.choice(('ring', 'necklace'))}"
                        f"&status=in_stock&limit=20&offset={self.rng.choice((0, 20, 40))}")

    async def client(self) -> None:
        await self._get(f"/api/v1/clients?q={self.rng.choice(self.names)}&limit=20")
        client_id = self.rng.choice(self.clients)
        await self._get(f"/api/v1/clients/{client_id}")
        await self._get(f"/api/v1/clients/{client_id}/summary")

    async def dashboard(self) -> None:
        await self._get("/api/v1/reports/dashboard")

    async def sale(self) -> None:
        cart = "/api/v1/registers/R1/cart"
        await self._send("DELETE", cart)
        while self.pieces:
            status, answer = await self._send("POST", cart + "/lines",
                                              {"item_id": self.pieces.pop()})
            if status == 200:
                break
        else:
            return
        status, answer = await self._send("POST", cart + "/tenders",
                                          {"type": "cash", "amount": answer["total"]})
        assert status == 200, answer
        status, answer = await self._send("POST", cart + "/complete", {})
        assert status == 201, answer
        self.sold += 1


async def _floor(folder: Path, count: int) -> tuple[list[str], list[str], list[str]]:
    """Pieces in stock to sell, client ids and last names to look up (read beside no hub)."""
    import sqlite3

    from hub.config import load_config

    db = sqlite3.connect(load_config(folder).db_path)
    try:
        pieces = [r[0] for r in db.execute(
            "SELECT item_id FROM items WHERE status = 'in_stock' ORDER BY random() LIMIT ?",
            (count,))]
        clients = [r[0] for r in db.execute(
            "SELECT client_id FROM clients WHERE status = 'active' ORDER BY random() LIMIT 500")]
    finally:
        db.close()
    from hub.generate import LAST

    return pieces, clients, list(LAST)


def _imports_baseline(runs: int) -> tuple[float, float]:
    """(median seconds, RSS MB) of a bare interpreter importing what the hub imports."""
    code = (f"import time, sys; t = time.perf_counter(); {IMPORTS}; "
            "took = time.perf_counter() - t; "
            "rss = [l for l in open('/proc/self/status') if l.startswith('VmRSS')][0]; "
            "print(took, int(rss.split()[1]) / 1024)")
    times, rss = [], []
    for _ in range(runs):
        started = time.perf_counter()
        answer = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                check=True).stdout.split()
        times.append(time.perf_counter() - started)
        rss.append(float(answer[1]))
    return statistics.median(times), statistics.median(rss)


async def _starts(folder: Path, logs: Path, runs: int, staffed: bool = True
                  ) -> tuple[float, float | None, float, float, float | None]:
    """(median start-up s, median Store.open s, median RSS after start MB, median CPU s
    used by the time it answered, median s to ready: `Hub.ready`, on a store with staff)
    over `runs`."""
    times, opens, rss, cpu, ready = [], [], [], [], []
    for n in range(runs):
        hub = Hub(folder, logs / f"start-{folder.name}-{n}.log")
        try:
            times.append(await hub.start())
            cpu.append(hub.cpu_s())
            rss.append(hub.memory()[0])
            if staffed:
                ready.append(await hub.ready())
        finally:
            hub.stop()
        opened = hub.opened_s()
        if opened is not None:
            opens.append(opened)
    return (statistics.median(times), statistics.median(opens) if opens else None,
            statistics.median(rss), statistics.median(cpu),
            statistics.median(ready) if ready else None)


async def run(quick: bool, out) -> dict[str, float]:
    folder = await _build_store(quick, out)
    pieces_n, clients_n, _ = SIZES[quick]
    with tempfile.TemporaryDirectory(dir=os.environ.get("LOUPE_BENCH_DIR")) as tmp:
        logs = Path(tmp)
        empty = _empty_store(logs)
        runs = STARTS[quick]
        import_s, import_rss = _imports_baseline(runs)
        empty_s, empty_open, empty_rss, empty_cpu, _ = await _starts(empty, logs, runs,
                                                                     staffed=False)
        start_s, open_s, start_rss, start_cpu, ready_s = await _starts(folder, logs, runs)
        assert ready_s is not None
        print(f"  start-up, median of {runs}: {start_s:.2f} s ({start_cpu:.2f} s of CPU) with"
              f" {pieces_n:,} pieces and {clients_n:,} clients (Store.open {open_s or 0:.2f} s;"
              f" signed in, a client search and the counts answered at {ready_s:.2f} s),"
              f" RSS {start_rss:.0f} MB; empty store {empty_s:.2f} s ({empty_cpu:.2f} s CPU,"
              f" Store.open {empty_open or 0:.2f} s), {empty_rss:.0f} MB; bare imports"
              f" {import_s:.2f} s, {import_rss:.0f} MB; load average {os.getloadavg()[0]:.1f}",
              file=out, flush=True)

        rng = random.Random(17)
        soak_s = SOAK_S[quick]
        pieces, clients, names = await _floor(folder, 2_000)
        hub = Hub(folder, logs / "soak.log")
        samples: list[tuple[float, float]] = []
        try:
            await hub.start()
            after_start = hub.memory()[0]
            async with Shop(hub, pieces, clients, names, rng) as shop:
                for _ in range(20):  # the warm-up: a morning's first requests
                    await shop.search()
                    await shop.client()
                for _ in range(3):
                    await shop.dashboard()
                for _ in range(10):
                    await shop.sale()
                warm = hub.memory()[0]
                # Light load: about what a busy boutique asks, a few requests a second.
                began = time.perf_counter()
                next_sample = began
                while (now := time.perf_counter()) - began < soak_s:
                    await shop.search()
                    await shop.client()
                    if rng.random() < 0.1:
                        await shop.dashboard()
                    if rng.random() < 0.2:
                        await shop.sale()
                    if now >= next_sample:
                        samples.append((now - began, hub.memory()[0]))
                        next_sample += soak_s / 12
                    await asyncio.sleep(0.2)
                samples.append((time.perf_counter() - began, hub.memory()[0]))
                sold = shop.sold
            end_rss, peak = hub.memory()
        finally:
            hub.stop()
    growth = samples[-1][1] - samples[0][1]
    print(f"  RSS: {after_start:.0f} MB after start, {warm:.0f} MB after the warm-up,"
          f" {end_rss:.0f} MB after {soak_s:.0f} s of light load ({sold} sales in all);"
          f" peak (VmHWM) {peak:.0f} MB; target <= 250 MB", file=out)
    print("  over the soak: " + ", ".join(f"{t:.0f}s {m:.0f}" for t, m in samples), file=out)
    return {"smallbox.startup_s": start_s, "smallbox.store_open_s": open_s or 0.0,
            "smallbox.ready_s": ready_s,
            "smallbox.startup_cpu_s": start_cpu, "smallbox.startup_empty_cpu_s": empty_cpu,
            "smallbox.startup_empty_s": empty_s, "smallbox.imports_s": import_s,
            "smallbox.rss_mb": max(warm, end_rss), "smallbox.rss_start_mb": after_start,
            "smallbox.peak_rss_mb": peak, "smallbox.rss_growth_mb": growth,
            "smallbox.rss_empty_mb": empty_rss, "smallbox.rss_imports_mb": import_rss}
