"""What became of each message HQ sent: one row per (message, store it is addressed to),
`sent` when HQ signs it (for `all`, one row per store HQ enrolled), then `applied`,
`conflict` or `refused` from the store's own `hq.message` entry when it comes back.

A broker that loses its persistence (a crash, a new machine) loses the messages queued for
offline stores. HQ publishes again to a store what is still `sent` after a while
(`unapplied`, then `mark_resent`), when the store says hello or comes online: the exact
signed bytes HQ logged, on the store's own inbox, so the store, which refuses an applied
message id as a replay, applies each at most once.

`sent` runs as the part's hook in the transaction that logs a message
(`SqlHQStorage.log_message`); the rest are called on HQ's storage thread.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from hub.ledger.journal import Entry
from hub.ledger.ledger import utc_now
from hub.sync.hqstore import Db, Fact, HQPart, HQStorage
from hub.sync.wire import ALL, topic

SCHEMA = """
CREATE TABLE IF NOT EXISTS message_deliveries (
    message_id TEXT NOT NULL,
    store_id   TEXT NOT NULL,
    status     TEXT NOT NULL,          -- sent | applied | conflict | refused
    seq        INTEGER,                -- the store's hq.message entry (NULL while sent)
    updated_at TEXT NOT NULL,          -- signed, last published again, or answered
    resent     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (message_id, store_id)
);
CREATE INDEX IF NOT EXISTS message_deliveries_due ON message_deliveries(store_id, status);
"""

RESEND_AFTER_S = 60.0  # a message younger than this may still be on its way: not resent yet
MAX_RESENDS = 20  # a store that never takes a message is not sent it for ever
OUTCOMES = ("applied", "conflict", "refused")


def sent(db: Db, message_id: str, store_id: str, mtype: str = "", *,
         stores: Iterable[str] | None = None) -> None:
    """A `sent` row per addressed store, in the transaction that logs the message. For
    `all`: each of `stores`, or else every store that completed enrollment."""
    if store_id != ALL:
        addressed = [store_id]
    elif stores is not None:
        addressed = list(stores)
    else:
        addressed = [r["store_id"] for r in db.query(
            "SELECT store_id FROM stores WHERE public_key IS NOT NULL ORDER BY store_id")]
    now = utc_now()
    db.executemany("INSERT INTO message_deliveries (message_id, store_id, status, updated_at)"
                   " VALUES (?,?,'sent',?) ON CONFLICT(message_id, store_id) DO NOTHING",
                   [(message_id, s, now) for s in addressed])


def _delivered(db: Db, store_id: str, d: dict[str, Any]) -> None:
    # A row is made when missing: a store enrolled after an `all` message still answers it.
    db.execute("INSERT INTO message_deliveries (message_id, store_id, status, seq, updated_at)"
               " VALUES (:message_id, :store_id, :status, :seq, :at)"
               " ON CONFLICT(message_id, store_id) DO UPDATE SET status = excluded.status,"
               " seq = excluded.seq, updated_at = excluded.updated_at",
               {**d, "store_id": store_id, "at": utc_now()})


def project(store_id: str, entry: Entry, p: dict[str, Any]) -> list[Fact]:
    message, outcome = p.get("message") or {}, p.get("outcome")
    if entry.kind != "hq.message" or outcome not in OUTCOMES or not message.get("id"):
        return []
    return [Fact("delivery", {"message_id": message["id"], "status": outcome,
                              "seq": entry.seq})]


PART = HQPart("deliveries", schema=SCHEMA, facts={"delivery": _delivered},
              kinds=("hq.message",), project=project, sent=sent)


# -- re-sending -------------------------------------------------------------------------------

def _ago(seconds: float) -> str:
    # The same text form as utc_now(), so ISO strings compare as times.
    return (datetime.now(UTC) - timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def unapplied(db: Db | HQStorage, store_id: str, older_than_s: float = RESEND_AFTER_S,
              limit: int = 500) -> list[tuple[str, bytes]]:
    """What to publish again to `store_id`: its messages still `sent` whose last sending is
    older than `older_than_s` (and not resent MAX_RESENDS times), oldest first, as
    (the store's inbox topic, the signed bytes HQ logged)."""
    rows = db.query("SELECT m.signed FROM message_deliveries d JOIN messages m"
                    " ON m.message_id = d.message_id WHERE d.store_id = ? AND"
                    " d.status = 'sent' AND d.updated_at < ? AND d.resent < ?"
                    " ORDER BY m.issued_at, m.message_id LIMIT ?",
                    (store_id, _ago(older_than_s), MAX_RESENDS, limit))
    out = []
    for r in rows:
        signed = bytes(r["signed"])
        # On the store's own inbox even for an `all` message: only that store needs it.
        out.append((topic(json.loads(signed)["doc"]["chain"], store_id, "inbox"), signed))
    return out


def message_ids(messages: list[tuple[str, bytes]]) -> list[str]:
    """The ids of signed messages (what `unapplied` returns), for `mark_resent`."""
    return [json.loads(signed)["doc"]["id"] for _, signed in messages]


def mark_resent(db: Db | HQStorage, ids: Iterable[str], store_id: str) -> None:
    """Count these messages as published again to `store_id` (once the broker has them)."""
    now = utc_now()
    rows = [(now, message_id, store_id) for message_id in ids]
    if not rows:
        return
    if hasattr(db, "executemany"):
        db.executemany("UPDATE message_deliveries SET resent = resent + 1, updated_at = ?"
                       " WHERE message_id = ? AND store_id = ? AND status = 'sent'", rows)
    else:  # an HQStorage: one transaction
        with db.transaction() as tx:  # type: ignore[union-attr]
            mark_resent(tx, ids, store_id)


# -- reads ------------------------------------------------------------------------------------

def outgoing(db: Db | HQStorage, limit: int = 100) -> list[dict[str, Any]]:
    """HQ's latest messages, newest first: message_id, store_id (or all), type, issued_at,
    and `deliveries`: one {store_id, status, seq, updated_at, resent} per addressed store."""
    messages = db.query("SELECT message_id, store_id, type, issued_at FROM messages"
                        " ORDER BY issued_at DESC, message_id LIMIT ?", (limit,))
    if not messages:
        return []
    ids = [m["message_id"] for m in messages]
    marks = ",".join("?" * len(ids))
    by_id: dict[str, list[dict[str, Any]]] = {}
    for r in db.query("SELECT message_id, store_id, status, seq, updated_at, resent FROM"
                      f" message_deliveries WHERE message_id IN ({marks})"
                      " ORDER BY store_id", ids):
        by_id.setdefault(r.pop("message_id"), []).append(r)
    return [{**m, "deliveries": by_id.get(m["message_id"], [])} for m in messages]
