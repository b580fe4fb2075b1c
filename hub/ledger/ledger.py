"""The ledger: one writer thread with group commit, reader connections, verify, rebuild.

The writer copies aiosqlite's pattern (one thread, a queue of futures) but runs a whole
*batch* of commands per trip: every command queued while the previous commit was syncing goes
into the next transaction, each inside its own SAVEPOINT so one refused command does not undo
its neighbours. A caller's future resolves only after COMMIT has returned with
`synchronous=FULL`, i.e. once its entries are durable. Readers use aiosqlite connections on
the same WAL database and never block the writer.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

import aiosqlite
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from hub.ledger import schema
from hub.ledger.audit import journal_rows
from hub.ledger.journal import (
    ENTRY_COLUMNS,
    GENESIS_HASH,
    Entry,
    InvalidTag,
    Verdict,
    canonical_json,
    open_payload,
    seal,
    verify_chain,
    verify_rows,
)
from hub.ledger.keys import (
    KeyDestroyed,
    KeyError_,
    Keyring,
    load_master_key,
    public_key_bytes,
    signing_key_bytes,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_BATCH = 512


class LedgerError(Exception):
    """The ledger could not do what was asked (disk full, closed, wrong store)."""


class Projector(Protocol):
    """Updates projection rows for one committed entry, inside the entry's transaction."""

    def apply(self, tx: Tx, entry: Entry, payload: dict[str, Any] | None) -> None: ...


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class _Request(Generic[T]):
    command: Callable[[Tx], T]
    future: asyncio.Future[T]
    loop: asyncio.AbstractEventLoop


class Tx:
    """What a command sees inside the writer's transaction: reads, and `append`."""

    def __init__(self, ledger: Ledger, conn: sqlite3.Connection, seq: int, tip: bytes) -> None:
        self._ledger = ledger
        self.conn = conn
        self.seq = seq
        self.tip = tip
        self.entries: list[tuple[Entry, dict[str, Any]]] = []
        self._new_keys: list[str] = []
        self._new_versions: list[tuple[str, int]] = []  # rotated in this transaction
        self._destroyed_keys: list[str] = []
        self.after_commit: list[Callable[[], None]] = []

    @property
    def store_id(self) -> str:
        return self._ledger.store_id

    @property
    def keyring(self) -> Keyring:
        return self._ledger.keyring

    def one(self, sql: str, params: tuple | dict = ()) -> sqlite3.Row | None:
        return self.conn.execute(sql, params).fetchone()

    def all(self, sql: str, params: tuple | dict = ()) -> list[sqlite3.Row]:
        return self.conn.execute(sql, params).fetchall()

    def execute(self, sql: str, params: tuple | dict = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)

    def append(self, kind: str, subject: str, payload: dict[str, Any], *, actor: str,
               key_id: str = "store") -> Entry:
        """Seal one entry (next seq, chained to the tip, signed) and project it."""
        keyring = self._ledger.keyring
        version, data_key = keyring.get(key_id)
        ledger = self._ledger
        # Never earlier than the entry before: a wall clock stepped back (NTP correcting
        # it, a box booting without its real-time clock) must not date an entry before
        # one already written. The time stands still until the clock catches up.
        ts = max(ledger.clock(), ledger.last_ts)
        ledger.last_ts = ts
        entry = seal(store_id=self.store_id, seq=self.seq + 1, ts=ts,
                     kind=kind, actor=actor, subject=subject, key_id=key_id, key_version=version,
                     data_key=data_key, plaintext=canonical_json(payload),
                     prev_hash=self.tip, sign=keyring.sign)
        self.conn.execute(f"INSERT INTO journal ({ENTRY_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                          (entry.seq, entry.ts, entry.kind, entry.actor, entry.subject,
                           entry.key_id, entry.key_version, entry.payload, entry.prev_hash,
                           entry.hash, entry.signature))
        self.seq, self.tip = entry.seq, entry.hash
        self._ledger.projector.apply(self, entry, payload)
        self.entries.append((entry, payload))
        return entry

    def create_key(self, key_id: str) -> None:
        version, blob = self._ledger.keyring.new_key(key_id)
        self._new_keys.append(key_id)
        self.conn.execute(
            "INSERT INTO keys (key_id, version, wrapped, created_seq) VALUES (?,?,?,?)",
            (key_id, version, blob, self.seq + 1))

    def rotate_key(self, key_id: str) -> int:
        """A new version of a data key (`store`, a client's): entries from here on are
        sealed with it; older versions stay held, so what they sealed stays readable. A
        destroyed key (a forgotten client) raises KeyDestroyed: it never comes back."""
        version, blob = self._ledger.keyring.rotate(key_id)
        self._new_versions.append((key_id, version))
        self.conn.execute(
            "INSERT INTO keys (key_id, version, wrapped, created_seq) VALUES (?,?,?,?)",
            (key_id, version, blob, self.seq + 1))
        return version

    def destroy_key(self, key_id: str) -> None:
        """Shred a data key, every version: its entries stay in the chain but can never be
        read again."""
        self.conn.execute("UPDATE keys SET wrapped = NULL, destroyed_seq = ? WHERE key_id = ?",
                          (self.seq, key_id))
        self._destroyed_keys.append(key_id)

    # -- a restore: taking back what HQ kept -----------------------------------------------

    def adopt(self, entries: list[Entry]) -> None:
        """Entries this store wrote and HQ kept, taken back after a restore (`loupe
        restore`): they must continue this journal's chain under this store's signatures,
        every one checked; they are stored exactly as they were and projected as if new."""
        assert self._ledger.public_key is not None
        verdict = verify_chain(entries, self.store_id, self._ledger.public_key,
                               start_seq=self.seq + 1, start_hash=self.tip, signatures="all")
        if not verdict.ok:
            raise LedgerError(f"the entries from HQ do not continue this journal: {verdict}")
        for entry in entries:
            self.conn.execute(
                f"INSERT INTO journal ({ENTRY_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (entry.seq, entry.ts, entry.kind, entry.actor, entry.subject, entry.key_id,
                 entry.key_version, entry.payload, entry.prev_hash, entry.hash,
                 entry.signature))
            self.seq, self.tip = entry.seq, entry.hash
            self._ledger.last_ts = max(self._ledger.last_ts, entry.ts)  # new ones follow it
            payload = self._ledger.decrypt(entry)
            self._ledger.projector.apply(self, entry, payload)
            if payload is not None:
                self.entries.append((entry, payload))

    def adopt_key(self, key_id: str, version: int, secret: bytes | None) -> None:
        """A data key made after the backup, as HQ kept it (None: HQ destroyed it, a
        forgotten client): held again, wrapped by this box's master key."""
        keyring = self._ledger.keyring
        if secret is None:
            if keyring.is_destroyed(key_id):
                return
            if not self.conn.execute("SELECT 1 FROM keys WHERE key_id = ?",
                                     (key_id,)).fetchone():
                self.conn.execute("INSERT INTO keys (key_id, version, wrapped, created_seq,"
                                  " destroyed_seq) VALUES (?, ?, NULL, NULL, ?)",
                                  (key_id, version, self.seq))
            self.destroy_key(key_id)
            return
        if keyring.has(key_id, version) or keyring.is_destroyed(key_id):
            return  # in the backup already
        if keyring.has(key_id):  # a version rotated after the backup
            blob = keyring.add_version(key_id, version, secret)
            self._new_versions.append((key_id, version))
        else:
            _, blob = keyring.new_key(key_id, secret, version)
            self._new_keys.append(key_id)
        self.conn.execute(
            "INSERT INTO keys (key_id, version, wrapped, created_seq) VALUES (?,?,?,?)",
            (key_id, version, blob, self.seq + 1))

    def _rolled_back(self) -> None:
        for key_id in self._new_keys:
            self._ledger.keyring.discard(key_id)
        for key_id, version in self._new_versions:
            self._ledger.keyring.discard(key_id, version)

    def _committed(self) -> None:
        for key_id in self._destroyed_keys:
            self._ledger.keyring.destroy(key_id)


_STOP = object()


class Ledger:
    """The store's books. Open with `await Ledger.open(...)`; close with `await close()`."""

    def __init__(self, db_path: Path, store_id: str, keyring: Keyring, projector: Projector,
                 on_commit: Callable[[list[tuple[Entry, dict[str, Any]]]], None] | None,
                 schemas: tuple[schema.Schema, ...]) -> None:
        self.db_path = db_path
        self.schemas = schemas
        self.store_id = store_id
        # When an entry says it was written (see `clock`), and the last one written.
        self._clock: Callable[[], str] = utc_now
        self.last_ts = ""
        self.keyring = keyring
        self.projector = projector
        self.on_commit = on_commit
        self.public_key: Ed25519PublicKey | None = None
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._writer_conn: sqlite3.Connection | None = None
        self._seq = 0
        self._tip = GENESIS_HASH
        self._readers: list[aiosqlite.Connection] = []
        self._next_reader = 0
        self._closed = False
        self._needs_rebuild = False
        self.read_only = False
        self.batches = 0  # commits made, for metrics and the group-commit benchmark
        # Tables the current batch wrote (told by temp triggers on the writer connection),
        # and who to tell once such a batch has committed: see `watch`.
        self._touched: set[str] = set()
        self._watchers: dict[str, list[Callable[[], None]]] = {}

    # -- life cycle ------------------------------------------------------------------------

    @staticmethod
    def _connect(db_path: Path) -> sqlite3.Connection:
        conn = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        for pragma in schema.PRAGMAS:
            conn.execute(pragma)
        return conn

    @classmethod
    def create(cls, db_path: Path, store_id: str, master_key_file: Path,
               schemas: tuple[schema.Schema, ...]) -> None:
        """Make a new store database: schema, keys, and the genesis metadata (sync)."""
        if db_path.exists():
            raise LedgerError(f"{db_path} already exists: refusing to overwrite a store")
        master = load_master_key(master_key_file)
        keyring = Keyring(store_id, master)
        conn = cls._connect(db_path)
        try:
            schema.migrate(conn, (schema.LEDGER, *schemas))
            conn.execute("BEGIN IMMEDIATE")
            for key_id, secret in (("signing", signing_key_bytes(Ed25519PrivateKey.generate())),
                                   ("store", None), ("blind", None)):
                version, blob = keyring.new_key(key_id, secret)
                conn.execute("INSERT INTO keys (key_id, version, wrapped, created_seq) "
                             "VALUES (?,?,?,0)", (key_id, version, blob))
            assert keyring.signing_key is not None
            pub = public_key_bytes(keyring.signing_key.public_key()).hex()
            conn.executemany("INSERT INTO store_meta (key, value) VALUES (?,?)",
                             [("store_id", store_id), ("public_key", pub),
                              ("created_at", utc_now())])
            conn.execute("COMMIT")
        finally:
            conn.close()

    @classmethod
    async def open(cls, db_path: Path, store_id: str, master_key_file: Path,
                   projector: Projector, schemas: tuple[schema.Schema, ...],
                   on_commit: Callable[[list[tuple[Entry, dict[str, Any]]]], None] | None = None,
                   readers: int = 2, read_only: bool = False) -> Ledger:
        """Open the books. `read_only`: no writer thread and no migration (`transact`
        refuses), so it can sit beside the running hub, the one writer of these books."""
        if not db_path.exists():
            raise LedgerError(f"{db_path}: no database (run `loupe init` first)")
        # On a thread: a protected master key may wait for its passphrase to be typed.
        master = await asyncio.to_thread(load_master_key, master_key_file)
        keyring = Keyring(store_id, master)
        ledger = cls(db_path, store_id, keyring, projector, on_commit, schemas)
        if read_only:
            ledger.read_only = True
            await asyncio.to_thread(ledger._load_read_only)
            for _ in range(readers):
                reader = await aiosqlite.connect(f"file:{db_path}?mode=ro", uri=True)
                reader.row_factory = sqlite3.Row
                await reader.execute("PRAGMA busy_timeout=10000")
                ledger._readers.append(reader)
            return ledger
        await asyncio.to_thread(ledger._open_writer_conn)
        ledger._thread = threading.Thread(target=ledger._writer_loop, name="ledger-writer",
                                          daemon=True)
        ledger._thread.start()
        for _ in range(readers):
            reader = await aiosqlite.connect(db_path)
            reader.row_factory = sqlite3.Row
            await reader.execute("PRAGMA query_only=ON")
            await reader.execute("PRAGMA busy_timeout=10000")
            ledger._readers.append(reader)
        if ledger._needs_rebuild:
            log.info("schema migrated; rebuilding projections from the journal")
            await ledger.rebuild()
        return ledger

    def _open_writer_conn(self) -> None:
        conn = self._connect(self.db_path)
        try:
            self._needs_rebuild = schema.migrate(conn, (schema.LEDGER, *self.schemas))
            self._load_meta(conn)
            conn.create_function("loupe_touched", 1, self._touched.add)
        except BaseException:
            conn.close()
            raise
        self._writer_conn = conn

    def _load_read_only(self) -> None:
        conn = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True)
        try:
            _check_schema_current(conn, (schema.LEDGER, *self.schemas))
            self._load_meta(conn)
        finally:
            conn.close()

    def _load_meta(self, conn: sqlite3.Connection) -> None:
        """The store's identity, keys and chain tip, checked against the config."""
        meta = dict(conn.execute("SELECT key, value FROM store_meta").fetchall())
        if meta.get("store_id") != self.store_id:
            raise LedgerError(
                f"{self.db_path} belongs to store {meta.get('store_id')!r}, "
                f"not {self.store_id!r}: wrong data dir or config")
        self.keyring.load(conn.execute("SELECT key_id, version, wrapped FROM keys").fetchall())
        self.public_key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(meta["public_key"]))
        signing = self.keyring.signing_key
        if signing is None or public_key_bytes(signing.public_key()) != \
                public_key_bytes(self.public_key):
            raise LedgerError("the store's signing key does not match its public key")
        row = conn.execute("SELECT seq, hash, ts FROM journal ORDER BY seq DESC LIMIT 1"
                           ).fetchone()
        if row:
            self._seq, self._tip, self.last_ts = row[0], bytes(row[1]), row[2]

    async def close(self) -> None:
        """Finish every queued command (their commits included), then close."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(_STOP)
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join)
        for reader in self._readers:
            await reader.close()
        self._readers.clear()

    @property
    def clock(self) -> Callable[[], str]:
        """When an entry says it was written: the wall clock (`utc_now`). Entries keep
        their order if it steps back (`Tx.append`). Only the demo's generator and tests set
        another, to write a past on purpose: setting a clock starts its own order."""
        return self._clock

    @clock.setter
    def clock(self, clock: Callable[[], str]) -> None:
        self._clock = clock
        self.last_ts = ""

    @property
    def seq(self) -> int:
        """The last committed seq."""
        return self._seq

    @property
    def public_key_hex(self) -> str:
        assert self.public_key is not None
        return public_key_bytes(self.public_key).hex()

    # -- writing ---------------------------------------------------------------------------

    async def transact(self, command: Callable[[Tx], T]) -> T:
        """Run `command(tx)` in the writer; resolves once its entries are durable.

        The command runs on the writer thread: it must only touch `tx` (no awaits, no I/O
        other than the database). Raising refuses the command and leaves no trace of it.
        """
        if self._closed:
            raise LedgerError("the ledger is closed")
        if self.read_only:
            raise LedgerError("these books are open read-only: only the running hub writes them")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.put(_Request(command, future, loop))
        return await future

    async def watch(self, table: str, on_change: Callable[[], None]) -> None:
        """Call `on_change()` after every commit that wrote a row of `table`, on the writer
        thread, before the commit's callers are told: a cache it empties is never read
        stale by the request that made the change, nor by any request after it.
        `on_change` must be quick and must not touch the ledger."""
        if not table.isidentifier():
            raise ValueError(f"not a table name: {table!r}")

        def install(tx: Tx) -> None:
            # Temp triggers live on the writer's connection only, outside the books' schema.
            for event in ("INSERT", "UPDATE", "DELETE"):
                tx.execute(f"CREATE TEMP TRIGGER IF NOT EXISTS loupe_watch_{table}_{event}"
                           f" AFTER {event} ON main.{table}"
                           f" BEGIN SELECT loupe_touched('{table}'); END")
            self._watchers.setdefault(table, []).append(on_change)

        await self.transact(install)

    async def analyze(self, table: str) -> None:
        """Refresh the query planner's statistics of `table` and its indexes (rows per
        value), which SQLite keeps in `sqlite_stat1`: without them it guesses, and may walk
        a common value's index where a rare one's would do. Outside the books: no entry."""
        if not table.isidentifier():
            raise ValueError(f"not a table name: {table!r}")
        await self.transact(lambda tx: tx.execute(f"ANALYZE main.{table}"))

    def _tell_watchers(self) -> None:
        touched = set(self._touched)
        self._touched.clear()
        for table in touched:
            for on_change in self._watchers.get(table, ()):
                try:
                    on_change()
                except Exception:  # a watcher's bug must not fail the commit it follows
                    log.exception("a watcher of %s failed", table)

    def _writer_loop(self) -> None:
        conn = self._writer_conn
        assert conn is not None
        stopping = False
        try:
            while not stopping:
                item = self._queue.get()
                if item is _STOP:
                    break
                batch = [item]
                while len(batch) < MAX_BATCH:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is _STOP:
                        stopping = True
                        break
                    batch.append(item)
                try:
                    while batch:
                        batch = self._run_batch(conn, batch)
                except BaseException as exc:  # never leave a caller waiting forever
                    log.exception("ledger writer failed a batch")
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    self._fail_all([r for r in batch if not r.future.done()], exc)
        finally:
            conn.close()

    def _run_batch(self, conn: sqlite3.Connection,
                   batch: list[_Request[Any]]) -> list[_Request[Any]]:
        """Run a batch in one transaction; return the requests to run again, if any.

        Commands are expected to check before they write, so a refusal usually leaves
        nothing to undo and costs nothing. A command that refuses after writing forces the
        transaction to be rolled back and the rest of the batch to run again without it
        (commands are pure functions of the books, so running one again is safe). This
        spares every command a SAVEPOINT, two statements each.
        """
        outcomes: list[tuple[_Request[Any], Any, BaseException | None]] = []
        txs: list[Tx] = []
        seq, tip = self._seq, self._tip
        self._touched.clear()  # what a rolled-back try wrote is not there any more
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            self._fail_all(batch, exc)
            return []
        for i, req in enumerate(batch):
            if req.future.cancelled():
                continue
            tx = Tx(self, conn, seq, tip)
            changes = conn.total_changes
            try:
                result = req.command(tx)
            except BaseException as exc:
                tx._rolled_back()
                if not conn.in_transaction:
                    # SQLite itself rolled the whole transaction back (disk full, I/O
                    # error): every command of the batch is lost, so all of them fail.
                    for done in txs:
                        done._rolled_back()
                    self._fail_all([o[0] for o in outcomes] + batch[i:], exc)
                    return []
                if conn.total_changes != changes or tx.entries:
                    # It wrote before refusing: undo everything, run the others again.
                    conn.execute("ROLLBACK")
                    for done in txs:
                        done._rolled_back()
                    self._settle([(req, None, _as_ledger_error(exc))]
                                 + [o for o in outcomes if o[2] is not None])
                    return [o[0] for o in outcomes if o[2] is None] + batch[i + 1:]
                outcomes.append((req, None, _as_ledger_error(exc)))
                continue
            seq, tip = tx.seq, tx.tip
            txs.append(tx)
            outcomes.append((req, result, None))
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            for tx in txs:
                tx._rolled_back()
            self._fail_all([o[0] for o in outcomes], exc)
            return []
        self._seq, self._tip = seq, tip
        self.batches += 1
        if self._touched:
            self._tell_watchers()
        committed: list[tuple[Entry, dict[str, Any]]] = []
        for tx in txs:
            tx._committed()
            committed.extend(tx.entries)
            for hook in tx.after_commit:
                hook()
        if any(tx._destroyed_keys for tx in txs):
            # Wrapped key bytes may still sit in WAL frames: fold them into the main file
            # (where secure_delete has zeroed them) and truncate the WAL.
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self._settle(outcomes)
        if committed and self.on_commit is not None and outcomes:
            outcomes[0][0].loop.call_soon_threadsafe(self.on_commit, committed)
        return []

    @staticmethod
    def _settle(outcomes: list[tuple[_Request[Any], Any, BaseException | None]]) -> None:
        # One wake-up of each loop per batch, not per caller: the self-pipe write costs
        # more than settling a future.
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[Any, Any, Any]]] = {}
        for req, result, exc in outcomes:
            by_loop.setdefault(req.loop, []).append((req.future, result, exc))
        for loop, settled in by_loop.items():
            loop.call_soon_threadsafe(_settle_all, settled)

    @classmethod
    def _fail_all(cls, requests: list[_Request[Any]], exc: BaseException) -> None:
        error = _as_ledger_error(exc)
        cls._settle([(req, None, error) for req in requests])

    # -- reading ---------------------------------------------------------------------------

    def _reader(self) -> aiosqlite.Connection:
        if not self._readers:
            raise LedgerError("the ledger is closed")
        self._next_reader = (self._next_reader + 1) % len(self._readers)
        return self._readers[self._next_reader]

    async def fetch(self, sql: str, params: tuple | dict = ()) -> list[sqlite3.Row]:
        # One hop runs and exhausts the statement: a statement left open between hops would
        # pin its connection's WAL snapshot, and the next query there would miss new commits.
        return list(await self._reader().execute_fetchall(sql, params))

    async def fetch_one(self, sql: str, params: tuple | dict = ()) -> sqlite3.Row | None:
        rows = await self.fetch(sql, params)
        return rows[0] if rows else None

    async def read(self, query: Callable[[Tx], T]) -> T:
        """Run `query(tx)` on one consistent snapshot of the books, on a thread and beside
        the writer (an X report while sales go on). The connection is read-only: a query
        that tries to append or write fails and changes nothing."""
        if self._closed:
            raise LedgerError("the ledger is closed")
        return await asyncio.to_thread(self._read, query)

    def _read(self, query: Callable[[Tx], T]) -> T:
        conn = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, isolation_level=None)
        conn.row_factory = sqlite3.Row
        try:
            conn.execute("PRAGMA busy_timeout=10000")
            conn.execute("BEGIN")  # the snapshot starts at the first read, just below
            row = conn.execute("SELECT seq, hash FROM journal ORDER BY seq DESC LIMIT 1").fetchone()
            seq, tip = (row[0], bytes(row[1])) if row else (0, GENESIS_HASH)
            return query(Tx(self, conn, seq, tip))
        finally:
            conn.close()

    async def entries(self, after_seq: int = 0, limit: int = 1000) -> list[Entry]:
        rows = await self.fetch(f"SELECT {ENTRY_COLUMNS} FROM journal WHERE seq > ? "
                                "ORDER BY seq LIMIT ?", (after_seq, limit))
        return [Entry.from_row(tuple(r)) for r in rows]

    async def payload_at(self, seq: int) -> dict[str, Any] | None:
        """The payload of the entry at `seq` (None: no such entry, or its key destroyed)."""
        row = await self.fetch_one(f"SELECT {ENTRY_COLUMNS} FROM journal WHERE seq = ?", (seq,))
        return None if row is None else self.decrypt(Entry.from_row(tuple(row)))

    def decrypt(self, entry: Entry) -> dict[str, Any] | None:
        """The entry's payload, or None when its key was destroyed (a forgotten client)."""
        try:
            _, key = self.keyring.get(entry.key_id, entry.key_version)
        except KeyDestroyed:
            return None
        return open_payload(entry, self.store_id, key)

    # -- verification and rebuild ----------------------------------------------------------

    async def verify(self) -> Verdict:
        assert self.public_key is not None
        return await asyncio.to_thread(verify_database, self.db_path, self.store_id,
                                       self.public_key)

    async def rebuild(self) -> int:
        """Clear every projection and replay the journal into it, in one transaction."""
        return await self.transact(self._rebuild_in)

    def _rebuild_in(self, tx: Tx) -> int:
        for table in projection_tables(self.schemas):
            if _is_fts5(tx.conn, table):
                # Deleting from a full-text table writes a tombstone per word of each row
                # (seconds for 100,000 pieces): make it anew, empty, in this transaction.
                sql = tx.one("SELECT sql FROM sqlite_master WHERE name = ?", (table,))[0]
                tx.execute(f"DROP TABLE {table}")
                tx.execute(sql)
                continue
            tx.execute(f"DELETE FROM {table}")
        count = 0
        cursor = tx.conn.execute(f"SELECT {ENTRY_COLUMNS} FROM journal ORDER BY seq")
        while rows := cursor.fetchmany(2000):
            for row in rows:
                entry = Entry.from_row(tuple(row))
                self.projector.apply(tx, entry, self.decrypt(entry))
                count += 1
        return count


def _check_schema_current(conn: sqlite3.Connection, schemas: tuple[schema.Schema, ...]) -> None:
    """A read-only open migrates nothing, so it needs the schema this code knows."""
    try:
        versions = dict(conn.execute("SELECT area, version FROM schema_versions").fetchall())
    except sqlite3.OperationalError:
        versions = {}
    for area in schemas:
        current = versions.get(area.area, 0)
        if current > area.latest:
            raise schema.SchemaError(
                f"the database's {area.area} schema is version {current}, newer than this"
                f" hub knows ({area.latest}): upgrade Loupe before opening it")
        if current < area.latest:
            raise schema.SchemaError(
                f"the database's {area.area} schema is version {current} and this Loupe"
                f" needs {area.latest}: start the hub (`loupe run`) once to migrate it")


def _settle_all(settled: list[tuple[asyncio.Future[Any], Any, BaseException | None]]) -> None:
    for future, result, exc in settled:
        if future.done():  # cancelled by its caller meanwhile
            continue
        if exc is not None:
            future.set_exception(exc)
        else:
            future.set_result(result)


def _as_ledger_error(exc: BaseException) -> BaseException:
    if isinstance(exc, sqlite3.OperationalError) and "full" in str(exc):
        return LedgerError("the disk is full: nothing was recorded; free space and retry")
    if isinstance(exc, sqlite3.Error) and not isinstance(exc, sqlite3.IntegrityError):
        return LedgerError(f"the database refused the write: {exc}")
    return exc


def iter_entries(conn: sqlite3.Connection, batch: int = 5000) -> Iterator[Entry]:
    cursor = conn.execute(f"SELECT {ENTRY_COLUMNS} FROM journal ORDER BY seq")
    while rows := cursor.fetchmany(batch):
        for row in rows:
            yield Entry.from_row(tuple(row))


def verify_database(db_path: Path, store_id: str | None = None,
                    public_key: Ed25519PublicKey | None = None, *,
                    signatures: str = "anchors") -> Verdict:
    """Verify a store database with no secret: its public key and the chain suffice
    (`signatures`: see `verify_rows`)."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        meta = dict(conn.execute("SELECT key, value FROM store_meta").fetchall())
        store_id = store_id or meta["store_id"]
        if public_key is None:
            public_key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(meta["public_key"]))
        return verify_rows(journal_rows(conn), store_id, public_key, signatures=signatures)
    finally:
        conn.close()


def projection_tables(schemas: tuple[schema.Schema, ...]) -> list[str]:
    return [table for s in schemas for table in s.projections]


def _is_fts5(conn: sqlite3.Connection, table: str) -> bool:
    row = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()
    return bool(row and row[0].upper().startswith("CREATE VIRTUAL TABLE")
                and "USING FTS5" in row[0].upper())


def dump_projections(db_path: Path, schemas: tuple[schema.Schema, ...]) -> dict[str, list[tuple]]:
    """Every projection row, in a stable order: what `rebuild` must reproduce exactly."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        out = {}
        for table in projection_tables(schemas):
            cols = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
            order = ", ".join(cols)
            if _is_fts5(conn, table):
                # A full-text table: its rows with their rowids (what queries join on), and
                # what the index holds, token by token (its b-tree pages depend on the order
                # of past merges, so they are not compared).
                out[table] = [tuple(r) for r in conn.execute(
                    f"SELECT rowid, * FROM {table} ORDER BY rowid")]
                conn.execute(f"CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, {table},"
                             " instance)")
                out[f"{table} (index)"] = [tuple(r) for r in conn.execute(
                    "SELECT term, doc, col, offset FROM temp.vocab")]
                conn.execute("DROP TABLE temp.vocab")
                continue
            out[table] = [tuple(r) for r in conn.execute(f"SELECT * FROM {table} ORDER BY {order}")]
        return out
    finally:
        conn.close()


__all__ = ["Ledger", "LedgerError", "Tx", "Projector", "KeyError_", "KeyDestroyed", "InvalidTag",
           "verify_database", "dump_projections", "utc_now"]
