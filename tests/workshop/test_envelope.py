"""The job's envelope: the bench copy and the client's copy as documents (receipt printer
lines, HTML, PDF, each with the Code 128 of the job number), and the ZPL label, printed on
the simulators through the device manager so the barcode that reaches the paper is read
back."""

from __future__ import annotations

import asyncio
import io

from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from hub.bus import EventBus
from hub.devices.config import parse_devices
from hub.devices.manager import DeviceManager
from hub.devices.profiles import load_profiles
from hub.devices.sim.escpos import EscPosPrinterSim
from hub.devices.sim.zpl import ZplPrinterSim
from hub.devices.zpl.protocol import ZplParser
from hub.documents import render_html, render_text
from hub.pdf import render_pdf
from hub.words import Words
from hub.workshop.envelope import client_copy, envelope, envelope_zpl
from tests.devices.device_helpers import FAST, wait_until

ENGLISH = Words("en-GB", "Europe/Paris")
TERMS = ["Pieces not collected within 12 months may be sold to cover the work.",
         "Estimates are valid for 30 days."]


def ring(**over):
    job = {"job_id": "J1042", "kind": "repair", "client_name": "Camille Durand",
           "description": "yellow metal ring, white centre stone, worn prongs",
           "services": [{"service": "resize", "detail": "to 54", "price": 4500},
                        {"service": "retip", "detail": "4 prongs", "price": 6000},
                        {"service": "engraving", "detail": "C & J 12.06.2027",
                         "font": "script", "price": 3000}],
           "estimate": "call_first", "estimate_limit": None, "express": True,
           "promised": "2026-12-10", "declared_value": 150000, "weight_mg": 4210,
           "stone_count": 5, "deposit": 5000, "balance": 8500, "total": 13500,
           "assignee": "Hugo (bench)", "currency": "EUR"}
    return {**job, **over}


def pdf_text(pdf: bytes) -> tuple[str, bytes]:
    reader = PdfReader(io.BytesIO(pdf))
    return (" ".join(page.extract_text() for page in reader.pages),
            b"".join(page.get_contents().get_data() for page in reader.pages))


def test_the_bench_copy_says_what_to_do_and_no_price():
    doc = envelope(ring(), ENGLISH, store_name="Maison Test")
    text = render_text(doc)
    for needle in ("Maison Test", "J1042", "[Code 128]", "Envelope 1 of 1", "Repair",
                   "EXPRESS", "Camille Durand", "yellow metal ring", "Resize · to 54",
                   "Re-tip · 4 prongs", "Engraving · C & J 12.06.2027", "Font: Script",
                   "4.21 g", "€1,500.00", "Thursday, 10 December 2026",
                   "Call before starting", "Hugo (bench)"):
        assert needle in text, needle
    assert "Stones" in text and text.index("Stones") < text.index("€1,500.00")
    # The declared value is the only amount: no service price, total, deposit or balance.
    for amount in ("€45.00", "€60.00", "€30.00", "€135.00", "€50.00", "€85.00"):
        assert amount not in text
    assert all(len(line) <= 42 for line in text.splitlines())
    page = render_html(doc)
    assert '<svg class="r-bars"' in page and 'data-code="J1042"' in page
    assert "Engraving · C &amp; J 12.06.2027" in page
    words, content = pdf_text(render_pdf(doc))
    assert "J1042" in words and "Camille Durand" in words and "Font: Script" in words
    assert content.count(b" re f") > 20  # the bars, one filled rectangle each
    assert "€45.00" not in words


def test_the_client_copy_has_the_prices_her_deposit_and_the_store_terms():
    doc = client_copy(ring(estimate="limit", estimate_limit=20000), ENGLISH,
                      store_name="Maison Test", terms=TERMS)
    text = render_text(doc)
    lines = text.splitlines()
    assert any(line.startswith("• Resize · to 54") and line.endswith("€45.00") for line in lines)
    assert any(line.startswith("• Re-tip · 4 prongs") and line.endswith("€60.00")
               for line in lines)
    for label, amount in (("Total", "€135.00"), ("Deposit paid", "€50.00"),
                          ("Balance due", "€85.00"), ("Not more than", "€200.00")):
        assert any(line.startswith(label) and line.endswith(amount) for line in lines), label
    for needle in ("J1042", "[Code 128]", "Copy for the client", "Do not exceed an amount",
                   "4.21 g", "Thursday, 10 December 2026",
                   "Pieces not collected within 12 months", "Estimates are valid for 30 days.",
                   "Bring this copy to collect your piece."):
        assert needle in text, needle
    assert lines[-1].startswith("Signature ____")
    page = render_html(doc)
    assert "<svg" in page and "Estimates are valid for 30 days." in page
    words, content = pdf_text(render_pdf(doc))
    assert "Balance due" in words and "Signature" in words and b" re f" in content


def test_what_the_intake_did_not_record_is_a_line_to_fill_in():
    bare = {"job_id": "J7", "kind": "repair", "weight_mg": None, "stone_count": None,
            "promised": None, "assignee": None, "services": None, "currency": None}
    text = render_text(envelope(bare, ENGLISH, store_name="Maison Test"))
    for prompt in ("Weight at intake ____", "Stones ____", "Promised for ____",
                   "Jeweler ____", "Client ____", "Description ____"):
        assert prompt in text, prompt
    assert "J7" in text
    # A stone count of nought is a count, not a blank.
    counted = render_text(envelope(ring(stone_count=0), ENGLISH, store_name="M"))
    assert "Stones ____" not in counted
    # Prices without a currency still print, as plain amounts.
    plain = render_text(client_copy(ring(currency=None), ENGLISH, store_name="M", terms=[]))
    assert "45.00" in plain and "€" not in plain
    # Not even a job number: the copies still print (no barcode of nothing).
    nothing = client_copy({}, ENGLISH, store_name="M", terms=[])
    assert all(b.kind != "barcode" for b in nothing.blocks)
    assert render_pdf(nothing).startswith(b"%PDF")


def test_which_envelope_of_how_many():
    doc = envelope(ring(), ENGLISH, store_name="Maison Test", of=(2, 3))
    assert "Envelope 2 of 3" in render_text(doc)
    label = ZplParser()
    label.feed(envelope_zpl(ring(), ENGLISH, store_name="Maison Test", of=(2, 3)))
    assert "Envelope 2 of 3" in label.labels[0].texts()


def test_the_envelope_in_french():
    fr = Words("fr-FR", "Europe/Paris")
    text = render_text(client_copy(ring(), fr, store_name="Maison Test", terms=TERMS))
    # The store's own digits, dates and words (paper spaces for the no-break ones).
    for needle in ("1 500,00 €", "45,00 €", "135,00 €", "4,21 g", "jeudi 10 décembre 2026",
                   "Pierres", "Client"):
        assert needle in text, needle
    bench = render_text(envelope(ring(), fr, store_name="Maison Test"))
    assert "1 500,00 €" in bench and "45,00 €" not in bench
    label = envelope_zpl(ring(), fr, store_name="Maison Test").decode("utf-8")
    assert "10 déc. 2026" in label and "\u202f" not in label and "\u00a0" not in label


def test_the_zpl_label_carries_a_code_128_of_the_job_number():
    zpl = envelope_zpl(ring(client_name="Camille ^XZ Durand~"), ENGLISH,
                       store_name="Maison Test")
    assert zpl.startswith(b"^XA") and zpl.rstrip().endswith(b"^XZ") and b"^BCN" in zpl
    parser = ZplParser()
    parser.feed(zpl)
    assert len(parser.labels) == 1  # a caret in her name did not end the label
    label = parser.labels[0]
    assert [f.text for f in label.fields if f.kind == "code128"] == ["J1042"]
    texts = label.texts()
    for needle in ("Maison Test", "J1042", "Envelope 1 of 1", "Camille  XZ Durand ",
                   "Promised for 10 Dec 2026 · EXPRESS", "Resize, Re-tip and Engraving"):
        assert needle in texts, needle
    bare = ZplParser()
    bare.feed(envelope_zpl({}, ENGLISH, store_name="Maison Test"))
    assert [f for f in bare.labels[0].fields if f.kind == "code128"] == []


@given(st.fixed_dictionaries({}, optional={
    "job_id": st.sampled_from(["J1", "J1042", None]),
    "kind": st.sampled_from(["repair", "custom", "special", "odd_kind", None]),
    "client_name": st.one_of(st.none(), st.text(max_size=80)),
    "description": st.one_of(st.none(), st.text(max_size=300)),
    "services": st.one_of(st.none(), st.lists(st.fixed_dictionaries({}, optional={
        "service": st.sampled_from(["resize", "engraving", "mystery", None]),
        "detail": st.one_of(st.none(), st.text(max_size=60)),
        "font": st.sampled_from(["script", "odd", None]),
        "price": st.one_of(st.none(), st.integers(0, 10**9))}), max_size=6)),
    "estimate": st.sampled_from(["estimate_only", "call_first", "limit", None]),
    "estimate_limit": st.one_of(st.none(), st.integers(0, 10**9)),
    "express": st.booleans(),
    "promised": st.sampled_from(["2026-12-10", None]),
    "declared_value": st.one_of(st.none(), st.integers(0, 10**9)),
    "weight_mg": st.one_of(st.none(), st.integers(0, 10**7)),
    "stone_count": st.one_of(st.none(), st.integers(0, 500)),
    "deposit": st.one_of(st.none(), st.integers(0, 10**9)),
    "balance": st.one_of(st.none(), st.integers(-10**6, 10**9)),
    "total": st.one_of(st.none(), st.integers(0, 10**9)),
    "assignee": st.one_of(st.none(), st.text(max_size=40)),
    "currency": st.sampled_from(["EUR", "CHF", "JPY", None]),
}), st.integers(32, 48))
@settings(max_examples=25, deadline=None)  # each example lays out PDFs
def test_any_job_the_intake_may_give_prints(job, width):
    for doc in (envelope(job, ENGLISH, store_name="Maison Test"),
                client_copy(job, ENGLISH, store_name="Maison Test", terms=TERMS)):
        assert all(len(line) <= width for line in render_text(doc, width).splitlines())
        assert render_pdf(doc).startswith(b"%PDF")
        render_html(doc)
    parser = ZplParser()
    parser.feed(envelope_zpl(job, ENGLISH, store_name="Maison Test"))
    assert len(parser.labels) == 1


def _specs(escpos_port: int, zpl_port: int):
    return parse_devices({
        "printer-r1": {"model": "epson-tm-t88vi", "register": "R1", "host": "127.0.0.1",
                       "port": escpos_port, **FAST},
        "envelopes": {"model": "zebra-zd421", "host": "127.0.0.1", "port": zpl_port, **FAST},
    }, load_profiles(), {"R1"})


async def test_printed_envelopes_scan_back_as_the_job_number():
    receipts, labels = EscPosPrinterSim(), ZplPrinterSim()
    await receipts.start()
    await labels.start()
    manager = DeviceManager(_specs(receipts.port, labels.port),
                            EventBus(asyncio.get_running_loop()))
    await manager.start()
    try:
        await wait_until(lambda: all(d.state == "connected" for d in manager.devices.values()))
        job = ring()
        await manager.print_document(envelope(job, ENGLISH, store_name="Maison Test"), "R1",
                                     "envelope:J1042")
        await manager.print_document(client_copy(job, ENGLISH, store_name="Maison Test",
                                                 terms=TERMS), "R1", "client-copy:J1042")
        await wait_until(lambda: len(receipts.receipts) == 2)
        assert [r.barcodes for r in receipts.receipts] == [[("CODE128", "J1042")]] * 2
        assert "€45.00" not in receipts.receipts[0].text
        assert "€45.00" in receipts.receipts[1].text
        zpl = envelope_zpl(job, ENGLISH, store_name="Maison Test")
        first = await manager.print_label(zpl, job_id="label:J1042")
        await wait_until(lambda: labels.labels)
        assert labels.barcodes() == ["J1042"]
        assert first["again"] is False and first["device"] == "envelopes"
        # The same job id again (a double click, a retried request) prints nothing more.
        again = await manager.print_label(zpl, "envelopes", job_id="label:J1042")
        assert again["again"] is True
        # Labels go out in order on one link: once both copies of the next job are out, a
        # second print of the first would have come before them.
        second = envelope_zpl(job, ENGLISH, store_name="Maison Test", of=(2, 2))
        two = await manager.print_label(second, job_id="label:J1042:2", copies=2)
        await wait_until(lambda: sum("Envelope 2 of 2" in label.texts()
                                     for label in labels.labels) == 2)
        assert labels.barcodes() == ["J1042"] * 3 and two["copies"] == 2
    finally:
        await manager.stop()
        await receipts.stop()
        await labels.stop()
