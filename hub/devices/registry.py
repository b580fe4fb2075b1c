"""Driver names (as profiles write them) to driver classes, imported only when used."""

from __future__ import annotations

import importlib
from typing import Any

from hub.config import ConfigError

DRIVERS = {
    "scanner-serial": ("scanner", "hub.devices.scanner.driver:SerialScanner"),
    "scanner-hid": ("scanner", "hub.devices.scanner.driver:HidScanner"),
    "escpos": ("printer", "hub.devices.escpos.driver:ReceiptPrinter"),
    "zpl": ("tag_printer", "hub.devices.zpl.driver:TagPrinter"),
    "mt-sics": ("scale", "hub.devices.scale.driver:MtSicsScale"),
    "toledo-8217": ("scale", "hub.devices.scale.driver:Toledo8217Scale"),
    "cd5220": ("display", "hub.devices.display.driver:PoleDisplay"),
    "impinj-iot": ("rfid", "hub.devices.impinj.driver:ImpinjReader"),
    "tsl-ascii2": ("rfid", "hub.devices.tsl.driver:TslHandheld"),
    "zvt": ("terminal", "hub.devices.zvt.driver:ZvtTerminal"),
}
NOT_SUPPORTED = {
    "llrp": "LLRP readers (Impinj Speedway, Zebra FX) are not supported yet: there is no"
            " LLRP peer to test sllurp against. Use a reader's IoT/REST interface instead.",
}


def driver_class(name: str) -> tuple[str, Any]:
    if name in NOT_SUPPORTED:
        raise ConfigError(NOT_SUPPORTED[name])
    if name not in DRIVERS:
        raise ConfigError(f"unknown driver {name!r} (known: {', '.join(sorted(DRIVERS))})")
    kind, target = DRIVERS[name]
    module, _, cls = target.partition(":")
    return kind, getattr(importlib.import_module(module), cls)
