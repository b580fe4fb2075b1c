"""HQ's side of transfers between stores and the warehouse (hub/transfers on the stores).

HQ keeps one row per transfer in `transfers` (columns as agreed in the chain's table
contract): asked for (by HQ, `request`, or by a store's `transfer.requested` entry),
shipped (the sender's `transfer.shipped`), received (the receiver's `transfer.received`) or
received at the wrong store (misdelivered), overdue (`overdue`: not received within the
days HQ allows), cancelled. HQ's answers go out as signed messages: the sender is asked to
send (`transfer_request`, when another store or HQ asked), the chain is told what is on its
way (`transfer_expected`, to every store, with the piece's record: a misdelivered piece can
be booked wherever it lands), and both ends hear how it ended (`transfer_settled`).

HQ's stock projection (`items`) follows: the sender's piece is `in_transit` once shipped and
`transferred` once received elsewhere; the receiver's comes in through its `item.received`.

`request` and `overdue` touch storage: call them on HQ's storage thread (the receiver's
`_call`, or the CLI outside a running receiver), and publish what they return
(`hub.sync.hq.publish_signed`).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from hub.ledger.journal import Entry
from hub.ledger.ledger import utc_now
from hub.sync.hqstore import Db, Fact, HQPart, HQStorage
from hub.sync.wire import ALL, WireError

OVERDUE_DAYS = 5  # a piece shipped longer ago and not received is a conflict

SCHEMA = """
CREATE TABLE IF NOT EXISTS transfers (
    transfer_id TEXT PRIMARY KEY,
    item_id TEXT NOT NULL,
    sku TEXT,
    description TEXT,
    from_store TEXT NOT NULL,
    to_store TEXT NOT NULL,
    status TEXT NOT NULL,            -- requested | shipped | received | misdelivered |
                                     -- overdue | cancelled
    requested_at TEXT,
    requested_by TEXT,               -- a store's staff id (with its store), or HQ's actor
    shipped_at TEXT,
    received_at TEXT,
    received_by_store TEXT,
    updated_seq INTEGER              -- the store entry that last changed it (NULL: HQ's own)
);
CREATE INDEX IF NOT EXISTS transfers_status ON transfers(status, shipped_at);
"""


class Signer(Protocol):
    """What signs HQ's messages (`hub.sync.hq.HQ`)."""

    storage: HQStorage

    def message(self, store_id: str, mtype: str, body: dict[str, Any]) -> tuple[str, bytes]: ...


# -- facts: what the stores' entries change ---------------------------------------------------

def _requested(db: Db, store_id: str, d: dict[str, Any]) -> None:
    db.execute("INSERT INTO transfers (transfer_id, item_id, sku, description, from_store,"
               " to_store, status, requested_at, requested_by, updated_seq) VALUES"
               " (:transfer_id, :item_id, :sku, :description, :from_store, :to_store,"
               " 'requested', :requested_at, :requested_by, :seq)"
               " ON CONFLICT(transfer_id) DO NOTHING",
               {"sku": None, "description": None, "seq": None, **d})


def _shipped(db: Db, store_id: str, d: dict[str, Any]) -> None:
    db.execute("INSERT INTO transfers (transfer_id, item_id, sku, description, from_store,"
               " to_store, status, requested_at, requested_by, shipped_at, updated_seq) VALUES"
               " (:transfer_id, :item_id, :sku, :description, :from_store, :to_store,"
               " 'shipped', :shipped_at, :by, :shipped_at, :seq)"
               " ON CONFLICT(transfer_id) DO UPDATE SET status = 'shipped',"
               " sku = excluded.sku, description = excluded.description,"
               " shipped_at = excluded.shipped_at, updated_seq = excluded.updated_seq", d)


def _received(db: Db, store_id: str, d: dict[str, Any]) -> None:
    db.execute("UPDATE transfers SET status = :status, received_at = :received_at,"
               " received_by_store = :at_store, updated_seq = :seq"
               " WHERE transfer_id = :transfer_id", d)


def _cancelled(db: Db, store_id: str, d: dict[str, Any]) -> None:
    db.execute("UPDATE transfers SET status = 'cancelled', updated_seq = :seq"
               " WHERE transfer_id = :transfer_id AND status = 'requested'", d)


def _overdue(db: Db, store_id: str, d: dict[str, Any]) -> None:
    db.execute("UPDATE transfers SET status = 'overdue' WHERE transfer_id = :transfer_id"
               " AND status = 'shipped'", d)


# -- what HQ reads from a store's entries -----------------------------------------------------

def project(store_id: str, entry: Entry, p: dict[str, Any]) -> list[Fact]:
    seq, kind = entry.seq, entry.kind
    ids = {k: p[k] for k in ("transfer_id", "item_id", "from_store", "to_store")}
    if kind == "transfer.requested":
        return [Fact("transfer_requested", {
            **ids, "sku": p.get("sku"), "description": p.get("description"),
            "requested_at": entry.ts, "requested_by": f"{store_id}:{entry.actor}",
            "asked_at": store_id, "seq": seq})]
    if kind == "transfer.shipped":
        piece = p["piece"]
        return [Fact("transfer_shipped", {
            **ids, "sku": piece.get("sku"), "description": piece.get("description"),
            "shipped_at": p.get("shipped_at") or entry.ts, "by": f"{store_id}:{entry.actor}",
            "seq": seq, "piece": piece, "currency": p.get("currency")}),
            Fact("item_status", {"item_id": p["item_id"], "status": "in_transit", "seq": seq})]
    if kind == "transfer.received":
        status = "misdelivered" if p["misdelivered"] else "received"
        out = [Fact("transfer_received", {**ids, "status": status, "received_at": entry.ts,
                                          "at_store": store_id, "seq": seq})]
        if p["misdelivered"]:
            out.append(Fact("conflict", {
                "source": store_id, "kind": "transfer_misdelivered", "item_id": p["item_id"],
                "ref": f"transfer:{p['transfer_id']}",
                "detail": f"piece {p['item_id']} sent from {p['from_store']} to"
                          f" {p['to_store']} was received at {store_id}"}))
        # A piece coming back to a store it left by transfer keeps its old record there.
        out.append(Fact("item_status", {"item_id": p["item_id"], "status": "in_stock",
                                        "seq": seq}))
        return out
    if kind == "transfer.cancelled":
        return [Fact("transfer_cancelled", {"transfer_id": p["transfer_id"], "seq": seq})]
    if kind == "transfer.settled" and p.get("piece_status"):
        return [Fact("item_status", {"item_id": p["item_id"], "status": p["piece_status"],
                                     "seq": seq})]
    return []


def answers(hq: Signer, store_id: str, facts: list[Fact]) -> list[tuple[str, bytes]]:
    """HQ's messages a stored run calls for: the sender asked to send what another store
    asked for, the chain told what is on its way, both ends told how it ended."""
    out = []
    for fact in facts:
        d = fact.data
        ids = {k: d[k] for k in ("transfer_id", "item_id", "from_store", "to_store")
               if k in d}
        if fact.what == "transfer_requested" and d["asked_at"] != d["from_store"]:
            out.append(hq.message(d["from_store"], "transfer_request", ids))
        elif fact.what == "transfer_shipped":
            out.append(hq.message(ALL, "transfer_expected", {
                **ids, "piece": d["piece"], "currency": d.get("currency"),
                "shipped_at": d["shipped_at"]}))
        elif fact.what == "transfer_received":
            body = {**ids, "status": d["status"], "at_store": d["at_store"],
                    "detail": None}
            to = [d["from_store"]] + ([d["to_store"]] if d["status"] == "misdelivered" else [])
            out += [hq.message(s, "transfer_settled", body) for s in to if s != store_id]
    return out


PART = HQPart("transfers", schema=SCHEMA,
              facts={"transfer_requested": _requested, "transfer_shipped": _shipped,
                     "transfer_received": _received, "transfer_cancelled": _cancelled,
                     "transfer_overdue": _overdue},
              kinds=("transfer.",), project=project, answers=answers)


# -- reads and HQ's own acts ------------------------------------------------------------------

_COLUMNS = ("transfer_id, item_id, sku, description, from_store, to_store, status,"
            " requested_at, requested_by, shipped_at, received_at, received_by_store,"
            " updated_seq")


def in_transit(db: Db | HQStorage) -> list[dict[str, Any]]:
    """What is on its way across the chain (shipped, or overdue), oldest shipment first."""
    return db.query(f"SELECT {_COLUMNS} FROM transfers WHERE status IN ('shipped', 'overdue')"
                    " ORDER BY shipped_at, transfer_id")


def transfers(db: Db | HQStorage, limit: int = 200) -> list[dict[str, Any]]:
    """The latest transfers of every status."""
    return db.query(f"SELECT {_COLUMNS} FROM transfers ORDER BY COALESCE(received_at,"
                    " shipped_at, requested_at) DESC LIMIT ?", (limit,))


def request(hq: Signer, item_id: str, from_store: str, to_store: str,
            actor: str) -> tuple[dict[str, Any], list[tuple[str, bytes]]]:
    """HQ asks `from_store` to send its piece `item_id` to `to_store`: the transfer's row,
    and the signed `transfer_request` to publish. Refused (WireError, in words) for a
    store HQ does not know, the same store twice, or a piece not in stock at the sender."""
    storage = hq.storage
    if from_store == to_store:
        raise WireError("a piece is sent to another store than its own")
    for store_id in (from_store, to_store):
        if storage.store(store_id) is None:
            raise WireError(f"store {store_id} is not enrolled at head office")
    rows = storage.query("SELECT status, sku, description FROM items WHERE store_id = ? AND"
                         " item_id = ?", (from_store, item_id))
    if not rows:
        raise WireError(f"head office knows no piece {item_id} at {from_store}")
    if rows[0]["status"] != "in_stock":
        raise WireError(f"piece {item_id} is not in stock at {from_store}"
                        f" ({rows[0]['status']})")
    busy = storage.query("SELECT transfer_id FROM transfers WHERE item_id = ? AND status IN"
                         " ('requested', 'shipped', 'overdue')", (item_id,))
    if busy:
        raise WireError(f"piece {item_id} is already in transfer {busy[0]['transfer_id']}")
    row = {"transfer_id": f"hq-{uuid.uuid4().hex[:12]}", "item_id": item_id,
           "sku": rows[0]["sku"], "description": rows[0]["description"],
           "from_store": from_store, "to_store": to_store, "requested_at": utc_now(),
           "requested_by": f"hq:{actor}", "asked_at": "hq", "seq": None}
    storage.append_facts(from_store, [Fact("transfer_requested", row)])
    message = hq.message(from_store, "transfer_request", {
        k: row[k] for k in ("transfer_id", "item_id", "from_store", "to_store")})
    return {**row, "status": "requested"}, [message]


def overdue(hq: Signer, days: int = OVERDUE_DAYS,
            now: datetime | None = None) -> list[tuple[str, bytes]]:
    """Transfers shipped more than `days` ago and not received: each becomes overdue, one
    conflict in HQ's `conflicts`, and a `transfer_settled` (overdue) to both stores.
    Returns the messages to publish; a transfer already overdue is not told again."""
    now = now or datetime.now(UTC)
    cutoff = (now - timedelta(days=days)).isoformat()
    late = hq.storage.query(f"SELECT {_COLUMNS} FROM transfers WHERE status = 'shipped'"
                            " AND shipped_at < ? ORDER BY shipped_at", (cutoff,))
    out = []
    for row in late:
        detail = (f"piece {row['item_id']} shipped from {row['from_store']} to"
                  f" {row['to_store']} on {row['shipped_at'][:10]} was not received within"
                  f" {days} days")
        hq.storage.append_facts(row["from_store"], [
            Fact("transfer_overdue", {"transfer_id": row["transfer_id"]}),
            Fact("conflict", {"source": "hq", "kind": "transfer_overdue",
                              "item_id": row["item_id"],
                              "ref": f"transfer:{row['transfer_id']}", "detail": detail})])
        body = {k: row[k] for k in ("transfer_id", "item_id", "from_store", "to_store")}
        body |= {"status": "overdue", "at_store": None, "detail": detail}
        out += [hq.message(s, "transfer_settled", body)
                for s in (row["from_store"], row["to_store"])]
    return out

