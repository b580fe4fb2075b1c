"""HQ's roll-up of the stores' sales, store by store. For any sequence of sales (some with
a gift card on them, some discounted), returns and voids, HQ's rows from the store's journal
equal the store's own running totals hour by hour. On both HQ storages: Paris and Lyon
sell (one sale with a discount, one return, one void) and their journals reach HQ over a
real Mosquitto; HQ's figures per store equal each store's own `/api/v1/reports/sales`
totals for the same days, a rebuild from HQ's copy of the journal gives the same rows, the
console's Reports page shows both stores (chart, table, stock at retail, CSV), and a
reversed range is refused with a sentence. Nothing is mocked."""

from __future__ import annotations

import asyncio
import csv
import io
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from playwright.async_api import async_playwright
from sync_helpers import PIECE, until

from hub.core.errors import Invalid, Refused
from hub.core.sales import validate_lines
from hub.giftcards.cards import GiftCardSettings
from hub.giftcards.part import giftcards_of
from hub.hq import reports
from hub.hq.console import reports_web
from hub.hq.console.app import Console, create_app, serve, server_context
from hub.hq.parts import HQ_PARTS
from hub.layers import LAYERS
from hub.runtime import Options, Runtime
from hub.store import Store, init_store
from hub.sync.hqstore import SqliteHQStorage
from hub.web.app import create_app as create_store_app
from hub.words import words_for

EN = words_for("en-GB")
CHROMIUM = Path("/usr/bin/chromium")
FIGURES = ("sales", "units", "discounts", "net", "refunds", "attached", "average_basket",
           "attachment_bp")
PIN = "135790"


@pytest.fixture
async def console_url(chain):
    """The console with its reports mounted, on the chain's receiver (same storage thread,
    same CA), in the stores' time zone (UTC)."""
    console = Console.of_receiver(chain.hq.receiver, words_for("en-GB", "UTC"))
    web = await serve(create_app(console, [reports_web.setup]), "127.0.0.1", 0,
                      server_context(chain.keys, ("127.0.0.1", "localhost")))
    yield f"https://127.0.0.1:{web.addresses[0][1]}"
    await web.cleanup()


@pytest.fixture
async def store_api(chain):
    """Each store's own web app, a manager signed in: store id -> its test client."""
    clients = {}
    for store_id, hub in chain.hubs.items():
        store = hub.store
        await store.staff.enroll("mona", "Mona Manager", "manager", PIN, actor="admin")
        runtime = Runtime(store.config, store, store.bus,
                          Options(host="127.0.0.1", port=0, insecure_http=True,
                                  zeroconf=False), LAYERS)
        client = TestClient(TestServer(create_store_app(runtime)))
        await client.start_server()
        r = await client.post("/api/v1/session", json={"staff_id": "mona", "pin": PIN,
                                                       "register_id": "R1"})
        assert r.status == 200, await r.text()
        clients[store_id] = client
    yield clients
    for client in clients.values():
        await client.close()


async def _trade(chain) -> None:
    """Paris: the fixture's sale of paris-0, paris-1 with a discount (paid in cash, change
    given), paris-2 sold then returned. Lyon: lyon-0 sold, lyon-1 sold then voided."""
    paris, lyon = chain.hubs["paris"], chain.hubs["lyon"]
    await paris.store.sales.complete(register_id="R1", actor="admin",
                                     lines=[{"item_id": "paris-1"}], discount=12_500,
                                     tenders=[{"type": "cash", "amount": 250_000}])
    back = await paris.sell("paris-2")
    await paris.store.sales.return_lines(back["sale_id"], register_id="R1", actor="admin",
                                         reason="did not suit her")
    await lyon.sell("lyon-0")
    void = await lyon.sell("lyon-1")
    await lyon.store.sales.void(void["sale_id"], register_id="R1", actor="admin",
                                reason="rung up twice")
    await chain.settled()


async def _hq_api(b, path: str) -> tuple[int, dict]:
    async with b.session.get(b.url + path) as r:
        return r.status, await r.json()


def _range() -> str:
    # A day either side of today: a sale made just before midnight counts in both books.
    today = datetime.now(UTC).date()
    return f"from={today - timedelta(days=1)}&to={today + timedelta(days=1)}"


@pytest.mark.parametrize("chain", ["sqlite", "postgresql"], indirect=True)
async def test_the_roll_up_per_store_equals_each_stores_own_report(
        chain, console_url, store_api, browser) -> None:
    await _trade(chain)
    b = browser()
    b.url = console_url
    await b.sign_in("aude")  # an auditor reads the chain's figures
    for by in ("day", "month"):
        query = f"{_range()}&by={by}"
        wanted = {}
        for store_id, client in store_api.items():
            r = await client.get(f"/api/v1/reports/sales?{query}")
            assert r.status == 200, await r.text()
            wanted[store_id] = {f: (await r.json())["totals"][f] for f in FIGURES}

        async def caught_up(query: str = query, wanted: dict = wanted) -> bool:
            _, doc = await _hq_api(b, f"/api/v1/reports/sales?{query}")
            return {s["store_id"]: {f: s["totals"][f] for f in FIGURES}
                    for s in doc["stores"]} == wanted

        await until(caught_up, f"HQ's figures by {by} equal the stores' own")
    assert wanted["paris"]["sales"] == 3 and wanted["paris"]["discounts"] == 12_500
    assert wanted["paris"]["refunds"] == 250_000 and wanted["lyon"]["net"] == 250_000

    # Rebuilt from HQ's copy of the journal: exactly the same rows.
    rows = "SELECT * FROM chain_sales ORDER BY store_id, hour, currency"
    before = await chain.call(chain.hq.hq.storage.query, rows)
    assert await chain.call(reports.rebuild, chain.hq.hq) == 7  # 5 sales, 1 return, 1 void
    assert await chain.call(chain.hq.hq.storage.query, rows) == before


async def test_the_reports_page_shows_both_stores_and_refuses_a_reversed_range(
        chain, console_url, browser) -> None:
    await _trade(chain)
    b = browser()
    b.url = console_url
    await b.sign_in("marc")
    await until(lambda: _net_at_hq(b), "the stores' sales at HQ")
    status, page = await b.get(f"/reports?{_range()}&by=day&figure=net")
    assert status == 200
    assert page.count('<svg class="chart"') == 1 and "Net sales by store" in page
    table = page.split('id="chain-table"', 1)[1].split("</table>", 1)[0]
    paris = table.split('data-store="paris"', 1)[1].split("</tr>", 1)[0]
    lyon = table.split('data-store="lyon"', 1)[1].split("</tr>", 1)[0]
    # Paris: 250,000 + 237,500 sold, 250,000 of it returned; Lyon: one kept of two.
    assert EN.money(487_500, "EUR") in paris and EN.money(250_000, "EUR") in lyon
    glance = page.split('id="chain-glance"', 1)[1].split("</table>", 1)[0]
    assert 'data-store="paris"' in glance and 'data-store="lyon"' in glance
    stock = page.split('id="chain-stock"', 1)[1].split("</table>", 1)[0]
    # Three pieces each: Paris sold two and has one back from a return; Lyon sold one.
    assert EN.money(250_000, "EUR") in stock.split('data-store="paris"')[1].split("</tr>")[0]
    assert EN.money(500_000, "EUR") in stock.split('data-store="lyon"')[1].split("</tr>")[0]
    assert "_" not in table.split("</thead>", 1)[0]  # no code for a heading

    async with b.session.get(f"{b.url}/reports/sales.csv?{_range()}&by=month") as r:
        assert r.status == 200 and r.content_type == "text/csv"
        sheet = list(csv.reader(io.StringIO(await r.text())))
    assert sheet[0][:2] == ["Store", "Month"]
    assert {row[0] for row in sheet[1:]} == {"paris", "lyon"}

    status, page = await b.get("/reports?from=2026-12-10&to=2026-12-01")
    assert status == 200 and "ends before it begins" in page and 'id="chain-problem"' in page
    status, doc = await _hq_api(b, "/api/v1/reports/sales?from=2026-12-10&to=2026-12-01")
    assert status == 400 and "ends before it begins" in doc["error"]
    status, doc = await _hq_api(b, "/api/v1/reports/sales?from=2000-01-01&to=2026-12-01")
    assert status == 400 and "at most" in doc["error"]
    status, doc = await _hq_api(b, "/api/v1/reports/sales?from=1990-01-01&to=2026-12-01")
    assert status == 400 and "covers days from 2000-01-01" in doc["error"]
    status, page = await b.get("/reports?by=hour&figure=margin")
    assert status == 200 and "2 fields need attention" in page
    anyone = browser()  # not signed in: the sign-in page, no figure
    anyone.url = console_url
    status, page = await anyone.get("/reports")
    assert status == 200 and 'name="pre"' in page and "chain-table" not in page


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium")
async def test_the_reports_page_fits_a_tablet_and_a_phone(chain, console_url, browser,
                                                          tmp_path) -> None:
    await _trade(chain)
    b = browser()
    b.url = console_url
    await b.sign_in("olga")
    await until(lambda: _net_at_hq(b), "the stores' sales at HQ")
    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                            args=["--no-sandbox"])
        try:
            page = await chromium.new_page(viewport={"width": 1024, "height": 768},
                                           ignore_https_errors=True)
            await page.goto(console_url + "/reports")
            await page.fill("input[name=name]", "olga")
            await page.fill("input[name=password]", "owner-secret-1")
            await page.click("button[type=submit]")
            await page.goto(f"{console_url}/reports?{_range()}&by=day&figure=units")
            for width, height in ((1024, 768), (390, 844)):
                await page.set_viewport_size({"width": width, "height": height})
                await page.wait_for_selector("#chain-table tr[data-store=lyon]")
                assert await page.locator("svg.chart rect").count() == 2  # a bar a store
                overflow = await page.evaluate("document.documentElement.scrollWidth"
                                               " - document.documentElement.clientWidth")
                assert overflow <= 0, (width, height)
                await page.screenshot(path=str(tmp_path / f"reports-{width}.png"),
                                      full_page=True)
        finally:
            await chromium.close()


async def _net_at_hq(b) -> bool:
    _, doc = await _hq_api(b, f"/api/v1/reports/sales?{_range()}")
    return {s["store_id"]: s["totals"]["sales"] for s in doc["stores"]} == {"paris": 3,
                                                                           "lyon": 2}


# -- the store's rules, hour by hour, for any sequence ---------------------------------------

SALE = st.tuples(st.just("sale"), st.integers(1, 2), st.integers(0, 3), st.booleans())
RETURN = st.tuples(st.just("return"), st.integers(0, 20), st.integers(0, 2), st.just(False))
VOID = st.tuples(st.just("void"), st.integers(0, 20), st.just(0), st.just(False))
OPS = st.lists(st.one_of(SALE, SALE, RETURN, VOID), min_size=1, max_size=10)
CARDS = GiftCardSettings(min_amount=1_000, max_amount=500_000, offline_limit=20_000)


async def _trade_any(store: Store, cards, ops: list) -> None:
    free = [f"P-{i}" for i in range(24)]
    sales: list[str] = []
    for op, a, b, card in ops:
        try:
            if op == "sale" and len(free) >= a:
                lines = [{"item_id": free.pop()} for _ in range(a)]
                if card:  # money held, not a sale: out of units and net
                    lines.append({"service": f"giftcard:{cards.new_code()}",
                                  "unit_price": 15_000})
                priced = await store.ledger.read(
                    lambda tx, li=lines, off=b * 1_000: store.sales.price_in(
                        tx, validate_lines(li), off, None))
                made = await store.sales.complete(
                    register_id="R1", actor="admin", lines=lines, discount=b * 1_000,
                    tenders=[{"type": "cash", "amount": priced["total"]}])
                sales.append(made["sale_id"])
            elif op == "return" and sales:
                sale = await store.sales.get(sales[a % len(sales)])
                open_ = [li for li in sale["lines"] if li["returned_qty"] < li["quantity"]]
                if open_:
                    await store.sales.return_lines(
                        sale["sale_id"], register_id="R1", actor="admin", reason="changed",
                        lines=[{"line_no": open_[b % len(open_)]["line_no"]}])
            elif op == "void" and sales:
                await store.sales.void(sales[a % len(sales)], register_id="R1",
                                       actor="admin", reason="mistake")
        except Refused:
            pass  # a card line given back, a sale already returned or voided: nothing


async def _hour_by_hour(ops: list, root: Path) -> None:
    store = await Store.open(init_store(root / "s", "paris", "Maison", "EUR"))
    hq = SqliteHQStorage(root / "hq.db", HQ_PARTS)
    try:
        await store.items.receive_many(
            [{**PIECE, "item_id": f"P-{i}", "tag_price": 100_000 + 7_919 * i}
             for i in range(24)], actor="admin")
        with giftcards_of(store, CARDS) as cards:
            await _trade_any(store, cards, ops)
        with hq.transaction() as db:  # what HQ does with each entry it stores
            for entry in await store.ledger.entries(0, 1_000_000):
                if entry.kind in reports.KINDS:
                    for fact in reports.project("paris", entry, store.ledger.decrypt(entry)):
                        reports.FACTS[fact.what](db, "paris", fact.data)
        mine = [(r["hour"], *(r[f] for f in reports.FIGURES)) for r in await store.ledger.fetch(
            "SELECT * FROM report_sales WHERE dimension = 'store' ORDER BY hour")]
        chain = [(r["hour"], *(r[f] for f in reports.FIGURES)) for r in hq.query(
            "SELECT * FROM chain_sales WHERE store_id = 'paris' ORDER BY hour")]
        assert chain == mine
    finally:
        hq.close()
        await store.close()


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(OPS)
def test_for_any_sales_returns_and_voids_hqs_hours_are_the_stores(ops):
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(_hour_by_hour(ops, Path(tmp)))


@pytest.mark.parametrize("query, field", [
    ({"from": "2026-12-10", "to": "2026-12-01"}, "from"),
    ({"from": "2020-01-01", "to": "2026-12-01"}, "to"),
    ({"from": "yesterday"}, "from"),
    ({"by": "associate"}, "by"),
    ({"figure": "margin"}, "figure")])
def test_a_range_reversed_or_absurd_or_an_unknown_figure_is_refused(query, field):
    with pytest.raises(Invalid) as refused:
        reports.ask(query, datetime(2026, 12, 3).date())
    assert field in {p.field for p in refused.value.problems}
