"""The stock report over HTTP: pieces held at retail, at HQ's metal rates and at cost, by how
long they have waited since they came in; cost only for a role that may see it; an unknown
grouping refused in a sentence."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from browser_helpers import needs_chromium, signed_in
from playwright.async_api import expect
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


async def test_each_age_shows_its_retail_and_metal_value_and_the_slow_movers_link_their_piece(
        client, store):
    await store.hq.apply(RATES, "sig")
    await sign_in(client, "mona")
    doc = await (await client.get("/api/v1/reports/stock")).json()
    oldest = doc["totals"]["ages"]["365+"]
    assert oldest == {"pieces": 1, "retail": 250_000, "cost": 125_000,
                      "metal_value": 4_200 * 3_000 // 1_000}
    assert [p["item_id"] for p in doc["slow_movers"]][:2] == ["OLD-1", "OLD-2"]
    assert doc["slow_movers"][0]["days"] == 400 and doc["slow_movers"][0]["cost"] == 125_000
    page = await (await client.get("/reports/stock")).text()
    assert 'id="slow-table"' in page and 'href="/items/OLD-1"' in page
    assert 'id="stock-ages"' in page and 'id="chart-turnover"' in page

    await sign_in(client, "alex")
    doc = await (await client.get("/api/v1/reports/stock")).json()
    assert "cost" not in doc["slow_movers"][0] and "cost" not in doc["totals"]["ages"]["365+"]


async def test_turnover_and_sell_through_over_a_range_cost_only_for_a_manager(client, store):
    for serial in ("P001", "OLD-1"):
        await store.sales.complete(register_id="R1", actor="alex", lines=[{"item_id": serial}],
                                   tenders=[{"type": "cash", "amount": 250_000}])
    await sign_in(client, "mona")
    doc = await (await client.get("/api/v1/reports/turnover")).json()
    assert doc["basis"] == "cost"
    rows = {r["key"]: r for r in doc["rows"]}
    # Rings: one sold, four held; necklaces: one sold, one held.
    assert (rows["ring"]["sold"], rows["ring"]["held"], rows["ring"]["sell_through_bp"]) == (
        1, 4, 2_000)
    assert rows["ring"]["turnover_bp"] == 125_000 * 10_000 // (4 * 125_000)
    assert (rows["necklace"]["sold"], rows["necklace"]["held"]) == (1, 1)
    assert doc["totals"]["sold"] == 2 and doc["totals"]["held"] == 5
    by_designer = await (await client.get("/api/v1/reports/turnover",
                                          params={"by": "designer"})).json()
    assert {r["key"]: r["sold"] for r in by_designer["rows"]} == {"Maison": 2}
    table = list(csv.reader(io.StringIO(
        await (await client.get("/api/v1/reports/turnover.csv")).text())))
    assert table[0] == ["Category", "Units sold", "Pieces held", "Cost sold", "Cost held",
                        "Sell-through", "Turnover"]
    assert table[-1][:3] == ["All", "2", "5"]
    page = await (await client.get("/reports/stock")).text()
    assert 'id="turnover-table"' in page and "divided by the cost of the stock" in page

    await sign_in(client, "alex")  # an associate: retail-based, no cost
    doc = await (await client.get("/api/v1/reports/turnover")).json()
    assert doc["basis"] == "retail"
    assert all("sold_cost" not in r and "held_cost" not in r for r in [*doc["rows"],
                                                                        doc["totals"]])
    rows = {r["key"]: r for r in doc["rows"]}
    assert rows["ring"]["turnover_bp"] == 250_000 * 10_000 // (4 * 250_000)
    table = list(csv.reader(io.StringIO(
        await (await client.get("/api/v1/reports/turnover.csv")).text())))
    assert "Cost sold" not in table[0] and "Net sales" in table[0]
    page = await (await client.get("/reports/stock")).text()
    assert "divided by the stock held now at retail" in page and "Cost held" not in page


async def test_a_reversed_or_absurd_turnover_range_is_refused_in_a_sentence(client, store):
    await sign_in(client, "mona")
    for params, words in (({"from": "2026-12-10", "to": "2026-12-01"}, "ends before it begins"),
                          ({"from": "2010-01-01", "to": "2026-12-01"}, "at most"),
                          ({"from": "soon"}, "is not a date"),
                          ({"by": "location"}, "grouped by")):
        r = await client.get("/api/v1/reports/turnover", params=params)
        assert r.status == 400 and words in await r.text()
    r = await client.get("/reports/stock", params={"from": "2026-12-10", "to": "2026-12-01"})
    assert r.status == 200 and "ends before it begins" in await r.text()
    assert 'id="turnover-table"' in await r.text()  # the last year shown, the problem said


@needs_chromium
@pytest.mark.parametrize("size", [(1024, 768), (390, 844)], ids=["tablet", "phone"])
async def test_the_stock_report_reads_on_a_tablet_and_a_phone(runtime, store, size):
    await store.sales.complete(register_id="R1", actor="mona", lines=[{"item_id": "P001"}],
                               tenders=[{"type": "cash", "amount": 250_000}])
    async with signed_in(runtime, size, downloads=True) as (page, base):
        await page.goto(base + "/reports/stock")
        await expect(page.locator("#stock-pieces")).to_have_text("6")
        await expect(page.locator("svg#chart-turnover")).to_be_visible()
        await page.select_option("select[name=turnover_by]", "designer")
        await page.click("#turnover-filters button[type=submit]")
        await expect(page.locator("#turnover-table tbody")).to_contain_text("Maison")
        await expect(page.locator("#slow-table tbody tr")).to_have_count(6)
        assert await page.evaluate("document.documentElement.scrollWidth") <= size[0]
        async with page.expect_download() as info:
            await page.click("#turnover-csv")
        text = open(await (await info.value).path(), encoding="utf-8").read()
        assert text.splitlines()[0].startswith("Designer,Units sold,Pieces held")
        await page.click("#slow-table tbody tr:first-child a")
        await page.wait_for_url("**/items/OLD-1")
