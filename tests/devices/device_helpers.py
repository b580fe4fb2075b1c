"""Helpers for the device tests (a module of its own: `conftest` names collide)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

PIECE = {
    "item_id": "RG-0042", "sku": "SOL-PT-1", "description": "Solitaire ring",
    "category": "ring", "metal": "platinum", "fineness": 950, "metal_weight_mg": 5230,
    "tag_price": 1250000, "cost": 600000,
    "stones": [{"type": "diamond", "carat_cents": 102, "shape": "round", "colour": "E",
                "clarity": "VVS1", "lab": "GIA", "certificate": "2141438167"},
               {"type": "diamond", "carat_cents": 12, "shape": "baguette"}],
}
FAST = {"check_interval": 0.05, "check_timeout": 0.3, "retry_initial": 0.02, "retry_cap": 0.1}


async def wait_until(predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Poll until `predicate()` is truthy; a bounded wait, not a timing assertion."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.01)


def in_pieces(payload: bytes, cuts: list[int]) -> list[bytes]:
    """`payload` cut at the given offsets: how bytes arrive from a real port or socket."""
    pieces, last = [], 0
    for cut in sorted(cuts) + [len(payload)]:
        pieces.append(payload[last:cut])
        last = max(last, cut)
    return pieces


@contextlib.asynccontextmanager
async def demo_hub(tmp_path):
    """The whole hub as `loupe demo` runs it (simulators, drivers, books, web app) over a
    store holding PIECE and the demo staff; yields the runtime once every device is up."""
    from hub.config import load_config
    from hub.daemon import running
    from hub.demo import seed_demo_staff
    from hub.runtime import Options
    from hub.store import Store, init_store

    config = init_store(tmp_path / "store", "paris-01", "Maison Test", "EUR")
    async with await Store.open(config) as store:
        await store.items.receive(PIECE, actor="admin")
        await seed_demo_staff(store)
    options = Options(host="127.0.0.1", port=0, insecure_http=True, zeroconf=False, demo=True)
    async with running(load_config(config.data_dir), options) as runtime:
        manager = runtime.devices
        await wait_until(lambda: all(d["state"] == "connected" for d in manager.states()),
                         timeout=10)
        yield runtime
