"""The console in real headless Chromium: sign in and read the stores page on a phone."""

from __future__ import annotations

from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium")
@pytest.mark.parametrize("size", [(390, 844), (1024, 768)])
async def test_stores_page_fits_the_screen(chain, size: tuple[int, int]) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                           args=["--no-sandbox"])
        try:
            # HQ's CA is the chain's own: the test trusts it as a tablet enrolled would.
            page = await browser.new_page(viewport={"width": size[0], "height": size[1]},
                                          ignore_https_errors=True)
            await page.goto(chain.url + "/stores")
            await page.fill("input[name=name]", "olga")
            await page.fill("input[name=password]", "owner-secret-1")
            await page.click("button[type=submit]")
            await page.wait_for_selector("article[data-store=lyon]")
            assert "paris" in await page.inner_text("main")
            overflow = await page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0
            # Every card fits inside the viewport too.
            widest = await page.evaluate(
                "Math.max(...[...document.querySelectorAll('article, table')]"
                ".map(e => e.getBoundingClientRect().right))")
            assert widest <= size[0]
            # The other pages scroll their wide tables inside themselves, never the page.
            for path in ("/stock?q=ring", "/clients", "/sales", "/conflicts", "/messages",
                         "/transit", f"/clients/paris/{chain.client_id}"):
                await page.goto(chain.url + path)
                await page.wait_for_selector("main h1")
                overflow = await page.evaluate("document.documentElement.scrollWidth"
                                               " - document.documentElement.clientWidth")
                assert overflow <= 0, path
        finally:
            await browser.close()
