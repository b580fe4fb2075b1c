"""A device flapping: the whole hub (`loupe run`'s parts, in this process) with a serial
scanner on a real pty and a receipt printer on a real socket, both pulled and plugged back
every `every` seconds for `seconds` (the issue's form: every second for a minute). The
hub's tasks, open file descriptors and event-bus listeners are counted at the start and at
the end; once the flapping stops, a scan must reach the bus and the printer be back.

    python -m bench faults [--quick]       (--quick: every 0.2 s for 10 s)
    python -m bench.faults --seconds 60 --every 1
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# Fast checks and retries, so a flap every fraction of a second is seen as one.
FAST = "check_interval = 0.05\ncheck_timeout = 0.3\nretry_initial = 0.02\nretry_cap = 0.1\n"


def counts(runtime: Any) -> dict[str, int]:
    """What would grow if each flap left something behind. (The bus's lists are read
    directly: nothing else counts them.)"""
    bus = runtime.bus
    return {"tasks": len(asyncio.all_tasks()), "fds": len(os.listdir("/proc/self/fd")),
            "bus_subscriptions": len(bus._subs), "bus_listeners": len(bus._listeners)}


async def flapping(folder: Path, *, seconds: float, every: float,
                   out: Any = sys.stdout) -> dict[str, Any]:
    """Run the hub with the two devices, flap them, and say what it saw: the counts at
    the start (`before`), at their highest while flapping (`peak`) and at the end
    (`after`); the device-state changes published; whether a scan got through after."""
    from hub.config import load_config
    from hub.daemon import running
    from hub.devices.sim.escpos import EscPosPrinterSim
    from hub.devices.sim.pty import ScannerSim
    from hub.runtime import Options
    from hub.store import init_store

    config = init_store(folder / "store", "flap-01", "Maison Flap", "EUR")
    scanner = ScannerSim(folder / "scanner-r1", aim="]E0")
    printer = EscPosPrinterSim()
    await printer.start()
    scanner.plug()
    port = printer.port
    with open(config.data_dir / "loupe.toml", "a", encoding="utf-8") as toml:
        toml.write(f'\n[devices.scanner-r1]\nmodel = "honeywell-1450g-serial"\nregister = "R1"\n'
                   f'path = "{scanner.link}"\naim_prefix = true\n{FAST}'
                   f'\n[devices.printer-r1]\nmodel = "epson-tm-t88vi"\nregister = "R1"\n'
                   f'host = "127.0.0.1"\nport = {port}\n{FAST}')
    options = Options(host="127.0.0.1", port=0, insecure_http=True, zeroconf=False)
    try:
        async with running(load_config(config.data_dir), options) as runtime:
            manager = runtime.devices

            def states() -> dict[str, str]:
                return {d["device"]: d["state"] for d in manager.states()}

            await _until(lambda: set(states().values()) == {"connected"}, 15, "devices up")
            changes = runtime.bus.subscribe("device.state", maxsize=1_000_000)
            scans = runtime.bus.subscribe("device.scan")
            await asyncio.sleep(0.3)  # settle: the first checks' own tasks come and go
            before = counts(runtime)
            peak = dict(before)
            flaps = 0
            started = time.monotonic()
            while time.monotonic() - started < seconds:
                scanner.unplug()
                await printer.stop()
                await asyncio.sleep(every / 2)
                scanner.plug()
                printer = EscPosPrinterSim(port=port)
                await printer.start()
                await asyncio.sleep(every / 2)
                flaps += 1
                peak = {k: max(v, counts(runtime)[k]) for k, v in peak.items()}
            await _until(lambda: set(states().values()) == {"connected"}, 15,
                         "devices back after the flapping")
            scanner.scan("RG-AFTER")
            scan = await asyncio.wait_for(scans.get(), 10)
            await asyncio.sleep(0.3)  # the same settling as before the first count
            after = counts(runtime)
            seen = 0
            while changes.get_nowait() is not None:
                seen += 1
            changes.close()
            scans.close()
            last_states = states()
    finally:
        scanner.close()
        with contextlib.suppress(Exception):
            await printer.stop()
    result = {"flaps": flaps, "seconds": seconds, "every": every, "before": before,
              "peak": peak, "after": after, "state_changes": seen,
              "scan_after": scan.data.get("code"), "states_after": last_states}
    print(f"  {flaps} flaps of a scanner (pty) and a printer (socket), every {every:g} s for"
          f" {seconds:g} s: {seen} device-state changes published", file=out)
    for key in before:
        print(f"  {key:18} start {before[key]:4}  peak {peak[key]:4}  end {after[key]:4}",
              file=out)
    print(f"  after: {last_states}; a scan got through: {result['scan_after']}", file=out)
    return result


async def _until(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for: {what}")
        await asyncio.sleep(0.02)


async def run(quick: bool, out: Any = sys.stdout) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="loupe-faults-") as folder:
        r = await flapping(Path(folder), seconds=10 if quick else 60, every=0.2 if quick else 1,
                           out=out)
    return {"faults.flaps": r["flaps"], "faults.state_changes": r["state_changes"],
            **{f"faults.{k}_start": v for k, v in r["before"].items()},
            **{f"faults.{k}_end": v for k, v in r["after"].items()}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.faults", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--every", type=float, default=1.0)
    args = parser.parse_args(argv)

    async def go() -> dict[str, Any]:
        with tempfile.TemporaryDirectory(prefix="loupe-faults-") as folder:
            return await flapping(Path(folder), seconds=args.seconds, every=args.every)

    result = asyncio.run(go())
    grew = {k: (result["before"][k], result["after"][k]) for k in result["before"]
            if result["after"][k] > result["before"][k]}
    print(f"  grew: {grew or 'nothing'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
