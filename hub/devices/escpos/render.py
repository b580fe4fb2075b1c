"""A document (hub.documents: a receipt, a call sheet...) to ESC/POS bytes, through python-escpos's command builder."""

from __future__ import annotations

from escpos.printer import Dummy

from hub.documents import Document, code128_bars, render_lines

# 80 mm paper is 576 dots wide at 203 dpi (512 printable): the widest a code may be drawn.
_PRINTABLE_DOTS = 512


def receipt_bytes(receipt: Document, *, width: int = 42, profile: str = "default",
                  cut: bool = True) -> bytes:
    """Build the job with python-escpos's `Dummy` (it collects bytes instead of sending),
    so code pages, QR and cut commands come from the maintained library."""
    p = Dummy(profile=profile)
    last_qr = last_bars = None
    for block, line in render_lines(receipt, width):
        if block.kind == "qr":
            if block is not last_qr:  # one code per block, however many text lines
                p.set(align="center")
                p.qr(block.text, native=True, size=5)
                last_qr = block
            continue
        if block.kind == "barcode" and code128_bars(block.text):
            if block is not last_bars:
                _code128(p, block.text)
                last_bars = block
            continue
        p.set(align="center" if block.center else "left", bold=block.bold,
              double_height=block.kind == "title", double_width=False)
        p.textln(line)
    p.set(align="left", bold=False, double_height=False)
    if cut:
        p.cut()
    return bytes(p.output)


def _code128(p: Dummy, text: str) -> None:
    """The printer draws the bars and prints the text under them (HRI). `{B` picks code
    set B (function type B, GS k 73); a `{` in the data is written `{{`. Modules are 3 dots
    wide (a scanner reads them off thermal paper), 2 when a long code would not fit."""
    modules = len(code128_bars(text))
    p.barcode("{B" + text.replace("{", "{{"), "CODE128", height=80,
              width=3 if modules * 3 <= _PRINTABLE_DOTS else 2, pos="BELOW", font="A",
              align_ct=True, function_type="B")
