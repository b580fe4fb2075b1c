"""Fixtures for the sync tests: real Mosquitto processes on free loopback ports, real stores,
a real HQ receiver. Nothing is mocked. Helpers live in `sync_helpers`."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from pathlib import Path

import pytest
from sync_helpers import FAST, HQRunner, Hub, enroll, make_bundle, new_store

from hub.hq import pgcluster
from hub.sync.broker import Mosquitto, available
from hub.sync.enroll import HQKeys
from hub.sync.hq import open_hq
from hub.sync.replicator import Replicator, load_enrollment
from hub.sync.settings import SyncSettings


@pytest.fixture
def broker(tmp_path: Path):
    if not available():
        pytest.skip("mosquitto is not installed (scripts/test installs it)")
    b = Mosquitto(tmp_path / "broker")
    b.start()
    yield b
    b.stop()


@pytest.fixture(scope="session")
def pg_cluster(tmp_path_factory: pytest.TempPathFactory):
    """One private PostgreSQL cluster per test process (a fresh database per test)."""
    if not pgcluster.available():
        yield None
        return
    cluster = pgcluster.PgCluster(tmp_path_factory.mktemp("pg"))
    cluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def hq_keys(request: pytest.FixtureRequest, tmp_path: Path) -> HQKeys:
    """HQ's keys, its storage on SQLite or on a real PostgreSQL: HQ's tests run on both."""
    keys = HQKeys.create(tmp_path / "hq", "maison")
    if request.param == "postgresql":
        cluster = request.getfixturevalue("pg_cluster")
        if cluster is None:
            pytest.skip("PostgreSQL is not installed (scripts/test installs it)")
        keys.use_db(cluster.createdb(f"hq_{uuid.uuid4().hex[:12]}"))
    return keys


@pytest.fixture
async def hq(hq_keys: HQKeys, broker: Mosquitto):
    runner = HQRunner(open_hq(hq_keys), broker)
    await asyncio.wait_for(runner.receiver.connected.wait(), 10)
    yield runner
    await runner.close()
    runner.hq.storage.close()


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
