"""Upgrades: the books of an earlier Loupe are verified by this one before it migrates them.

Migrations rewrite the tables beside the journal, never the journal; yet an upgrade in the
field is the moment to know the books the box carries are whole, before this code changes
anything in them. So `loupe run` refuses books with a migration pending (`pending_upgrade`)
until `loupe ledger verify` has passed on them with this code: a verify that passes while
no hub runs records in `store_meta` the tip it verified (`verified_seq`, `verified_hash`)
and for which code (`verified_by`: every area's latest version), and `check_may_migrate`
asks for exactly that tip and that code. A new store has nothing pending; the demo remakes
its own books. Books newer than this code are refused outright (`refuse_newer`).

Pure functions on a sqlite3 connection; the callers hold the store's lock.
"""

from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path

from hub.ledger.schema import Schema, SchemaError

# Entries a second `loupe ledger verify` checks on one core (docs/performance.md: about
# 115,000): for the time the refusal announces, said a little long rather than short.
VERIFY_PER_S = 100_000


class UpgradeNotVerified(SchemaError):
    """Books of an earlier Loupe that this one has not verified yet."""


def code_versions(schemas: tuple[Schema, ...]) -> dict[str, int]:
    return {s.area: s.latest for s in schemas}


def fingerprint(schemas: tuple[Schema, ...]) -> str:
    """What this code's schema is, as `verified_by` keeps it: each area's latest version."""
    return json.dumps(code_versions(schemas), sort_keys=True, separators=(",", ":"))


def database_versions(conn: sqlite3.Connection) -> dict[str, int]:
    try:
        return dict(conn.execute("SELECT area, version FROM schema_versions").fetchall())
    except sqlite3.OperationalError:  # not a store's database (yet)
        return {}


def refuse_newer(conn: sqlite3.Connection, schemas: tuple[Schema, ...]) -> None:
    """A database from a newer Loupe: this code would not know its tables (a downgrade)."""
    versions = database_versions(conn)
    for s in schemas:
        if versions.get(s.area, 0) > s.latest:
            raise SchemaError(
                f"the database's {s.area} schema is version {versions[s.area]}, newer than"
                f" this hub knows ({s.latest}): upgrade Loupe before opening it")


def pending_upgrade(conn: sqlite3.Connection,
                    schemas: tuple[Schema, ...]) -> dict[str, tuple[int, int]]:
    """The areas this code would migrate, `{area: (the database's version, the code's)}`;
    empty for books this code made (or no store at all). Newer books are refused."""
    refuse_newer(conn, schemas)
    versions = database_versions(conn)
    if not versions:
        return {}
    return {s.area: (versions.get(s.area, 0), s.latest) for s in schemas
            if versions.get(s.area, 0) < s.latest}


def _tip(conn: sqlite3.Connection) -> tuple[int, str]:
    row = conn.execute("SELECT seq, hex(hash) FROM journal ORDER BY seq DESC LIMIT 1").fetchone()
    return (0, "") if row is None else (row[0], row[1].lower())


def _meta(conn: sqlite3.Connection) -> dict[str, str]:
    return dict(conn.execute("SELECT key, value FROM store_meta WHERE key IN"
                             " ('verified_seq', 'verified_hash', 'verified_by')").fetchall())


def record_verified(conn: sqlite3.Connection, schemas: tuple[Schema, ...], seq: int) -> bool:
    """After a verify that checked entries 1..`seq`: record that this code verified that tip,
    if it is still the tip (else nothing: the verdict is of books that have moved on).
    Returns whether it was recorded."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        tip_seq, tip_hash = _tip(conn)
        if tip_seq != seq:
            conn.execute("ROLLBACK")
            return False
        conn.executemany(
            "INSERT INTO store_meta (key, value) VALUES (?, ?)"
            " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [("verified_seq", str(seq)), ("verified_hash", tip_hash),
             ("verified_by", fingerprint(schemas))])
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return True


def verified_by_this_code(conn: sqlite3.Connection, schemas: tuple[Schema, ...]) -> bool:
    """Whether the books' tip, as it is now, was verified by this code."""
    meta = _meta(conn)
    tip_seq, tip_hash = _tip(conn)
    return (meta.get("verified_by") == fingerprint(schemas)
            and meta.get("verified_seq") == str(tip_seq)
            and meta.get("verified_hash") == tip_hash)


def check_may_migrate(conn: sqlite3.Connection, schemas: tuple[Schema, ...],
                      data_dir: Path) -> None:
    """Before `loupe run` migrates: books of an earlier Loupe must have been verified by this
    one, tip and all. Raises `UpgradeNotVerified`, saying what to run and about how long."""
    pending = pending_upgrade(conn, schemas)
    if not any(old for old, _ in pending.values()) or verified_by_this_code(conn, schemas):
        return  # none, or only new areas: their tables come empty, nothing kept is changed
    changed = [f"{area} {old} → {new}" for area, (old, new) in pending.items() if old]
    new = [area for area, (old, _) in pending.items() if not old]
    if new:
        changed.append(f"new: {', '.join(new)}" if len(new) <= 3 else f"{len(new)} new areas")
    entries = _tip(conn)[0]
    seconds = max(1, math.ceil(entries / VERIFY_PER_S))
    raise UpgradeNotVerified(
        f"Loupe was upgraded (schema {', '.join(changed)}): check the books before they are"
        f" migrated: run `loupe ledger verify --data-dir {data_dir}` (about {seconds} s for"
        f" {entries:,} entries), then start the hub again")


def refuse_unverified(db_path: Path, schemas: tuple[Schema, ...], data_dir: Path) -> None:
    """`check_may_migrate` on the database file, read-only (no database: nothing to check,
    the open that follows says so)."""
    if not db_path.exists():
        return
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        conn.execute("PRAGMA busy_timeout=10000")
        check_may_migrate(conn, schemas, data_dir)
    finally:
        conn.close()


def refuse_newer_file(db_path: Path, schemas: tuple[Schema, ...]) -> None:
    if not db_path.exists():
        return
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        refuse_newer(conn, schemas)
    finally:
        conn.close()


def record_verified_file(db_path: Path, schemas: tuple[Schema, ...], seq: int) -> bool:
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        conn.execute("PRAGMA busy_timeout=10000")
        return record_verified(conn, schemas, seq)
    finally:
        conn.close()
