"""Card payments on the register's terminal, in the books.

What an auditor can follow, entry by entry (all `terminal.*`, under the store's key):

- `terminal.payment_started` {payment_id, device, register_id, amount, currency}: written
  *before* the amount goes to the terminal, so an attempt is never lost, whatever happens;
- `terminal.payment_unknown` {payment_id, why}: the exchange broke off (cut, garbage, too
  late): nobody knows yet whether the client was charged, and no new payment goes to that
  terminal until the terminal has been asked (`resolve`);
- `terminal.payment_ended` {payment_id, outcome (approved, declined, aborted, not_charged),
  result_code, brand, last4, auth_code, trace, receipt_no, terminal_id, lines, resolved_by
  (answer, last_transaction)}: once per payment (a second answer is ignored);
- `terminal.reversal` {payment_id, sale_id, outcome (reversed, failed), result_code, why}
  after a void; a failed one stays listed as a problem for a manager (`problems`);
- `terminal.day_closed` {device, register_id, total, count, schemes, first/last receipt}:
  the terminal's end of day, in the Z report's `terminals` section.

The hub keeps the brand, the last four digits and the authorisation code: never a card
number. The approved payment becomes the cart's card tender (detail brand, last4,
auth_code, terminal_ref = "<receipt>/<trace>").
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import re
from typing import TYPE_CHECKING, Any

from hub.bus import Event, EventBus
from hub.core.errors import NotFound, Refused
from hub.devices.base import State
from hub.devices.errors import DeviceBusy, DeviceError
from hub.devices.zvt import protocol as z
from hub.devices.zvt.driver import Outcome, TerminalUnsure, ZvtTerminal
from hub.ledger.ledger import Tx

if TYPE_CHECKING:  # the opened books, for annotations only (the store imports the layers)
    from hub.store import Store
from hub.words import N_, Term

log = logging.getLogger(__name__)

_PAN_LIKE = re.compile(r"\d[\d \-]{10,}\d")


def _clean_lines(lines: list[str]) -> list[str]:
    # A slip should carry a masked number only; a terminal that prints more is cut here.
    return [_PAN_LIKE.sub("****", line)[:60] for line in lines[:80]]


def new_payment_id() -> str:
    return "TP" + base64.b32encode(os.urandom(5)).decode()


class TerminalPayments:
    """The register's terminal, as the books see it."""

    def __init__(self, store: Store, bus: EventBus, terminals: dict[str, ZvtTerminal]) -> None:
        self.store = store
        self.bus = bus
        self.terminals = terminals  # register -> terminal
        self.resolve_wait = {r: float(t.spec.get("resolve_wait_s", 20.0))
                             for r, t in terminals.items()}
        for t in terminals.values():
            t.currency = z.CURRENCIES.get(store.config.currency, t.currency)
        self._unlisten: list[Any] = []
        self._background: set[asyncio.Task[Any]] = set()

    def start(self) -> None:
        self.store.carts.card_terminals = set(self.terminals)
        self._unlisten = [self.bus.listen("journal.sale.voided", self._on_void)]

    async def stop(self) -> None:
        for unlisten in self._unlisten:
            unlisten()
        self.store.carts.card_terminals = set()
        for task in self._background:
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)

    def terminal(self, register_id: str) -> ZvtTerminal:
        if register_id not in self.terminals:
            raise DeviceBusy("no {kind} is bound to register {register}",
                             kind=Term("device_kind", "terminal"), register=register_id)
        return self.terminals[register_id]

    # -- reading --------------------------------------------------------------------------

    async def get(self, payment_id: str) -> dict[str, Any]:
        row = await self.store.ledger.fetch_one(
            "SELECT * FROM terminal_payments WHERE payment_id = ?", (payment_id,))
        if row is None:
            raise NotFound("no card payment {payment_id}", payment_id=payment_id)
        return dict(row)

    async def problems(self) -> list[dict[str, Any]]:
        """Payments a person must look at: outcome unknown, or a reversal that failed."""
        rows = await self.store.ledger.fetch(
            "SELECT * FROM terminal_payments WHERE status IN ('unknown', 'reversal_failed')"
            " ORDER BY started_seq")
        return [dict(r) for r in rows]

    async def recent(self, register_id: str, limit: int = 20) -> list[dict[str, Any]]:
        rows = await self.store.ledger.fetch(
            "SELECT * FROM terminal_payments WHERE register_id = ? ORDER BY started_seq DESC"
            " LIMIT ?", (register_id, limit))
        return [dict(r) for r in rows]

    # -- paying ---------------------------------------------------------------------------

    def _status(self, register_id: str, payment_id: str, stage: str, text: str) -> None:
        # Live on the floor (device.* goes to the browsers): the words, already translated.
        self.bus.publish("device.terminal", register=register_id, payment_id=payment_id,
                         stage=stage, message=text)

    async def pay(self, register_id: str, amount: int, *, actor: str) -> dict[str, Any]:
        """Ask the register's terminal for `amount`; on approval the card tender is in the
        cart. Refused (and nothing sent) when the cart owes less, the terminal is busy or
        an earlier payment's outcome is still unknown."""
        terminal = self.terminal(register_id)
        cart = await self.store.carts.get(register_id)
        if not cart["lines"]:
            raise Refused("cart_empty", "the cart is empty: add a piece first")
        if amount <= 0 or amount > cart["due"]:
            raise Refused("overpaid", "a {kind} tender can be at most what is due ({due}):"
                          " only cash can be more, and gives change",
                          kind=Term("tender", "card"), due=self.store.sales.money(cart["due"]),
                          field="amount")
        for earlier in await self._open_payments(terminal.id):
            await self.resolve(earlier["payment_id"], actor=actor)
        if terminal.busy:
            raise Refused("terminal_busy", "the terminal is busy with another payment")
        terminal.require_connected()
        payment_id = new_payment_id()
        currency = self.store.config.currency
        await self.store.ledger.transact(lambda tx: tx.append(
            "terminal.payment_started", f"terminal:{payment_id}",
            {"payment_id": payment_id, "device": terminal.id, "register_id": register_id,
             "amount": amount, "currency": currency}, actor=actor))
        words = self.store.words
        self._status(register_id, payment_id, "sent",
                     words.gettext("Sent to the terminal: follow it there"))

        def on_status(code: int) -> None:
            text = z.INTERMEDIATE_STATUS.get(code, "please wait")
            self._status(register_id, payment_id, "status", words.gettext(text))

        try:
            outcome = await terminal.authorise(amount, on_status)
        except TerminalUnsure as exc:
            await self._unknown(payment_id, str(exc), actor)
            self._status(register_id, payment_id, "asking",
                         words.gettext("Connection lost: asking the terminal how it ended"))
            result = await self.resolve(payment_id, actor=actor)
        except DeviceError as exc:  # refused by the terminal, before anything happened
            await self._end(payment_id, "aborted", Outcome(aborted=0xFF), "answer", actor)
            raise DeviceBusy("the terminal did not take the payment: {why}",
                             why=words.refusal(exc) if isinstance(exc, Refused) else str(exc)
                             ) from None
        else:
            result = await self._end(payment_id, _outcome_of(outcome), outcome, "answer", actor)
        return await self._into_cart(result, actor)

    async def _open_payments(self, device: str) -> list[dict[str, Any]]:
        rows = await self.store.ledger.fetch(
            "SELECT payment_id FROM terminal_payments WHERE device = ? AND status IN"
            " ('started', 'unknown') ORDER BY started_seq", (device,))
        return [dict(r) for r in rows]

    async def _unknown(self, payment_id: str, why: str, actor: str) -> None:
        await self.store.ledger.transact(lambda tx: tx.append(
            "terminal.payment_unknown", f"terminal:{payment_id}",
            {"payment_id": payment_id, "why": why}, actor=actor))

    async def _end(self, payment_id: str, outcome: str, answer: Outcome, resolved_by: str,
                   actor: str) -> dict[str, Any]:
        facts = answer.facts()

        def command(tx: Tx) -> None:
            row = tx.one("SELECT status FROM terminal_payments WHERE payment_id = ?",
                         (payment_id,))
            if row is None or row["status"] not in ("started", "unknown"):
                return  # ended already: an answer twice is recorded once
            tx.append("terminal.payment_ended", f"terminal:{payment_id}", {
                "payment_id": payment_id, "outcome": outcome, "resolved_by": resolved_by,
                **{k: v for k, v in facts.items() if k != "amount"},
                "lines": _clean_lines(answer.lines)}, actor=actor)

        await self.store.ledger.transact(command)
        return await self.get(payment_id)

    async def resolve(self, payment_id: str, *, actor: str) -> dict[str, Any]:
        """An interrupted payment: ask the terminal (once it is back) what it did last. Its
        last transaction, approved for this amount and not already in the books, is this
        payment; otherwise the client was not charged. Unreachable: it stays unknown and
        nothing new goes to the terminal."""
        row = await self.get(payment_id)
        if row["status"] not in ("started", "unknown"):
            return row
        terminal = self.terminal(row["register_id"])
        words = self.store.words
        if row["status"] == "started":
            await self._unknown(payment_id, "the hub stopped during the payment", actor)
        try:
            await self._wait_connected(terminal, self.resolve_wait.get(row["register_id"], 20))
            last = await terminal.last_transaction()
        except DeviceError as exc:
            raise Refused("terminal_unsure", "the outcome of the card payment of {amount} is"
                          " unknown and the terminal cannot be asked ({why}): do not take"
                          " the payment again before it answers",
                          amount=self.store.sales.money(row["amount"]),
                          why=words.refusal(exc) if isinstance(exc, Refused) else str(exc)
                          ) from None
        facts = last.facts()
        known = await self.store.ledger.fetch_one(
            "SELECT 1 FROM terminal_payments WHERE device = ? AND trace = ?",
            (terminal.id, facts.get("trace")))
        if last.approved and facts.get("amount") == row["amount"] and known is None \
                and facts.get("trace") is not None:
            return await self._end(payment_id, "approved", last, "last_transaction", actor)
        return await self._end(payment_id, "not_charged", Outcome(aborted=0x6C),
                               "last_transaction", actor)

    async def _wait_connected(self, terminal: ZvtTerminal, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while terminal.state != State.CONNECTED or terminal.link is None:
            if loop.time() > deadline:
                raise DeviceBusy("the terminal is not connected")
            await asyncio.sleep(0.05)

    async def _into_cart(self, row: dict[str, Any], actor: str) -> dict[str, Any]:
        """An approved payment becomes the cart's card tender. If the cart no longer takes
        it (changed meanwhile), the charge is reversed at once rather than kept unbooked."""
        words = self.store.words
        out = {"payment": row, "cart": None, "message": words.term("terminal_outcome",
                                                                   row["status"])}
        if row["status"] != "approved":
            if row["result_code"] is not None and row["status"] == "declined":
                out["message"] = words.render("Declined: {why}", {"why": words.gettext(
                    z.RESULTS.get(row["result_code"], "declined"))})
            self._status(row["register_id"], row["payment_id"], "ended", out["message"])
            return out
        tender = {"type": "card", "amount": row["amount"], "brand": row["brand"] or "card",
                  "last4": row["last4"] or "0000", "auth_code": row["auth_code"] or "-",
                  "terminal_ref": row["terminal_ref"]}
        try:
            out["cart"] = await self.store.carts.add_tender(row["register_id"], tender, by=actor,
                                                            from_terminal=True)
        except Refused as exc:
            reversal = await self.reverse(row["payment_id"], sale_id=None, actor=actor,
                                          why=words.refusal(exc))
            out["payment"] = reversal
            out["message"] = words.render("The cart refused the payment ({why}): {outcome}",
                                          {"why": words.refusal(exc), "outcome": words.term(
                                              "terminal_outcome", reversal["status"])})
        self._status(row["register_id"], row["payment_id"], "ended", out["message"])
        return out

    # -- reversal and end of day ----------------------------------------------------------

    def _on_void(self, event: Event) -> None:
        payload = event.data.get("payload") or {}
        refs = [t["detail"]["terminal_ref"] for t in payload.get("tenders") or []
                if t.get("type") == "card" and (t.get("detail") or {}).get("terminal_ref")]
        if not refs:
            return
        task = asyncio.get_running_loop().create_task(
            self._reverse_refs(payload.get("sale_id"), refs, event.data.get("actor") or "hub"))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _reverse_refs(self, sale_id: str | None, refs: list[str], actor: str) -> None:
        for ref in refs:
            row = await self.store.ledger.fetch_one(
                "SELECT payment_id FROM terminal_payments WHERE terminal_ref = ? AND"
                " status = 'approved'", (ref,))
            if row is None:
                continue
            try:
                await self.reverse(row["payment_id"], sale_id=sale_id, actor=actor,
                                   why=N_("the sale was voided"))
            except Exception:  # recorded as failed inside; never lost in a task
                log.exception("reversal of %s", ref)

    async def reverse(self, payment_id: str, *, sale_id: str | None, actor: str,
                      why: str) -> dict[str, Any]:
        """Reverse an approved payment on its terminal; the outcome is journaled either
        way, and a failed one is a problem a manager sees (and a `device.alert`)."""
        row = await self.get(payment_id)
        if row["status"] != "approved":
            raise Refused("not_reversible", "this card payment is {status}: only an approved"
                          " one can be reversed",
                          status=Term("terminal_outcome", row["status"]))
        terminal = self.terminal(row["register_id"])
        problem, code, lines = None, None, []
        try:
            terminal.require_connected()
            answer = await terminal.reverse(int(row["receipt_no"]))
            code, lines = answer.result_code, answer.lines
            if not answer.approved:
                problem = z.RESULTS.get(code, "refused by the terminal")
        except (DeviceError, Refused) as exc:
            problem = str(exc) if not isinstance(exc, Refused) else self.store.words.refusal(exc)
        outcome = "reversed" if problem is None else "failed"
        await self.store.ledger.transact(lambda tx: tx.append(
            "terminal.reversal", f"terminal:{payment_id}",
            {"payment_id": payment_id, "sale_id": sale_id, "outcome": outcome,
             "result_code": code, "why": problem or why, "lines": _clean_lines(lines)},
            actor=actor))
        if problem is not None:
            words = self.store.words
            self.bus.publish("device.alert", device=terminal.id, register=row["register_id"],
                             alert="terminal_reversal_failed", message=words.render(
                                 "The card payment of {amount} could not be reversed ({why}):"
                                 " refund it on the terminal by hand",
                                 {"amount": self.store.sales.money(row["amount"]),
                                  "why": words.gettext(problem)}))
        return await self.get(payment_id)

    async def end_of_day(self, register_id: str, *, actor: str) -> dict[str, Any]:
        """The terminal's end of day; its totals go into the books for the Z report."""
        terminal = self.terminal(register_id)
        terminal.require_connected()
        answer = await terminal.end_of_day()
        if not answer.approved or answer.info is None:
            raise Refused("terminal_refused", "the terminal refused its end of day: {why}",
                          why=self.store.words.gettext(
                              z.RESULTS.get(answer.result_code, "refused by the terminal")))
        totals = answer.info.totals or z.Totals()
        schemes = {name: [n, a] for name, (n, a) in zip(z.TOTAL_SCHEMES, totals.schemes,
                                                        strict=False) if n}
        payload = {"device": terminal.id, "register_id": register_id,
                   "count": sum(n for n, _ in totals.schemes),
                   "total": int(answer.info.get("amount") or 0), "schemes": schemes,
                   "first_receipt": totals.first_receipt, "last_receipt": totals.last_receipt,
                   "trace": answer.info.get("trace"), "lines": _clean_lines(answer.lines)}
        entry = await self.store.ledger.transact(lambda tx: tx.append(
            "terminal.day_closed", f"terminal:{terminal.id}", payload, actor=actor))
        return {**payload, "seq": entry.seq}


def _outcome_of(answer: Outcome) -> str:
    if answer.approved:
        return "approved"
    return "aborted" if answer.result_code == 0x6C else "declined"
