"""Card terminal benchmark: a payment's round trip through the real ZVT driver to the
simulator over loopback TCP (authorisation, three intermediate statuses, status
information, nine slip lines, completion, each acknowledged), against a bare TCP echo round
trip on the same loopback in the same run.

The books are left out: this measures the wire and the driver, not SQLite.
"""

from __future__ import annotations

import asyncio
import statistics
import time

from hub.bus import EventBus
from hub.devices.config import parse_devices
from hub.devices.manager import DeviceManager
from hub.devices.profiles import load_profiles
from hub.devices.sim.zvt import ZvtTerminalSim


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _echo_rtt(n: int) -> list[float]:
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(4096):
            writer.write(data)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    out = []
    for _ in range(n):
        t = time.perf_counter()
        writer.write(b"\x06\x01\x07\x04\x00\x00\x00\x12\x50")
        await reader.readexactly(9)
        out.append((time.perf_counter() - t) * 1000)
    writer.close()
    server.close()
    return out


async def _payments(n: int) -> list[float]:
    sim = ZvtTerminalSim()
    await sim.start()
    specs = parse_devices({"terminal": {"model": "ingenico-move5000-zvt", "register": "R1",
                                        "host": "127.0.0.1", "port": sim.port,
                                        "check_interval": 60.0}}, load_profiles(), {"R1"})
    manager = DeviceManager(specs, EventBus(asyncio.get_running_loop()))
    await manager.start()
    terminal = manager.devices["terminal"]
    while terminal.state != "connected":
        await asyncio.sleep(0.01)
    out = []
    try:
        for i in range(n):
            t = time.perf_counter()
            answer = await terminal.authorise(1000 + 100 * i)  # type: ignore[attr-defined]
            out.append((time.perf_counter() - t) * 1000)
            assert answer.approved
    finally:
        await manager.stop()
        await sim.stop()
    return out


async def run(quick: bool, out) -> dict[str, float]:
    n = 50 if quick else 500
    echo = await _echo_rtt(n)
    pay = await _payments(n)
    figures = {"money.terminal_rtt_ms_p50": statistics.median(pay),
               "money.terminal_rtt_ms_p99": _p(pay, 0.99),
               "money.terminal_echo_rtt_ms_p50": statistics.median(echo),
               "money.terminal_echo_rtt_ms_p99": _p(echo, 0.99)}
    print(f"  payment round trip over ZVT/TCP: p50 {figures['money.terminal_rtt_ms_p50']:.2f} ms,"
          f" p99 {figures['money.terminal_rtt_ms_p99']:.2f} ms ({n} payments)", file=out)
    print(f"  baseline, bare TCP echo round trip: p50"
          f" {figures['money.terminal_echo_rtt_ms_p50']:.3f} ms, p99"
          f" {figures['money.terminal_echo_rtt_ms_p99']:.3f} ms; p50 ratio"
          f" {figures['money.terminal_rtt_ms_p50'] / figures['money.terminal_echo_rtt_ms_p50']:.0f}x"
          " (a payment is ~15 messages each way, each acknowledged)", file=out)
    return figures
