"""Byte links to devices: a serial port (or pty) and a TCP socket, both non-blocking.

A serial port is opened with pyserial on the device's worker thread (opening can stall on
some USB adapters), then read through the event loop's reader callbacks, so no thread sits
in a blocking read. A vanished port (EIO, EOF) becomes LinkLost.
"""

from __future__ import annotations

import asyncio
import errno
import os
from typing import Any

import serial

from hub.devices.errors import DeviceFailed, LinkLost
from hub.devices.worker import DeviceWorker

_PARITY = {"N": "N", "E": "E", "O": "O", "none": "N", "even": "E", "odd": "O"}


class SerialLink:
    def __init__(self, path: str, worker: DeviceWorker, *, baudrate: int = 9600,
                 bytesize: int = 8, parity: str = "N", stopbits: int = 1) -> None:
        if parity not in _PARITY:
            raise DeviceFailed(f"serial parity {parity!r}: use N, E or O")
        self.path = path
        self.worker = worker
        self.settings = {"baudrate": baudrate, "bytesize": bytesize,
                         "parity": _PARITY[parity], "stopbits": stopbits}
        self._port: Any = None
        self._fd = -1
        self._chunks: asyncio.Queue[bytes | BaseException] = asyncio.Queue()
        self._loop: asyncio.AbstractEventLoop | None = None

    async def open(self) -> None:
        def opener() -> Any:
            return serial.Serial(self.path, timeout=0, exclusive=True, **self.settings)

        try:
            self._port = await self.worker.run(opener)
        except (OSError, serial.SerialException) as exc:
            raise LinkLost(f"cannot open {self.path}: {exc}") from None
        except ValueError as exc:  # pyserial's word for a bad baud rate or byte size
            raise DeviceFailed(f"serial settings for {self.path}: {exc}") from None
        self._fd = self._port.fileno()
        self._chunks = asyncio.Queue()
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(self._fd, self._readable)

    def _readable(self) -> None:
        try:
            data = os.read(self._fd, 4096)
        except BlockingIOError:
            return
        except OSError as exc:  # EIO: the USB adapter was pulled, or the pty closed
            self._lost(LinkLost(f"{self.path}: {os.strerror(exc.errno or errno.EIO)}"))
            return
        if not data:
            self._lost(LinkLost(f"{self.path}: closed"))
            return
        self._chunks.put_nowait(data)

    def _lost(self, exc: LinkLost) -> None:
        if self._loop is not None and self._fd >= 0:
            self._loop.remove_reader(self._fd)
        self._chunks.put_nowait(exc)

    async def read(self) -> bytes:
        item = await self._chunks.get()
        if isinstance(item, BaseException):
            self._chunks.put_nowait(item)  # every later read fails the same way
            raise item
        return item

    async def write(self, data: bytes) -> None:
        if self._fd < 0:
            raise LinkLost(f"{self.path}: not open")
        view = memoryview(data)
        while view:
            try:
                n = os.write(self._fd, view)
            except BlockingIOError:
                await asyncio.sleep(0.005)  # output buffer full: let the device drain it
                continue
            except OSError as exc:
                raise LinkLost(f"{self.path}: {exc.strerror}") from None
            view = view[n:]

    async def close(self) -> None:
        if self._loop is not None and self._fd >= 0:
            self._loop.remove_reader(self._fd)
        self._fd = -1
        port, self._port = self._port, None
        if port is not None:
            try:
                await self.worker.run(port.close)
            except Exception:
                pass


class TcpLink:
    def __init__(self, host: str, port: int, *, connect_timeout: float = 3.0) -> None:
        self.host, self.port, self.connect_timeout = host, port, connect_timeout
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    async def open(self) -> None:
        try:
            async with asyncio.timeout(self.connect_timeout):
                self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        except (OSError, TimeoutError) as exc:
            raise LinkLost(f"cannot reach {self.where}: {exc or 'timed out'}") from None

    async def read(self) -> bytes:
        if self._reader is None:
            raise LinkLost(f"{self.where}: not open")
        try:
            data = await self._reader.read(4096)
        except OSError as exc:
            raise LinkLost(f"{self.where}: {exc}") from None
        if not data:
            raise LinkLost(f"{self.where}: closed by the device")
        return data

    async def write(self, data: bytes) -> None:
        if self._writer is None:
            raise LinkLost(f"{self.where}: not open")
        try:
            self._writer.write(data)
            await self._writer.drain()
        except OSError as exc:
            raise LinkLost(f"{self.where}: {exc}") from None

    async def close(self) -> None:
        writer, self._writer, self._reader = self._writer, None, None
        if writer is not None:
            writer.close()
            try:
                await writer.wait_closed()
            except OSError:
                pass


def serial_link(spec_settings: dict[str, Any], path: str, worker: DeviceWorker) -> SerialLink:
    """A SerialLink from a profile's `[serial]` table."""
    s = spec_settings.get("serial", {})
    return SerialLink(path, worker, baudrate=int(s.get("baudrate", 9600)),
                      bytesize=int(s.get("bytesize", 8)), parity=str(s.get("parity", "N")),
                      stopbits=int(s.get("stopbits", 1)))
