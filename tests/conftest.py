"""Shared fixtures: a real store in a temp dir, opened through the real services.

python-escpos pickles its printer database on first import into one shared folder; the
suite's workers (pytest-xdist) would all write it at once and read each other's half-written
file, so the first process (the controller loads this file before any worker starts)
writes it alone."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

import hub.devices.escpos.render  # noqa: F401  (python-escpos' database, written once: above)
from hub.config import Config
from hub.store import Store, init_store


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
