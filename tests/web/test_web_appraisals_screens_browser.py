"""The appraisals in real headless Chromium against the whole hub as `loupe demo` runs it
(simulated scale): Marc, a manager, opens Camille's page, issues an insurance appraisal of her
own ring (described, weighed live on the scale, a graded diamond, a photo from the tablet's
camera), a missing value said beside its field first; the appraisal's page shows the photo
and its PDF carries it. Then the appraisals' screens at the tablet's and the phone's sizes:
no sideways scroll, touch targets of 44 px, no codes on screen."""

from __future__ import annotations

import io
import re

import pytest
from browser_helpers import needs_chromium
from pypdf import PdfReader
from test_web_workshop_browser import SIZES, _measure, _signed_in, jpeg, whole_hub

pytestmark = needs_chromium

CODE = re.compile(r"\b[a-z]+_[a-z_]+\b|\b(appraisal|attachment|item|client|job)\.[a-z_]+\b")


async def test_her_ring_appraised_on_the_tablet_with_a_photo_and_its_pdf(tmp_path):
    from playwright.async_api import async_playwright, expect

    async with whole_hub(tmp_path) as (runtime, her), async_playwright() as pw:
        base = f"http://127.0.0.1:{runtime.web.port}"
        rig = runtime.simulators
        browser, page = await _signed_in(pw, base, "tablet", "marc", "2222")
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))

        await page.goto(base + f"/clients/{her}")
        await page.click("#client-new-appraisal")
        await page.wait_for_url(re.compile(r".*/workshop/appraisals\?client_id=.*"))
        await expect(page.locator("#appraisal-client-chosen")).to_have_text(
            "For Camille Durand")
        await expect(page.locator("#appraisal-item")).to_be_hidden()
        await page.fill("#appraisal-description", "Art Deco ring, milgrain shoulders")
        await page.select_option("#appraisal-category", "ring")
        await page.select_option("#appraisal-metal", "platinum")
        await page.select_option("#appraisal-colour", "white")
        await page.fill("#appraisal-fineness", "950")
        rig.scale.place("5.120", stable=True)  # her ring on the scale: read into the form
        await expect(page.locator("#appraisal-weight")).to_have_value("5.120")
        await expect(page.locator("#appraisal-scale-state")).to_have_text("5.12\u00a0g · stable")
        await page.click("#add-stone")
        row = page.locator(".stone-row").first
        await row.locator(".stone-type").select_option("diamond")
        await row.locator(".stone-carat").fill("1.52")
        for key, value in (("colour", "H"), ("clarity", "VS2"), ("shape", "old european"),
                           ("lab", "HRD"), ("certificate", "HRD-220431")):
            await row.locator(f".stone-{key}").fill(value)
        await page.set_input_files("#appraisal-photo-input", files=[
            {"name": "ring.jpg", "mimeType": "image/jpeg", "buffer": jpeg()}])
        await expect(page.locator("#appraisal-photo-previews img")).to_have_count(1)
        await page.fill("#appraisal-photo-previews .photo-caption", "Front, on the mandrel")
        await page.click("#appraisal-submit")  # no value yet: said beside the field
        await expect(page.locator("#err-value")).to_contain_text("Type an amount such as")
        await expect(page.locator("#appraisal-value")).to_be_focused()
        await page.fill("#appraisal-value", "12,500.00")
        await page.click("#appraisal-submit")
        await page.wait_for_url(re.compile(r".*/workshop/appraisals/AP-\d+$"))
        number = page.url.rsplit("/", 1)[1]

        await expect(page.locator("#appraisal-value")).to_have_text("€12,500.00")
        await expect(page.locator("#appraisal-metal")).to_have_text("White platinum · 950‰")
        await expect(page.locator("#appraisal-weight")).to_have_text("5.12\u00a0g")
        await expect(page.locator("#appraisal-stones")).to_contain_text("HRD-220431")
        await expect(page.locator("#appraisal-photos")).to_contain_text("Front, on the mandrel")
        await page.wait_for_function(
            "() => { const i = document.querySelector('#appraisal-photos img');"
            " return i && i.complete && i.naturalWidth === 320; }")
        href = await page.locator("#appraisal-pdf").get_attribute("href")
        assert href == f"/api/v1/appraisals/{number}.pdf"
        pdf = await page.request.get(base + href)  # as signed in: the link opens it
        assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
        reader = PdfReader(io.BytesIO(await pdf.body()))
        assert len([i for p in reader.pages for i in p.images]) == 1  # her photo, printed
        assert number in reader.pages[0].extract_text()

        a = await runtime.appraisals.get(number)
        assert (a["client_id"], a["value"], a["weight_mg"], a["metal_colour"]) == (
            her, 1_250_000, 5120, "white")
        assert a["stones"][0]["carat_cents"] == 152 and len(a["photos"]) == 1
        assert errors == []
        await browser.close()


@pytest.mark.parametrize("size", SIZES)
async def test_the_appraisals_screens_fit_the_tablet_and_the_phone(tmp_path, size):
    from playwright.async_api import async_playwright

    async with whole_hub(tmp_path) as (runtime, her), async_playwright() as pw:
        base = f"http://127.0.0.1:{runtime.web.port}"
        store = runtime.store
        photo = await store.attachments.store(jpeg(), owner=f"client:{her}", kind="photo",
                                              name="ring.jpg", actor="marc")
        a = await runtime.appraisals.issue({
            "client_id": her, "description": "Art Deco ring, milgrain shoulders",
            "category": "ring", "metal": "platinum", "fineness": 950, "weight_mg": 5120,
            "value": 1_250_000, "purpose": "estate",
            "photos": [{"hash": photo["hash"], "size": photo["size"],
                        "caption": "Front, on the mandrel"}],
            "stones": [{"type": "diamond", "carat_cents": 152, "colour": "H",
                        "clarity": "VS2", "lab": "HRD", "certificate": "HRD-220431"}]},
            actor="marc")
        await runtime.appraisals.issue({"item_id": "LY-1", "value": 240_000}, actor="marc")
        browser, page = await _signed_in(pw, base, size, "marc", "2222")
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        problems = []
        for name, path in (("list", "/workshop/appraisals"),
                           ("appraisal", f"/workshop/appraisals/{a['appraisal_id']}"),
                           ("board", "/workshop"), ("client", f"/clients/{her}")):
            await page.goto(base + path)
            await page.wait_for_load_state("networkidle")
            states = ("client_item", "piece") if name == "list" else (None,)
            for subject in states:
                if subject == "client_item":  # a stone's row and a photo in the form too
                    await page.click("#add-stone")
                    await page.set_input_files("#appraisal-photo-input", files=[
                        {"name": "ring.jpg", "mimeType": "image/jpeg", "buffer": jpeg()}])
                    await page.wait_for_selector("#appraisal-photo-previews img")
                if subject:
                    await page.select_option("#appraisal-subject", subject)
                m = await _measure(page)
                where = f"{size} {name}{' ' + subject.replace('_', ' ') if subject else ''}"
                if m["scroll"] > m["width"]:
                    problems.append(f"{where}: scrolls sideways ({m['scroll']} > {m['width']})")
                if m["small"]:
                    problems.append(f"{where}: touch targets under 44 px: {m['small'][:5]}")
                codes = sorted({c.group(0) for c in CODE.finditer(m["text"])})
                if codes:
                    problems.append(f"{where}: codes on screen: {codes[:5]}")
        assert not problems, "\n".join(problems)
        assert errors == []
        await browser.close()
