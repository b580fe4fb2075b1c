"""Travellers' money in real headless Chromium against the whole hub: dollars typed on the
sales floor show their euros live (the hub's figure) and go into the cart labelled with their
currency; the tax-free form is filled in from the sale; the travel screens fit the tablet
and the phone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from browser_helpers import CHROMIUM, chromium_args, needs_chromium
from test_web_layout_browser import CODE, SIZES, _measure, whole_hub

pytestmark = needs_chromium


async def _rates(store) -> None:
    now = datetime.now(UTC)
    await store.hq.apply({"id": "fx-browser", "type": "exchange_rates", "body": {"rates": [
        {"currency": c, "rate": r, "valid_from": (now - timedelta(hours=1)).isoformat(),
         "valid_until": (now + timedelta(hours=8)).isoformat()}
        for c, r in (("USD", "0.9215"), ("JPY", "0.006123"))]}}, "sig")


@pytest.mark.parametrize("size", SIZES)
async def test_dollars_on_the_floor_and_a_tax_free_form(tmp_path, size):
    from playwright.async_api import async_playwright

    width, height = SIZES[size]
    async with whole_hub(tmp_path) as (runtime, _), async_playwright() as pw:
        store = runtime.store
        await _rates(store)
        piece = await store.ledger.fetch_one(
            "SELECT item_id, tag_price FROM items WHERE status = 'in_stock' AND tag_price >"
            " 100000 ORDER BY item_id")
        her = (await store.clients.create({"first_name": "Mei", "last_name": "Chen"},
                                          "marc"))["client_id"]
        base = f"http://127.0.0.1:{runtime.web.port}"
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
        await store.carts.add("R1", item_id=piece["item_id"], by="marc")
        await store.carts.attach_client("R1", her, by="marc")

        await page.goto(base + "/floor")
        await page.click("#foreign-floor summary")
        await page.wait_for_selector("#fx-currency option[value=USD]", state="attached")
        await page.select_option("#fx-currency", "USD")
        await page.fill("#fx-amount", "100")
        await page.wait_for_function(
            "() => document.getElementById('fx-quote').textContent.includes('€89.38')")
        assert "1 USD = 0.893855 EUR" in await page.text_content("#fx-quote")
        await page.click("#fx-take")
        await page.wait_for_function(
            "() => document.getElementById('cart-tenders').textContent.includes('US$100.00')")
        assert "€89.38" in await page.text_content("#cart-tenders")
        m = await _measure(page)  # (the panel's own targets: others' are their tests')
        assert m["scroll"] <= m["width"] and not [s for s in m["small"] if s.startswith(
            "fx-")], m["small"]

        # Paid up in euros, the sale completes; its form is made from its page.
        cart = await store.carts.get("R1")
        await store.carts.add_tender("R1", {"type": "cash", "amount": cart["due"]}, by="marc")
        sale_id = await store.carts.complete("R1", actor="marc")
        assert (await store.sales.get(sale_id))["client_id"] == her
        await page.goto(base + f"/sales/{sale_id}")
        await page.click("#sale-tax-free a")
        await page.fill("#tf-document-number", "E1234567")
        await page.select_option("#tf-nationality", "CN")
        await page.select_option("#tf-residence", "HK")
        await page.fill("#tf-address", "88 Nathan Road\nKowloon")
        await page.click("#tf-submit")
        await page.wait_for_url(base + "/tax-free/TF-000001")
        assert "E1234567" in await page.text_content("main")

        problems = []
        for path in ("/exchange-rates", "/tax-free", "/tax-free/TF-000001",
                     f"/sales/{sale_id}/tax-free", f"/clients/{her}"):
            await page.goto(base + path)
            await page.wait_for_load_state("networkidle")
            m = await _measure(page)
            if m["scroll"] > m["width"]:
                problems.append(f"{size} {path}: scrolls sideways")
            if m["small"]:
                problems.append(f"{size} {path}: touch targets under 44 px: {m['small'][:5]}")
            codes = sorted({c.group(0) for c in CODE.finditer(m["text"])})
            if codes:
                problems.append(f"{size} {path}: codes on screen: {codes[:5]}")
        assert not problems, "\n".join(problems)
        assert errors == []
        await browser.close()
