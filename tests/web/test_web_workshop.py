"""The workshop's screens through the real app, with the layer's part running: the board in
lanes by stage (rush first, late in red, where the piece is, days in stage), the intake form
(her name when her page sent us, the store's vendors and registers), a job's page in words
(services, weights, money, moves, history), the overdue list, her jobs on her page, and the
screens refusing cleanly while the workshop does not run. No code and no cent amount on any
of them."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from html import unescape

import aiohttp
import pytest
from web_helpers import sign_in

from hub.workshop.part import part
from tests.builders import cash

# What a screen must never show: snake_case codes and journal kinds.
CODE = re.compile(r"\b[a-z]+_[a-z_]+\b|\b(job|deposit|item|sale|client)\.[a-z_]+\b")
TAGS = re.compile(r"<script.*?</script>|<style.*?</style>|<template.*?</template>|<[^>]+>",
                  re.S)


def shown(html: str) -> str:
    """A page's text as a person reads it (no markup, no attribute values)."""
    return re.sub(r"\s+", " ", unescape(TAGS.sub(" ", html)))


def _jpeg() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (190, 150, 60)).save(out, "JPEG")
    return out.getvalue()


JPEG = _jpeg()


@pytest.fixture
async def jobs(runtime):
    async with part(runtime) as jobs:  # what `loupe run` starts
        yield jobs


@pytest.fixture
async def her(store):
    return (await store.clients.create({"first_name": "Camille", "last_name": "Durand"},
                                       "test"))["client_id"]


def repair(her: str, **over) -> dict:
    return {"kind": "repair", "client_id": her, "item_kind": "ring",
            "description": "yellow metal ring, white centre stone, worn prongs",
            "condition": "small scratch on the shank", "declared_value": 150000,
            "weight_mg": 4215, "stone_count": 5,
            "services": [{"service": "resize", "detail": "to 54", "price": 4500},
                         {"service": "engraving", "detail": "C & J", "font": "script",
                          "price": 3000}],
            "estimate": "call_first",
            "promised": (date.today() + timedelta(days=10)).isoformat(),
            "assignee": "alex", "deposit": {"register_id": "R1", "tenders": cash(5000)},
            **over}


async def test_a_repair_on_the_board_and_on_its_page_in_words(client, store, jobs, her):
    h = {"X-CSRF-Token": await sign_in(client, "alex")}
    r = await client.post("/api/v1/jobs", json=repair(her), headers=h)
    assert r.status == 201, await r.text()
    job = await r.json()
    rush = await jobs.open(repair(her, express=True, assignee=None, vendor="Atelier Sertis",
                                  deposit=None), actor="alex")

    board = await (await client.get("/workshop")).text()
    assert '<a href="/workshop" aria-current="page">Workshop</a>' in board
    text = shown(board)
    assert "Received" in text and "Camille Durand" in text and "Ring · Resize, Engraving" in text
    assert "Alex Associate" in text and "Atelier Sertis" in text and "Express" in text
    assert "0 days in this stage" in text
    # Rush first in its lane, and each card opens its job.
    assert board.index(f'data-job-id="{rush["job_id"]}"') < board.index(
        f'data-job-id="{job["job_id"]}"')
    assert f'href="/workshop/jobs/{job["job_id"]}"' in board
    assert not CODE.search(text), CODE.findall(text)

    page = await (await client.get(f"/workshop/jobs/{job['job_id']}")).text()
    text = shown(page)
    for words in ("Job " + job["job_id"], "Repair", "Received", "Camille Durand",
                  "yellow metal ring, white centre stone, worn prongs",
                  "small scratch on the shank", "4.22 g", "€1,500.00", "Resize", "to 54",
                  "Engraving", "C & J · Script", "€45.00", "€75.00", "€50.00", "€25.00",
                  "Call before starting", "To the bench", "Put on hold", "Print envelope",
                  "Take a payment", "Taken in", "Alex Associate"):
        assert words in text, words
    assert f'href="/clients/{her}"' in page
    assert 'capture="environment"' in page and 'accept="image/*"' in page
    assert "Pick-up" not in text  # not ready yet
    assert not CODE.search(text), CODE.findall(text)

    for move in ("to_bench", "to_quality_check", "to_ready"):
        r = await client.post(f"/api/v1/jobs/{job['job_id']}/stage", json={"move": move},
                              headers=h)
        assert r.status == 200, await r.text()
    text = shown(await (await client.get(f"/workshop/jobs/{job['job_id']}")).text())
    assert "Pick-up" in text and "Hand over" in text and "Her signature" in text
    assert "Received → At the bench" in text and "Quality check → Ready for pick-up" in text
    assert "Ready for pick-up" in shown(await (await client.get("/workshop")).text())


async def test_a_photo_sent_from_the_tablet_is_on_the_job_page(client, jobs, her):
    h = {"X-CSRF-Token": await sign_in(client, "alex")}
    job = await jobs.open(repair(her), actor="alex")
    form = aiohttp.FormData()
    form.add_field("file", JPEG, filename="ring.jpg", content_type="image/jpeg")
    r = await client.post(f"/api/v1/jobs/{job['job_id']}/attachments?kind=photo", data=form,
                          headers=h)
    assert r.status == 201, await r.text()
    stored = (await jobs.get(job["job_id"]))["files"]
    assert [f["kind"] for f in stored] == ["photo"]
    page = await (await client.get(f"/workshop/jobs/{job['job_id']}")).text()
    src = f"/api/v1/attachments/{stored[0]['hash']}"
    assert f'<img src="{src}"' in page and "No photo yet." not in page
    r = await client.get(src)
    assert r.status == 200 and await r.read() == JPEG


async def test_the_intake_form_knows_her_the_vendors_and_the_registers(client, jobs, her):
    await sign_in(client, "alex")
    page = await (await client.get(f"/workshop/intake?client_id={her}")).text()
    text = shown(page)
    assert 'value="Camille Durand"' in page and "For Camille Durand" in text
    assert f'id="intake-client-id" value="{her}"' in page
    for words in ("Repair", "Custom order", "Special order", "Resize", "Stone replacement",
                  "Script", "Call before starting", "Atelier Sertis", "Maison Gravure",
                  "Alex Associate", "Read the scale", "Cash", "Card", "Express"):
        assert words in page, words
    assert 'capture="environment"' in page and "multiple" in page
    assert not CODE.search(text), CODE.findall(text)
    board = await (await client.get("/workshop")).text()
    assert 'href="/workshop/intake"' in board
    # The client's page: her jobs, and a new repair for her.
    assert "No repair or order yet." in await (await client.get(f"/clients/{her}")).text()


async def test_her_jobs_on_her_page(client, jobs, her):
    await sign_in(client, "alex")
    job = await jobs.open(repair(her), actor="alex")
    page = await (await client.get(f"/clients/{her}")).text()
    assert f'href="/workshop/intake?client_id={her}"' in page and "New repair" in page
    assert f'href="/workshop/jobs/{job["job_id"]}"' in page
    text = shown(page)
    assert "Repairs and orders" in text and "Received" in text and "€25.00" in text


async def test_the_overdue_list(client, jobs, her):
    await sign_in(client, "alex")
    late = await jobs.open(repair(her, deposit=None), actor="alex")
    ready = await jobs.open(repair(her, deposit=None, promised=None), actor="alex")
    for move in ("to_bench", "to_quality_check", "to_ready"):
        await jobs.move(ready["job_id"], move, actor="alex")
    now = jobs.now
    jobs.now = lambda: now() + timedelta(days=40)  # past the promise, and 30 days ready
    try:
        page = await (await client.get("/workshop/overdue")).text()
        board = await (await client.get("/workshop")).text()
    finally:
        jobs.now = now
    text = shown(page)
    late_part, waiting_part = text.split("Ready and not collected after 30 days")
    assert late["job_id"] in late_part and ready["job_id"] in waiting_part
    assert "Camille Durand" in text and "Past their promised date" in text
    assert 'href="/clients/' in page and f'href="/workshop/jobs/{late["job_id"]}"' in page
    assert "2 jobs overdue" in board and "Late: promised for" in shown(board)
    assert 'class="job-card late"' in board
    assert not CODE.search(text), CODE.findall(text)


async def test_a_custom_order_page_has_its_quotes_and_its_piece(client, jobs, her):
    h = {"X-CSRF-Token": await sign_in(client, "alex")}
    r = await client.post("/api/v1/jobs", json={
        "kind": "custom", "client_id": her, "item_kind": "ring",
        "description": "an engagement ring like her grandmother's",
        "specs": {"metal": "gold", "fineness": 750, "size": "52",
                  "stones": [{"type": "sapphire", "carat_cents": 120, "colour": "blue"}]},
        "price": 450000}, headers=h)
    assert r.status == 201, await r.text()
    job = await r.json()
    r = await client.post(f"/api/v1/jobs/{job['job_id']}/quotes", json={"amount": 480000},
                          headers=h)
    assert r.status == 201, await r.text()
    page = await (await client.get(f"/workshop/jobs/{job['job_id']}")).text()
    text = shown(page)
    for words in ("Custom order", "Enquiry", "Gold 750‰", "Sapphire · 1.20 ct · blue",
                  "Quote 1", "€4,800.00", "She accepts", "Make a quote", "To consultation"):
        assert words in text, words
    assert not CODE.search(text), CODE.findall(text)


async def test_the_screens_say_when_the_workshop_does_not_run(client, her):
    await sign_in(client, "alex")
    for path in ("/workshop", "/workshop/intake", "/workshop/overdue", "/workshop/jobs/J1"):
        r = await client.get(path)
        assert r.status == 503, path
        assert "this hub is not running the workshop" in shown(await r.text()).lower()
    r = await client.get(f"/clients/{her}")  # her page stands without its jobs' panel
    assert r.status == 200 and "Repairs and orders" not in await r.text()


async def test_an_unknown_job_is_a_page_in_words(client, jobs):
    await sign_in(client, "alex")
    r = await client.get("/workshop/jobs/J999999")
    assert r.status == 404 and "No job J999999" in shown(await r.text())
    r = await client.get("/workshop/jobs/nonsense")
    assert r.status == 400 and "is not a job number" in shown(await r.text())


async def test_the_script_is_served_and_its_words_are_in_the_bundle(client, jobs):
    await sign_in(client, "alex")
    r = await client.get("/workshop/workshop.js")
    assert r.status == 200 and r.content_type == "text/javascript"
    page = await (await client.get("/workshop")).text()
    assert '<script src="/workshop/workshop.js" defer></script>' in page
    assert '"settling"' in page and '"She signs on the pad first."' in page  # #loupe-words


async def test_layaways_listed_set_aside_and_on_her_page(client, store, jobs, her):
    h = {"X-CSRF-Token": await sign_in(client, "alex")}
    page = await (await client.get(f"/workshop/layaways?client_id={her}&item_id=P001")).text()
    assert "No piece is set aside." in shown(page) and 'value="Camille Durand"' in page
    assert 'id="layaway-item" autocomplete="off" autocapitalize="characters" value="P001"' \
        in page
    r = await client.post("/api/v1/layaways", json={
        "client_id": her, "item_id": "P001", "schedule": {"instalments": 3},
        "first_payment": {"register_id": "R1", "tenders": cash(50000)}}, headers=h)
    assert r.status == 201, await r.text()
    layaway = await r.json()
    text = shown(await (await client.get("/workshop/layaways")).text())
    assert layaway["layaway_id"] in text and "Camille Durand" in text
    assert "Solitaire ring P001" in text and "€500.00" in text and "€2,000.00" in text
    assert not CODE.search(text), CODE.findall(text)
    page = await (await client.get(f"/workshop/layaways/{layaway['layaway_id']}")).text()
    text = shown(page)
    for words in ("Layaway " + layaway["layaway_id"], "Open", "Camille Durand",
                  "Solitaire ring P001", "€2,500.00", "Schedule", "To pay", "Paid",
                  "Take an instalment", "Hand over the piece", "Cash", "Set aside"):
        assert words in text, words
    assert "She gives it up" not in text  # a manager's decision
    assert not CODE.search(text), CODE.findall(text)
    text = shown(await (await client.get(f"/clients/{her}")).text())
    assert "Layaways" in text and layaway["layaway_id"] in text and "Set a piece aside" in text
    assert 'href="/workshop/layaways"' in await (await client.get("/workshop")).text()
    await sign_in(client, "mona")
    text = shown(await (await client.get(f"/workshop/layaways/{layaway['layaway_id']}")).text())
    assert "She gives it up" in text and "The store keeps €50.00; €450.00 is paid back." in text
