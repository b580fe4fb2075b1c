"""Fixtures for the sync tests: real stores replicating (the broker, HQ's keys on SQLite or
PostgreSQL and HQ's receiver are tests/conftest.py's). Nothing is mocked. Helpers live in
`sync_helpers`."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from sync_helpers import FAST, Hub, enroll, make_bundle, new_store

from hub.sync.broker import Mosquitto
from hub.sync.enroll import HQKeys
from hub.sync.replicator import Replicator, load_enrollment
from hub.sync.settings import SyncSettings


@pytest.fixture
async def hubs(tmp_path: Path, hq_keys: HQKeys, broker: Mosquitto):
    """Factory: an enrolled, running hub for a store id."""
    made: list[Hub] = []

    async def start(store_id: str, settings: SyncSettings = FAST, enrolled: bool = False) -> Hub:
        store = await new_store(tmp_path, store_id)
        if not enrolled:
            await enroll(store, make_bundle(hq_keys, store_id, broker.url))
        rep = Replicator(store, settings, await load_enrollment(store.ledger))
        await rep.start()
        hub = Hub(store, rep)
        made.append(hub)
        return hub

    yield start
    for hub in made:
        with contextlib.suppress(Exception):
            await hub.close()
