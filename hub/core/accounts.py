"""Accounts for every balance the store owes or holds: loyalty points today; deposits, gift
cards, store credit and consignors' credits as their layers land. An area of the core's own
(`accounts`), shared by every layer (DESIGN.md, "Accounts for every balance").

An account has a kind (loyalty...), an owner (an opaque reference: `client:C...`) and a unit
(`points`, or an ISO 4217 currency for money). Its balance is the sum of its movements, each
an `account.moved` entry {account_id, kind, owner, unit, movement, amount, ref}: *issued*
(earned, sold, deposited: adds), *applied* (spent as a tender: takes), *refunded* (a spent
amount given back: adds), *reversed* (what was issued taken back, as by a return: takes) and
*expired* (takes). Amounts are positive integers in the unit; a movement never takes an
account below zero. A `ref` (the sale, the return) makes a movement happen once: the same
movement with the same ref is refused, so a retried or replayed earning never counts twice.
The Z report reads liabilities here, never from each layer's own tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hub.core.errors import Invalid, Refused
from hub.ledger.journal import Entry
from hub.ledger.ledger import Ledger, Tx
from hub.ledger.schema import Migration, Schema

SCHEMA = Schema("accounts", (Migration(1, """
CREATE TABLE accounts (
    account_id TEXT PRIMARY KEY,            -- loyalty:C...
    kind       TEXT NOT NULL,               -- loyalty | deposit | gift_card | store_credit ...
    owner      TEXT NOT NULL,               -- client:C... (an opaque reference)
    unit       TEXT NOT NULL,               -- points, or an ISO 4217 currency
    balance    INTEGER NOT NULL,
    opened_seq INTEGER NOT NULL
);
CREATE INDEX accounts_owner ON accounts(owner, kind);
CREATE TABLE account_movements (
    seq        INTEGER NOT NULL,
    account_id TEXT NOT NULL,
    movement   TEXT NOT NULL,               -- issued | applied | refunded | reversed | expired
    amount     INTEGER NOT NULL,            -- signed: what it did to the balance
    ref        TEXT,                        -- the sale, return... it belongs to
    ts         TEXT NOT NULL,
    actor      TEXT NOT NULL,
    PRIMARY KEY (seq, account_id)
);
CREATE INDEX account_movements_account ON account_movements(account_id, seq);
CREATE UNIQUE INDEX account_movements_once ON account_movements(account_id, movement, ref)
    WHERE ref IS NOT NULL;
"""),), projections=("accounts", "account_movements"))

ADDS = frozenset({"issued", "refunded"})
TAKES = frozenset({"applied", "reversed", "expired"})
MOVEMENTS = tuple(sorted(ADDS | TAKES))


@dataclass(frozen=True)
class Movement:
    """One movement to make: `amount` > 0 in the account's unit."""

    account_id: str
    kind: str
    owner: str
    unit: str
    movement: str
    amount: int
    ref: str | None = None


def _on_moved(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    signed = p["amount"] if p["movement"] in ADDS else -p["amount"]
    tx.execute("INSERT INTO accounts (account_id, kind, owner, unit, balance, opened_seq)"
               " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(account_id) DO UPDATE SET"
               " balance = balance + excluded.balance",
               (p["account_id"], p["kind"], p["owner"], p["unit"], signed, entry.seq))
    tx.execute("INSERT INTO account_movements (seq, account_id, movement, amount, ref, ts,"
               " actor) VALUES (?, ?, ?, ?, ?, ?, ?)",
               (entry.seq, p["account_id"], p["movement"], signed, p.get("ref"), entry.ts,
                entry.actor))


PROJECTIONS = {"account.moved": _on_moved}


def closure_section(tx: Any, from_seq: int, through_seq: int) -> dict[str, Any]:
    """The Z report's liabilities: what every kind of account holds at the close, by unit,
    and what moved during the day."""
    held = [dict(r) for r in tx.all(
        "SELECT kind, unit, SUM(balance) AS balance, COUNT(*) AS accounts FROM accounts"
        " GROUP BY kind, unit ORDER BY kind, unit")]
    moved = [dict(r) for r in tx.all(
        "SELECT a.kind, a.unit, m.movement, SUM(m.amount) AS amount FROM account_movements m"
        " JOIN accounts a ON a.account_id = m.account_id WHERE m.seq > ? AND m.seq <= ?"
        " GROUP BY a.kind, a.unit, m.movement ORDER BY a.kind, a.unit, m.movement",
        (from_seq, through_seq))]
    return {"liabilities": held, "movements": moved}


class Accounts:
    """The balances: movements made inside a caller's transaction (a sale spends points in
    the transaction that completes it), read by account or owner."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def balance_in(self, tx: Tx, account_id: str) -> int:
        row = tx.one("SELECT balance FROM accounts WHERE account_id = ?", (account_id,))
        return row["balance"] if row else 0

    def done_in(self, tx: Tx, account_id: str, movement: str, ref: str) -> bool:
        """Whether that movement with that ref was made already (an earning, a take-back)."""
        return tx.one("SELECT 1 FROM account_movements WHERE account_id = ? AND movement = ?"
                      " AND ref = ?", (account_id, movement, ref)) is not None

    def moved_in(self, tx: Tx, account_id: str, movement: str, ref: str) -> int:
        """How much that movement with that ref moved (0: it was not made)."""
        row = tx.one("SELECT COALESCE(SUM(ABS(amount)), 0) AS n FROM account_movements"
                     " WHERE account_id = ? AND movement = ? AND ref = ?",
                     (account_id, movement, ref))
        return row["n"]

    def move_in(self, tx: Tx, m: Movement, *, actor: str) -> Entry:
        """Make one movement inside a transaction; refused, with nothing written, when it
        would take the account below zero or was made already with that ref."""
        if m.movement not in MOVEMENTS:
            raise Invalid("“{movement}” is not a movement of an account", "movement",
                          movement=m.movement)
        if isinstance(m.amount, bool) or not isinstance(m.amount, int) or m.amount <= 0:
            raise Invalid("an amount moved must be a whole number above zero", "amount")
        row = tx.one("SELECT kind, owner, unit, balance FROM accounts WHERE account_id = ?",
                     (m.account_id,))
        if row is not None and (row["kind"], row["owner"], row["unit"]) != (m.kind, m.owner,
                                                                           m.unit):
            raise Refused("account_mismatch", "account {account_id} is not that account",
                          account_id=m.account_id)
        balance = row["balance"] if row else 0
        if m.movement in TAKES and m.amount > balance:
            raise Refused("balance_short", "the balance is {balance}, less than {amount}",
                          balance=balance, amount=m.amount, field="amount")
        if m.ref is not None and self.done_in(tx, m.account_id, m.movement, m.ref):
            raise Refused("already_moved", "this was already recorded")
        payload = {"account_id": m.account_id, "kind": m.kind, "owner": m.owner,
                   "unit": m.unit, "movement": m.movement, "amount": m.amount, "ref": m.ref}
        return tx.append("account.moved", f"account:{m.account_id}", payload, actor=actor)

    async def balance(self, account_id: str) -> int:
        row = await self.ledger.fetch_one("SELECT balance FROM accounts WHERE account_id = ?",
                                          (account_id,))
        return row["balance"] if row else 0

    async def movements(self, account_id: str, limit: int = 50) -> list[dict[str, Any]]:
        rows = await self.ledger.fetch(
            "SELECT * FROM account_movements WHERE account_id = ? ORDER BY seq DESC LIMIT ?",
            (account_id, limit))
        return [dict(r) for r in rows]

    async def of_owner(self, owner: str) -> list[dict[str, Any]]:
        rows = await self.ledger.fetch("SELECT * FROM accounts WHERE owner = ? ORDER BY kind",
                                       (owner,))
        return [dict(r) for r in rows]
