"""Fixtures for counts: a real store with pieces in showcases, and a started Counts engine."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from hub.bus import Event, EventBus
from hub.counts.service import Counts
from hub.counts.settings import CountSettings
from hub.store import Store
from tests.builders import piece

# Where the test store's pieces are: 3 in each showcase, 2 in the safe.
LAYOUT = {"showcase-1": ["P-1", "P-2", "P-3"], "showcase-2": ["P-4", "P-5", "P-6"],
          "safe": ["P-7", "P-8"]}
FOREIGN = "3034257BF7194E4000003039"  # a brand's SGTIN-96 tag: on no piece of ours


async def stock(store: Store, layout: dict[str, list[str]] = LAYOUT) -> dict[str, str]:
    """Receive the layout's pieces; returns item_id -> EPC."""
    await store.items.receive_many(
        [piece(item_id, location=loc, category="ring" if loc != "safe" else "necklace")
         for loc, ids in layout.items() for item_id in ids], "manager")
    rows = await store.ledger.fetch("SELECT item_id, epc FROM items")
    return {r["item_id"]: r["epc"] for r in rows}


def read(bus: EventBus, epc: Any, location: str | None = "showcase-1", device: str = "fx-1",
         rssi: int | None = -5200, antenna: int | None = 1) -> None:
    bus.publish("device.rfid.read", device=device, epc=epc, antenna=antenna, rssi_cdbm=rssi,
                location=location, ts="2026-11-26T18:00:00Z")


async def next_event(sub: Any, predicate: Any = lambda e: True, timeout: float = 30.0) -> Event:
    """The next event on `sub` that satisfies `predicate` (a generous guard, not a timing)."""
    async def wait() -> Event:
        while True:
            event = await sub.get()
            if predicate(event):
                return event
    return await asyncio.wait_for(wait(), timeout)


@pytest.fixture
async def epcs(store: Store) -> dict[str, str]:
    return await stock(store)


@pytest.fixture
async def counts(store: Store, epcs: dict[str, str]) -> AsyncIterator[Counts]:
    engine = Counts(store, store.bus, CountSettings(flush_interval_s=0.05,
                                                    progress_interval_s=0.02))
    await engine.start()
    try:
        yield engine
    finally:
        await engine.stop()
