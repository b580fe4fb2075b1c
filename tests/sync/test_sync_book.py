"""hub/core/hq.py without a broker: HQ messages as journal entries, rebuilt identically,
and the sync screen's API (the web extension) on the same books."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sync_helpers import new_store

from hub.core.errors import Refused
from hub.core.hq import HQBook
from hub.layers import LAYERS
from hub.ledger.ledger import dump_projections
from hub.runtime import Options, Runtime
from hub.sync.part import part as sync_part
from hub.web.app import create_app


def message(msg_id: str, mtype: str, body: dict) -> dict:
    return {"id": msg_id, "type": mtype, "chain": "maison", "store": "paris",
            "issued_at": "2026-11-26T10:00:00Z", "body": body}


@pytest.fixture
async def store(tmp_path: Path):
    store = await new_store(tmp_path, "paris")
    yield store
    await store.close()


def book_of(store) -> HQBook:
    return store.hq


async def test_messages_become_entries_and_rebuild_identically(store):
    book = book_of(store)
    await book.apply(message("m-rates-0001", "rates", {"rates": [
        {"metal": "platinum", "fineness": 950, "per_gram": 3150, "currency": "EUR",
         "valid_from": "2026-11-26T09:00:00Z", "valid_until": "2026-11-26T17:00:00Z"}]}), "ab")
    await book.apply(message("m-promo-0001", "promotion", {
        "promotion_id": "XMAS", "name": "Noël", "starts": "2026-12-01", "ends": "2026-12-24",
        "rule": {"percent_off": 10, "category": "ring"}}), "ab")
    await book.apply(message("m-style-0001", "stock_elsewhere",
                             {"sku": "RING-SOL-1", "stores": {"lyon": 2, "nice": 1}}), "ab")
    await book.apply(message("m-activ-0001", "activity", {"client_id": "CABCDEFGHIJ", "events": [
        {"action": "wishlisted", "ref": "paris-1", "at": "2026-11-25T20:00:00Z"}]}), "ab")
    await book.apply(message("m-piece-0001", "catalog", {"piece": {
        "item_id": "HQ-77", "sku": "PEND-1", "description": "Pendant", "category": "pendant",
        "cost": 1000, "tag_price": 5000}}), "ab")
    held = await book.apply(message("m-hold-00001", "reservation", {
        "reservation_id": "W1", "item_id": "paris-1", "client_id": "CABCDEFGHIJ",
        "pickup_by": "2026-12-01"}), "ab")
    await book.apply(message("m-cancel-0001", "reservation_cancelled",
                             {"reservation_id": "W1", "reason": "changed mind"}), "ab")
    assert held.outcome == "applied"
    assert (await store.items.get("paris-1"))["status"] == "in_stock"
    assert (await store.items.get("HQ-77"))["tag_price"] == 5000
    assert await book.stock_elsewhere("RING-SOL-1") == {"lyon": 2, "nice": 1}
    again = await book.apply(message("m-cancel-0002", "reservation_cancelled",
                                     {"reservation_id": "W1", "reason": "twice"}), "ab")
    assert again.conflict == "cancel_not_held"

    with pytest.raises(Refused, match="replay refused"):
        await book.apply(message("m-style-0001", "stock_elsewhere",
                                 {"sku": "RING-SOL-1", "stores": {}}), "ab")
    with pytest.raises(Refused, match="currency"):
        await book.apply(message("m-price-0009", "price", {"item_id": "paris-2",
                                                           "tag_price": 1, "currency": "USD"}), "ab")
    before = dump_projections(store.config.db_path, store.ledger.schemas)
    await store.ledger.rebuild()
    assert dump_projections(store.config.db_path, store.ledger.schemas) == before
    assert (await store.ledger.verify()).ok


async def test_sync_screen_api(store):
    staff = store.staff
    await staff.enroll("mona", "Mona Manager", "manager", "135790", actor="test")
    book = book_of(store)
    await book.apply(message("m-hold-00002", "reservation", {
        "reservation_id": "W2", "item_id": "paris-2", "client_id": "CABCDEFGHIJ",
        "pickup_by": "2026-12-01"}), "ab")
    await store.sales.complete(register_id="R1", actor="mona", lines=[{"item_id": "paris-3"}],
                               tenders=[{"type": "cash", "amount": 250000}])
    await book.apply(message("m-price-00002", "price", {"item_id": "paris-3", "tag_price": 1,
                                                        "currency": "EUR"}), "ab")
    runtime = Runtime(store.config, store, store.bus,
                      Options(host="127.0.0.1", port=0, insecure_http=True, zeroconf=False),
                      LAYERS)
    async with sync_part(runtime), TestClient(TestServer(create_app(runtime))) as client:
        resp = await client.post("/api/v1/session", json={"staff_id": "mona", "pin": "135790",
                                                          "register_id": "R1"})
        csrf = (await resp.json())["csrf"]
        status = await (await client.get("/api/v1/sync")).json()
        assert status["state"] == "idle" and "not enrolled" in status["problem"]
        conflicts = (await (await client.get("/api/v1/sync/conflicts")).json())["conflicts"]
        assert [c["kind"] for c in conflicts] == ["price_for_sold_piece"]
        resp = await client.post("/api/v1/sync/reservations/W2/collect",
                                 json={"tenders": [{"type": "cash", "amount": 250000}]},
                                 headers={"X-CSRF-Token": csrf,
                                          "Origin": str(client.make_url("/")).rstrip("/")})
        assert resp.status == 201, await resp.text()
        assert (await store.items.get("paris-2"))["status"] == "sold"
        page = await client.get("/sync")
        assert page.status == 200 and "Sync with head office" in await page.text()
