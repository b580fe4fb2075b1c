"""Demo simulators beyond scanners and receipt printers: a scale and a pole display at the
first register, a showcase RFID reader streaming the store's own tags, a TSL handheld and
an RFID tag printer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hub.devices.sim.display import PoleDisplaySim
from hub.devices.sim.impinj import ImpinjSim
from hub.devices.sim.scale import MtSicsSim
from hub.devices.sim.tsl import TslSim
from hub.devices.sim.zpl import ZplPrinterSim
from hub.devices.sim.zvt import ZvtTerminalSim
from hub.store import Store

if TYPE_CHECKING:  # the rig builds these simulators: a name for annotations only
    from hub.devices.sim.rig import DemoRig


async def start(rig: Any) -> None:
    rig.scale = MtSicsSim(rig.dir / "scale")
    rig.scale.place("5.230")
    rig.display = PoleDisplaySim(rig.dir / "display")
    rig.handheld = TslSim(rig.dir / "tsl-1128")
    for sim in (rig.scale, rig.display, rig.handheld):
        sim.plug()
    rig.reader = ImpinjSim(rate=400)  # a few seconds to read a demo store's showcases
    await rig.reader.start()
    rig.tags = ZplPrinterSim()
    await rig.tags.start()
    rig.terminal = ZvtTerminalSim()  # the first register's card terminal
    rig.terminal.step_s = 0.8  # the demo's client takes a moment to tap and type her PIN
    await rig.terminal.start()


async def stop(rig: Any) -> None:
    for name in ("scale", "display", "handheld"):
        sim = getattr(rig, name, None)
        if sim is not None:
            sim.close()
    for name in ("reader", "tags", "terminal"):
        sim = getattr(rig, name, None)
        if sim is not None:
            await sim.stop()


def config(rig: Any) -> dict[str, Any]:
    first = rig.registers[0]
    return {
        "scale-1": {"model": "mettler-toledo-sics", "register": first,
                    "path": str(rig.scale.link)},
        "display-1": {"model": "logic-controls-pd3000", "register": first,
                      "path": str(rig.display.link)},
        "showcase-reader": {"model": "impinj-r700", "host": "127.0.0.1",
                            "port": rig.reader.port,
                            "antennas": {str(port): place for port, place in DEMO_ANTENNAS.items()}},
        "handheld": {"model": "tsl-1128", "path": str(rig.handheld.link)},
        "tag-printer": {"model": "zebra-zd621r", "host": "127.0.0.1", "port": rig.tags.port},
        "terminal-1": {"model": "ingenico-move5000-zvt", "register": first,
                       "host": "127.0.0.1", "port": rig.terminal.port},
    }


# One antenna under each showcase, window and tray of the generated store; the safe is swept
# with the handheld (the manager assigns it to the safe in the count screen).
DEMO_ANTENNAS = {1: "showcase-1", 2: "showcase-2", 3: "showcase-3", 4: "window", 5: "tray-A",
                 6: "tray-B"}


async def seed_tags(rig: DemoRig, store: Store, hidden: int = 3, misplaced: int = 2) -> int:
    """Put the store's in-stock pieces in front of the antenna of their location (the safe's
    in front of the handheld), except a few left out and a few under the wrong antenna, so a
    demo count shows what a real one finds."""
    rows = sorted((r for r in await store.items.tagged(("item_id", "epc", "location", "status"))
                   if r["status"] == "in_stock"), key=lambda r: r["item_id"])
    port_of = {place: port for port, place in DEMO_ANTENNAS.items()}
    field, antenna_of, safe = set(), {}, set()
    for n, row in enumerate(rows):
        if n % 97 == 5 and hidden > 0:  # not in its case: the count will report it missing
            hidden -= 1
            continue
        if row["location"] == "safe":
            safe.add(row["epc"])
            continue
        port = port_of.get(row["location"])
        if port is None:
            continue
        if n % 89 == 7 and misplaced > 0:  # put back in the neighbouring case
            misplaced -= 1
            port = port % len(DEMO_ANTENNAS) + 1
        field.add(row["epc"])
        antenna_of[row["epc"]] = port
    rig.reader.in_field = field
    rig.reader.antenna_of = antenna_of
    rig.handheld.in_field = safe
    return len(field) + len(safe)
