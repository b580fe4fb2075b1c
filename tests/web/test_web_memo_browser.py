"""The memo screens in real headless Chromium on the whole hub, at the counter tablet's and
the phone's sizes: no sideways scroll, touch targets of 44 px or more, no codes on screen,
no script error; and a vendor added through its form."""

from __future__ import annotations

import pytest
from browser_helpers import CHROMIUM, chromium_args, needs_chromium
from test_web_layout_browser import CODE, SIZES, _measure, whole_hub

pytestmark = needs_chromium


@pytest.mark.parametrize("size", SIZES)
async def test_memo_screens_fit_and_speak_words(tmp_path, size):
    from playwright.async_api import async_playwright

    width, height = SIZES[size]
    async with whole_hub(tmp_path) as (runtime, _), async_playwright() as pw:
        memo, store = runtime.memo, runtime.store
        vendor = (await memo.add_vendor({"name": "Atelier Vendôme", "terms_days": 60},
                                        actor="marc"))["vendor_id"]
        await memo.receive({"vendor_id": vendor, "memo_ref": "AV-1", "pieces": [
            {"item_id": "MEMO-1", "sku": "MEMO-1", "description": "Sapphire ring",
             "category": "ring", "cost": 900_000, "tag_price": 2_000_000}]}, actor="marc")
        client_id = (await store.ledger.fetch_one(
            "SELECT client_id FROM clients WHERE status = 'active'"))["client_id"]
        piece = await store.ledger.fetch_one(
            "SELECT item_id FROM items WHERE status = 'in_stock' AND ownership = 'owned'"
            " ORDER BY item_id")
        await memo.send_out({"item_id": piece["item_id"], "client_id": client_id,
                             "due": memo.today().isoformat()}, actor="marc")
        await memo.consign({"client_id": client_id, "commission_bp": 2_500, "minimum": 500_000,
                            "term_days": 90, "piece": {
                                "item_id": "CONS-1", "sku": "CONS-1", "category": "watch",
                                "description": "Steel watch", "tag_price": 700_000}},
                           actor="marc")
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
        problems = []
        for path in ("/memo", "/memo/receive", f"/memo/vendors/{vendor}", "/memo/aging",
                     "/memo/approvals", "/memo/consignments", f"/clients/{client_id}"):
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
        await page.goto(base + "/memo/receive")
        await page.fill("#vendor-name", "Maison Rivière")
        await page.click("#memo-vendor-form button[type=submit]")
        await page.wait_for_function(
            "() => [...document.querySelectorAll('#memo-vendor option')]"
            ".some(o => o.textContent.includes('Rivière'))")
        assert errors == []
        await browser.close()
