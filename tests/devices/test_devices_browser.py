"""The devices panel in real headless Chromium against the whole demo hub: live states, a
simulated scan typed in the panel reaching the register's cart, and the printed receipt."""

from __future__ import annotations

import shutil

import pytest
from device_helpers import demo_hub

pytest.importorskip("playwright", reason="Playwright is not installed (scripts/test installs it)")
CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(shutil.which(CHROMIUM) is None,
                                reason="Debian's chromium is not installed")


async def test_devices_panel_scan_and_receipt(tmp_path):
    from playwright.async_api import async_playwright

    async with demo_hub(tmp_path) as runtime, async_playwright() as pw:
        base = f"http://127.0.0.1:{runtime.web.port}"
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--no-first-run"])
        page = await browser.new_page()
        page.set_default_timeout(10_000)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await page.goto(base + "/signin")
        await page.fill("#staff_id", "sophie")
        await page.fill("#pin", "1111")
        await page.click("button[type=submit]")
        await page.wait_for_url(base + "/today")

        await page.goto(base + "/devices")
        row = page.locator('tr[data-device="printer-r1"]')
        assert "connected" in (await row.inner_text()).lower()
        await page.fill('#demo-scan input[name="code"]', "RG-0042")
        await page.click('#demo-scan button[type="submit"]')
        async def in_cart() -> bool:
            cart = await runtime.store.carts.get("R1")
            return any(line["item_id"] == "RG-0042" for line in cart["lines"])

        for _ in range(200):
            if await in_cart():
                break
            await page.wait_for_timeout(25)
        assert await in_cart()

        await runtime.store.sales.complete(
            register_id="R1", actor="sophie", lines=[{"item_id": "RG-0042"}],
            tenders=[{"type": "cash", "amount": 1250000}])
        receipt = page.locator("pre.receipt-text")
        await receipt.wait_for()  # the panel refreshes itself
        assert "2141438167" in await receipt.inner_text()
        assert errors == []
        await browser.close()
