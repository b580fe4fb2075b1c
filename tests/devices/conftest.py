"""Fixtures for the device tests: a real store on disk and a bus on the running loop."""

from __future__ import annotations

import asyncio

import pytest
from device_helpers import PIECE

from hub.bus import EventBus
from hub.store import Store, init_store


@pytest.fixture
async def store(tmp_path):
    config = init_store(tmp_path / "store", "paris-01", "Maison Test", "EUR")
    bus = EventBus(asyncio.get_running_loop())
    s = await Store.open(config, bus)
    await s.items.receive(PIECE, actor="admin")
    yield s
    await s.close()


@pytest.fixture
async def bus():
    return EventBus(asyncio.get_running_loop())
