"""One document, three renderers: the lines the receipt printer prints, the HTML preview and
the A4 PDF carry the same words in the same order, prompts included."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from hub.documents import Document, render_html, render_lines, render_pdf, render_text


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
