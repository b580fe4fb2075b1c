"""The running hubs of HQ's ops, deliveries and client-matching tests (imported by the test
modules: tests/hq/conftest.py is the console's). The broker and HQ are tests/conftest.py's."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.sync.broker import Mosquitto
from hub.sync.enroll import HQKeys
from tests.sync.sync_helpers import Hubs


@pytest.fixture
async def stores(tmp_path: Path, hq_keys: HQKeys, broker: Mosquitto):
    made = Hubs(tmp_path, hq_keys, broker)
    yield made
    await made.close()
