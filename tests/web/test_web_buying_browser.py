"""Buying gold's screens in real headless Chromium against the whole hub: each fits the
counter tablet and the phone (no sideways scroll, 44 px targets, no codes on screen), and a
purchase made through the form lands on its page."""

from __future__ import annotations

import contextlib
from datetime import datetime, time

import pytest
from browser_helpers import CHROMIUM, chromium_args, needs_chromium
from test_web_layout_browser import CODE, SIZES, _measure

pytestmark = needs_chromium


@contextlib.asynccontextmanager
async def buying_hub(tmp_path):
    from hub.buying.demo import demo_buying
    from hub.config import load_config
    from hub.daemon import running
    from hub.demo import seed_demo_staff
    from hub.prices_demo import demo_prices
    from hub.runtime import Options
    from hub.store import Store, init_store

    config = init_store(tmp_path / "store", "paris-01", "Maison Test", "EUR", "Europe/Paris")
    async with await Store.open(config) as store:
        await seed_demo_staff(store)
        await demo_prices(store)
        await demo_buying(store, "sophie", "marc")
    options = Options(host="127.0.0.1", port=0, insecure_http=True, zeroconf=False)
    async with running(load_config(config.data_dir), options) as runtime:
        yield runtime


@pytest.mark.parametrize("size", SIZES)
async def test_buying_screens_fit_and_a_purchase_goes_through(tmp_path, size):
    from playwright.async_api import async_playwright

    width, height = SIZES[size]
    async with buying_hub(tmp_path) as runtime, async_playwright() as pw:
        base = f"http://127.0.0.1:{runtime.web.port}"
        buying = runtime.buying
        held = await buying.held()
        seller = (await buying.get(held[-1]["buyin_id"]))["client_id"]
        # The demo's rates hold from 8:00 to 20:00: the screens price at 15:00 today.
        today = buying.today()
        buying.now = lambda: datetime.combine(today, time(15), buying.words.tz)
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=chromium_args())
        context = await browser.new_context(viewport={"width": width, "height": height},
                                            has_touch=True, is_mobile=size == "phone")
        page = await context.new_page()
        page.set_default_timeout(10_000)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await page.goto(base + "/signin")
        await page.fill("#staff_id", "marc")
        await page.fill("#pin", "2222")
        await page.click("button[type=submit]")
        await page.wait_for_url(base + "/today")
        problems = []
        for path in ("/buying", f"/buying?client_id={seller}", "/buying/holds",
                     "/buying/report", f"/buying/{held[0]['buyin_id']}", f"/clients/{seller}"):
            await page.goto(base + path)
            await page.wait_for_load_state("networkidle")
            m = await _measure(page)
            if m["scroll"] > m["width"]:
                problems.append(f"{size} {path}: scrolls sideways ({m['scroll']} px)")
            if m["small"]:
                problems.append(f"{size} {path}: targets under 44 px: {m['small'][:5]}")
            codes = sorted({c.group(0) for c in CODE.finditer(m["text"])})
            if codes:
                problems.append(f"{size} {path}: codes on screen: {codes[:5]}")
        assert not problems, "\n".join(problems)
        await page.goto(base + f"/buying?client_id={seller}")
        await page.fill(".lot-description", "Odd earring")
        await page.select_option(".lot-metal", "gold")
        await page.fill(".lot-fineness", "750")
        await page.fill(".lot-weight", "2.5")
        await page.select_option("#buy-payout", "store_credit")
        await page.click("#buy-quote")
        await page.wait_for_selector("#buy-computed:has-text('Computed price'), #buy-error:not(:empty)")
        assert await page.inner_text("#buy-error") == ""
        await page.click("#buy-submit")
        await page.wait_for_url(base + "/buying/B*")
        assert "Store credit" in await page.inner_text("#buyin-summary")
        assert errors == []
        await browser.close()
