"""The dashboard in real headless Chromium at counter-tablet and phone sizes: a manager
reads the month, sets its target by typing an amount as she would say it, and sees the
share reached; every pane fits the screen; a typo is said beside the field."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestServer
from browser_helpers import CHROMIUM, chromium_args, needs_chromium
from playwright.async_api import async_playwright, expect
from web_helpers import PINS

from hub.web.app import create_app

pytestmark = needs_chromium


@pytest.mark.parametrize("size", [(1024, 768), (390, 844)], ids=["tablet", "phone"])
async def test_a_manager_reads_the_month_and_sets_its_target(runtime, store, size):
    for serial in ("P001", "P002"):
        await store.sales.complete(register_id="R1", actor="mona", lines=[{"item_id": serial}],
                                   tenders=[{"type": "cash", "amount": 250_000}])
    server = TestServer(create_app(runtime), host="127.0.0.1")
    await server.start_server()
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=chromium_args())
            context = await browser.new_context(viewport={"width": size[0], "height": size[1]},
                                                has_touch=True)
            page = await context.new_page()
            page.set_default_timeout(10_000)
            base = str(server.make_url("")).rstrip("/")
            await page.goto(base + "/signin")
            await page.fill("#staff_id", "mona")
            await page.fill("#pin", PINS["mona"])
            await page.click("button[type=submit]")
            await page.wait_for_url(base + "/today")
            await page.goto(base + "/reports")
            await expect(page.locator("#dash-month-net")).to_have_text("€5,000.00")
            await expect(page.locator("svg#chart-month")).to_be_visible()
            await expect(page.locator("#dash-associate")).to_contain_text("Mona Manager")
            await page.fill("#target-form input[name=amount]", "a lot")
            await page.click("#target-form button[type=submit]")
            await expect(page.locator("#target-form [role=alert]")).to_contain_text(
                "Type an amount such as")
            await page.fill("#target-form input[name=amount]", "20,000")
            await page.click("#target-form button[type=submit]")
            await expect(page.locator("#dash-target")).to_contain_text(
                "25% of the target of €20,000.00")
            assert await page.evaluate("document.documentElement.scrollWidth") <= size[0]
            await browser.close()
    finally:
        await server.close()
