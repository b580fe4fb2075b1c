"""Register carts: one per register, kept on the hub so every screen and scanner bound to a
register sees the same basket, through browser crashes and restarts.

A cart is working state, not books: it lives in the `carts` table (written through the
ledger's writer so it never races a sale) and only its completion is journaled, as the sale.
Discounts above the store's threshold and price changes spend a manager approval bound to
exactly that change.
"""

from __future__ import annotations

import json
from typing import Any

from hub.core.approvals import Approvals
from hub.core.errors import Invalid, NotFound, Refused
from hub.core.sales import MAX_AMOUNT, MAX_LINES, Sales, validate_tenders
from hub.ledger.ledger import Ledger, Tx, utc_now


def empty_cart() -> dict[str, Any]:
    return {"lines": [], "client_id": None, "discount": 0, "tenders": [], "note": None}


def _whole(value: Any, field: str, *, lo: int = 0, hi: int = MAX_AMOUNT) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise Invalid(f"must be a whole number of at least {lo}", field)
    return value


class Carts:
    def __init__(self, ledger: Ledger, sales: Sales, approvals: Approvals, *,
                 max_discount_bp: int = 1000) -> None:
        self.ledger = ledger
        self.sales = sales
        self.approvals = approvals
        self.max_discount_bp = max_discount_bp  # above this share of the basket: a manager

    # -- reading ---------------------------------------------------------------------------

    async def get(self, register_id: str) -> dict[str, Any]:
        self.sales.check_register(register_id)
        row = await self.ledger.fetch_one("SELECT state, version FROM carts WHERE register_id = ?",
                                          (register_id,))
        if row is None:
            return self._view(register_id, empty_cart(), None, 0)
        saved = json.loads(row["state"])
        return self._view(register_id, saved["cart"], saved.get("priced"), row["version"],
                          saved.get("problem"))

    def _view(self, register_id: str, cart: dict[str, Any], priced: dict[str, Any] | None,
              version: int, problem: str | None = None) -> dict[str, Any]:
        paid = sum(t["amount"] for t in cart["tenders"])
        total = priced["total"] if priced else 0
        return {"register_id": register_id, "version": version, "client_id": cart["client_id"],
                "lines": priced["lines"] if priced else [], "discount": cart["discount"],
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
        return json.loads(row["state"])["cart"], row["version"]

    def _save(self, tx: Tx, register_id: str, cart: dict[str, Any], version: int) -> dict:
        priced, problem = None, None
        if cart["lines"]:
            try:
                priced = self.sales.price_in(tx, cart["lines"], cart["discount"])
            except Refused as exc:  # e.g. a piece sold at the other register meanwhile
                problem = str(exc)
        tx.execute("INSERT INTO carts (register_id, state, version, updated_at) VALUES (?,?,?,?)"
                   " ON CONFLICT(register_id) DO UPDATE SET state = excluded.state,"
                   " version = excluded.version, updated_at = excluded.updated_at",
                   (register_id, json.dumps({"cart": cart, "priced": priced, "problem": problem}),
                    version + 1, utc_now()))
        return self._view(register_id, cart, priced, version + 1, problem)

    async def _change(self, register_id: Any, change) -> dict[str, Any]:
        self.sales.check_register(register_id)

        def command(tx: Tx) -> dict[str, Any]:
            cart, version = self._load(tx, register_id)
            change(tx, cart)
            return self._save(tx, register_id, cart, version)

        return await self.ledger.transact(command)

    def _discount_action(self, tx: Tx, register_id: str, cart: dict[str, Any],
                         amount: int) -> dict[str, Any] | None:
        """The approval action an `amount` discount needs on this basket, or None."""
        if amount == 0:
            return None
        base = self.sales.price_in(tx, cart["lines"], 0)["total"]
        if amount * 10_000 <= base * self.max_discount_bp:
            return None
        return {"kind": "discount", "register_id": register_id, "amount": amount, "base": base,
                "items": [ln["item_id"] or ln["sku"] for ln in cart["lines"]]}

    async def add(self, register_id: Any, *, item_id: Any = None, sku: Any = None,
                  quantity: Any = 1) -> dict[str, Any]:
        if bool(item_id) == bool(sku):
            raise Invalid("give either item_id (a piece) or sku (a stock line)")
        for field, value in (("item_id", item_id), ("sku", sku)):
            if value is not None and (not isinstance(value, str) or len(value) > 60):
                raise Invalid("must be text", field)
        quantity = _whole(quantity, "quantity", lo=1)
        if item_id and quantity != 1:
            raise Invalid("a piece is sold one at a time", "quantity")

        def change(tx: Tx, cart: dict[str, Any]) -> None:
            if len(cart["lines"]) >= MAX_LINES:
                raise Refused("cart_full", f"a cart holds at most {MAX_LINES} lines")
            if item_id and any(ln["item_id"] == item_id for ln in cart["lines"]):
                raise Refused("already_in_cart", f"piece {item_id} is already in the cart")
            line = {"item_id": item_id or None, "sku": sku or None, "quantity": quantity,
                    "unit_price": None, "discount": 0}
            self.sales.price_in(tx, [line], 0)  # refuses a sold, reserved or unknown piece
            cart["lines"].append(line)
            self._keep_discount_if_still_approved(tx, register_id, cart)

        return await self._change(register_id, change)

    def _keep_discount_if_still_approved(self, tx: Tx, register_id: str,
                                         cart: dict[str, Any]) -> None:
        # An approved discount was approved for a given basket: once the basket changes,
        # a discount above the threshold needs approving again, so it is dropped.
        if cart["discount"] and (not cart["lines"] or self._discount_action(
                tx, register_id, cart, cart["discount"]) is not None):
            cart["discount"] = 0

    def _line(self, cart: dict[str, Any], line_no: Any) -> dict[str, Any]:
        line_no = _whole(line_no, "line_no", lo=1)
        if line_no > len(cart["lines"]):
            raise NotFound(f"the cart has no line {line_no}")
        return cart["lines"][line_no - 1]

    async def remove(self, register_id: Any, line_no: Any) -> dict[str, Any]:
        def change(tx: Tx, cart: dict[str, Any]) -> None:
            cart["lines"].remove(self._line(cart, line_no))
            self._keep_discount_if_still_approved(tx, register_id, cart)

        return await self._change(register_id, change)

    async def attach_client(self, register_id: Any, client_id: Any) -> dict[str, Any]:
        if client_id is not None and (not isinstance(client_id, str) or len(client_id) > 20):
            raise Invalid("must be a client id or null", "client_id")

        def change(tx: Tx, cart: dict[str, Any]) -> None:
            if client_id is not None and not tx.one(
                    "SELECT 1 FROM clients WHERE client_id = ? AND status = 'active'",
                    (client_id,)):
                raise NotFound(f"no client {client_id}")
            cart["client_id"] = client_id

        return await self._change(register_id, change)

    async def set_discount(self, register_id: Any, amount: Any, *, approval_id: Any = None,
                           actor: str) -> dict[str, Any]:
        amount = _whole(amount, "amount")

        def change(tx: Tx, cart: dict[str, Any]) -> None:
            if amount and not cart["lines"]:
                raise Refused("cart_empty", "the cart is empty: nothing to discount")
            base = self.sales.price_in(tx, cart["lines"], 0)["total"] if cart["lines"] else 0
            if amount > base:
                raise Invalid(f"discount {amount} is more than the basket's {base}", "amount")
            action = self._discount_action(tx, register_id, cart, amount)
            if action is not None:
                self.approvals.spend_in(tx, approval_id, action, actor=actor)
            cart["discount"] = amount

        return await self._change(register_id, change)

    async def set_price(self, register_id: Any, line_no: Any, unit_price: Any, *,
                        approval_id: Any = None, actor: str) -> dict[str, Any]:
        unit_price = _whole(unit_price, "unit_price")

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
            self._keep_discount_if_still_approved(tx, register_id, cart)

        return await self._change(register_id, change)

    async def add_tender(self, register_id: Any, tender: Any) -> dict[str, Any]:
        checked = validate_tenders([tender])[0]

        def change(tx: Tx, cart: dict[str, Any]) -> None:
            if len(cart["tenders"]) >= 20:
                raise Refused("too_many_tenders", "at most 20 tenders")
            cart["tenders"].append(checked)

        return await self._change(register_id, change)

    async def remove_tender(self, register_id: Any, index: Any) -> dict[str, Any]:
        def change(tx: Tx, cart: dict[str, Any]) -> None:
            i = _whole(index, "index", lo=1)
            if i > len(cart["tenders"]):
                raise NotFound(f"the cart has no tender {i}")
            del cart["tenders"][i - 1]

        return await self._change(register_id, change)

    async def clear(self, register_id: Any) -> dict[str, Any]:
        def change(tx: Tx, cart: dict[str, Any]) -> None:
            cart.clear()
            cart.update(empty_cart())

        return await self._change(register_id, change)

    async def complete(self, register_id: Any, *, actor: str, note: Any = None) -> str:
        """Ring up the cart as one sale (journaled) and empty it, in one transaction."""
        self.sales.check_register(register_id)
        if note is not None and (not isinstance(note, str) or len(note) > 500):
            raise Invalid("must be text of at most 500 characters", "note")

        def command(tx: Tx) -> str:
            cart, version = self._load(tx, register_id)
            if not cart["lines"]:
                raise Refused("cart_empty", "the cart is empty")
            if not cart["tenders"]:
                raise Refused("no_tender", "take at least one tender first")
            entry = self.sales.complete_in(
                tx, register_id=register_id, actor=actor, lines=cart["lines"],
                tenders=cart["tenders"], client_id=cart["client_id"],
                discount=cart["discount"], note=note)
            self._save(tx, register_id, empty_cart(), version)
            return entry.subject.split(":", 1)[1]

        return await self.ledger.transact(command)
