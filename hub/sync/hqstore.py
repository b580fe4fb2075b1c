"""HQ's storage behind a small interface (`HQStorage`), with SQLite as the default.

Everything HQ keeps of a store is what the store sent: entries as ciphertext, data keys
sealed to HQ's X25519 key. Projections hold ids, statuses and amounts, never a name or an
address: a client profile is decrypted in memory when asked for. A chain that outgrows one
file implements this interface on PostgreSQL; the receiver does not change.

All methods are synchronous and called from HQ's single storage thread.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
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
    enrolled_at  TEXT NOT NULL
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
CREATE TRIGGER IF NOT EXISTS entries_no_update BEFORE UPDATE ON entries
BEGIN SELECT RAISE(ABORT, 'stored entries are never changed'); END;
"""


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

    def reads(self, kind: str) -> bool:
        return any(kind == k or (k.endswith(".") and kind.startswith(k)) for k in self.kinds)


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
    def transaction(self) -> Any: ...  # a context manager giving a Db
    def notifications_due(self, limit: int = 200) -> list[dict[str, Any]]: ...
    def settle_notification(self, store_id: str, notification_id: str, channel: str,
                            status: str, reason: str | None) -> None: ...
    def notification_receipted(self, store_id: str, notification_id: str,
                               channel: str) -> None: ...
    def close(self) -> None: ...


class SqliteHQStorage:
    """HQStorage on one SQLite file in WAL mode."""

    def __init__(self, path: Path, parts: tuple[HQPart, ...] = ()) -> None:
        self.path = path
        self.parts = parts
        self._appliers = _appliers(parts)
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.row_factory = sqlite3.Row
        for pragma in ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL",
                       "PRAGMA secure_delete=ON", "PRAGMA busy_timeout=10000"):
            self.conn.execute(pragma)
        self.conn.executescript(_SCHEMA + gift_card_chain.SCHEMA
                                + "".join(part.schema for part in parts))
        self.db = _SqliteDb(self.conn)

    def close(self) -> None:
        self.conn.close()

    def _tx(self):
        return _Transaction(self.conn)

    @contextmanager
    def transaction(self) -> Iterator[Db]:
        with self._tx():
            yield self.db

    def execute(self, sql: str, params: Any = ()) -> int:
        return self.db.execute(sql, params)

    def add_store(self, store_id: str, secret: str) -> None:
        """Expect a store (a new bundle); re-issuing a bundle replaces an unused secret."""
        with self._tx():
            row = self.conn.execute("SELECT public_key FROM stores WHERE store_id = ?",
                                    (store_id,)).fetchone()
            if row is not None and row["public_key"]:
                raise ValueError(f"store {store_id!r} is already enrolled (public key pinned)")
            self.conn.execute(
                "INSERT INTO stores (store_id, secret, head_hash, enrolled_at) VALUES (?,?,?,?)"
                " ON CONFLICT(store_id) DO UPDATE SET secret = excluded.secret",
                (store_id, secret, GENESIS_HASH, utc_now()))

    def secret(self, store_id: str) -> str | None:
        row = self.conn.execute("SELECT secret FROM stores WHERE store_id = ?",
                                (store_id,)).fetchone()
        return row["secret"] if row else None

    def register(self, store_id: str, public_key: str, box_key: str) -> None:
        with self._tx():
            self.conn.execute("UPDATE stores SET public_key = ?, box_key = ?, secret = NULL"
                              " WHERE store_id = ?", (public_key, box_key, store_id))

    def _row(self, r: sqlite3.Row) -> StoreRow:
        return StoreRow(r["store_id"], r["public_key"], r["box_key"], r["head_seq"],
                        bytes(r["head_hash"]), r["entries"], r["last_contact"], bool(r["online"]),
                        r["problem"])

    def store(self, store_id: str) -> StoreRow | None:
        r = self.conn.execute("SELECT * FROM stores WHERE store_id = ?", (store_id,)).fetchone()
        return self._row(r) if r else None

    def stores(self) -> list[StoreRow]:
        return [self._row(r) for r in
                self.conn.execute("SELECT * FROM stores ORDER BY store_id").fetchall()]

    def contact(self, store_id: str, *, online: bool | None = None,
                problem: str | None | type(...) = ...) -> None:
        sets, params = ["last_contact = ?"], [utc_now()]
        if online is not None:
            sets.append("online = ?")
            params.append(int(online))
        if problem is not ...:
            sets.append("problem = ?")
            params.append(problem)
        self.conn.execute(f"UPDATE stores SET {', '.join(sets)} WHERE store_id = ?",
                          (*params, store_id))

    def put_keys(self, store_id: str, keys: list[tuple[str, int, bytes]]) -> None:
        # A destroyed key (NULL) stays destroyed: a resent batch cannot bring it back.
        with self._tx():
            self.conn.executemany(
                "INSERT INTO keys (store_id, key_id, version, wrapped) VALUES (?,?,?,?)"
                " ON CONFLICT(store_id, key_id) DO NOTHING",
                [(store_id, k, v, w) for k, v, w in keys])

    def keys(self, store_id: str) -> dict[str, tuple[int, bytes | None]]:
        rows = self.conn.execute("SELECT key_id, version, wrapped FROM keys WHERE store_id = ?",
                                 (store_id,)).fetchall()
        return {r[0]: (r[1], None if r[2] is None else bytes(r[2])) for r in rows}

    def append(self, store_id: str, entries: list[Entry], facts: list[Fact]) -> int:
        """Store a verified contiguous run and its projection changes, atomically."""
        with self._tx():
            self.conn.executemany(
                f"INSERT INTO entries (store_id, {ENTRY_COLUMNS}) VALUES"
                " (?,?,?,?,?,?,?,?,?,?,?,?)",
                [(store_id, e.seq, e.ts, e.kind, e.actor, e.subject, e.key_id, e.key_version,
                  e.payload, e.prev_hash, e.hash, e.signature) for e in entries])
            last = entries[-1]
            self.conn.execute("UPDATE stores SET head_seq = ?, head_hash = ?, problem = NULL,"
                              " entries = entries + ? WHERE store_id = ?",
                              (last.seq, last.hash, len(entries), store_id))
            for fact in facts:
                self._apply(store_id, fact)
        return last.seq

    def append_facts(self, store_id: str, facts: list[Fact]) -> None:
        """HQ's own projection changes, not from a store's run (a gift card reconciled)."""
        with self._tx():
            for fact in facts:
                self._apply(store_id, fact)

    def _apply(self, store_id: str, fact: Fact) -> None:
        applier = self._appliers.get(fact.what)
        if applier is not None:
            applier(self.db, store_id, fact.data)
        else:
            _apply_fact(self.conn, store_id, fact)

    def entries(self, store_id: str, after: int = 0, limit: int = 1000) -> list[Entry]:
        rows = self.conn.execute(f"SELECT {ENTRY_COLUMNS} FROM entries WHERE store_id = ? AND"
                                 " seq > ? ORDER BY seq LIMIT ?", (store_id, after, limit))
        return [Entry.from_row(tuple(r)) for r in rows.fetchall()]

    def active_reservation(self, store_id: str, item_id: str) -> str | None:
        row = self.conn.execute("SELECT reservation_id FROM reservations WHERE store_id = ? AND"
                                " item_id = ? AND status = 'held'", (store_id, item_id)).fetchone()
        return row[0] if row else None

    def add_reservation(self, row: dict[str, Any]) -> None:
        self.conn.execute("INSERT INTO reservations (reservation_id, store_id, item_id,"
                          " client_id, pickup_by, status, created_at) VALUES"
                          " (:reservation_id, :store_id, :item_id, :client_id, :pickup_by,"
                          " 'held', :created_at)", row)

    def log_message(self, message_id: str, store_id: str, mtype: str, signed: bytes) -> None:
        self.conn.execute("INSERT INTO messages (message_id, store_id, type, issued_at, signed)"
                          " VALUES (?,?,?,?,?)", (message_id, store_id, mtype, utc_now(), signed))

    def stock(self, store_id: str | None = None) -> list[dict[str, Any]]:
        sql = ("SELECT store_id, item_id, sku, description, category, tag_price, currency,"
               " status FROM items")
        if store_id:
            return self.query(sql + " WHERE store_id = ? ORDER BY item_id", (store_id,))
        return self.query(sql + " ORDER BY store_id, item_id")

    def conflicts(self) -> list[dict[str, Any]]:
        return self.query("SELECT * FROM conflicts ORDER BY id")

    def query(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        return self.db.query(sql, params)

    def notifications_due(self, limit: int = 200) -> list[dict[str, Any]]:
        """Messages to send, or whose receipt the store has not been sent yet, oldest
        first: store_id, notification_id, channel, client_id, seq, status, reason."""
        return self.query("SELECT store_id, notification_id, channel, client_id, seq, status,"
                          " reason FROM notifications WHERE receipted = 0"
                          " ORDER BY seq, store_id, channel LIMIT ?", (limit,))

    def settle_notification(self, store_id: str, notification_id: str, channel: str,
                            status: str, reason: str | None) -> None:
        self.conn.execute("UPDATE notifications SET status = ?, reason = ?, updated_at = ?"
                          " WHERE store_id = ? AND notification_id = ? AND channel = ?",
                          (status, reason, utc_now(), store_id, notification_id, channel))

    def notification_receipted(self, store_id: str, notification_id: str,
                               channel: str) -> None:
        self.conn.execute("UPDATE notifications SET receipted = 1, updated_at = ?"
                          " WHERE store_id = ? AND notification_id = ? AND channel = ?",
                          (utc_now(), store_id, notification_id, channel))


class _SqliteDb:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Any = ()) -> int:
        return self.conn.execute(sql, params).rowcount

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


class _Transaction:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: Any, *rest: Any) -> None:
        self.conn.execute("ROLLBACK" if exc_type else "COMMIT")


def _apply_fact(conn: sqlite3.Connection, store_id: str, fact: Fact) -> None:
    d = {**fact.data, "store_id": store_id}
    match fact.what:
        case "item":
            conn.execute("INSERT INTO items (store_id, item_id, sku, description, category,"
                         " tag_price, currency, status, updated_seq) VALUES (:store_id, :item_id,"
                         " :sku, :description, :category, :tag_price, :currency, 'in_stock',"
                         " :seq) ON CONFLICT(store_id, item_id) DO UPDATE SET"
                         " status = 'in_stock', updated_seq = excluded.updated_seq", d)
        case "item_price":
            conn.execute("UPDATE items SET tag_price = :tag_price, updated_seq = :seq"
                         " WHERE store_id = :store_id AND item_id = :item_id", d)
        case "item_status":
            conn.execute("UPDATE items SET status = :status, updated_seq = :seq"
                         " WHERE store_id = :store_id AND item_id = :item_id", d)
        case "sale":
            conn.execute("INSERT OR IGNORE INTO sales (store_id, sale_id, seq, ts, total,"
                         " currency, client_id, status) VALUES (:store_id, :sale_id, :seq, :ts,"
                         " :total, :currency, :client_id, 'completed')", d)
        case "sale_status":
            conn.execute("UPDATE sales SET status = :status WHERE store_id = :store_id AND"
                         " sale_id = :sale_id", d)
        case "client":
            conn.execute("INSERT INTO clients (store_id, client_id, status, profile_seq) VALUES"
                         " (:store_id, :client_id, :status, :seq) ON CONFLICT(store_id,"
                         " client_id) DO UPDATE SET status = excluded.status,"
                         " profile_seq = excluded.profile_seq", d)
        case "destroy_key":
            conn.execute("INSERT INTO keys (store_id, key_id, version, wrapped) VALUES"
                         " (:store_id, :key_id, 0, NULL) ON CONFLICT(store_id, key_id)"
                         " DO UPDATE SET wrapped = NULL", d)
        case "reservation":
            conn.execute("UPDATE reservations SET status = :status WHERE reservation_id ="
                         " :reservation_id", d)
        case "notification":  # one row per channel; a resend is dropped before this
            conn.executemany(
                "INSERT OR IGNORE INTO notifications (store_id, notification_id, channel,"
                " client_id, seq, status, updated_at) VALUES (?,?,?,?,?,'requested',?)",
                [(store_id, d["notification_id"], channel, d["client_id"], d["seq"],
                  utc_now()) for channel in d["channels"] or [""]])
        case "gift_card":  # a card's chain-wide move (hub/giftcards/chain.py)
            conn.execute("INSERT OR IGNORE INTO gift_card_moves (store_id, seq, code, home,"
                         " amount, ref) VALUES (:store_id, :seq, :code, :home, :amount, :ref)",
                         d)
        case "gift_card_outcome":
            conn.execute("UPDATE gift_card_moves SET outcome = :outcome WHERE store_id ="
                         " :redeemer AND seq = :seq AND code = :code", d)
        case "conflict":
            conn.execute("INSERT INTO conflicts (at, source, store_id, kind, item_id, ref,"
                         " detail) VALUES (:at, :source, :store_id, :kind, :item_id, :ref,"
                         " :detail)", {"at": utc_now(), "item_id": None, "ref": None, **d})
        case _:
            raise ValueError(f"unknown fact {fact.what!r}")
