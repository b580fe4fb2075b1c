"""The memo part of the daemon: `Memo` on the runtime, its part of every sale (what a memo
piece owes its vendor, what a consigned piece credits its consignor, a piece on approval
sold to her only), the consignors' agreed prices asked at the register, and the pieces on
approval past their day among the follow-ups when the clienteling layer runs."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator

from hub.memo.service import Memo
from hub.runtime import Runtime
from hub.store import Store


@contextlib.contextmanager
def memo_of(store: Store) -> Iterator[Memo]:
    """`Memo` plugged into a store's sales while inside (the part, the demo and the tests
    use the same)."""
    memo = Memo(store)
    store.sales.extensions.append(memo)
    store.sales.minimum_of = memo.minimum_in
    try:
        yield memo
    finally:
        store.sales.minimum_of = None
        store.sales.extensions.remove(memo)


@contextlib.asynccontextmanager
async def part(runtime: Runtime) -> AsyncIterator[Memo]:
    with memo_of(runtime.store) as memo:
        if runtime.followups is not None:  # clienteling starts first
            runtime.followups.sources.append(memo.followups)
        runtime.memo = memo
        try:
            yield memo
        finally:
            runtime.memo = None
            if runtime.followups is not None and memo.followups in runtime.followups.sources:
                runtime.followups.sources.remove(memo.followups)
