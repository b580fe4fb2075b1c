"""Drivers that talk over one byte link: a serial port (by path) or a TCP socket.

`path` in the device's settings means serial (pin it with /dev/serial/by-id), `host` and
`port` mean TCP. The driver gets bytes through `on_bytes`, and can ask a question and wait
for the answer line with `ask`, which is how polled devices (scales, status) double as
their own health check.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from hub.devices.base import Device
from hub.devices.errors import DeviceError, DeviceFailed, LinkLost
from hub.devices.links import SerialLink, TcpLink, serial_link

log = logging.getLogger(__name__)


class StreamDevice(Device):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.link: SerialLink | TcpLink | None = None
        self.last_problem: str | None = None
        self.problems = 0
        self._answers: asyncio.Queue[bytes] = asyncio.Queue()
        self._asking = asyncio.Lock()

    def make_link(self) -> SerialLink | TcpLink:
        if self.spec.get("path"):
            return serial_link(self.spec.settings, str(self.spec.get("path")), self.worker)
        if self.spec.get("host"):
            return TcpLink(str(self.spec.get("host")), int(self.spec.get("port", 9100)))
        raise DeviceFailed("no `path` (serial) or `host` (network) configured")

    async def connect(self) -> None:
        self.link = self.make_link()
        await self.link.open()
        self._answers = asyncio.Queue()
        await self.on_connected()

    async def on_connected(self) -> None:
        """Send the profile's init commands, etc."""

    async def serve(self) -> None:
        assert self.link is not None
        while True:
            self.on_bytes(await self.link.read())

    async def close(self) -> None:
        link, self.link = self.link, None
        if link is not None:
            await link.close()

    def on_bytes(self, data: bytes) -> None:
        raise NotImplementedError

    async def send(self, data: bytes) -> None:
        if self.link is None:
            raise LinkLost(f"{self.id} is not connected")
        await self.link.write(data)

    def answer(self, frame: bytes) -> None:
        """A reply frame arrived: hand it to whoever is asking."""
        self._answers.put_nowait(frame)

    async def ask(self, command: bytes, timeout: float | None = None) -> bytes:
        """Send a command and wait for the next reply frame (one question at a time)."""
        async with self._asking:
            while not self._answers.empty():  # a late answer to an earlier question
                self._answers.get_nowait()
            await self.send(command)
            try:
                async with asyncio.timeout(timeout or self.check_timeout):
                    return await self._answers.get()
            except TimeoutError:
                raise DeviceError(f"no answer to {command!r}") from None

    def problem(self, text: str) -> None:
        """Bad input from the device: counted, shown in the panel, logged; never fatal."""
        self.problems += 1
        self.last_problem = text
        log.warning("device %s: %s", self.id, text, extra={"device": self.id})

    def info(self) -> dict[str, Any]:
        return {"problems": self.problems, "last_problem": self.last_problem}
