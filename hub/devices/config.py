"""The `[devices]` section of loupe.toml, validated; every error names the key.

    [devices]
    autodetect = true            # add USB devices recognised by vid:pid (hub/devices/discovery)

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
import logging
import re
from collections.abc import Callable
from typing import Any

from hub.config import ConfigError, Section
from hub.devices.base import RUNNER_DEFAULTS, DeviceSpec
from hub.devices.discovery import discover
from hub.devices.registry import DRIVERS, NOT_SUPPORTED

log = logging.getLogger(__name__)

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_WHERE = ("path", "host", "usb")
# Every device's runner settings (hub.devices.base.Device): seconds, and a count.
_TIMINGS = ("check_interval", "check_timeout", "retry_initial", "retry_cap")
_ANY_DEVICE = set(RUNNER_DEFAULTS)
_CONNECTION = {"model", "register", *_WHERE, "port", "enabled"}
_NOT_SETTINGS = ("name", "driver", "model_id")

Discover = Callable[[dict[str, dict[str, Any]], list[dict[str, Any]]], dict[str, dict[str, Any]]]


def read_devices(section: Section, profiles: dict[str, dict[str, Any]], registers: set[str],
                 *, find: Discover = discover) -> list[DeviceSpec]:
    """The devices of `config.section("devices")`: `autodetect`, then one table per device
    id (the section's other keys), each checked against its model's profile."""
    autodetect = section.flag("autodetect", False)
    tables = section.rest()
    section.done()
    if autodetect:
        configured = [t for t in tables.values() if isinstance(t, dict)]
        for device_id, table in find(profiles, configured).items():
            if tables.setdefault(device_id, table) is table:
                log.info("device recognised", extra={"device": device_id, **table})
    return parse_devices(tables, profiles, registers)


def parse_devices(tables: dict[str, Any], profiles: dict[str, dict[str, Any]],
                  registers: set[str]) -> list[DeviceSpec]:
    """Device tables by id (as under `[devices]`) to specs; disabled devices are left out."""
    specs = []
    for device_id, table in tables.items():
        spec = _device(Section(f"devices.{device_id}", table), device_id, profiles, registers)
        if spec is not None:
            specs.append(spec)
    return specs


def _device(dev: Section, device_id: str, profiles: dict[str, dict[str, Any]],
            registers: set[str]) -> DeviceSpec | None:
    where = dev.name
    if not _ID.match(device_id):
        raise ConfigError(f"{where}: a device id is 1-40 lower-case letters, digits,"
                          " '-' or '_'")
    given = {key: dev.text(key) for key in ("model", "register", *_WHERE) if dev.has(key)}
    enabled = dev.flag("enabled", True)
    model = given.get("model")
    if model is None:
        raise ConfigError(f"{where}.model: missing (one of: {', '.join(sorted(profiles))})")
    if model not in profiles:
        raise ConfigError(f"{where}.model: no profile {model!r} in firmware-config"
                          f" (have: {', '.join(sorted(profiles))})")
    profile = profiles[model]
    if profile["driver"] in NOT_SUPPORTED:
        raise ConfigError(f"{where}: {NOT_SUPPORTED[profile['driver']]}")
    if not enabled:
        return None
    register = given.get("register")
    if register is not None and register not in registers:
        raise ConfigError(f"{where}.register: {register!r} is not a register of this"
                          f" store (have: {', '.join(sorted(registers))})")
    if not any(given.get(key) for key in _WHERE):
        raise ConfigError(f"{where}: give path (serial), host (network) or usb (vvvv:pppp)")
    settings = copy.deepcopy({k: v for k, v in profile.items() if k not in _NOT_SETTINGS})
    settings.update(given)
    if dev.has("enabled"):
        settings["enabled"] = enabled
    settings["port"] = dev.whole("port", profile.get("port", 9100), 1, 65535)
    for key in _TIMINGS:
        if dev.has(key):
            settings[key] = dev.seconds(key, 0.0, 0.001, 3600)
    if dev.has("gone_after"):
        settings["gone_after"] = dev.whole("gone_after", 3, 1, 1000)
    runner = {**RUNNER_DEFAULTS, **{k: v for k, v in settings.items() if k in _ANY_DEVICE}}
    if runner["retry_initial"] > runner["retry_cap"]:
        raise ConfigError(f"{where}.retry_initial: {runner['retry_initial']:g} s is longer than"
                          f" retry_cap ({runner['retry_cap']:g} s)")
    for key, value in dev.rest().items():
        settings[key] = _override(where, profile, key, value)
    dev.done()
    for port_name, place in settings.get("antennas", {}).items():
        if not port_name.isdigit() or not 1 <= int(port_name) <= 32 \
                or not isinstance(place, str):
            raise ConfigError(f"{where}.antennas.{port_name}: antenna ports are 1-32,"
                              " each mapped to a location name")
    kind = DRIVERS[profile["driver"]][0]
    return DeviceSpec(device_id, kind, profile["driver"], model, register, settings)


def _override(where: str, profile: dict[str, Any], key: str, value: Any) -> Any:
    """A store's value for one of the profile's settings, of the profile's type."""
    if key not in profile or key in _NOT_SETTINGS:
        allowed = sorted(_CONNECTION | _ANY_DEVICE | (set(profile) - set(_NOT_SETTINGS)))
        raise ConfigError(f"{where}: unknown key {key!r} (allowed: {', '.join(allowed)})")
    default = profile[key]
    if isinstance(default, dict):
        if not isinstance(value, dict):
            raise ConfigError(f"{where}.{key}: must be a table")
        if key == "antennas":
            # A store's antenna map replaces the model's example map.
            return dict(value)
        unknown = sorted(set(value) - set(default))
        if unknown:
            raise ConfigError(f"{where}.{key}.{unknown[0]}: not a setting of {profile['name']}"
                              f" (have: {', '.join(sorted(default))})")
        return {**default, **value}  # other tables override the model's key by key
    expected = type(default)
    if expected is float and type(value) is int:
        value = float(value)
    if type(value) is not expected:
        raise ConfigError(f"{where}.{key}: must be {expected.__name__}, got {value!r}")
    return value
