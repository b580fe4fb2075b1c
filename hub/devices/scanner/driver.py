"""Scanner drivers: a serial scanner (one code per line) and an evdev keyboard wedge."""

from __future__ import annotations

import asyncio
from typing import Any

try:  # optional: Linux only, `pip install evdev` (the `hid` extra)
    import evdev
except ImportError:
    evdev = None

from hub.devices.base import Device
from hub.devices.errors import DeviceFailed, LinkLost
from hub.devices.framing import LineFramer, Overflow
from hub.devices.scanner.keymap import KeyDecoder
from hub.devices.scanner.protocol import MAX_CODE, ScanError, parse_scan
from hub.devices.stream import StreamDevice


class SerialScanner(StreamDevice):
    kind = "scanner"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.aim = bool(self.spec.get("aim_prefix", False))
        self.framer = LineFramer(max_len=int(self.spec.get("max_line", MAX_CODE + 3)))
        self.scans = 0

    async def on_connected(self) -> None:
        self.framer = LineFramer(self.framer.max_len)  # a half line from before is stale

    def on_bytes(self, data: bytes) -> None:
        for line in self.framer.feed(data):
            if isinstance(line, Overflow):
                self.problem(f"dropped a line of {line.length} bytes (longer than"
                             f" {self.framer.max_len}): check the scanner's suffix setting")
                continue
            try:
                scan = parse_scan(line, aim=self.aim)
            except ScanError as exc:
                self.problem(f"unreadable scan: {exc}")
                continue
            self.scans += 1
            self.publish("device.scan", device=self.id, register=self.register,
                         code=scan.code, symbology=scan.symbology)

    def info(self) -> dict[str, Any]:
        return {**super().info(), "scans": self.scans}


class HidScanner(Device):
    """A keyboard-wedge scanner read through evdev, grabbed so keys never reach a console."""

    kind = "scanner"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        try:
            self.decoder = KeyDecoder(str(self.spec.get("layout", "us")))
        except ValueError as exc:
            raise DeviceFailed(str(exc)) from None
        self._device: Any = None
        self.scans = 0

    async def connect(self) -> None:
        if evdev is None:
            raise DeviceFailed("HID scanners need the evdev package (pip install evdev)")
        path = self.spec.get("path")
        if not path:
            raise DeviceFailed("no `path` (/dev/input/by-id/...-event-kbd) configured")
        try:
            self._device = await self.worker.run(lambda: evdev.InputDevice(path))
            await self.worker.run(self._device.grab)
        except OSError as exc:
            raise LinkLost(f"cannot open {path}: {exc}") from None

    async def serve(self) -> None:
        try:
            async for event in self._device.async_read_loop():
                if event.type != 1:  # EV_KEY
                    continue
                line = self.decoder.feed(event.code, event.value)
                if line is not None:
                    self._scan(line)
        except OSError as exc:
            raise LinkLost(f"input device gone: {exc}") from None

    def _scan(self, line: str) -> None:
        try:
            scan = parse_scan(line.encode("ascii", "replace"),
                              aim=bool(self.spec.get("aim_prefix", False)))
        except ScanError:
            return
        self.scans += 1
        self.publish("device.scan", device=self.id, register=self.register, code=scan.code,
                     symbology=scan.symbology)

    async def close(self) -> None:
        device, self._device = self._device, None
        if device is not None:
            await asyncio.to_thread(device.close)
