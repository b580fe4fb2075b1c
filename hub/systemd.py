"""What the hub tells systemd (`Type=notify`, systemd/loupe.service), through sdnotify:

- `READY=1` once every part runs (the web serves), so units ordered after the hub and
  `systemctl start` wait for a hub that answers, not for a process that exists;
- `WATCHDOG=1` every half of `WatchdogSec`, sent by a task of the event loop itself: a loop
  blocked (a slow call on it, a deadlock) sends nothing, and systemd restarts the hub;
- `STATUS=` a line `systemctl status` shows: devices connected, the sync backlog;
- `STOPPING=1` when asked to stop.

Outside systemd (no `NOTIFY_SOCKET`) nothing is sent and nothing runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Callable

import sdnotify

from hub.runtime import Runtime

STATUS_EVERY_S = 15.0


class Systemd:
    """systemd's side, from the environment it starts the hub in (sdnotify reads the
    socket's address from it too)."""

    def __init__(self) -> None:
        env = os.environ
        self.enabled = bool(env.get("NOTIFY_SOCKET"))
        self._notifier = sdnotify.SystemdNotifier() if self.enabled else None
        usec = env.get("WATCHDOG_USEC", "")
        pid = env.get("WATCHDOG_PID", "")
        # The watchdog is ours unless systemd named another process.
        self.watchdog_s = int(usec) / 2_000_000 if usec.isdigit() and int(usec) > 0 and (
            not pid or pid == str(os.getpid())) else None

    def notify(self, state: str) -> None:
        if self._notifier is not None:
            self._notifier.notify(state)  # a datagram to a local socket: does not block


def status_line(runtime: Runtime) -> str:
    """One line for `systemctl status`: what a person checks first."""
    parts = [f"seq {runtime.store.ledger.seq}"]
    if runtime.devices is not None:
        states = [d["state"] for d in runtime.devices.states()]
        parts.append(f"devices {states.count('connected')}/{len(states)} connected")
    if runtime.sync is not None:
        sync = runtime.sync.status()
        parts.append(f"sync {sync['state']}, backlog {sync['backlog']}")
    return "; ".join(parts)


async def _beat(systemd: Systemd, runtime: Runtime, every: float) -> None:
    last_status = ""
    since_status = STATUS_EVERY_S
    while True:
        if systemd.watchdog_s is not None:
            systemd.notify("WATCHDOG=1")
        since_status += every
        if since_status >= STATUS_EVERY_S:
            since_status = 0.0
            line = status_line(runtime)
            if line != last_status:
                systemd.notify(f"STATUS={line}")
                last_status = line
        await asyncio.sleep(every)


@contextlib.asynccontextmanager
async def told(runtime: Runtime, systemd: Systemd | None = None,
               sleep_cap: float = STATUS_EVERY_S) -> AsyncIterator[Callable[[], None]]:
    """Around a running hub: READY and the heartbeat now, STOPPING when it leaves. Yields
    a function that says STOPPING early (on the signal, before the parts stop)."""
    systemd = systemd or Systemd()
    if not systemd.enabled:
        yield lambda: None
        return
    systemd.notify("READY=1")
    every = min(sleep_cap, systemd.watchdog_s or sleep_cap)
    beat = asyncio.get_running_loop().create_task(_beat(systemd, runtime, every))
    stopping = False

    def stop() -> None:
        nonlocal stopping
        if not stopping:
            stopping = True
            systemd.notify("STOPPING=1")

    try:
        yield stop
    finally:
        stop()
        beat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beat
