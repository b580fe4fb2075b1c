"""Shared fixtures: a real store in a temp dir, opened through the real services; and for
every HQ test (tests/sync, tests/hq, tests/transfers) a real Mosquitto, HQ's keys with its
storage on SQLite or on a private PostgreSQL cluster, and HQ's receiver.

python-escpos pickles its printer database on first import into one shared folder; the
suite's workers (pytest-xdist) would all write it at once and read each other's half-written
file, so the first process (the controller loads this file before any worker starts)
writes it alone."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

import hub.devices.escpos.render  # noqa: F401  (python-escpos' database, written once: above)
from hub.config import Config
from hub.hq import pgcluster
from hub.store import Store, init_store
from hub.sync.broker import Mosquitto, available
from hub.sync.enroll import HQKeys
from hub.sync.hq import open_hq
from tests.sync.sync_helpers import HQRunner


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def make_config(tmp_path: Path) -> Callable[..., Config]:
    def make(name: str = "store", store_id: str = "paris-01", currency: str = "EUR") -> Config:
        return init_store(tmp_path / name, store_id, "Maison Test", currency)

    return make


@pytest.fixture
async def store(make_config: Callable[..., Config]) -> AsyncIterator[Store]:
    s = await Store.open(make_config())
    try:
        yield s
    finally:
        await s.close()


# -- HQ ----------------------------------------------------------------------------------------

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
