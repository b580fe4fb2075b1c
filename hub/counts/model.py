"""The counts area of the books: its tables and the projection handlers of its entries.

Journal entries (all under subject `count:<id>` unless noted):
- `count.started`  {count_id, kind, scope, day, started_ts}
- `count.sweep`    {count_id, device, location}: the operator says where a handheld sweeps
- `count.closed`   {count_id, outcome, ..., result}: ONE entry ends a count (closed, expired
                   after a night left open, or cancelled), with the reconciliation in it
- `count.piece_found` {item_id, epc, location, device, count_id} (subject `item:<id>`): a piece
                   marked missing answered a reader again

Confirming missing pieces and moving misplaced ones go through the core (`item.status` with
ref `count:<id>`, `item.moved`); this area also listens to those to mark discrepancies
resolved. Reads themselves are never journal entries: they are working state, kept in
`count_reads` in batches so a restart mid-count loses none of them.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

from hub.core.projector import touch_item
from hub.ledger.journal import Entry
from hub.ledger.ledger import Tx
from hub.ledger.schema import Migration, Schema

KINDS = ("opening", "closing", "spot", "full")


class CountStatus(StrEnum):
    """A count's life: open until ONE `count.closed` entry ends it with its outcome."""

    OPEN = "open"
    CLOSED = "closed"        # reconciled: its missing pieces may be confirmed
    EXPIRED = "expired"      # left open past midnight: its result is partial
    CANCELLED = "cancelled"  # abandoned; its reads are kept in its record


_COUNTS_V1 = """
CREATE TABLE counts (
    count_id     TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,           -- opening | closing | spot | full
    scope        TEXT,                    -- JSON list of locations; NULL: the whole store
    day          TEXT NOT NULL,           -- the store's business day it was started on
    status       TEXT NOT NULL,           -- open | closed | expired | cancelled
    started_seq  INTEGER NOT NULL,
    started_ts   TEXT NOT NULL,
    started_by   TEXT NOT NULL,
    closed_seq   INTEGER,
    closed_ts    TEXT,
    closed_by    TEXT,
    expected     INTEGER,
    found        INTEGER,
    in_place     INTEGER,
    missing      INTEGER,
    misplaced    INTEGER,
    unknown      INTEGER,
    accuracy_bp  INTEGER,
    missing_value INTEGER,
    currency     TEXT
);
CREATE INDEX counts_status ON counts(status, day);

CREATE TABLE count_sweeps (
    count_id TEXT NOT NULL,
    device   TEXT NOT NULL,
    location TEXT NOT NULL,
    seq      INTEGER NOT NULL,
    PRIMARY KEY (count_id, device)
);

CREATE TABLE count_discrepancies (
    count_id       TEXT NOT NULL,
    item_id        TEXT NOT NULL,
    kind           TEXT NOT NULL,         -- missing | misplaced
    location       TEXT NOT NULL,         -- where the books had it
    found_location TEXT,                  -- where it was read (misplaced)
    category       TEXT NOT NULL,
    tag_price      INTEGER NOT NULL,
    cost           INTEGER NOT NULL,
    resolved_seq   INTEGER,               -- confirmed missing, or moved where found
    found_seq      INTEGER,               -- a missing piece read again later
    PRIMARY KEY (count_id, item_id)
);
CREATE INDEX count_discrepancies_item ON count_discrepancies(item_id, kind);

CREATE TABLE count_found (
    seq      INTEGER PRIMARY KEY,
    ts       TEXT NOT NULL,
    item_id  TEXT NOT NULL,
    epc      TEXT NOT NULL,
    location TEXT,
    device   TEXT,
    count_id TEXT
);

-- working state, not projections: the reads of open counts, flushed in batches
CREATE TABLE count_reads (
    count_id TEXT NOT NULL,
    epc      TEXT NOT NULL,
    location TEXT NOT NULL,               -- '' for a reader with no location
    reads    INTEGER NOT NULL,
    PRIMARY KEY (count_id, epc, location)
) WITHOUT ROWID;

CREATE TABLE count_readers (
    count_id TEXT NOT NULL,
    device   TEXT NOT NULL,
    reads    INTEGER NOT NULL,
    last_ts  REAL,
    PRIMARY KEY (count_id, device)
) WITHOUT ROWID;
"""

SCHEMA = Schema("counts", (Migration(1, _COUNTS_V1),),
                projections=("counts", "count_sweeps", "count_discrepancies", "count_found"))


def _on_started(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    scope = json.dumps(p["scope"]) if p["scope"] is not None else None
    tx.execute("INSERT INTO counts (count_id, kind, scope, day, status, started_seq, started_ts,"
               " started_by) VALUES (?,?,?,?,?,?,?,?)",
               (p["count_id"], p["kind"], scope, p["day"], CountStatus.OPEN, entry.seq, entry.ts,
                entry.actor))


def _on_sweep(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute("INSERT INTO count_sweeps (count_id, device, location, seq) VALUES (?,?,?,?)"
               " ON CONFLICT(count_id, device) DO UPDATE SET location = excluded.location,"
               " seq = excluded.seq", (p["count_id"], p["device"], p["location"], entry.seq))


def _on_closed(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    r = p["result"]
    count_id = p["count_id"]
    tx.execute(
        "UPDATE counts SET status = ?, closed_seq = ?, closed_ts = ?, closed_by = ?,"
        " expected = ?, found = ?, in_place = ?, missing = ?, misplaced = ?, unknown = ?,"
        " accuracy_bp = ?, missing_value = ?, currency = ? WHERE count_id = ?",
        (p["outcome"], entry.seq, entry.ts, entry.actor, r["expected"], r["found"],
         r["in_place"], len(r["missing"]), len(r["misplaced"]), r["unknown_total"],
         r["accuracy_bp"], r["missing_value"], p["currency"], count_id))
    tx.conn.executemany(
        "INSERT INTO count_discrepancies (count_id, item_id, kind, location, found_location,"
        " category, tag_price, cost) VALUES (?,?, 'missing', ?, NULL, ?,?,?)",
        [(count_id, m["item_id"], m["location"], m["category"], m["tag_price"], m["cost"])
         for m in r["missing"]])
    tx.conn.executemany(
        "INSERT INTO count_discrepancies (count_id, item_id, kind, location, found_location,"
        " category, tag_price, cost) VALUES (?,?, 'misplaced', ?,?,?, 0, 0)",
        [(count_id, m["item_id"], m["location"], m["found_location"], m["category"])
         for m in r["misplaced"]])
    for item_id in {m["item_id"] for m in (*r["missing"], *r["misplaced"])}:
        touch_item(tx, item_id, entry.seq)


def _on_piece_found(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute("INSERT INTO count_found (seq, ts, item_id, epc, location, device, count_id)"
               " VALUES (?,?,?,?,?,?,?)", (entry.seq, entry.ts, p["item_id"], p["epc"],
                                           p.get("location"), p.get("device"), p.get("count_id")))
    tx.execute("UPDATE count_discrepancies SET found_seq = ? WHERE item_id = ?"
               " AND kind = 'missing' AND found_seq IS NULL", (entry.seq, p["item_id"]))
    touch_item(tx, p["item_id"], entry.seq)


def _on_item_status(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    """A manager confirming a count's missing piece: the discrepancy is resolved."""
    if p is None or p.get("status") != "missing":
        return
    ref = p.get("ref") or ""
    if ref.startswith("count:"):
        tx.execute("UPDATE count_discrepancies SET resolved_seq = ? WHERE count_id = ?"
                   " AND item_id = ? AND kind = 'missing' AND resolved_seq IS NULL",
                   (entry.seq, ref[len("count:"):], p["item_id"]))


def _on_item_moved(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    """A piece moved to where a count found it: that misplacement is resolved."""
    if p is None:
        return
    tx.execute("UPDATE count_discrepancies SET resolved_seq = ? WHERE item_id = ?"
               " AND kind = 'misplaced' AND found_location = ? AND resolved_seq IS NULL",
               (entry.seq, p["item_id"], p["location"]))


PROJECTIONS = {
    "count.started": _on_started,
    "count.sweep": _on_sweep,
    "count.closed": _on_closed,
    "count.piece_found": _on_piece_found,
    "item.status": _on_item_status,
    "item.moved": _on_item_moved,
}
