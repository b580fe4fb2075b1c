"""Sales, returns and voids. Nothing is edited in place: a return or a void is a new entry
that references the sale, and takes the next gapless document number of its register."""

from __future__ import annotations

import json
import re
from typing import Any

from hub.core.errors import Invalid, NotFound, Refused
from hub.core.items import (
    WHY_NOT_SELLABLE,
    adjust_stock,
    load_piece_tx,
    row_dict,
    row_dicts,
    set_status,
)
from hub.ledger.journal import Entry, short_code
from hub.ledger.ledger import Ledger, Tx
from hub.money import allocate, round_half_up_div, tax_included, tax_on_top

TENDER_TYPES = ("cash", "card", "store_credit", "gift_card", "trade_in", "bank_transfer")
_TENDER_DETAIL = {
    "cash": set(),
    "card": {"brand", "last4", "auth_code", "terminal_ref"},
    "store_credit": {"reference"},
    "gift_card": {"number"},
    "trade_in": {"description", "reference"},
    "bank_transfer": {"reference"},
}
_PAN_LIKE = re.compile(r"\d[\d \-]{10,}\d")
MAX_LINES = 200
# The largest amount a price or tender may be, in minor units (10 billion euros): far above
# any jewel, and low enough that 200 lines of 10,000 each still fit SQLite's 64-bit integers.
MAX_AMOUNT = 10**12


def document_id(register_id: str, receipt_no: int) -> str:
    return f"{register_id}-{receipt_no:06d}"


def validate_tenders(raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not raw:
        raise Invalid("at least one tender is needed", "tenders")
    if len(raw) > 20:
        raise Invalid("at most 20 tenders", "tenders")
    out = []
    for i, tender in enumerate(raw):
        where = f"tenders[{i}]"
        if not isinstance(tender, dict):
            raise Invalid("must be an object", where)
        kind = tender.get("type")
        if kind not in TENDER_TYPES:
            raise Invalid(f"type must be one of: {', '.join(TENDER_TYPES)}", where)
        amount = tender.get("amount")
        if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= MAX_AMOUNT:
            raise Invalid("amount must be a positive integer in minor units", f"{where}.amount")
        detail = {k: v for k, v in tender.items() if k not in ("type", "amount")}
        extra = set(detail) - _TENDER_DETAIL[kind]
        if extra:
            raise Invalid(f"unknown field {sorted(extra)[0]!r} for a {kind} tender", where)
        for key, value in detail.items():
            if not isinstance(value, str) or len(value) > 60:
                raise Invalid("must be text of at most 60 characters", f"{where}.{key}")
            if _PAN_LIKE.search(value):
                raise Invalid("looks like a full card number: the hub keeps only the last 4"
                              " digits, brand and authorization code", f"{where}.{key}")
        if kind == "card":
            if not re.fullmatch(r"\d{4}", detail.get("last4", "")):
                raise Invalid("a card tender needs last4: the card's last 4 digits",
                              f"{where}.last4")
        out.append({"type": kind, "amount": amount, "detail": detail})
    return out


def validate_lines(raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not raw:
        raise Invalid("a sale needs at least one line", "lines")
    if len(raw) > MAX_LINES:
        raise Invalid(f"at most {MAX_LINES} lines", "lines")
    out, seen = [], set()
    for i, line in enumerate(raw):
        where = f"lines[{i}]"
        if not isinstance(line, dict):
            raise Invalid("must be an object", where)
        extra = set(line) - {"item_id", "sku", "quantity", "unit_price", "discount"}
        if extra:
            raise Invalid(f"unknown field {sorted(extra)[0]!r}", where)
        item_id, sku = line.get("item_id"), line.get("sku")
        if bool(item_id) == bool(sku):
            raise Invalid("give either item_id (a piece) or sku (a stock line)", where)
        qty = line.get("quantity", 1)
        if isinstance(qty, bool) or not isinstance(qty, int) or not 1 <= qty <= 10_000:
            raise Invalid("quantity must be a whole number from 1 to 10000", f"{where}.quantity")
        if item_id:
            if not isinstance(item_id, str):
                raise Invalid("must be text", f"{where}.item_id")
            if qty != 1:
                raise Invalid("a piece is sold one at a time", f"{where}.quantity")
            if item_id in seen:
                raise Invalid(f"piece {item_id} is twice in the sale", where)
            seen.add(item_id)
        elif not isinstance(sku, str):
            raise Invalid("must be text", f"{where}.sku")
        for field in ("unit_price", "discount"):
            value = line.get(field)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or not 0 <= value <= MAX_AMOUNT):
                raise Invalid("must be a non-negative integer in minor units", f"{where}.{field}")
        out.append({"item_id": item_id, "sku": sku, "quantity": qty,
                    "unit_price": line.get("unit_price"), "discount": line.get("discount") or 0})
    return out


def _next_receipt(tx: Tx, register_id: str) -> int:
    row = tx.one("SELECT last_receipt_no FROM register_counters WHERE register_id = ?",
                 (register_id,))
    return (row["last_receipt_no"] if row else 0) + 1


def _bump_receipt(tx: Tx, register_id: str, receipt_no: int) -> None:
    tx.execute("INSERT INTO register_counters (register_id, last_receipt_no) VALUES (?, ?)"
               " ON CONFLICT(register_id) DO UPDATE SET last_receipt_no = excluded.last_receipt_no",
               (register_id, receipt_no))


# -- projections ------------------------------------------------------------------------------

def _on_sale(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    sale_id = p["sale_id"]
    _bump_receipt(tx, p["register_id"], p["receipt_no"])
    tx.execute(
        "INSERT INTO sales (sale_id, register_id, receipt_no, seq, ts, associate, client_id,"
        " currency, subtotal, discount, tax, total, status) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,"
        "'completed')",
        (sale_id, p["register_id"], p["receipt_no"], entry.seq, entry.ts, entry.actor,
         p.get("client_id"), p["currency"], p["subtotal"], p["discount"], p["tax"], p["total"]))
    for line in p["lines"]:
        tx.execute(
            "INSERT INTO sale_lines (sale_id, line_no, item_id, sku, description, quantity,"
            " unit_price, discount, tax_code, tax, total, returned_qty)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,0)",
            (sale_id, line["line_no"], line.get("item_id"), line.get("sku"), line["description"],
             line["quantity"], line["unit_price"], line["discount"], line["tax_code"],
             line["tax"], line["total"]))
        if line.get("item_id"):
            set_status(tx, line["item_id"], "sold", sale_id, entry.seq)
        else:
            adjust_stock(tx, line["sku"], -line["quantity"], entry.seq)
    for pos, tender in enumerate(p["tenders"]):
        tx.execute("INSERT INTO sale_tenders (sale_id, pos, type, amount, detail) VALUES"
                   " (?,?,?,?,?)", (sale_id, pos, tender["type"], tender["amount"],
                                    json.dumps(tender["detail"], sort_keys=True)))


def _on_return(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    _bump_receipt(tx, p["register_id"], p["receipt_no"])
    void = entry.kind == "sale.voided"
    tx.execute(
        "INSERT INTO returns (return_id, sale_id, kind, register_id, receipt_no, seq, ts, actor,"
        " refund, reason) VALUES (?,?,?,?,?,?,?,?,?,?)",
        (p["return_id"], p["sale_id"], "void" if void else "return", p["register_id"],
         p["receipt_no"], entry.seq, entry.ts, entry.actor, p["refund"], p["reason"]))
    for line in p["lines"]:
        tx.execute("UPDATE sale_lines SET returned_qty = returned_qty + ? WHERE sale_id = ? AND"
                   " line_no = ?", (line["quantity"], p["sale_id"], line["line_no"]))
        if line.get("item_id"):
            # A voided sale's pieces never left; a returned piece waits for inspection.
            set_status(tx, line["item_id"], "in_stock" if void else "returned", p["return_id"],
                       entry.seq)
        else:
            adjust_stock(tx, line["sku"], line["quantity"], entry.seq)
    tx.execute("UPDATE sales SET status = ? WHERE sale_id = ?", (p["sale_status"], p["sale_id"]))


PROJECTIONS = {
    "sale.completed": _on_sale,
    "sale.returned": _on_return,
    "sale.voided": _on_return,
}


class Sales:
    def __init__(self, ledger: Ledger, *, currency: str, registers: set[str],
                 tax_rates: dict[str, int], prices_include_tax: bool) -> None:
        self.ledger = ledger
        self.currency = currency
        self.registers = registers
        self.tax_rates = tax_rates
        self.prices_include_tax = prices_include_tax

    def check_register(self, register_id: Any) -> str:
        # A list or an object is no register (and is not hashable: check the type first).
        if not isinstance(register_id, str) or register_id not in self.registers:
            raise Invalid(f"{register_id!r} is not a register of this store", "register_id")
        return register_id

    def _tax(self, amount: int, code: str) -> int:
        rate = self.tax_rates[code]
        return tax_included(amount, rate) if self.prices_include_tax else tax_on_top(amount, rate)

    def price_in(self, tx: Tx, lines: list[dict[str, Any]], discount: int) -> dict[str, Any]:
        """Price a basket against the books (shared by carts and sales)."""
        priced = []
        for n, line in enumerate(lines, start=1):
            if line.get("item_id"):
                piece = load_piece_tx(tx, line["item_id"])
                if piece["status"] != "in_stock":
                    why = WHY_NOT_SELLABLE.get(piece["status"], f"is {piece['status']}")
                    ref = f" ({piece['status_ref']})" if piece["status_ref"] else ""
                    raise Refused(f"item_{piece['status']}",
                                  f"piece {piece['item_id']} {why}{ref}")
                unit, code, desc = piece["tag_price"], piece["tax_code"], piece["description"]
            else:
                stock = tx.one("SELECT * FROM stock_lines WHERE sku = ?", (line["sku"],))
                if stock is None:
                    raise NotFound(f"no stock line {line['sku']!r}")
                if stock["quantity"] < line["quantity"]:
                    raise Refused("out_of_stock", f"only {stock['quantity']} of {line['sku']}"
                                  f" in stock, {line['quantity']} asked")
                unit, code, desc = stock["unit_price"], stock["tax_code"], stock["description"]
            if line.get("unit_price") is not None:
                unit = line["unit_price"]
            gross = unit * line["quantity"]
            if line["discount"] > gross:
                raise Invalid(f"discount {line['discount']} is more than the line's {gross}",
                              f"lines[{n - 1}].discount")
            priced.append({"line_no": n, "item_id": line.get("item_id"), "sku": line.get("sku"),
                           "description": desc, "quantity": line["quantity"],
                           "unit_price": unit, "gross": gross, "line_discount": line["discount"],
                           "tax_code": code})
        net = [p["gross"] - p["line_discount"] for p in priced]
        if discount > sum(net):
            raise Invalid(f"discount {discount} is more than the sale's {sum(net)}", "discount")
        shares = allocate(discount, net)
        for p, n, share in zip(priced, net, shares, strict=True):
            amount = n - share
            tax = self._tax(amount, p["tax_code"])
            p["discount"] = p.pop("line_discount") + share
            p["tax"] = tax
            p["total"] = amount if self.prices_include_tax else amount + tax
            del p["gross"]
        subtotal = sum(p["unit_price"] * p["quantity"] for p in priced)
        return {"lines": priced, "subtotal": subtotal,
                "discount": sum(p["discount"] for p in priced),
                "tax": sum(p["tax"] for p in priced),
                "total": sum(p["total"] for p in priced)}

    def complete_in(self, tx: Tx, *, register_id: str, actor: str, lines: list[dict[str, Any]],
                    tenders: list[dict[str, Any]], client_id: str | None, discount: int,
                    note: str | None = None) -> Entry:
        if client_id is not None:
            row = tx.one("SELECT status FROM clients WHERE client_id = ?", (client_id,))
            if row is None or row["status"] != "active":
                raise NotFound(f"no client {client_id}")
        basket = self.price_in(tx, lines, discount)
        paid = sum(t["amount"] for t in tenders)
        change = paid - basket["total"]
        cash = sum(t["amount"] for t in tenders if t["type"] == "cash")
        if change < 0:
            raise Refused("underpaid", f"tenders add up to {paid} but the sale is"
                          f" {basket['total']}: {-change} still to pay")
        if change > cash:
            raise Refused("overpaid", f"tenders add up to {paid} but the sale is"
                          f" {basket['total']}: only cash can be overpaid (change)")
        receipt_no = _next_receipt(tx, register_id)
        sale_id = document_id(register_id, receipt_no)
        payload = {"sale_id": sale_id, "register_id": register_id, "receipt_no": receipt_no,
                   "client_id": client_id, "currency": self.currency, **basket,
                   "tenders": tenders, "change": change, "note": note}
        return tx.append("sale.completed", f"sale:{sale_id}", payload, actor=actor)

    async def complete(self, *, register_id: str, actor: str, lines: Any, tenders: Any,
                       client_id: str | None = None, discount: int = 0,
                       note: str | None = None) -> dict[str, Any]:
        self.check_register(register_id)
        checked_lines = validate_lines(lines)
        checked_tenders = validate_tenders(tenders)
        if isinstance(discount, bool) or not isinstance(discount, int) or discount < 0:
            raise Invalid("must be a non-negative integer in minor units", "discount")
        entry = await self.ledger.transact(lambda tx: self.complete_in(
            tx, register_id=register_id, actor=actor, lines=checked_lines,
            tenders=checked_tenders, client_id=client_id, discount=discount, note=note))
        # The committed payload is the sale: no need to read it back from the projections.
        return {**await self.document(entry), "status": "completed", "associate": actor}

    def _load_sale_tx(self, tx: Tx, sale_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        sale = tx.one("SELECT * FROM sales WHERE sale_id = ?", (sale_id,))
        if sale is None:
            raise NotFound(f"no sale {sale_id!r}")
        lines = tx.all("SELECT * FROM sale_lines WHERE sale_id = ? ORDER BY line_no", (sale_id,))
        return row_dict(sale), [row_dict(r) for r in lines]

    def return_in(self, tx: Tx, sale_id: str, *, register_id: str, actor: str, reason: Any,
                  lines: Any = None, refund_tenders: Any = None) -> Entry:
        """Return some or all of a sale's lines inside a transaction (see `return_lines`)."""
        self.check_register(register_id)
        reason = _reason(reason)
        wanted = _validate_return_lines(lines)
        tenders = validate_tenders(refund_tenders) if refund_tenders is not None else None
        sale, sale_lines = self._load_sale_tx(tx, sale_id)
        if sale["status"] == "voided":
            raise Refused("sale_voided", f"sale {sale_id} was voided: nothing to return")
        by_no = {ln["line_no"]: ln for ln in sale_lines}
        picks = wanted if wanted is not None else [
            {"line_no": ln["line_no"], "quantity": ln["quantity"] - ln["returned_qty"]}
            for ln in sale_lines if ln["quantity"] > ln["returned_qty"]]
        if not picks:
            raise Refused("nothing_to_return", f"every line of sale {sale_id} was returned")
        out, refund = [], 0
        for pick in picks:
            line = by_no.get(pick["line_no"])
            if line is None:
                raise Invalid(f"sale {sale_id} has no line {pick['line_no']}", "lines")
            left = line["quantity"] - line["returned_qty"]
            if pick["quantity"] > left:
                raise Refused("over_return", f"line {line['line_no']} of sale {sale_id}:"
                              f" {pick['quantity']} asked, {left} left to return")
            amount = round_half_up_div(line["total"] * pick["quantity"], line["quantity"])
            refund += amount
            out.append({"line_no": line["line_no"], "item_id": line["item_id"],
                        "sku": line["sku"], "quantity": pick["quantity"], "refund": amount})
        refunds = tenders if tenders is not None else _refund_like_paid(tx, sale, refund)
        if sum(t["amount"] for t in refunds) != refund:
            raise Refused("refund_mismatch", f"refund tenders add up to"
                          f" {sum(t['amount'] for t in refunds)}, the refund is {refund}")
        returned_after = {ln["line_no"]: ln["returned_qty"] for ln in sale_lines}
        for o in out:
            returned_after[o["line_no"]] += o["quantity"]
        whole = all(returned_after[ln["line_no"]] == ln["quantity"] for ln in sale_lines)
        receipt_no = _next_receipt(tx, register_id)
        return tx.append("sale.returned", f"sale:{sale_id}", {
            "return_id": document_id(register_id, receipt_no), "sale_id": sale_id,
            "register_id": register_id, "receipt_no": receipt_no, "lines": out,
            "refund": refund, "tenders": refunds, "reason": reason,
            "currency": sale["currency"],
            "sale_status": "returned" if whole else "partly_returned"}, actor=actor)

    async def return_lines(self, sale_id: str, *, register_id: str, actor: str,
                           reason: str, lines: Any = None,
                           refund_tenders: Any = None) -> dict[str, Any]:
        """Return some or all of a sale's lines; refund proportionally to what was paid."""
        self.check_register(register_id)
        _reason(reason)
        _validate_return_lines(lines)  # refuse bad input before queueing for the writer
        entry = await self.ledger.transact(lambda tx: self.return_in(
            tx, sale_id, register_id=register_id, actor=actor, reason=reason, lines=lines,
            refund_tenders=refund_tenders))
        return await self.document(entry)

    def void_in(self, tx: Tx, sale_id: str, *, register_id: str, actor: str,
                reason: Any) -> Entry:
        """Cancel a whole sale inside a transaction (see `void`)."""
        self.check_register(register_id)
        reason = _reason(reason)
        sale, sale_lines = self._load_sale_tx(tx, sale_id)
        if sale["status"] != "completed":
            raise Refused(f"sale_{sale['status']}", f"sale {sale_id} is {sale['status']}:"
                          " only a completed sale with no returns can be voided")
        receipt_no = _next_receipt(tx, register_id)
        tenders = [{"type": t["type"], "amount": t["amount"], "detail": json.loads(t["detail"])}
                   for t in tx.all("SELECT * FROM sale_tenders WHERE sale_id = ? ORDER BY pos",
                                   (sale_id,))]
        return tx.append("sale.voided", f"sale:{sale_id}", {
            "return_id": document_id(register_id, receipt_no), "sale_id": sale_id,
            "register_id": register_id, "receipt_no": receipt_no,
            "lines": [{"line_no": ln["line_no"], "item_id": ln["item_id"], "sku": ln["sku"],
                       "quantity": ln["quantity"], "refund": ln["total"]} for ln in sale_lines],
            "refund": sale["total"], "tenders": tenders, "reason": reason,
            "currency": sale["currency"], "sale_status": "voided"}, actor=actor)

    async def void(self, sale_id: str, *, register_id: str, actor: str,
                   reason: str) -> dict[str, Any]:
        """Cancel a whole sale that nothing has been returned from."""
        self.check_register(register_id)
        _reason(reason)
        entry = await self.ledger.transact(lambda tx: self.void_in(
            tx, sale_id, register_id=register_id, actor=actor, reason=reason))
        return await self.document(entry)

    async def document(self, entry: Entry) -> dict[str, Any]:
        payload = self.ledger.decrypt(entry) or {}
        return {**payload, "seq": entry.seq, "ts": entry.ts, "actor": entry.actor,
                "short_code": entry.short_code()}

    # -- reads ----------------------------------------------------------------------------

    async def get(self, sale_id: str) -> dict[str, Any]:
        sale = await self.ledger.fetch_one("SELECT * FROM sales WHERE sale_id = ?", (sale_id,))
        if sale is None:
            raise NotFound(f"no sale {sale_id!r}")
        lines = await self.ledger.fetch("SELECT * FROM sale_lines WHERE sale_id = ?"
                                        " ORDER BY line_no", (sale_id,))
        tenders = await self.ledger.fetch("SELECT * FROM sale_tenders WHERE sale_id = ?"
                                          " ORDER BY pos", (sale_id,))
        returns = await self.ledger.fetch("SELECT * FROM returns WHERE sale_id = ? ORDER BY seq",
                                          (sale_id,))
        sig = await self.ledger.fetch_one("SELECT signature FROM journal WHERE seq = ?",
                                          (sale["seq"],))
        out = row_dict(sale)
        out["lines"] = [row_dict(r) for r in lines]
        out["tenders"] = [{**row_dict(t), "detail": json.loads(t["detail"])} for t in tenders]
        out["returns"] = [row_dict(r) for r in returns]
        out["short_code"] = short_code(bytes(sig["signature"]))
        return out

    async def for_client(self, client_id: str, limit: int = 100) -> list[dict[str, Any]]:
        rows = await self.ledger.fetch("SELECT * FROM sales WHERE client_id = ? ORDER BY seq DESC"
                                       " LIMIT ?", (client_id, limit))
        return row_dicts(rows)

    async def recent(self, limit: int = 50) -> list[dict[str, Any]]:
        rows = await self.ledger.fetch("SELECT * FROM sales ORDER BY seq DESC LIMIT ?", (limit,))
        return row_dicts(rows)


def _refund_like_paid(tx: Tx, sale: dict[str, Any], refund: int) -> list[dict[str, Any]]:
    """Refund through the tenders the client paid with, in proportion (cash net of change)."""
    paid = [row_dict(t) for t in tx.all("SELECT * FROM sale_tenders WHERE sale_id = ?"
                                        " ORDER BY pos", (sale["sale_id"],))]
    change = sum(t["amount"] for t in paid) - sale["total"]
    for t in paid:  # change came out of the cash tenders
        if t["type"] == "cash" and change:
            taken = min(change, t["amount"])
            t["amount"] -= taken
            change -= taken
    shares = allocate(refund, [t["amount"] for t in paid])
    return [{"type": t["type"], "amount": share, "detail": json.loads(t["detail"])}
            for t, share in zip(paid, shares, strict=True) if share]


def _reason(reason: Any) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise Invalid("a reason is required", "reason")
    if len(reason) > 500:
        raise Invalid("is longer than 500 characters", "reason")
    return reason.strip()


def _validate_return_lines(raw: Any) -> list[dict[str, int]] | None:
    if raw is None:
        return None
    if not isinstance(raw, list) or not raw:
        raise Invalid("must be a non-empty list of {line_no, quantity}", "lines")
    out = []
    for i, line in enumerate(raw):
        if not isinstance(line, dict):
            raise Invalid("must be an object", f"lines[{i}]")
        no, qty = line.get("line_no"), line.get("quantity", 1)
        for name, value in (("line_no", no), ("quantity", qty)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise Invalid("must be a positive whole number", f"lines[{i}].{name}")
        out.append({"line_no": no, "quantity": qty})
    return out
