"""Manager approvals bound to one exact action; carts that outlive restarts; live events."""

from __future__ import annotations

from aiohttp.test_utils import TestClient, TestServer
from web_helpers import PINS, sign_in

from hub.counts.service import Counts
from hub.store import Store
from hub.web.app import create_app

CART = "/api/v1/registers/R1/cart"


async def _approve(client, csrf, action, manager="mona"):
    return await client.post("/api/v1/approvals", json={
        "action": action, "manager_id": manager, "pin": PINS[manager]},
        headers={"X-CSRF-Token": csrf})


async def test_a_big_discount_needs_a_manager_pin_bound_to_it(client, store):
    csrf = await sign_in(client, "alex")
    h = {"X-CSRF-Token": csrf}
    await client.post(CART + "/lines", json={"item_id": "P001"}, headers=h)
    await client.post(CART + "/lines", json={"item_id": "P002"}, headers=h)
    r = await client.put(CART + "/discount", json={"amount": 10_000}, headers=h)  # 2 %: fine
    assert r.status == 200 and (await r.json())["discount"] == 10_000

    r = await client.put(CART + "/discount", json={"amount": 100_000}, headers=h)  # 20 %
    assert r.status == 403
    needed = await r.json()
    assert needed["error"] == "approval_needed"
    action = needed["action"]
    assert action["kind"] == "discount" and action["amount"] == 100_000

    # An associate's PIN does not approve; the refusal is in the journal.
    r = await _approve(client, csrf, action, manager="alex")
    assert r.status == 403 and (await r.json())["error"] == "approval_refused"
    r = await _approve(client, csrf, action)
    assert r.status == 201
    approval_id = (await r.json())["approval_id"]

    # Not on another amount...
    r = await client.put(CART + "/discount", json={"amount": 120_000, "approval_id": approval_id},
                         headers=h)
    assert r.status == 403 and (await r.json())["error"] == "approval_mismatch"
    # ...but on this one, once.
    r = await client.put(CART + "/discount", json={"amount": 100_000, "approval_id": approval_id},
                         headers=h)
    assert r.status == 200 and (await r.json())["discount"] == 100_000
    r = await client.put(CART + "/discount", json={"amount": 100_000, "approval_id": approval_id},
                         headers=h)
    assert r.status == 403 and (await r.json())["error"] == "approval_used"

    kinds = [r["kind"] for r in await store.ledger.fetch(
        "SELECT kind FROM journal WHERE kind LIKE 'approval.%' ORDER BY seq")]
    assert kinds == ["approval.refused", "approval.granted", "approval.used"]
    # The manager's screen lists both decisions.
    await sign_in(client, "mona")
    listed = await (await client.get("/api/v1/approvals")).json()
    assert {a["status"] for a in listed["approvals"]} == {"refused", "used"}


async def test_a_void_spends_an_approval_for_that_sale_only(client, store):
    csrf = await sign_in(client, "alex")
    h = {"X-CSRF-Token": csrf}
    sales = []
    for serial in ("P001", "P002"):
        await client.post(CART + "/lines", json={"item_id": serial}, headers=h)
        await client.post(CART + "/tenders", json={"type": "cash", "amount": 250_000}, headers=h)
        r = await client.post(CART + "/complete", json={}, headers=h)
        sales.append((await r.json())["sale"]["sale_id"])
    body = {"register_id": "R1", "reason": "client changed their mind"}
    r = await client.post(f"/api/v1/sales/{sales[0]}/void", json=body, headers=h)
    assert r.status == 403
    approval = await (await _approve(client, csrf, (await r.json())["action"])).json()
    r = await client.post(f"/api/v1/sales/{sales[1]}/void",
                          json={**body, "approval_id": approval["approval_id"]}, headers=h)
    assert r.status == 403 and (await r.json())["error"] == "approval_mismatch"
    r = await client.post(f"/api/v1/sales/{sales[0]}/void",
                          json={**body, "approval_id": approval["approval_id"]}, headers=h)
    assert r.status == 201
    assert (await store.sales.get(sales[0]))["status"] == "voided"
    assert (await store.items.get("P001"))["status"] == "in_stock"


async def test_no_sale_drawer_opening_needs_approval_and_is_journaled(client, store):
    csrf = await sign_in(client, "alex")
    h = {"X-CSRF-Token": csrf}
    r = await client.post("/api/v1/registers/R1/no-sale", json={"reason": "change for a 500"},
                          headers=h)
    assert r.status == 403
    approval = await (await _approve(client, csrf, (await r.json())["action"])).json()
    r = await client.post("/api/v1/registers/R1/no-sale", json={
        "reason": "change for a 500", "approval_id": approval["approval_id"]}, headers=h)
    assert r.status == 200
    rows = await store.ledger.fetch("SELECT kind FROM journal ORDER BY seq DESC LIMIT 2")
    assert [r["kind"] for r in rows] == ["register.no_sale", "approval.used"]
    opened = await store.ledger.fetch_one(
        "SELECT seq FROM journal WHERE kind = 'register.no_sale'")
    assert (await r.json()) == {"seq": opened["seq"], "register_id": "R1"}


async def test_a_cart_survives_a_hub_restart(runtime, store):
    async with TestClient(TestServer(create_app(runtime))) as client:
        csrf = await sign_in(client, "alex")
        await client.post(CART + "/lines", json={"code": "SKU-P003"},
                          headers={"X-CSRF-Token": csrf})
    config = store.config
    await store.close()
    reopened = await Store.open(config)
    try:
        runtime.store = reopened  # the roster and the carts are read back from the books
        async with TestClient(TestServer(create_app(runtime))) as client:
            await sign_in(client, "alex")
            cart = await (await client.get(CART)).json()
        assert [ln["item_id"] for ln in cart["lines"]] == ["P003"]
    finally:
        await reopened.close()


async def test_websocket_pushes_cart_changes_and_never_a_client_profile(client, runtime):
    csrf = await sign_in(client, "alex")
    h = {"X-CSRF-Token": csrf}
    async with client.ws_connect("/api/v1/events") as ws:
        r = await client.post("/api/v1/clients", json={"first_name": "Zoë",
                                                       "last_name": "Secretname",
                                                       "notes": "likes emeralds"}, headers=h)
        assert r.status == 201
        # A scanner bound to R1 scans a piece: the cart changes on every screen.
        runtime.bus.publish("device.scan", device="scanner-1", register="R1", code="P004",
                            symbology="code128")
        frames = []
        while not any(f["topic"] == "cart.changed" for f in frames):
            frames.append(await ws.receive_json(timeout=10))
    text = repr(frames)
    assert "Secretname" not in text and "emeralds" not in text
    created = next(f for f in frames if f["topic"] == "journal.client.created")
    assert created["data"]["payload"] is None  # a profile never leaves: header only
    changed = next(f for f in frames if f["topic"] == "cart.changed")
    assert [ln["item_id"] for ln in changed["data"]["cart"]["lines"]] == ["P004"]


async def test_websocket_needs_a_session(client):
    r = await client.get("/api/v1/events")
    assert r.status == 401


async def test_a_refused_return_leaves_its_approval_unspent(client, store):
    csrf = await sign_in(client, "alex")
    h = {"X-CSRF-Token": csrf}
    await client.post(CART + "/lines", json={"item_id": "P001"}, headers=h)
    await client.post(CART + "/tenders", json={"type": "cash", "amount": 250_000}, headers=h)
    sale_id = (await (await client.post(CART + "/complete", json={}, headers=h)).json())[
        "sale"]["sale_id"]
    await store.sales.void(sale_id, register_id="R1", actor="mona", reason="keyed twice")
    body = {"register_id": "R1", "reason": "wrong size"}
    r = await client.post(f"/api/v1/sales/{sale_id}/return", json=body, headers=h)
    approval = await (await _approve(client, csrf, (await r.json())["action"])).json()
    r = await client.post(f"/api/v1/sales/{sale_id}/return",
                          json={**body, "approval_id": approval["approval_id"]}, headers=h)
    assert r.status == 409 and (await r.json())["error"] == "sale_voided"
    row = await store.ledger.fetch_one("SELECT status FROM approvals WHERE approval_id = ?",
                                       (approval["approval_id"],))
    assert row["status"] == "granted"  # spent only together with the return it approves


async def test_a_scanner_lent_to_a_count_does_not_ring_up_and_tag_reads_stay_off_screens(
        client, runtime):
    counts = Counts(runtime.store, runtime.bus)
    await counts.start()
    runtime.counts = counts
    try:
        started = await counts.start_count("spot", None, "mona")
        await counts.sweep(started["count_id"], "scanner-1", "showcase-1", "mona")
        csrf = await sign_in(client, "alex")
        async with client.ws_connect("/api/v1/events") as ws:
            # A burst of raw tag reads (more than a browser's queue holds) after a state
            # change: the reads are never queued, so they push nothing out.
            runtime.bus.publish("sync.state", state="in_sync", backlog=0)
            for n in range(600):
                runtime.bus.publish("device.rfid.read", device="fx-1", epc=f"{n:024x}",
                                    antenna=1, rssi_cdbm=-5000, location="window", ts=0.0)
            runtime.bus.publish("device.scan", device="scanner-1", register="R1", code="P004",
                                symbology="code128")
            runtime.bus.publish("device.scan", device="scanner-2", register="R1", code="P003",
                                symbology="code128")
            frames = []
            while not any(f["topic"] == "cart.changed" for f in frames):
                frames.append(await ws.receive_json(timeout=10))
        assert not any(f["topic"] == "device.rfid.read" for f in frames)
        assert frames[0]["topic"] == "sync.state"
        cart = await (await client.get(CART, headers={"X-CSRF-Token": csrf})).json()
        assert [ln["item_id"] for ln in cart["lines"]] == ["P003"]
    finally:
        await counts.stop()
