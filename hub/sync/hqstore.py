"""HQ's storage behind a small interface (`HQStorage`), with SQLite as the default.

Everything HQ keeps of a store is what the store sent: entries as ciphertext, data keys
sealed to HQ's X25519 key. Projections hold ids, statuses and amounts, never a name or an
address: a client profile is decrypted in memory when asked for.

Every method is written once, in `SqlHQStorage`, against a portable `Db` and a transaction;
`SqliteHQStorage` (one file, the default) and `hub.sync.pgstore.PostgresHQStorage` (a chain's
PostgreSQL, several HQ workers) only connect, speak their dialect and lock. A store's run is
stored with the contiguous-ack logic in the database (`held`, `ingest`), so whichever worker
receives a batch, the head and the ack are right.

All methods are synchronous and called from HQ's storage thread.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from hub.giftcards import chain as gift_card_chain
from hub.ledger.journal import ENTRY_COLUMNS, GENESIS_HASH, Entry
from hub.ledger.ledger import utc_now

_SCHEMA = """
CREATE TABLE IF NOT EXISTS stores (
    store_id     TEXT PRIMARY KEY,
    secret       TEXT,               -- one-time enrollment secret, cleared once used
    public_key   TEXT,
    box_key      TEXT,
    head_seq     INTEGER NOT NULL DEFAULT 0,
    head_hash    BLOB NOT NULL,
    entries      INTEGER NOT NULL DEFAULT 0,
    last_contact TEXT,
    online       INTEGER NOT NULL DEFAULT 0,
    problem      TEXT,
    enrolled_at  TEXT NOT NULL,
    held         INTEGER NOT NULL DEFAULT 0,  -- entries waiting in `held` ahead of a gap
    held_since   INTEGER                      -- ms since the epoch: since when (NULL: none)
);
-- Entries ahead of a gap, until the run below them arrives (possibly at another worker).
CREATE TABLE IF NOT EXISTS held (
    store_id TEXT NOT NULL, seq INTEGER NOT NULL, ts TEXT NOT NULL, kind TEXT NOT NULL,
    actor TEXT NOT NULL, subject TEXT NOT NULL, key_id TEXT NOT NULL,
    key_version INTEGER NOT NULL, payload BLOB NOT NULL, prev_hash BLOB NOT NULL,
    hash BLOB NOT NULL, signature BLOB NOT NULL,
    PRIMARY KEY (store_id, seq)
);
-- Who does what only one worker may do (the dispatcher of messages to clients), until when.
CREATE TABLE IF NOT EXISTS leases (
    name TEXT PRIMARY KEY, holder TEXT NOT NULL, until_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS entries (
    store_id TEXT NOT NULL, seq INTEGER NOT NULL, ts TEXT NOT NULL, kind TEXT NOT NULL,
    actor TEXT NOT NULL, subject TEXT NOT NULL, key_id TEXT NOT NULL,
    key_version INTEGER NOT NULL, payload BLOB NOT NULL, prev_hash BLOB NOT NULL,
    hash BLOB NOT NULL, signature BLOB NOT NULL,
    PRIMARY KEY (store_id, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS keys (
    store_id  TEXT NOT NULL,
    key_id    TEXT NOT NULL,
    version   INTEGER NOT NULL,
    wrapped   BLOB,                  -- NULL once destroyed (client forgotten)
    PRIMARY KEY (store_id, key_id)
);
CREATE TABLE IF NOT EXISTS items (
    store_id TEXT NOT NULL, item_id TEXT NOT NULL, sku TEXT, description TEXT,
    category TEXT, tag_price INTEGER, currency TEXT, status TEXT NOT NULL,
    updated_seq INTEGER NOT NULL,
    PRIMARY KEY (store_id, item_id)
);
CREATE INDEX IF NOT EXISTS items_sku ON items(sku, status);
CREATE TABLE IF NOT EXISTS sales (
    store_id TEXT NOT NULL, sale_id TEXT NOT NULL, seq INTEGER NOT NULL, ts TEXT NOT NULL,
    total INTEGER NOT NULL, currency TEXT NOT NULL, client_id TEXT, status TEXT NOT NULL,
    PRIMARY KEY (store_id, sale_id)
);
CREATE TABLE IF NOT EXISTS clients (
    store_id TEXT NOT NULL, client_id TEXT NOT NULL, status TEXT NOT NULL,
    profile_seq INTEGER,
    PRIMARY KEY (store_id, client_id)
);
CREATE TABLE IF NOT EXISTS reservations (
    reservation_id TEXT PRIMARY KEY, store_id TEXT NOT NULL, item_id TEXT NOT NULL,
    client_id TEXT NOT NULL, pickup_by TEXT NOT NULL, status TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS conflicts (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, source TEXT NOT NULL,
    store_id TEXT NOT NULL, kind TEXT NOT NULL, item_id TEXT, ref TEXT, detail TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    message_id TEXT PRIMARY KEY, store_id TEXT NOT NULL, type TEXT NOT NULL,
    issued_at TEXT NOT NULL, signed BLOB NOT NULL
);
-- Messages to clients a store asked HQ to send: ids, channel and status only; the text and
-- the address stay in the store's sealed entry (`seq`), opened in memory when sending.
CREATE TABLE IF NOT EXISTS notifications (
    store_id TEXT NOT NULL, notification_id TEXT NOT NULL,
    channel TEXT NOT NULL,               -- email | sms; '' when the request did not open
    client_id TEXT NOT NULL, seq INTEGER NOT NULL,
    status TEXT NOT NULL,                -- requested | sent | refused | failed
    reason TEXT,
    receipted INTEGER NOT NULL DEFAULT 0,  -- 1 once the store's receipt is on the broker
    updated_at TEXT NOT NULL,
    PRIMARY KEY (store_id, notification_id, channel)
);
CREATE INDEX IF NOT EXISTS notifications_due ON notifications(seq) WHERE receipted = 0;
-- Every version of a store's data key HQ was sent (a key rotates: `loupe keys rotate`);
-- `keys` keeps one row per key (its newest version, NULL once destroyed), and a destroyed
-- key's versions go from here too.
CREATE TABLE IF NOT EXISTS key_versions (
    store_id TEXT NOT NULL, key_id TEXT NOT NULL, version INTEGER NOT NULL,
    wrapped BLOB NOT NULL,
    PRIMARY KEY (store_id, key_id, version)
);
-- A store's master key, age-encrypted to HQ's box key (its hello carries it): what HQ
-- gives back (`loupe hq escrow`) to a store that lost its key file or passphrase.
CREATE TABLE IF NOT EXISTS escrows (
    store_id TEXT PRIMARY KEY, sealed BLOB NOT NULL, received_at TEXT NOT NULL
);
"""
_SQLITE_GUARD = """
CREATE TRIGGER IF NOT EXISTS entries_no_update BEFORE UPDATE ON entries
BEGIN SELECT RAISE(ABORT, 'stored entries are never changed'); END;
"""
# Columns added since the first HQ schema (an older hq.db gets them at open).
_ADDED_COLUMNS = (("stores", "held", "INTEGER NOT NULL DEFAULT 0"),
                  ("stores", "held_since", "INTEGER"))
GAP_PATIENCE_S = 2.0  # held entries younger than this are not yet a gap worth a resend
MAX_HELD = 200_000  # entries held ahead of a gap, per store, before HQ drops them


@dataclass
class StoreRow:
    store_id: str
    public_key: str | None
    box_key: str | None
    head_seq: int
    head_hash: bytes
    entries: int
    last_contact: str | None
    online: bool
    problem: str | None


@dataclass
class Fact:
    """One projection change derived from a store's entry (see hq.project)."""

    what: str  # item | item_price | item_status | sale | sale_status | client | conflict |
    #            reservation | destroy_key | notification
    data: dict[str, Any]


class Db(Protocol):
    """What a part's SQL runs on, inside one of HQ's transactions. SQL is the portable
    subset SQLite and PostgreSQL both speak: `?` or `:name` placeholders, `ON CONFLICT ...
    DO NOTHING | DO UPDATE SET c = excluded.c` (never `INSERT OR IGNORE`), 0/1 for booleans,
    ISO text for times; DDL with `TEXT`, `INTEGER` (64-bit on PostgreSQL), `BLOB` and
    `CREATE ... IF NOT EXISTS`, keys made of values (no AUTOINCREMENT)."""

    def execute(self, sql: str, params: Any = ()) -> int: ...  # rows changed
    def executemany(self, sql: str, rows: Sequence[Any]) -> None: ...
    def query(self, sql: str, params: Any = ()) -> list[dict[str, Any]]: ...


FactApplier = Callable[[Db, str, dict[str, Any]], None]  # (db, store_id, fact.data)


@dataclass(frozen=True)
class HQPart:
    """One part of HQ beyond the receiver (deliveries, transfers, the web shop, clients
    across stores), plugged in the same way: the tables it owns, the facts it applies
    inside the transaction that stores a run, and what it learns from a store's entries
    (`project(store_id, entry, payload)`, the payload decrypted in memory, for the entry
    kinds it names: exact kinds, or prefixes ending in '.')."""

    name: str
    schema: str = ""
    facts: Mapping[str, FactApplier] = field(default_factory=dict)
    kinds: tuple[str, ...] = ()
    project: Callable[[str, Entry, dict[str, Any]], list[Fact]] | None = None
    # HQ's signed messages a stored run calls for: (hq, store_id, the run's facts) ->
    # [(topic, payload)], published once the run is stored (transfers tell the chain).
    answers: Callable[[Any, str, list[Fact]], list[tuple[str, bytes]]] | None = None
    # A message HQ signed and logged: (db, message id, store id or `all`, type), in the
    # transaction that logs it (deliveries keep a row per addressed store).
    sent: Callable[[Db, str, str, str], None] | None = None

    def reads(self, kind: str) -> bool:
        return any(kind == k or (k.endswith(".") and kind.startswith(k)) for k in self.kinds)


@dataclass
class Taken:
    """What one batch did to a store's copy at HQ (`SqlHQStorage.ingest`)."""

    head: int                     # HQ's head for the ack
    gap: bool                     # entries have waited ahead of a gap past GAP_PATIENCE_S
    run: list[Entry]              # the contiguous run stored (empty: nothing new)
    facts: list[Fact]             # its projection changes
    problem: str | None = None    # the run was refused: why (nothing stored)


# (the store as locked, the contiguous run) -> (its facts, None) or ([], why it is refused);
# called inside the transaction that stores the run.
Settle = Callable[[StoreRow, list[Entry]], tuple[list[Fact], str | None]]


class HQStorage(Protocol):
    parts: tuple[HQPart, ...]

    def add_store(self, store_id: str, secret: str) -> None: ...
    def register(self, store_id: str, public_key: str, box_key: str) -> None: ...
    def store(self, store_id: str) -> StoreRow | None: ...
    def secret(self, store_id: str) -> str | None: ...
    def stores(self) -> list[StoreRow]: ...
    def contact(self, store_id: str, *, online: bool | None = None,
                problem: str | None = ...) -> None: ...  # type: ignore[assignment]
    def put_keys(self, store_id: str, keys: list[tuple[str, int, bytes]]) -> None: ...
    def keys(self, store_id: str) -> dict[str, tuple[int, bytes | None]]: ...
    def key(self, store_id: str, key_id: str, version: int) -> bytes | None: ...
    def put_escrow(self, store_id: str, sealed: bytes) -> None: ...
    def escrow(self, store_id: str) -> bytes | None: ...
    def ingest(self, store_id: str, entries: list[Entry], settle: Settle) -> Taken: ...
    def held(self, store_id: str) -> int: ...
    def append(self, store_id: str, entries: list[Entry], facts: list[Fact]) -> int: ...
    def append_facts(self, store_id: str, facts: list[Fact]) -> None: ...
    def entries(self, store_id: str, after: int = 0, limit: int = 1000) -> list[Entry]: ...
    def active_reservation(self, store_id: str, item_id: str) -> str | None: ...
    def add_reservation(self, row: dict[str, Any]) -> None: ...
    def log_message(self, message_id: str, store_id: str, mtype: str, signed: bytes) -> None: ...
    def stock(self, store_id: str | None = None) -> list[dict[str, Any]]: ...
    def conflicts(self) -> list[dict[str, Any]]: ...
    def query(self, sql: str, params: Any = ()) -> list[dict[str, Any]]: ...
    def execute(self, sql: str, params: Any = ()) -> int: ...
    def transaction(self) -> AbstractContextManager[Db]: ...
    def take_lease(self, name: str, holder: str, seconds: float) -> bool: ...
    def notifications_due(self, limit: int = 200) -> list[dict[str, Any]]: ...
    def settle_notification(self, store_id: str, notification_id: str, channel: str,
                            status: str, reason: str | None) -> None: ...
    def notification_receipted(self, store_id: str, notification_id: str,
                               channel: str) -> None: ...
    def close(self) -> None: ...


def _now_ms() -> int:
    return int(time.time() * 1000)


_HELD_CHUNK = 5000  # held entries read at a time when a run continues into them


class SqlHQStorage:
    """Every HQStorage method, once, over a `Db`: a dialect gives `transaction()` (a Db in
    one transaction), `reading()` (a Db outside one) and `_lock` (what makes a SELECT of a
    store's row hold it until the transaction ends)."""

    parts: tuple[HQPart, ...] = ()
    _lock = ""

    def __init__(self, parts: tuple[HQPart, ...]) -> None:
        self.parts = parts
        self._appliers = _appliers(parts)

    def transaction(self) -> AbstractContextManager[Db]:
        raise NotImplementedError

    def reading(self) -> AbstractContextManager[Db]:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def query(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        with self.reading() as db:
            return db.query(sql, params)

    def execute(self, sql: str, params: Any = ()) -> int:
        with self.transaction() as db:
            return db.execute(sql, params)

    # -- stores -----------------------------------------------------------------------------

    def add_store(self, store_id: str, secret: str) -> None:
        """Expect a store (a new bundle); re-issuing a bundle replaces an unused secret."""
        with self.transaction() as db:
            rows = db.query("SELECT public_key FROM stores WHERE store_id = ?", (store_id,))
            if rows and rows[0]["public_key"]:
                raise ValueError(f"store {store_id!r} is already enrolled (public key pinned)")
            db.execute(
                "INSERT INTO stores (store_id, secret, head_hash, enrolled_at) VALUES (?,?,?,?)"
                " ON CONFLICT(store_id) DO UPDATE SET secret = excluded.secret",
                (store_id, secret, GENESIS_HASH, utc_now()))

    def secret(self, store_id: str) -> str | None:
        rows = self.query("SELECT secret FROM stores WHERE store_id = ?", (store_id,))
        return rows[0]["secret"] if rows else None

    def register(self, store_id: str, public_key: str, box_key: str) -> None:
        self.execute("UPDATE stores SET public_key = ?, box_key = ?, secret = NULL"
                     " WHERE store_id = ?", (public_key, box_key, store_id))

    @staticmethod
    def _row(r: dict[str, Any]) -> StoreRow:
        return StoreRow(r["store_id"], r["public_key"], r["box_key"], r["head_seq"],
                        bytes(r["head_hash"]), r["entries"], r["last_contact"], bool(r["online"]),
                        r["problem"])

    def store(self, store_id: str) -> StoreRow | None:
        rows = self.query("SELECT * FROM stores WHERE store_id = ?", (store_id,))
        return self._row(rows[0]) if rows else None

    def stores(self) -> list[StoreRow]:
        return [self._row(r) for r in self.query("SELECT * FROM stores ORDER BY store_id")]

    def contact(self, store_id: str, *, online: bool | None = None,
                problem: str | None | type(...) = ...) -> None:
        sets, params = ["last_contact = ?"], [utc_now()]
        if online is not None:
            sets.append("online = ?")
            params.append(int(online))
        if problem is not ...:
            sets.append("problem = ?")
            params.append(problem)
        self.execute(f"UPDATE stores SET {', '.join(sets)} WHERE store_id = ?",
                     (*params, store_id))

    def put_keys(self, store_id: str, keys: list[tuple[str, int, bytes]]) -> None:
        # A destroyed key (NULL) stays destroyed: a resent batch cannot bring it back, nor
        # any of its versions. `keys` holds the newest version; `key_versions` all of them.
        with self.transaction() as db:
            gone = {r["key_id"] for r in db.query(
                "SELECT key_id FROM keys WHERE store_id = ? AND wrapped IS NULL", (store_id,))}
            keys = [k for k in keys if k[0] not in gone]
            db.executemany(
                "INSERT INTO keys (store_id, key_id, version, wrapped) VALUES (?,?,?,?)"
                " ON CONFLICT(store_id, key_id) DO UPDATE SET version = excluded.version,"
                " wrapped = excluded.wrapped"
                " WHERE keys.wrapped IS NOT NULL AND keys.version < excluded.version",
                [(store_id, k, v, w) for k, v, w in keys])
            db.executemany(
                "INSERT INTO key_versions (store_id, key_id, version, wrapped)"
                " VALUES (?,?,?,?) ON CONFLICT DO NOTHING",
                [(store_id, k, v, w) for k, v, w in keys])

    def key(self, store_id: str, key_id: str, version: int) -> bytes | None:
        """One version of a store's data key, sealed to HQ (None: never sent, or
        destroyed). A key stored before rotation existed is in `keys` alone."""
        rows = self.query("SELECT version, wrapped FROM keys WHERE store_id = ? AND"
                          " key_id = ?", (store_id, key_id))
        if not rows or rows[0]["wrapped"] is None:
            return None
        if rows[0]["version"] == version:
            return bytes(rows[0]["wrapped"])
        rows = self.query("SELECT wrapped FROM key_versions WHERE store_id = ? AND"
                          " key_id = ? AND version = ?", (store_id, key_id, version))
        return bytes(rows[0]["wrapped"]) if rows else None

    def put_escrow(self, store_id: str, sealed: bytes) -> None:
        self.execute("INSERT INTO escrows (store_id, sealed, received_at) VALUES (?,?,?)"
                     " ON CONFLICT(store_id) DO UPDATE SET sealed = excluded.sealed,"
                     " received_at = excluded.received_at", (store_id, sealed, utc_now()))

    def escrow(self, store_id: str) -> bytes | None:
        rows = self.query("SELECT sealed FROM escrows WHERE store_id = ?", (store_id,))
        return bytes(rows[0]["sealed"]) if rows else None

    def keys(self, store_id: str) -> dict[str, tuple[int, bytes | None]]:
        rows = self.query("SELECT key_id, version, wrapped FROM keys WHERE store_id = ?",
                          (store_id,))
        return {r["key_id"]: (r["version"], None if r["wrapped"] is None else bytes(r["wrapped"]))
                for r in rows}

    # -- a store's journal ------------------------------------------------------------------

    def ingest(self, store_id: str, entries: list[Entry], settle: Settle) -> Taken:
        """One batch, in one transaction holding the store's row: entries above HQ's head
        that continue it are stored with their facts (from `settle`), those beyond a gap
        wait in `held` for the run below them, which may come through another worker; a
        run that reaches held entries takes them along. Entries HQ has are dropped."""
        with self.transaction() as db:
            rows = db.query("SELECT * FROM stores WHERE store_id = ?" + self._lock, (store_id,))
            if not rows:
                raise ValueError(f"store {store_id!r} is not enrolled at HQ")
            r = rows[0]
            row, held, held_since = self._row(r), r["held"], r["held_since"]
            above = sorted({e.seq: e for e in entries if e.seq > row.head_seq}.values(),
                           key=lambda e: e.seq)
            run: list[Entry] = []
            for entry in above:
                if entry.seq != row.head_seq + 1 + len(run):
                    break
                run.append(entry)
            beyond = above[len(run):]
            if beyond:
                db.executemany(f"INSERT INTO held (store_id, {ENTRY_COLUMNS}) VALUES"
                               " (?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(store_id, seq) DO NOTHING",
                               [_entry_row(store_id, e) for e in beyond])
            if beyond or held:
                run += self._held_run(db, store_id, row.head_seq + 1 + len(run))
            facts: list[Fact] = []
            problem = None
            if run:
                facts, problem = settle(row, run)
            if problem:
                db.execute("DELETE FROM held WHERE store_id = ?", (store_id,))
                db.execute("UPDATE stores SET held = 0, held_since = NULL, problem = ?,"
                           " last_contact = ? WHERE store_id = ?", (problem, utc_now(), store_id))
                return Taken(row.head_seq, gap=False, run=[], facts=[], problem=problem)
            head = run[-1].seq if run else row.head_seq
            if run:
                self._store_run(db, store_id, run, facts)
            if beyond or held:
                db.execute("DELETE FROM held WHERE store_id = ? AND seq <= ?", (store_id, head))
                held = db.query("SELECT COUNT(*) AS n FROM held WHERE store_id = ?",
                                (store_id,))[0]["n"]
                if held > MAX_HELD:  # the store resends from our head anyway
                    db.execute("DELETE FROM held WHERE store_id = ?", (store_id,))
                    held = 0
                held_since = None if not held else (held_since or _now_ms())
            # The contact in the same transaction: one commit (one fsync) per batch.
            db.execute("UPDATE stores SET held = ?, held_since = ?, last_contact = ?"
                       " WHERE store_id = ?", (held, held_since, utc_now(), store_id))
            # At least the patience (>=): two batches in the same millisecond, patience 0.
            gap = bool(held) and _now_ms() - (held_since or 0) >= GAP_PATIENCE_S * 1000
            return Taken(head, gap=gap, run=run, facts=facts)

    def _held_run(self, db: Db, store_id: str, seq: int) -> list[Entry]:
        """The held entries that continue from `seq`, in order, as long as they do."""
        out: list[Entry] = []
        while True:
            rows = db.query(f"SELECT {ENTRY_COLUMNS} FROM held WHERE store_id = ? AND seq >= ?"
                            " ORDER BY seq LIMIT ?", (store_id, seq, _HELD_CHUNK))
            for r in rows:
                if r["seq"] != seq:
                    return out
                out.append(Entry.from_row(tuple(r.values())))
                seq += 1
            if len(rows) < _HELD_CHUNK:
                return out

    def held(self, store_id: str) -> int:
        """Entries HQ holds ahead of a gap for a store."""
        rows = self.query("SELECT held FROM stores WHERE store_id = ?", (store_id,))
        return rows[0]["held"] if rows else 0

    def _store_run(self, db: Db, store_id: str, entries: list[Entry], facts: list[Fact]) -> None:
        db.executemany(f"INSERT INTO entries (store_id, {ENTRY_COLUMNS}) VALUES"
                       " (?,?,?,?,?,?,?,?,?,?,?,?)", [_entry_row(store_id, e) for e in entries])
        last = entries[-1]
        db.execute("UPDATE stores SET head_seq = ?, head_hash = ?, problem = NULL,"
                   " entries = entries + ? WHERE store_id = ?",
                   (last.seq, last.hash, len(entries), store_id))
        for fact in facts:
            self._apply(db, store_id, fact)

    def append(self, store_id: str, entries: list[Entry], facts: list[Fact]) -> int:
        """Store a verified contiguous run and its projection changes, atomically."""
        with self.transaction() as db:
            self._store_run(db, store_id, entries, facts)
        return entries[-1].seq

    def append_facts(self, store_id: str, facts: list[Fact]) -> None:
        """HQ's own projection changes, not from a store's run (a gift card reconciled)."""
        with self.transaction() as db:
            for fact in facts:
                self._apply(db, store_id, fact)

    def _apply(self, db: Db, store_id: str, fact: Fact) -> None:
        applier = self._appliers.get(fact.what)
        if applier is not None:
            applier(db, store_id, fact.data)
        else:
            _apply_fact(db, store_id, fact)

    def entries(self, store_id: str, after: int = 0, limit: int = 1000) -> list[Entry]:
        rows = self.query(f"SELECT {ENTRY_COLUMNS} FROM entries WHERE store_id = ? AND"
                          " seq > ? ORDER BY seq LIMIT ?", (store_id, after, limit))
        return [Entry.from_row(tuple(r.values())) for r in rows]

    # -- projections and HQ's own records ---------------------------------------------------

    def active_reservation(self, store_id: str, item_id: str) -> str | None:
        rows = self.query("SELECT reservation_id FROM reservations WHERE store_id = ? AND"
                          " item_id = ? AND status = 'held'", (store_id, item_id))
        return rows[0]["reservation_id"] if rows else None

    def add_reservation(self, row: dict[str, Any]) -> None:
        self.execute("INSERT INTO reservations (reservation_id, store_id, item_id,"
                     " client_id, pickup_by, status, created_at) VALUES"
                     " (:reservation_id, :store_id, :item_id, :client_id, :pickup_by,"
                     " 'held', :created_at)", row)

    def log_message(self, message_id: str, store_id: str, mtype: str, signed: bytes) -> None:
        with self.transaction() as db:
            db.execute("INSERT INTO messages (message_id, store_id, type, issued_at, signed)"
                       " VALUES (?,?,?,?,?)", (message_id, store_id, mtype, utc_now(), signed))
            for part in self.parts:
                if part.sent is not None:
                    part.sent(db, message_id, store_id, mtype)

    def stock(self, store_id: str | None = None) -> list[dict[str, Any]]:
        sql = ("SELECT store_id, item_id, sku, description, category, tag_price, currency,"
               " status FROM items")
        if store_id:
            return self.query(sql + " WHERE store_id = ? ORDER BY item_id", (store_id,))
        return self.query(sql + " ORDER BY store_id, item_id")

    def conflicts(self) -> list[dict[str, Any]]:
        return self.query("SELECT * FROM conflicts ORDER BY id")

    def take_lease(self, name: str, holder: str, seconds: float) -> bool:
        """Hold `name` for `seconds` more if it is free, expired or already ours: whether we
        hold it now. One worker of several does what only one may."""
        now = _now_ms()
        return self.execute(
            "INSERT INTO leases (name, holder, until_ms) VALUES (?,?,?) ON CONFLICT(name)"
            " DO UPDATE SET holder = excluded.holder, until_ms = excluded.until_ms"
            " WHERE leases.holder = excluded.holder OR leases.until_ms < ?",
            (name, holder, now + int(seconds * 1000), now)) == 1

    def notifications_due(self, limit: int = 200) -> list[dict[str, Any]]:
        """Messages to send, or whose receipt the store has not been sent yet, oldest
        first: store_id, notification_id, channel, client_id, seq, status, reason."""
        return self.query("SELECT store_id, notification_id, channel, client_id, seq, status,"
                          " reason FROM notifications WHERE receipted = 0"
                          " ORDER BY seq, store_id, channel LIMIT ?", (limit,))

    def settle_notification(self, store_id: str, notification_id: str, channel: str,
                            status: str, reason: str | None) -> None:
        self.execute("UPDATE notifications SET status = ?, reason = ?, updated_at = ?"
                     " WHERE store_id = ? AND notification_id = ? AND channel = ?",
                     (status, reason, utc_now(), store_id, notification_id, channel))

    def notification_receipted(self, store_id: str, notification_id: str,
                               channel: str) -> None:
        self.execute("UPDATE notifications SET receipted = 1, updated_at = ?"
                     " WHERE store_id = ? AND notification_id = ? AND channel = ?",
                     (utc_now(), store_id, notification_id, channel))


def schema_sql(parts: tuple[HQPart, ...]) -> str:
    """HQ's tables and every part's, in the portable SQL (a dialect translates it)."""
    return _SCHEMA + gift_card_chain.SCHEMA + "".join(part.schema for part in parts)


def _entry_row(store_id: str, e: Entry) -> tuple[Any, ...]:
    return (store_id, e.seq, e.ts, e.kind, e.actor, e.subject, e.key_id, e.key_version,
            e.payload, e.prev_hash, e.hash, e.signature)


class SqliteHQStorage(SqlHQStorage):
    """HQStorage on one SQLite file in WAL mode (several HQ processes on one file take
    turns: BEGIN IMMEDIATE holds the writer's lock, so a store's row needs no other)."""

    def __init__(self, path: Path, parts: tuple[HQPart, ...] = ()) -> None:
        super().__init__(parts)
        self.path = path
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.row_factory = sqlite3.Row
        for pragma in ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL",
                       "PRAGMA secure_delete=ON", "PRAGMA busy_timeout=10000"):
            self.conn.execute(pragma)
        self.db = _SqliteDb(self.conn)
        with self.transaction():
            for table, column, decl in _ADDED_COLUMNS:  # an hq.db from before them
                have = {r[1] for r in self.conn.execute(f"PRAGMA table_info({table})")}
                if have and column not in have:
                    self.conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {decl}")
        self.conn.executescript(schema_sql(parts) + _SQLITE_GUARD)

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[Db]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    @contextmanager
    def reading(self) -> Iterator[Db]:
        yield self.db


class _SqliteDb:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Any = ()) -> int:
        return self.conn.execute(sql, params).rowcount

    def executemany(self, sql: str, rows: Sequence[Any]) -> None:
        self.conn.executemany(sql, rows)

    def query(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        return [dict(r) for r in self.conn.execute(sql, params).fetchall()]


def _appliers(parts: tuple[HQPart, ...]) -> dict[str, FactApplier]:
    """Each fact has one owner: two parts claiming one is a mistake caught at start."""
    out: dict[str, FactApplier] = {}
    for part in parts:
        for what, applier in part.facts.items():
            if what in out:
                raise ValueError(f"HQ fact {what!r} is claimed by two parts")
            out[what] = applier
    return out


def release_held(db: Db, store_id: str, table: str, key: str, value: str) -> None:
    """A hold (a reservation, an online order) cancelled at its store: its piece is back in
    stock at HQ too (the store's piece changes name no piece for a cancellation)."""
    db.execute(f"UPDATE items SET status = 'in_stock' WHERE store_id = ? AND status ="
               f" 'reserved' AND item_id = (SELECT item_id FROM {table} WHERE {key} = ?)",
               (store_id, value))


def _apply_fact(db: Db, store_id: str, fact: Fact) -> None:
    d = {**fact.data, "store_id": store_id}
    match fact.what:
        case "item":
            db.execute("INSERT INTO items (store_id, item_id, sku, description, category,"
                       " tag_price, currency, status, updated_seq) VALUES (:store_id, :item_id,"
                       " :sku, :description, :category, :tag_price, :currency, 'in_stock',"
                       " :seq) ON CONFLICT(store_id, item_id) DO UPDATE SET"
                       " status = 'in_stock', updated_seq = excluded.updated_seq", d)
        case "item_price":
            db.execute("UPDATE items SET tag_price = :tag_price, updated_seq = :seq"
                       " WHERE store_id = :store_id AND item_id = :item_id", d)
        case "item_status":
            db.execute("UPDATE items SET status = :status, updated_seq = :seq"
                       " WHERE store_id = :store_id AND item_id = :item_id", d)
        case "sale":
            db.execute("INSERT INTO sales (store_id, sale_id, seq, ts, total, currency,"
                       " client_id, status) VALUES (:store_id, :sale_id, :seq, :ts, :total,"
                       " :currency, :client_id, 'completed') ON CONFLICT DO NOTHING", d)
        case "sale_status":
            db.execute("UPDATE sales SET status = :status WHERE store_id = :store_id AND"
                       " sale_id = :sale_id", d)
        case "client":
            db.execute("INSERT INTO clients (store_id, client_id, status, profile_seq) VALUES"
                       " (:store_id, :client_id, :status, :seq) ON CONFLICT(store_id,"
                       " client_id) DO UPDATE SET status = excluded.status,"
                       " profile_seq = excluded.profile_seq", d)
        case "destroy_key":
            db.execute("INSERT INTO keys (store_id, key_id, version, wrapped) VALUES"
                       " (:store_id, :key_id, 0, NULL) ON CONFLICT(store_id, key_id)"
                       " DO UPDATE SET wrapped = NULL", d)
            db.execute("DELETE FROM key_versions WHERE store_id = :store_id AND"
                       " key_id = :key_id", d)
        case "reservation":
            db.execute("UPDATE reservations SET status = :status WHERE reservation_id ="
                       " :reservation_id", d)
            if d["status"] == "cancelled":  # the message names no piece: the hold does
                release_held(db, store_id, "reservations", "reservation_id",
                             d["reservation_id"])
        case "notification":  # one row per channel; a resend is dropped before this
            db.executemany(
                "INSERT INTO notifications (store_id, notification_id, channel, client_id,"
                " seq, status, updated_at) VALUES (?,?,?,?,?,'requested',?)"
                " ON CONFLICT DO NOTHING",
                [(store_id, d["notification_id"], channel, d["client_id"], d["seq"],
                  utc_now()) for channel in d["channels"] or [""]])
        case "gift_card":  # a card's chain-wide move (hub/giftcards/chain.py)
            db.execute("INSERT INTO gift_card_moves (store_id, seq, code, home, amount, ref)"
                       " VALUES (:store_id, :seq, :code, :home, :amount, :ref)"
                       " ON CONFLICT DO NOTHING", d)
        case "gift_card_outcome":
            db.execute("UPDATE gift_card_moves SET outcome = :outcome WHERE store_id ="
                       " :redeemer AND seq = :seq AND code = :code", d)
        case "conflict":
            db.execute("INSERT INTO conflicts (at, source, store_id, kind, item_id, ref,"
                       " detail) VALUES (:at, :source, :store_id, :kind, :item_id, :ref,"
                       " :detail)", {"at": utc_now(), "item_id": None, "ref": None, **d})
        case _:
            raise ValueError(f"unknown fact {fact.what!r}")
