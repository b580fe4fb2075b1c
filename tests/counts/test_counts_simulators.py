"""End to end with the device simulators: a full-store count of a generated store of 5,000
pieces with 20 pieces hidden and 5 misplaced reports exactly those.

The same store and the same hidden and misplaced pieces as `test_counts_store`, but the
reads come from the real drivers over their real wire protocols: an Impinj R700 fixed
reader on each showcase, window and tray (IoT device interface: REST to install and start
the preset, then the NDJSON event stream), whose antenna the device config maps to that
location, and a TSL 1128 handheld (TSL ASCII 2.0 on a pty) that the operator assigns to
sweep the safe. The devices are configured from the model profiles in firmware-config and run by the
DeviceManager, exactly as the daemon does; the test only places tags in front of the
simulators and waits until every tag in the field has been heard.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hub.bus import Event
from hub.counts.service import Counts
from hub.devices.config import parse_devices
from hub.devices.manager import DeviceManager
from hub.devices.profiles import load_profiles
from hub.devices.sim.impinj import ImpinjSim
from hub.devices.sim.tsl import TslSim
from tests.counts.count_scenes import LOCATIONS, five_thousand_pieces

# Fixed readers: device id -> the location each antenna port (1, 2...) looks at, one reader
# per location, so each simulator's field stays near 700 tags that all come up in its random
# draw within seconds.
FIXED = {f"fx-{n}": (loc,) for n, loc in enumerate(LOCATIONS[:-1], start=1)}
HANDHELD, SWEPT = "tsl-1", "safe"
RATE = 1000        # tag events per second per fixed reader (the simulator's knob); six
                   # readers at this rate keep the event loop below saturation on 2 cores
PASSES = 3         # handheld inventories of the safe: every tag answers each time
DEADLINE = 40.0    # a generous bound on a wait, never a timing under test


async def wait_until(predicate: Callable[[], Any], what: str | Callable[[], str],
                     timeout: float = DEADLINE) -> Any:
    """Poll until `predicate()` is truthy; a bounded wait, not a timing assertion. `what`
    names the condition (a callable: how far it got, said when the wait gives up)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not (value := predicate()):
        if loop.time() > deadline:
            raise AssertionError(f"{what() if callable(what) else what}:"
                                 f" not met within {timeout} s")
        await asyncio.sleep(0.02)
    return value


class Shop:
    """The simulated hardware of the shop floor, and the `[devices]` config that points
    the hub at it. `place(epc, location)` puts a tag where a reader can see it."""

    def __init__(self, directory: Path) -> None:
        self.readers = {device: ImpinjSim(rate=RATE, seed=n)
                        for n, device in enumerate(FIXED, start=1)}
        self.handheld = TslSim(directory / HANDHELD)
        self.antenna = {loc: (device, port) for device, locs in FIXED.items()
                        for port, loc in enumerate(locs, start=1)}

    def place(self, epc: str, location: str) -> None:
        if location == SWEPT:
            self.handheld.in_field.add(epc)
            return
        device, port = self.antenna[location]
        self.readers[device].in_field.add(epc)
        self.readers[device].antenna_of[epc] = port

    def field(self, device: str) -> set[str]:
        """Every tag a device can hear: the pieces in front of it and the foreign tags."""
        sim = self.readers.get(device) or self.handheld
        return set(sim.in_field) | set(sim.foreign)

    async def start(self) -> None:
        for sim in self.readers.values():
            await sim.start()
        self.handheld.plug()

    async def stop(self) -> None:
        for sim in self.readers.values():
            with contextlib.suppress(Exception):
                await sim.stop()
        self.handheld.close()

    def config(self) -> dict[str, Any]:
        section: dict[str, Any] = {
            device: {"model": "impinj-r700", "host": "127.0.0.1",
                     "port": self.readers[device].port,
                     "antennas": {str(port): loc for port, loc in enumerate(locs, start=1)}}
            for device, locs in FIXED.items()}
        section[HANDHELD] = {"model": "tsl-1128", "path": str(self.handheld.link)}
        return section


async def test_full_store_count_through_the_reader_simulators(store, tmp_path):
    scene = await five_thousand_pieces(store)
    shop = Shop(tmp_path)
    for n, row in enumerate(scene.rows):
        where = scene.where(n)
        if where is not None:
            shop.place(row["epc"], where)

    heard: dict[str, set[str]] = {device: set() for device in [*FIXED, HANDHELD]}

    def hear(event: Event) -> None:
        heard[event.data["device"]].add(event.data["epc"])

    unlisten = store.bus.listen("device.rfid.read", hear)
    counts = Counts(store, store.bus)
    manager: DeviceManager | None = None
    try:
        await shop.start()
        await counts.start()
        started = await counts.start_count("full", None, "manager")
        count_id = started["count_id"]
        await counts.sweep(count_id, HANDHELD, SWEPT, "manager")

        specs = parse_devices(shop.config(), load_profiles(), set())
        manager = DeviceManager(specs, store.bus)
        await manager.start()
        handheld = manager.get(HANDHELD)
        await wait_until(lambda: handheld.state == "connected", what="handheld connected")
        per_pass = len(shop.field(HANDHELD))
        for sweep in range(PASSES):
            if sweep == 0:
                await handheld.inventory()  # the hub asks for a sweep
            else:
                shop.handheld.trigger()     # the operator pulls the trigger
            await wait_until(lambda n=sweep + 1: handheld.reads >= n * per_pass,
                             what=f"handheld sweep {sweep + 1}")
        await wait_until(lambda: all(heard[d] >= shop.field(d) for d in FIXED),
                         what=lambda: "every fixed reader hears every tag in its field"
                         " (heard/in field: " + ", ".join(
                             f"{d} {len(heard[d] & shop.field(d))}/{len(shop.field(d))}"
                             for d in FIXED) + ")")
        assert heard[HANDHELD] == shop.field(HANDHELD)
        payload = await counts.close(count_id, "manager")
    finally:
        unlisten()
        if manager is not None:
            await manager.stop()
        await counts.stop()
        await shop.stop()

    result = payload["result"]
    assert result["expected"] == 5_000 and result["found"] == 4_980
    assert {m["item_id"] for m in result["missing"]} == scene.missing()
    assert {m["item_id"] for m in result["misplaced"]} == scene.misplaced()
    foreign = {epc for sim in [*shop.readers.values(), shop.handheld] for epc in sim.foreign}
    assert sorted(result["unknown"]) == sorted(foreign) and result["unlocated"] == []
    assert result["in_place"] == 4_975 and payload["readers"] == [*FIXED, HANDHELD]
    assert payload["sweeps"] == {HANDHELD: SWEPT}
