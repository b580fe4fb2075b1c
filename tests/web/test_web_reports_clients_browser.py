"""The clients report in real headless Chromium at counter-tablet and phone sizes: its three
charts with their tables beneath, nothing wider than the screen, a lapsed VIP's name
leading to her page, and the CSV downloaded with figures and no name."""

from __future__ import annotations

import pytest
from browser_helpers import SHOTS, needs_chromium, signed_in
from playwright.async_api import expect
from test_web_reports_clients import store  # noqa: F401 - the book of the HTTP tests

pytestmark = needs_chromium


@pytest.mark.parametrize("size", [(1024, 768), (390, 844)], ids=["tablet", "phone"])
async def test_the_clients_report_reads_on_a_tablet_and_a_phone(runtime, store, size):  # noqa: F811
    async with signed_in(runtime, size, downloads=True) as (page, base):
        await page.goto(base + "/reports/clients")
        await expect(page.locator("#clients-lapsed")).to_have_text("1")
        for ident in ("chart-client-tiers", "chart-client-value", "chart-client-consent"):
            await expect(page.locator(f"svg#{ident}")).to_be_visible()
        assert "Clients by tier" in await page.locator(
            "svg#chart-client-tiers title").first.text_content()
        await expect(page.locator("#tiers-table tbody tr")).to_have_count(4)
        await expect(page.locator("#consent-table tbody")).to_contain_text("E-mail")
        assert await page.evaluate("document.documentElement.scrollWidth") <= size[0]
        SHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SHOTS / f"reports-clients-{size[0]}.png"),
                              full_page=True)
        async with page.expect_download() as info:
            await page.click("#clients-csv")
        text = open(await (await info.value).path(), encoding="utf-8").read()
        assert text.splitlines()[0] == "Figure,Of,Clients,Value,Share"
        assert "Béatrice" not in text and "Rose" not in text
        await page.click("#lapsed-table a")
        await page.wait_for_url(base + f"/clients/{store.test_ids['vip']}")
