"""What every RFID driver publishes: `device.rfid.read` with a normalised 96-bit EPC."""

from __future__ import annotations

import time
from typing import Any

from hub.epc import EpcError, normalise_epc


def publish_read(device: Any, epc: str, *, antenna: int | None, rssi_cdbm: int | None,
                 ts: float | None = None) -> bool:
    """Publish one tag read; False (and a counted problem) for an EPC that is not 96 bits."""
    try:
        value = normalise_epc(epc)
    except EpcError:
        device.skipped += 1
        return False
    antennas = device.spec.get("antennas", {})
    location = antennas.get(str(antenna)) if antenna is not None else None
    device.reads += 1
    device.publish("device.rfid.read", device=device.id, epc=value, antenna=antenna,
                   rssi_cdbm=rssi_cdbm, location=location or device.spec.get("location"),
                   ts=ts if ts is not None else time.time())
    return True
