"""Memo and consignment in the books (area `memo`): the vendors, the pieces in on memo from
them, the pieces out on approval with a client, the pieces a client left to sell, and what
the store paid out for them.

Every row here is a projection of the area's own entries, rebuilt from the journal:

- `vendor.added` {vendor_id, name, terms_days}: a company, not a person (store key);
- `memo.received` {item_id, vendor_id, memo_ref, terms_days, due, owed}: in the same
  transaction as the core's `item.received` (ownership `memo`); `owed` is what the vendor
  is paid when it sells (its cost unless the memo says otherwise);
- `memo.sold` {sale_id, memo: [{item_id, vendor_id, owed}], consigned: [{item_id,
  consignment_id, client_id, net, commission, credit}], outs: [memo_out_id]}: in the sale's
  transaction, beside the account movements it makes; `memo.unsold` {sale_id, return_id,
  void, memo, consigned, outs} is a return's or void's undoing of it;
- `memo.returned_to_vendor` {item_id, vendor_id, memo_ref}: the memo closed for that piece;
- `memo.vendor_paid` / `consignment.paid` {payment_id, party_id, amount, method, reference};
- `memo.out` {memo_out_id, item_id, client_id, due} / `memo.back` {memo_out_id, item_id}:
  a piece on approval with her (her id only: her name is in her own sealed profile);
- `consignment.received` {consignment_id, item_id, client_id, commission_bp, minimum,
  until} / `consignment.returned` {consignment_id, item_id, client_id}.

The balances themselves (a vendor's payable, a consignor's credit) are the core's accounts;
`memo_events` is this area's day book, which the Z report and the vendor page read.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hub.ledger.journal import Entry
from hub.ledger.ledger import Tx
from hub.ledger.schema import Migration, Schema
from hub.money import round_half_up_div

SCHEMA = Schema("memo", (Migration(1, """
CREATE TABLE memo_vendors (
    vendor_id  TEXT PRIMARY KEY,            -- V1, V2...
    name       TEXT NOT NULL,
    terms_days INTEGER NOT NULL,            -- the vendor's usual terms: 30, 60 or 90 days
    seq        INTEGER NOT NULL
);
CREATE TABLE memo_pieces (
    item_id     TEXT PRIMARY KEY,
    vendor_id   TEXT NOT NULL,
    memo_ref    TEXT NOT NULL,              -- the vendor's own memo number
    terms_days  INTEGER NOT NULL,
    due         TEXT NOT NULL,              -- YYYY-MM-DD, the store's day
    owed        INTEGER NOT NULL,           -- minor units owed to the vendor once sold
    state       TEXT NOT NULL,              -- on_memo | sold | returned
    sale_id     TEXT,
    seq         INTEGER NOT NULL,
    closed_seq  INTEGER
);
CREATE INDEX memo_pieces_vendor ON memo_pieces(vendor_id, state, due);
CREATE INDEX memo_pieces_due ON memo_pieces(state, due);
CREATE TABLE memo_outs (
    memo_out_id TEXT PRIMARY KEY,           -- MO1, MO2...
    item_id     TEXT NOT NULL,
    client_id   TEXT NOT NULL,
    due         TEXT NOT NULL,              -- the day it is due back
    state       TEXT NOT NULL,              -- out | sold | back
    sale_id     TEXT,
    seq         INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    closed_seq  INTEGER
);
CREATE INDEX memo_outs_state ON memo_outs(state, due);
CREATE INDEX memo_outs_client ON memo_outs(client_id, state);
CREATE INDEX memo_outs_item ON memo_outs(item_id, state);
CREATE TABLE consignments (
    consignment_id TEXT PRIMARY KEY,        -- CN1, CN2...
    item_id        TEXT NOT NULL UNIQUE,
    client_id      TEXT NOT NULL,
    commission_bp  INTEGER NOT NULL,
    minimum        INTEGER NOT NULL,        -- the least it sells for without a manager
    until          TEXT NOT NULL,           -- the term's last day
    state          TEXT NOT NULL,           -- held | sold | returned
    sale_id        TEXT,
    credit         INTEGER,                 -- what the sale credited her
    seq            INTEGER NOT NULL,
    closed_seq     INTEGER
);
CREATE INDEX consignments_client ON consignments(client_id, state);
CREATE TABLE memo_events (
    seq        INTEGER NOT NULL,
    pos        INTEGER NOT NULL,
    kind       TEXT NOT NULL,               -- received | sold | unsold | returned | paid | out
                                            -- | back | consigned | credited | uncredited
                                            -- | paid_out | given_back
    party      TEXT NOT NULL,               -- vendor:V1 | client:C...
    item_id    TEXT,
    amount     INTEGER NOT NULL,
    ref        TEXT,                        -- the sale, return, payment...
    ts         TEXT NOT NULL,
    PRIMARY KEY (seq, pos)
);
CREATE INDEX memo_events_party ON memo_events(party, seq);
"""),), projections=("memo_vendors", "memo_pieces", "memo_outs", "consignments",
                     "memo_events"))

TERMS = (30, 60, 90)  # net days a vendor's memo runs
METHODS = ("bank_transfer", "cheque", "cash")  # how a vendor or a consignor is paid
PAYABLE = "vendor_payable"  # account kinds (hub.core.accounts)
CONSIGNOR = "consignor"
FOLLOWUP_KIND = "memo_due"  # a piece on approval past its day: her associate calls


def payable_account(vendor_id: str) -> str:
    return f"{PAYABLE}:{vendor_id}"


def consignor_account(client_id: str) -> str:
    return f"{CONSIGNOR}:{client_id}"


def due_after(today: date, days: int) -> date:
    """The day net `days` terms end, counted from the store's today."""
    return today + timedelta(days=days)


def consignment_credit(net: int, commission_bp: int) -> tuple[int, int]:
    """(commission, credit) of a consigned piece sold for `net` minor units (net of
    discounts and tax): the commission rounded half up once, her credit the rest."""
    commission = round_half_up_div(net * commission_bp, 10_000)
    return commission, net - commission


# -- projections ------------------------------------------------------------------------------

def _event(tx: Tx, entry: Entry, pos: int, kind: str, party: str, item_id: str | None,
           amount: int, ref: str | None) -> None:
    tx.execute("INSERT INTO memo_events (seq, pos, kind, party, item_id, amount, ref, ts)"
               " VALUES (?,?,?,?,?,?,?,?)",
               (entry.seq, pos, kind, party, item_id, amount, ref, entry.ts))


def _on_vendor(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute("INSERT INTO memo_vendors (vendor_id, name, terms_days, seq) VALUES (?,?,?,?)",
               (p["vendor_id"], p["name"], p["terms_days"], entry.seq))


def _on_received(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute("INSERT INTO memo_pieces (item_id, vendor_id, memo_ref, terms_days, due, owed,"
               " state, seq) VALUES (?,?,?,?,?,?,'on_memo',?)",
               (p["item_id"], p["vendor_id"], p["memo_ref"], p["terms_days"], p["due"],
                p["owed"], entry.seq))
    _event(tx, entry, 0, "received", f"vendor:{p['vendor_id']}", p["item_id"], p["owed"],
           p["memo_ref"])


def _on_sold(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    pos = 0
    for m in p["memo"]:
        tx.execute("UPDATE memo_pieces SET state = 'sold', sale_id = ?, closed_seq = ?"
                   " WHERE item_id = ?", (p["sale_id"], entry.seq, m["item_id"]))
        _event(tx, entry, pos, "sold", f"vendor:{m['vendor_id']}", m["item_id"], m["owed"],
               p["sale_id"])
        pos += 1
    for c in p["consigned"]:
        tx.execute("UPDATE consignments SET state = 'sold', sale_id = ?, credit = ?,"
                   " closed_seq = ? WHERE consignment_id = ?",
                   (p["sale_id"], c["credit"], entry.seq, c["consignment_id"]))
        _event(tx, entry, pos, "credited", f"client:{c['client_id']}", c["item_id"],
               c["credit"], p["sale_id"])
        pos += 1
    for memo_out_id in p["outs"]:
        tx.execute("UPDATE memo_outs SET state = 'sold', sale_id = ?, closed_seq = ?"
                   " WHERE memo_out_id = ?", (p["sale_id"], entry.seq, memo_out_id))


def _on_unsold(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    pos = 0
    for m in p["memo"]:  # back in the store, on memo again
        tx.execute("UPDATE memo_pieces SET state = 'on_memo', sale_id = NULL, closed_seq ="
                   " NULL WHERE item_id = ?", (m["item_id"],))
        _event(tx, entry, pos, "unsold", f"vendor:{m['vendor_id']}", m["item_id"],
               -m["owed"], p["return_id"])
        pos += 1
    for c in p["consigned"]:
        tx.execute("UPDATE consignments SET state = 'held', sale_id = NULL, credit = NULL,"
                   " closed_seq = NULL WHERE consignment_id = ?", (c["consignment_id"],))
        _event(tx, entry, pos, "uncredited", f"client:{c['client_id']}", c["item_id"],
               -c["credit"], p["return_id"])
        pos += 1
    for memo_out_id in p["outs"]:  # a void: the sale never was, the piece is in stock
        tx.execute("UPDATE memo_outs SET state = 'back', closed_seq = ? WHERE memo_out_id = ?",
                   (entry.seq, memo_out_id))


def _on_returned_to_vendor(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute("UPDATE memo_pieces SET state = 'returned', closed_seq = ? WHERE item_id = ?",
               (entry.seq, p["item_id"]))
    _event(tx, entry, 0, "returned", f"vendor:{p['vendor_id']}", p["item_id"], 0,
           p["memo_ref"])


def _on_paid(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    vendor = entry.kind == "memo.vendor_paid"
    _event(tx, entry, 0, "paid" if vendor else "paid_out",
           f"{'vendor' if vendor else 'client'}:{p['party_id']}", None, p["amount"],
           p["payment_id"])


def _on_out(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute("INSERT INTO memo_outs (memo_out_id, item_id, client_id, due, state, seq, actor)"
               " VALUES (?,?,?,?,'out',?,?)", (p["memo_out_id"], p["item_id"], p["client_id"],
                                              p["due"], entry.seq, entry.actor))
    _event(tx, entry, 0, "out", f"client:{p['client_id']}", p["item_id"], 0, p["memo_out_id"])


def _on_back(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    row = tx.one("SELECT client_id FROM memo_outs WHERE memo_out_id = ?", (p["memo_out_id"],))
    tx.execute("UPDATE memo_outs SET state = 'back', closed_seq = ? WHERE memo_out_id = ?",
               (entry.seq, p["memo_out_id"]))
    _event(tx, entry, 0, "back", f"client:{row['client_id']}", p["item_id"], 0,
           p["memo_out_id"])


def _on_consigned(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute("INSERT INTO consignments (consignment_id, item_id, client_id, commission_bp,"
               " minimum, until, state, seq) VALUES (?,?,?,?,?,?,'held',?)",
               (p["consignment_id"], p["item_id"], p["client_id"], p["commission_bp"],
                p["minimum"], p["until"], entry.seq))
    _event(tx, entry, 0, "consigned", f"client:{p['client_id']}", p["item_id"], p["minimum"],
           p["consignment_id"])


def _on_given_back(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute("UPDATE consignments SET state = 'returned', closed_seq = ? WHERE"
               " consignment_id = ?", (entry.seq, p["consignment_id"]))
    _event(tx, entry, 0, "given_back", f"client:{p['client_id']}", p["item_id"], 0,
           p["consignment_id"])


PROJECTIONS = {
    "vendor.added": _on_vendor,
    "memo.received": _on_received,
    "memo.sold": _on_sold,
    "memo.unsold": _on_unsold,
    "memo.returned_to_vendor": _on_returned_to_vendor,
    "memo.vendor_paid": _on_paid,
    "consignment.paid": _on_paid,
    "memo.out": _on_out,
    "memo.back": _on_back,
    "consignment.received": _on_consigned,
    "consignment.returned": _on_given_back,
}


def closure_section(tx: Any, from_seq: int, through_seq: int) -> dict[str, Any]:
    """The Z report's memo lines, apart from the store's own stock: what memo pieces sold
    (owed to their vendors), came back from a sale, went back to vendors, and what was paid
    to vendors and consignors during the day; and at the close, the pieces on memo (what
    they would owe), out on approval and held on consignment."""
    day = {r["kind"]: {"count": r["n"], "amount": r["amount"]} for r in tx.all(
        "SELECT kind, COUNT(*) AS n, COALESCE(SUM(amount), 0) AS amount FROM memo_events"
        " WHERE seq > ? AND seq <= ? GROUP BY kind ORDER BY kind", (from_seq, through_seq))}
    on_memo = tx.one("SELECT COUNT(*) AS n, COALESCE(SUM(owed), 0) AS owed FROM memo_pieces"
                     " WHERE state = 'on_memo'")
    out = tx.one("SELECT COUNT(*) AS n FROM memo_outs WHERE state = 'out'")["n"]
    held = tx.one("SELECT COUNT(*) AS n, COALESCE(SUM(minimum), 0) AS minimum FROM"
                  " consignments WHERE state = 'held'")
    return {"day": day,
            "on_memo": {"pieces": on_memo["n"], "owed_if_sold": on_memo["owed"]},
            "on_approval": {"pieces": out},
            "consigned": {"pieces": held["n"], "minimum": held["minimum"]}}
