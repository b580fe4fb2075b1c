"""How long to wait before trying again: exponential, capped, with jitter, and reset after a
good connection. One for every reconnecting thing (devices, sync, the HQ receiver)."""

from __future__ import annotations

import random


class Backoff:
    """`next()` gives the next delay (initial, doubling to `cap`, ±20 % jitter so a shop's
    devices do not all retry in step after a power cut); `reset()` after a success."""

    def __init__(self, initial: float = 0.5, cap: float = 30.0, jitter: float = 0.2) -> None:
        if not 0 < initial <= cap:
            raise ValueError("backoff: 0 < initial <= cap")
        self.initial, self.cap, self.jitter = initial, cap, jitter
        self.attempt = 0

    def next(self) -> float:
        delay = min(self.cap, self.initial * 2**self.attempt)
        self.attempt += 1
        return delay * random.uniform(1 - self.jitter, 1 + self.jitter)

    def reset(self) -> None:
        self.attempt = 0
