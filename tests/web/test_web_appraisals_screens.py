"""The appraisals' screens through the real app, with the workshop's part running: a photo
kept for her (or for the store) by its own upload, an appraisal of her own item and one of a
piece of the books listed in words (number, day, what, whose, value, appraiser), one
appraisal's page (the piece, each stone's grading, the value for its purpose, its photos,
its PDF), the form for those who may sign and not for the others, hers on her page, an
erased client's that keeps its number and value only, and the screens refusing cleanly while
the workshop does not run. No code and no cent amount on any of them."""

from __future__ import annotations

import io
import re
from html import unescape

import aiohttp
import pytest
from PIL import Image
from web_helpers import sign_in

from hub.workshop.part import part
from tests.builders import png

# What a screen must never show: snake_case codes and journal kinds.
CODE = re.compile(r"\b[a-z]+_[a-z_]+\b|\b(appraisal|attachment|item|client)\.[a-z_]+\b")
TAGS = re.compile(r"<script.*?</script>|<style.*?</style>|<template.*?</template>|<[^>]+>",
                  re.S)


def shown(html: str) -> str:
    """A page's text as a person reads it (no markup, no attribute values)."""
    return re.sub(r"\s+", " ", unescape(TAGS.sub(" ", html)))


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (190, 150, 60)).save(out, "JPEG")
    return out.getvalue()


JPEG = _jpeg()  # her photo of the ring, as the tablet's camera gives it


@pytest.fixture
async def jobs(runtime):
    async with part(runtime) as jobs:  # what `loupe run` starts: runtime.appraisals with it
        yield jobs


@pytest.fixture
async def her(store):
    return (await store.clients.create({"first_name": "Camille", "last_name": "Durand"},
                                       "test"))["client_id"]


async def keep_photo(client, headers, data: bytes, client_id: str | None = None,
                     name: str = "ring.jpg", content_type: str = "image/jpeg"):
    form = aiohttp.FormData()
    form.add_field("file", data, filename=name, content_type=content_type)
    query = f"?client_id={client_id}" if client_id else ""
    return await client.post(f"/api/v1/appraisals/photos{query}", data=form, headers=headers)


def heirloom(her: str, photo: dict, **over) -> dict:
    return {"client_id": her, "description": "Art Deco ring, her grandmother's, milgrain"
            " shoulders", "category": "ring", "metal": "platinum", "metal_colour": "white",
            "fineness": 950, "weight_mg": 5120, "value": 1_250_000,
            "photos": [{**photo, "caption": "Front, on the mandrel"}],
            "stones": [{"type": "diamond", "carat_cents": 152, "shape": "old european",
                        "colour": "H", "clarity": "VS2", "lab": "HRD",
                        "certificate": "HRD-220431"},
                       {"type": "sapphire", "carat_cents": 12, "colour": "royal blue"},
                       {"type": "sapphire", "carat_cents": 12, "colour": "royal blue"}],
            **over}


async def test_her_item_appraised_listed_and_shown_in_words(client, store, jobs, her):
    h = {"X-CSRF-Token": await sign_in(client, "mona")}
    r = await keep_photo(client, h, JPEG, her)
    assert r.status == 201, await r.text()
    photo = await r.json()
    assert set(photo) == {"hash", "size"} and photo["size"] == len(JPEG)
    kept = await store.attachments.get(photo["hash"])
    assert (kept["owner"], kept["kind"]) == (f"client:{her}", "photo")
    r = await client.post("/api/v1/appraisals", json=heirloom(her, photo), headers=h)
    assert r.status == 201, await r.text()
    number = (await r.json())["appraisal_id"]

    page = await (await client.get("/workshop/appraisals")).text()
    text = shown(page)
    for words in (number, "Insurance", "Art Deco ring", "Camille Durand",
                  "€12,500.00", "Mona Manager", "Issue an appraisal"):
        assert words in text, words
    assert f'href="/workshop/appraisals/{number}"' in page and f'href="/clients/{her}"' in page
    assert not CODE.search(text), CODE.findall(text)

    page = await (await client.get(f"/workshop/appraisals/{number}")).text()
    text = shown(page)
    for words in ("Appraisal " + number, "Insurance appraisal", "Camille Durand",
                  "Art Deco ring, her grandmother's, milgrain shoulders", "Ring",
                  "White platinum · 950‰", "5.12 g", "Diamond", "1.52 ct",
                  "Colour H · Clarity VS2 · Shape old european · Certificate HRD HRD-220431",
                  "2 × Sapphire", "0.12 ct each", "Colour royal blue", "Replacement value",
                  "€12,500.00", "Mona Manager", "Front, on the mandrel", "Open the PDF"):
        assert words in text, words
    assert f'href="/api/v1/appraisals/{number}.pdf"' in page
    src = f"/api/v1/attachments/{photo['hash']}"
    assert f'<img src="{src}"' in page
    assert not CODE.search(text), CODE.findall(text)
    r = await client.get(src)
    assert r.status == 200 and await r.read() == JPEG
    r = await client.get(f"/api/v1/appraisals/{number}.pdf")
    assert r.status == 200 and r.content_type == "application/pdf"
    assert (await r.read()).startswith(b"%PDF")


async def test_a_piece_of_the_books_is_described_by_its_record(client, jobs):
    h = {"X-CSRF-Token": await sign_in(client, "mona")}
    r = await keep_photo(client, h, png(40, 30), name="p001.png", content_type="image/png")
    assert r.status == 201, await r.text()  # no client: the store's own photo
    photo = await r.json()
    r = await client.post("/api/v1/appraisals", json={
        "item_id": "P001", "value": 1_100_000, "purpose": "resale", "photos": [photo]},
        headers=h)
    assert r.status == 201, await r.text()
    number = (await r.json())["appraisal_id"]
    text = shown(await (await client.get("/workshop/appraisals")).text())
    assert "Solitaire ring P001" in text and "Resale" in text and "€11,000.00" in text
    page = await (await client.get(f"/workshop/appraisals/{number}")).text()
    text = shown(page)
    for words in ("Resale appraisal", "Resale value", "described by its record on that day",
                  "Platinum · 950‰", "4.20 g", "Certificate GIA 2141438171", "€11,000.00"):
        assert words in text, words
    assert 'href="/items/P001"' in page and f'/api/v1/attachments/{photo["hash"]}' in page
    assert not CODE.search(text), CODE.findall(text)


async def test_a_photo_is_hers_or_the_store_s_and_a_photo(client, store, jobs, her):
    h = {"X-CSRF-Token": await sign_in(client, "mona")}
    r = await keep_photo(client, h, b"%PDF-1.4\n%%EOF\n", her, name="scan.pdf",
                         content_type="application/pdf")
    assert r.status >= 400 and "photo" in (await r.json())["detail"].lower()
    r = await keep_photo(client, h, JPEG, "CNOBODY0000")
    assert r.status == 404, await r.text()
    # The store's photo is not hers: her appraisal cannot name it, and says so.
    store_photo = await (await keep_photo(client, h, JPEG)).json()
    r = await client.post("/api/v1/appraisals", json=heirloom(her, store_photo), headers=h)
    assert r.status >= 400 and (await r.json())["detail"]
    assert await (await client.get("/api/v1/appraisals")).json() == {"appraisals": []}


async def test_the_form_is_for_those_who_sign(client, jobs, her):
    await sign_in(client, "mona")
    page = await (await client.get("/workshop/appraisals")).text()
    text = shown(page)
    for words in ("Issue an appraisal", "A client's own item", "A piece in the books",
                  "Read the scale", "Add a stone", "Insurance", "Estate", "Resale",
                  "Mona Manager", "Issue the appraisal"):
        assert words in text, words
    assert 'capture="environment"' in page and 'accept="image/*"' in page
    assert '<option value="mona" selected>' in page
    assert "Alex Associate" not in text  # an associate does not sign appraisals
    assert not CODE.search(text), CODE.findall(text)
    assert 'href="/workshop/appraisals"' in await (await client.get("/workshop")).text()
    r = await client.get("/workshop/appraisals.js")
    assert r.status == 200 and r.content_type == "text/javascript"
    assert '"Scan or type the serial of the piece."' in page  # in #loupe-words

    h = {"X-CSRF-Token": await sign_in(client, "alex")}
    page = await (await client.get("/workshop/appraisals")).text()
    assert "No appraisal yet." in shown(page) and 'id="appraisal-form"' not in page
    r = await keep_photo(client, h, JPEG, her)
    assert r.status == 403
    r = await client.post("/api/v1/appraisals", json={"item_id": "P001", "value": 100},
                          headers=h)
    assert r.status == 403


async def test_hers_on_her_page_and_the_form_for_her(client, jobs, her):
    h = {"X-CSRF-Token": await sign_in(client, "mona")}
    photo = await (await keep_photo(client, h, JPEG, her)).json()
    r = await client.post("/api/v1/appraisals",
                          json=heirloom(her, photo, purpose="estate"), headers=h)
    number = (await r.json())["appraisal_id"]
    page = await (await client.get(f"/clients/{her}")).text()
    text = shown(page)
    assert "Appraisals" in text and number in text and "Estate" in text
    assert "€12,500.00" in text and "Art Deco ring" in text
    assert f'href="/workshop/appraisals/{number}"' in page
    assert f'href="/workshop/appraisals?client_id={her}#appraisal-new"' in page
    assert not CODE.search(text), CODE.findall(text)
    page = await (await client.get(f"/workshop/appraisals?client_id={her}")).text()
    assert 'value="Camille Durand"' in page and "For Camille Durand" in shown(page)
    assert f'id="appraisal-client-id" value="{her}"' in page
    # A piece's page sends its serial: the form is for that piece.
    page = await (await client.get("/workshop/appraisals?item_id=P002")).text()
    assert 'value="P002"' in page and '<option value="piece" selected>' in page

    await sign_in(client, "alex")  # an associate sees hers, and issues none
    page = await (await client.get(f"/clients/{her}")).text()
    assert number in page and "client-new-appraisal" not in page


async def test_an_erased_client_s_appraisal_keeps_its_number_and_value(client, store, jobs,
                                                                       her):
    h = {"X-CSRF-Token": await sign_in(client, "mona")}
    photo = await (await keep_photo(client, h, JPEG, her)).json()
    number = (await (await client.post("/api/v1/appraisals", json=heirloom(her, photo),
                                       headers=h)).json())["appraisal_id"]
    await store.clients.forget(her, "mona")
    page = await (await client.get("/workshop/appraisals")).text()
    text = shown(page.split('id="appraisal-new"')[0])  # the list, not the form's hints
    assert number in text and "an erased client" in text and "€12,500.00" in text
    assert "Art Deco" not in text and "her record was erased" in text
    page = await (await client.get(f"/workshop/appraisals/{number}")).text()
    text = shown(page)
    assert "no longer readable" in text and "€12,500.00" in text and "Art Deco" not in text
    assert "/api/v1/attachments/" not in page  # her photos went with her
    assert not CODE.search(text), CODE.findall(text)


async def test_an_unknown_appraisal_is_a_page_in_words(client, jobs):
    await sign_in(client, "alex")
    r = await client.get("/workshop/appraisals/AP-999999")
    assert r.status == 404 and "No appraisal AP-999999" in shown(await r.text())
    r = await client.get("/workshop/appraisals/nonsense")
    assert r.status == 400 and "is not an appraisal number" in shown(await r.text())


async def test_the_screens_say_when_the_workshop_does_not_run(client, her):
    h = {"X-CSRF-Token": await sign_in(client, "mona")}
    for path in ("/workshop/appraisals", "/workshop/appraisals/AP-000001"):
        r = await client.get(path)
        assert r.status == 503, path
        assert "this hub is not running the appraisals" in shown(await r.text()).lower()
    r = await keep_photo(client, h, JPEG, her)
    assert r.status == 503
    r = await client.get(f"/clients/{her}")  # her page stands without its appraisals
    assert r.status == 200 and not re.search(r'id="panel-appraisals"', await r.text())
