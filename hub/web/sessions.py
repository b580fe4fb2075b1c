"""Signed-in sessions and sign-in lockout, held in memory only.

Nothing here is written to disk: a hub restart signs everyone out, which is the safe
default for a shared shop-floor tablet. A session id is fresh at every sign-in (no fixation)
and expires after an idle timeout; each session carries its own CSRF token.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field

COOKIE = "loupe_session"


@dataclass
class Session:
    sid: str
    staff_id: str
    name: str
    role: str
    csrf: str
    register_id: str | None
    seen: float = field(default_factory=time.monotonic)


class Sessions:
    def __init__(self, idle_s: float = 900.0, clock=time.monotonic) -> None:
        self.idle_s = idle_s
        self._clock = clock
        self._by_id: dict[str, Session] = {}

    def start(self, staff_id: str, name: str, role: str, register_id: str | None) -> Session:
        session = Session(secrets.token_urlsafe(32), staff_id, name, role,
                          secrets.token_urlsafe(32), register_id, self._clock())
        self._by_id[session.sid] = session
        self._sweep()
        return session

    def get(self, sid: str | None) -> Session | None:
        if not sid or len(sid) > 100:
            return None
        session = self._by_id.get(sid)
        if session is None:
            return None
        now = self._clock()
        if now - session.seen > self.idle_s:
            del self._by_id[sid]
            return None
        session.seen = now
        return session

    def alive(self, sid: str) -> bool:
        """Still signed in (without counting as activity: a live screen is not a person)."""
        session = self._by_id.get(sid)
        return session is not None and self._clock() - session.seen <= self.idle_s

    def end(self, sid: str) -> None:
        self._by_id.pop(sid, None)

    def end_for(self, staff_id: str) -> None:
        for sid in [s.sid for s in self._by_id.values() if s.staff_id == staff_id]:
            del self._by_id[sid]

    def _sweep(self) -> None:
        now = self._clock()
        for sid in [s.sid for s in self._by_id.values() if now - s.seen > self.idle_s]:
            del self._by_id[sid]

    def __len__(self) -> int:
        return len(self._by_id)


class Lockout:
    """Growing delays after repeated failed sign-ins for one staff id.

    The first `free` failures cost nothing; then each failure locks the id for twice as long
    as the last (1 s, 2 s, 4 s ... up to 15 minutes). A success clears the streak.
    """

    def __init__(self, free: int = 3, cap_s: float = 900.0, clock=time.monotonic) -> None:
        self.free = free
        self.cap_s = cap_s
        self._clock = clock
        self._failures: dict[str, int] = {}
        self._until: dict[str, float] = {}

    def wait_s(self, staff_id: str) -> float:
        """Seconds before `staff_id` may try again (0: now)."""
        return max(0.0, self._until.get(staff_id, 0.0) - self._clock())

    def failed(self, staff_id: str) -> tuple[int, float]:
        """Record a failure; return the streak length and the lock it earned (seconds)."""
        n = self._failures.get(staff_id, 0) + 1
        self._failures[staff_id] = n
        if len(self._failures) > 10_000:  # a flood of made-up ids must not eat the memory
            self._failures.pop(next(iter(self._failures)))
        if n <= self.free:
            return n, 0.0
        locked = min(self.cap_s, 2.0 ** (n - self.free - 1))
        self._until[staff_id] = self._clock() + locked
        return n, locked

    def succeeded(self, staff_id: str) -> None:
        self._failures.pop(staff_id, None)
        self._until.pop(staff_id, None)
