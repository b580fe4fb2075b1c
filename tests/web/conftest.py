"""Fixtures for the web tests: a real store in tmp_path, real staff with real scrypt PINs,
the real aiohttp app driven by aiohttp's test client."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient, TestServer
from web_helpers import NAMES, PINS, ROLES, piece

from hub.layers import LAYERS
from hub.runtime import Options, Runtime
from hub.store import Store, init_store
from hub.web.app import create_app


@pytest.fixture
async def store(tmp_path):
    config = init_store(tmp_path / "store", "test-01", "Maison Test", "EUR")
    store = await Store.open(config)
    await store.items.receive_many([piece(f"P{n:03d}") for n in range(1, 6)], actor="test")
    yield store
    await store.close()


@pytest.fixture
async def runtime(store):
    staff = store.staff
    for staff_id, pin in PINS.items():
        await staff.enroll(staff_id, NAMES[staff_id], ROLES[staff_id], pin, actor="test")
    return Runtime(store.config, store, store.bus,
                   Options(host="127.0.0.1", port=0, insecure_http=True, zeroconf=False),
                   LAYERS)


@pytest.fixture
async def client(runtime):
    app = create_app(runtime)
    async with TestClient(TestServer(app)) as client:
        yield client
