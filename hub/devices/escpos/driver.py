"""The receipt printer and its cash drawer, through python-escpos on the device's thread.

Print jobs carry ids (a sale id for its receipt). A job whose bytes were all handed to the
printer is `printed` and is never sent again under the same id, so a printer that drops off
the bus and comes back does not print the receipt twice; a job cut off mid-send stays
queued and goes out whole after the reconnect, so none is lost. A reprint is a new id.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from escpos import printer as escpos_printer

from hub.devices.base import Device, Paper
from hub.devices.errors import DeviceBusy, DeviceFailed, LinkLost
from hub.devices.escpos.protocol import DLE_EOT, drawer_kick, is_status_byte, paper_state
from hub.devices.escpos.render import receipt_bytes
from hub.documents import Document, render_text

log = logging.getLogger(__name__)
MAX_JOBS = 500
# A job may go out while the paper is fine or low, or before the first status answer.
_PRINTABLE = frozenset({Paper.READY, Paper.PAPER_LOW, Paper.UNKNOWN})


class JobStatus(StrEnum):
    QUEUED = "queued"      # waiting for the printer (unplugged, out of paper) or its turn
    PRINTING = "printing"  # being handed over; cut off, it goes back to queued
    PRINTED = "printed"    # every byte handed over: never sent again under this id


class Drawer(StrEnum):
    """The cash drawer as its sensor reports it (a drawer without sensor: open once kicked)."""

    UNKNOWN = "unknown"      # no status read yet
    CLOSED = "closed"
    OPEN = "open"
    LEFT_OPEN = "left_open"  # open for `alert_after_s`: the alert went out, once


@dataclass
class Job:
    id: str
    data: bytes
    text: str
    status: JobStatus = JobStatus.QUEUED
    attempts: int = 0
    created: float = field(default_factory=time.time)
    printed_at: float | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)  # set once printed

    def summary(self) -> dict[str, Any]:
        return {"job_id": self.id, "status": self.status, "attempts": self.attempts,
                "created": self.created, "printed_at": self.printed_at}


def _escpos_printer(settings: dict[str, Any], timeout: float) -> Any:
    profile = settings.get("escpos_profile", "default")
    if settings.get("host"):
        return escpos_printer.Network(settings["host"], int(settings.get("port", 9100)),
                               timeout=timeout, profile=profile)
    if settings.get("path"):
        s = settings.get("serial", {})
        return escpos_printer.Serial(settings["path"], baudrate=int(s.get("baudrate", 38400)),
                              timeout=timeout, profile=profile)
    usb = settings.get("usb")
    if usb:
        vid, pid = (int(x, 16) for x in str(usb).split(":"))
        return escpos_printer.Usb(vid, pid, timeout=int(timeout * 1000), profile=profile)
    raise DeviceFailed("no `host`, `path` or `usb` configured for the printer")


class ReceiptPrinter(Device):
    kind = "printer"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._printer: Any = None
        self.jobs: collections.OrderedDict[str, Job] = collections.OrderedDict()
        self._pending: collections.deque[Job] = collections.deque()
        self._wake = asyncio.Event()
        self.paper = Paper.UNKNOWN
        self.drawer = Drawer.UNKNOWN
        self.drawer_opened_at: float | None = None
        drawer = self.spec.get("drawer", {})
        self.drawer_pin = int(drawer.get("pin", 2))
        self.drawer_on_ms = int(drawer.get("on_ms", 100))
        self.drawer_off_ms = int(drawer.get("off_ms", 100))
        self.drawer_retries = int(drawer.get("retries", 1))
        self.drawer_sensor = bool(drawer.get("sensor", True))
        self.drawer_open_level = str(drawer.get("open_level", "high"))
        self.drawer_alert_after = float(drawer.get("alert_after_s", 60))

    # -- the link (on the worker thread) ----------------------------------------------------

    async def connect(self) -> None:
        self._printer = _escpos_printer(self.spec.settings, self.check_timeout)
        try:
            await self.worker.run(self._printer.open)
        except Exception as exc:
            self._printer = None
            raise LinkLost(f"cannot open printer: {exc}") from None
        await self.check()
        self._wake.set()  # jobs queued while we were away go out now

    async def close(self) -> None:
        printer, self._printer = self._printer, None
        if printer is not None:
            await self.worker.run(printer.close)

    def _send(self, data: bytes) -> None:
        if self._printer is None:
            raise LinkLost("printer is not open")
        try:
            self._printer._raw(data)
        except OSError as exc:
            raise LinkLost(f"printer link: {exc}") from None

    def _query(self, n: int) -> int:
        assert self._printer is not None
        try:
            answer = self._printer.query_status(DLE_EOT + bytes([n]))
        except TimeoutError:
            raise LinkLost(f"no answer to DLE EOT {n}") from None
        except OSError as exc:
            raise LinkLost(f"printer link: {exc}") from None
        if not answer:
            raise LinkLost("printer closed the connection")
        status = [b for b in answer if is_status_byte(b)]
        if not status:
            raise LinkLost(f"not a status byte: {answer!r}")
        return status[-1]

    async def status_bytes(self) -> tuple[int, int, int]:
        def ask() -> tuple[int, int, int]:
            return self._query(1), self._query(2), self._query(4)

        return await self.worker.run(ask)

    # -- health: paper, cover and the drawer sensor ------------------------------------------

    async def check(self) -> bool:
        if self._printer is None:
            return False
        printer_byte, cause, paper = await self.status_bytes()
        state = paper_state(printer_byte, cause, paper)
        if state != self.paper:
            self.paper = state
            self.publish("device.printer", device=self.id, status=state)
            if state == Paper.READY:
                self._wake.set()  # paper back in: send what waited
        if self.drawer_sensor:
            self._drawer_seen(self._sensor_open(printer_byte))
        return True

    def _sensor_open(self, printer_byte: int) -> bool:
        high = bool(printer_byte & 0x04)
        return high if self.drawer_open_level == "high" else not high

    @property
    def drawer_open(self) -> bool | None:
        """None until the sensor (or a kick, without one) said anything."""
        if self.drawer == Drawer.UNKNOWN:
            return None
        return self.drawer in (Drawer.OPEN, Drawer.LEFT_OPEN)

    def _drawer_seen(self, is_open: bool) -> None:
        if is_open != self.drawer_open:
            self.drawer = Drawer.OPEN if is_open else Drawer.CLOSED
            self.drawer_opened_at = time.time() if is_open else None
            self.publish("device.drawer", device=self.id, register=self.register, open=is_open)
        elif self.drawer == Drawer.OPEN and self.drawer_opened_at is not None \
                and time.time() - self.drawer_opened_at >= self.drawer_alert_after:
            self.drawer = Drawer.LEFT_OPEN
            log.warning("drawer of %s left open", self.register, extra={"device": self.id})
            self.publish("device.alert", device=self.id, register=self.register,
                         alert="drawer_left_open",
                         message=f"the drawer of {self.register} has been open for"
                                 f" {int(self.drawer_alert_after)} s")

    # -- jobs ---------------------------------------------------------------------------------

    def submit(self, job_id: str, data: bytes, text: str = "") -> Job:
        """Queue a job; the same id again returns the first job instead of printing twice."""
        job = self.jobs.get(job_id)
        if job is not None:
            return job
        job = Job(job_id, data, text)
        self.jobs[job_id] = job
        while len(self.jobs) > MAX_JOBS:
            self.jobs.popitem(last=False)
        self._pending.append(job)
        self._wake.set()
        return job

    def print_receipt(self, job_id: str, receipt: Document, width: int) -> Job:
        """Queue a receipt or any document: its ESC/POS bytes for this model, and its text for the panel."""
        data = receipt_bytes(receipt, width=width,
                             profile=str(self.spec.get("escpos_profile", "default")))
        return self.submit(job_id, data, render_text(receipt, width))

    async def serve(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending and self.paper in _PRINTABLE:
                job = self._pending[0]
                job.status, job.attempts = JobStatus.PRINTING, job.attempts + 1
                try:
                    await self.worker.run(lambda job=job: self._send(job.data))
                except LinkLost:
                    job.status = JobStatus.QUEUED  # cut off mid-send: it goes out whole later
                    raise
                self._pending.popleft()
                job.status, job.printed_at = JobStatus.PRINTED, time.time()
                job.done.set()
                self.publish("device.printer", device=self.id, status=JobStatus.PRINTED)

    async def open_drawer(self) -> bool:
        """Kick the drawer; with a sensor, confirm it opened and pulse again if it did not."""
        self.require_connected()
        kick = drawer_kick(self.drawer_pin, self.drawer_on_ms, self.drawer_off_ms)
        for _attempt in range(1 + self.drawer_retries):
            await self.worker.run(lambda: self._send(kick))
            if not self.drawer_sensor:
                self._drawer_seen(True)
                return True
            for _ in range(5):
                await asyncio.sleep(0.05)
                printer_byte = await self.worker.run(lambda: self._query(1))
                if self._sensor_open(printer_byte):
                    self._drawer_seen(True)
                    return True
        raise DeviceBusy("the drawer of {register} did not open after {n} pulses",
                         register=self.register, n=1 + self.drawer_retries)

    def info(self) -> dict[str, Any]:
        return {"paper": self.paper, "drawer_open": self.drawer_open,
                "queued": len(self._pending),
                "jobs": [j.summary() for j in list(self.jobs.values())[-5:]]}
