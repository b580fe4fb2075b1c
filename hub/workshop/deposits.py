"""Deposits and instalments on jobs and layaways: money the store holds for a client until
what she paid for is delivered (area `deposits`).

A deposit is a liability, not revenue. Taking one (`deposit.taken` {ref, client_id,
register_id, amount, tenders}) puts the money in the register's drawer or card batch and
issues it on the account `deposit:<ref>` (`hub.core.accounts`, kind `deposit`, her opaque
id as owner) in one transaction; refunding one (`deposit.refunded`) pays it back through
tenders and reverses it on the account. At delivery the sale that hands over the repair, the
custom piece or the layaway's piece takes the `deposit` tender {reference: J12}: this
module is that tender's `SaleExtension`, and applies the amount from the account in the
sale's own transaction, so the revenue is the sale's and the liability ends at the same
moment. A void gives the amount back to the account (she has paid it; the job is open
again).

`ref` is the job's or the layaway's number (J12, L5). What each is, who it belongs to, and
whether a sale delivers it is asked of its owner (`Holder`: the jobs, the layaways), so the
money rules are written once.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from hub.core.accounts import Accounts, Movement
from hub.core.errors import Invalid, Refused
from hub.core.sales import validate_tenders
from hub.ledger.journal import Entry
from hub.ledger.ledger import Ledger, Tx
from hub.ledger.schema import Migration, Schema
from hub.money import Money

SCHEMA = Schema("deposits", (Migration(1, """
CREATE TABLE deposit_payments (
    seq         INTEGER PRIMARY KEY,
    ref         TEXT NOT NULL,              -- J12, L5: the job or layaway it is for
    client_id   TEXT NOT NULL,
    register_id TEXT NOT NULL,
    movement    TEXT NOT NULL,              -- taken | refunded
    amount      INTEGER NOT NULL,
    tenders     TEXT NOT NULL,              -- JSON: how it was paid or paid back
    ts          TEXT NOT NULL,
    actor       TEXT NOT NULL
);
CREATE INDEX deposit_payments_ref ON deposit_payments(ref, seq);
"""),), projections=("deposit_payments",))

KIND = "deposit"
TENDER = "deposit"


def account_of(ref: str) -> str:
    return f"deposit:{ref}"


def _on_payment(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute("INSERT INTO deposit_payments (seq, ref, client_id, register_id, movement,"
               " amount, tenders, ts, actor) VALUES (?,?,?,?,?,?,?,?,?)",
               (entry.seq, p["ref"], p["client_id"], p["register_id"],
                "taken" if entry.kind == "deposit.taken" else "refunded", p["amount"],
                json.dumps(p["tenders"], sort_keys=True), entry.ts, entry.actor))


PROJECTIONS = {"deposit.taken": _on_payment, "deposit.refunded": _on_payment}


def closure_section(tx: Any, from_seq: int, through_seq: int) -> dict[str, Any]:
    """The Z report's deposit lines, apart from sales: taken and refunded by tender (cash
    taken is in the drawer), and applied to the sales that delivered."""
    by: dict[str, dict[str, int]] = {"taken": {}, "refunded": {}}
    for row in tx.all("SELECT movement, tenders FROM deposit_payments WHERE seq > ? AND"
                      " seq <= ?", (from_seq, through_seq)):
        for t in json.loads(row["tenders"]):
            kinds = by[row["movement"]]
            kinds[t["type"]] = kinds.get(t["type"], 0) + t["amount"]
    applied = tx.one("SELECT COALESCE(SUM(-m.amount), 0) AS n FROM account_movements m"
                     " JOIN accounts a ON a.account_id = m.account_id WHERE a.kind = ? AND"
                     " m.movement = 'applied' AND m.seq > ? AND m.seq <= ?",
                     (KIND, from_seq, through_seq))["n"]
    held = tx.one("SELECT COALESCE(SUM(balance), 0) AS n FROM accounts WHERE kind = ?",
                  (KIND,))["n"]
    return {"taken": by["taken"], "refunded": by["refunded"], "applied": applied,
            "held": held}


class Holder(Protocol):
    """What deposits are paid on (the jobs, the layaways)."""

    def deposit_check_in(self, tx: Tx, ref: str, *, refund: bool) -> dict[str, Any]:
        """{client_id, due}: who pays and how much may still be paid; a refusal in words
        when nothing may be (a cancelled job takes no deposit)."""
        ...

    def delivered_by(self, tx: Tx, ref: str, sale: dict[str, Any]) -> bool:
        """Whether this sale hands over what `ref` was paid for."""
        ...


class Deposits:
    """Taking and refunding deposits, and the `deposit` tender of sales."""

    tenders = frozenset({TENDER})

    def __init__(self, ledger: Ledger, accounts: Accounts, currency: str) -> None:
        self.ledger, self.accounts, self.currency = ledger, accounts, currency
        self.holders: dict[str, Holder] = {}  # by the letter their numbers start with

    def holder(self, ref: str) -> Holder:
        holder = self.holders.get(ref[:1])
        if holder is None:
            raise Invalid("“{ref}” is no job or layaway of this store", "reference", ref=ref)
        return holder

    def _movement(self, ref: str, client_id: str, movement: str, amount: int,
                  why: str) -> Movement:
        return Movement(account_of(ref), KIND, f"client:{client_id}", self.currency,
                        movement, amount, why)

    def held_in(self, tx: Tx, ref: str) -> int:
        return self.accounts.balance_in(tx, account_of(ref))

    def take_in(self, tx: Tx, ref: str, *, register_id: str, tenders: Any,
                actor: str) -> Entry:
        """A deposit or an instalment: at most what is still due, paid with any tenders
        but a deposit itself (no change is given: cash above what is due is refused)."""
        checked = validate_tenders(tenders)
        if any(t["type"] in ("deposit", "loyalty") for t in checked):
            raise Invalid("a deposit is paid in money: cash, card, transfer...", "tenders")
        amount = sum(t["amount"] for t in checked)
        owner = self.holder(ref).deposit_check_in(tx, ref, refund=False)
        if amount > owner["due"]:
            raise Refused("over_balance", "{amount} is more than the {due} still to pay",
                          amount=Money(amount, self.currency),
                          due=Money(owner["due"], self.currency), field="tenders")
        entry = tx.append("deposit.taken", f"deposit:{ref}",
                          {"ref": ref, "client_id": owner["client_id"],
                           "register_id": register_id, "amount": amount, "tenders": checked},
                          actor=actor)
        self.accounts.move_in(tx, self._movement(ref, owner["client_id"], "issued", amount,
                                                 f"seq:{entry.seq}"), actor=actor)
        return entry

    def refund_in(self, tx: Tx, ref: str, *, register_id: str, tenders: Any, actor: str,
                  approved_by: str | None = None) -> Entry:
        """Pay back what the store holds (a cancelled job, a layaway given up), at most the
        balance held."""
        checked = validate_tenders(tenders)
        if any(t["type"] in ("deposit", "loyalty") for t in checked):
            raise Invalid("a deposit is paid back in money: cash, card, transfer...",
                          "tenders")
        amount = sum(t["amount"] for t in checked)
        owner = self.holder(ref).deposit_check_in(tx, ref, refund=True)
        held = self.held_in(tx, ref)
        if amount > held:
            raise Refused("over_held", "{amount} is more than the {held} held for {ref}",
                          amount=Money(amount, self.currency),
                          held=Money(held, self.currency), ref=ref, field="tenders")
        entry = tx.append("deposit.refunded", f"deposit:{ref}",
                          {"ref": ref, "client_id": owner["client_id"],
                           "register_id": register_id, "amount": amount, "tenders": checked,
                           "approved_by": approved_by}, actor=actor)
        self.accounts.move_in(tx, self._movement(ref, owner["client_id"], "reversed", amount,
                                                 f"seq:{entry.seq}"), actor=actor)
        return entry

    async def payments(self, ref: str) -> list[dict[str, Any]]:
        rows = await self.ledger.fetch("SELECT * FROM deposit_payments WHERE ref = ?"
                                       " ORDER BY seq", (ref,))
        return [{**dict(r), "tenders": json.loads(r["tenders"])} for r in rows]

    # -- the deposit tender (a SaleExtension) ---------------------------------------------

    def sold_in(self, tx: Tx, sale: dict[str, Any], actor: str) -> None:
        for t in sale["tenders"]:
            if t["type"] != TENDER:
                continue
            ref = str(t["detail"].get("reference") or "")
            if not ref:
                raise Invalid("a deposit tender names the job or layaway it comes from",
                              "tenders")
            holder = self.holder(ref)
            if not holder.delivered_by(tx, ref, sale):
                raise Refused("deposit_elsewhere", "the deposits on {ref} pay only for what"
                              " {ref} delivers", ref=ref, field="tenders")
            held = self.held_in(tx, ref)
            if t["amount"] > held:
                raise Refused("deposit_short", "{ref} holds {held}, less than {amount}",
                              ref=ref, held=Money(held, self.currency),
                              amount=Money(t["amount"], self.currency), field="tenders")
            client_id = holder.deposit_check_in(tx, ref, refund=True)["client_id"]
            self.accounts.move_in(tx, self._movement(ref, client_id, "applied", t["amount"],
                                                     sale["sale_id"]), actor=actor)

    def returned_in(self, tx: Tx, sale: dict[str, Any], back: dict[str, Any],
                    actor: str) -> None:
        """What a return or void gives back in the deposit tender goes back to the account:
        she paid it, and the store holds it again until it is refunded or delivered."""
        for t in back["tenders"]:
            if t["type"] != TENDER:
                continue
            ref = str(t["detail"].get("reference") or "")
            client_id = self.holder(ref).deposit_check_in(tx, ref, refund=True)["client_id"]
            self.accounts.move_in(tx, self._movement(ref, client_id, "refunded", t["amount"],
                                                     back["return_id"]), actor=actor)

    voided_in = returned_in
