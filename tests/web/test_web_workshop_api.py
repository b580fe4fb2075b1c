"""The workshop's API with the issue's bad input, through the real app with the layer's
part running: a 200 MB upload, a file that is not what it claims, a job for an erased
client, a deposit on a cancelled job, a payment above the balance, collecting with a balance
due or before it is ready, a skipped stage; each refused with a sentence (never a 5xx) and
the books exactly as they were. And the good path of a file: kept, shown to signed-in staff
only, and unreadable once she is erased."""

from __future__ import annotations

import base64
from io import BytesIO

import aiohttp
import pytest
from PIL import Image
from web_helpers import sign_in

from hub.ledger.ledger import dump_projections
from hub.workshop.part import part
from tests.builders import cash, png
from tests.builders import client as client_of


def _jpeg() -> bytes:
    out = BytesIO()
    Image.new("RGB", (80, 60), (190, 150, 60)).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
async def shop(runtime, client):
    async with part(runtime):
        her = await runtime.store.clients.create(client_of("Camille", "Durand"), "test")
        csrf = await sign_in(client, "mona")
        yield runtime, client, {"X-CSRF-Token": csrf}, her["client_id"]


def _books(runtime):
    store = runtime.store
    return store.ledger.seq, dump_projections(store.ledger.db_path, store.ledger.schemas)


def _repair(her, **over):
    return {"kind": "repair", "client_id": her, "item_kind": "ring",
            "description": "yellow metal ring", "weight_mg": 4210, "stone_count": 5,
            "services": [{"service": "retip", "detail": "4 prongs", "price": 6000}],
            "deposit": {"register_id": "R1", "tenders": cash(2000)}, **over}


async def _refused(client, method, path, headers, status, **kw):
    resp = await client.request(method, path, headers=headers, **kw)
    body = await resp.json()
    assert resp.status == status, body
    assert body["detail"] and "Traceback" not in body["detail"]
    return body


async def test_bad_input_is_refused_in_words_and_writes_nothing(shop):
    runtime, client, headers, her = shop
    made = await client.post("/api/v1/jobs", json=_repair(her), headers=headers)
    assert made.status == 201, await made.text()
    number = (await made.json())["job_id"]
    before = _books(runtime)
    big = b"\xff\xd8\xff" + b"\0" * (200 * 1024 * 1024)
    too_big = await _refused(client, "POST", f"/api/v1/jobs/{number}/attachments?kind=photo",
                             {**headers, "Content-Type": "image/jpeg"}, 413, data=big)
    assert "25 MB" in too_big["detail"]
    fake = await _refused(client, "POST", f"/api/v1/jobs/{number}/attachments?name=ring.jpg",
                          {**headers, "Content-Type": "image/jpeg"}, 409,
                          data=b"%PDF-1.4 not a photo at all" * 20)
    assert "JPEG" in fake["detail"]
    skipped = await _refused(client, "POST", f"/api/v1/jobs/{number}/stage", headers, 409,
                             json={"move": "to_ready"})
    assert "not possible" in skipped["detail"]
    early = await _refused(client, "POST", f"/api/v1/jobs/{number}/collect", headers, 409,
                           json={"register_id": "R1", "weight_mg": 4210, "stone_count": 5,
                                 "tenders": cash(4000), "signature": "data:image/png;base64,"
                                 + base64.b64encode(png()).decode()})
    assert "ready" in early["detail"]
    over = await _refused(client, "POST", f"/api/v1/jobs/{number}/payments", headers, 409,
                          json={"register_id": "R1", "tenders": cash(9000)})
    assert "more than" in over["detail"]
    assert _books(runtime) == before

    for move in ("to_bench", "to_quality_check", "to_ready"):
        moved = await client.post(f"/api/v1/jobs/{number}/stage", json={"move": move},
                                  headers=headers)
        assert moved.status == 200, await moved.text()
    before = _books(runtime)
    signature = "data:image/png;base64," + base64.b64encode(png()).decode()
    due = await _refused(client, "POST", f"/api/v1/jobs/{number}/collect", headers, 409,
                         json={"register_id": "R1", "weight_mg": 4210, "stone_count": 5,
                               "tenders": cash(1000), "signature": signature})
    assert "still to pay" in due["detail"]
    unsigned = await _refused(client, "POST", f"/api/v1/jobs/{number}/collect", headers, 400,
                              json={"register_id": "R1", "weight_mg": 4210,
                                    "stone_count": 5, "tenders": cash(4000),
                                    "signature": "data:image/png;base64,!!!"})
    assert "signature" in unsigned["detail"]
    assert _books(runtime) == before
    done = await client.post(f"/api/v1/jobs/{number}/collect", headers=headers,
                             json={"register_id": "R1", "weight_mg": 4210, "stone_count": 5,
                                   "tenders": cash(4000), "signature": signature})
    assert done.status == 200, await done.text()
    assert (await done.json())["stage"] == "collected"

    other = await (await client.post("/api/v1/jobs", json=_repair(her, deposit=None),
                                     headers=headers)).json()
    cancel = await client.post(f"/api/v1/jobs/{other['job_id']}/stage", headers=headers,
                               json={"move": "cancel", "note": "she changed her mind"})
    assert cancel.status == 200
    before = _books(runtime)
    await _refused(client, "POST", f"/api/v1/jobs/{other['job_id']}/payments", headers, 409,
                   json={"register_id": "R1", "tenders": cash(500)})
    assert _books(runtime) == before

    await runtime.store.clients.forget(her, "mona")
    before = _books(runtime)
    erased = await _refused(client, "POST", "/api/v1/jobs", headers, 400,
                            json=_repair(her, deposit=None))
    assert "erased" in erased["detail"]
    assert _books(runtime) == before


async def test_a_photo_is_kept_shown_to_staff_and_gone_with_her(shop):
    runtime, client, headers, her = shop
    job = await (await client.post("/api/v1/jobs", json=_repair(her, deposit=None),
                                   headers=headers)).json()
    photo = _jpeg()
    form = aiohttp.FormData()
    form.add_field("file", photo, filename="ring.jpg", content_type="image/jpeg")
    sent = await client.post(f"/api/v1/jobs/{job['job_id']}/attachments?kind=photo",
                             data=form, headers=headers)
    assert sent.status == 201, await sent.text()
    kept = await sent.json()
    assert kept["content_type"] == "image/jpeg"
    assert [f["kind"] for f in kept["job"]["files"]] == ["photo"]
    shown = await client.get(f"/api/v1/attachments/{kept['hash']}")
    assert shown.status == 200 and await shown.read() == photo
    assert shown.headers["Cache-Control"] == "no-store"
    folder = runtime.store.config.data_dir / "attachments"
    assert not any(photo in p.read_bytes() for p in folder.rglob("*") if p.is_file())
    await client.delete("/api/v1/session", headers=headers)
    assert (await client.get(f"/api/v1/attachments/{kept['hash']}")).status == 401
    await runtime.store.clients.forget(her, "mona")
    assert not any(p.is_file() and not p.name.startswith(".")
                   for p in folder.rglob("*") if p.parent.name != "tmp")


async def test_the_board_shows_one_lane_alone_and_refuses_a_stage_it_has_not(shop):
    runtime, client, headers, her = shop
    for _ in range(3):
        made = await client.post("/api/v1/jobs", json=_repair(her, deposit=None),
                                 headers=headers)
        assert made.status == 201
    moved = (await made.json())["job_id"]
    await client.post(f"/api/v1/jobs/{moved}/stage", json={"move": "to_bench"},
                      headers=headers)
    whole = await (await client.get("/api/v1/jobs/board")).json()
    assert [(lane["stage"], lane["count"]) for lane in whole["lanes"]] == [
        ("received", 2), ("at_bench", 1)]
    alone = await (await client.get("/api/v1/jobs/board?stage=received")).json()
    assert [lane["stage"] for lane in alone["lanes"]] == ["received"]
    assert len(alone["lanes"][0]["jobs"]) == 2 and alone["open"] == 3
    page = await client.get("/workshop?stage=at_bench")
    assert page.status == 200 and moved in await page.text()
    await _refused(client, "GET", "/api/v1/jobs/board?stage=collected", headers, 400)
