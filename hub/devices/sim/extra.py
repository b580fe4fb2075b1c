"""Demo simulators beyond scanners and receipt printers: a scale and a pole display at the
first register, a showcase RFID reader streaming the store's own tags, a TSL handheld and
an RFID tag printer."""

from __future__ import annotations

from typing import Any

from hub.devices.sim.display import PoleDisplaySim
from hub.devices.sim.impinj import ImpinjSim
from hub.devices.sim.scale import MtSicsSim
from hub.devices.sim.tsl import TslSim
from hub.devices.sim.zpl import ZplPrinterSim


async def start(rig: Any) -> None:
    rig.scale = MtSicsSim(rig.dir / "scale")
    rig.scale.place("5.230")
    rig.display = PoleDisplaySim(rig.dir / "display")
    rig.handheld = TslSim(rig.dir / "tsl-1128")
    for sim in (rig.scale, rig.display, rig.handheld):
        sim.plug()
    rig.reader = ImpinjSim(rate=20)
    await rig.reader.start()
    rig.tags = ZplPrinterSim()
    await rig.tags.start()


async def stop(rig: Any) -> None:
    for name in ("scale", "display", "handheld"):
        sim = getattr(rig, name, None)
        if sim is not None:
            sim.close()
    for name in ("reader", "tags"):
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
                            "antennas": {"1": "showcase-1", "2": "showcase-2"}},
        "handheld": {"model": "tsl-1128", "path": str(rig.handheld.link)},
        "tag-printer": {"model": "zebra-zd621r", "host": "127.0.0.1", "port": rig.tags.port},
    }


async def seed_tags(rig: Any, store: Any, limit: int = 60) -> int:
    """Put the store's in-stock pieces in front of the demo reader and handheld."""
    rows = await store.ledger.fetch("SELECT epc FROM items WHERE status = 'in_stock' AND epc"
                                    " IS NOT NULL LIMIT ?", (limit,))
    epcs = {r["epc"] for r in rows}
    rig.reader.in_field = set(epcs)
    rig.handheld.in_field = set(list(epcs)[: limit // 3])
    return len(epcs)
