"""Signed-in sessions, held in memory only (the PIN lockout is the staff book's:
`hub/core/pins.py`).

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
