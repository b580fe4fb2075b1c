"""Register carts: one per register, kept on the hub so every screen and scanner bound to a
register sees the same basket, through browser crashes and restarts.

A cart is working state, not books: it lives in the `carts` table (written through the
ledger's writer so it never races a sale) and only its completion is journaled, as the sale.
Discounts above the store's threshold and price changes spend a manager approval bound to
exactly that change.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from hub.bus import EventBus
from hub.core import fields
from hub.core.approvals import ApprovalNeeded, Approvals, action_digest
from hub.core.errors import Invalid, NotFound, Refused
from hub.core.sales import MAX_LINES, Sales, validate_lines, validate_tender
from hub.ledger.ledger import Ledger, Tx, utc_now
from hub.words import ENGLISH, N_, Term, Words

_CLIENT_ID = fields.ID


ASKED = {
    "stale_rate": N_("a piece's metal rate is past its validity: a manager approves selling"
                     " it at that rate"),
    "below_cost": N_("a promotion takes a piece below its cost: a manager approves it"),
    "below_minimum": N_("a consigned piece would sell below the price agreed with its"
                        " consignor: a manager approves it"),
}


def price_approval(register_id: str, lines: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The manager's approval a priced basket needs: a piece sold at a rate past its
    validity (`stale_rate`), or taken below its cost by a promotion (`below_cost`); both in
    one action when both happen, so one PIN approves the sale."""
    stale = [ln["item_id"] for ln in lines if ln.get("stale")]
    under = [ln["item_id"] for ln in lines if ln.get("below_cost")]
    least = [ln["item_id"] for ln in lines if ln.get("below_minimum")]
    if least and not stale and not under:  # a consignor's agreed price, alone
        return {"kind": "below_minimum", "register_id": register_id, "items": least,
                "amount": sum(ln["total"] for ln in lines if ln["item_id"] in least)}
    under += [i for i in least if i not in under]  # with the others: one approval for all
    if not stale and not under:
        return None
    action: dict[str, Any] = {"kind": "below_cost" if under else "stale_rate",
                              "register_id": register_id,
                              "amount": sum(ln["total"] for ln in lines
                                            if ln["item_id"] in {*stale, *under})}
    if under:
        action["items"] = under
    if stale:
        action["lines" if under else "items"] = stale
    return action


def empty_cart() -> dict[str, Any]:
    # `discount_approved`: the digest of the approval behind the discount, when it needed one.
    return {"lines": [], "client_id": None, "discount": 0, "discount_approved": None,
            "tenders": [], "note": None}


def _whole(value: Any, field: str, *, lo: int = 0) -> int:
    return fields.whole(value, field, lo=lo, required=True)


class Carts:
    def __init__(self, ledger: Ledger, sales: Sales, approvals: Approvals, *,
                 max_discount_bp: int = 1000, words: Words = ENGLISH,
                 bus: EventBus | None = None) -> None:
        self.ledger = ledger
        self.bus = bus
        self.words = words
        self.sales = sales
        self.approvals = approvals
        self.max_discount_bp = max_discount_bp  # above this share of the basket: a manager
        # Registers with a card terminal (set by the devices layer): keyed cards need a manager.
        self.card_terminals: set[str] = set()

    # -- reading ---------------------------------------------------------------------------

    async def get(self, register_id: str) -> dict[str, Any]:
        self.sales.check_register(register_id)
        row = await self.ledger.fetch_one("SELECT state, version FROM carts WHERE register_id = ?",
                                          (register_id,))
        if row is None:
            return self._view(register_id, empty_cart(), None, 0)
        saved = json.loads(row["state"])
        return self._view(register_id, {**empty_cart(), **saved["cart"]}, saved.get("priced"),
                          row["version"], saved.get("problem"), saved.get("discount_action"))

    def _view(self, register_id: str, cart: dict[str, Any], priced: dict[str, Any] | None,
              version: int, problem: Any = None,
              discount_action: dict[str, Any] | None = None) -> dict[str, Any]:
        paid = sum(t["amount"] for t in cart["tenders"])
        total = priced["total"] if priced else 0
        # `problem` is why the cart cannot be sold as it is ({code, detail}, in the store's
        # words); `discount_pending` is the approval its discount still waits for.
        return {"register_id": register_id, "version": version, "client_id": cart["client_id"],
                "lines": priced["lines"] if priced else [], "discount": cart["discount"],
                "discount_pending": discount_action,
                "subtotal": priced["subtotal"] if priced else 0,
                "tax": priced["tax"] if priced else 0, "total": total,
                "tenders": cart["tenders"], "paid": paid, "due": max(total - paid, 0),
                "change": max(paid - total, 0), "note": cart["note"], "problem": problem,
                "currency": self.sales.currency}

    # -- changing --------------------------------------------------------------------------

    def _load(self, tx: Tx, register_id: str) -> tuple[dict[str, Any], int]:
        row = tx.one("SELECT state, version FROM carts WHERE register_id = ?", (register_id,))
        if row is None:
            return empty_cart(), 0
        return {**empty_cart(), **json.loads(row["state"])["cart"]}, row["version"]

    def _save(self, tx: Tx, register_id: str, cart: dict[str, Any], version: int) -> dict:
        priced, problem, pending = None, None, None
        if cart["lines"]:
            try:
                priced = self.sales.price_in(tx, cart["lines"], cart["discount"],
                                             cart["client_id"])
                pending = self._pending_discount(tx, register_id, cart)
            except Refused as exc:  # e.g. a piece sold at the other register meanwhile
                problem = {"code": exc.code, "detail": self.words.refusal(exc)}
        tx.execute("INSERT INTO carts (register_id, state, version, updated_at) VALUES (?,?,?,?)"
                   " ON CONFLICT(register_id) DO UPDATE SET state = excluded.state,"
                   " version = excluded.version, updated_at = excluded.updated_at",
                   (register_id, json.dumps({"cart": cart, "priced": priced, "problem": problem,
                                             "discount_action": pending}),
                    version + 1, utc_now()))
        return self._view(register_id, cart, priced, version + 1, problem, pending)

    def _pending_discount(self, tx: Tx, register_id: str,
                          cart: dict[str, Any]) -> dict[str, Any] | None:
        """The approval the cart's discount still needs: it was approved for another basket
        (a line or a price changed since), or never. It is kept, visibly, not dropped."""
        action = self._discount_action(tx, register_id, cart, cart["discount"])
        if action is None or cart.get("discount_approved") == action_digest(action):
            return None
        return action

    async def _change(self, register_id: Any, change: Callable[[Tx, dict[str, Any]], None],
                      why: str, by: str | None) -> dict[str, Any]:
        self.sales.check_register(register_id)

        def command(tx: Tx) -> dict[str, Any]:
            cart, version = self._load(tx, register_id)
            change(tx, cart)
            return self._save(tx, register_id, cart, version)

        cart = await self.ledger.transact(command)
        self._changed(cart, why, by)
        return cart

    def _changed(self, cart: dict[str, Any], why: str, by: str | None) -> None:
        """Every screen and the pole display showing this register follow: the event goes
        out once the change is committed, however the cart was changed."""
        if self.bus is not None:
            self.bus.publish("cart.changed", register_id=cart["register_id"], why=why, by=by,
                             cart=cart)

    def _discount_action(self, tx: Tx, register_id: str, cart: dict[str, Any],
                         amount: int) -> dict[str, Any] | None:
        """The approval action an `amount` discount needs on this basket, or None."""
        if amount == 0:
            return None
        base = self.sales.price_in(tx, cart["lines"], 0, cart["client_id"])["total"]
        if amount * 10_000 <= base * self.max_discount_bp:
            return None
        return {"kind": "discount", "register_id": register_id, "amount": amount, "base": base,
                "items": [ln["item_id"] or ln["sku"] or ln.get("service")
                          for ln in cart["lines"]]}

    async def add(self, register_id: Any, *, item_id: Any = None, sku: Any = None,
                  quantity: Any = 1, by: str | None = None, why: str = "line_added",
                  confirm_held: Any = False, quote_id: Any = None, service: Any = None,
                  unit_price: Any = None) -> dict[str, Any]:
        """Add a piece or a stock line. A piece held for a purpose (on a tray for an
        appointment) is refused with code `held`, saying where it is, unless the person
        confirmed it (`confirm_held`): then the line sells it, and the sale ends the hold."""
        item_id = fields.identifier(item_id, "item_id", required=False, what="a serial")
        confirm_held = fields.boolean(confirm_held, "confirm_held")
        quote_id = fields.text(quote_id, "quote_id", max_len=20)  # sells at the quoted price
        if quote_id and not item_id:
            raise Invalid("a quote is of a piece", "quote_id")
        sku = fields.text(sku, "sku", max_len=60)
        # A service a layer sells (a gift card: `giftcard:<code>` at the `unit_price` asked).
        service = fields.text(service, "service", max_len=60)
        unit_price = fields.amount(unit_price, "unit_price", hi=self.sales.max_line_price)
        if sum(map(bool, (item_id, sku, service))) != 1:
            raise Invalid("give either a piece (item_id) or a stock line (sku)")
        if service:
            validate_lines([{"service": service, "unit_price": unit_price}],
                           self.sales.max_line_price)
        quantity = _whole(quantity, "quantity", lo=1)
        if item_id and quantity != 1:
            raise Invalid("a piece is sold one at a time", "quantity")

        def change(tx: Tx, cart: dict[str, Any]) -> None:
            if len(cart["lines"]) >= MAX_LINES:
                raise Refused("cart_full", "a cart holds at most {max} lines", max=MAX_LINES)
            if item_id and any(ln["item_id"] == item_id for ln in cart["lines"]):
                raise Refused("already_in_cart", "piece {item_id} is already in the cart",
                              item_id=item_id)
            if service and any(ln.get("service") == service for ln in cart["lines"]):
                raise Refused("already_in_cart", "{service} is already in the cart",
                              service=service)
            line = {"item_id": item_id or None, "sku": sku or None, "quantity": quantity,
                    "unit_price": unit_price if service else None, "discount": 0}
            if service:
                line["service"] = service
            if item_id and confirm_held:
                line["confirm_held"] = True
            if quote_id:
                line["quote_id"] = quote_id
            self.sales.price_in(tx, [line], 0)  # refuses a sold, reserved or unknown piece
            cart["lines"].append(line)

        return await self._change(register_id, change, why, by)

    def _line(self, cart: dict[str, Any], line_no: Any) -> dict[str, Any]:
        line_no = _whole(line_no, "line_no", lo=1)
        if line_no > len(cart["lines"]):
            raise NotFound("the cart has no line {line_no}", line_no=line_no)
        return cart["lines"][line_no - 1]

    async def remove(self, register_id: Any, line_no: Any, *,
                     by: str | None = None) -> dict[str, Any]:
        def change(tx: Tx, cart: dict[str, Any]) -> None:
            cart["lines"].remove(self._line(cart, line_no))
            if not cart["lines"]:
                cart["discount"], cart["discount_approved"] = 0, None

        return await self._change(register_id, change, "line_removed", by)

    async def attach_client(self, register_id: Any, client_id: Any, *,
                            by: str | None = None) -> dict[str, Any]:
        fields.identifier(client_id, "client_id", required=False, pattern=_CLIENT_ID,
                          what="a client id")

        def change(tx: Tx, cart: dict[str, Any]) -> None:
            if client_id is not None and not tx.one(
                    "SELECT 1 FROM clients WHERE client_id = ? AND status = 'active'",
                    (client_id,)):
                raise NotFound("no client {client_id}", client_id=client_id)
            cart["client_id"] = client_id

        return await self._change(register_id, change, "client_attached", by)

    async def set_discount(self, register_id: Any, amount: Any = None, *,
                           percent_bp: Any = None, approval_id: Any = None,
                           actor: str) -> dict[str, Any]:
        """Discount the basket by an amount, or by a percentage (basis points: 1000 = 10 %)
        of the basket before discount, rounded half up to the minor unit."""
        if (amount is None) == (percent_bp is None):
            raise Invalid("give the discount as an amount or as a percentage", "amount")
        if amount is not None:
            amount = fields.amount(amount, "amount", required=True)
        else:
            percent_bp = fields.whole(percent_bp, "percent_bp", lo=0, hi=10_000, required=True)

        def change(tx: Tx, cart: dict[str, Any]) -> None:
            off = amount
            if (off or percent_bp) and not cart["lines"]:
                raise Refused("cart_empty", "the cart is empty: there is nothing to discount")
            base = (self.sales.price_in(tx, cart["lines"], 0, cart["client_id"])["total"]
                    if cart["lines"] else 0)
            if off is None:
                q, r = divmod(base * percent_bp, 10_000)
                off = q + (1 if 2 * r >= 10_000 else 0)
            if off > base:
                raise Invalid("the discount of {discount} is more than the basket's {base}",
                              "amount", discount=self.sales.money(off),
                              base=self.sales.money(base))
            action = self._discount_action(tx, register_id, cart, off)
            if action is not None:
                self.approvals.spend_in(tx, approval_id, action, actor=actor)
            cart["discount"] = off
            cart["discount_approved"] = action_digest(action) if action is not None else None

        return await self._change(register_id, change, "discount", actor)

    async def set_price(self, register_id: Any, line_no: Any, unit_price: Any, *,
                        approval_id: Any = None, actor: str) -> dict[str, Any]:
        unit_price = fields.amount(unit_price, "unit_price", required=True,
                                   hi=self.sales.max_line_price)

        def change(tx: Tx, cart: dict[str, Any]) -> None:
            line = self._line(cart, line_no)
            was = self.sales.price_in(tx, [{**line, "unit_price": None}], 0)["lines"][0]
            if unit_price != was["unit_price"]:
                action = {"kind": "price_change", "register_id": register_id,
                          "item_id": line["item_id"], "sku": line["sku"], "amount": unit_price,
                          "base": was["unit_price"]}
                self.approvals.spend_in(tx, approval_id, action, actor=actor)
                line["unit_price"] = unit_price
            else:
                line["unit_price"] = None

        return await self._change(register_id, change, "price_changed", actor)

    async def add_tender(self, register_id: Any, tender: Any, *,
                         by: str | None = None, approval_id: Any = None,
                         from_terminal: bool = False) -> dict[str, Any]:
        """Take a tender. Only cash may be more than what is due (the change is given back);
        a card, a transfer or a voucher above it is refused now, not at completion. At a
        register with a card terminal (`card_terminals`), a card typed by hand needs a
        manager: the terminal's own tenders come `from_terminal`."""
        checked = validate_tender(tender)
        keyed = (checked["type"] == "card" and not from_terminal
                 and register_id in self.card_terminals)

        def change(tx: Tx, cart: dict[str, Any]) -> None:
            if len(cart["tenders"]) >= 20:
                raise Refused("too_many_tenders", "a sale takes at most {max} tenders", max=20)
            if not cart["lines"]:
                raise Refused("cart_empty", "the cart is empty: add a piece first")
            total = self.sales.price_in(tx, cart["lines"], cart["discount"],
                                        cart["client_id"])["total"]
            due = total - sum(t["amount"] for t in cart["tenders"])
            if checked["type"] != "cash" and checked["amount"] > due:
                raise Refused("overpaid", "a {kind} tender can be at most what is due ({due}):"
                              " only cash can be more, and gives change",
                              kind=Term("tender", checked["type"]),
                              due=self.sales.money(max(due, 0)), field="amount")
            check = self.sales.tender_checks.get(checked["type"])
            if check is not None:  # a gift card's balance, her store credit: said now
                check(tx, checked, cart["tenders"], cart["client_id"])
            if keyed:  # the terminal is out of order, or bypassed: a manager says so
                self.approvals.spend_in(tx, approval_id, {
                    "kind": "card_keyed", "register_id": register_id,
                    "amount": checked["amount"]}, actor=by or "hub")
            cart["tenders"].append(checked)

        return await self._change(register_id, change, "tender_added", by)

    async def remove_tender(self, register_id: Any, index: Any, *,
                            by: str | None = None) -> dict[str, Any]:
        def change(tx: Tx, cart: dict[str, Any]) -> None:
            i = _whole(index, "index", lo=1)
            if i > len(cart["tenders"]):
                raise NotFound("the cart has no tender {index}", index=i)
            del cart["tenders"][i - 1]

        return await self._change(register_id, change, "tender_removed", by)

    async def clear(self, register_id: Any, *, by: str | None = None) -> dict[str, Any]:
        def change(tx: Tx, cart: dict[str, Any]) -> None:
            cart.clear()
            cart.update(empty_cart())

        return await self._change(register_id, change, "cleared", by)

    async def complete(self, register_id: Any, *, actor: str, note: Any = None,
                       approval_id: Any = None) -> str:
        """Ring up the cart as one sale (journaled) and empty it, in one transaction. A
        discount still waiting for a manager (the basket changed after it was approved) is
        approved here, with `approval_id`, or the sale is refused until it is."""
        self.sales.check_register(register_id)
        note = fields.text(note, "note", max_len=500, multiline=True)

        def command(tx: Tx) -> str:
            cart, version = self._load(tx, register_id)
            if not cart["lines"]:
                raise Refused("cart_empty", "the cart is empty")
            if not cart["tenders"]:
                raise Refused("no_tender", "take at least one tender first")
            pending = self._pending_discount(tx, register_id, cart)
            if pending is not None:
                if not approval_id:
                    raise ApprovalNeeded(pending, "the basket changed after its discount was"
                                         " approved: a manager approves it again")
                self.approvals.spend_in(tx, approval_id, pending, actor=actor)
            else:
                priced = self.sales.price_in(tx, cart["lines"], cart["discount"],
                                             cart["client_id"])
                asked = price_approval(register_id, priced["lines"])
                if asked is not None:
                    if not approval_id:
                        raise ApprovalNeeded(asked, ASKED[asked["kind"]])
                    self.approvals.spend_in(tx, approval_id, asked, actor=actor)
            entry = self.sales.complete_in(
                tx, register_id=register_id, actor=actor, lines=cart["lines"],
                tenders=cart["tenders"], client_id=cart["client_id"],
                discount=cart["discount"], note=note)
            emptied = self._save(tx, register_id, empty_cart(), version)
            return entry.subject.split(":", 1)[1], emptied

        sale_id, emptied = await self.ledger.transact(command)
        self._changed(emptied, "completed", actor)
        return sale_id

