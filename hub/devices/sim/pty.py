"""A serial device on a pseudo-terminal: the driver opens the slave, we own the master."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tty
from pathlib import Path


class PtyDevice:
    """Base for serial simulators. `link` is the stable path drivers are configured with;
    `unplug()` closes the master (the driver reads EIO), `plug()` makes a new pty."""

    def __init__(self, link: Path) -> None:
        self.link = Path(link)
        self._master = -1
        self._slave = -1
        self._loop: asyncio.AbstractEventLoop | None = None
        self.received = bytearray()
        self._pending = bytearray()  # written by the device, waiting for room in the pty

    @property
    def plugged(self) -> bool:
        return self._master >= 0

    def plug(self) -> None:
        if self.plugged:
            return
        master, slave = os.openpty()
        tty.setraw(master)
        os.set_blocking(master, False)
        name = os.ttyname(slave)
        # Keep our own slave fd: without it the master sees EIO whenever the driver has the
        # port closed (between retries) and its reader would spin. The driver opens by name.
        self._slave = slave
        tmp = self.link.with_suffix(".tmp")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        tmp.symlink_to(name)
        tmp.replace(self.link)
        self._master = master
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(master, self._readable)

    def unplug(self) -> None:
        if not self.plugged:
            return
        assert self._loop is not None
        self._loop.remove_reader(self._master)
        if self._pending:
            self._loop.remove_writer(self._master)
            self._pending.clear()
        os.close(self._master)
        os.close(self._slave)
        self._master = -1

    def _readable(self) -> None:
        try:
            data = os.read(self._master, 4096)
        except OSError:  # EIO while no one has the slave open
            return
        if data:
            self.received += data
            self.on_bytes(data)

    def on_bytes(self, data: bytes) -> None:
        """What the device does with bytes from the host."""

    def write(self, data: bytes) -> None:
        """Send bytes to the host without blocking: what the pty cannot take now is sent
        when it becomes writable (the driver reads on this same loop, so spinning here
        would never let it drain)."""
        if not self.plugged:
            return
        if self._pending:
            self._pending += data
            return
        try:
            sent = os.write(self._master, data)
        except BlockingIOError:
            sent = 0
        if sent < len(data):
            self._pending += data[sent:]
            assert self._loop is not None
            self._loop.add_writer(self._master, self._flush)

    def _flush(self) -> None:
        try:
            sent = os.write(self._master, self._pending)
        except BlockingIOError:
            return
        del self._pending[:sent]
        if not self._pending and self._loop is not None:
            self._loop.remove_writer(self._master)

    async def write_async(self, data: bytes) -> None:
        view = memoryview(data)
        while view and self.plugged:
            try:
                view = view[os.write(self._master, view):]
            except BlockingIOError:
                await asyncio.sleep(0.001)

    def close(self) -> None:
        self.unplug()
        with contextlib.suppress(FileNotFoundError):
            self.link.unlink()


class ScannerSim(PtyDevice):
    """A serial scanner: `scan(code)` types the code with the configured suffix/prefix."""

    def __init__(self, link: Path, *, suffix: bytes = b"\r\n", aim: str | None = None) -> None:
        super().__init__(link)
        self.suffix, self.aim = suffix, aim

    def scan(self, code: str, aim: str | None = None) -> bytes:
        prefix = (aim or self.aim or "").encode()
        data = prefix + code.encode("ascii") + self.suffix
        self.write(data)
        return data
