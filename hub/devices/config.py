"""The `[devices]` section of loupe.toml, validated; every error names the key.

    [devices.printer-r1]
    model = "epson-tm-t88vi"     # a file in firmware-config/
    register = "R1"
    host = "192.168.1.50"        # or path = "/dev/serial/by-id/..." or usb = "04b8:0202"

Keys beyond the connection are overrides of the profile's settings (`drawer`, `aim_prefix`,
`layout`, `antennas`...); an override the profile does not know is refused, so a typo
never silently does nothing.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from hub.devices.base import DeviceSpec
from hub.devices.errors import ConfigInvalid
from hub.devices.registry import DRIVERS, NOT_SUPPORTED

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_CONNECTION = {"model", "register", "path", "host", "port", "usb", "enabled"}
_ANY_DEVICE = {"check_interval", "check_timeout", "gone_after", "retry_initial", "retry_cap"}
_TOP = {"autodetect"}
_TYPES = {"path": str, "host": str, "usb": str, "register": str, "model": str, "enabled": bool}


def parse_devices(section: dict[str, Any], profiles: dict[str, dict[str, Any]],
                  registers: set[str]) -> list[DeviceSpec]:
    specs = []
    for device_id, table in section.items():
        if device_id in _TOP:
            if not isinstance(table, bool):
                raise ConfigInvalid(f"devices.{device_id}: must be true or false")
            continue
        where = f"devices.{device_id}"
        if not isinstance(table, dict):
            raise ConfigInvalid(f"{where}: must be a table ([devices.{device_id}])")
        if not _ID.match(device_id):
            raise ConfigInvalid(f"{where}: a device id is 1-40 lower-case letters, digits,"
                                " '-' or '_'")
        for key, kind in _TYPES.items():
            if key in table and not isinstance(table[key], kind):
                raise ConfigInvalid(f"{where}.{key}: must be {kind.__name__}, got {table[key]!r}")
        model = table.get("model")
        if model is None:
            raise ConfigInvalid(f"{where}.model: missing (one of: {', '.join(sorted(profiles))})")
        if model not in profiles:
            raise ConfigInvalid(f"{where}.model: no profile {model!r} in firmware-config"
                                f" (have: {', '.join(sorted(profiles))})")
        profile = profiles[model]
        if profile["driver"] in NOT_SUPPORTED:
            raise ConfigInvalid(f"{where}: {NOT_SUPPORTED[profile['driver']]}")
        if not table.get("enabled", True):
            continue
        register = table.get("register")
        if register is not None and register not in registers:
            raise ConfigInvalid(f"{where}.register: {register!r} is not a register of this"
                                f" store (have: {', '.join(sorted(registers))})")
        if not (table.get("path") or table.get("host") or table.get("usb")):
            raise ConfigInvalid(f"{where}: give path (serial), host (network) or usb (vvvv:pppp)")
        port = table.get("port", profile.get("port", 9100))
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise ConfigInvalid(f"{where}.port: must be a TCP port number, got {port!r}")
        settings = copy.deepcopy({k: v for k, v in profile.items()
                                  if k not in ("name", "driver", "model_id")})
        for key, value in table.items():
            if key in _CONNECTION or key in _ANY_DEVICE:
                settings[key] = value
            elif key in profile:
                if isinstance(profile[key], dict):
                    if not isinstance(value, dict):
                        raise ConfigInvalid(f"{where}.{key}: must be a table")
                    unknown = sorted(set(value) - set(profile[key]))
                    if unknown and key != "antennas":
                        raise ConfigInvalid(f"{where}.{key}.{unknown[0]}: not a setting of"
                                            f" {profile['name']} (have: "
                                            f"{', '.join(sorted(profile[key]))})")
                    # A store's antenna map replaces the model's example map; other
                    # tables override the model's defaults key by key.
                    settings[key] = dict(value) if key == "antennas" else {**profile[key],
                                                                           **value}
                else:
                    expected = type(profile[key])
                    if expected is float and type(value) is int:
                        value = float(value)
                    if type(value) is not expected:
                        raise ConfigInvalid(f"{where}.{key}: must be"
                                            f" {type(profile[key]).__name__}, got {value!r}")
                    settings[key] = value
            else:
                allowed = sorted(_CONNECTION | _ANY_DEVICE | (set(profile) - {"name", "driver",
                                                                              "model_id"}))
                raise ConfigInvalid(f"{where}: unknown key {key!r} (allowed: "
                                    f"{', '.join(allowed)})")
        for key in _ANY_DEVICE:
            value = settings.get(key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)
                                      or value <= 0):
                raise ConfigInvalid(f"{where}.{key}: must be a positive number, got {value!r}")
        for port_name, place in settings.get("antennas", {}).items():
            if not port_name.isdigit() or not 1 <= int(port_name) <= 32 \
                    or not isinstance(place, str):
                raise ConfigInvalid(f"{where}.antennas.{port_name}: antenna ports are 1-32,"
                                    " each mapped to a location name")
        settings["port"] = port
        kind = DRIVERS[profile["driver"]][0]
        specs.append(DeviceSpec(device_id, kind, profile["driver"], model, register, settings))
    return specs
