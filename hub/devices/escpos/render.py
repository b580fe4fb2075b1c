"""A document (hub.documents: a receipt, a call sheet...) to ESC/POS bytes, through python-escpos's command builder."""

from __future__ import annotations

from escpos.printer import Dummy

from hub.documents import Document, render_lines


def receipt_bytes(receipt: Document, *, width: int = 42, profile: str = "default",
                  cut: bool = True) -> bytes:
    """Build the job with python-escpos's `Dummy` (it collects bytes instead of sending),
    so code pages, QR and cut commands come from the maintained library."""
    p = Dummy(profile=profile)
    last_qr = None
    for block, line in render_lines(receipt, width):
        if block.kind == "qr":
            if block is not last_qr:  # one code per block, however many text lines
                p.set(align="center")
                p.qr(block.text, native=True, size=5)
                last_qr = block
            continue
        p.set(align="center" if block.center else "left", bold=block.bold,
              double_height=block.kind == "title", double_width=False)
        p.textln(line)
    p.set(align="left", bold=False, double_height=False)
    if cut:
        p.cut()
    return bytes(p.output)
