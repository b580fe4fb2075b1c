"""docs/architecture.md's walk-through, run: the files it shows, in a new folder, and the one
line it adds to the list of layers, make a hub whose new layer migrates, serves, checks its
own permission and journals."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import aiohttp
import pytest
from web_helpers import NAMES, PINS, ROLES, piece, sign_in

import hub
from hub import layers
from hub.daemon import running
from hub.runtime import Options
from hub.store import Store, init_store
from hub.web.kernel import ENDPOINTS

DOC = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"
_FILE = re.compile(r"```python\n# (hub/engraving/\w+\.py)\n(.*?)```", re.S)


def _walkthrough() -> dict[str, str]:
    return {path: body for path, body in _FILE.findall(DOC.read_text(encoding="utf-8"))}


def test_the_walkthrough_names_one_folder_and_one_line():
    text = DOC.read_text(encoding="utf-8")
    assert set(_walkthrough()) == {"hub/engraving/book.py", "hub/engraving/web.py",
                                   "hub/engraving/layer.py"}
    listed = re.search(r"LAYER_PACKAGES = \((.*?)\)", text, re.S).group(1)
    assert [p.strip(' ",') for p in listed.split("\n") if p.strip()][:-1] == \
        [f"{p}" for p in layers.LAYER_PACKAGES]  # today's list, plus the one new line
    assert '"hub.engraving",' in listed


@pytest.fixture
def engraving_package(tmp_path):
    """The walk-through's folder, as a package of `hub` for the length of the test."""
    root = tmp_path / "hub"
    (root / "engraving").mkdir(parents=True)
    (root / "engraving" / "__init__.py").write_text("")
    for path, body in _walkthrough().items():
        (tmp_path / path).write_text(body, encoding="utf-8")
    hub.__path__.append(str(root))
    try:
        yield layers.declared((*layers.LAYER_PACKAGES, "hub.engraving"))
    finally:
        hub.__path__.remove(str(root))
        for name in [m for m in sys.modules if m.startswith("hub.engraving")]:
            del sys.modules[name]


async def test_a_hub_with_the_walkthroughs_layer(tmp_path, engraving_package):
    with_layers = engraving_package
    assert [layer.name for layer in with_layers][-2:] == ["engraving", "control"]
    config = init_store(tmp_path / "store", "walk-01", "Maison Gravure", "EUR")
    async with await Store.open(config) as store:  # a store made before the layer existed
        await store.items.receive_many([piece("P001")], actor="test")
        for staff_id, pin in PINS.items():
            await store.staff.enroll(staff_id, NAMES[staff_id], ROLES[staff_id], pin,
                                     actor="test")
    options = Options(host="127.0.0.1", port=0, insecure_http=True, zeroconf=False)
    async with running(config, options, with_layers=with_layers) as runtime:
        base = f"http://127.0.0.1:{runtime.web.port}"
        async with aiohttp.ClientSession(base, cookie_jar=aiohttp.CookieJar(unsafe=True)) as s:
            csrf = await sign_in(s, "alex")
            r = await s.post("/api/v1/engravings", json={"item_id": "P001",
                                                        "text": "E & J 12.06.2027"},
                             headers={"X-CSRF-Token": csrf})
            assert r.status == 201, await r.text()
            r = await s.post("/api/v1/engravings", json={"item_id": "NOPE", "text": "x"},
                             headers={"X-CSRF-Token": csrf})
            assert r.status == 404 and "NOPE" in (await r.json())["detail"]
            waiting = (await (await s.get("/api/v1/engravings")).json())["engravings"]
            assert [w["text"] for w in waiting] == ["E & J 12.06.2027"]
            assert (await (await s.get("/api/v1/roles")).json())["error"] == "forbidden"
            await sign_in(s, "ada")
            roles = (await (await s.get("/api/v1/roles")).json())
            assert "engraving.request" in roles["permissions"]
            by_role = {r["role"]: r["permissions"] for r in roles["roles"]}
            assert "engraving.request" in by_role["associate"]
            assert "engraving.request" in by_role["admin"]
            settings = await (await s.get("/settings")).text()
            assert "Ask the bench to engrave a piece" in settings
            doc = await (await s.get("/api/v1/openapi.json")).json()
            assert "/api/v1/engravings" in doc["paths"]
        assert {e.layer for e in runtime.web.app[ENDPOINTS].all} >= {"engraving"}
        entry = await runtime.store.ledger.fetch_one(
            "SELECT kind, actor FROM journal WHERE kind = 'engraving.requested'")
        assert tuple(entry) == ("engraving.requested", "alex")
