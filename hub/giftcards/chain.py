"""Gift cards across the chain, as HQ's reference receiver keeps them (hub/sync/hq.py).

HQ reads every store's replicated entries: the home store's `account.moved` on a
`gift_card:` account (issued, applied, refunded, reversed) and other stores'
`gift_card.foreign_applied` / `_refunded`. Each is a *move* of the card's chain-wide
balance, kept once by (store, seq). After storing a run HQ answers:

- each store that took a card of another store gets a `gift_card_reconciliation` {code,
  ref, outcome, balance}: `reconciled` when the chain balance holds it, `conflict` when it
  went below zero (spent twice: surfaced on both sides, never silently accepted). While
  the home store has not yet reported the card at all (its sale still on the way), the
  redemption waits, undecided, for the home store's entries;
- every store gets a `gift_card_balance` {code, balance, elsewhere}: what the card holds
  chain-wide and what other stores than its home took from it (the home store mirrors that
  on its own account, with refs starting `elsewhere:`, which HQ therefore skips).

Pure functions over plain values: no MQTT, no storage engine.
"""

from __future__ import annotations

from typing import Any

from hub.giftcards import codes

ACCOUNT_PREFIX = "gift_card:"
_SIGN = {"issued": 1, "refunded": 1, "applied": -1, "reversed": -1, "expired": -1}

SCHEMA = """
CREATE TABLE IF NOT EXISTS gift_card_moves (
    store_id TEXT NOT NULL, seq INTEGER NOT NULL, code TEXT NOT NULL,
    home INTEGER NOT NULL,             -- 1: the card's own store; 0: taken elsewhere
    amount INTEGER NOT NULL,           -- signed: what it did to the chain-wide balance
    ref TEXT,                          -- a store's redemption ref (elsewhere only)
    outcome TEXT,                      -- NULL until HQ said reconciled | conflict
    PRIMARY KEY (store_id, seq, code)
);
CREATE INDEX IF NOT EXISTS gift_card_moves_code ON gift_card_moves(code);
"""


def move_of(store_id: str, kind: str, seq: int, p: dict[str, Any]) -> dict[str, Any] | None:
    """The chain-wide move one decrypted entry makes, or None."""
    if kind == "account.moved":
        if p.get("kind") != "gift_card" or str(p.get("ref") or "").startswith("elsewhere:"):
            return None
        code = p["account_id"][len(ACCOUNT_PREFIX):]
        return {"code": code, "seq": seq, "home": 1, "ref": None,
                "amount": _SIGN[p["movement"]] * p["amount"]}
    if kind in ("gift_card.foreign_applied", "gift_card.foreign_refunded"):
        sign = -1 if kind.endswith("applied") else 1
        return {"code": p["code"], "seq": seq, "home": 0, "ref": p["ref"],
                "amount": sign * p["amount"]}
    return None


def store_of_code(code: str, store_ids: list[str]) -> str | None:
    """The store whose prefix a code carries."""
    prefix = code.rsplit("-", 1)[0]
    return next((s for s in store_ids if codes.store_prefix(s) == prefix), None)


def answers(query: Any, codes_touched: set[str]) -> tuple[list[dict[str, Any]],
                                                          list[dict[str, Any]]]:
    """After a run is stored: (reconciliations to send, balances to send). `query(sql,
    params)` reads HQ's storage. Reconciliations are decided once, in seq order, for cards
    whose home store has reported them."""
    decided, balances = [], []
    for code in sorted(codes_touched):
        rows = query("SELECT store_id, seq, home, amount, ref, outcome FROM gift_card_moves"
                     " WHERE code = ? ORDER BY home DESC, seq", (code,))
        balance = sum(r["amount"] for r in rows)
        elsewhere = -sum(r["amount"] for r in rows if not r["home"])
        if any(r["home"] for r in rows):
            for r in rows:
                if not r["home"] and r["outcome"] is None and r["ref"]:
                    decided.append({"store_id": r["store_id"], "seq": r["seq"], "code": code,
                                    "ref": r["ref"], "balance": balance,
                                    "outcome": "reconciled" if balance >= 0 else "conflict"})
        balances.append({"code": code, "balance": balance, "elsewhere": elsewhere})
    return decided, balances
