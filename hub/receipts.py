"""The receipt a luxury client takes home: a pure layout model, rendered three ways.

`build_receipt(sale, pieces, store)` turns a sale (as `Sales.get` returns it), its pieces
(as `Items.get` returns them, stones included) and the store's receipt settings into a
`Receipt`: a list of blocks. The printer driver renders it to ESC/POS, the web UI's preview
to HTML, tests and logs to text, so the preview is exactly what prints. A gift receipt
leaves out every price. No client name or contact ever appears: receipts leave the shop.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

from hub.money import format_amount

TENDER_NAMES = {"cash": "Cash", "card": "Card", "store_credit": "Store credit",
                "gift_card": "Gift card", "trade_in": "Trade-in",
                "bank_transfer": "Bank transfer"}
DEFAULT_POLICY = ("Returns within 30 days with this receipt, in original condition."
                  " Certificates must accompany returned stones.")
_RECEIPT_KEYS = {"header_lines", "footer_lines", "return_policy", "gift_message", "width",
                 "verify_url"}


@dataclass(frozen=True, slots=True)
class Block:
    """kind: title | text | pair | rule | small | qr | blank."""

    kind: str
    text: str = ""
    right: str = ""
    bold: bool = False
    center: bool = False


@dataclass
class Receipt:
    sale_id: str
    gift: bool
    reprint: bool
    qr: str
    blocks: list[Block] = field(default_factory=list)

    def add(self, kind: str, text: str = "", right: str = "", **kw: Any) -> None:
        self.blocks.append(Block(kind, text, right, **kw))


@dataclass(frozen=True)
class ReceiptSettings:
    store_id: str
    store_name: str
    header_lines: tuple[str, ...] = ()
    footer_lines: tuple[str, ...] = ()
    return_policy: str = DEFAULT_POLICY
    gift_message: str = "A gift for you"
    width: int = 42
    verify_url: str = ""


def receipt_settings(config: Any) -> ReceiptSettings:
    """From the store config's `[receipts]` table, validated; errors name the key."""
    raw = config.section("receipts")
    extra = sorted(set(raw) - _RECEIPT_KEYS)
    if extra:
        raise ValueError(f"receipts: unknown key {extra[0]!r}"
                         f" (allowed: {', '.join(sorted(_RECEIPT_KEYS))})")

    def lines(key: str) -> tuple[str, ...]:
        value = raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"receipts.{key}: must be a list of text lines")
        return tuple(value)

    def text(key: str, default: str) -> str:
        value = raw.get(key, default)
        if not isinstance(value, str):
            raise ValueError(f"receipts.{key}: must be text, got {value!r}")
        return value

    width = raw.get("width", 42)
    if isinstance(width, bool) or not isinstance(width, int) or not 24 <= width <= 64:
        raise ValueError(f"receipts.width: must be a whole number of columns from 24 to 64,"
                         f" got {width!r}")
    return ReceiptSettings(
        store_id=config.store_id, store_name=config.store_name,
        header_lines=lines("header_lines"), footer_lines=lines("footer_lines"),
        return_policy=text("return_policy", DEFAULT_POLICY),
        gift_message=text("gift_message", "A gift for you"), width=width,
        verify_url=text("verify_url", ""))


def weight_text(milligrams: int) -> str:
    grams, mg = divmod(milligrams, 1000)
    return f"{grams}.{mg // 10:02d} g"


def carat_text(carat_cents: int) -> str:
    return f"{carat_cents // 100}.{carat_cents % 100:02d} ct"


def metal_text(piece: dict[str, Any]) -> str:
    parts = [piece.get("metal_colour") or "", piece.get("metal") or ""]
    name = " ".join(p for p in parts if p).strip()
    if not name:
        return ""
    if piece.get("karat"):
        name = f"{piece['karat']}k {name}"
    if piece.get("fineness"):
        name += f" {piece['fineness']}"
    return name


def stone_text(stone: dict[str, Any]) -> str:
    grade = "/".join(s for s in (stone.get("colour"), stone.get("clarity")) if s)
    bits = [carat_text(stone["carat_cents"]), stone.get("shape") or "", stone["type"], grade]
    return " ".join(b for b in bits if b)


def qr_payload(settings: ReceiptSettings, sale: dict[str, Any]) -> str:
    """What the QR code holds: enough for an auditor to find and check the journal entry
    (store, seq and the signature's short code) and nothing personal."""
    core = f"{settings.store_id}/{sale['seq']}/{sale['short_code']}"
    if settings.verify_url:
        return f"{settings.verify_url.rstrip('/')}/{core}"
    return f"LOUPE:{core}:{sale['sale_id']}"


def build_receipt(sale: dict[str, Any], pieces: dict[str, dict[str, Any]],
                  settings: ReceiptSettings, *, gift: bool = False,
                  reprint: bool = False, associate: str | None = None) -> Receipt:
    """Lay out a sale's receipt. `pieces` maps item_id to the piece (with stones);
    `associate` is the staff member's name when the caller knows it (the staff roster)."""
    cur = sale["currency"]

    def money(amount: int) -> str:
        return format_amount(amount, cur)

    r = Receipt(sale["sale_id"], gift, reprint, qr_payload(settings, sale))
    r.add("title", settings.store_name, center=True, bold=True)
    for line in settings.header_lines:
        r.add("text", line, center=True)
    r.add("blank")
    if gift:
        r.add("text", "GIFT RECEIPT", center=True, bold=True)
        r.add("text", settings.gift_message, center=True)
    if reprint:
        r.add("text", "DUPLICATE", center=True, bold=True)
    r.add("pair", f"Receipt {sale['sale_id']}", str(sale["ts"])[:16].replace("T", " "))
    r.add("rule")
    for line in sale["lines"]:
        piece = pieces.get(line.get("item_id") or "")
        qty = f"{line['quantity']} x " if line["quantity"] > 1 else ""
        r.add("pair", f"{qty}{line['description']}",
              "" if gift else money(line["unit_price"] * line["quantity"]), bold=True)
        if piece is not None:
            r.add("small", f"Serial {piece['item_id']}")
            metal = metal_text(piece)
            if metal:
                weight = piece.get("metal_weight_mg")
                r.add("small", metal + (f", {weight_text(weight)}" if weight else ""))
            stones = piece.get("stones") or []
            if stones:
                centre = stones[0]
                r.add("small", f"Centre stone: {stone_text(centre)}")
                if centre.get("certificate"):
                    lab = f"{centre['lab']} " if centre.get("lab") else ""
                    r.add("small", f"Certificate {lab}{centre['certificate']}")
                for other in stones[1:]:
                    cert = f" (cert. {other['certificate']})" if other.get("certificate") else ""
                    r.add("small", f"+ {stone_text(other)}{cert}")
        elif line.get("sku"):
            r.add("small", f"Ref. {line['sku']}")
        if line["discount"] and not gift:
            r.add("pair", "  Discount", money(-line["discount"]))
    r.add("rule")
    if not gift:
        if sale["discount"]:
            r.add("pair", "Subtotal", money(sale["subtotal"]))
            r.add("pair", "Discount", money(-sale["discount"]))
        r.add("pair", "TOTAL", money(sale["total"]), bold=True)
        included = sale["total"] == sale["subtotal"] - sale["discount"]
        r.add("pair", "incl. tax" if included else "Tax", money(sale["tax"]))
        for tender in sale["tenders"]:
            name = TENDER_NAMES.get(tender["type"], tender["type"])
            detail = tender.get("detail") or {}
            if detail.get("last4"):
                name += f" {detail.get('brand', '')} **** {detail['last4']}".replace("  ", " ")
            r.add("pair", name, money(tender["amount"]))
        r.add("rule")
    staff_id = sale.get("associate") or ""
    associate = associate or staff_id
    if associate:
        r.add("text", f"Your associate: {associate}")
    r.add("blank")
    r.add("small", settings.return_policy)
    for line in settings.footer_lines:
        r.add("text", line, center=True)
    r.add("blank")
    r.add("qr", r.qr)
    r.add("text", f"Journal #{sale['seq']}  Signature {sale['short_code']}", center=True)
    return r


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


def render_lines(receipt: Receipt, width: int = 42) -> list[tuple[Block, str]]:
    """Each block as fixed-width text lines (what ESC/POS and the text preview print)."""
    out: list[tuple[Block, str]] = []
    for b in receipt.blocks:
        if b.kind == "rule":
            out.append((b, "-" * width))
        elif b.kind == "blank":
            out.append((b, ""))
        elif b.kind == "pair":
            left_w = width - len(b.right) - 1 if b.right else width
            wrapped = _wrap(b.text, max(8, left_w))
            for i, part in enumerate(wrapped):
                right = b.right if i == len(wrapped) - 1 else ""
                out.append((b, part.ljust(width - len(right)) + right if right else part))
        elif b.kind == "qr":
            text = f"[QR {b.text}]"
            out.extend((b, text[i:i + width]) for i in range(0, len(text), width))
        else:
            for part in _wrap(b.text, width):
                out.append((b, part.center(width).rstrip() if b.center else part))
    return out


def render_text(receipt: Receipt, width: int = 42) -> str:
    return "\n".join(line for _, line in render_lines(receipt, width)) + "\n"


def render_html(receipt: Receipt) -> str:
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
        elif b.kind == "qr":
            parts.append(f'<div class="r-qr" data-qr="{e(b.text)}">{e(b.text)}</div>')
        else:
            parts.append(f'<div class="{cls}">{e(b.text)}</div>')
    parts.append("</div>")
    return "\n".join(parts)
