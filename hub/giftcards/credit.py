"""Store credit: what the store owes a client, on the account `store_credit:<client id>`
(kind `store_credit`, owner `client:<id>`, unit the store's currency), issued by a return
refunded to store credit and by other layers (a trade-in), spent as the `store_credit`
tender {reference: her id} on a sale for her.

Other layers issue it with `issue_store_credit_in`, inside their own transaction; the
`ref` makes each issue happen once (a retried command never credits her twice).
"""

from __future__ import annotations

from hub.core.accounts import Accounts, Movement
from hub.ledger.journal import Entry
from hub.ledger.ledger import Tx

KIND = "store_credit"
TENDER = "store_credit"


def account_of(client_id: str) -> str:
    return f"store_credit:{client_id}"


def movement(client_id: str, what: str, amount: int, ref: str, currency: str) -> Movement:
    return Movement(account_of(client_id), KIND, f"client:{client_id}", currency, what,
                    amount, ref)


def issue_store_credit_in(tx: Tx, accounts: Accounts, client_id: str, amount: int, ref: str,
                          actor: str, *, currency: str) -> Entry:
    """Credit her `amount` (minor units of `currency`, above zero) once for `ref` (the
    return, the trade-in): refused, with nothing written, when `ref` was credited already."""
    return accounts.move_in(tx, movement(client_id, "issued", amount, ref, currency),
                            actor=actor)


def store_credit_in(tx: Tx, accounts: Accounts, client_id: str) -> int:
    """Her store credit now."""
    return accounts.balance_in(tx, account_of(client_id))
