"""One document, three renderers: the lines the receipt printer prints, the HTML preview and
the A4 PDF carry the same words in the same order, prompts included."""

from __future__ import annotations

import io
import re

from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from hub.documents import (
    Document,
    code128_bars,
    render_html,
    render_lines,
    render_text,
)
from hub.pdf import render_pdf


def _sheet() -> Document:
    doc = Document("Call sheet")
    doc.add("title", "Maison Test — call sheet", center=True)
    doc.add("heading", "Hélène Fontaine")
    doc.add("pair", "Lifetime", "48 200,00 €")
    doc.add("text", "Anniversary on 14 December, in 12 days")
    doc.add("prompt", "Ring size, right hand")
    doc.add("rule")
    doc.add("small", "Printed by Sophie")
    return doc


def test_the_three_renderings_say_the_same():
    doc = _sheet()
    text = render_text(doc, 42)
    assert "Hélène Fontaine" in text and "48 200,00 €" in text  # paper spaces, plain
    assert "Ring size, right hand ____" in text
    html = render_html(doc)
    assert "r-prompt" in html and "Ring size, right hand" in html
    pdf = render_pdf(doc)
    assert pdf.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(pdf))
    words = " ".join(page.extract_text() for page in reader.pages)
    order = [words.index(w) for w in ("call sheet", "Hélène Fontaine", "Lifetime",
                                      "Anniversary", "Ring size, right hand", "Sophie")]
    assert order == sorted(order)
    assert "48" in words and "€" in words
    assert reader.metadata.title == "Call sheet"


@given(st.lists(st.tuples(st.sampled_from(["title", "heading", "text", "pair", "small",
                                           "prompt", "rule", "blank"]),
                          st.text(min_size=0, max_size=300)), max_size=60),
       st.integers(24, 64))
@settings(max_examples=40, deadline=None)  # each example lays out a PDF
def test_any_document_renders_within_the_paper(blocks, width):
    doc = Document("Any")
    for kind, text in blocks:
        doc.add(kind, text, "9,99 €" if kind == "pair" else "")
    for _, line in render_lines(doc, width):
        assert len(line) <= width
    assert render_pdf(doc).startswith(b"%PDF")


def _bars_in_pdf(pdf: bytes) -> str:
    """The filled rectangles of the first page read back as Code 128 modules ("1" bar,
    "0" space), from their x positions and widths in the content stream."""
    content = PdfReader(io.BytesIO(pdf)).pages[0].get_contents().get_data().decode("latin-1")
    rects = [(float(x), float(w)) for x, w in
             re.findall(r"([\d.]+) [\d.]+ ([\d.]+) -?[\d.]+ re f", content)]
    assert rects, "no filled rectangles on the page"
    module = min(w for _, w in rects)  # the narrowest bar is one module
    start = rects[0][0]
    out: list[str] = []
    for x, w in rects:
        at = round((x - start) / module)
        out.extend("0" * (at - len(out)))
        out.extend("1" * round(w / module))
    return "".join(out)


def test_a_barcode_block_is_bars_on_paper_screen_and_pdf():
    doc = Document("Envelope")
    doc.add("title", "J1042", center=True)
    doc.add("barcode", "J1042")
    doc.add("text", "Camille Durand")
    pattern = code128_bars("J1042")
    # Start B, then the data and its check symbol, then the stop bars.
    assert pattern.startswith("11010010000") and pattern.endswith("1100011101011")
    lines = [line for _, line in render_lines(doc, 42)]
    assert lines[1:3] == ["[Code 128]".center(42).rstrip(), "J1042".center(42).rstrip()]
    page = render_html(doc)
    assert '<svg class="r-bars"' in page and 'data-code="J1042"' in page
    assert page.count("<rect x=") == len(re.findall("1+", pattern))  # one rect per bar
    pdf = render_pdf(doc)
    assert _bars_in_pdf(pdf) == pattern  # the very bars a scanner reads back as J1042
    words = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert words.index("J1042") < words.index("Camille Durand")


def test_a_code_a_scanner_could_not_read_back_prints_as_text_alone():
    for text in ("", "Bague à 54", "J10\n42"):
        assert code128_bars(text) == ""
    doc = Document("x")
    doc.add("barcode", "Bague à 54")
    assert "<svg" not in render_html(doc) and "Bague à 54" in render_html(doc)
    pdf = render_pdf(doc)
    assert " re f" not in PdfReader(io.BytesIO(pdf)).pages[0].get_contents().get_data().decode(
        "latin-1")
    assert "Bague à 54" in render_text(doc)


@given(st.lists(st.text(min_size=0, max_size=120), min_size=1, max_size=8),
       st.integers(24, 64))
@settings(max_examples=20, deadline=None)  # each example lays out a PDF
def test_any_barcode_renders_within_the_paper(codes, width):
    doc = Document("Any")
    for code in codes:
        doc.add("barcode", code)
    for _, line in render_lines(doc, width):
        assert len(line) <= width
    assert render_pdf(doc).startswith(b"%PDF")
    assert render_html(doc).count('class="r-barcode"') == len(codes)


def test_a_value_too_long_for_its_pair_takes_lines_of_its_own():
    doc = Document("x")
    doc.add("pair", "Estimate", "Estimate only, wait for approval")
    doc.add("pair", "Client", "Marie-Hélène de La Tour d'Auvergne-Lauraguais")
    lines = render_text(doc, 32).splitlines()
    assert lines[0] == "Estimate"
    assert lines[1] == "Estimate only, wait for approval"
    assert lines[2] == "Client" and all(line.endswith(("Tour", "d'Auvergne-Lauraguais"))
                                        for line in lines[3:])
    assert all(len(line) <= 32 for line in lines)
