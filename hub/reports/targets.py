"""The month's sales target a manager sets, so the dashboard says how the month is doing
against what the store aimed at, not only against last year.

A target is an entry (`report.target_set`: the month, the amount of net sales, its
currency), so who set it, when, and what it was before stay in the books; setting it again
is a new entry, the latest one counts. `report_targets` is its projection.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from hub.core import fields
from hub.core.errors import Invalid
from hub.ledger.journal import Entry
from hub.ledger.ledger import Ledger, Tx
from hub.ledger.schema import Migration, Schema

KIND = "report.target_set"

_V1 = """
CREATE TABLE report_targets (
    month    TEXT PRIMARY KEY,   -- 'YYYY-MM', the store's month
    amount   INTEGER NOT NULL,   -- net sales aimed at, minor units
    currency TEXT NOT NULL,
    set_by   TEXT NOT NULL,
    set_seq  INTEGER NOT NULL
);
"""

SCHEMA = Schema("report_targets", (Migration(1, _V1),), projections=("report_targets",))
MAX_TARGET = 10**13  # minor units: a hundred billion of a two-decimal currency


def _on_target(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute("INSERT INTO report_targets (month, amount, currency, set_by, set_seq)"
               " VALUES (?,?,?,?,?) ON CONFLICT(month) DO UPDATE SET amount = excluded.amount,"
               " currency = excluded.currency, set_by = excluded.set_by,"
               " set_seq = excluded.set_seq",
               (p["month"], p["amount"], p["currency"], entry.actor, entry.seq))


PROJECTIONS = {KIND: _on_target}


def month_of(text: Any, today: date) -> str:
    """A month as `YYYY-MM`, from last year to two years ahead (a target is for a month
    the store plans or is living, not a typo's year 2206)."""
    raw = fields.text(text, "month", required=True, max_len=7)
    try:
        year, month = (int(part) for part in str(raw).split("-"))
        first = date(year, month, 1)
    except ValueError:
        raise Invalid("“{value}” is not a month (year-month, such as 2026-12)", "month",
                      value=str(raw)) from None
    if not today.year - 1 <= first.year <= today.year + 2:
        raise Invalid("a target is for a month from last year to two years ahead", "month")
    return f"{first.year}-{first.month:02d}"


async def set_target(ledger: Ledger, month: str, amount: Any, currency: str, *,
                     actor: str) -> dict[str, Any]:
    """Set the month's target (a new entry; the latest counts)."""
    value = fields.amount(amount, "amount", required=True, hi=MAX_TARGET)
    if not value:
        raise Invalid("a target is an amount above zero", "amount")

    def write(tx: Tx) -> dict[str, Any]:
        tx.append(KIND, f"target:{month}", {"month": month, "amount": value,
                                            "currency": currency}, actor=actor)
        return target_of(tx, month) or {}

    return await ledger.transact(write)


def target_of(tx: Tx, month: str) -> dict[str, Any] | None:
    row = tx.one("SELECT * FROM report_targets WHERE month = ?", (month,))
    return None if row is None else dict(row)
