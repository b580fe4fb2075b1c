"""The receipt a luxury client takes home: a pure layout model, rendered three ways.

`build_receipt(sale, pieces, store)` turns a sale (as `Sales.get` returns it), its pieces
(as `Items.get` returns them, stones included) and the store's receipt settings into a
`Receipt`: a list of blocks. The printer driver renders it to ESC/POS, the web UI's preview
to HTML, tests and logs to text, so the preview is exactly what prints. A gift receipt
leaves out every price. No client name or contact ever appears: receipts leave the shop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hub.config import Config
from hub.core.items import group_stones
from hub.documents import Document
from hub.words import ENGLISH, N_, Words, words_for

DEFAULT_POLICY = N_("Returns within 30 days with this receipt, in original condition."
                    " Certificates must accompany returned stones.")
DEFAULT_GIFT_MESSAGE = N_("A gift for you")


@dataclass
class Receipt(Document):
    """A sale's receipt: a document that knows its sale, whether it is a gift receipt or a
    reprint, and what its QR code verifies."""

    sale_id: str = ""
    gift: bool = False
    reprint: bool = False
    qr: str = ""


@dataclass(frozen=True)
class ReceiptSettings:
    store_id: str
    store_name: str
    header_lines: tuple[str, ...] = ()
    footer_lines: tuple[str, ...] = ()
    return_policy: str = DEFAULT_POLICY
    gift_message: str = DEFAULT_GIFT_MESSAGE
    width: int = 42
    verify_url: str = ""
    words: Words = ENGLISH  # the store's language and number formats


def receipt_settings(config: Config) -> ReceiptSettings:
    """From the store config's `[receipts]` table; a problem names `receipts.key`."""
    section = config.section("receipts")
    settings = ReceiptSettings(
        store_id=config.store_id, store_name=config.store_name,
        header_lines=section.texts("header_lines"), footer_lines=section.texts("footer_lines"),
        return_policy=section.text("return_policy", DEFAULT_POLICY),
        gift_message=section.text("gift_message", DEFAULT_GIFT_MESSAGE),
        width=section.whole("width", 42, 24, 64), verify_url=section.text("verify_url", ""),
        words=words_for(config.locale, config.timezone))
    section.done()
    return settings


def metal_text(piece: dict[str, Any], words: Words = ENGLISH) -> str:
    parts = [words.term("colour", piece.get("metal_colour")), words.term("metal", piece.get("metal"))]
    name = " ".join(p for p in parts if p).strip()
    if not name:
        return ""
    if piece.get("karat"):
        name = f"{piece['karat']}k {name}"
    if piece.get("fineness"):
        name += f" {piece['fineness']}"
    return name


def stone_text(stone: dict[str, Any], words: Words = ENGLISH) -> str:
    grade = "/".join(s for s in (stone.get("colour"), stone.get("clarity")) if s)
    bits = [words.carats(stone["carat_cents"]), stone.get("shape") or "",
            words.term("stone", stone["type"]), grade]
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
    w = settings.words
    _ = w.gettext

    def money(amount: int) -> str:
        return w.money(amount, cur)

    r = Receipt(sale_id=sale["sale_id"], gift=gift, reprint=reprint,
                qr=qr_payload(settings, sale))
    r.add("title", settings.store_name, center=True, bold=True)
    for line in settings.header_lines:
        r.add("text", line, center=True)
    r.add("blank")
    if gift:
        r.add("text", _("GIFT RECEIPT"), center=True, bold=True)
        r.add("text", _(settings.gift_message), center=True)
    if reprint:
        r.add("text", _("DUPLICATE"), center=True, bold=True)
    r.add("pair", w.render("Receipt {doc}", {"doc": sale["sale_id"]}), w.when(sale["ts"]))
    r.add("rule")
    for line in sale["lines"]:
        piece = pieces.get(line.get("item_id") or "")
        qty = f"{line['quantity']} x " if line["quantity"] > 1 else ""
        r.add("pair", f"{qty}{line['description']}",
              "" if gift else money(line["unit_price"] * line["quantity"]), bold=True)
        if piece is not None:
            r.add("small", w.render("Serial {serial}", {"serial": piece["item_id"]}))
            metal = metal_text(piece, w)
            if metal:
                weight = piece.get("metal_weight_mg")
                r.add("small", metal + (f", {w.grams(weight)}" if weight else ""))
            stones = piece.get("stones") or []
            if stones:
                centre = stones[0]
                r.add("small", w.render("Centre stone: {stone}", {"stone": stone_text(centre, w)}))
                if centre.get("certificate"):
                    lab = f"{centre['lab']} " if centre.get("lab") else ""
                    r.add("small", w.render("Certificate {number}",
                                            {"number": f"{lab}{centre['certificate']}"}))
                for count, other in group_stones(stones)[1:]:
                    cert = (" " + w.render("(cert. {number})", {"number": other["certificate"]})
                            if other.get("certificate") else "")
                    many = f"{count} × " if count > 1 else ""
                    r.add("small", f"+ {many}{stone_text(other, w)}{cert}")
        elif line.get("sku"):
            r.add("small", w.render("Ref. {sku}", {"sku": line["sku"]}))
        elif str(line.get("service") or "").startswith("giftcard:"):
            r.add("barcode", line["service"].split(":", 1)[1])  # the card's number, scannable
        if line.get("rate"):  # priced by the gram: the rate it used, and when HQ sent it
            rate = line["rate"]
            r.add("small", w.render("{metal} {fineness} at {per_gram} a gram, rate of {when}", {
                "metal": w.term("metal", rate["metal"]), "fineness": rate["fineness"],
                "per_gram": money(rate["per_gram"]), "when": w.when(rate["valid_from"])}))
        promoted = 0
        for promotion in ([] if gift else line.get("promotions") or []):
            r.add("pair", "  " + promotion["name"], money(-promotion["amount"]))
            promoted += promotion["amount"]
        if line["discount"] - promoted and not gift:
            r.add("pair", "  " + _("Discount"), money(-(line["discount"] - promoted)))
    r.add("rule")
    if not gift:
        if sale["discount"]:
            r.add("pair", _("Subtotal"), money(sale["subtotal"]))
            r.add("pair", _("Discount"), money(-sale["discount"]))
        r.add("pair", _("TOTAL"), money(sale["total"]), bold=True)
        included = sale["total"] == sale["subtotal"] - sale["discount"]
        r.add("pair", _("incl. tax") if included else _("Tax"), money(sale["tax"]))
        for tender in sale["tenders"]:
            name = w.term("tender", tender["type"])
            detail = tender.get("detail") or {}
            if detail.get("last4"):
                name += f" {detail.get('brand', '')} **** {detail['last4']}".replace("  ", " ")
            r.add("pair", name, money(tender["amount"]))
            if detail.get("currency") and str(detail.get("foreign_amount", "")).isdigit():
                # Foreign money (hub/travel): what she handed over and the rate it counted at.
                r.add("small", w.render("  {foreign} at {rate}", {
                    "foreign": w.money(int(detail["foreign_amount"]), detail["currency"]),
                    "rate": rate_text(w, detail.get("rate", ""), cur, detail["currency"])}))
        change = sum(t["amount"] for t in sale["tenders"]) - sale["total"]
        if change > 0:  # only cash can be over what is due: this is what went back
            r.add("pair", _("Change given"), money(change), bold=True)
        r.add("rule")
    staff_id = sale.get("associate") or ""
    associate = associate or staff_id
    if associate:
        r.add("text", w.render("Your associate: {name}", {"name": associate}))
    r.add("blank")
    r.add("small", _(settings.return_policy))
    for line in settings.footer_lines:
        r.add("text", line, center=True)
    r.add("blank")
    r.add("qr", r.qr)
    r.add("text", w.render("Journal entry {seq}  Signature {code}",
                           {"seq": str(sale["seq"]), "code": sale["short_code"]}), center=True)
    return r


def rate_text(w: Words, rate: str, home: str, foreign: str) -> str:
    """A foreign tender's rate as a person reads it: "1 USD = 0.8938 EUR", the decimal
    written the store's way, exactly as kept (no rounding of a rate on paper)."""
    whole, _, frac = rate.partition(".")
    if not (whole.isdigit() and (frac.isdigit() or not frac)):
        return rate
    return f"1 {foreign} = {w.decimal(int(whole + frac), len(frac))} {home}"
