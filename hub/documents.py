"""One document model for everything the hub prints or shows as a page: receipts, call
sheets, preparation lists, statements. A `Document` is a list of blocks; it renders as fixed-
width lines (the receipt printer, text previews), as HTML (the screen) and as an A4 PDF
(fpdf2, `hub.pdf`), so what prints is what was previewed. Blocks carry text already in the
store's words: the renderers only lay it out.
"""

from __future__ import annotations

import asyncio
import base64
import html
import importlib
import re
from dataclasses import dataclass, field
from typing import Any

from barcode.codex import Code128
from barcode.errors import BarcodeError


@dataclass(frozen=True, slots=True)
class Block:
    """kind: title | heading | text | pair | rule | small | qr | barcode (a Code 128 of
    `text`, with the text under it) | blank | prompt (a blank to fill in by hand: `text`
    says what, e.g. "Ring size") | image (a JPEG or PNG picture in `data`, `text` its
    caption: on paper and in text only the caption)."""

    kind: str
    text: str = ""
    right: str = ""
    bold: bool = False
    center: bool = False
    data: bytes = b""

    def as_dict(self) -> dict[str, Any]:
        """The block as JSON carries it (a picture's bytes stay out: the page has them)."""
        return {"kind": self.kind, "text": self.text, "right": self.right, "bold": self.bold,
                "center": self.center}


@dataclass
class Document:
    """A printed or shown page: a title and its blocks, in order."""

    title: str = ""
    blocks: list[Block] = field(default_factory=list)

    def add(self, kind: str, text: str = "", right: str = "", **kw: Any) -> None:
        self.blocks.append(Block(kind, text, right, **kw))


def _wrap(text: str, width: int) -> list[str]:
    words, lines, cur = text.split(), [], ""
    for word in words:
        while len(word) > width:
            if cur:
                lines.append(cur)
                cur = ""
            lines.append(word[:width])
            word = word[width:]
        if not cur:
            cur = word
        elif len(cur) + 1 + len(word) <= width:
            cur += " " + word
        else:
            lines.append(cur)
            cur = word
    if cur:
        lines.append(cur)
    return lines or [""]


def code128_bars(text: str) -> str:
    """The Code 128 of `text` as modules, "1" a bar and "0" a space (start, data, check and
    stop symbols, by python-barcode); "" for what a scanner could not read back as typed
    (empty, or beyond printable ASCII): the renderers then print the text alone."""
    if not text or not all(" " <= ch <= "~" for ch in text):
        return ""
    try:
        return Code128(text).build()[0]
    except (BarcodeError, LookupError):
        return ""


def bar_runs(pattern: str) -> list[tuple[int, int]]:
    """Each bar of a pattern as (first module, modules wide): one rectangle per bar."""
    return [(m.start(), len(m.group())) for m in re.finditer("1+", pattern)]


QUIET_ZONE = 10  # modules of white each side, so a scanner finds where the code starts


_PAPER = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " "})


def render_lines(receipt: Document, width: int = 42) -> list[tuple[Block, str]]:
    """Each block as fixed-width text lines (what ESC/POS and the text preview print). The
    store's no-break spaces (in `3 190,00 €`, `1,02 ct`) become plain spaces: the paper
    keeps its columns by itself and printer code pages lack them."""
    out: list[tuple[Block, str]] = []
    for b in receipt.blocks:
        b = Block(b.kind, b.text.translate(_PAPER), b.right.translate(_PAPER), b.bold, b.center,
                  b.data)
        if b.kind == "rule":
            out.append((b, "-" * width))
        elif b.kind == "blank":
            out.append((b, ""))
        elif b.kind == "pair" and len(b.right) > width - 9:  # a long value: its own lines
            out.extend((b, part) for part in _wrap(b.text, width))
            out.extend((b, part.rjust(width)) for part in _wrap(b.right, width))
        elif b.kind == "pair":
            left_w = width - len(b.right) - 1 if b.right else width
            wrapped = _wrap(b.text, max(8, left_w))
            for i, part in enumerate(wrapped):
                right = b.right if i == len(wrapped) - 1 else ""
                out.append((b, part.ljust(width - len(right)) + right if right else part))
        elif b.kind == "prompt":  # the label, then a line to write on (its own when long)
            label = _wrap(b.text, width) if b.text else []
            if label and len(label[-1]) <= width - 8:
                last = label.pop()
                out.extend((b, part) for part in label)
                out.append((b, (last + " ").ljust(width, "_")))
            else:
                out.extend((b, part) for part in label)
                out.append((b, "_" * width))
        elif b.kind == "qr":
            text = f"[QR {b.text}]"
            out.extend((b, text[i:i + width]) for i in range(0, len(text), width))
        elif b.kind == "image":  # a receipt printer prints no photographs: their captions
            out.extend((b, part) for part in _wrap(f"[{b.text}]", width))
        elif b.kind == "barcode":  # the printer draws the bars; the text says what they hold
            out.append((b, "[Code 128]".center(width).rstrip()))
            out.extend((b, part.center(width).rstrip()) for part in _wrap(b.text, width))
        else:
            for part in _wrap(b.text, width):
                out.append((b, part.center(width).rstrip() if b.center else part))
    return out


def render_text(receipt: Document, width: int = 42) -> str:
    return "\n".join(line for _, line in render_lines(receipt, width)) + "\n"


def render_html(receipt: Document) -> str:
    """A preview for the web UI; same blocks, same order as the paper."""
    parts = ['<div class="receipt">']
    for b in receipt.blocks:
        e = html.escape
        cls = f"r-{b.kind}" + (" r-bold" if b.bold else "") + (" r-center" if b.center else "")
        if b.kind == "rule":
            parts.append('<hr class="r-rule">')
        elif b.kind == "blank":
            parts.append('<div class="r-blank">&nbsp;</div>')
        elif b.kind == "pair":
            parts.append(f'<div class="{cls}"><span>{e(b.text)}</span>'
                         f'<span class="r-right">{e(b.right)}</span></div>')
        elif b.kind == "prompt":
            parts.append(f'<div class="r-prompt"><span>{e(b.text)}</span>'
                         '<span class="r-line"></span></div>')
        elif b.kind == "qr":
            parts.append(f'<div class="r-qr" data-qr="{e(b.text)}">{e(b.text)}</div>')
        elif b.kind == "image":
            kind = "png" if b.data.startswith(b"\x89PNG") else "jpeg"
            picture = base64.b64encode(b.data).decode()
            parts.append(f'<figure class="r-image"><img alt="{e(b.text)}"'
                         f' src="data:image/{kind};base64,{picture}">'
                         f'<figcaption>{e(b.text)}</figcaption></figure>')
        elif b.kind == "barcode":
            parts.append(f'<div class="r-barcode" data-code="{e(b.text)}">'
                         f'{_svg(code128_bars(b.text), b.text)}<div>{e(b.text)}</div></div>')
        else:
            parts.append(f'<div class="{cls}">{e(b.text)}</div>')
    parts.append("</div>")
    return "\n".join(parts)


def _svg(pattern: str, text: str) -> str:
    """The bars as an inline SVG (one rect per bar, 2 px a module): no image to fetch, and
    it scans off the screen as well as off the paper."""
    if not pattern:
        return ""
    wide, high = len(pattern) + 2 * QUIET_ZONE, 25
    rects = "".join(f'<rect x="{QUIET_ZONE + x}" y="0" width="{w}" height="{high}"/>'
                    for x, w in bar_runs(pattern))
    return (f'<svg class="r-bars" xmlns="http://www.w3.org/2000/svg" role="img" '
            f'aria-label="{html.escape(text)}" viewBox="0 0 {wide} {high}" '
            f'width="{2 * wide}" height="{2 * high}" shape-rendering="crispEdges">'
            f'<rect width="{wide}" height="{high}" fill="#fff"/><g fill="#000">{rects}</g>'
            '</svg>')


# -- PDF: laid out by hub/pdf.py on a worker thread ---------------------------------------------

def _pdf() -> Any:
    # fpdf2 and its font tools load at the first PDF, on the worker thread that lays it out:
    # a fifth of a second of imports, and their memory, that no start of the hub needs.
    return importlib.import_module("hub.pdf")


async def render_pdf(doc: Document, password: str | None = None) -> bytes:
    """The document on A4 pages (`hub.pdf.render_pdf`), laid out on a worker thread: it is
    CPU work. With a `password` the file is AES-256 encrypted."""
    return await asyncio.to_thread(lambda: _pdf().render_pdf(doc, password))


async def pdf_password_ok(password: str) -> bool:
    """Whether a PDF can be locked with `password` (`hub.pdf.pdf_password_ok`)."""
    return await asyncio.to_thread(lambda: _pdf().pdf_password_ok(password))
