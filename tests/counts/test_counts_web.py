"""The counts API and screens through the real web app (aiohttp test client, real sessions,
roles and CSRF), with reads arriving on the bus as the devices layer publishes them."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient, TestServer

from hub.counts.service import Counts
from hub.layers import LAYERS
from hub.runtime import Options, Runtime
from hub.web.app import create_app
from tests.counts.conftest import read
from tests.web.web_helpers import NAMES, PINS, ROLES, sign_in


@pytest.fixture
async def client(store, counts):
    staff = store.staff
    for staff_id, pin in PINS.items():
        await staff.enroll(staff_id, NAMES[staff_id], ROLES[staff_id], pin, actor="test")
    runtime = Runtime(store.config, store, store.bus,
                      Options(host="127.0.0.1", port=0, insecure_http=True, zeroconf=False),
                      LAYERS, counts=counts)
    async with TestClient(TestServer(create_app(runtime))) as client:
        yield client


async def test_a_count_from_the_screen_to_the_confirmation(client, store, epcs,
                                                           counts: Counts):
    csrf = await sign_in(client, "alex")
    h = {"X-CSRF-Token": csrf}
    resp = await client.post("/api/v1/counts", json={"kind": "closing", "scope": ["safe"]},
                             headers=h)
    assert resp.status == 403  # an associate does not start counts

    client.session.cookie_jar.clear()
    csrf = await sign_in(client, "mona")
    h = {"X-CSRF-Token": csrf}
    resp = await client.post("/api/v1/counts", json={"kind": "closing", "scope": ["safe"]},
                             headers=h)
    assert resp.status == 201, await resp.text()
    count_id = (await resp.json())["count_id"]
    resp = await client.post("/api/v1/counts", json={"kind": "spot", "scope": ["safe"]},
                             headers=h)
    assert resp.status == 409 and (await resp.json())["error"] == "count_overlap"
    resp = await client.post(f"/api/v1/counts/{count_id}/sweep",
                             json={"device": "tsl-1", "location": "safe"}, headers=h)
    assert resp.status == 200
    read(store.bus, epcs["P-7"], None, device="tsl-1")

    live = await (await client.get(f"/api/v1/counts/{count_id}")).json()
    assert (live["status"], live["found"], live["missing"]) == ("open", 1, 1)
    missing = await (await client.get(f"/api/v1/counts/{count_id}/missing")).json()
    assert [m["item_id"] for m in missing["missing"]] == ["P-8"]

    resp = await client.post(f"/api/v1/counts/{count_id}/close", json={}, headers=h)
    assert resp.status == 200
    assert [m["item_id"] for m in (await resp.json())["result"]["missing"]] == ["P-8"]
    resp = await client.post(f"/api/v1/counts/{count_id}/confirm-missing",
                             json={"item_ids": "P-8"}, headers=h)
    assert resp.status == 400
    resp = await client.post(f"/api/v1/counts/{count_id}/confirm-missing", json={}, headers=h)
    assert (await resp.json())["confirmed"] == ["P-8"]
    report = await (await client.get("/api/v1/count-reports")).json()
    assert report["shrinkage"]["pieces"] == 1
    detail = await (await client.get(f"/api/v1/counts/{count_id}")).json()
    assert detail["status"] == "closed" and detail["discrepancies"][0]["resolved_seq"]


async def test_screens_render_and_bad_requests_are_clean(client, counts):
    csrf = await sign_in(client, "mona")
    for path in ("/counts", "/counts/find"):
        resp = await client.get(path)
        assert resp.status == 200 and "/counts/counts.js" in await resp.text()
    assert (await client.get("/counts/counts.js")).status == 200
    h = {"X-CSRF-Token": csrf}
    resp = await client.post("/api/v1/counts", json={"kind": "yearly"}, headers=h)
    assert resp.status == 400 and (await resp.json())["field"] == "kind"
    resp = await client.post("/api/v1/counts/C0/close", json={}, headers=h)
    assert resp.status == 404
    resp = await client.post("/api/v1/find", json={"piece": "P-404"}, headers=h)
    assert resp.status == 400
