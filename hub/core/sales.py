"""Sales, returns and voids. Nothing is edited in place: a return or a void is a new entry
that references the sale, and takes the next gapless document number of its register."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection
from typing import Any, Protocol

from hub.core import fields, promotions
from hub.core.errors import Invalid, NotFound, Refused
from hub.core.fields import Form
from hub.core.holds import Holds
from hub.core.items import (
    WHY_NOT_SELLABLE,
    adjust_stock,
    load_piece_tx,
    row_dict,
    row_dicts,
    set_piece_statuses,
)
from hub.core.prices import Prices
from hub.ledger.journal import Entry, short_code
from hub.ledger.ledger import Ledger, Tx
from hub.money import Money, allocate, round_half_up_div, tax_included, tax_on_top
from hub.words import Term

TENDER_TYPES = ("cash", "card", "store_credit", "gift_card", "trade_in", "bank_transfer",
                "loyalty", "deposit", "exchange", "online")
# Tenders another layer takes (its `SaleExtension.tenders`): refused while none runs.
_EXTENSION_TENDERS = frozenset({"loyalty", "deposit", "gift_card", "store_credit", "trade_in"})
# What an exchange's return hands to its new sale (`Sales.exchange_in`): no money moves, so
# it is refused anywhere else.
EXCHANGE = "exchange"
ONLINE = "online"  # paid at the web shop: only an online order shipped (hub/core/hq.py)
_TENDER_DETAIL = {
    "exchange": {"reference"},  # the sale the exchange took pieces back from
    "loyalty": set(),
    "deposit": {"reference"},  # the job or layaway whose payments it applies
    # Foreign money (hub/travel): its currency, amount in its minor units, the rate applied
    # and the rate's reference; the tender's amount is the home amount the hub computed.
    "cash": {"currency", "foreign_amount", "rate", "rate_ref"},
    "card": {"brand", "last4", "auth_code", "terminal_ref", "currency", "foreign_amount",
             "rate", "rate_ref"},
    "store_credit": {"reference"},
    "gift_card": {"number"},
    "trade_in": {"description", "reference"},
    "bank_transfer": {"reference"},
    "online": {"reference"},  # paid at the web shop: its order (an online order shipped)
}
_PAN_LIKE = re.compile(r"\d[\d \-]{10,}\d")
_SERVICE = re.compile(r"[a-z]{1,20}:[A-Za-z0-9_-]{1,38}")
MAX_LINES = 200


class SaleExtension(Protocol):
    """A layer's part of every sale, return and void, made in the same transaction once
    the entry is appended (loyalty points earned, spent, taken back): it may refuse, and
    then nothing of the sale is written. `sale` is the sale's payload (or its projection's
    row for a return or void), `back` the return's or void's payload."""

    tenders: frozenset[str]  # the tender types it takes

    def sold_in(self, tx: Tx, sale: dict[str, Any], actor: str) -> None: ...

    def returned_in(self, tx: Tx, sale: dict[str, Any], back: dict[str, Any],
                    actor: str) -> None: ...

    def voided_in(self, tx: Tx, sale: dict[str, Any], back: dict[str, Any],
                  actor: str) -> None: ...


class ServiceSource(Protocol):
    """What a layer sells that is not a piece or a stock line (a repair's charge): a sale
    line `{"service": "<kind>:<id>"}` is priced by the source registered for `<kind>`
    (`Sales.services`), inside the sale's transaction."""

    def service_line_in(self, tx: Tx, ref: str) -> dict[str, Any]:
        """{description, unit_price, tax_code} of the service, or a refusal in words."""
        ...


def document_id(register_id: str, receipt_no: int) -> str:
    return f"{register_id}-{receipt_no:06d}"


def validate_tenders(raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not raw:
        raise Invalid("at least one tender is needed", "tenders")
    if len(raw) > 20:
        raise Invalid("a sale takes at most {max} tenders", "tenders", max=20)
    out, problems = [], []
    for i, tender in enumerate(raw):
        try:
            out.append(validate_tender(tender, f"tenders[{i}]"))
        except Invalid as exc:
            problems += exc.problems
    if problems:
        raise Invalid.many(problems)
    return out


def validate_tender(raw: Any, where: str | None = None) -> dict[str, Any]:
    """One tender as a register takes it: its type, a positive amount and the few details
    the hub may keep (never a card number)."""
    f = Form(raw, where)
    kind = f.choice("type", TENDER_TYPES, required=True, lower=False, vocabulary="tender")
    amount = f.amount("amount", required=True)
    if amount == 0:
        f.problem("amount", "a tender must be more than zero")
    detail = {k: v for k, v in f.raw.items() if k not in ("type", "amount")}
    if kind is not None:
        for key in sorted(set(detail) - _TENDER_DETAIL[kind]):
            f.problem(None, "a {kind} tender has no field “{name}”",
                      kind=Term("tender", kind), name=key)
            detail.pop(key)
    for key in list(detail):
        clean = f.text(key, max_len=60)
        if clean is not None and _PAN_LIKE.search(clean):
            f.problem(key, "this looks like a full card number: the hub keeps only the last 4"
                           " digits, the brand and the authorisation code")
        if clean is None:
            detail.pop(key)
        else:
            detail[key] = clean
    if kind == "card" and not re.fullmatch(r"\d{4}", detail.get("last4", "")):
        f.problem("last4", "a card tender needs the card's last 4 digits")
    f.done()
    return {"type": kind, "amount": amount, "detail": detail}


def validate_lines(raw: Any, max_price: int | None = None) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not raw:
        raise Invalid("a sale needs at least one line", "lines")
    if len(raw) > MAX_LINES:
        raise Invalid("a sale holds at most {max} lines", "lines", max=MAX_LINES)
    out, seen, problems = [], set(), []
    for i, line in enumerate(raw):
        where = f"lines[{i}]"
        try:
            f = Form(line, where, allowed=("item_id", "sku", "service", "quantity",
                                           "unit_price", "discount", "confirm_held",
                                           "quote_id"))
        except Invalid as exc:
            problems += exc.problems
            continue
        item_id = f.identifier("item_id", required=False, what="a serial")
        sku = f.text("sku", max_len=60)
        service = f.text("service", max_len=60)
        if service and not _SERVICE.fullmatch(service):
            f.problem("service", "a service is named by its kind and number, such as job:J12")
        if sum(map(bool, (item_id, sku, service))) != 1 and not f.problems:
            f.problem(None, "give either a piece (item_id) or a stock line (sku)")
        qty = f.whole("quantity", lo=1, hi=10_000)
        qty = 1 if qty is None else qty
        if item_id:
            if qty != 1:
                f.problem("quantity", "a piece is sold one at a time")
            if item_id in seen:
                f.problem(None, "piece {item_id} is twice in the sale", item_id=item_id)
            seen.add(item_id)
        unit_price = f.amount("unit_price", hi=max_price)
        discount = f.amount("discount") or 0
        confirm_held = f.boolean("confirm_held")  # sell a held piece all the same
        quote_id = f.text("quote_id", max_len=20)  # a quote's locked price (hub/core/prices)
        if quote_id and not item_id:
            f.problem("quote_id", "a quote is of a piece")
        problems += f.problems
        out.append({"item_id": item_id, "sku": sku, "quantity": qty,
                    "unit_price": unit_price, "discount": discount})
        if service:
            if qty != 1:
                f.problem("quantity", "a service is sold once")
            out[-1]["service"] = service
        if confirm_held:
            out[-1]["confirm_held"] = True
        if quote_id:
            out[-1]["quote_id"] = quote_id
    if problems:
        raise Invalid.many(problems)
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
            "INSERT INTO sale_lines (sale_id, line_no, item_id, sku, service, description,"
            " quantity, unit_price, discount, tax_code, tax, total, returned_qty)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,0)",
            (sale_id, line["line_no"], line.get("item_id"), line.get("sku"),
             line.get("service"), line["description"], line["quantity"], line["unit_price"],
             line["discount"], line["tax_code"] or "", line["tax"], line["total"]))
        priced = {k: line[k] for k in _PRICED if line.get(k)}
        if priced:  # the rate, quote and promotions it sold at (its receipt names them)
            tx.execute("UPDATE sale_lines SET priced = ? WHERE sale_id = ? AND line_no = ?",
                       (json.dumps(priced, sort_keys=True), sale_id, line["line_no"]))
        if line.get("sku"):
            adjust_stock(tx, line["sku"], -line["quantity"], entry.seq)
    set_piece_statuses(tx, entry, p)
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
        if line.get("sku"):
            adjust_stock(tx, line["sku"], line["quantity"], entry.seq)
    set_piece_statuses(tx, entry, p)  # a voided sale's pieces never left; a return waits
    tx.execute("UPDATE sales SET status = ? WHERE sale_id = ?", (p["sale_status"], p["sale_id"]))


# What a sale line keeps of how it was priced (hub/core/prices.py, hub/core/promotions.py).
_PRICED = ("rate", "quote_id", "promotions")

PROJECTIONS = {
    "sale.completed": _on_sale,
    "sale.returned": _on_return,
    "sale.voided": _on_return,
}


class Sales:
    def __init__(self, ledger: Ledger, *, currency: str, registers: set[str],
                 tax_rates: dict[str, int], prices_include_tax: bool,
                 max_line_price: int | None = None) -> None:
        self.ledger = ledger
        self.max_line_price = max_line_price  # a higher price is a typing mistake
        self.currency = currency
        self.registers = registers
        self.tax_rates = tax_rates
        self.prices_include_tax = prices_include_tax
        # The holds on pieces (set by the Store): a held piece sells only once confirmed.
        self.holds: Holds | None = None
        self.extensions: list[SaleExtension] = []  # the layers' parts of a sale
        self.services: dict[str, ServiceSource] = {}  # what layers sell besides pieces
        # A layer's check of a tender as the cart takes it (a gift card's balance), by type:
        # `check(tx, tender, tenders_already_taken, client_id)` refuses in words.
        self.tender_checks: dict[str, Callable[[Tx, dict[str, Any], list[dict[str, Any]],
                                                 str | None], None]] = {}
        # The one price function (set by the Store): rate-priced pieces, quotes, the
        # promotions HQ runs; `tier_of` is a client's tier (the clienteling layer sets it).
        self.prices: Prices | None = None
        self.tier_of: Callable[[Tx, str], str | None] | None = None
        # The least a piece sells for without a manager (a consignment's agreed price), by
        # serial: the memo layer sets it; a line below it is marked `below_minimum`.
        self.minimum_of: Callable[[Tx, str], int | None] | None = None

    def check_register(self, register_id: Any, field: str = "register_id") -> str:
        fields.identifier(register_id, field, what="a register id")
        if register_id not in self.registers:
            raise Invalid("“{register}” is not a register of this store", field,
                          register=register_id)
        return register_id

    def money(self, amount: int) -> Money:
        """An amount of this store's currency, as a refusal's value (shown the store's way)."""
        return Money(amount, self.currency)

    def _tax(self, amount: int, code: str) -> int:
        rate = self.tax_rates[code]
        return tax_included(amount, rate) if self.prices_include_tax else tax_on_top(amount, rate)

    def price_in(self, tx: Tx, lines: list[dict[str, Any]], discount: int,
                 client_id: str | None = None) -> dict[str, Any]:
        """Price a basket against the books (shared by carts and sales): each piece at its
        price now (`Prices.line_in`: its rate or its quote), HQ's running promotions for
        the client's tier, then the line and sale discounts."""
        priced, pieces = [], []
        for n, line in enumerate(lines, start=1):
            if line.get("item_id"):
                piece = load_piece_tx(tx, line["item_id"])
                # Out on approval, it sells only to her, through the line the memo layer
                # writes naming that memo (no cart line can say so: validate_lines).
                on_approval = (piece["status"] == "memo_out" and line.get("memo_out")
                               and line["memo_out"] == piece["status_ref"])
                if piece["status"] != "in_stock" and not on_approval:
                    why = WHY_NOT_SELLABLE.get(piece["status"], "piece {item_id} is not for sale")
                    raise Refused(f"item_{piece['status']}", why, item_id=piece["item_id"],
                                  ref=piece["status_ref"] or "")
                if self.holds is not None and not line.get("confirm_held"):
                    hold = self.holds.of_in(tx, piece["item_id"])
                    if hold is not None:  # on a tray for an appointment: ask first
                        raise self.holds.refusal(hold)
                sold = (self.prices.line_in(tx, piece, line.get("quote_id"))
                        if self.prices is not None else {"unit_price": piece["tag_price"]})
                unit, code, desc = sold["unit_price"], piece["tax_code"], piece["description"]
            elif line.get("service"):
                source = self.services.get(line["service"].split(":", 1)[0])
                if source is None:
                    raise Refused("service_not_sold", "this hub does not sell {service} now",
                                  service=line["service"])
                sold = source.service_line_in(tx, line["service"])
                unit, code, desc = sold["unit_price"], sold["tax_code"], sold["description"]
            else:
                stock = tx.one("SELECT * FROM stock_lines WHERE sku = ?", (line["sku"],))
                if stock is None:
                    raise NotFound("no stock line “{sku}”", sku=line["sku"])
                if stock["quantity"] < line["quantity"]:
                    raise Refused("out_of_stock", "only {left} of {sku} in stock, {asked} asked",
                                  left=stock["quantity"], sku=line["sku"],
                                  asked=line["quantity"])
                unit, code, desc = stock["unit_price"], stock["tax_code"], stock["description"]
            if line.get("unit_price") is not None:
                unit = line["unit_price"]
            gross = unit * line["quantity"]
            pieces.append(piece if line.get("item_id") else None)
            extra = {}
            if line.get("item_id"):
                extra = {k: sold[k] for k in ("rate", "stale", "quote_id") if sold.get(k)}
            if line["discount"] > gross:
                raise Invalid("the discount of {discount} is more than the line's {gross}",
                              f"lines[{n - 1}].discount", discount=self.money(line["discount"]),
                              gross=self.money(gross))
            priced.append({"line_no": n, "item_id": line.get("item_id"), "sku": line.get("sku"),
                           **({"service": line["service"]} if line.get("service") else {}),
                           "description": desc, "quantity": line["quantity"],
                           "unit_price": unit, "gross": gross, "line_discount": line["discount"],
                           "tax_code": code, **extra})
        self._promote(tx, priced, pieces, lines, client_id)
        for p in priced:  # a promotion is part of its line's discount (and named apart)
            p["line_discount"] += p.pop("promotion")
        net = [p["gross"] - p["line_discount"] for p in priced]
        # A line of no tax (`tax_code` None: money held, as a gift card sold) is no
        # merchandise: it takes no tax and no share of the sale's discount.
        shared = [n if p["tax_code"] is not None else 0 for p, n in zip(priced, net,
                                                                          strict=True)]
        if discount > sum(shared):
            raise Invalid("the discount of {discount} is more than the sale's {total}",
                          "discount", discount=self.money(discount),
                          total=self.money(sum(shared)))
        shares = allocate(discount, shared) if discount else [0] * len(net)
        for p, n, share in zip(priced, net, shares, strict=True):
            amount = n - share
            tax = self._tax(amount, p["tax_code"]) if p["tax_code"] is not None else 0
            p["discount"] = p.pop("line_discount") + share
            p["tax"] = tax
            p["total"] = amount if self.prices_include_tax else amount + tax
            del p["gross"]
            if p["item_id"] and self.minimum_of is not None:
                least = self.minimum_of(tx, p["item_id"])
                if least is not None and p["total"] < least:
                    p["below_minimum"] = True
        subtotal = sum(p["unit_price"] * p["quantity"] for p in priced)
        return {"lines": priced, "subtotal": subtotal,
                **({"promotion": promoted} if (promoted := sum(
                    a["amount"] for p in priced for a in p.get("promotions", ()))) else {}),
                "discount": sum(p["discount"] for p in priced),
                "tax": sum(p["tax"] for p in priced),
                "total": sum(p["total"] for p in priced)}

    def _promote(self, tx: Tx, priced: list[dict[str, Any]], pieces: list[Any],
                 lines: list[dict[str, Any]], client_id: str | None) -> None:
        """HQ's running promotions on the lines (none on a price typed by hand or a quote):
        each line's `promotions` and their sum; `below_cost` when they take a piece under
        its cost (a manager approves that at completion)."""
        for p in priced:
            p["promotion"] = 0
        if self.prices is None:
            return
        running = promotions.running_in(tx, self.prices.now(), self.prices.tz)
        if not running:
            return
        tier = self.tier_of(tx, client_id) if self.tier_of and client_id else None
        eligible = [pc if pc is not None and ln.get("unit_price") is None
                    and not ln.get("quote_id") else None for pc, ln in zip(pieces, lines,
                                                                           strict=True)]
        taken = promotions.apply(running, [{"piece": pc, "gross": p["gross"],
                                            "quantity": p["quantity"]}
                                           for pc, p in zip(eligible, priced, strict=True)],
                                 tier)
        for n, (p, pc, promos) in enumerate(zip(priced, pieces, taken, strict=True)):
            if not promos:
                continue
            p["promotions"], p["promotion"] = promos, sum(a["amount"] for a in promos)
            if p["line_discount"] > p["gross"] - p["promotion"]:
                raise Invalid("the discount of {discount} is more than the line's {gross}",
                              f"lines[{n}].discount", discount=self.money(p["line_discount"]),
                              gross=self.money(p["gross"] - p["promotion"]))
            if p["gross"] - p["promotion"] < (pc["cost"] or 0):
                p["below_cost"] = True

    def complete_in(self, tx: Tx, *, register_id: str, actor: str, lines: list[dict[str, Any]],
                    tenders: list[dict[str, Any]], client_id: str | None, discount: int,
                    note: str | None = None, exchange_of: str | None = None,
                    online_order: str | None = None) -> Entry:
        if exchange_of is None and any(t["type"] == EXCHANGE for t in tenders):
            raise Refused("exchange_only", "an exchange pays only for the new pieces of an"
                          " exchange", field="tenders")
        if online_order is None and any(t["type"] == ONLINE for t in tenders):
            raise Refused("online_only", "a payment made online comes only with the online"
                          " order it paid for (shipped from the head office sync screen)",
                          field="tenders")
        if client_id is not None:
            row = tx.one("SELECT status FROM clients WHERE client_id = ?", (client_id,))
            if row is None or row["status"] != "active":
                raise NotFound("no client {client_id}", client_id=client_id)
        basket = self.price_in(tx, lines, discount, client_id)
        paid = sum(t["amount"] for t in tenders)
        change = paid - basket["total"]
        cash = sum(t["amount"] for t in tenders if t["type"] == "cash")
        if change < 0:
            raise Refused("underpaid", "the tenders add up to {paid} but the sale is {total}:"
                          " {due} still to pay", paid=self.money(paid),
                          total=self.money(basket["total"]), due=self.money(-change))
        if change > cash:
            raise Refused("overpaid", "the tenders add up to {paid} but the sale is {total}:"
                          " only cash can be more than what is due (the change)",
                          paid=self.money(paid), total=self.money(basket["total"]))
        receipt_no = _next_receipt(tx, register_id)
        sale_id = document_id(register_id, receipt_no)
        if self.holds is not None:  # a held piece sold (confirmed): its hold ends with it
            for line in basket["lines"]:
                if line.get("item_id") and self.holds.of_in(tx, line["item_id"]) is not None:
                    self.holds.release_in(tx, line["item_id"], actor=actor, reason="sold",
                                          extra={"sale_id": sale_id})
        taken = set().union(*(e.tenders for e in self.extensions))
        for t in tenders:
            if t["type"] in _EXTENSION_TENDERS and t["type"] not in taken:
                raise Refused("tender_not_taken", "this hub does not take {kind} now",
                              kind=Term("tender", t["type"]), field="tenders")
        payload = {"sale_id": sale_id, "register_id": register_id, "receipt_no": receipt_no,
                   "client_id": client_id, "currency": self.currency, **basket,
                   "tenders": tenders, "change": change, "note": note,
                   **({"exchange_of": exchange_of} if exchange_of else {})}
        entry = tx.append("sale.completed", f"sale:{sale_id}", payload, actor=actor)
        for extension in self.extensions:
            extension.sold_in(tx, payload, actor)
        return entry

    async def complete(self, *, register_id: str, actor: str, lines: Any, tenders: Any,
                       client_id: str | None = None, discount: int = 0,
                       note: str | None = None) -> dict[str, Any]:
        self.check_register(register_id)
        checked_lines = validate_lines(lines, self.max_line_price)
        checked_tenders = validate_tenders(tenders)
        discount = fields.amount(discount, "discount") or 0
        entry = await self.ledger.transact(lambda tx: self.complete_in(
            tx, register_id=register_id, actor=actor, lines=checked_lines,
            tenders=checked_tenders, client_id=client_id, discount=discount, note=note))
        # The committed payload is the sale: no need to read it back from the projections.
        return {**await self.document(entry), "status": "completed", "associate": actor}

    def _load_sale_tx(self, tx: Tx, sale_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        sale = tx.one("SELECT * FROM sales WHERE sale_id = ?", (sale_id,))
        if sale is None:
            raise NotFound("no sale “{sale_id}”", sale_id=sale_id)
        lines = tx.all("SELECT * FROM sale_lines WHERE sale_id = ? ORDER BY line_no", (sale_id,))
        return row_dict(sale), [row_dict(r) for r in lines]

    def return_in(self, tx: Tx, sale_id: str, *, register_id: str, actor: str, reason: Any,
                  lines: Any = None, refund_tenders: Any = None,
                  approved_by: str | None = None, refund_to: str | None = None,
                  refund_for: Callable[[Tx, dict[str, Any], int], list[dict[str, Any]]]
                  | None = None) -> Entry:
        """Return some or all of a sale's lines inside a transaction (see `return_lines`).
        The refund goes to `refund_tenders`, or all of it to `refund_to` ("store_credit" for
        the sale's client, "cash"), or to what `refund_for(tx, sale, refund)` says (an
        exchange), else back through the tenders the sale was paid with."""
        self.check_register(register_id)
        reason = _reason(reason)
        wanted = _validate_return_lines(lines)
        tenders = validate_tenders(refund_tenders) if refund_tenders is not None else None
        if tenders is not None and any(t["type"] == EXCHANGE for t in tenders):
            raise Invalid("an exchange is made as one: return and new sale together",
                          "refund_tenders")
        sale, sale_lines = self._load_sale_tx(tx, sale_id)
        if sale["status"] == "voided":
            raise Refused("sale_voided", "sale {sale_id} was voided: nothing to return",
                          sale_id=sale_id)
        by_no = {ln["line_no"]: ln for ln in sale_lines}
        picks = wanted if wanted is not None else [
            {"line_no": ln["line_no"], "quantity": ln["quantity"] - ln["returned_qty"]}
            for ln in sale_lines if ln["quantity"] > ln["returned_qty"] and not ln["service"]]
        if not picks:
            raise Refused("nothing_to_return", "every line of sale {sale_id} was returned",
                          sale_id=sale_id)
        out, refund = [], 0
        for pick in picks:
            line = by_no.get(pick["line_no"])
            if line is None:
                raise Invalid("sale {sale_id} has no line {line_no}", "lines", sale_id=sale_id,
                              line_no=pick["line_no"])
            if line.get("service"):  # a repair done is not given back: the sale is voided
                raise Refused("service_not_returned", "line {line_no} of sale {sale_id} is"
                              " the charge of {service}: it is not returned (a manager may"
                              " void the whole sale)", line_no=line["line_no"],
                              sale_id=sale_id, service=line["service"])
            left = line["quantity"] - line["returned_qty"]
            if pick["quantity"] > left:
                raise Refused("over_return", "line {line_no} of sale {sale_id}: {asked} asked,"
                              " {left} left to return", line_no=line["line_no"],
                              sale_id=sale_id, asked=pick["quantity"], left=left)
            amount = round_half_up_div(line["total"] * pick["quantity"], line["quantity"])
            refund += amount
            out.append({"line_no": line["line_no"], "item_id": line["item_id"],
                        "sku": line["sku"], "quantity": pick["quantity"], "refund": amount})
        if tenders is not None:
            refunds = tenders
        elif refund_for is not None:
            refunds = refund_for(tx, sale, refund)
        elif refund_to is not None:
            refunds = refund_to_in(tx, sale, refund, refund_to)
        else:
            refunds = _refund_like_paid(tx, sale, refund)
        taken = set().union(*(e.tenders for e in self.extensions))
        for t in refunds:  # store credit, a gift card: only while their layer runs
            if t["type"] in _EXTENSION_TENDERS and t["type"] not in taken:
                raise Refused("tender_not_taken", "this hub does not take {kind} now",
                              kind=Term("tender", t["type"]), field="refund_tenders")
        if sum(t["amount"] for t in refunds) != refund:
            raise Refused("refund_mismatch", "the refund tenders add up to {paid}, the refund"
                          " is {refund}", paid=self.money(sum(t["amount"] for t in refunds)),
                          refund=self.money(refund))
        returned_after = {ln["line_no"]: ln["returned_qty"] for ln in sale_lines}
        for o in out:
            returned_after[o["line_no"]] += o["quantity"]
        whole = all(returned_after[ln["line_no"]] == ln["quantity"] for ln in sale_lines)
        receipt_no = _next_receipt(tx, register_id)
        back = {"return_id": document_id(register_id, receipt_no), "sale_id": sale_id,
                "register_id": register_id, "receipt_no": receipt_no, "lines": out,
                "refund": refund, "tenders": refunds, "reason": reason,
                "currency": sale["currency"], "approved_by": approved_by,
                "sale_status": "returned" if whole else "partly_returned"}
        entry = tx.append("sale.returned", f"sale:{sale_id}", back, actor=actor)
        for extension in self.extensions:
            extension.returned_in(tx, sale, back, actor)
        return entry

    async def return_lines(self, sale_id: str, *, register_id: str, actor: str,
                           reason: str, lines: Any = None,
                           refund_tenders: Any = None,
                           refund_to: str | None = None) -> dict[str, Any]:
        """Return some or all of a sale's lines; refund proportionally to what was paid
        (or as `return_in` says for `refund_tenders`, `refund_to`)."""
        self.check_register(register_id)
        _reason(reason)
        _validate_return_lines(lines)  # refuse bad input before queueing for the writer
        entry = await self.ledger.transact(lambda tx: self.return_in(
            tx, sale_id, register_id=register_id, actor=actor, reason=reason, lines=lines,
            refund_tenders=refund_tenders, refund_to=refund_to))
        return await self.document(entry)

    def exchange_in(self, tx: Tx, sale_id: str, *, register_id: str, actor: str, reason: Any,
                    lines_back: Any, new_lines: list[dict[str, Any]],
                    tenders: list[dict[str, Any]], discount: int = 0,
                    refund_tenders: Any = None,
                    approved_by: str | None = None) -> tuple[Entry, Entry]:
        """An exchange: lines of a sale come back and new lines go out, in one transaction
        (a refused new sale leaves the return undone). The return's refund pays the new
        sale as an `exchange` tender naming the old sale, so no money moves for it; what
        the new sale costs beyond the refund, `tenders` pay; what the refund is beyond the
        new sale goes back through `refund_tenders`, or the tenders the sale was paid with.
        The new sale is for the old sale's client."""
        sale = self._load_sale_tx(tx, sale_id)[0]
        client_id = sale["client_id"]
        if client_id is not None and not tx.one(
                "SELECT 1 FROM clients WHERE client_id = ? AND status = 'active'", (client_id,)):
            client_id = None  # erased since: the new sale is anonymous
        basket = self.price_in(tx, new_lines, discount, client_id)
        toward: list[int] = []
        swap = {"type": EXCHANGE, "detail": {"reference": sale_id}}

        def refund_for(tx: Tx, sale: dict[str, Any], refund: int) -> list[dict[str, Any]]:
            toward.append(min(refund, basket["total"]))
            rest = refund - toward[0]
            out = [{**swap, "amount": toward[0]}] if toward[0] else []
            if rest:
                out += (validate_tenders(refund_tenders) if refund_tenders is not None
                        else _refund_like_paid(tx, sale, rest))
            return out

        back = self.return_in(tx, sale_id, register_id=register_id, actor=actor, reason=reason,
                              lines=lines_back, approved_by=approved_by, refund_for=refund_for)
        pay = ([{**swap, "amount": toward[0]}] if toward[0] else []) + list(tenders)
        if not pay:
            raise Invalid("at least one tender is needed", "tenders")
        new = self.complete_in(tx, register_id=register_id, actor=actor, lines=new_lines,
                               tenders=pay, client_id=client_id, discount=discount,
                               note=f"exchange {sale_id}", exchange_of=sale_id)
        return back, new

    async def exchange(self, sale_id: str, *, register_id: Any, actor: str, reason: Any,
                       lines_back: Any, new_lines: Any, tenders: Any = None,
                       discount: Any = 0, refund_tenders: Any = None) -> dict[str, Any]:
        """`exchange_in` in its own transaction: {return, sale} as recorded."""
        self.check_register(register_id)
        _reason(reason)
        _validate_return_lines(lines_back)
        checked_lines = validate_lines(new_lines, self.max_line_price)
        checked = validate_tenders(tenders) if tenders else []
        discount = fields.amount(discount, "discount") or 0
        back, new = await self.ledger.transact(lambda tx: self.exchange_in(
            tx, sale_id, register_id=register_id, actor=actor, reason=reason,
            lines_back=lines_back, new_lines=checked_lines, tenders=checked,
            discount=discount, refund_tenders=refund_tenders))
        return {"return": await self.document(back), "sale": await self.document(new)}

    def void_in(self, tx: Tx, sale_id: str, *, register_id: str, actor: str,
                reason: Any, approved_by: str | None = None) -> Entry:
        """Cancel a whole sale inside a transaction (see `void`)."""
        self.check_register(register_id)
        reason = _reason(reason)
        sale, sale_lines = self._load_sale_tx(tx, sale_id)
        if sale["status"] != "completed":
            raise Refused(f"sale_{sale['status']}", "sale {sale_id} is {status}: only a"
                          " completed sale with no returns can be voided", sale_id=sale_id,
                          status=Term("sale_status", sale["status"]))
        receipt_no = _next_receipt(tx, register_id)
        tenders = [{"type": t["type"], "amount": t["amount"], "detail": json.loads(t["detail"])}
                   for t in tx.all("SELECT * FROM sale_tenders WHERE sale_id = ? ORDER BY pos",
                                   (sale_id,))]
        back = {
            "return_id": document_id(register_id, receipt_no), "sale_id": sale_id,
            "register_id": register_id, "receipt_no": receipt_no,
            "lines": [{"line_no": ln["line_no"], "item_id": ln["item_id"], "sku": ln["sku"],
                       **({"service": ln["service"]} if ln["service"] else {}),
                       "quantity": ln["quantity"], "refund": ln["total"]} for ln in sale_lines],
            "refund": sale["total"], "tenders": tenders, "reason": reason,
            "currency": sale["currency"], "approved_by": approved_by,
            "sale_status": "voided"}
        entry = tx.append("sale.voided", f"sale:{sale_id}", back, actor=actor)
        for extension in self.extensions:
            extension.voided_in(tx, sale, back, actor)
        return entry

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
            raise NotFound("no sale “{sale_id}”", sale_id=sale_id)
        lines = await self.ledger.fetch("SELECT * FROM sale_lines WHERE sale_id = ?"
                                        " ORDER BY line_no", (sale_id,))
        tenders = await self.ledger.fetch("SELECT * FROM sale_tenders WHERE sale_id = ?"
                                          " ORDER BY pos", (sale_id,))
        returns = await self.ledger.fetch("SELECT * FROM returns WHERE sale_id = ? ORDER BY seq",
                                          (sale_id,))
        sig = await self.ledger.fetch_one("SELECT signature FROM journal WHERE seq = ?",
                                          (sale["seq"],))
        out = row_dict(sale)
        out["lines"] = [_priced_line(row_dict(r)) for r in lines]
        out["tenders"] = [{**row_dict(t), "detail": json.loads(t["detail"])} for t in tenders]
        out["returns"] = [{**row_dict(r), "approved_by": await self._approved_by(r["seq"])}
                          for r in returns]
        out["change"] = max(0, sum(t["amount"] for t in out["tenders"]) - sale["total"])
        out["short_code"] = short_code(bytes(sig["signature"]))
        return out

    async def _approved_by(self, seq: int) -> str | None:
        """The manager named in a return or void entry (a sale has few of them)."""
        payload = await self.ledger.payload_at(seq)
        return (payload or {}).get("approved_by")

    async def for_client(self, client_id: str, limit: int = 100) -> list[dict[str, Any]]:
        """A client's purchases, newest first; NotFound for a client the book never had."""
        def read(tx: Tx) -> list[Any]:
            if tx.one("SELECT 1 FROM clients WHERE client_id = ?", (client_id,)) is None:
                raise NotFound("no client {client_id}", client_id=client_id)
            return tx.all("SELECT * FROM sales WHERE client_id = ? ORDER BY seq DESC LIMIT ?",
                          (client_id, limit))
        return row_dicts(await self.ledger.read(read))

    async def client_totals(self, client_id: str, since: str) -> dict[str, Any]:
        """What a client's purchases add up to, net of returns, in the store's currency:
        `lifetime`, `last_12_months` (sales from `since`, an ISO day, on), `purchases` (sales
        not voided nor wholly returned), `average_basket`, `first_purchase`, `last_purchase`
        (their moments). A voided sale counts for nothing; a return counts against the sale
        it took back. Amounts only: nothing here is personal data."""
        def read(tx: Tx) -> dict[str, Any]:
            sold = tx.one(
                "SELECT COALESCE(SUM(total), 0) AS lifetime,"
                " COALESCE(SUM(CASE WHEN ts >= ? THEN total END), 0) AS recent,"
                " COUNT(CASE WHEN status != 'returned' THEN 1 END) AS purchases,"
                " MIN(CASE WHEN status != 'returned' THEN ts END) AS first,"
                " MAX(CASE WHEN status != 'returned' THEN ts END) AS last"
                " FROM sales WHERE client_id = ? AND status != 'voided'", (since, client_id))
            back = tx.one(
                "SELECT COALESCE(SUM(r.refund), 0) AS lifetime,"
                " COALESCE(SUM(CASE WHEN s.ts >= ? THEN r.refund END), 0) AS recent"
                " FROM returns r JOIN sales s ON s.sale_id = r.sale_id"
                " WHERE s.client_id = ? AND r.kind = 'return'", (since, client_id))
            return {"lifetime": sold["lifetime"] - back["lifetime"],
                    "last_12_months": sold["recent"] - back["recent"],
                    "purchases": sold["purchases"], "first_purchase": sold["first"],
                    "last_purchase": sold["last"]}
        totals = await self.ledger.read(read)
        totals["average_basket"] = (round_half_up_div(totals["lifetime"], totals["purchases"])
                                    if totals["purchases"] else None)
        return totals

    async def totals_by_client(self, since: str, before: str,
                               client_ids: Collection[str] | None = None
                               ) -> dict[str, dict[str, int]]:
        """`client_totals` of many clients in one pass (every client with a sale, or those
        of `client_ids`), with the window before: `lifetime`, `visits` (sales not voided nor
        wholly returned), `recent` and `recent_visits` (sales from `since`, an ISO day, on),
        `earlier` and `earlier_visits` (sales from `before` up to `since`); net of returns,
        a return counting against the sale it took back. Amounts and opaque ids only."""
        def read(tx: Tx) -> dict[str, dict[str, int]]:
            out: dict[str, dict[str, int]] = {}
            ids = None if client_ids is None else tuple(client_ids)
            chunks = [None] if ids is None else [ids[i:i + 900] for i in range(0, len(ids),
                                                                                900)]
            for chunk in chunks:
                only = "" if chunk is None else f" AND client_id IN ({','.join('?' * len(chunk))})"
                args = () if chunk is None else chunk
                for r in tx.all(
                        "SELECT client_id, SUM(total) AS lifetime,"
                        " COUNT(CASE WHEN status != 'returned' THEN 1 END) AS visits,"
                        " COALESCE(SUM(CASE WHEN ts >= ? THEN total END), 0) AS recent,"
                        " COUNT(CASE WHEN ts >= ? AND status != 'returned' THEN 1 END)"
                        " AS recent_visits,"
                        " COALESCE(SUM(CASE WHEN ts >= ? AND ts < ? THEN total END), 0)"
                        " AS earlier,"
                        " COUNT(CASE WHEN ts >= ? AND ts < ? AND status != 'returned' THEN 1"
                        " END) AS earlier_visits FROM sales WHERE client_id IS NOT NULL"
                        f" AND status != 'voided'{only} GROUP BY client_id",
                        (since, since, before, since, before, since, *args)):
                    out[r["client_id"]] = {k: r[k] for k in (
                        "lifetime", "visits", "recent", "recent_visits", "earlier",
                        "earlier_visits")}
                for r in tx.all(
                        "SELECT s.client_id, SUM(r.refund) AS lifetime,"
                        " COALESCE(SUM(CASE WHEN s.ts >= ? THEN r.refund END), 0) AS recent,"
                        " COALESCE(SUM(CASE WHEN s.ts >= ? AND s.ts < ? THEN r.refund END), 0)"
                        " AS earlier FROM returns r JOIN sales s ON s.sale_id = r.sale_id"
                        " WHERE s.client_id IS NOT NULL AND r.kind = 'return'"
                        f"{only.replace('client_id', 's.client_id')} GROUP BY s.client_id",
                        (since, before, since, *args)):
                    row = out.get(r["client_id"])
                    if row is not None:
                        for key in ("lifetime", "recent", "earlier"):
                            row[key] -= r[key]
            return out
        return await self.ledger.read(read)

    async def pieces_bought(self, client_id: str, limit: int = 1000) -> list[dict[str, Any]]:
        """The pieces on a client's sales (voided ones left out), newest first: `item_id`,
        `sku`, `sale_id`, `ts`, and `kept` (1 unless that line was returned)."""
        rows = await self.ledger.fetch(
            "SELECT l.item_id, l.sku, s.sale_id, s.ts, l.returned_qty < l.quantity AS kept"
            " FROM sales s JOIN sale_lines l ON l.sale_id = s.sale_id WHERE s.client_id = ?"
            " AND s.status != 'voided' AND l.item_id IS NOT NULL ORDER BY s.seq DESC,"
            " l.line_no LIMIT ?", (client_id, limit))
        return row_dicts(rows)

    async def client_purchases_between(self, first_day: str, last_day: str,
                                       min_total: int) -> list[dict[str, Any]]:
        """Sales to a client of at least `min_total` made on the days from `first_day` to
        `last_day` (ISO days, both included), voided and wholly returned ones left out:
        `sale_id`, `client_id`, `ts`, `total`."""
        rows = await self.ledger.fetch(
            "SELECT sale_id, client_id, ts, total FROM sales WHERE ts >= ? AND ts < ?"
            " AND client_id IS NOT NULL AND total >= ? AND status NOT IN ('voided', 'returned')"
            " ORDER BY ts", (first_day, f"{last_day}~", min_total))  # '~' sorts after 'T...'
        return row_dicts(rows)

    async def bridal_purchases_between(self, first_day: str, last_day: str,
                                       words: tuple[str, ...]) -> list[dict[str, Any]]:
        """Sales to a client, on the days from `first_day` to `last_day`, with a ring of a
        collection whose name holds one of `words` (lower case: "bridal", "engagement"),
        voided and wholly returned ones left out: `sale_id`, `client_id`, `ts`, `total`."""
        if not words:
            return []
        like = " OR ".join("lower(i.collection) LIKE ?" for _ in words)
        rows = await self.ledger.fetch(
            "SELECT s.sale_id, s.client_id, s.ts, s.total FROM sales s WHERE s.ts >= ?"
            " AND s.ts < ? AND s.client_id IS NOT NULL AND s.status NOT IN ('voided', 'returned')"
            " AND EXISTS (SELECT 1 FROM sale_lines l JOIN items i ON i.item_id = l.item_id"
            f" WHERE l.sale_id = s.sale_id AND i.category = 'ring' AND ({like}))"
            " ORDER BY s.ts", (first_day, f"{last_day}~", *(f"%{w}%" for w in words)))
        return row_dicts(rows)

    async def last_purchases_between(self, first_day: str,
                                     last_day: str) -> list[dict[str, Any]]:
        """Clients whose latest purchase (voided and wholly returned ones left out) was made
        on the days from `first_day` to `last_day`: `client_id`, `sale_id`, `ts`. The window's
        sales come by day; each client's later ones by her own index."""
        live = "status NOT IN ('voided', 'returned')"
        rows = await self.ledger.fetch(
            f"SELECT s.client_id, s.sale_id, s.ts FROM sales s WHERE s.ts >= ? AND s.ts < ?"
            f" AND s.client_id IS NOT NULL AND s.{live} AND NOT EXISTS (SELECT 1 FROM sales"
            f" t WHERE t.client_id = s.client_id AND t.seq > s.seq AND t.{live})"
            " ORDER BY s.ts", (first_day, f"{last_day}~"))
        return row_dicts(rows)

    async def recent(self, limit: int = 50) -> list[dict[str, Any]]:
        rows = await self.ledger.fetch("SELECT * FROM sales ORDER BY seq DESC LIMIT ?", (limit,))
        return row_dicts(rows)


def _priced_line(line: dict[str, Any]) -> dict[str, Any]:
    """A sale line as read: how it was priced (rate, quote, promotions) as its own keys."""
    return {**line, **json.loads(line.pop("priced") or "{}")}


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
    return fields.text(reason, "reason", required=True, max_len=500, multiline=True)


REFUND_TO = ("store_credit", "cash")


def refund_to_in(tx: Tx, sale: dict[str, Any], refund: int, to: str) -> list[dict[str, Any]]:
    """All of a refund to one tender other than the sale's: store credit for the sale's
    client (the store credit layer issues it), or cash."""
    if to not in REFUND_TO:
        raise Invalid("a refund goes back to the sale's tenders, to store credit or in cash",
                      "refund_to")
    if not refund:
        return []
    if to == "cash":
        return [{"type": "cash", "amount": refund, "detail": {}}]
    if not sale.get("client_id"):
        raise Refused("no_client", "store credit is hers: this sale names no client",
                      field="refund_to")
    return [{"type": "store_credit", "amount": refund,
             "detail": {"reference": sale["client_id"]}}]


def paid_in_cash_in(tx: Tx, sale_id: str) -> bool:
    """Whether any of a sale was paid in cash (a cash refund of another sale needs a
    manager: `refund_cash`)."""
    return tx.one("SELECT 1 FROM sale_tenders WHERE sale_id = ? AND type = 'cash' AND"
                  " amount > 0", (sale_id,)) is not None


def _validate_return_lines(raw: Any) -> list[dict[str, int]] | None:
    if raw is None:
        return None
    if not isinstance(raw, list) or not raw:
        raise Invalid("choose at least one line to return", "lines")
    if len(raw) > MAX_LINES:
        raise Invalid("a sale holds at most {max} lines", "lines", max=MAX_LINES)
    out, problems = [], []
    for i, line in enumerate(raw):
        try:
            f = Form(line, f"lines[{i}]", allowed=("line_no", "quantity"))
        except Invalid as exc:
            problems += exc.problems
            continue
        no = f.whole("line_no", lo=1, required=True)
        qty = f.whole("quantity", lo=1)
        problems += f.problems
        out.append({"line_no": no, "quantity": 1 if qty is None else qty})
    if problems:
        raise Invalid.many(problems)
    return out
