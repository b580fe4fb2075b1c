"""Soak: `loupe run` under a shop's day, sped up, for a configurable time — 50 signed-in
browser sessions each with its WebSocket open, 20 sales/s through the HTTP API, an RFID
reader (the Impinj simulator) streaming 1,000 reads/s into a running count, and a scanner
(the serial scanner simulator, on a pty) scanning 10 codes/s whose `device.scan` events
every browser receives.

    python -m bench soak                 # 60 s (--quick: 12 s, 10 sessions)
    python -m bench.soak --seconds 1800  # the documented run: 30 minutes

Measured from this process: the hub's RSS and open file descriptors (/proc, every 2 s), and
the time from a scan written at the device to its event on each browser's WebSocket, p99
per window and overall. The baseline is the same hub in the same run before the load: its
RSS and fds with the sessions open, and the scan→browser p99 with nothing else going on.
"Flat" is the end within 10 % of the value after warm-up (the first window); RSS is also
shown halfway, as a count's memory grows until the reader has read every tag once.

The load generator, the simulators and the browsers share this process's event loop; its
own lag (how late a 10 ms timer fires) is printed beside the latency, as it is part of it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, TextIO

import aiohttp

PIN = "975310"
MANAGER_PIN = "864200"
LOCATIONS = ("showcase-1", "showcase-2", "showcase-3", "window")
PRICE = 350_000
SCAN_AIM = "]E0"
WARM_UP_S = 10.0  # the first window: JIT-free Python still fills caches and pools
SAMPLE_S = 2.0
FLAT = 0.10  # the bar for RSS and open files, end against warm-up


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _p99(samples: list[float]) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[max(0, int(len(ordered) * 0.99) - 1)] * 1000


def _flat(drift: float) -> str:
    return (f"flat: within {FLAT:.0%}" if abs(drift) <= FLAT
            else f"NOT flat: more than {FLAT:.0%}")


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


async def _build(folder: Path, pieces: int, registers: int, sellers: int, scanner: Path,
                 reader_port: int) -> list[tuple[str, str]]:
    """A store of `pieces` tagged pieces in four showcases, its staff, `registers`
    registers, and the scanner and reader in its loupe.toml; (item_id, epc) of each."""
    from hub.store import Store, init_store

    init_store(folder, "soak-01", "Maison Soak", "EUR")
    extra = "".join(f'\n[[registers]]\nid = "S{n}"\nname = "Soak {n}"\n'
                    for n in range(1, registers + 1))
    antennas = ", ".join(f'"{n}" = "{place}"' for n, place in enumerate(LOCATIONS, 1))
    extra += (f'\n[devices.soak-scanner]\nmodel = "honeywell-1450g-serial"\n'
              f'path = "{scanner}"\naim_prefix = true\n'
              f'\n[devices.showcase-reader]\nmodel = "impinj-r700"\nhost = "127.0.0.1"\n'
              f'port = {reader_port}\nantennas = {{ {antennas} }}\n')
    path = folder / "loupe.toml"
    path.write_text(path.read_text(encoding="utf-8") + extra, encoding="utf-8")
    async with await Store.open(folder) as store:
        for start in range(0, pieces, 2_000):
            await store.items.receive_many([
                {"item_id": f"S-{n:06d}", "sku": "SOAK", "description": "18k gold ring",
                 "category": "ring", "cost": 120_000, "tag_price": PRICE,
                 "location": LOCATIONS[n % len(LOCATIONS)]}
                for n in range(start, min(start + 2_000, pieces))], "bench")
        for n in range(1, sellers + 1):
            await store.staff.enroll(f"seller{n}", f"Seller {n}", "associate", PIN,
                                     actor="bench")
        await store.staff.enroll("manager", "Soak Manager", "manager", MANAGER_PIN,
                                 actor="bench")
        rows = await store.items.tagged(("item_id", "epc"))
    return sorted((r["item_id"], r["epc"]) for r in rows)


class Browser:
    """What a browser holds: a session cookie (its own jar) and the events WebSocket."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = aiohttp.ClientSession(base, cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.csrf = ""
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.frames = 0

    async def sign_in(self, staff_id: str, pin: str, register: str) -> None:
        async with self.http.post("/api/v1/session", json={
                "staff_id": staff_id, "pin": pin, "register_id": register}) as r:
            assert r.status == 200, await r.text()
            self.csrf = (await r.json())["csrf"]
        self.ws = await self.http.ws_connect("/api/v1/events", heartbeat=None)

    async def touch(self) -> None:
        """What a person at the screen does now and then: the session stays signed in (an
        idle one ends after 15 minutes, its WebSocket with it)."""
        async with self.http.get("/api/v1/session") as r:
            assert r.status == 200, await r.text()

    async def post(self, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        async with self.http.post(path, json=body, headers={"X-CSRF-Token": self.csrf}) as r:
            return r.status, await r.json()

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        await self.http.close()


class Soak:
    def __init__(self, seconds: float, sessions: int, sales_per_s: float, reads_per_s: float,
                 scans_per_s: float, out: TextIO, idle_s: float = 5.0,
                 pieces: int = 0) -> None:
        self.seconds, self.sessions, self.idle_s = seconds, sessions, idle_s
        self.pieces = pieces  # the store's size at least; else what the sales need
        self.sales_per_s, self.reads_per_s, self.scans_per_s = (sales_per_s, reads_per_s,
                                                                 scans_per_s)
        self.out = out
        self.window_s = WARM_UP_S if seconds >= 3 * WARM_UP_S else max(2.0, seconds / 4)
        self.sent: dict[int, tuple[float, str]] = {}  # scan number -> (sent at, phase)
        self.latency: dict[str, list[float]] = {}  # phase -> samples
        self.samples: list[tuple[float, float, int]] = []  # (t, rss MB, fds)
        self.lag: dict[str, list[float]] = {}
        self.phase = "idle"
        self.sales = self.refused_sales = 0
        self.stopping = False
        self.close_s = float("nan")
        self.sellers = min(5, sessions)  # staff accounts the sessions are signed in as

    # -- the browsers ---------------------------------------------------------------------

    async def listen(self, browser: Browser) -> None:
        assert browser.ws is not None
        async for msg in browser.ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                break
            browser.frames += 1
            data = msg.data
            if not data.startswith('{"topic": "device.scan"'):
                continue  # sales, carts, the count's progress: a browser's other events
            now = time.perf_counter()
            code = json.loads(data)["data"].get("code", "")
            if code.startswith("SOAK"):
                sent = self.sent.get(int(code[4:]))
                if sent is not None:
                    self.latency.setdefault(sent[1], []).append(now - sent[0])

    async def scan(self, scanner: Any) -> None:
        n = 0
        interval = 1 / self.scans_per_s
        next_at = time.perf_counter()
        while not self.stopping:
            n += 1
            self.sent[n] = (time.perf_counter(), self.phase)
            scanner.scan(f"SOAK{n:06d}")
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))

    async def ticker(self) -> None:
        """This loop's own lag: how late a 10 ms sleep wakes up."""
        while not self.stopping:
            t0 = time.perf_counter()
            await asyncio.sleep(0.01)
            self.lag.setdefault(self.phase, []).append(time.perf_counter() - t0 - 0.01)

    async def sample(self, pid: int) -> None:
        started = time.perf_counter()
        while not self.stopping:
            self.samples.append((time.perf_counter() - started, _rss_mb(pid), _fds(pid)))
            await asyncio.sleep(SAMPLE_S)

    # -- the load -------------------------------------------------------------------------

    async def sell(self, seller: Browser, register: str, pieces: list[tuple[str, str]],
                   interval: float, reader: Any) -> None:
        cart = f"/api/v1/registers/{register}/cart"
        next_at = time.perf_counter()
        while not self.stopping and pieces:
            item_id, epc = pieces.pop()
            status, body = await seller.post(cart + "/lines", {"item_id": item_id})
            if status < 300:
                due = body.get("cart", body).get("due", PRICE)
                status, body = await seller.post(cart + "/tenders",
                                                 {"type": "cash", "amount": due})
            if status < 300:
                status, body = await seller.post(cart + "/complete", {})
            if status == 201:
                self.sales += 1
                reader.in_field.discard(epc)  # she leaves with it
            else:
                self.refused_sales += 1
                print(f"  a sale was refused ({status}): {body}", file=self.out)
                async with seller.http.delete(cart, headers={"X-CSRF-Token": seller.csrf}):
                    pass
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))

    async def run(self) -> dict[str, float]:
        from hub.devices.sim.impinj import ImpinjSim
        from hub.devices.sim.pty import ScannerSim

        registers = max(1, min(10, round(self.sales_per_s / 2)))  # a sale every 0.5 s each
        pieces_needed = max(self.pieces,
                            int(self.sales_per_s * (self.seconds + 5) * 1.1) + 200)
        with tempfile.TemporaryDirectory(prefix="loupe-soak-") as tmp:
            root = Path(tmp)
            scanner = ScannerSim(root / "scanner", aim=SCAN_AIM)
            scanner.plug()
            reader = ImpinjSim(rate=0)  # nothing in front of it until the load starts
            await reader.start()
            started = time.perf_counter()
            pieces = await _build(root / "store", pieces_needed, registers, self.sellers,
                                  scanner.link, reader.port)
            print(f"  store of {len(pieces):,} pieces built in"
                  f" {time.perf_counter() - started:.1f} s", file=self.out)
            reader.in_field = {epc for _, epc in pieces}
            reader.antenna_of = {epc: 1 + i % len(LOCATIONS) for i, (_, epc) in
                                 enumerate(pieces)}
            port = _free_port()
            log = root / "hub.log"  # a file, not a pipe: a full pipe would stall the hub
            with log.open("wb") as log_file:
                hub = subprocess.Popen(
                    [sys.executable, "-m", "hub", "run", "--data-dir", str(root / "store"),
                     "--host", "127.0.0.1", "--port", str(port), "--insecure-http",
                     "--no-zeroconf", "--log-level", "warning"],
                    stdout=subprocess.DEVNULL, stderr=log_file,
                    env={**os.environ, "PYTHONUNBUFFERED": "1"})
            try:
                return await self._drive(hub, f"http://127.0.0.1:{port}", pieces, registers,
                                         scanner, reader)
            finally:
                self.stopping = True
                hub.terminate()
                try:
                    await asyncio.to_thread(hub.wait, 20)
                except subprocess.TimeoutExpired:
                    hub.kill()
                    hub.wait()
                lines = log.read_text(errors="replace").splitlines()
                if lines:
                    print(f"  the hub logged {len(lines)} lines at warning or above; the"
                          f" last: {lines[-3:]}", file=self.out)
                if hub.returncode not in (0, -15):
                    print(f"  the hub exited with {hub.returncode}", file=self.out)
                await reader.stop()
                scanner.close()

    async def _drive(self, hub: subprocess.Popen, base: str, pieces: list[tuple[str, str]],
                     registers: int, scanner: Any, reader: Any) -> dict[str, float]:
        await _wait_up(base + "/healthz", hub)
        browsers = [Browser(base) for _ in range(self.sessions)]
        tasks: list[asyncio.Task] = []
        try:
            for n, browser in enumerate(browsers):  # the sellers first, then the floor
                register = f"S{n % registers + 1}"
                await browser.sign_in(f"seller{n % self.sellers + 1}", PIN, register)
            manager = Browser(base)
            await manager.sign_in("manager", MANAGER_PIN, "S1")
            browsers.append(manager)
            tasks += [asyncio.create_task(self.listen(b)) for b in browsers]
            tasks.append(asyncio.create_task(self.ticker()))
            tasks.append(asyncio.create_task(self.scan(scanner)))
            await self._wait_for_scans("idle", 1)
            idle_rss, idle_fds = _rss_mb(hub.pid), _fds(hub.pid)
            await asyncio.sleep(self.idle_s)  # the baseline: sessions open, scans, no load

            status, count = await manager.post("/api/v1/counts", {"kind": "full"})
            assert status in (200, 201), count
            reader.rate = self.reads_per_s
            reads_before = reader.sent
            sellers = browsers[:registers]
            interval = registers / self.sales_per_s
            load_started = time.perf_counter()
            tasks.append(asyncio.create_task(self.sample(hub.pid)))
            tasks += [asyncio.create_task(self.sell(seller, f"S{n + 1}", pieces, interval,
                                                    reader))
                      for n, seller in enumerate(sellers)]
            windows = []
            w = 0
            while time.perf_counter() - load_started < self.seconds:
                w += 1
                self.phase = f"w{w}"
                await asyncio.sleep(min(self.window_s,
                                        self.seconds - (time.perf_counter() - load_started)))
                windows.append(self.phase)
                if hub.poll() is not None:
                    raise RuntimeError(f"the hub stopped during the soak ({hub.returncode})")
                await asyncio.gather(*(b.touch() for b in browsers))
            self.phase = "done"
            elapsed = time.perf_counter() - load_started
            reads = reader.sent - reads_before
            end_rss, end_fds = _rss_mb(hub.pid), _fds(hub.pid)
            self.samples.append((elapsed, end_rss, end_fds))
            frames = sum(b.frames for b in browsers)
            self.stopping = True  # the sales stop; the count closes with what it read
            t0 = time.perf_counter()
            status, closed = await asyncio.wait_for(manager.post(
                f"/api/v1/counts/{count['count_id']}/close", {}), 60)
            self.close_s = time.perf_counter() - t0
            assert status < 300, closed
        finally:
            self.stopping = True
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for browser in browsers:
                await browser.close()
        return self._report(windows, elapsed, reads, frames, idle_rss, idle_fds)

    async def _wait_for_scans(self, phase: str, n: int, timeout: float = 20) -> None:
        deadline = time.perf_counter() + timeout
        while len(self.latency.get(phase, [])) < n:
            if time.perf_counter() > deadline:
                raise RuntimeError("no scan reached a browser: is the scanner connected?")
            await asyncio.sleep(0.05)

    def _report(self, windows: list[str], elapsed: float, reads: int, frames: int,
                idle_rss: float, idle_fds: int) -> dict[str, float]:
        out = self.out
        warm = [s for s in self.samples if s[0] >= min(self.window_s, elapsed / 2)]
        after_warm = warm[0] if warm else self.samples[0]
        start, end = self.samples[0], self.samples[-1]
        rss_max = max(s[1] for s in self.samples)
        load = [x for w in windows for x in self.latency.get(w, [])]
        idle_p99 = _p99(self.latency.get("idle", []))
        # Halfway: the count holds every tag it has read, so on a big store its memory
        # grows until the reader has read the whole field, then stays; a leak keeps going.
        half = min(self.samples, key=lambda s: abs(s[0] - self.samples[-1][0] / 2))
        rss_drift = end[1] / after_warm[1] - 1
        rss_drift_half = end[1] / half[1] - 1
        fds_drift = end[2] / after_warm[2] - 1
        print(f"  {self.sessions} browser sessions (WebSocket open) + a manager counting;"
              f" {elapsed:.0f} s of load after the baseline", file=out)
        print(f"  sales: {self.sales:,} done ({self.sales / elapsed:.1f}/s, target"
              f" {self.sales_per_s:g}/s), {self.refused_sales} refused;"
              f" RFID reads: {reads:,} ({reads / elapsed:,.0f}/s, target"
              f" {self.reads_per_s:,.0f}/s); WebSocket frames received: {frames:,}", file=out)
        print(f"  RSS MB: idle {idle_rss:.1f}, start {start[1]:.1f}, after warm-up"
              f" {after_warm[1]:.1f}, halfway {half[1]:.1f}, end {end[1]:.1f}, max"
              f" {rss_max:.1f} -> {rss_drift:+.1%} since warm-up ({_flat(rss_drift)}),"
              f" {rss_drift_half:+.1%} over the second half", file=out)
        print(f"  open fds: idle {idle_fds}, start {start[2]}, after warm-up {after_warm[2]},"
              f" end {end[2]} -> {fds_drift:+.1%} ({_flat(fds_drift)})", file=out)
        print(f"  the count closed in {self.close_s:.2f} s", file=out)
        print(f"  scan -> browser p99 (every browser's copy): idle baseline {idle_p99:.1f} ms;"
              f" under load {_p99(load):.1f} ms overall (target < 25 ms)", file=out)
        for w in windows:
            samples = self.latency.get(w, [])
            print(f"    {w}: p99 {_p99(samples):6.1f} ms over {len(samples):,} deliveries;"
                  f" this loop's lag p99 {_p99(self.lag.get(w, [])):5.1f} ms", file=out)
        figures = {
            "soak.seconds": elapsed, "soak.sessions": float(self.sessions),
            "soak.sales": float(self.sales), "soak.sales_refused": float(self.refused_sales),
            "soak.reads": float(reads), "soak.rss_idle_mb": idle_rss,
            "soak.rss_start_mb": start[1], "soak.rss_warm_mb": after_warm[1],
            "soak.rss_half_mb": half[1], "soak.rss_end_mb": end[1],
            "soak.rss_max_mb": rss_max, "soak.rss_drift": rss_drift,
            "soak.rss_drift_second_half": rss_drift_half, "soak.fds_idle": float(idle_fds),
            "soak.fds_start": float(start[2]), "soak.fds_warm": float(after_warm[2]),
            "soak.fds_end": float(end[2]), "soak.fds_drift": fds_drift,
            "soak.scan_p99_idle_ms": idle_p99, "soak.scan_p99_ms": _p99(load),
            "soak.scan_p99_worst_window_ms": max((_p99(self.latency.get(w, []))
                                                  for w in windows), default=float("nan")),
            "soak.scans_delivered": float(len(load)), "soak.count_close_s": self.close_s,
        }
        return figures


async def _wait_up(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.perf_counter() + timeout
    async with aiohttp.ClientSession() as session:
        while time.perf_counter() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"the hub exited with {proc.returncode} (its log is"
                                   " printed below)")
            with contextlib.suppress(aiohttp.ClientError, OSError):
                async with session.get(url) as resp:
                    if resp.status == 200:
                        return
            await asyncio.sleep(0.05)
    raise RuntimeError(f"{url} did not answer in {timeout} s")


async def soak(seconds: float = 60, sessions: int = 50, sales_per_s: float = 20,
               reads_per_s: float = 1_000, scans_per_s: float = 10,
               out: TextIO = sys.stdout, idle_s: float = 5.0,
               pieces: int = 0) -> dict[str, float]:
    return await Soak(seconds, sessions, sales_per_s, reads_per_s, scans_per_s, out,
                      idle_s, pieces).run()


async def run(quick: bool, out: TextIO) -> dict[str, float]:
    if quick:
        return await soak(12, 10, 10, 1_000, 10, out)
    return await soak(out=out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60, help="load time (default 60)")
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--sales-per-s", type=float, default=20)
    parser.add_argument("--reads-per-s", type=float, default=1_000)
    parser.add_argument("--scans-per-s", type=float, default=10)
    parser.add_argument("--pieces", type=int, default=0,
                        help="the store's size (default: what the sales need; the 30-minute"
                             " run's store is 40,000 pieces)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = parser.parse_args(argv)
    figures = asyncio.run(soak(args.seconds, args.sessions, args.sales_per_s, args.reads_per_s,
                               args.scans_per_s, pieces=args.pieces))
    if args.json:
        print(json.dumps(figures, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
