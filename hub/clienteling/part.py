"""The clienteling part of the daemon: its rules read from `[clienteling]` at start (a wrong
key stops the hub with the key named) and its service on the runtime."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from hub.clienteling.book import FollowUps
from hub.clienteling.rules import rules_of
from hub.runtime import Runtime


@contextlib.asynccontextmanager
async def part(runtime: Runtime) -> AsyncIterator[FollowUps]:
    followups = FollowUps(runtime.store, rules_of(runtime.config))
    runtime.followups = followups
    try:
        yield followups
    finally:
        runtime.followups = None
