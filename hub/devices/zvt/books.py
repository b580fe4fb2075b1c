"""The card terminal's part of the books: its tables, the projections of its `terminal.*`
entries (see `hub/devices/zvt/payments.py` for what each means) and its Z report lines."""

from __future__ import annotations

import json
from typing import Any

from hub.ledger.journal import Entry
from hub.ledger.ledger import Tx
from hub.ledger.schema import Migration, Schema

SCHEMA = Schema("terminals", (Migration(1, """
CREATE TABLE terminal_payments (
    payment_id   TEXT PRIMARY KEY,
    device       TEXT NOT NULL,
    register_id  TEXT NOT NULL,
    amount       INTEGER NOT NULL,
    currency     TEXT NOT NULL,
    status       TEXT NOT NULL,   -- started, unknown, approved, declined, aborted,
                                  -- not_charged, reversed, reversal_failed
    result_code  INTEGER,
    brand        TEXT,
    last4        TEXT,
    auth_code    TEXT,
    trace        INTEGER,
    receipt_no   INTEGER,
    terminal_ref TEXT,
    sale_id      TEXT,
    problem      TEXT,
    started_seq  INTEGER NOT NULL,
    ended_seq    INTEGER,
    ts           TEXT NOT NULL
);
CREATE INDEX terminal_payments_ref ON terminal_payments(terminal_ref);
CREATE INDEX terminal_payments_device ON terminal_payments(device, status);
CREATE TABLE terminal_days (
    seq          INTEGER PRIMARY KEY,
    device       TEXT NOT NULL,
    register_id  TEXT,
    count        INTEGER NOT NULL,
    total        INTEGER NOT NULL,
    schemes      TEXT NOT NULL,  -- JSON: {scheme: [count, amount]}
    ts           TEXT NOT NULL
);
"""),), projections=("terminal_payments", "terminal_days"))

PROBLEMS = ("unknown", "reversal_failed")


def _on_started(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute("INSERT INTO terminal_payments (payment_id, device, register_id, amount,"
               " currency, status, started_seq, ts) VALUES (?,?,?,?,?,?,?,?)",
               (p["payment_id"], p["device"], p["register_id"], p["amount"], p["currency"],
                "started", entry.seq, entry.ts))


def _on_unknown(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute("UPDATE terminal_payments SET status = 'unknown', problem = ? WHERE"
               " payment_id = ?", (p["why"], p["payment_id"]))


def _on_ended(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    ref = terminal_ref(p) if p["outcome"] == "approved" else None
    tx.execute("UPDATE terminal_payments SET status = ?, result_code = ?, brand = ?, last4 = ?,"
               " auth_code = ?, trace = ?, receipt_no = ?, terminal_ref = ?, problem = NULL,"
               " ended_seq = ? WHERE payment_id = ?",
               (p["outcome"], p.get("result_code"), p.get("brand"), p.get("last4"),
                p.get("auth_code"), p.get("trace"), p.get("receipt_no"), ref, entry.seq,
                p["payment_id"]))


def _on_reversal(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute("UPDATE terminal_payments SET status = ?, sale_id = ?, problem = ? WHERE"
               " payment_id = ?",
               ("reversed" if p["outcome"] == "reversed" else "reversal_failed",
                p.get("sale_id"), p.get("why"), p["payment_id"]))


def _on_day(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute("INSERT INTO terminal_days (seq, device, register_id, count, total, schemes, ts)"
               " VALUES (?,?,?,?,?,?,?)", (entry.seq, p["device"], p.get("register_id"),
                                          p["count"], p["total"], json.dumps(p["schemes"]),
                                          entry.ts))


PROJECTIONS = {"terminal.payment_started": _on_started,
               "terminal.payment_unknown": _on_unknown,
               "terminal.payment_ended": _on_ended,
               "terminal.reversal": _on_reversal,
               "terminal.day_closed": _on_day}


def closure_section(tx: Any, from_seq: int, through_seq: int) -> dict[str, Any]:
    """The Z report's card terminal lines: approved payments by brand (as the hub recorded
    them) and each terminal's own end-of-day totals, to be compared."""
    brands: dict[str, dict[str, int]] = {}
    for row in tx.all("SELECT brand, amount FROM terminal_payments WHERE ended_seq > ? AND"
                      " ended_seq <= ? AND status IN ('approved', 'reversed',"
                      " 'reversal_failed')", (from_seq, through_seq)):
        b = brands.setdefault(row["brand"] or "?", {"count": 0, "amount": 0})
        b["count"] += 1
        b["amount"] += row["amount"]
    days = [{"device": r["device"], "register_id": r["register_id"], "count": r["count"],
             "total": r["total"], "schemes": json.loads(r["schemes"])}
            for r in tx.all("SELECT * FROM terminal_days WHERE seq > ? AND seq <= ?"
                            " ORDER BY seq", (from_seq, through_seq))]
    open_ = tx.one("SELECT COUNT(*) AS n FROM terminal_payments WHERE status IN"
                   " ('unknown', 'reversal_failed')")["n"]
    return {"approved_by_brand": brands, "end_of_day": days, "problems": open_}


def terminal_ref(p: dict[str, Any]) -> str:
    return f"{int(p.get('receipt_no') or 0):04d}/{int(p.get('trace') or 0):06d}"
