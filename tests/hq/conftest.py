"""Fixtures for HQ's console: a real Mosquitto, a real HQ receiver on SQLite (or on
PostgreSQL: tests/hq/test_console_postgres.py), two real hubs (Paris, Lyon) whose journals
reach HQ through the broker, and the console served over HTTPS with a certificate from HQ's
CA. Nothing is mocked."""

from __future__ import annotations

import asyncio
import contextlib
import re
import ssl
import sys
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import pytest

sys.path.insert(0, str(Path(__file__).parent.parent / "sync"))  # the sync tests' helpers

from sync_helpers import FAST, HQRunner, Hub, enroll, make_bundle, new_store, until  # noqa: E402

from hub.hq.console import part  # noqa: E402
from hub.hq.console.app import Console, create_app, serve, server_context  # noqa: E402
from hub.hq.console.cli import SETUPS  # noqa: E402
from hub.sync.broker import Mosquitto  # noqa: E402
from hub.sync.enroll import HQKeys  # noqa: E402
from hub.sync.hq import open_hq  # noqa: E402
from hub.sync.replicator import Replicator, load_enrollment  # noqa: E402
from hub.words import words_for  # noqa: E402
from tests.builders import client as client_profile  # noqa: E402

PASSWORDS = {"olga": "owner-secret-1", "marc": "merch-secret-1", "aude": "audit-secret-1"}
ROLES = {"olga": "owner", "marc": "merchandiser", "aude": "auditor"}


class Chain:
    """HQ with its receiver, the stores' hubs, and the console's address."""

    def __init__(self, keys: HQKeys, hq: HQRunner, hubs: dict[str, Hub], url: str,
                 ca: Path) -> None:
        self.keys, self.hq, self.hubs, self.url, self.ca = keys, hq, hubs, url, ca
        self.client_id = ""  # Paris's client, who bought paris-0

    async def call(self, fn: Any, *args: Any) -> Any:
        return await self.hq.call(fn, *args)

    async def settled(self) -> None:
        """Every hub's journal is at HQ."""
        for store_id, hub in self.hubs.items():
            await until(lambda s=store_id, h=hub: self._at(s, h), f"{store_id} at HQ")

    async def _at(self, store_id: str, hub: Hub) -> bool:
        return await self.hq.head(store_id) >= hub.store.ledger.seq

    def browser(self) -> Browser:
        context = ssl.create_default_context(cafile=str(self.ca))
        return Browser(self.url, context)


class Browser:
    """A person at the console: cookies kept, the CSRF token read from the last page."""

    def __init__(self, url: str, context: ssl.SSLContext) -> None:
        self.url = url
        self.session = aiohttp.ClientSession(
            cookie_jar=aiohttp.CookieJar(unsafe=True),  # the console is at an IP here
            connector=aiohttp.TCPConnector(ssl=context))
        self.csrf = ""

    async def get(self, path: str) -> tuple[int, str]:
        async with self.session.get(self.url + path) as r:
            text = await r.text()
        self._keep(text)
        return r.status, text

    async def post(self, path: str, data: dict[str, str], csrf: bool = True
                   ) -> tuple[int, str]:
        form = {**({"csrf": self.csrf} if csrf else {}), **data}
        async with self.session.post(self.url + path, data=form) as r:
            text = await r.text()
        self._keep(text)
        return r.status, text

    def _keep(self, text: str) -> None:
        found = re.search(r'name="csrf" value="([^"]+)"', text)
        if found:
            self.csrf = found.group(1)

    async def sign_in(self, name: str, password: str | None = None) -> tuple[int, str]:
        _, page = await self.get("/signin")
        pre = re.search(r'name="pre" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        return await self.post("/signin", {"pre": pre, "name": name,
                                           "password": password or PASSWORDS[name]},
                               csrf=False)

    async def close(self) -> None:
        await self.session.close()


@pytest.fixture
async def chain(request: pytest.FixtureRequest, tmp_path: Path, broker: Mosquitto):
    """HQ's storage on SQLite, or on PostgreSQL when a test asks for it indirectly
    (`pytest.mark.parametrize("chain", ["postgresql"], indirect=True)`: a fresh database on
    the session's private cluster, as tests/conftest.py's `hq_keys` makes it)."""
    storage = getattr(request, "param", "sqlite")
    assert storage in ("sqlite", "postgresql"), storage
    keys = HQKeys.create(tmp_path / "hq", "maison")
    if storage == "postgresql":
        cluster = request.getfixturevalue("pg_cluster")
        if cluster is None:
            pytest.skip("PostgreSQL is not installed (scripts/test installs it)")
        keys.use_db(cluster.createdb(f"hq_{uuid.uuid4().hex[:12]}"))
    runner = HQRunner(open_hq(keys), broker)
    await asyncio.wait_for(runner.receiver.connected.wait(), 10)
    hubs: dict[str, Hub] = {}
    web = None
    try:
        for store_id in ("paris", "lyon"):
            store = await new_store(tmp_path, store_id, pieces=3)
            await enroll(store, make_bundle(keys, store_id, broker.url))
            rep = Replicator(store, FAST, await load_enrollment(store.ledger))
            await rep.start()
            hubs[store_id] = Hub(store, rep)
        paris = hubs["paris"]
        made = await paris.store.clients.create(client_profile("Inès", "Blanc"), "admin")
        await paris.sell("paris-0", made["client_id"])
        for name, role in ROLES.items():
            await runner.call(part.add_staff, runner.hq.storage, name, role, PASSWORDS[name])
        console = Console.of_receiver(runner.receiver, words_for("en-GB"))
        web = await serve(create_app(console, list(SETUPS)), "127.0.0.1", 0,
                          server_context(keys, ("127.0.0.1", "localhost")))
        port = web.addresses[0][1]
        chain = Chain(keys, runner, hubs, f"https://127.0.0.1:{port}", keys.data_dir / "ca.pem")
        chain.client_id = made["client_id"]
        await chain.settled()
        yield chain
    finally:
        if web is not None:
            await web.cleanup()
        for hub in hubs.values():
            with contextlib.suppress(Exception):
                await hub.close()
        await runner.close()
        runner.hq.storage.close()


@pytest.fixture
async def browser(chain: Chain):
    made: list[Browser] = []

    def make() -> Browser:
        b = chain.browser()
        made.append(b)
        return b

    yield make
    for b in made:
        await b.close()
