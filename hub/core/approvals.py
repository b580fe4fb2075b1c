"""Manager approvals: a manager's PIN bound to one exact action, spent once.

An action is a small dict (kind, register, piece or sale, amounts, reason). Its digest is
the SHA-256 of its canonical JSON; an approval records that digest, so it can only be spent
on the very same action. Grants, refusals and uses are journal entries.
"""

from __future__ import annotations

import base64
import hashlib
import os
from typing import Any

from hub.core import fields
from hub.core.errors import Invalid, Refused
from hub.core.fields import Form
from hub.core.staff import Staff, check_pin_format, check_staff_id
from hub.ledger.journal import Entry, canonical_json
from hub.ledger.ledger import Ledger, Tx
from hub.words import Term

KINDS = ("discount", "price_change", "void", "return", "no_sale", "pickup_difference",
         "deposit_refund", "stale_rate", "below_cost", "refund_cash", "exchange",
         "below_minimum", "buyin_price", "card_keyed")
_FIELDS = {"kind", "register_id", "item_id", "sku", "sale_id", "amount", "base", "lines",
           "reason", "items", "job_id", "weight_mg", "stone_count", "layaway_id"}


class ApprovalNeeded(Refused):
    """The action needs a manager's approval; `action` is what to have approved."""

    def __init__(self, action: dict[str, Any], message: str, **params: Any) -> None:
        super().__init__("approval_needed", message, **params)
        self.action = action


def action_digest(action: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(action)).hexdigest()


def check_action(raw: Any) -> dict[str, Any]:
    """An action as a client sends it back for approval: only known fields, plain values."""
    f = Form(raw, "action", allowed=_FIELDS)
    f.choice("kind", KINDS, required=True, lower=False, vocabulary="action")
    f.done()
    if len(canonical_json(raw)) > 8192:
        raise Invalid("this is too large", "action")
    return raw


def new_approval_id() -> str:
    return "A" + base64.b32encode(os.urandom(10)).decode()


def _on_decided(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    action = p["action"]
    tx.execute("INSERT INTO approvals (approval_id, kind, digest, status, register_id, manager,"
               " requested_by, seq, ts) VALUES (?,?,?,?,?,?,?,?,?)",
               (p["approval_id"], action["kind"], p["digest"],
                "granted" if entry.kind == "approval.granted" else "refused",
                action.get("register_id"), p.get("manager"), p["requested_by"], entry.seq,
                entry.ts))


def _on_used(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute("UPDATE approvals SET status = 'used', used_seq = ? WHERE approval_id = ?",
               (entry.seq, p["approval_id"]))


PROJECTIONS = {
    "approval.granted": _on_decided,
    "approval.refused": _on_decided,
    "approval.used": _on_used,
}


class Approvals:
    def __init__(self, ledger: Ledger, staff: Staff) -> None:
        self.ledger = ledger
        self.staff = staff

    async def decide(self, action: Any, manager_id: Any, pin: Any, *,
                     requested_by: str) -> dict[str, Any]:
        """Grant the action if `pin` is a manager's (or admin's); otherwise journal a refusal.
        A PIN check that refuses to run (a locked-out id) raises before anything is journaled."""
        action = check_action(action)
        manager_id = check_staff_id(manager_id, "manager_id")
        pin = check_pin_format(pin)
        # Behind the staff book's lockout: approvals are no second door for guessing a
        # manager's PIN (a locked-out id is refused before anything is journaled).
        member = await self.staff.verify(manager_id, pin, via="approval")
        approval_id, digest = new_approval_id(), action_digest(action)
        record = {"approval_id": approval_id, "action": action, "digest": digest,
                  "requested_by": requested_by}
        if member is None or not self.staff.roles.allows(member.role, "approve"):
            why = "wrong staff id or PIN" if member is None else f"{manager_id} is not a manager"
            await self.ledger.transact(lambda tx: tx.append(
                "approval.refused", f"approval:{approval_id}",
                {**record, "manager_id": manager_id, "why": why}, actor=requested_by))
            if member is None:
                raise Refused("approval_refused", "approval refused: wrong staff id or PIN")
            raise Refused("approval_refused", "approval refused: {staff_id} is not a manager",
                          staff_id=manager_id)
        await self.ledger.transact(lambda tx: tx.append(
            "approval.granted", f"approval:{approval_id}", {**record, "manager": manager_id},
            actor=manager_id))
        return {"approval_id": approval_id, "digest": digest, "manager": manager_id,
                "action": action}

    @staticmethod
    def spend_in(tx: Tx, approval_id: Any, action: dict[str, Any], *, actor: str) -> Entry:
        """Spend an approval on `action` inside the action's own transaction."""
        if not approval_id:
            raise ApprovalNeeded(action, "a manager must approve this {kind}",
                                 kind=Term("action", action["kind"]))
        fields.identifier(approval_id, "approval_id", what="an approval id")
        row = tx.one("SELECT status, digest FROM approvals WHERE approval_id = ?", (approval_id,))
        if row is None or row["status"] == "refused":
            raise Refused("approval_invalid", "no granted approval {approval_id}",
                          approval_id=approval_id)
        if row["status"] == "used":
            raise Refused("approval_used", "approval {approval_id} was already used",
                          approval_id=approval_id)
        if row["digest"] != action_digest(action):
            raise Refused("approval_mismatch",
                          "approval {approval_id} was given for another action",
                          approval_id=approval_id)
        return tx.append("approval.used", f"approval:{approval_id}",
                         {"approval_id": approval_id, "digest": row["digest"],
                          "kind": action["kind"]}, actor=actor)

    @staticmethod
    def approver_in(tx: Tx, approval_id: Any) -> str | None:
        """The manager who granted an approval (to name them on what they approved)."""
        row = tx.one("SELECT manager FROM approvals WHERE approval_id = ?", (approval_id,))
        return row["manager"] if row else None

    async def spend(self, approval_id: Any, action: dict[str, Any], *, actor: str) -> int:
        entry = await self.ledger.transact(
            lambda tx: self.spend_in(tx, approval_id, action, actor=actor))
        return entry.seq

    async def recent(self, limit: int = 100) -> list[dict[str, Any]]:
        rows = await self.ledger.fetch("SELECT * FROM approvals ORDER BY seq DESC LIMIT ?",
                                       (limit,))
        return [dict(zip(r.keys(), tuple(r), strict=True)) for r in rows]
