"""The IoT device interface's NDJSON events, e.g.

    {"timestamp":"2021-07-09T23:35:59.278427551Z","hostname":"impinj-13-f8-f5",
     "tagInventoryEvent":{"epcHex":"E2801190A5021F80055817CA","antennaPort":1,
                          "peakRssiCdbm":-2650,"transmitPowerCdbm":3000}}

and the inventory preset the driver installs (`antennaConfigs` per antenna port).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

API = "/api/v1"


class EventError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class TagRead:
    epc: str
    antenna: int | None
    rssi_cdbm: int | None
    ts: float | None


def parse_timestamp(text: str) -> float:
    """RFC 3339 with up to nanoseconds (Python's parser takes at most microseconds)."""
    if not isinstance(text, str) or not text.endswith("Z") or "T" not in text:
        raise EventError(f"bad timestamp {text!r}")
    body = text[:-1]
    head, dot, frac = body.partition(".")
    if dot:
        if not frac.isdigit():
            raise EventError(f"bad timestamp {text!r}")
        body = f"{head}.{frac[:6].ljust(6, '0')}"
    try:
        return datetime.fromisoformat(body + "+00:00").timestamp()
    except ValueError:
        raise EventError(f"bad timestamp {text!r}") from None


def _int_or_none(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise EventError(f"expected an integer, got {value!r}")
    return value


def parse_event(line: bytes) -> TagRead | None:
    """One NDJSON line -> a TagRead, None for other event types (status, keepalive)."""
    try:
        obj = json.loads(line)
    except (ValueError, UnicodeDecodeError):
        raise EventError(f"not JSON: {line[:60]!r}") from None
    if not isinstance(obj, dict):
        raise EventError("event is not a JSON object")
    tag = obj.get("tagInventoryEvent")
    if tag is None:
        return None
    if not isinstance(tag, dict) or not isinstance(tag.get("epcHex"), str):
        raise EventError("tagInventoryEvent without epcHex")
    ts = parse_timestamp(obj["timestamp"]) if "timestamp" in obj else None
    return TagRead(tag["epcHex"], _int_or_none(tag.get("antennaPort")),
                   _int_or_none(tag.get("peakRssiCdbm")), ts)


def inventory_preset(antennas: list[int], power_cdbm: int, session: int = 1,
                     search_mode: str = "single-target", rf_mode: int = 4) -> dict[str, Any]:
    return {"eventConfig": {"common": {"hostname": "disabled"},
                            "tagInventory": {"tagReporting": {"reportingIntervalSeconds": 0,
                                                              "antennaIdentifier":
                                                                  "antennaPort"}}},
            "antennaConfigs": [{"antennaPort": port, "transmitPowerCdbm": power_cdbm,
                                "inventorySession": session,
                                "inventorySearchMode": search_mode, "rfMode": rf_mode}
                               for port in antennas]}
