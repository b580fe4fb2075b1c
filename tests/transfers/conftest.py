"""Fixtures for the transfers tests over the wire: a real Mosquitto on a free loopback port,
a real HQ receiver with its parts, real enrolled stores replicating to it, each taking HQ's
transfer messages. Nothing is mocked (the same shape as tests/sync/conftest.py)."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest

from hub.sync.broker import Mosquitto, available
from hub.sync.enroll import HQKeys
from hub.sync.hq import open_hq
from hub.sync.replicator import Replicator, load_enrollment
from hub.transfers.part import transfers_of
from tests.sync.sync_helpers import FAST, HQRunner, Hub, enroll, make_bundle, new_store


@pytest.fixture
def broker(tmp_path: Path):
    if not available():
        pytest.skip("mosquitto is not installed (scripts/test installs it)")
    b = Mosquitto(tmp_path / "broker")
    b.start()
    yield b
    b.stop()


@pytest.fixture
def hq_keys(tmp_path: Path) -> HQKeys:
    return HQKeys.create(tmp_path / "hq", "maison")


@pytest.fixture
async def hq(hq_keys: HQKeys, broker: Mosquitto):
    runner = HQRunner(open_hq(hq_keys), broker)
    await asyncio.wait_for(runner.receiver.connected.wait(), 10)
    yield runner
    await runner.close()
    runner.hq.storage.close()


@pytest.fixture
async def hubs(tmp_path: Path, hq_keys: HQKeys, broker: Mosquitto):
    """Factory: an enrolled, running hub for a store id, with its transfers (`hub.transfers`)."""
    made: list[Hub] = []
    with contextlib.ExitStack() as stack:

        async def start(store_id: str) -> Hub:
            store = await new_store(tmp_path, store_id, pieces=3)
            await enroll(store, make_bundle(hq_keys, store_id, broker.url))
            hub = Hub(store, Replicator(store, FAST, await load_enrollment(store.ledger)))
            hub.transfers = stack.enter_context(transfers_of(store))
            await hub.rep.start()
            made.append(hub)
            return hub

        yield start
        for hub in made:
            with contextlib.suppress(Exception):
                await hub.close()
