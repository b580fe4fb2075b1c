"""Appraisals through their service on a real store: a piece in the books (its facts read
from its record), a client's own item (typed in, sealed under her key), numbers without gaps
that a rebuild gives again, the PDF's words, a reprint that says the same, an erased client
whose appraisal keeps its number and value but not its description, and bad input refused
in sentences with nothing journaled. The API: the routes, the PDF's headers, a refusal."""

from __future__ import annotations

import asyncio
import hashlib
import io

import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from hub.core.errors import Invalid, NotFound
from hub.layers import LAYERS
from hub.ledger.ledger import dump_projections
from hub.runtime import Options, Runtime
from hub.store import Store, init_store
from hub.web.app import create_app
from hub.workshop.appraisals import Appraisals, appraisal_document
from hub.workshop.deposits import Deposits
from hub.workshop.jobs import Jobs, WorkshopSettings
from tests.builders import client, piece, png

# Her photo of the ring, as the upload answered; each store keeps it under its own keys, so
# `open_shop` fills in the hash and size the attachment store gave it.
PHOTO = {"hash": "", "size": 0, "caption": "Front, on the mandrel"}
SHA256 = [""]  # the photo's own SHA-256, printed on the paper


async def open_shop(path):
    config = init_store(path / "s", "paris-01", "Maison", "EUR", "Europe/Paris")
    store = await Store.open(config)
    for staff_id, name, role in (("sophie", "Sophie Martin", "associate"),
                                 ("mona", "Mona Laurent", "manager")):
        await store.staff.enroll(staff_id, name, role, "135790", actor="test")
    deposits = Deposits(store.ledger, store.accounts, "EUR")
    jobs = Jobs(store, deposits, WorkshopSettings())
    deposits.holders["J"] = jobs
    await store.items.receive(piece(1), "test")
    her = (await store.clients.create(client("Camille", "Durand"), "test"))["client_id"]
    picture = png(64, 48)
    kept = await store.attachments.store(picture, owner=f"client:{her}", kind="photo",
                                         name="ring.png", actor="sophie")
    PHOTO.update(hash=kept["hash"], size=kept["size"])
    SHA256[0] = hashlib.sha256(picture).hexdigest()
    return store, Appraisals(store, jobs), jobs, her


@pytest.fixture
async def shop(tmp_path):
    store, appraisals, jobs, her = await open_shop(tmp_path)
    yield store, appraisals, jobs, her
    await store.close()


def heirloom(her: str, **over):
    return {"client_id": her, "description": "Art Deco ring, her grandmother's, milgrain"
            " shoulders", "category": "ring", "metal": "platinum", "fineness": 950,
            "weight_mg": 5120, "value": 1_250_000, "photos": [PHOTO],
            "stones": [{"type": "diamond", "carat_cents": 152, "shape": "old european",
                        "colour": "H", "clarity": "VS2", "lab": "HRD",
                        "certificate": "HRD-220431"},
                       {"type": "sapphire", "carat_cents": 12, "colour": "royal blue"},
                       {"type": "sapphire", "carat_cents": 12, "colour": "royal blue"}],
            **over}


def books(store: Store):
    return store.ledger.seq, dump_projections(store.ledger.db_path, store.ledger.schemas)


def pdf_words(body: bytes) -> str:
    reader = PdfReader(io.BytesIO(body))
    return " ".join(page.extract_text() for page in reader.pages).replace("\u00a0", " ")


async def test_a_piece_in_the_books_is_described_by_its_record(shop):
    store, appraisals, _, _ = shop
    a = await appraisals.issue({"item_id": "P-1", "value": 1_100_000}, actor="mona")
    assert (a["appraisal_id"], a["number"], a["subject"]) == ("AP-000001", 1, "piece")
    assert (a["description"], a["metal"], a["fineness"], a["weight_mg"]) == (
        "Platinum solitaire ring", "platinum", 950, 4_200)
    assert a["stones"] == piece(1)["stones"]
    assert (a["value"], a["currency"], a["purpose"], a["appraiser"]) == (
        1_100_000, "EUR", "insurance", "mona")
    assert a["appraiser_name"] == "Mona Laurent" and a["client_id"] is None
    assert a["day"] == appraisals.today().isoformat() and not a["erased"]
    # the piece's history says it was appraised
    kinds = [e["kind"] for e in await store.items.history("P-1")]
    assert kinds == ["item.received", "appraisal.issued"]
    # an edit of the piece later does not change what the appraisal said
    await store.items.update("P-1", {"description": "Platinum solitaire, re-polished"},
                             "test")
    assert (await appraisals.get("ap-000001"))["description"] == "Platinum solitaire ring"
    assert [x["appraisal_id"] for x in await appraisals.of_piece("P-1")] == ["AP-000001"]


async def test_a_client_s_item_is_typed_in_and_sealed_under_her_key(shop):
    store, appraisals, jobs, her = shop
    job = await jobs.open({"kind": "repair", "client_id": her, "item_kind": "ring",
                           "description": "platinum ring, loose stones",
                           "services": [{"service": "polish", "price": 4000}]},
                          actor="sophie")
    other = (await store.clients.create(client("Léa", "Petit"), "test"))["client_id"]
    with pytest.raises(Invalid) as exc:  # her repair is not another client's
        await appraisals.issue(heirloom(other, job_id=job["job_id"]), actor="mona")
    assert [p.field for p in exc.value.problems] == ["job_id"]
    a = await appraisals.issue(heirloom(her, job_id=job["job_id"].lower(),
                                        purpose="estate"), actor="mona")
    assert (a["subject"], a["client_id"], a["job_id"], a["purpose"]) == (
        "client_item", her, job["job_id"], "estate")
    assert a["client_name"] == "Camille Durand"
    assert a["stones"][0]["certificate"] == "HRD-220431" and len(a["stones"]) == 3
    assert a["photos"] == [PHOTO]
    entries = [e for e in await store.ledger.entries() if e.subject == "appraisal:AP-000001"]
    assert [(e.kind, e.key_id) for e in entries] == [
        ("appraisal.details", f"client:{her}"), ("appraisal.issued", "store")]
    issued = store.ledger.decrypt(entries[1])
    assert "Art Deco" not in str(issued) and "Camille" not in str(issued)
    db = store.ledger.db_path
    on_disk = b"".join(p.read_bytes() for p in (db, db.with_name(db.name + "-wal"))
                       if p.exists())
    assert b"Art Deco" not in on_disk and b"HRD-220431" not in on_disk  # never in clear
    assert [x["appraisal_id"] for x in await appraisals.of_client(her)] == ["AP-000001"]
    # a piece in the books, appraised for the client who bought it: her name on the paper
    bought = await appraisals.issue({"item_id": "P-1", "client_id": her,
                                     "value": 1_000_000, "appraiser": "mona"},
                                    actor="mona")
    assert bought["client_name"] == "Camille Durand" and bought["subject"] == "piece"
    assert [x["appraisal_id"] for x in await appraisals.of_client(her)] == [
        "AP-000002", "AP-000001"]


async def test_numbers_have_no_gaps_and_a_rebuild_gives_them_again(shop):
    store, appraisals, _, her = shop
    await appraisals.issue({"item_id": "P-1", "value": 500_000}, actor="mona")
    with pytest.raises(Invalid):  # a refusal takes no number
        await appraisals.issue({"item_id": "P-404", "value": 500_000}, actor="mona")
    await appraisals.issue(heirloom(her), actor="mona")
    await appraisals.issue(heirloom(her, value=900_000), actor="mona")
    assert [a["appraisal_id"] for a in await appraisals.recent()] == [
        "AP-000003", "AP-000002", "AP-000001"]
    before = books(store)
    await store.rebuild()
    assert books(store) == before
    nxt = await appraisals.issue({"item_id": "P-1", "value": 510_000}, actor="mona")
    assert nxt["appraisal_id"] == "AP-000004"


ISSUES = st.lists(st.lists(st.sampled_from(["piece", "client", "bad"]), min_size=1,
                           max_size=4), min_size=1, max_size=4)


def test_numbers_stay_gapless_whatever_is_refused_or_issued_at_once(tmp_path):
    """Batches of issues sent together (one writer batch, group commit), some refused: the
    numbers issued are 1, 2, 3... in the journal's order, each once; a replay agrees."""
    runner = asyncio.Runner()
    store, appraisals, _, her = runner.run(open_shop(tmp_path))
    asks = {"piece": {"item_id": "P-1", "value": 500_000}, "client": heirloom(her),
            "bad": heirloom(her, value=0)}
    try:
        async def together(batch: list[str]) -> list[object]:
            return await asyncio.gather(
                *(appraisals.issue(asks[k], actor="mona") for k in batch),
                return_exceptions=True)

        @settings(max_examples=25, deadline=None,
                  suppress_health_check=[HealthCheck.function_scoped_fixture])
        @given(ISSUES)
        def check(batches):
            for batch in batches:
                done = runner.run(together(batch))
                for kind, outcome in zip(batch, done, strict=True):
                    assert isinstance(outcome, Invalid) == (kind == "bad"), outcome
            rows = runner.run(store.ledger.fetch(
                "SELECT number, appraisal_id FROM appraisals ORDER BY seq"))
            assert [r["number"] for r in rows] == list(range(1, len(rows) + 1))
            assert all(r["appraisal_id"] == f"AP-{r['number']:06d}" for r in rows)

        check()
        before = books(store)
        runner.run(store.rebuild())
        assert books(store) == before
    finally:
        runner.run(store.close())
        runner.close()


async def test_the_pdf_says_the_number_the_value_and_each_stone_s_grading(shop):
    store, appraisals, _, her = shop
    a = await appraisals.issue(heirloom(her), actor="mona")
    body = await appraisals.pdf(a["appraisal_id"])
    assert body.startswith(b"%PDF")
    pictures = [i for page in PdfReader(io.BytesIO(body)).pages for i in page.images]
    assert len(pictures) == 1  # her photo itself, decrypted for the paper only
    text = pdf_words(body)
    value = store.words.money(1_250_000, "EUR").replace("\u00a0", " ").replace("\u202f", " ")
    for said in ("Insurance appraisal", "AP-000001", "Maison", "Camille Durand", "Art Deco",
                 "Platinum · 950‰", "5.12 g", "Diamond", "1.52 ct", "Colour H",
                 "Clarity VS2", "old european", "HRD-220431", "2 × Sapphire", "0.12 ct each",
                 "Front, on the mandrel", SHA256[0], value, "Replacement value",
                 "Mona Laurent", "Signature of the appraiser", "replacement value"):
        assert said in text, said
    assert PdfReader(io.BytesIO(body)).metadata.title == "Insurance appraisal AP-000001"
    # a reprint, later, is laid out from the same entries and says the same
    seq = store.ledger.seq
    assert pdf_words(await appraisals.pdf("AP-000001")) == text
    assert store.ledger.seq == seq  # reading is not journaled


async def test_an_erased_client_s_appraisal_keeps_its_number_not_her_item(shop):
    store, appraisals, _, her = shop
    await appraisals.issue(heirloom(her), actor="mona")
    await appraisals.issue({"item_id": "P-1", "value": 500_000}, actor="mona")
    await store.clients.forget(her, "mona")
    a = await appraisals.get("AP-000001")
    assert a["erased"] and a["description"] is None and a["client_name"] is None
    assert a["stones"] == [] and a["photos"] == [{"hash": PHOTO["hash"],
                                                  "size": PHOTO["size"], "caption": None}]
    assert (a["value"], a["number"], a["appraiser_name"]) == (1_250_000, 1, "Mona Laurent")
    text = pdf_words(await appraisals.pdf("AP-000001"))
    assert "erased" in text and "Art Deco" not in text and "HRD-220431" not in text
    before = books(store)
    await store.rebuild()  # her entries cannot be read: the replay still gives the same
    assert books(store) == before
    assert (await appraisals.get("AP-000002"))["description"] == "Platinum solitaire ring"
    with pytest.raises(Invalid) as exc:  # and no new appraisal is made for her
        await appraisals.issue(heirloom(her), actor="mona")
    assert [p.field for p in exc.value.problems] == ["client_id"]


@pytest.mark.parametrize("change, wrong", [
    ({"value": None}, {"value"}),
    ({"value": 0}, {"value"}),
    ({"value": -5}, {"value"}),
    ({"value": "1250"}, {"value"}),
    ({"client_id": None, "item_id": "P-404"}, {"item_id", "description", "category",
                                               "metal", "fineness", "weight_mg", "stones"}),
    ({"item_id": "P-1"}, {"description", "category", "metal", "fineness", "weight_mg",
                          "stones"}),
    ({"stones": [{"type": "diamond"}]}, {"stones[0].carat_cents"}),
    ({"stones": [{"type": "diamond", "carat_cents": 1.5, "colour": "H" * 50}]},
     {"stones[0].carat_cents", "stones[0].colour"}),
    ({"stones": "one diamond"}, {"stones"}),
    ({"stones": [{"type": "diamond", "carat_cents": 100, "cut": "round"}]}, {"stones[0]"}),
    ({"client_id": None}, {"client_id"}),
    ({"client_id": "CNOBODY0000"}, {"client_id"}),
    ({"description": None}, {"description"}),
    ({"metal": "unobtainium"}, {"metal"}),
    ({"metal": None}, {"metal"}),
    ({"appraiser": "sophie"}, {"appraiser"}),
    ({"appraiser": "zed"}, {"appraiser"}),
    ({"purpose": "pawn"}, {"purpose"}),
    ({"job_id": "J999"}, {"job_id"}),
    ({"photos": [{"hash": "not-a-hash", "size": 0}]}, {"photos[0].hash", "photos[0].size"}),
    ({"photos": [PHOTO, PHOTO]}, {"photos[1].hash"}),
    ({"colour": "H"}, {None}),
])
async def test_bad_input_is_refused_in_sentences_and_nothing_is_journaled(shop, change,
                                                                          wrong):
    store, appraisals, _, her = shop
    raw = {k: v for k, v in {**heirloom(her), **change}.items() if v is not None}
    before = books(store)
    with pytest.raises(Invalid) as exc:
        await appraisals.issue(raw, actor="mona")
    assert {p.field for p in exc.value.problems} == wrong
    for p in exc.value.problems:  # each a sentence with its values filled in
        sentence = store.words.render(p.message, p.params)
        assert sentence and "{" not in sentence
    assert books(store) == before


async def test_every_problem_at_once(shop):
    store, appraisals, _, _ = shop
    with pytest.raises(Invalid) as exc:
        await appraisals.issue({"stones": [{"carat_cents": 3}], "description": "a ring",
                                "purpose": "pawn"}, actor="sophie")
    assert {p.field for p in exc.value.problems} == {"value", "appraiser", "purpose",
                                                     "stones[0].type", "client_id"}


async def test_an_unknown_appraisal_is_not_found(shop):
    _, appraisals, _, _ = shop
    with pytest.raises(NotFound):
        await appraisals.get("AP-000042")
    with pytest.raises(Invalid):
        await appraisals.pdf("42; DROP TABLE")


async def test_the_document_for_each_purpose_says_what_its_value_is(shop):
    store, appraisals, _, her = shop
    a = await appraisals.issue(heirloom(her, purpose="resale"), actor="mona")
    doc = appraisal_document(a, store.words, "Maison")
    said = [b.text for b in doc.blocks]
    assert doc.title == "Resale appraisal AP-000001" and "Resale value" in said
    assert not any("replacement" in t for t in said)


# -- the API ----------------------------------------------------------------------------

async def test_the_api_issues_lists_reads_and_prints(shop):
    store, appraisals, _, her = shop
    await store.staff.enroll("ada", "Ada Admin", "admin", "424242", actor="test")
    runtime = Runtime(store.config, store, store.bus,
                      Options(host="127.0.0.1", port=0, insecure_http=True, zeroconf=False),
                      LAYERS)
    runtime.appraisals = appraisals
    async with TestClient(TestServer(create_app(runtime))) as http:
        async def sign_in(staff_id: str) -> dict[str, str]:
            r = await http.post("/api/v1/session", json={"staff_id": staff_id,
                                                         "pin": "135790", "register_id": "R1"})
            assert r.status == 200, await r.text()
            return {"X-CSRF-Token": (await r.json())["csrf"]}

        sophie = await sign_in("sophie")  # an associate reads, but does not issue
        r = await http.post("/api/v1/appraisals", json=heirloom(her), headers=sophie)
        assert r.status == 403 and (await r.json())["error"] == "forbidden"
        mona = await sign_in("mona")
        before = books(store)
        r = await http.post("/api/v1/appraisals", json=heirloom(her, value=None,
                                                                stones=[{"type": "ruby"}]),
                            headers=mona)
        assert r.status == 400, await r.text()
        assert {p["field"] for p in (await r.json())["problems"]} == {
            "value", "stones[0].carat_cents"}
        assert books(store) == before
        r = await http.post("/api/v1/appraisals", json=heirloom(her), headers=mona)
        assert r.status == 201, await r.text()
        number = (await r.json())["appraisal_id"]
        sophie = await sign_in("sophie")
        r = await http.get("/api/v1/appraisals", params={"client_id": her})
        assert [a["appraisal_id"] for a in (await r.json())["appraisals"]] == [number]
        r = await http.get(f"/api/v1/appraisals/{number}")
        assert (await r.json())["stones"][0]["certificate"] == "HRD-220431"
        r = await http.get(f"/api/v1/appraisals/{number}.pdf")
        assert r.status == 200 and r.content_type == "application/pdf"
        assert r.headers["Cache-Control"] == "no-store"
        assert number in pdf_words(await r.read())
        r = await http.get("/api/v1/appraisals/AP-999999.pdf")
        assert r.status == 404 and r.content_type == "application/json"
