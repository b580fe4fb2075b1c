"""Memo exposure and count accuracy over HTTP, through the real app: a vendor's memo falling
overdue, a consignment and a piece on approval, at cost for a manager only, and never a
client's name in the JSON, the CSV or the screen; counts run through the counts service,
their accuracy and the pieces written off in JSON, CSV and on screen; a reversed range said
in a sentence (a 400 from the API, the page at 200 with the problem); a role without the
reports refused; without the memo part running, a sentence, never a 500; both screens in
real headless Chromium at counter-tablet and phone sizes, nothing wider than the screen."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from html import unescape

import pytest
from browser_helpers import needs_chromium, signed_in
from playwright.async_api import expect
from web_helpers import piece, sign_in

from hub.counts.service import Counts
from hub.counts.settings import CountSettings
from hub.memo.part import part
from tests.builders import client as client_of
from tests.counts.conftest import FOREIGN, read, stock

CODE = re.compile(r"\b[a-z]+_[a-z_]+\b")
TAGS = re.compile(r"<script.*?</script>|<style.*?</style>|<[^>]+>", re.S)


def shown(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(TAGS.sub(" ", html)))


def table_of(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


async def _memo_scene(store, memo) -> str:
    today = memo.today()
    vendor = (await memo.add_vendor({"name": "Atelier Vendôme", "terms_days": 60},
                                    actor="mona"))["vendor_id"]
    await memo.receive({"vendor_id": vendor, "memo_ref": "AV-881",
                        "due": (today + timedelta(days=3)).isoformat(),
                        "pieces": [piece("SAPH-1", price=1_200_000)]}, actor="mona")
    her = (await store.clients.create(client_of("Camille", "Durand"), "test"))["client_id"]
    await memo.consign({"client_id": her, "commission_bp": 2_500, "minimum": 400_000,
                        "term_days": 60, "piece": piece("W-1", price=500_000,
                                                        category="watch")}, actor="mona")
    await memo.send_out({"item_id": "P001", "client_id": her,
                         "due": (today + timedelta(days=2)).isoformat()}, actor="alex")
    moved = memo.now() + timedelta(days=5)  # five days on: the memo and P001 are overdue
    memo.now = lambda: moved
    return her


async def test_memo_exposure_by_vendor_for_each_role(runtime, client, store):
    async with part(runtime) as memo:
        her = await _memo_scene(store, memo)
        await sign_in(client, "mona")
        r = await client.get("/api/v1/reports/memo")
        assert r.status == 200
        text = await r.text()
        assert "Camille" not in text and "Durand" not in text and her not in text
        doc = await r.json()
        (v,) = doc["vendors"]
        assert (v["name"], v["pieces"], v["retail"], v["cost"], v["payable"]) == (
            "Atelier Vendôme", 1, 1_200_000, 600_000, 0)
        assert v["due"]["overdue"]["pieces"] == 1
        assert (doc["consignment"]["pieces"], doc["consignment"]["retail"],
                doc["consignment"]["due"]["later"]["pieces"]) == (1, 500_000, 1)
        assert (doc["approval"]["pieces"], doc["approval"]["retail"],
                doc["approval"]["due"]["overdue"]["pieces"]) == (1, 250_000, 1)
        dash = (await (await client.get("/api/v1/reports/dashboard")).json())["memo"]
        assert (dash["pieces"], dash["retail"], dash["cost"], dash["overdue"],
                dash["approval_overdue"]) == (1, 1_200_000, 600_000, 1, 1)
        page = await (await client.get("/reports")).text()
        assert 'id="dash-memo"' in page and "€12,000.00" in page

        r = await client.get("/api/v1/reports/memo.csv")
        assert r.status == 200 and r.content_type == "text/csv"
        text = await r.text()
        assert "Camille" not in text and "Durand" not in text and her not in text
        table = table_of(text)
        assert table[0] == ["Vendor", "Pieces", "Retail", "Cost", "Owed now", "Overdue",
                            "Due within 7 days", "Due within 30 days", "Due later"]
        assert table[1] == ["Atelier Vendôme", "1", "1200000", "600000", "0", "1", "0", "0",
                            "0"]
        assert [row[0] for row in table[2:]] == [
            "All vendors", "On consignment for clients", "Out on approval with clients"]
        assert table[3][:3] == ["On consignment for clients", "1", "500000"]
        assert table[4][1:3] == ["1", "250000"]

        r = await client.get("/reports/memo")
        assert r.status == 200
        page = await r.text()
        assert 'id="chart-memo"' in page and 'id="memo-table"' in page
        words = shown(page)
        assert "Atelier Vendôme" in words and "€12,000.00" in words and "€6,000.00" in words
        assert "Camille" not in words and "Durand" not in words and her not in page
        assert not CODE.search(words), CODE.search(words).group(0)

        await sign_in(client, "alex")  # an associate: pieces and retail, no cost
        doc = await (await client.get("/api/v1/reports/memo")).json()
        assert "cost" not in doc["totals"] and "payable" not in doc["vendors"][0]
        assert "cost" not in doc["approval"]["due"]["overdue"]
        table = table_of(await (await client.get("/api/v1/reports/memo.csv")).text())
        assert "Cost" not in table[0] and table[1][:3] == ["Atelier Vendôme", "1", "1200000"]
        words = shown(await (await client.get("/reports/memo")).text())
        assert "€6,000.00" not in words and "Owed now" not in words

    r = await client.get("/api/v1/reports/memo")  # the memo part stopped
    assert r.status == 503 and "memo" in await r.text()


async def test_a_role_without_the_reports_is_refused(runtime, client, store):
    await store.staff.roles.define("trainee", ["sell"], actor="test")
    await store.staff.enroll("tina", "Tina Trainee", "trainee", "975310", actor="test")
    resp = await client.post("/api/v1/session", json={"staff_id": "tina", "pin": "975310",
                                                      "register_id": "R1"})
    assert resp.status == 200, await resp.text()
    for path in ("/api/v1/reports/memo", "/api/v1/reports/memo.csv",
                 "/api/v1/reports/counts", "/api/v1/reports/counts.csv"):
        assert (await client.get(path)).status == 403, path


async def test_count_accuracy_and_shrinkage_over_http(runtime, client, store):
    epcs = await stock(store)  # P-1..P-3 in showcase-1, P-4..P-6 in showcase-2, the safe
    counts = Counts(store, store.bus, CountSettings(flush_interval_s=0.05,
                                                    progress_interval_s=0.02))
    await counts.start()
    try:
        await counts.start_count("closing", ["showcase-1", "showcase-2"], "mona")
        for item_id in ("P-1", "P-2", "P-4", "P-5"):
            read(store.bus, epcs[item_id], "showcase-1" if item_id < "P-4" else "showcase-2")
        read(store.bus, epcs["P-7"], "showcase-2")  # the safe's, in a showcase
        read(store.bus, FOREIGN, "showcase-2")      # on no piece of ours
        closed = await counts.close(next(iter(counts.sessions)), "mona")
        await counts.confirm_missing(closed["count_id"], "mona", ["P-6"])
    finally:
        await counts.stop()

    await sign_in(client, "mona")
    doc = await (await client.get("/api/v1/reports/counts")).json()
    (c,) = doc["counts"]
    assert (c["expected"], c["found"], c["missing"], c["misplaced"], c["unexpected"],
            c["accuracy_bp"]) == (6, 4, 2, 1, 1, 6666)
    assert doc["totals"]["accuracy_bp"] == 6666
    assert doc["shrinkage"] == {"pieces": 1, "retail": 950_000, "cost": 300_000,
                                "found_again": 0, "by_category": [
                                    {"category": "ring", "pieces": 1, "retail": 950_000,
                                     "cost": 300_000, "found_again": 0}]}

    r = await client.get("/api/v1/reports/counts.csv")
    assert r.status == 200 and r.content_type == "text/csv"
    table = table_of(await r.text())
    assert table[0] == ["When", "Count", "Where", "Expected", "Found", "Missing", "Misplaced",
                        "Unexpected", "Accuracy (basis points)", "Missing at retail"]
    assert table[1][1:] == ["Closing", "showcase-1 and showcase-2", "6", "4", "2", "1", "1",
                            "6666", "1900000"]
    assert table[2] == ["All", "", "", "6", "4", "2", "1", "1", "6666", "1900000"]

    page = await (await client.get("/reports/counts")).text()
    assert 'id="chart-counts"' in page and 'id="counts-table"' in page
    words = shown(page)
    assert "66.66%" in words and "showcase-1 and showcase-2" in words and "Ring" in words
    assert "€9,500.00" in words and "€3,000.00" in words  # lost, at retail and at cost
    assert not CODE.search(words), CODE.search(words).group(0)

    # A reversed range: the API says why; the page shows the last 30 days and says it too.
    r = await client.get("/api/v1/reports/counts", params={"from": "2026-12-10",
                                                          "to": "2026-12-01"})
    assert r.status == 400 and "ends before it begins" in await r.text()
    r = await client.get("/reports/counts", params={"from": "2026-12-10", "to": "2026-12-01"})
    assert r.status == 200
    page = await r.text()
    assert 'role="alert"' in page and "ends before it begins" in page and "66.66%" in page
    r = await client.get("/api/v1/reports/counts.csv", params={"from": "someday"})
    assert r.status == 400 and "is not a date" in await r.text()

    await sign_in(client, "alex")  # an associate: the lost pieces at retail, not at cost
    doc = await (await client.get("/api/v1/reports/counts")).json()
    assert "cost" not in doc["shrinkage"] and doc["shrinkage"]["retail"] == 950_000
    assert "€3,000.00" not in shown(await (await client.get("/reports/counts")).text())


@needs_chromium
@pytest.mark.parametrize("size", [(1024, 768), (390, 844)], ids=["tablet", "phone"])
async def test_both_reports_read_on_a_tablet_and_a_phone(runtime, store, size):
    async with part(runtime) as memo:
        await _memo_scene(store, memo)
        async with signed_in(runtime, size, downloads=True) as (page, base):
            await page.goto(base + "/reports/memo")
            await expect(page.locator("svg#chart-memo")).to_be_visible()
            await expect(page.locator("#memo-table tbody")).to_contain_text("Atelier Vendôme")
            await expect(page.locator("#memo-overdue")).to_have_text("1")
            assert await page.evaluate("document.documentElement.scrollWidth") <= size[0]
            async with page.expect_download() as info:
                await page.click("#memo-csv")
            text = open(await (await info.value).path(), encoding="utf-8").read()
            assert text.splitlines()[1].startswith("Atelier Vendôme,1,1200000")
            await page.click("nav.report-nav >> text=Counts")
            await page.wait_for_url(base + "/reports/counts")
            await expect(page.locator("svg#chart-counts")).to_have_count(0)  # no count yet
            await expect(page.locator("#counts-table tbody")).to_contain_text(
                "No count was closed")
            await page.fill("input[name=from]", "2026-12-10")
            await page.fill("input[name=to]", "2026-12-01")
            await page.click("#counts-filters button[type=submit]")
            await expect(page.locator("p.error[role=alert]")).to_contain_text(
                "ends before it begins")
            assert await page.evaluate("document.documentElement.scrollWidth") <= size[0]
