"""A document (`hub.documents.Document`) on A4 pages, with fpdf2. Imported on first use, by
the worker thread that lays out the first PDF (`hub.documents.render_pdf`)."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from fpdf import FPDF
from fpdf.encryption import StandardSecurityHandler
from fpdf.enums import EncryptionMethod
from fpdf.errors import FPDFException

from hub.documents import QUIET_ZONE, Document, bar_runs, code128_bars

# DejaVu covers the store's every letter and the currency signs; without it (a box with
# no fonts) the PDF falls back to Helvetica and latin-1, with "?" for what it lacks.
_FONTS = Path("/usr/share/fonts/truetype/dejavu")


def pdf_password_ok(password: str) -> bool:
    """Whether a PDF can be locked with `password`: a PDF 2.0 password goes through SASLprep
    (RFC 4013), which refuses control, private-use and unassigned-looking characters and
    right-to-left mixed with left-to-right; `render_pdf` would fail on it."""
    try:
        StandardSecurityHandler.prepare_string(password)
    except FPDFException:
        return False
    return True


def render_pdf(doc: Document, password: str | None = None) -> bytes:
    """The document on A4 pages (fpdf2), the blocks in order: titles large, pairs as a
    label and its value at the right margin, prompts as a label and a line to write on.
    With a `password` the file is AES-256 encrypted: any PDF reader opens it with it."""
    pdf = FPDF(format="A4")
    if password is not None:
        pdf.set_encryption(owner_password=password, user_password=password,
                           encryption_method=EncryptionMethod.AES_256)
    pdf.set_auto_page_break(True, margin=15)
    pdf.set_margins(18, 15, 18)
    regular, bold = _FONTS / "DejaVuSans.ttf", _FONTS / "DejaVuSans-Bold.ttf"
    if regular.exists() and bold.exists():
        pdf.add_font("Body", "", str(regular))
        pdf.add_font("Body", "B", str(bold))
        family = "Body"

        def clean(text: str) -> str:
            return text
    else:
        family = "Helvetica"

        def clean(text: str) -> str:
            return text.encode("latin-1", "replace").decode("latin-1")
    pdf.set_title(clean(doc.title))
    pdf.set_creator("Loupe")
    pdf.add_page()
    width = pdf.epw
    for b in doc.blocks:
        text, right = clean(b.text), clean(b.right)
        align = "C" if b.center else "L"
        if b.kind == "title":
            pdf.set_font(family, "B", 16)
            pdf.multi_cell(width, 9, text, align=align, new_x="LMARGIN", new_y="NEXT")
        elif b.kind == "heading":
            if pdf.get_y() > pdf.h - 50:  # a client's section does not start at a page's foot
                pdf.add_page()
            pdf.ln(3)
            pdf.set_font(family, "B", 12)
            pdf.multi_cell(width, 7, text, align=align, new_x="LMARGIN", new_y="NEXT")
        elif b.kind == "rule":
            pdf.ln(1)
            pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + width, pdf.get_y())
            pdf.ln(2)
        elif b.kind == "blank":
            pdf.ln(4)
        elif b.kind == "pair":
            pdf.set_font(family, "B" if b.bold else "", 10)
            y = pdf.get_y()
            pdf.multi_cell(width * 0.7, 5.5, text, new_x="LMARGIN", new_y="NEXT")
            after = pdf.get_y()
            pdf.set_xy(pdf.l_margin + width * 0.7, y)
            pdf.multi_cell(width * 0.3, 5.5, right, align="R", new_x="LMARGIN", new_y="NEXT")
            pdf.set_y(max(after, pdf.get_y()))
        elif b.kind == "prompt":
            pdf.set_font(family, "", 10)
            label = f"{text} " if text else ""
            pdf.cell(pdf.get_string_width(label), 7, label)
            x, y = pdf.get_x(), pdf.get_y() + 6
            pdf.set_draw_color(150)
            pdf.line(x, y, pdf.l_margin + width, y)
            pdf.set_draw_color(0)
            pdf.ln(8)
        elif b.kind == "qr":
            pdf.set_font(family, "", 8)
            pdf.multi_cell(width, 4, text, align="C", new_x="LMARGIN", new_y="NEXT")
        elif b.kind == "image":
            if b.data:  # at most 80 mm wide and 70 mm high, on one page with its caption
                high = 70
                if pdf.get_y() + high + 8 > pdf.page_break_trigger:
                    pdf.add_page()
                placed = pdf.image(BytesIO(b.data), x=pdf.l_margin, y=pdf.get_y() + 1,
                                   w=0, h=high, keep_aspect_ratio=True)
                pdf.set_y(pdf.get_y() + 2 + min(high, placed.rendered_height))
            pdf.set_font(family, "", 8)
            pdf.multi_cell(width, 4, text, new_x="LMARGIN", new_y="NEXT")
        elif b.kind == "barcode":
            pattern = code128_bars(b.text)
            if pattern:  # 0.33 mm a module (a scanner's comfort), narrower only to fit
                module = min(0.33, width / (len(pattern) + 2 * QUIET_ZONE))
                high = 14
                if pdf.get_y() + high + 6 > pdf.page_break_trigger:
                    pdf.add_page()
                x0 = pdf.l_margin + (width - len(pattern) * module) / 2
                y = pdf.get_y() + 1
                pdf.set_fill_color(0)
                for x, w in bar_runs(pattern):
                    pdf.rect(x0 + x * module, y, w * module, high, style="F")
                pdf.set_y(y + high + 1)
            pdf.set_font(family, "", 9)
            pdf.multi_cell(width, 4.5, text, align="C", new_x="LMARGIN", new_y="NEXT")
        else:  # text, small
            pdf.set_font(family, "B" if b.bold else "", 8 if b.kind == "small" else 10)
            pdf.multi_cell(width, 4.5 if b.kind == "small" else 5.5, text, align=align,
                           new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
