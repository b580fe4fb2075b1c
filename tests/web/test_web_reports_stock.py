"""The stock report over HTTP: pieces held at retail, at HQ's metal rates and at cost, by how
long they have waited since they came in; cost only for a role that may see it; an unknown
grouping refused in a sentence."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from web_helpers import piece, sign_in

from hub.ledger.ledger import utc_now
from hub.store import Store, init_store

RATES = {"id": "m-rates-1", "type": "rates", "chain": "maison", "store": "test-01",
         "issued_at": "2026-12-03T08:00:00Z", "body": {"rates": [
             {"metal": "platinum", "fineness": 950, "per_gram": 3_000, "currency": "EUR",
              "valid_from": "2026-12-03T08:00:00Z", "valid_until": "2099-12-31T18:00:00Z"}]}}


@pytest.fixture
async def store(tmp_path):
    """Two necklaces received 400 and 200 days ago (the ledger's clock set back, as the
    demo's history does), then five rings today."""
    config = init_store(tmp_path / "store", "test-01", "Maison Test", "EUR")
    store = await Store.open(config)
    for serial, days in (("OLD-1", 400), ("OLD-2", 200)):
        stamp = (datetime.now(UTC) - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        store.ledger.clock = lambda s=stamp: s
        await store.items.receive(piece(serial, category="necklace"), actor="test")
    store.ledger.clock = utc_now
    await store.items.receive_many([piece(f"P{n:03d}") for n in range(1, 6)], actor="test")
    yield store
    await store.close()


async def test_stock_held_at_cost_retail_and_metal_value_by_how_long_it_waited(client, store):
    await store.sales.complete(register_id="R1", actor="alex", lines=[{"item_id": "P001"}],
                               tenders=[{"type": "cash", "amount": 250_000}])  # not held
    await sign_in(client, "mona")
    doc = await (await client.get("/api/v1/reports/stock", params={"by": "category"})).json()
    t = doc["totals"]
    assert t["pieces"] == 6 and t["retail"] == 6 * 250_000 and t["cost"] == 6 * 125_000
    assert {k: v["pieces"] for k, v in t["ages"].items()} == {
        "0-90": 4, "91-180": 0, "181-365": 1, "365+": 1}
    assert t["ages"]["365+"]["cost"] == 125_000
    assert (t["metal_value"], t["unpriced"]) == (0, 6)  # no rate from head office yet
    assert {r["key"]: r["pieces"] for r in doc["rows"]} == {"ring": 4, "necklace": 2}

    await store.hq.apply(RATES, "sig")
    t = (await (await client.get("/api/v1/reports/stock")).json())["totals"]
    assert (t["metal_value"], t["unpriced"]) == (6 * 4_200 * 3_000 // 1_000, 0)  # 4.2 g each

    page = await (await client.get("/reports/stock?by=category")).text()
    assert 'id="chart-stock"' in page and "Over a year" in page and "Necklace" in page
    table = list(csv.reader(io.StringIO(
        await (await client.get("/api/v1/reports/stock.csv?by=category")).text())))
    assert table[0][:4] == ["Category", "Pieces", "Retail", "Metal value"]
    assert table[-1][:2] == ["All", "6"]

    await sign_in(client, "alex")  # an associate: no cost anywhere
    doc = await (await client.get("/api/v1/reports/stock")).json()
    assert "cost" not in doc["totals"] and "cost" not in doc["totals"]["ages"]["0-90"]
    r = await client.get("/api/v1/reports/stock", params={"by": "mood"})
    assert r.status == 400 and "grouped by" in await r.text()
