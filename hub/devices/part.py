"""`loupe run` part: validates `[devices]`, starts the device manager, and in demo mode the
simulators too, so `loupe demo` shows live devices without hardware."""

from __future__ import annotations

import contextlib
import importlib
import logging
from collections.abc import AsyncIterator

from hub.devices.config import read_devices
from hub.devices.manager import DeviceManager
from hub.devices.profiles import load_profiles
from hub.devices.zvt.driver import ZvtTerminal
from hub.devices.zvt.payments import TerminalPayments
from hub.receipts import receipt_settings
from hub.runtime import Runtime

log = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def part(runtime: Runtime) -> AsyncIterator[DeviceManager]:
    config = runtime.config
    profiles = load_profiles()
    receipts = receipt_settings(config)  # a problem names receipts.<key>
    registers = {r.id for r in config.registers}
    specs = read_devices(config.section("devices"), profiles, registers)
    async with contextlib.AsyncExitStack() as stack:
        rig = None
        if runtime.options.demo:
            # The simulators load for a demo only: a quarter of a second of imports that a
            # shop's box, starting with real devices, never needs.
            sim = importlib.import_module("hub.devices.sim.rig")
            rig = sim.DemoRig(config.data_dir / "demo-devices", [r.id for r in config.registers])
            await rig.start()
            stack.push_async_callback(rig.stop)
            specs = rig.specs(profiles) + specs
            runtime.simulators = rig
            await sim.extra.seed_tags(rig, runtime.store)
        manager = DeviceManager(specs, runtime.bus, runtime.store, receipts)
        await manager.start()
        stack.push_async_callback(manager.stop)
        terminals = {d.register: d for d in manager.devices.values()
                     if isinstance(d, ZvtTerminal) and d.register}
        manager.payments = TerminalPayments(runtime.store, runtime.bus, terminals)
        manager.payments.start()
        stack.push_async_callback(manager.payments.stop)
        runtime.devices = manager
        log.info("devices started", extra={"devices": len(specs), "demo": rig is not None})
        try:
            yield manager
        finally:
            runtime.devices = runtime.simulators = None
