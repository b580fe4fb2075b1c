"""Shared fixtures for HQ's ops and client-matching tests (imported by the test modules:
tests/hq/conftest.py belongs to another suite). Real Mosquitto on a free loopback port,
real enrolled stores replicating, a real HQ receiver with all its parts."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path

import pytest

from hub.sync.broker import Mosquitto, available
from hub.sync.enroll import HQKeys
from hub.sync.hq import open_hq, publish_signed
from hub.sync.replicator import Replicator, load_enrollment
from hub.sync.settings import Broker
from tests.sync.sync_helpers import FAST, HQRunner, Hub, enroll, make_bundle, new_store


@pytest.fixture
def ops_broker(tmp_path: Path):
    if not available():
        pytest.skip("mosquitto is not installed (scripts/test installs it)")
    b = Mosquitto(tmp_path / "broker")
    b.start()
    yield b
    b.stop()


@pytest.fixture
def ops_keys(tmp_path: Path) -> HQKeys:
    return HQKeys.create(tmp_path / "hq", "maison")


@pytest.fixture
async def ops_hq(ops_keys: HQKeys, ops_broker: Mosquitto):
    runner = HQRunner(open_hq(ops_keys), ops_broker)
    await asyncio.wait_for(runner.receiver.connected.wait(), 10)
    yield runner
    await runner.close()
    runner.hq.storage.close()


class Stores:
    """Factory of running hubs; `stop` and `start` again keep the store and its enrollment."""

    def __init__(self, tmp_path: Path, keys: HQKeys, broker: Mosquitto) -> None:
        self.tmp_path, self.keys, self.broker = tmp_path, keys, broker
        self.running: dict[str, Hub] = {}
        self.enrolled: set[str] = set()

    async def start(self, store_id: str) -> Hub:
        store = await new_store(self.tmp_path, store_id, pieces=3)
        if store_id not in self.enrolled:
            await enroll(store, make_bundle(self.keys, store_id, self.broker.url))
            self.enrolled.add(store_id)
        hub = Hub(store, Replicator(store, FAST, await load_enrollment(store.ledger)))
        await hub.rep.start()
        self.running[store_id] = hub
        return hub

    async def stop(self, store_id: str) -> None:
        await self.running.pop(store_id).close()

    async def close(self) -> None:
        for hub in list(self.running.values()):
            with contextlib.suppress(Exception):
                await hub.close()


@pytest.fixture
async def ops_stores(tmp_path: Path, ops_keys: HQKeys, ops_broker: Mosquitto):
    stores = Stores(tmp_path, ops_keys, ops_broker)
    yield stores
    await stores.close()


async def publish(hq: HQRunner, broker: Mosquitto, messages: list[tuple[str, bytes]]) -> None:
    await publish_signed(Broker.parse(broker.url, "test"), None, "test-hq-cli", messages)


async def send(hq: HQRunner, broker: Mosquitto, store_id: str, mtype: str, body: dict) -> str:
    name, payload = await hq.call(hq.hq.message, store_id, mtype, body)
    await publish(hq, broker, [(name, payload)])
    return json.loads(payload)["doc"]["id"]


async def caught_up(hq: HQRunner, hub: Hub) -> bool:
    return await hq.head(hub.store.config.store_id) == hub.store.ledger.seq
