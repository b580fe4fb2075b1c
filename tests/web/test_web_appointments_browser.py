"""An associate's day in real headless Chromium on the counter tablet (1024×768), against
the whole hub as `loupe demo` runs it (simulated printer included): she lands on her day, does
a follow-up (then on the client's contact log), books a private
viewing for a client found by name, pull pieces to a tray, see and print the preparation
list, sell one held piece on the floor (after saying yes), close the tray. Then the screens
at the tablet's and the phone's sizes: no sideways scroll, targets of 44 px, no codes."""

from __future__ import annotations

import contextlib
import re
from datetime import datetime, timedelta

import pytest
from browser_helpers import CHROMIUM, chromium_args, needs_chromium

pytestmark = needs_chromium

CODE = re.compile(r"\b[a-z]+_[a-z_]+\b|\b(item|sale|client|stock|staff|count|approval|hq|day"
                  r"|appointment)\.[a-z_]+\b")


@contextlib.asynccontextmanager
async def whole_hub(tmp_path):
    from hub.config import load_config
    from hub.daemon import running
    from hub.demo import seed_demo_staff
    from hub.generate import generate
    from hub.runtime import Options
    from hub.store import Store, init_store
    from tests.builders import piece
    from tests.devices.device_helpers import wait_until

    config = init_store(tmp_path / "store", "paris-01", "Maison Test — Paris", "EUR",
                        "Europe/Paris")
    async with await Store.open(config) as store:
        await seed_demo_staff(store)
        await generate(store, items=20, clients=4, seed=5)
        await store.items.receive_many(
            [piece(f"TR-{n}", location=f"showcase-{n}", description=f"Emerald ring {n}")
             for n in range(1, 4)], "test")
        soon = (datetime.now(store.words.tz) + timedelta(days=10)).strftime("--%m-%d")
        await store.clients.create({"first_name": "Hélène", "last_name": "Fontaine",
                                    "primary_associate": "sophie",
                                    "dates": {"anniversary": soon}}, "test")
    options = Options(host="127.0.0.1", port=0, insecure_http=True, zeroconf=False, demo=True)
    async with running(load_config(config.data_dir), options) as runtime:
        await wait_until(lambda: all(d["state"] == "connected"
                                     for d in runtime.devices.states()), 10)
        yield runtime


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
              small, text: document.body.innerText};
    }""")


async def test_an_appointment_with_a_tray_on_the_tablet(tmp_path):
    from playwright.async_api import async_playwright, expect

    async with whole_hub(tmp_path) as runtime, async_playwright() as pw:
        base = f"http://127.0.0.1:{runtime.web.port}"
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=chromium_args())
        context = await browser.new_context(viewport={"width": 1024, "height": 768},
                                            has_touch=True)
        page = await context.new_page()
        page.set_default_timeout(10_000)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await page.goto(base + "/signin")
        await page.fill("#staff_id", "sophie")
        await page.fill("#pin", "1111")
        await page.click("button[type=submit]")

        # Her day: Hélène's anniversary is on it; the call done is on Hélène's contact log.
        await page.wait_for_url(base + "/today")
        row = page.locator("#today-today tr.followup", has_text="Hélène Fontaine")
        await expect(row).to_contain_text("Anniversary")
        await row.locator("select").select_option("called")
        await row.locator("button[type=submit]").click()
        await expect(page.locator("#today-today")).not_to_contain_text("Hélène Fontaine")
        her = (await runtime.store.clients.search("Fontaine"))[0]["client_id"]
        await page.goto(base + f"/clients/{her}")
        log = page.locator("#client-contacts")
        await expect(log).to_contain_text("Anniversary")
        await expect(log).to_contain_text("Called")
        await expect(log).to_contain_text("Sophie Laurent")

        # Book: a private viewing the day after tomorrow at 15:00, for Hélène, found by name.
        await page.goto(base + "/appointments")
        await page.click("#book-link")
        await page.select_option("#book-kind", "private_viewing")
        await page.fill("#book-client-search", "Hélè")
        await page.click("#book-client-results button")
        await expect(page.locator("#book-client-chosen")).to_contain_text("Hélène Fontaine")
        day = (datetime.now(runtime.store.words.tz) + timedelta(days=2)).date().isoformat()
        await page.select_option("#book-associate", "sophie")
        await page.select_option("#book-salon", "Salon 2")
        await page.fill("#book-day", day)
        await page.fill("#book-time", "15:00")
        await page.select_option("#book-duration", "90")
        await page.fill("#book-note", "Her 40th: emeralds")
        await page.click("#book-submit")
        await page.wait_for_url(re.compile(r"/appointments/A\d+$"))
        await expect(page.locator("h1")).to_contain_text("Hélène Fontaine")
        await expect(page.locator("#appointment-facts")).to_contain_text("15:00–16:30")
        await expect(page.locator("#appointment-note")).to_have_text("Her 40th: emeralds")

        # The same slot again is refused, naming Sophie's viewing.
        await page.goto(base + "/appointments")
        await page.fill("#book-client-search", "Fontaine")
        await page.click("#book-client-results button")
        await page.select_option("#book-associate", "sophie")
        await page.fill("#book-day", day)
        await page.fill("#book-time", "15:30")
        await page.click("#book-submit")
        await expect(page.locator('[data-error-for="start"]')).to_contain_text(
            "Sophie Laurent has a private viewing from 15:00 to 16:30")
        await page.go_back()
        await page.wait_for_url(re.compile(r"/appointments/A\d+$"))
        appointment_url = page.url

        # Pull three pieces to the tray: scanned serials.
        await page.fill("#tray-items", "TR-1 TR-2 TR-3")
        await page.click("#tray-pull")
        await expect(page.locator("#tray-pieces")).to_contain_text("Emerald ring 3")
        await expect(page.locator("#tray h2")).to_contain_text("Tray T1")
        await expect(page.locator("#tray-pieces tbody tr")).to_have_count(3)

        # The preparation list: piece, showcase, price; printed on the receipt printer.
        await page.click("#prep-link")
        await expect(page.locator("h1")).to_contain_text("Tray T1 · Salon 2")
        rows = page.locator("#prep-pieces tbody tr")
        await expect(rows).to_have_count(3)
        await expect(rows.nth(1)).to_contain_text("showcase-2")
        await expect(rows.nth(1)).to_contain_text("€9,500.00")
        await page.click("#prep-print")
        await expect(page.locator("#toast")).to_contain_text("Sent to the receipt printer")
        printer = runtime.simulators.printers["R1"]
        from tests.devices.device_helpers import wait_until
        printed = await wait_until(lambda: [r for r in printer.receipts if "Tray T1" in r.text])
        assert "TR-2 · from showcase-2" in printed[0].text
        m = await _measure(page)
        assert m["scroll"] <= m["width"] and not m["small"], m["small"]

        # On the floor, a held piece is sold only after saying yes.
        await page.goto(base + "/floor")
        await page.fill("#scan-input", "TR-1")
        await page.click("#scan-form button[type=submit]")
        await expect(page.locator("#confirm-text")).to_contain_text(
            "TR-1 is on tray T1 in Salon 2 for an appointment at")
        await page.click("#confirm-ok")
        await expect(page.locator("#cart-lines")).to_contain_text("TR-1")
        await page.click("#clear-button")
        await page.click("#confirm-ok")
        await expect(page.locator("#cart-lines")).not_to_contain_text("TR-1")

        # Close the tray: each piece goes back to its showcase.
        await page.goto(appointment_url)
        await page.click("#tray-close")
        back = page.locator("#tray-back-list")
        await expect(back).to_contain_text("TR-1")
        await expect(back).to_contain_text("showcase-1")
        await expect(back).to_contain_text("showcase-3")
        assert await runtime.store.holds.held_among(["TR-1", "TR-2", "TR-3"]) == {}
        assert errors == []
        await browser.close()


@pytest.mark.parametrize("size", [(1024, 768), (390, 844)])
async def test_the_appointment_screens_fit_the_tablet_and_the_phone(tmp_path, size):
    from playwright.async_api import async_playwright

    async with whole_hub(tmp_path) as runtime, async_playwright() as pw:
        store, appointments = runtime.store, runtime.appointments
        her = (await store.clients.search("Fontaine"))[0]["client_id"]
        day = (datetime.now(store.words.tz) + timedelta(days=1)).date().isoformat()
        made = await appointments.book({"kind": "custom_order", "client_id": her,
                                        "associate": "sophie", "salon": "Salon 1",
                                        "start": f"{day}T11:00", "duration_min": 60},
                                       actor="sophie")
        aid = made["appointment_id"]
        await appointments.pull(aid, {"item_ids": ["TR-1", "TR-2"]}, actor="sophie")
        base = f"http://127.0.0.1:{runtime.web.port}"
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=chromium_args())
        width, height = size
        context = await browser.new_context(viewport={"width": width, "height": height},
                                            has_touch=True, is_mobile=width < 600)
        page = await context.new_page()
        page.set_default_timeout(10_000)
        await page.goto(base + "/signin")
        await page.fill("#staff_id", "marc")
        await page.fill("#pin", "2222")
        await page.click("button[type=submit]")
        await page.wait_for_load_state("networkidle")
        problems = []
        for name, path in (("week", "/appointments"), ("day", f"/appointments?view=day&day={day}"),
                           ("appointment", f"/appointments/{aid}"),
                           ("prep", f"/appointments/{aid}/prep"), ("client", f"/clients/{her}"),
                           ("piece", "/items/TR-1")):
            await page.goto(base + path)
            await page.wait_for_load_state("networkidle")
            m = await _measure(page)
            if m["scroll"] > m["width"]:
                problems.append(f"{name}: scrolls sideways ({m['scroll']} > {m['width']} px)")
            if m["small"]:
                problems.append(f"{name}: touch targets under 44 px: {m['small'][:5]}")
            codes = sorted({c.group(0) for c in CODE.finditer(m["text"])})
            if codes:
                problems.append(f"{name}: codes on screen: {codes[:5]}")
        assert not problems, "\n".join(problems)
        await browser.close()
