"""Tax-free forms: made for a completed sale to a traveller living abroad, above the minimum,
numbered without gaps, one per sale, her details sealed under her key (never in clear on
disk), cancelled (never deleted) by a void or a return, printable again, and erased with
her leaving the number and the amounts."""

from __future__ import annotations

from pathlib import Path

import pytest
from builders import client, piece

from hub.core.errors import Invalid, Refused
from hub.documents import render_text
from hub.travel.service import travel_of
from hub.travel.taxfree import TaxFree, TaxFreeSettings

PASSPORT = "CANARYPP9911"
ADDRESS = "CANARY-ADDR 88 Nathan Road\nKowloon, Hong Kong"


def traveller(**over):
    return {"document_type": "passport", "document_number": PASSPORT, "residence": "HK",
            "nationality": "CN", "address": ADDRESS, **over}


@pytest.fixture
async def tf(store):
    tax_free = TaxFree(store, TaxFreeSettings(minimum=10_000, country="FR", home_area=(
        "FR", "DE", "IT")))
    with travel_of(store, tax_free=tax_free) as travel:
        await store.items.receive_many([piece(n, tag_price=120_000 * n) for n in range(1, 6)]
                                       + [piece("CHEAP", tag_price=5_000)], actor="test")
        yield travel.tax_free


async def _sale(store, item_id: str, client_id: str | None) -> str:
    price = (await store.items.get(item_id))["tag_price"]
    sale = await store.sales.complete(register_id="R1", actor="anna",
                                      lines=[{"item_id": item_id}],
                                      tenders=[{"type": "cash", "amount": price}],
                                      client_id=client_id)
    return sale["sale_id"]


async def test_numbered_without_gaps_one_per_sale(store, tf):
    her = (await store.clients.create(client("Mei", "Chen"), "anna"))["client_id"]
    first = await tf.issue(await _sale(store, "P-1", her), traveller(), actor="anna")
    assert first["number"] == "TF-000001" and first["status"] == "issued"
    assert first["traveller"]["document_number"] == PASSPORT
    assert first["client_name"] == "Mei Chen"
    line = first["lines"][0]
    assert line["rate_bp"] > 0 and first["vat"] == line["tax"] == first["refundable"] > 0
    assert first["total"] == 120_000
    # Refusals leave no gap in the numbering.
    sale2 = await _sale(store, "P-2", her)
    with pytest.raises(Invalid) as exc:
        await tf.issue(sale2, traveller(residence="FR", document_number="x"), actor="anna")
    assert {p.field for p in exc.value.problems} == {"document_number", "residence"}
    with pytest.raises(Refused) as exc:
        await tf.issue(first["sale_id"], traveller(), actor="anna")
    assert exc.value.code == "form_exists" and "TF-000001" in str(exc.value)
    with pytest.raises(Refused) as exc:
        await tf.issue(await _sale(store, "P-3", None), traveller(), actor="anna")
    assert exc.value.code == "no_client"
    with pytest.raises(Refused) as exc:
        await tf.issue(await _sale(store, "CHEAP", her), traveller(), actor="anna")
    assert exc.value.code == "below_minimum"
    second = await tf.issue(sale2, traveller(), actor="anna")
    assert second["number"] == "TF-000002"
    assert [f["number"] for f in await tf.of_client(her)] == ["TF-000002", "TF-000001"]
    # A rebuild gives every form the number it was printed with.
    before = [(f["number"], f["sale_id"], f["refundable"]) for f in await tf.recent()]
    await store.rebuild()
    assert [(f["number"], f["sale_id"], f["refundable"]) for f in await tf.recent()] == before


async def test_her_passport_never_on_disk_in_clear(store, tf):
    her = (await store.clients.create(client("Mei", "Chen"), "anna"))["client_id"]
    form = await tf.issue(await _sale(store, "P-1", her), traveller(), actor="anna")
    pdf = await tf.pdf(form["number"])
    assert pdf.startswith(b"%PDF")
    assert PASSPORT in render_text(await tf.document(form["number"]))
    data_dir: Path = store.config.data_dir
    raw = b"".join(p.read_bytes() for p in data_dir.rglob("*") if p.is_file())
    assert PASSPORT.encode() not in raw and b"CANARY-ADDR" not in raw
    # Erased: the number and the amounts stay, her details are gone for good.
    await store.clients.forget(her, "marc")
    after = await tf.get(form["number"])
    assert after["erased"] and after["traveller"] is None
    assert (after["number"], after["refundable"]) == (form["number"], form["refundable"])
    text = render_text(await tf.document(form["number"]))
    assert PASSPORT not in text and "erased" in text


async def test_void_or_return_cancels_the_form_and_keeps_its_number(store, tf):
    her = (await store.clients.create(client("Mei", "Chen"), "anna"))["client_id"]
    voided = await _sale(store, "P-1", her)
    returned = await _sale(store, "P-2", her)
    a = await tf.issue(voided, traveller(), actor="anna")
    b = await tf.issue(returned, traveller(), actor="anna")
    await store.sales.void(voided, register_id="R1", actor="marc", reason="changed her mind")
    await store.sales.return_lines(returned, register_id="R1", actor="marc", reason="too big")
    for form in (a, b):
        now = await tf.get(form["number"])
        assert now["status"] == "cancelled" and now["number"] == form["number"]
        assert "CANCELLED" in render_text(await tf.document(form["number"]))
    with pytest.raises(Refused) as exc:  # a cancelled form is not made again
        await tf.issue(voided, traveller(), actor="anna")
    assert exc.value.code in ("form_exists", "sale_not_completed")
    assert (await store.closures.report())["totals"]["tax_free"]["cancelled"] == 2
