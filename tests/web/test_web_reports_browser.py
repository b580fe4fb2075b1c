"""The sales report in real headless Chromium at counter-tablet and phone sizes: the chart
with its title, its table beneath, nothing wider than the screen, the CSV downloaded, and a
row's entries opened from its link, adding up to the row."""

from __future__ import annotations

import pytest
from browser_helpers import needs_chromium, signed_in
from playwright.async_api import expect

pytestmark = needs_chromium


@pytest.mark.parametrize("size", [(1024, 768), (390, 844)], ids=["tablet", "phone"])
async def test_the_sales_report_reads_on_a_tablet_and_a_phone(runtime, store, size):
    for serial in ("P001", "P002"):
        await store.sales.complete(register_id="R1", actor="mona", lines=[{"item_id": serial}],
                                   tenders=[{"type": "cash", "amount": 250_000}])
    async with signed_in(runtime, size, downloads=True) as (page, base):
        await page.goto(base + "/reports/sales")
        await page.select_option("select[name=by]", "category")
        await page.click("#report-filters button[type=submit]")
        await expect(page.locator("#report-net")).to_have_text("€5,000.00")
        chart = page.locator("svg#chart-sales")
        await expect(chart).to_be_visible()
        assert "Net sales by category" in await chart.locator("title").first.text_content()
        await expect(page.locator("#report-table tbody tr")).to_have_count(1)
        await expect(page.locator("#report-table tbody")).to_contain_text("Ring")
        assert await page.evaluate("document.documentElement.scrollWidth") <= size[0]
        async with page.expect_download() as info:
            await page.click("#report-csv")
        download = await info.value
        text = open(await download.path(), encoding="utf-8").read()
        assert text.splitlines()[0].startswith("Category,Sales,Units")
        assert text.splitlines()[-1].startswith("All,2,2")
        await page.click("#report-table tbody a.show-entries")
        await page.wait_for_url("**/reports/entries?**")
        await expect(page.locator("#entries-table tbody tr")).to_have_count(2)
        await expect(page.locator("#entries-sum")).to_have_text("€5,000.00")
        await expect(page.locator("#entries-figure")).to_have_text("€5,000.00")
        await expect(page.locator("#entries-row")).to_have_text("Ring")
        assert await page.evaluate("document.documentElement.scrollWidth") <= size[0]
