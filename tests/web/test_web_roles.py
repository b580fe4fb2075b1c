"""The permission × endpoint table, walked for every role on the full hub (every layer's part
running, every layer's routes served): who may call what, and nothing else. Roles are data:
a store's own role changes what its people may do, at once."""

from __future__ import annotations

import re

import aiohttp
import pytest
from web_helpers import NAMES, PINS, ROLES, piece, sign_in

from hub.daemon import running
from hub.demo import prepare_demo
from hub.layers import LAYERS
from hub.runtime import Options
from hub.store import Store, init_store
from hub.web.kernel import ENDPOINTS, PUBLIC, SIGNED_IN

SAMPLE = {"register_id": "R1", "item_id": "P001", "client_id": "CAAAAAAAAAA",
          "sale_id": "R1-000001", "line_no": "1", "index": "1", "staff_id": "alex",
          "role": "trainee", "count_id": "C-1", "day": "2026-11-30", "epc": "00",
          "reservation_id": "H-1", "sku": "SKU-P001"}


def _path(path: str) -> str:
    return re.sub(r"{(\w+)}", lambda m: SAMPLE.get(m.group(1), "x1"), path)


def _order(endpoint) -> tuple:
    # Sign-out last, so the walk keeps its session; role changes after the rest.
    return (endpoint.path == "/api/v1/session" and endpoint.method == "DELETE",
            endpoint.path.startswith("/api/v1/roles/"), endpoint.path)


@pytest.fixture
async def hub(tmp_path):
    """`loupe run` on a fresh store: every layer's part, served on a free port."""
    config = init_store(tmp_path / "store", "roles-01", "Maison Rôles", "EUR")
    async with await Store.open(config) as store:
        await store.items.receive_many([piece(f"P{n:03d}") for n in range(1, 4)], actor="test")
        for staff_id, pin in PINS.items():
            await store.staff.enroll(staff_id, NAMES[staff_id], ROLES[staff_id], pin,
                                     actor="test")
        await store.staff.enroll("tina", "Tina Trainee", "associate", "975310", actor="test")
    options = Options(host="127.0.0.1", port=0, insecure_http=True, zeroconf=False)
    async with running(config, options) as runtime:
        yield runtime


class Browser:
    """An HTTP client of the running hub, signed in or not (`app` is the served app)."""

    def __init__(self, runtime) -> None:
        self.app = runtime.web.app
        self.session = aiohttp.ClientSession(f"http://127.0.0.1:{runtime.web.port}",
                                             cookie_jar=aiohttp.CookieJar(unsafe=True))

    def request(self, method: str, path: str, **kwargs):
        return self.session.request(method, path, **kwargs)

    def get(self, path: str, **kwargs):
        return self.session.get(path, **kwargs)

    def post(self, path: str, **kwargs):
        return self.session.post(path, **kwargs)

    def put(self, path: str, **kwargs):
        return self.session.put(path, **kwargs)


@pytest.fixture
async def browser(hub):
    client = Browser(hub)
    yield client
    await client.session.close()


async def _call(client, endpoint, csrf: str | None):
    headers = {"X-CSRF-Token": csrf} if csrf else {}
    kwargs = {"headers": headers, "allow_redirects": False}
    if endpoint.changes_state:
        kwargs["json"] = {}
    if endpoint.kind == "ws":
        headers.update({"Connection": "Upgrade", "Upgrade": "websocket",
                        "Sec-WebSocket-Version": "13",
                        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="})
    return await client.request(endpoint.method, _path(endpoint.path), **kwargs)


def _layers_served(table) -> set[str]:
    return {e.layer for e in table.all}


async def test_every_layer_is_served(hub, browser):
    # every layer with screens serves them (the core's are the web layer's own)
    assert _layers_served(browser.app[ENDPOINTS]) == {layer.name for layer in LAYERS
                                                      if layer.web is not None}
    assert hub.devices is not None and hub.counts is not None and hub.sync is not None
    assert hub.followups is not None


@pytest.mark.parametrize("who", [None, "alex", "mona", "ada"])
async def test_every_route_for_every_role(hub, browser, who):
    table = browser.app[ENDPOINTS]
    roles = hub.store.staff.roles
    csrf = await sign_in(browser, who) if who else None
    role = ROLES.get(who or "")
    problems = []
    for endpoint in sorted(table.all, key=_order):
        resp = await _call(browser, endpoint, csrf)
        where = f"{who} {endpoint.method} {endpoint.path} -> {resp.status}"
        body = await resp.json() if resp.content_type == "application/json" else {}
        allowed = (endpoint.permission == PUBLIC or role is not None and (
            endpoint.permission == SIGNED_IN or roles.allows(role, endpoint.permission)))
        try:
            # Every layer runs: no route may answer "not running", nor fail.
            assert resp.status < 500, body
            if endpoint.permission == PUBLIC:
                assert resp.status not in (401, 403) or endpoint.changes_state, body
            elif role is None:
                if endpoint.kind == "page":
                    assert resp.status == 303, body
                    assert resp.headers["Location"].startswith("/signin")
                else:
                    assert resp.status == 401 and body["error"] == "unauthorized"
            elif allowed:
                assert resp.status != 401
                if resp.status == 403:  # let through; refused by the books, not by role
                    assert body.get("error") not in ("forbidden", "csrf"), body
            else:
                assert resp.status == 403, body
                if endpoint.kind == "page":  # a person's browser gets a page, not JSON
                    assert resp.content_type == "text/html"
                else:
                    assert body["error"] == "forbidden"
                    assert "may not" in body["detail"] and "_" not in body["detail"]
        except AssertionError as exc:
            problems.append(f"{where}: {exc}")
    assert not problems, "\n".join(problems)


async def test_a_store_role_takes_effect_at_once_and_is_journaled(hub, browser):
    """A trainee who sells but cannot ask for a void; an administrator's change is one
    journal entry, and the trainee's next click already obeys it."""
    csrf = await sign_in(browser, "ada")
    r = await browser.put("/api/v1/roles/trainee", json={"permissions": [
        "sell", "stock.view", "clients.view"]}, headers={"X-CSRF-Token": csrf})
    assert r.status == 200, await r.text()
    r = await browser.request("PATCH", "/api/v1/staff/tina", json={"role": "trainee"},
                              headers={"X-CSRF-Token": csrf})
    assert r.status == 200, await r.text()
    entry = await hub.store.ledger.fetch_one(
        "SELECT actor FROM journal WHERE kind = 'role.defined'")
    assert entry["actor"] == "ada"

    r = await browser.post("/api/v1/session", json={"staff_id": "tina", "pin": "975310"})
    me = await r.json()
    assert me["role"] == "trainee" and "sell" in me["permissions"]
    h = {"X-CSRF-Token": me["csrf"]}
    assert (await browser.get("/api/v1/items")).status == 200
    r = await browser.post("/api/v1/sales/R1-000001/void", json={}, headers=h)
    body = await r.json()
    assert r.status == 403 and body["error"] == "forbidden"
    assert "Trainee" in body["detail"] or "trainee" in body["detail"]

    # Taking "sell" away: the same session is refused on its next request.
    admin = Browser(hub)  # a second screen, the administrator's
    csrf = await sign_in(admin, "ada")
    r = await admin.put("/api/v1/roles/trainee", json={"permissions": ["stock.view"]},
                        headers={"X-CSRF-Token": csrf})
    assert r.status == 200
    assert (await browser.get("/api/v1/registers/R1/cart")).status == 403
    await admin.session.close()


async def test_the_administrator_keeps_the_keys(hub, browser):
    csrf = await sign_in(browser, "ada")
    r = await browser.put("/api/v1/roles/admin", json={"permissions": ["sell"]},
                          headers={"X-CSRF-Token": csrf})
    body = await r.json()
    assert r.status == 409 and body["error"] == "admin_keeps"
    r = await browser.put("/api/v1/roles/manager", json={"permissions": ["sell", "flying"]},
                          headers={"X-CSRF-Token": csrf})
    assert r.status == 400 and "flying" in (await r.json())["detail"]
    assert await hub.store.ledger.fetch_one(
        "SELECT seq FROM journal WHERE kind = 'role.defined'") is None


async def test_costs_are_a_permission_of_their_own(hub, browser):
    await sign_in(browser, "alex")
    piece_json = await (await browser.get("/api/v1/items/P001")).json()
    assert "cost" not in piece_json and piece_json["tag_price"] == 250_000
    history = (await (await browser.get("/api/v1/items/P001/history")).json())["history"]
    assert history and all("cost" not in (h["payload"] or {}).get("piece", {}) for h in history)
    found = (await (await browser.get("/api/v1/items?q=solitaire")).json())["items"]
    assert found and all("cost" not in p for p in found)
    await sign_in(browser, "mona")
    assert (await (await browser.get("/api/v1/items/P001")).json())["cost"] == 125_000
    # The same search, its page now cached: the body kept for one who may not see costs is
    # not the one a manager gets, nor the other way round.
    found = (await (await browser.get("/api/v1/items?q=solitaire")).json())["items"]
    assert found and all("cost" in p for p in found)
    await sign_in(browser, "alex")
    found = (await (await browser.get("/api/v1/items?q=solitaire")).json())["items"]
    assert found and all("cost" not in p for p in found)
    assert hub.store.items.pages is not None and hub.store.items.pages.hits >= 2


async def test_every_served_route_is_in_the_table(browser):
    table = browser.app[ENDPOINTS]
    listed = {(e.method, e.path) for e in table.all}
    for route in browser.app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("formatter") or info.get("path")
        if info.get("prefix") == "/static" or route.method == "HEAD":
            continue
        assert (route.method, path) in listed, f"{route.method} {path} bypasses the table"


async def test_openapi_document_matches_the_api_routes(browser):
    doc = await (await browser.get("/api/v1/openapi.json")).json()
    table = browser.app[ENDPOINTS]
    api = {(e.method.lower(), e.path) for e in table.all if e.kind in ("api", "ws")}
    documented = {(m, p) for p, ops in doc["paths"].items() for m in ops}
    assert documented == api
    assert doc["openapi"].startswith("3.")


async def test_the_demo_store_shows_a_role_of_its_own(tmp_path):
    config, lines = await prepare_demo(tmp_path / "demo", items=5, clients=2, sales=1)
    assert any("lea" in line and "trainee" in line for line in lines)
    async with await Store.open(config, read_only=True) as store:
        trainee = store.staff.roles.get("trainee")
        assert trainee is not None and trainee.custom and "sell" in trainee.permissions
        assert not store.staff.roles.allows("trainee", "returns.request")
        assert store.staff.get("lea").role == "trainee"
        assert store.words.term("role", "trainee") == "Trainee"
