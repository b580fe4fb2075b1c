"""The staff UI in real headless Chromium: a sale with two tenders, a manager approval, and
an XSS probe. Saves screenshots of the main screens into docs/screenshots/."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestServer
from browser_helpers import CHROMIUM, SHOTS, chromium_args, needs_chromium
from playwright.async_api import expect
from web_helpers import PINS

from hub.web.app import create_app

XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=1</script>'

pytestmark = needs_chromium


@pytest.fixture
async def server(runtime, store):
    await store.clients.create({"first_name": "Isabelle", "last_name": "Fontaine",
                                "emails": ["isabelle@example.com"], "notes": XSS,
                                "ring_sizes": {"left ring": "52"}}, actor="test")
    server = TestServer(create_app(runtime), host="127.0.0.1")
    await server.start_server()
    yield server
    await server.close()


@pytest.fixture
async def page():
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=chromium_args())
        context = await browser.new_context(viewport={"width": 1280, "height": 860})
        page = await context.new_page()
        page.set_default_timeout(10_000)
        yield page
        await browser.close()


async def _sign_in(page, base: str, staff_id: str) -> None:
    await page.goto(base + "/signin")
    await page.fill("#staff_id", staff_id)
    await page.fill("#pin", PINS[staff_id])
    await page.click("button[type=submit]")
    await page.wait_for_url(base + "/today")  # an associate starts on her day
    await page.goto(base + "/floor")


async def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.evaluate("window.scrollTo(0, 0)")  # else the sticky bar lands mid-page
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


async def test_a_sale_with_two_tenders_end_to_end(server, page, runtime, store):
    base = str(server.make_url("")).rstrip("/")
    await page.goto(base + "/signin")
    await _shot(page, "sign-in")
    await _sign_in(page, base, "alex")

    await page.fill("#scan-input", "P001")  # typed, as a keyboard-wedge scanner does
    await page.press("#scan-input", "Enter")
    await page.wait_for_selector('#cart-lines li[data-item="P001"]')
    # A scanner bound to R1 (the devices layer's event): the page updates by itself.
    runtime.bus.publish("device.scan", device="scanner-1", register="R1", code="SKU-P002",
                        symbology="code128")
    await page.wait_for_selector('#cart-lines li[data-item="P002"]')

    await page.fill("#client-input", "Fontaine")
    await page.click("#client-form button")
    await page.click("#client-results button")
    await page.wait_for_selector("#cart-client a")
    assert await page.text_content("#cart-client a") == "Isabelle Fontaine"

    await page.select_option("#tender-type", "cash")
    await page.fill("#tender-amount", "1000.00")
    await page.click("#tender-form button")
    await page.wait_for_selector("#cart-tenders li")
    await page.select_option("#tender-type", "card")
    await page.fill("#tender-amount", "4000")
    await page.fill("#tender-last4", "4242")
    await page.click("#tender-form button")
    await expect(page.locator("#cart-tenders li")).to_have_count(2)
    assert "0.00" in await page.text_content("#cart-due")
    await _shot(page, "sales-floor")

    await page.click("#complete-button")
    await page.wait_for_selector("#receipt-pane:not([hidden])")
    receipt = await page.text_content("#receipt")
    assert "TOTAL" in receipt and "€5,000.00" in receipt and "4242" in receipt
    await _shot(page, "receipt")
    sales = await store.sales.recent()
    assert len(sales) == 1 and sales[0]["client_id"] is not None
    assert (await store.items.get("P001"))["status"] == "sold"

    await page.goto(base + "/items/P001")
    await page.wait_for_selector(".timeline li")
    await _shot(page, "item")
    await page.goto(base + "/items?category=ring")
    await _shot(page, "stock")


async def test_a_manager_approves_a_discount_on_the_associates_screen(server, page, store):
    base = str(server.make_url("")).rstrip("/")
    await _sign_in(page, base, "alex")
    await page.fill("#scan-input", "P003")
    await page.press("#scan-input", "Enter")
    await page.wait_for_selector('#cart-lines li[data-item="P003"]')
    await page.click("#discount-button")
    await page.fill("#ask-input", "500")  # 20 % of 2,500.00: above the 10 % threshold
    await page.press("#ask-input", "Enter")
    await page.wait_for_selector("#approval-dialog[open]")
    await page.fill("#approval-manager", "mona")
    await page.fill("#approval-pin", PINS["mona"])
    await _shot(page, "manager-approval")
    await page.click("#approval-submit")
    await expect(page.locator("#cart-discount")).to_contain_text("500.00")
    kinds = [r["kind"] for r in await store.ledger.fetch(
        "SELECT kind FROM journal WHERE kind LIKE 'approval.%' ORDER BY seq")]
    assert kinds == ["approval.granted", "approval.used"]

    await page.click('[data-action="sign-out"]')
    await page.wait_for_url(base + "/signin")
    await _sign_in(page, base, "mona")
    await page.goto(base + "/approvals")
    assert "Discount" in await page.text_content("table")
    await _shot(page, "approvals")
    await page.goto(base + "/settings")
    await _shot(page, "settings")


async def test_an_xss_probe_in_a_client_note_does_not_run(server, page, store):
    base = str(server.make_url("")).rstrip("/")
    await _sign_in(page, base, "alex")
    client_id = (await store.clients.search("Fontaine"))[0]["client_id"]
    await page.goto(f"{base}/clients/{client_id}")
    assert await page.text_content("#client-notes") == XSS  # shown as text
    assert await page.evaluate("typeof window.__xss") == "undefined"
    assert await page.locator("#client-notes img").count() == 0
    await _shot(page, "client")


async def test_a_new_client_is_edited_sold_a_piece_and_returns_it(server, page, store):
    base = str(server.make_url("")).rstrip("/")
    await _sign_in(page, base, "alex")
    await page.goto(base + "/clients")
    await page.click("#new-client")
    await page.wait_for_selector("#client-edit-form")
    await page.fill("#f-first_name", "Camille")
    await page.fill("#f-last_name", "Morel")
    await page.fill("#f-emails", "camille@example.com\nnot an address")
    await page.fill("#f-phones", "12")
    await page.fill("#f-birthday", "1990-02-31")
    await page.fill("#ring-sizes .size-row:first-child .size-finger", "left ring")
    await page.fill("#ring-sizes .size-row:first-child .size-value", "52")
    await page.fill("#f-notes", XSS)
    await page.check('input[name="consent-email"][value="yes"]')  # e-mail marketing: yes
    await page.click("#client-save")
    # Every refused field at once, each sentence beside its field, in words; nothing saved.
    await expect(page.locator("#err-emails")).to_contain_text("is not an e-mail address")
    await expect(page.locator("#err-phones")).to_contain_text("is not a phone number")
    await expect(page.locator("[id='err-dates.birthday']")).to_contain_text("is not a date")
    await expect(page.locator("#f-emails")).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#form-error")).to_contain_text("3 fields need attention")
    assert "emails[1]" not in await page.text_content("#client-edit-form")
    assert await store.clients.search("Morel") == []
    await page.fill("#f-emails", "camille@example.com")
    await page.fill("#f-phones", "")
    await page.fill("#f-birthday", "")
    await page.press("#f-last_name", "Enter")  # by keyboard
    await page.wait_for_url(base + "/clients/C*")
    assert await page.text_content("#client-notes") == XSS
    await expect(page.locator("#client-ring-sizes")).to_have_text("left ring: 52")

    await page.click("#edit-client")
    await page.wait_for_selector("#client-edit-form")
    await page.fill("#ring-sizes .size-row:first-child .size-value", "53")
    await _shot(page, "client-edit")
    await page.click("#client-save")
    await expect(page.locator("#client-ring-sizes")).to_have_text("left ring: 53")
    profile = (await store.clients.search("Morel"))[0]
    stored = (await store.clients.get(profile["client_id"]))["profile"]
    assert stored["ring_sizes"] == {"left ring": "53"} and stored["notes"] == XSS
    assert [(c["marketing"], c["by"], c["how"]) for c in stored["consent"]["email"]] == [
        (True, "alex", "in_store")] and stored["emails"] == ["camille@example.com"]

    await page.goto(base + "/floor")
    await page.fill("#scan-input", "P004")
    await page.press("#scan-input", "Enter")
    await page.wait_for_selector('#cart-lines li[data-item="P004"]')
    await page.fill("#client-input", "Morel")
    await page.click("#client-form button")
    await page.click("#client-results button")
    await expect(page.locator("#cart-client a")).to_have_text("Camille Morel")
    await page.fill("#tender-amount", "2500")
    await page.click("#tender-form button")
    await expect(page.locator("#complete-button")).to_be_enabled()
    await page.click("#complete-button")
    await page.wait_for_selector("#receipt-pane:not([hidden])")
    await page.click("#receipt-link")  # the receipt leads to the sale
    await page.wait_for_selector("#return-form")
    await expect(page.locator("#sale-status")).to_have_text("Completed")

    await page.check("#return-line-1")
    await expect(page.locator("#return-refund")).to_contain_text("€2,500.00")
    await _shot(page, "sale")
    await page.fill("#return-reason", "wrong size")
    await page.click("#return-button")
    await page.wait_for_selector("#approval-dialog[open]")
    await expect(page.locator("#approval-what")).to_contain_text("return")
    await page.fill("#approval-manager", "mona")
    await page.fill("#approval-pin", PINS["mona"])
    await page.press("#approval-pin", "Enter")
    await expect(page.locator("#sale-status")).to_have_text("Returned")
    await expect(page.locator("#sale-returns tbody")).to_contain_text("wrong size")
    assert await page.locator("#sale-actions").count() == 0
    await _shot(page, "sale-returned")
    assert (await store.items.get("P004"))["status"] == "returned"
    kinds = [r["kind"] for r in await store.ledger.fetch(
        "SELECT kind FROM journal WHERE kind LIKE 'approval.%' ORDER BY seq")]
    assert kinds == ["approval.granted", "approval.used"]

    await page.click("#sale-client")  # and back in the client's purchase history
    await expect(page.locator("table.list tbody")).to_contain_text("Returned")
    assert await page.evaluate("typeof window.__xss") == "undefined"


async def test_an_administrator_adds_a_role_and_changes_it_in_settings(server, page, store):
    base = str(server.make_url("")).rstrip("/")
    await _sign_in(page, base, "ada")
    await page.goto(base + "/settings")
    await page.fill("#new-role-name", "trainee")
    await page.select_option("#new-role-like", "associate")
    await page.click("#new-role-form button[type=submit]")
    trainee = page.locator('details.role:has(form[data-role="trainee"])')
    await expect(trainee).to_contain_text("Trainee")
    assert store.staff.roles.get("trainee").permissions == \
        store.staff.roles.get("associate").permissions
    await trainee.locator("summary").click()
    await trainee.locator('input[value="returns.request"]').uncheck()
    await trainee.locator("button[type=submit]").click()
    await expect(page.locator("#toast")).to_contain_text("Saved")
    assert not store.staff.roles.allows("trainee", "returns.request")
    assert store.staff.roles.allows("trainee", "sell")
    await _shot(page, "settings-roles")
