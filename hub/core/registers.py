"""The store's registers: what happens at the counter beyond the cart itself.

- A scanner bound to a register rings up at that register's cart (`device.scan` on the bus),
  unless it is lent to a stock count (`lend`/`give_back`: the counts layer says so).
- A drawer opened without a sale, a void and a return each spend a manager's approval and
  record the change in one transaction: the approval is used only if the change is recorded.
  The void or return names the manager who approved it; the drawer opening is a
  `register.no_sale` entry, which the devices layer follows by kicking that drawer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from hub.bus import Event, EventBus
from hub.core import fields
from hub.core.approvals import Approvals
from hub.core.carts import Carts
from hub.core.errors import Invalid, Refused
from hub.core.items import Items
from hub.core.sales import REFUND_TO, Sales, validate_lines, validate_tenders
from hub.ledger.journal import Entry
from hub.ledger.ledger import Ledger, Tx
from hub.words import Words


class Registers:
    def __init__(self, ledger: Ledger, items: Items, sales: Sales, carts: Carts,
                 approvals: Approvals, bus: EventBus, words: Words) -> None:
        self.ledger, self.items, self.sales = ledger, items, sales
        self.carts, self.approvals, self.bus, self.words = carts, approvals, bus, words
        self.lent: set[str] = set()  # scanners lent to a stock count: they count, not sell
        # Codes another layer reads (a workshop envelope's job number): not rung up.
        self.claims: list[Callable[[str], bool]] = []
        self._unlisten: Callable[[], None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # -- scanners ---------------------------------------------------------------------------

    def start(self) -> None:
        self._unlisten = self.bus.listen("device.scan", self._on_scan)

    async def stop(self) -> None:
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = None
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def lend(self, device: str) -> None:
        self.lent.add(device)

    def give_back(self, device: str) -> None:
        self.lent.discard(device)

    def _on_scan(self, event: Event) -> None:
        task = asyncio.get_running_loop().create_task(self.scanned(event.data))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def scanned(self, data: dict[str, Any]) -> None:
        """`device.scan` {device, register, code}: the piece goes into that register's cart;
        a refusal goes back to its screens as `cart.scan_refused`, in words."""
        register_id, code = data.get("register"), str(data.get("code") or "")
        if register_id not in self.sales.registers or data.get("device") in self.lent:
            return  # a scanner of no register (a stock room), or counting a showcase
        if any(claim(code) for claim in self.claims):
            return
        try:
            await self.ring_up(register_id, code, by=data.get("device"), why="scanned")
        except Refused as exc:
            self.bus.publish("cart.scan_refused", register_id=register_id, code=code[:60],
                             error=exc.code, detail=self.words.refusal(exc))

    async def ring_up(self, register_id: Any, code: Any, *, by: str | None,
                      why: str = "line_added", confirm_held: Any = False) -> dict[str, Any]:
        """A scanned or typed code (serial, tag or SKU) into the register's cart (a held
        piece only with `confirm_held`: see `Carts.add`)."""
        self.sales.check_register(register_id)
        piece = await self.items.lookup(code)
        return await self.carts.add(register_id, item_id=piece["item_id"], by=by, why=why,
                                    confirm_held=confirm_held)

    # -- what needs a manager ----------------------------------------------------------------

    async def _approved(self, approval_id: Any, action: dict[str, Any], actor: str,
                        record: Callable[[Tx, str | None], Entry]) -> Entry:
        def command(tx: Tx) -> Entry:
            self.approvals.spend_in(tx, approval_id, action, actor=actor)
            return record(tx, self.approvals.approver_in(tx, approval_id))

        return await self.ledger.transact(command)

    async def complete(self, register_id: Any, *, actor: str, note: Any = None,
                       approval_id: Any = None) -> dict[str, Any]:
        """Ring up the register's cart as one sale; the sale as recorded."""
        sale_id = await self.carts.complete(register_id, actor=actor, note=note,
                                            approval_id=approval_id)
        return await self.sales.get(sale_id)

    async def no_sale(self, register_id: Any, *, reason: Any, approval_id: Any,
                      actor: str) -> dict[str, Any]:
        """Open the drawer without a sale: the `register.no_sale` entry (the devices layer
        kicks the drawer when it sees it, and says how that went as `device.drawer`)."""
        self.sales.check_register(register_id)
        reason = fields.text(reason, "reason", required=True, max_len=200)
        action = {"kind": "no_sale", "register_id": register_id, "reason": reason}
        entry = await self._approved(approval_id, action, actor, lambda tx, by: tx.append(
            "register.no_sale", f"register:{register_id}",
            {"register_id": register_id, "reason": reason, "approved_by": by}, actor=actor))
        return {"seq": entry.seq, "register_id": register_id}

    async def void(self, sale_id: str, *, register_id: Any, reason: Any, approval_id: Any,
                   actor: str) -> dict[str, Any]:
        sale = await self.sales.get(sale_id)
        self.sales.check_register(register_id)
        reason = _reason(reason)
        action = {"kind": "void", "sale_id": sale["sale_id"], "register_id": register_id,
                  "amount": sale["total"], "reason": reason}
        entry = await self._approved(approval_id, action, actor, lambda tx, by: (
            self.sales.void_in(tx, sale["sale_id"], register_id=register_id, actor=actor,
                               reason=reason, approved_by=by)))
        return await self.sales.document(entry)

    async def return_lines(self, sale_id: str, *, register_id: Any, lines: Any, reason: Any,
                           approval_id: Any, actor: str,
                           refund_to: Any = None) -> dict[str, Any]:
        """A return the manager approves; its refund to the sale's tenders, or all of it to
        `refund_to`: "store_credit" (hers) or "cash" — cash for a sale not paid in cash is
        its own approval kind (`refund_cash`), so the manager sees what they approve."""
        sale = await self.sales.get(sale_id)
        self.sales.check_register(register_id)
        reason = _reason(reason)
        if lines is not None and (not isinstance(lines, list) or len(lines) > 200):
            raise Invalid("choose the lines to return", "lines")
        if refund_to is not None and refund_to not in REFUND_TO:
            raise Invalid("a refund goes back to the sale's tenders, to store credit or in"
                          " cash", "refund_to")
        cash_asked = refund_to == "cash" and not any(
            t["type"] == "cash" and t["amount"] > 0 for t in sale["tenders"])
        action = {"kind": "refund_cash" if cash_asked else "return",
                  "sale_id": sale["sale_id"], "register_id": register_id, "lines": lines,
                  "reason": reason}
        entry = await self._approved(approval_id, action, actor, lambda tx, by: (
            self.sales.return_in(tx, sale["sale_id"], register_id=register_id, actor=actor,
                                 reason=reason, lines=lines, approved_by=by,
                                 refund_to=refund_to)))
        return await self.sales.document(entry)

    async def exchange(self, sale_id: str, *, register_id: Any, lines: Any, new_lines: Any,
                       tenders: Any, reason: Any, approval_id: Any, actor: str,
                       refund_tenders: Any = None) -> dict[str, Any]:
        """An exchange (`Sales.exchange_in`) the manager approves as a return, naming the
        lines that come back and the pieces that go out: {return, sale}."""
        sale = await self.sales.get(sale_id)
        self.sales.check_register(register_id)
        reason = _reason(reason)
        if not isinstance(lines, list) or not lines or len(lines) > 200:
            raise Invalid("choose the lines to return", "lines")
        checked = validate_lines(new_lines, self.sales.max_line_price)
        paid = validate_tenders(tenders) if tenders else []
        action = {"kind": "exchange", "sale_id": sale["sale_id"], "register_id": register_id,
                  "lines": lines, "reason": reason,
                  "items": [ln.get("item_id") or ln.get("sku") or ln.get("service")
                            for ln in checked]}

        def record(tx: Tx, by: str | None) -> tuple[Entry, Entry]:
            return self.sales.exchange_in(
                tx, sale["sale_id"], register_id=register_id, actor=actor, reason=reason,
                lines_back=lines, new_lines=checked, tenders=paid,
                refund_tenders=refund_tenders, approved_by=by)

        def command(tx: Tx) -> tuple[Entry, Entry]:
            self.approvals.spend_in(tx, approval_id, action, actor=actor)
            return record(tx, self.approvals.approver_in(tx, approval_id))

        back, new = await self.ledger.transact(command)
        return {"return": await self.sales.document(back),
                "sale": await self.sales.get(new.subject.split(":", 1)[1])}


def _reason(value: Any) -> str:
    return fields.text(value, "reason", required=True, max_len=500, multiline=True) or ""
