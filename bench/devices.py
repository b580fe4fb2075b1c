"""Device figures: how fast a scan gets from the scanner's wire to the hub and the browser.

- `devices.scan_to_bus_p50_ms` / `_p99_ms`: from the bytes of a scan written to the scanner's
  pty (the simulator owns the master side, as a USB CDC scanner would) until the real serial
  driver has framed, parsed and published `device.scan` on the bus, while an Impinj R700
  simulator streams 1,000 tag reads/s over HTTP NDJSON into the real reader driver on the same
  loop.
- `devices.baseline_pty_p50_ms` / `_p99_ms`: the same bytes through a bare pty into a bare
  `add_reader` callback, same loop, same RFID load: the floor any serial driver stands on.
  `devices.scan_to_bus_vs_pty_p99` = scan_to_bus p99 / baseline p99.
- `devices.scan_to_ws_p50_ms` / `_p99_ms`: the whole demo hub (`loupe demo`: ledger, counts,
  web app, simulators): bytes on the scanner's pty until a signed-in WebSocket client receives
  the register's `cart.changed` (the cart write goes through the ledger's writer), with the
  demo reader streaming 1,000 reads/s. Target p99 < 25 ms.
- `devices.rfid_reads_per_s`, `devices.ws_run_rfid_reads_per_s`: the tag reads the reader
  driver actually published per second during each run (the load was real).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import tempfile
import time
import tty
from pathlib import Path
from typing import TextIO

from hub.bus import EventBus
from hub.devices.base import DeviceSpec
from hub.devices.impinj.driver import ImpinjReader
from hub.devices.scanner.driver import SerialScanner
from hub.devices.sim.impinj import ImpinjSim
from hub.devices.sim.pty import ScannerSim
from hub.epc import gid96_encode

RFID_RATE = 1_000


def _pcts(samples: list[float]) -> tuple[float, float]:
    q = statistics.quantiles(samples, n=100, method="inclusive")
    return q[49] * 1000, q[98] * 1000


async def _rfid_load(bus: EventBus) -> tuple[ImpinjSim, ImpinjReader, asyncio.Task[None]]:
    sim = ImpinjSim(rate=RFID_RATE)
    sim.in_field = {gid96_encode(1, 1, n) for n in range(1, 400)}
    await sim.start()
    reader = ImpinjReader(DeviceSpec("reader", "rfid", "impinj-iot", "impinj-r700", None,
                                     {"host": "127.0.0.1", "port": sim.port,
                                      "antennas": {"1": "showcase-1"}}), bus.publish)
    task = asyncio.create_task(reader.run())
    while reader.reads < 50:
        await asyncio.sleep(0.01)
    return sim, reader, task


async def _baseline_pty(n: int) -> list[float]:
    master, slave = os.openpty()
    tty.setraw(slave)
    os.set_blocking(slave, False)
    loop = asyncio.get_running_loop()
    got: asyncio.Queue[float] = asyncio.Queue()
    buf = bytearray()

    def readable() -> None:
        buf.extend(os.read(slave, 4096))
        if buf.endswith(b"\r\n"):
            buf.clear()
            got.put_nowait(time.perf_counter())

    loop.add_reader(slave, readable)
    samples = []
    try:
        for i in range(n):
            t0 = time.perf_counter()
            os.write(master, f"]E0{4006381333931 + i}\r\n".encode())
            samples.append(await got.get() - t0)
            await asyncio.sleep(0.002)
    finally:
        loop.remove_reader(slave)
        os.close(master)
        os.close(slave)
    return samples


async def _scan_to_bus(tmp: Path, n: int) -> tuple[list[float], list[float], float]:
    bus = EventBus(asyncio.get_running_loop())
    sim, reader, reader_task = await _rfid_load(bus)
    scanner_sim = ScannerSim(tmp / "scanner", aim="]E0")
    scanner_sim.plug()
    scanner = SerialScanner(DeviceSpec("scanner", "scanner", "scanner-serial", "bench", "R1",
                                       {"path": str(scanner_sim.link), "aim_prefix": True}),
                            bus.publish)
    task = asyncio.create_task(scanner.run())
    arrived: asyncio.Queue[float] = asyncio.Queue()
    bus.listen("device.scan", lambda e: arrived.put_nowait(time.perf_counter()))
    while scanner.state != "connected":
        await asyncio.sleep(0.01)
    try:
        baseline = await _baseline_pty(n)
        reads0, t_start = reader.reads, time.perf_counter()
        samples = []
        for i in range(n):
            t0 = time.perf_counter()
            scanner_sim.scan(str(4006381333931 + i))
            samples.append(await arrived.get() - t0)
            await asyncio.sleep(0.002)
        rate = (reader.reads - reads0) / (time.perf_counter() - t_start)
    finally:
        for t in (task, reader_task):
            t.cancel()
        await asyncio.gather(task, reader_task, return_exceptions=True)
        scanner_sim.close()
        await sim.stop()
    return samples, baseline, rate


async def _scan_to_ws(tmp: Path, n: int) -> tuple[list[float], float] | None:
    try:
        import aiohttp

        from hub.config import load_config
        from hub.daemon import running
        from hub.demo import seed_demo_staff
        from hub.runtime import Options
        from hub.store import Store, init_store
    except ImportError:
        return None
    config = init_store(tmp / "store", "bench-01", "Maison Bench", "EUR")
    pieces = [{"item_id": f"B-{i:05d}", "sku": "BENCH", "description": "18k gold ring",
               "category": "ring", "metal": "gold", "karat": 18, "cost": 50_000,
               "tag_price": 120_000} for i in range(n)]
    async with await Store.open(config) as store:
        await store.items.receive_many(pieces, actor="bench")
        await seed_demo_staff(store)
    config = load_config(config.data_dir)
    options = Options(host="127.0.0.1", port=0, insecure_http=True, zeroconf=False, demo=True)
    samples: list[float] = []
    async with running(config, options) as runtime:
        rig = runtime.simulators
        rig.reader.rate = RFID_RATE
        scanner = runtime.devices.devices["scanner-r1"]
        reader = runtime.devices.devices["showcase-reader"]
        while scanner.state != "connected":
            await asyncio.sleep(0.01)
        base = f"http://127.0.0.1:{runtime.web.port}"
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(base, cookie_jar=jar) as http:
            resp = await http.post("/api/v1/session", json={"staff_id": "sophie",
                                                            "pin": "1111", "register_id": "R1"})
            resp.raise_for_status()
            async with http.ws_connect("/api/v1/events", headers={"Origin": base}) as ws:
                reads0, t_start = reader.reads, time.perf_counter()
                for i, piece in enumerate(pieces):
                    if i % 150 == 0:
                        await runtime.store.carts.clear("R1")  # a cart holds 200 lines
                    t0 = time.perf_counter()
                    rig.scanners["R1"].scan(piece["item_id"])
                    while True:
                        msg = json.loads((await ws.receive()).data)
                        if msg["topic"] in ("cart.changed", "cart.scan_refused") \
                                and msg["data"].get("register_id") == "R1":
                            break
                    if msg["topic"] != "cart.changed":
                        raise RuntimeError(f"scan refused: {msg['data']}")
                    samples.append(time.perf_counter() - t0)
                    await asyncio.sleep(0.002)
                rate = (reader.reads - reads0) / (time.perf_counter() - t_start)
    return samples, rate


async def run(quick: bool, out: TextIO) -> dict[str, float]:
    n = 200 if quick else 1000
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        scans, baseline, rate = await _scan_to_bus(Path(tmp), n)
        p50, p99 = _pcts(scans)
        b50, b99 = _pcts(baseline)
        print(f"scan -> device.scan on the bus, {n} scans, RFID {rate:,.0f} reads/s:"
              f" p50 {p50:.2f} ms, p99 {p99:.2f} ms", file=out)
        print(f"baseline bare pty -> add_reader, same load: p50 {b50:.2f} ms,"
              f" p99 {b99:.2f} ms", file=out)
        figures.update({"devices.scan_to_bus_p50_ms": p50, "devices.scan_to_bus_p99_ms": p99,
                        "devices.baseline_pty_p50_ms": b50, "devices.baseline_pty_p99_ms": b99,
                        "devices.scan_to_bus_vs_pty_p99": p99 / b99 if b99 else 0.0,
                        "devices.rfid_reads_per_s": rate})
        ws = await _scan_to_ws(Path(tmp), n)
        if ws:
            w50, w99 = _pcts(ws[0])
            print(f"scan -> cart.changed on a WebSocket (whole demo hub), {n} scans,"
                  f" RFID {ws[1]:,.0f} reads/s: p50 {w50:.2f} ms, p99 {w99:.2f} ms"
                  " (target p99 < 25 ms)", file=out)
            figures.update({"devices.scan_to_ws_p50_ms": w50, "devices.scan_to_ws_p99_ms": w99,
                            "devices.ws_run_rfid_reads_per_s": ws[1]})
    return figures
