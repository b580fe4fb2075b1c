"""Growing delays after wrong PINs, wherever a PIN is typed: sign-in and manager approvals
share one lockout per staff id (the staff book's), so a manager locked out at sign-in cannot
be guessed through the approval dialog instead."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hub.core.errors import Refused

if TYPE_CHECKING:
    from hub.core.staff import Member, Staff


class LockedOut(Refused):
    """Too many wrong PINs for one staff id: no PIN of theirs is checked for a while."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__("locked_out", "too many wrong PINs: try again in {seconds} s",
                         seconds=retry_after_s)
        self.retry_after_s = retry_after_s


@dataclass
class _Streak:
    failures: int = 0  # wrong PINs in a row
    until: float = 0.0  # no PIN checked before this (monotonic clock)
    refused: int = 0  # guesses refused unchecked since the streak's last journal entry
    checking: int = 0  # PIN checks of this id running now


class Lockout:
    """Growing delays after repeated wrong PINs for one staff id, wherever they are typed
    (sign-in and manager approvals share one `Lockout`, so a manager locked out at sign-in
    cannot be guessed through the approval dialog instead).

    The first `free` failures cost nothing; then each failure locks the id for twice as long
    as the last (1 s, 2 s, 4 s ... up to 15 minutes). A guess while locked is refused without
    checking the PIN and only counted, never journaled one by one: each lock is one
    `staff.lockout` entry carrying the guesses refused since the streak's previous entry, and
    a success clears the streak (with a last entry if guesses were refused since).
    """

    def __init__(self, free: int = 3, cap_s: float = 900.0, clock=time.monotonic,
                 max_ids: int = 10_000) -> None:
        self.free = free
        self.cap_s = cap_s
        self.clock = clock
        self.max_ids = max_ids
        self._streaks: dict[str, _Streak] = {}
        self.refused_total = 0  # guesses refused unchecked, for /metrics
        self.locks_total = 0

    def wait_s(self, staff_id: str) -> float:
        """Seconds before `staff_id` may try again (0: now)."""
        streak = self._streaks.get(staff_id)
        return max(0.0, streak.until - self.clock()) if streak else 0.0

    def admit(self, staff_id: str) -> None:
        """Let one PIN check for `staff_id` begin, or raise `LockedOut` (counted, unchecked).

        Checks already running count against the free tries: a burst of parallel guesses
        gets no more PINs checked than the same guesses one after another.
        """
        streak = self._streaks.get(staff_id)
        if streak is None:
            streak = self._streaks[staff_id] = _Streak()
            self._forget_some()
        wait = streak.until - self.clock()
        if wait > 0 or streak.checking >= max(1, self.free - streak.failures):
            streak.refused += 1
            self.refused_total += 1
            raise LockedOut(max(1, math.ceil(wait)))
        streak.checking += 1

    def release(self, staff_id: str) -> None:
        """The PIN check `admit` let begin has finished (call before `failed`/`succeeded`)."""
        streak = self._streaks.get(staff_id)
        if streak is not None and streak.checking:
            streak.checking -= 1

    def failed(self, staff_id: str) -> tuple[int, float]:
        """Record a failure; return the streak length and the lock it earned (seconds)."""
        streak = self._streaks.get(staff_id)
        if streak is None:
            streak = self._streaks[staff_id] = _Streak()
            self._forget_some()
        streak.failures += 1
        if streak.failures <= self.free:
            return streak.failures, 0.0
        locked = min(self.cap_s, 2.0 ** (streak.failures - self.free - 1))
        streak.until = self.clock() + locked
        self.locks_total += 1
        return streak.failures, locked

    def take_refused(self, staff_id: str) -> int:
        """Guesses refused since the last call, for the streak's next journal entry."""
        streak = self._streaks.get(staff_id)
        if streak is None:
            return 0
        refused, streak.refused = streak.refused, 0
        return refused

    def succeeded(self, staff_id: str) -> tuple[int, int]:
        """Clear the streak; return its failures and the guesses refused since its last
        journal entry (the streak's closing entry, if any were)."""
        streak = self._streaks.get(staff_id)
        if streak is None:
            return 0, 0
        failures, refused = streak.failures, streak.refused
        streak.failures, streak.until, streak.refused = 0, 0.0, 0
        if not streak.checking:
            del self._streaks[staff_id]
        return failures, refused

    async def check_pin(self, staff: Staff, staff_id: str, pin: str, *,
                        via: str) -> Member | None:
        """`staff.check_pin` behind the lockout: the member, None for a wrong PIN, or
        `LockedOut`. A failure that earns a lock is journaled (`staff.lockout`)."""
        self.admit(staff_id)
        try:
            member = await staff.check_pin(staff_id, pin)
        finally:
            self.release(staff_id)
        if member is not None:
            failures, refused = self.succeeded(staff_id)
            if refused:  # the guesses refused during the streak's last lock go in the books
                await staff.record_lockout(staff_id, failures, 0.0, refused=refused, via=via)
            return member
        failures, locked = self.failed(staff_id)
        if locked:
            await staff.record_lockout(staff_id, failures, locked,
                                       refused=self.take_refused(staff_id), via=via)
        return None

    def _forget_some(self) -> None:
        # A flood of made-up ids must not eat the memory: forget the oldest unlocked first.
        if len(self._streaks) <= self.max_ids:
            return
        now = self.clock()
        victim = next((k for k, s in self._streaks.items()
                       if s.until <= now and not s.checking), next(iter(self._streaks)))
        del self._streaks[victim]
