"""The workshop in real headless Chromium on the counter tablet, against the whole hub as
`loupe demo` runs it (simulated scale, scanner and receipt printer): Sophie takes in a ring
with a photo from the tablet's camera, the scale read into the form, a deposit; the job's
page shows the photo; the envelope prints; a scan of the envelope on the board moves it on;
the bench moves it through its stages; at pick-up the ring is weighed (live from the scale)
and counted again, the balance taken, she signs with a finger (mouse moves here) and the job
is collected. Then every workshop screen at the tablet's and the phone's sizes: no sideways
scroll, touch targets of 44 px, no codes on screen."""

from __future__ import annotations

import contextlib
import io
import re
from datetime import date, timedelta

import pytest
from browser_helpers import CHROMIUM, chromium_args, needs_chromium

pytestmark = needs_chromium

SIZES = {"tablet": (1024, 768), "phone": (390, 844)}
CODE = re.compile(r"\b[a-z]+_[a-z_]+\b|\b(item|sale|client|stock|staff|count|approval|hq|day"
                  r"|job|deposit)\.[a-z_]+\b")


def jpeg() -> bytes:
    """A small real photo of a ring (a gold circle on white), as a tablet's camera gives."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (320, 240), "white")
    ImageDraw.Draw(image).ellipse((110, 70, 210, 170), outline=(190, 150, 60), width=12)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


@contextlib.asynccontextmanager
async def whole_hub(tmp_path):
    from hub.config import load_config
    from hub.daemon import running
    from hub.demo import seed_demo_staff
    from hub.runtime import Options
    from hub.store import Store, init_store
    from tests.builders import piece
    from tests.devices.device_helpers import wait_until

    config = init_store(tmp_path / "store", "paris-01", "Maison Test — Paris", "EUR",
                        "Europe/Paris")
    async with await Store.open(config) as store:
        await seed_demo_staff(store)
        her = (await store.clients.create({"first_name": "Camille", "last_name": "Durand"},
                                          "test"))["client_id"]
        await store.items.receive_many(
            [piece(f"LY-{n}", description=f"Emerald pendant {n}", tag_price=240_000)
             for n in (1, 2)], "test")
    options = Options(host="127.0.0.1", port=0, insecure_http=True, zeroconf=False, demo=True)
    async with running(load_config(config.data_dir), options) as runtime:
        await wait_until(lambda: all(d["state"] == "connected"
                                     for d in runtime.devices.states()), 10)
        yield runtime, her


async def _signed_in(pw, base: str, size: str, staff_id: str = "sophie", pin: str = "1111"):
    width, height = SIZES[size]
    browser = await pw.chromium.launch(executable_path=CHROMIUM, args=chromium_args())
    context = await browser.new_context(viewport={"width": width, "height": height},
                                        has_touch=True, is_mobile=size == "phone")
    page = await context.new_page()
    page.set_default_timeout(10_000)
    await page.goto(base + "/signin")
    await page.fill("#staff_id", staff_id)
    await page.fill("#pin", pin)
    await page.click("button[type=submit]")
    await page.wait_for_url(re.compile(r".*/(today|floor|items)$"))
    return browser, page


async def test_a_repair_from_intake_to_pickup_on_the_tablet(tmp_path):
    from playwright.async_api import async_playwright, expect

    from tests.devices.device_helpers import wait_until

    async with whole_hub(tmp_path) as (runtime, her), async_playwright() as pw:
        base = f"http://127.0.0.1:{runtime.web.port}"
        rig = runtime.simulators
        browser, page = await _signed_in(pw, base, "tablet")
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))

        await page.goto(base + "/workshop")
        await expect(page.locator("#board-empty")).to_be_visible()
        await page.click("#intake-link")
        await page.wait_for_url(base + "/workshop/intake")
        await page.fill("#intake-client-search", "Dura")
        await page.click("#intake-client-results button")
        await expect(page.locator("#intake-client-chosen")).to_have_text("For Camille Durand")
        await page.select_option("#intake-item-kind", "ring")
        await page.fill("#intake-description",
                        "yellow metal ring, white centre stone, worn prongs")
        await page.fill("#intake-condition", "small scratch on the shank")
        await page.fill("#intake-declared", "1,500.00")
        await page.fill("#intake-stones", "5")
        # The ring on the scale: its weight arrives in the form by itself, then settles.
        rig.scale.place("4.215", stable=False)
        await expect(page.locator("#intake-weight")).to_have_value("4.215")
        await expect(page.locator("#intake-scale-state")).to_contain_text("settling")
        rig.scale.place("4.215", stable=True)
        await expect(page.locator("#intake-scale-state")).to_have_text("4.22\u00a0g · stable")
        await page.click("#intake-read-scale")  # asked on purpose: the same answer
        await expect(page.locator("#intake-scale-state")).to_have_text("4.22\u00a0g · stable")
        row = page.locator(".service-row").first
        await row.locator(".service-kind").select_option("retip")
        await row.locator(".service-detail").fill("4 prongs")
        await row.locator(".service-price").fill("60")
        await page.click("#add-service")
        row = page.locator(".service-row").nth(1)
        await row.locator(".service-kind").select_option("engraving")
        await expect(row.locator(".service-font-label")).to_be_visible()
        await row.locator(".service-detail").fill("C & J 12.06.2027")
        await row.locator(".service-font").select_option("script")
        await row.locator(".service-price").fill("30")
        await expect(page.locator("#intake-services-total")).to_have_text("€90.00")
        await page.select_option("#intake-who", "vendor:Atelier Sertis")
        await page.fill("#deposit-amount", "50")
        await page.select_option("#deposit-type", "cash")
        await page.set_input_files("#intake-photo-input", files=[
            {"name": "ring.jpg", "mimeType": "image/jpeg", "buffer": jpeg()}])
        await expect(page.locator("#intake-photo-previews img")).to_have_count(1)
        await page.click("#intake-submit")
        await page.wait_for_url(re.compile(r".*/workshop/jobs/J\d+$"))
        job_id = page.url.rsplit("/", 1)[1]

        # Her ring's page: the photo as it was taken, the deposit held, what is left to pay.
        await expect(page.locator("#job-stage")).to_have_text("Received")
        photo = page.locator("#job-photos img")
        await expect(photo).to_have_count(1)
        await page.wait_for_function(
            "() => { const i = document.querySelector('#job-photos img');"
            " return i && i.complete && i.naturalWidth === 320; }")
        await expect(page.locator("#job-weight")).to_have_text("4.22\u00a0g")
        await expect(page.locator("#job-held")).to_have_text("€50.00")
        await expect(page.locator("#job-balance")).to_have_text("€40.00")
        await expect(page.locator("#job-unsent")).to_have_count(0)

        printed = len(rig.printers["R1"].receipts)
        await page.click("#print-envelope")
        await expect(page.locator("#toast")).to_have_text(
            "The envelope and her copy are printing.")
        await wait_until(lambda: len(rig.printers["R1"].receipts) > printed, 10)
        assert any(job_id in r.text or job_id in " ".join(map(str, r.barcodes))
                   for r in rig.printers["R1"].receipts[printed:])

        # The envelope scanned at the bench: the board moves the job on by itself.
        await page.goto(base + "/workshop")
        await expect(page.locator(f'#lane-received [data-job-id="{job_id}"]')).to_be_visible()
        rig.scanners["R1"].scan(job_id)
        await expect(page.locator(f'#lane-at_bench [data-job-id="{job_id}"]')).to_be_visible()
        await expect(page.locator("#toast")).to_contain_text("At the bench")
        card = page.locator(f'[data-job-id="{job_id}"]')
        await expect(card).to_contain_text("Camille Durand")
        await expect(card).to_contain_text("Atelier Sertis")
        await card.click()
        await page.wait_for_url(base + f"/workshop/jobs/{job_id}")
        for move, stage in (("to_vendor", "At an outside workshop"),
                            ("to_quality_check", "Quality check")):
            await page.click(f'[data-move="{move}"]')
            await expect(page.locator("#job-stage")).to_have_text(stage)
        await page.click('[data-move="hold"]')  # putting it on hold asks why first
        await expect(page.locator("#move-error")).to_have_text("Say why in the note first.")
        # The bench's own screen says it is ready: this page follows by itself.
        await runtime.jobs.move(job_id, "to_ready", actor="marc")
        await expect(page.locator("#job-stage")).to_have_text("Ready for pick-up")
        await expect(page.locator("#pickup-form")).to_be_visible()

        # Pick-up: weighed again (live from the scale), counted, paid, signed.
        rig.scale.place("4.221")
        await expect(page.locator("#pickup-weight")).to_have_value("4.221")
        await page.fill("#pickup-stones", "5")
        await expect(page.locator("#pickup-balance")).to_have_text("€40.00")
        await page.select_option("#pickup-type", "card")
        await page.fill("#pickup-last4", "4242")
        await page.click("#pickup-submit")  # unsigned: she signs first
        await expect(page.locator("#pickup-form [data-error-for=signature]")).to_have_text(
            "She signs on the pad first.")
        await _sign(page)
        await page.click("#pickup-submit")
        await expect(page.locator("#job-stage")).to_have_text("Collected")
        await expect(page.locator("figure.signed img")).to_have_count(1)
        await expect(page.locator("#job-timeline")).to_contain_text(
            "Ready for pick-up → Collected")

        job = await runtime.jobs.get(job_id)
        assert job["stage"] == "collected" and job["sale_id"]
        sale = await runtime.store.sales.get(job["sale_id"])
        assert sale["total"] == 9000 and sale["client_id"] == her
        assert sorted((t["type"], t["amount"]) for t in sale["tenders"]) == [
            ("card", 4000), ("deposit", 5000)]
        assert [f["kind"] for f in job["files"]] == ["photo", "signature"]
        # Her page lists the job, collected and paid.
        await page.goto(base + f"/clients/{her}")
        await expect(page.locator(f'#client-jobs [data-job-id="{job_id}"]')).to_contain_text(
            "Collected")
        assert errors == []
        await browser.close()


async def _ready_job(runtime, her) -> dict:
    jobs = runtime.jobs
    job = await jobs.open({"kind": "repair", "client_id": her, "item_kind": "ring",
                           "description": "yellow metal ring, white centre stone",
                           "weight_mg": 4215, "stone_count": 5,
                           "services": [{"service": "polish", "price": 4000}]},
                          actor="sophie")
    for move in ("to_bench", "to_quality_check", "to_ready"):
        job = await jobs.move(job["job_id"], move, actor="sophie")
    return job


async def _sign(page) -> None:
    """Her signature, drawn as a finger would: down, a zigzag, up (in view first)."""
    await page.locator("#signature-pad").scroll_into_view_if_needed()
    pad = await page.locator("#signature-pad").bounding_box()
    await page.mouse.move(pad["x"] + 40, pad["y"] + 100)
    await page.mouse.down()
    for step in range(1, 16):
        await page.mouse.move(pad["x"] + 40 + step * 15, pad["y"] + 100 - (step % 4) * 18)
    await page.mouse.up()


async def test_a_difference_at_pickup_is_approved_by_a_manager_on_her_screen(tmp_path):
    from playwright.async_api import async_playwright, expect

    async with whole_hub(tmp_path) as (runtime, her), async_playwright() as pw:
        base = f"http://127.0.0.1:{runtime.web.port}"
        job = await _ready_job(runtime, her)
        browser, page = await _signed_in(pw, base, "tablet")
        await page.goto(base + f"/workshop/jobs/{job['job_id']}")
        await page.fill("#pickup-weight", "3.9")  # a stone lost on the way: lighter, 4 left
        await page.fill("#pickup-stones", "4")
        await page.fill("#pickup-amount", "40.00")
        await _sign(page)
        await page.click("#pickup-submit")
        await expect(page.locator("#approval-dialog")).to_be_visible()
        await expect(page.locator("#approval-what")).to_contain_text(
            "Difference found at pick-up for " + job["job_id"])
        await page.fill("#approval-manager", "marc")
        await page.fill("#approval-pin", "0000")  # a wrong PIN: said, nothing changes
        await page.click("#approval-submit")
        await expect(page.locator("#approval-error")).not_to_be_empty()
        await page.fill("#approval-pin", "2222")
        await page.click("#approval-submit")
        await expect(page.locator("#job-stage")).to_have_text("Collected")
        got = await runtime.jobs.get(job["job_id"])
        assert got["stage"] == "collected" and got["sale_id"]
        await browser.close()


async def test_a_piece_set_aside_and_an_instalment_on_the_phone(tmp_path):
    from playwright.async_api import async_playwright, expect

    async with whole_hub(tmp_path) as (runtime, her), async_playwright() as pw:
        base = f"http://127.0.0.1:{runtime.web.port}"
        browser, page = await _signed_in(pw, base, "phone")
        await page.goto(base + f"/clients/{her}")
        await page.click("#client-new-layaway")
        await page.wait_for_url(re.compile(r".*/workshop/layaways\?client_id=.*"))
        await expect(page.locator("#layaway-client-chosen")).to_have_text("For Camille Durand")
        await page.fill("#layaway-item", "LY-2")
        await page.fill("#layaway-instalments", "4")
        await page.fill("#layaway-amount", "600")
        await page.select_option("#layaway-type", "card")
        await page.click("#layaway-submit")  # the card's last digits are asked for
        await expect(page.locator("#layaway-error")).to_contain_text("4 digits")
        await page.fill("#layaway-last4", "4242")
        await page.click("#layaway-submit")
        await page.wait_for_url(re.compile(r".*/workshop/layaways/L\d+$"))
        await expect(page.locator("#layaway-held")).to_have_text("€600.00")
        await expect(page.locator("#layaway-balance")).to_have_text("€1,800.00")
        # Today's payment, then the four monthly instalments of the rest.
        await expect(page.locator("#layaway-schedule tbody tr")).to_have_count(5)
        await page.click("#instalment-submit")  # empty: the next instalment
        await expect(page.locator("#layaway-held")).not_to_have_text("€600.00")
        layaway_id = page.url.rsplit("/", 1)[1]
        got = await runtime.layaways.get(layaway_id)
        assert got["held"] > 60000 and len(got["payments"]) == 2
        assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        await browser.close()


async def _measure(page) -> dict:
    return await page.evaluate("""() => {
      const visible = (e) => e.offsetParent !== null && getComputedStyle(e).visibility !== 'hidden';
      const small = [];
      for (const e of document.querySelectorAll(
          'button, select, input:not([type=checkbox]):not([type=radio]):not([type=hidden]),'
          + ' textarea, summary, .bar nav a, a.button, a.job-card')) {
        if (!visible(e)) continue;
        const r = e.getBoundingClientRect();
        if (r.height < 44) small.push((e.id || e.className || e.tagName) + ' ' + Math.round(r.height));
      }
      return {scroll: document.documentElement.scrollWidth, width: window.innerWidth,
              header: document.querySelector('header.bar').getBoundingClientRect().height,
              height: window.innerHeight, small, text: document.body.innerText};
    }""")


@pytest.mark.parametrize("size", SIZES)
async def test_every_workshop_screen_fits_the_tablet_and_the_phone(tmp_path, size):
    from playwright.async_api import async_playwright

    async with whole_hub(tmp_path) as (runtime, her), async_playwright() as pw:
        base = f"http://127.0.0.1:{runtime.web.port}"
        jobs = runtime.jobs
        soon = (date.today() + timedelta(days=7)).isoformat()
        ring = {"kind": "repair", "client_id": her, "item_kind": "ring",
                "description": "yellow metal ring, white centre stone, worn prongs",
                "condition": "worn prongs", "declared_value": 150000, "weight_mg": 4215,
                "stone_count": 5, "promised": soon, "assignee": "sophie",
                "services": [{"service": "stone_replacement", "detail": "centre stone",
                              "price": 12000},
                             {"service": "engraving", "detail": "C & J", "font": "script",
                              "price": 3000}],
                "estimate": "estimate_only",
                "deposit": {"register_id": "R1", "tenders": [{"type": "cash",
                                                              "amount": 5000}]}}
        ready = await jobs.open({**ring, "express": True}, actor="sophie")
        for move in ("to_bench", "to_quality_check", "to_ready"):
            await jobs.move(ready["job_id"], move, actor="sophie")
        bench = await jobs.open({**ring, "assignee": None, "vendor": "Atelier Sertis"},
                                actor="sophie")
        await jobs.move(bench["job_id"], "to_vendor", actor="sophie")
        custom = await jobs.open({"kind": "custom", "client_id": her, "item_kind": "ring",
                                  "description": "an engagement ring, old-cut sapphire",
                                  "specs": {"metal": "gold", "fineness": 750,
                                            "stones": [{"type": "sapphire",
                                                        "carat_cents": 120}]},
                                  "price": 450000}, actor="sophie")
        await jobs.quote(custom["job_id"], {"amount": 480000}, actor="sophie")
        special = await jobs.open({"kind": "special", "client_id": her,
                                   "item_kind": "bracelet", "description": "a tennis bracelet",
                                   "source": "Maison Verdier", "price": 320000},
                                  actor="sophie")
        layaway = await runtime.layaways.open(
            {"client_id": her, "item_id": "LY-1", "schedule": {"instalments": 3},
             "first_payment": {"register_id": "R1",
                               "tenders": [{"type": "cash", "amount": 40000}]}},
            actor="sophie")
        browser, page = await _signed_in(pw, base, size)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        screens = {"layaways": "/workshop/layaways",
                   "layaway": f"/workshop/layaways/{layaway['layaway_id']}","board": "/workshop", "intake": f"/workshop/intake?client_id={her}",
                   "ready-job": f"/workshop/jobs/{ready['job_id']}",
                   "vendor-job": f"/workshop/jobs/{bench['job_id']}",
                   "custom-job": f"/workshop/jobs/{custom['job_id']}",
                   "special-job": f"/workshop/jobs/{special['job_id']}",
                   "overdue": "/workshop/overdue", "client": f"/clients/{her}"}
        problems = []
        for name, path in screens.items():
            await page.goto(base + path)
            await page.wait_for_load_state("networkidle")
            if name == "intake":  # each kind's part of the form shown in turn
                kinds = ("repair", "custom", "special")
            else:
                kinds = (None,)
            for kind in kinds:
                if kind:
                    await page.select_option("#intake-kind", kind)
                m = await _measure(page)
                where = f"{size} {name}{' ' + kind if kind else ''}"
                if m["scroll"] > m["width"]:
                    problems.append(f"{where}: scrolls sideways ({m['scroll']} > {m['width']})")
                if m["header"] >= m["height"] / 4:
                    problems.append(f"{where}: header {m['header']} px of {m['height']}")
                if m["small"]:
                    problems.append(f"{where}: touch targets under 44 px: {m['small'][:5]}")
                codes = sorted({c.group(0) for c in CODE.finditer(m["text"])})
                if codes:
                    problems.append(f"{where}: codes on screen: {codes[:5]}")
        assert not problems, "\n".join(problems)
        assert errors == []
        await browser.close()
