"""Model profiles: which protocol a model speaks is data (firmware-config/*.toml), not code.

A profile names its driver and holds the model's settings: USB ids, serial parameters,
drawer pulse, code page, init commands. Adding a model of a known protocol is a new file.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from hub.config import ConfigError
from hub.devices.registry import DRIVERS, NOT_SUPPORTED

PROFILES_DIR = Path(__file__).resolve().parents[2] / "firmware-config"
_USB = re.compile(r"^[0-9a-f]{4}:[0-9a-f]{4}$")
_REQUIRED = ("name", "driver")


def load_profile(path: Path) -> dict[str, Any]:
    where = path.name
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{where}: not valid TOML: {exc}") from None
    for key in _REQUIRED:
        if not isinstance(doc.get(key), str):
            raise ConfigError(f"{where}: `{key}` must be text")
    if doc["driver"] not in DRIVERS and doc["driver"] not in NOT_SUPPORTED:
        raise ConfigError(f"{where}: unknown driver {doc['driver']!r}")
    usb = doc.get("usb", [])
    if not isinstance(usb, list) or not all(isinstance(u, str) and _USB.match(u) for u in usb):
        raise ConfigError(f"{where}: `usb` must be a list of \"vvvv:pppp\" hex ids")
    serial = doc.get("serial", {})
    if not isinstance(serial, dict):
        raise ConfigError(f"{where}: `serial` must be a table")
    for key in ("baudrate", "bytesize", "stopbits"):
        if key in serial and (isinstance(serial[key], bool) or not isinstance(serial[key], int)):
            raise ConfigError(f"{where}: serial.{key} must be an integer")
    doc["model_id"] = path.stem
    return doc


def load_profiles(directory: Path = PROFILES_DIR) -> dict[str, dict[str, Any]]:
    return {p.stem: load_profile(p) for p in sorted(directory.glob("*.toml"))}

