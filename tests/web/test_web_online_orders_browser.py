"""An online order to ship, on the sync screen in real headless Chromium at counter-tablet
and phone sizes: where it goes is shown, the wrong piece scanned is refused in words, the
right one ships it (sold, paid online) and it leaves the list."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestServer
from browser_helpers import CHROMIUM, chromium_args, needs_chromium
from playwright.async_api import expect
from web_helpers import PINS

from hub.web.app import create_app

pytestmark = needs_chromium

ADDRESS = {"name": "Camille Roux", "line1": "14 rue des Remparts", "postcode": "69005",
           "city": "Lyon", "country": "FR"}


async def _order(store, order_id: str, item_id: str) -> None:
    """HQ's message as the sync layer hands it over, its address opened from the seal."""
    doc = {"id": f"m-{order_id}", "type": "online_order", "chain": "maison",
           "store": store.config.store_id, "issued_at": "2026-12-03T09:00:00Z",
           "body": {"order_id": order_id, "item_id": item_id, "client_id": "WEB-7",
                    "paid": 240_000, "currency": "EUR", "ship_by": "2026-12-06T18:00:00Z",
                    "sealed_ship_to": "00"}}
    await store.hq.apply(doc, "signature-checked-by-the-sync-layer", profile=ADDRESS)


@pytest.mark.parametrize("size", [(1024, 768), (390, 844)], ids=["tablet", "phone"])
async def test_an_online_order_is_packed_and_shipped_from_the_sync_screen(runtime, store,
                                                                          size):
    await _order(store, "WO-77", "P002")
    server = TestServer(create_app(runtime), host="127.0.0.1")
    await server.start_server()
    from playwright.async_api import async_playwright

    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=chromium_args())
            context = await browser.new_context(viewport={"width": size[0],
                                                          "height": size[1]},
                                                has_touch=True)
            page = await context.new_page()
            page.set_default_timeout(10_000)
            base = str(server.make_url("")).rstrip("/")
            await page.goto(base + "/signin")
            await page.fill("#staff_id", "alex")  # an associate ships orders
            await page.fill("#pin", PINS["alex"])
            await page.click("button[type=submit]")
            await page.wait_for_url(base + "/today")
            await page.goto(base + "/sync")
            order = page.locator("#sync-orders form.order")
            await expect(order).to_have_count(1)
            await expect(order.locator("address")).to_contain_text("14 rue des Remparts")
            await expect(order).to_contain_text("Online order WO-77")
            await expect(order).to_contain_text("€2,400.00")
            # Nothing wider than the screen.
            assert await page.evaluate("document.documentElement.scrollWidth") <= size[0]

            await order.locator("input[name=scanned]").fill("P003")
            await order.locator("input[name=carrier]").fill("Colissimo")
            await order.locator("input[name=tracking]").fill("6A12345678")
            await order.locator("button[type=submit]").click()
            await expect(order.locator("[data-f=problem]")).to_contain_text(
                "not the piece ordered")
            assert (await store.items.get("P002"))["status"] == "reserved"

            await order.locator("input[name=scanned]").fill("P002")
            await order.locator("button[type=submit]").click()
            await expect(page.locator("#sync-orders form.order")).to_have_count(0)
            await expect(page.locator("#sync-orders-none")).to_be_visible()
            await browser.close()
    finally:
        await server.close()
    assert (await store.items.get("P002"))["status"] == "sold"
    [shipped] = await store.hq.orders("shipped")
    assert (shipped["carrier"], shipped["tracking"]) == ("Colissimo", "6A12345678")
