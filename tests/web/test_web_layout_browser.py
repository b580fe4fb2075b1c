"""Every screen on the counter tablet (1024×768) and the associate's phone (390×844), in
real headless Chromium against the whole hub (every layer, simulated devices): no horizontal
scroll, a header under a quarter of the screen, touch targets of 44 px or more, no developer
vocabulary on screen, and a sale completed on the phone."""

from __future__ import annotations

import contextlib
import re

import pytest
from browser_helpers import CHROMIUM, SHOTS, chromium_args, needs_chromium

pytestmark = needs_chromium

SIZES = {"tablet": (1024, 768), "phone": (390, 844)}
SHOWN = {"floor-tablet", "floor-phone", "returned-piece-tablet"}  # the README's pictures
# What a screen must never show: snake_case codes and journal kinds.
CODE = re.compile(r"\b[a-z]+_[a-z_]+\b|\b(item|sale|client|stock|staff|count|approval|hq|day)"
                  r"\.[a-z_]+\b")


@contextlib.asynccontextmanager
async def whole_hub(tmp_path):
    """The hub as `loupe demo` runs it, over a small generated store with one return."""
    from hub.config import load_config
    from hub.daemon import running
    from hub.demo import seed_demo_staff
    from hub.generate import generate
    from hub.runtime import Options
    from hub.store import Store, init_store
    from tests.devices.device_helpers import wait_until

    config = init_store(tmp_path / "store", "paris-01", "Maison Test — Paris", "EUR",
                        "Europe/Paris")
    async with await Store.open(config) as store:
        await seed_demo_staff(store)
        await generate(store, items=60, clients=8, sales=6, seed=5)
        sale = (await store.sales.recent(1))[0]
        await store.sales.return_lines(sale["sale_id"], register_id="R1", actor="marc",
                                       reason="wrong size")
    options = Options(host="127.0.0.1", port=0, insecure_http=True, zeroconf=False, demo=True)
    async with running(load_config(config.data_dir), options) as runtime:
        await wait_until(lambda: all(d["state"] == "connected"
                                     for d in runtime.devices.states()), 10)
        yield runtime, sale["sale_id"]


async def _measure(page) -> dict:
    return await page.evaluate("""() => {
      const visible = (e) => e.offsetParent !== null && getComputedStyle(e).visibility !== 'hidden';
      const small = [];
      for (const e of document.querySelectorAll(
          'button, select, input:not([type=checkbox]):not([type=radio]):not([type=hidden]),'
          + ' textarea, summary, .bar nav a, a.button')) {
        if (!visible(e)) continue;
        const r = e.getBoundingClientRect();
        if (r.height < 44) small.push((e.id || e.tagName) + ' ' + Math.round(r.height));
      }
      return {scroll: document.documentElement.scrollWidth, width: window.innerWidth,
              header: document.querySelector('header.bar').getBoundingClientRect().height,
              height: window.innerHeight, small, text: document.body.innerText};
    }""")


@pytest.mark.parametrize("size", SIZES)
async def test_every_screen_fits_the_tablet_and_the_phone(tmp_path, size):
    from playwright.async_api import async_playwright

    width, height = SIZES[size]
    async with whole_hub(tmp_path) as (runtime, sale_id), async_playwright() as pw:
        base = f"http://127.0.0.1:{runtime.web.port}"
        store = runtime.store
        piece = await store.ledger.fetch_one(
            "SELECT item_id FROM items WHERE status = 'in_stock' ORDER BY item_id")
        client_id = (await store.ledger.fetch_one(
            "SELECT client_id FROM clients WHERE status = 'active'"))["client_id"]
        returned = (await store.ledger.fetch_one(
            "SELECT item_id FROM items WHERE status = 'returned'"))["item_id"]
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

        screens = {"floor": "/floor", "stock": "/items", "piece": f"/items/{piece['item_id']}",
                   "returned-piece": f"/items/{returned}", "client": f"/clients/{client_id}",
                   "client-form": f"/clients/{client_id}/edit", "sale": f"/sales/{sale_id}",
                   "counts": "/counts", "devices": "/devices", "approvals": "/approvals",
                   "settings": "/settings", "sync": "/sync", "followups": "/followups",
                   "today": "/today", "appointments": "/appointments", "tiers": "/tiers",
                   "rising": "/tiers/rising", "books": "/clients/books?associate=sophie",
                   "duplicates": "/clients/duplicates",
                   "event-list": "/clients/lists?stone=diamond"}
        problems = []
        for name, path in screens.items():
            await page.goto(base + path)
            await page.wait_for_load_state("networkidle")
            m = await _measure(page)
            where = f"{size} {name}"
            if m["scroll"] > m["width"]:
                problems.append(f"{where}: scrolls sideways ({m['scroll']} > {m['width']} px)")
            if m["header"] >= m["height"] / 4:
                problems.append(f"{where}: header {m['header']} px of {m['height']}")
            if m["small"]:
                problems.append(f"{where}: touch targets under 44 px: {m['small'][:5]}")
            codes = sorted({c.group(0) for c in CODE.finditer(m["text"])})
            if codes:
                problems.append(f"{where}: codes on screen: {codes[:5]}")
            if f"{name}-{size}" in SHOWN:
                SHOTS.mkdir(parents=True, exist_ok=True)
                await page.screenshot(path=str(SHOTS / f"{name}-{size}.png"), full_page=True)
        assert not problems, "\n".join(problems)
        assert errors == []
        await browser.close()


async def test_a_sale_on_the_phone(tmp_path):
    from playwright.async_api import async_playwright, expect

    width, height = SIZES["phone"]
    async with whole_hub(tmp_path) as (runtime, _), async_playwright() as pw:
        base = f"http://127.0.0.1:{runtime.web.port}"
        rows = await runtime.store.ledger.fetch(
            "SELECT item_id, tag_price FROM items WHERE status = 'in_stock' ORDER BY item_id"
            " LIMIT 1")
        item_id, price = rows[0]["item_id"], rows[0]["tag_price"]
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=chromium_args())
        context = await browser.new_context(viewport={"width": width, "height": height},
                                            has_touch=True, is_mobile=True)
        page = await context.new_page()
        page.set_default_timeout(10_000)
        await page.goto(base + "/signin")
        await page.fill("#staff_id", "sophie")
        await page.fill("#pin", "1111")
        await page.tap("button[type=submit]")
        await page.wait_for_url(base + "/today")
        await page.goto(base + "/floor")
        await page.fill("#scan-input", item_id)
        await page.tap("#scan-form button")
        await page.wait_for_selector(f'#cart-lines li[data-item="{item_id}"]')
        # Take with no amount takes what is due; the phone's menu stays folded.
        await page.select_option("#tender-type", "bank_transfer")
        await page.tap("#tender-form button")
        await expect(page.locator("#cart-tenders li")).to_have_count(1)
        await page.tap("#complete-button")
        await page.wait_for_selector("#receipt-pane:not([hidden])")
        receipt = await page.text_content("#receipt")
        assert runtime.store.words.money(price, "EUR").replace("\u00a0", " ") in \
            receipt.replace("\u00a0", " ")
        assert await page.evaluate(
            "document.documentElement.scrollWidth <= window.innerWidth")
        assert (await runtime.store.items.get(item_id))["status"] == "sold"
        SHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SHOTS / "sale-phone.png"), full_page=True)
        await browser.close()
