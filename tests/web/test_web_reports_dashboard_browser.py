"""The dashboard in real headless Chromium at counter-tablet and phone sizes: a manager
reads the month, sets its target by typing an amount as she would say it, and sees the
share reached; every pane fits the screen; a typo is said beside the field."""

from __future__ import annotations

import pytest
from browser_helpers import needs_chromium, signed_in
from playwright.async_api import expect

pytestmark = needs_chromium


@pytest.mark.parametrize("size", [(1024, 768), (390, 844)], ids=["tablet", "phone"])
async def test_a_manager_reads_the_month_and_sets_its_target(runtime, store, size):
    for serial in ("P001", "P002"):
        await store.sales.complete(register_id="R1", actor="mona", lines=[{"item_id": serial}],
                                   tenders=[{"type": "cash", "amount": 250_000}])
    async with signed_in(runtime, size) as (page, base):
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
