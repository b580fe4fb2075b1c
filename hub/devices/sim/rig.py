"""The demo shop's hardware: one simulator per device, wired to the real drivers."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from hub.devices.base import DeviceSpec
from hub.devices.config import parse_devices
from hub.devices.sim import extra
from hub.devices.sim.escpos import EscPosPrinterSim
from hub.devices.sim.pty import ScannerSim


class DemoRig:
    def __init__(self, directory: Path, registers: list[str]) -> None:
        self.dir = Path(directory)
        self.registers = registers
        self.scanners: dict[str, ScannerSim] = {}
        self.printers: dict[str, EscPosPrinterSim] = {}
        self.extra: dict[str, Any] = {}

    async def start(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        for reg in self.registers:
            scanner = ScannerSim(self.dir / f"scanner-{reg.lower()}", aim="]E0")
            scanner.plug()
            self.scanners[reg] = scanner
            printer = EscPosPrinterSim()
            await printer.start()
            self.printers[reg] = printer
        await self._start_extra()

    async def _start_extra(self) -> None:
        """Scale, display, RFID and tag printer simulators (added as drivers land)."""
        await extra.start(self)

    async def stop(self) -> None:
        await extra.stop(self)
        for scanner in self.scanners.values():
            scanner.close()
        for printer in self.printers.values():
            with contextlib.suppress(Exception):
                await printer.stop()

    def config(self) -> dict[str, Any]:
        section: dict[str, Any] = {}
        for reg in self.registers:
            r = reg.lower()
            section[f"scanner-{r}"] = {"model": "honeywell-1450g-serial", "register": reg,
                                       "path": str(self.scanners[reg].link),
                                       "aim_prefix": True}
            section[f"printer-{r}"] = {"model": "epson-tm-t88vi", "register": reg,
                                       "host": "127.0.0.1", "port": self.printers[reg].port}
        section.update(extra.config(self))
        return section

    def specs(self, profiles: dict[str, dict[str, Any]]) -> list[DeviceSpec]:
        return parse_devices(self.config(), profiles, set(self.registers))
