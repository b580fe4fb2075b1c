"""The life of one device: connecting, connected, retrying with backoff, failed.

A driver subclasses `Device` and fills in `connect`, `serve` (runs while connected: read the
wire, publish events; returns or raises when the link is gone), `close` and optionally
`check` (a health probe). The runner here owns the states, the backoff and the missed-check
count, so every driver behaves the same when a cable is pulled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from hub.backoff import Backoff
from hub.devices.errors import DeviceBusy, DeviceError, DeviceFailed, LinkLost
from hub.devices.worker import DeviceWorker
from hub.words import Term

log = logging.getLogger(__name__)

Publish = Callable[..., Any]


class State(StrEnum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RETRYING = "retrying"
    FAILED = "failed"


class Paper(StrEnum):
    """What a printer (receipts or tags) last said of its paper and cover: the `status` of
    `device.printer`, and whether a job may go out (not while out of paper or open)."""

    UNKNOWN = "unknown"
    READY = "ready"
    PAPER_LOW = "paper_low"
    PAPER_OUT = "paper_out"
    COVER_OPEN = "cover_open"
    OFFLINE = "offline"


# What the runner does when a device's config says nothing (seconds, and missed checks).
RUNNER_DEFAULTS: dict[str, float] = {"check_interval": 2.0, "check_timeout": 1.0,
                                     "gone_after": 3, "retry_initial": 0.5, "retry_cap": 30.0}


@dataclass
class DeviceSpec:
    """One device as configured: its id, what it is, its profile's settings merged with
    the store's overrides, and the register it serves (if any)."""

    id: str
    kind: str
    driver: str
    model: str
    register: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)

    def get(self, key: str, default: Any = None) -> Any:
        return self.settings.get(key, default)


def describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if isinstance(exc, LinkLost | DeviceFailed) else f"{type(exc).__name__}: {text}"


class Device:
    kind = "device"

    def __init__(self, spec: DeviceSpec, publish: Publish) -> None:
        self.spec = spec
        self.id = spec.id
        self.publish = publish
        self.state = State.CONNECTING
        self.error: str | None = None
        self.since = time.time()
        self.retries = 0
        self.missed_checks = 0
        runner = {**RUNNER_DEFAULTS, **{k: v for k, v in spec.settings.items()
                                        if k in RUNNER_DEFAULTS}}
        self.check_interval = float(runner["check_interval"])
        self.check_timeout = float(runner["check_timeout"])
        self.gone_after = int(runner["gone_after"])
        self.backoff = Backoff(float(runner["retry_initial"]), float(runner["retry_cap"]))
        self.worker = DeviceWorker(spec.id)
        self._live = False  # connected and running: commands may go to the device

    # -- what a driver provides ---------------------------------------------------------------

    async def connect(self) -> None:
        raise NotImplementedError

    async def serve(self) -> None:
        """Run while connected; return or raise LinkLost when the link goes."""
        await asyncio.Future()

    async def close(self) -> None:
        pass

    async def check(self) -> bool:
        """A health probe: True when the device answered. Passive devices have none."""
        return True

    def info(self) -> dict[str, Any]:
        """Extra driver facts for the devices panel (paper, last weight, reads...)."""
        return {}

    # -- the runner ---------------------------------------------------------------------------

    @property
    def register(self) -> str | None:
        return self.spec.register

    def status(self) -> dict[str, Any]:
        return {"device": self.id, "kind": self.kind, "model": self.spec.model,
                "driver": self.spec.driver, "register": self.register,
                "state": self.state.value, "error": self.error, "since": self.since,
                "retries": self.retries, "missed_checks": self.missed_checks, **self.info()}

    def _set_state(self, state: State, error: str | None = None) -> None:
        if state == self.state and error == self.error:
            return
        self.state, self.error, self.since = state, error, time.time()
        self._live = state == State.CONNECTED
        level = logging.INFO if state in (State.CONNECTING, State.CONNECTED) else logging.WARNING
        log.log(level, "device %s %s%s", self.id, state.value, f": {error}" if error else "",
                extra={"device": self.id, "state": state.value})
        self.publish("device.state", device=self.id, kind=self.kind, state=state.value,
                     error=error)

    def require_connected(self) -> None:
        if self.state != State.CONNECTED or not self._live:
            raise self._busy()

    def _busy(self) -> DeviceBusy:
        if self.error:
            return DeviceBusy("{device} is {state}: {error}", device=self.id,
                              state=Term("device_state", self.state.value), error=self.error)
        return DeviceBusy("{device} is {state}", device=self.id,
                          state=Term("device_state", self.state.value))

    async def run(self) -> None:
        """Connect, serve, and reconnect with backoff until cancelled or failed for good."""
        try:
            while True:
                self._set_state(State.CONNECTING, self.error)
                try:
                    await self.connect()
                    self.missed_checks = 0
                    self._set_state(State.CONNECTED)
                    self.backoff.reset()
                    await self._serve_with_health()
                    raise LinkLost("connection closed")
                except asyncio.CancelledError:
                    raise
                except DeviceFailed as exc:
                    await self._close_quietly()
                    self._set_state(State.FAILED, describe(exc))
                    return
                except Exception as exc:  # any fault of this device stays with this device
                    error = describe(exc)
                await self._close_quietly()
                self.retries += 1
                self._set_state(State.RETRYING, error)
                await asyncio.sleep(self.backoff.next())
        finally:
            self._live = False  # stopped: commands are refused from now on
            await self._close_quietly()
            self.worker.stop()

    async def _close_quietly(self) -> None:
        try:
            await self.close()
        except Exception:
            log.debug("closing %s failed", self.id, exc_info=True)

    async def _serve_with_health(self) -> None:
        tasks = [asyncio.create_task(self.serve(), name=f"{self.id}-serve"),
                 asyncio.create_task(self._health(), name=f"{self.id}-health")]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()  # raises the fault that ended the connection
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    async def _health(self) -> None:
        # Several missed checks before "gone": a printer busy cutting paper or a USB hub
        # resetting for a moment must not trigger a reconnect (and with it a reprint).
        while True:
            await asyncio.sleep(self.check_interval)
            try:
                # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancel.
                async with asyncio.timeout(self.check_timeout):
                    ok = await self.check()
            except (TimeoutError, DeviceError):
                ok = False
            if ok:
                self.missed_checks = 0
                continue
            self.missed_checks += 1
            if self.missed_checks >= self.gone_after:
                raise LinkLost(f"no answer to {self.missed_checks} health checks in a row")
