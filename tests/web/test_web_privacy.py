"""A client's own data exported for her and her erasure, through the API: the files are
encrypted with her passphrase and hold her whole record, each export is in the books, bad
requests are refused in words and write nothing, and only a manager erases, by typing her
name."""

from __future__ import annotations

import io

import orjson
import pyrage
import pytest
from pypdf import PdfReader
from web_helpers import sign_in

from hub.clienteling.book import FollowUps
from hub.clienteling.privacy import Privacy
from hub.clienteling.rules import Rules
from hub.ledger.ledger import dump_projections
from tests.builders import cash, piece

PASS = "emerald-gift-2026"


@pytest.fixture
async def her(runtime, store):
    runtime.followups = FollowUps(store, Rules())  # what the layer's part does at start
    runtime.privacy = Privacy(store)
    runtime.privacy.sections["Contact log"] = runtime.followups.log_section
    made = await store.clients.create({"first_name": "Hélène", "last_name": "Fontaine",
                                       "emails": ["helene@example.fr"],
                                       "ring_sizes": {"left ring": "52"}}, "test")
    await store.items.receive_many([piece("PX-1", tag_price=480_000,
                                          description="Rose gold emerald bracelet")], "test")
    await store.sales.complete(register_id="R1", actor="alex", lines=[{"item_id": "PX-1"}],
                               tenders=cash(480_000), client_id=made["client_id"])
    await runtime.followups.log_contact(made["client_id"], "called", "Loves emeralds",
                                        actor="alex")
    return made


def _books(store):
    return store.ledger.seq, dump_projections(store.ledger.db_path, store.ledger.schemas)


async def test_her_data_exports_encrypted_and_in_the_books(client, store, her):
    h = {"X-CSRF-Token": await sign_in(client, "mona")}
    path = f"/api/v1/clients/{her['client_id']}/export"
    before = _books(store)
    for body, field in (({"format": "pdf", "passphrase": "short"}, "passphrase"),
                        ({"format": "docx", "passphrase": PASS}, "format"),
                        ({"passphrase": PASS}, "format")):
        r = await client.post(path, json=body, headers=h)
        assert r.status == 400 and (await r.json())["field"] == field
    assert _books(store) == before  # nothing written

    r = await client.post(path, json={"format": "pdf", "passphrase": PASS}, headers=h)
    assert r.status == 200 and r.content_type == "application/pdf"
    pdf = await r.read()
    assert b"Fontaine" not in pdf and b"bracelet" not in pdf  # encrypted
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.is_encrypted and reader.decrypt(PASS)
    text = " ".join(p.extract_text() for p in reader.pages)
    for fact in ("Hélène Fontaine", "helene@example.fr", "52", "Rose gold emerald bracelet",
                 "Loves emeralds"):
        assert fact in text, fact

    r = await client.post(path, json={"format": "json", "passphrase": PASS}, headers=h)
    assert r.status == 200 and "json.age" in r.headers["Content-Disposition"]
    data = orjson.loads(pyrage.passphrase.decrypt(await r.read(), PASS))
    assert data["profile"]["last_name"] == "Fontaine"
    assert data["purchases"][0]["lines"][0]["description"] == "Rose gold emerald bracelet"
    assert data["sections"]["Contact log"][0]["note"] == "Loves emeralds"

    listed = await (await client.get(path)).json()
    assert [e["format"] for e in listed["exports"]] == ["json", "pdf"]
    kinds = [r["kind"] for r in await store.ledger.fetch(
        "SELECT kind FROM journal WHERE kind = 'client.exported'")]
    assert kinds == ["client.exported"] * 2
    page = await (await client.get(f"/clients/{her['client_id']}")).text()
    assert 'id="client-exports"' in page and "PDF" in page


async def test_an_associate_neither_exports_nor_erases(client, her):
    h = {"X-CSRF-Token": await sign_in(client, "alex")}
    r = await client.post(f"/api/v1/clients/{her['client_id']}/export",
                          json={"format": "pdf", "passphrase": PASS}, headers=h)
    assert r.status == 403
    r = await client.post(f"/api/v1/clients/{her['client_id']}/erase",
                          json={"confirm": "Hélène Fontaine"}, headers=h)
    assert r.status == 403
    page = await (await client.get(f"/clients/{her['client_id']}")).text()
    assert 'id="client-erase-form"' not in page and 'id="client-export-form"' not in page


async def test_erasure_needs_her_name_typed(client, store, her):
    h = {"X-CSRF-Token": await sign_in(client, "mona")}
    path = f"/api/v1/clients/{her['client_id']}/erase"
    before = _books(store)
    r = await client.post(path, json={"confirm": "Hélène Fontain"}, headers=h)
    body = await r.json()
    assert r.status == 400 and body["field"] == "confirm" and "Hélène Fontaine" in body["detail"]
    assert _books(store) == before
    r = await client.post(path, json={"confirm": "  hélène   fontaine "}, headers=h)
    assert r.status == 200 and (await r.json())["status"] == "forgotten"
    assert (await store.clients.get(her["client_id"]))["profile"] is None
    r = await client.post(f"/api/v1/clients/{her['client_id']}/export",
                          json={"format": "pdf", "passphrase": PASS}, headers=h)
    assert r.status == 409 and "erased" in (await r.json())["detail"]
    r = await client.post(path, json={"confirm": "x"}, headers=h)
    assert r.status == 409  # already erased


async def test_her_statement_lists_purchases_certificates_and_returns(client, store, her):
    await store.items.receive_many([piece("PX-2", tag_price=150_000,
                                          description="Diamond solitaire pendant")], "test")
    sale = await store.sales.complete(register_id="R1", actor="alex",
                                      lines=[{"item_id": "PX-2"}], tenders=cash(150_000),
                                      client_id=her["client_id"])
    await store.sales.return_lines(sale["sale_id"], register_id="R1", actor="mona",
                                   reason="too long")
    await sign_in(client, "alex")
    r = await client.get(f"/clients/{her['client_id']}/statement.pdf")
    assert r.status == 200 and r.content_type == "application/pdf"
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(await r.read())).pages)
    for fact in ("Hélène Fontaine", "Rose gold emerald bracelet", "Diamond solitaire pendant",
                 "Certificate GIA 2141234567", "Returned on", "€4,800.00"):
        assert fact in text, fact
    total = text[text.rindex("Total"):]
    assert "€4,800.00" in total  # the returned pendant counts for nothing
