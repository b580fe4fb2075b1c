"""`loupe run` part: validates `[devices]`, starts the device manager, and in demo mode the
simulators too, so `loupe demo` shows live devices without hardware."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from hub.devices.config import parse_devices
from hub.devices.errors import ConfigInvalid
from hub.devices.manager import DeviceManager
from hub.devices.profiles import load_profiles
from hub.receipts import receipt_settings

log = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def part(runtime: Any):
    config = runtime.config
    profiles = load_profiles()
    try:
        receipts = receipt_settings(config)
    except ValueError as exc:
        raise ConfigInvalid(str(exc)) from None
    section = config.section("devices").rest()  # checked by hub.devices.config
    if section.get("autodetect", False):
        from hub.devices.discovery import discover

        configured = [t for t in section.values() if isinstance(t, dict)]
        for device_id, table in discover(profiles, configured).items():
            section.setdefault(device_id, table)
            log.info("device recognised", extra={"device": device_id, **table})
    specs = parse_devices(section, profiles, {r.id for r in config.registers})
    async with contextlib.AsyncExitStack() as stack:
        rig = None
        if runtime.options.demo:
            from hub.devices.sim.rig import DemoRig

            rig = DemoRig(config.data_dir / "demo-devices", [r.id for r in config.registers])
            await rig.start()
            stack.push_async_callback(rig.stop)
            specs = rig.specs(profiles) + specs
            runtime.services["device_simulators"] = rig
            from hub.devices.sim.extra import seed_tags

            await seed_tags(rig, runtime.store)
        manager = DeviceManager(specs, runtime.bus, runtime.store, receipts, runtime.services)
        await manager.start()
        stack.push_async_callback(manager.stop)
        runtime.services["devices"] = manager
        log.info("devices started", extra={"devices": len(specs), "demo": rig is not None})
        yield manager
