"""Database schema and forward migrations, per area (table `schema_versions`).

Ledger tables (`store_meta`, `keys`, `journal`) are the truth; projection tables are derived
and can be cleared and rebuilt from the journal at any time (`loupe ledger rebuild`). Each
area's own tables and migrations live with the area (`hub/core/schema.py`, ...).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA secure_delete=ON",
    "PRAGMA foreign_keys=OFF",
    "PRAGMA busy_timeout=10000",
)

_LEDGER_V1 = """
CREATE TABLE store_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE keys (
    key_id        TEXT PRIMARY KEY,
    version       INTEGER NOT NULL,
    wrapped       BLOB,               -- NULL once destroyed (crypto-shredding)
    created_seq   INTEGER,
    destroyed_seq INTEGER
);

CREATE TABLE journal (
    seq         INTEGER PRIMARY KEY,
    ts          TEXT NOT NULL,
    kind        TEXT NOT NULL,
    actor       TEXT NOT NULL,
    subject     TEXT NOT NULL,
    key_id      TEXT NOT NULL,
    key_version INTEGER NOT NULL,
    payload     BLOB NOT NULL,
    prev_hash   BLOB NOT NULL,
    hash        BLOB NOT NULL,
    signature   BLOB NOT NULL
);
CREATE INDEX journal_subject ON journal(subject, seq);

CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal
BEGIN SELECT RAISE(ABORT, 'the journal is append-only: entries cannot be changed'); END;
CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
BEGIN SELECT RAISE(ABORT, 'the journal is append-only: entries cannot be deleted'); END;
"""

# v2: a key id holds several versions (rotation, `loupe keys rotate`): the key is (key_id,
# version). The rows are copied as they are, so any older database keeps every key.
_LEDGER_V2 = """
CREATE TABLE keys_v2 (
    key_id        TEXT NOT NULL,
    version       INTEGER NOT NULL,
    wrapped       BLOB,               -- NULL once destroyed: every version of the key id
    created_seq   INTEGER,
    destroyed_seq INTEGER,
    PRIMARY KEY (key_id, version)
);
INSERT INTO keys_v2 (key_id, version, wrapped, created_seq, destroyed_seq)
    SELECT key_id, version, wrapped, created_seq, destroyed_seq FROM keys;
DROP TABLE keys;
ALTER TABLE keys_v2 RENAME TO keys;
"""


@dataclass(frozen=True)
class Migration:
    version: int
    sql: str
    rebuild: bool = False  # projections must be rebuilt from the journal after this step


@dataclass(frozen=True)
class Schema:
    """The tables of one area (ledger, core, web, counts, sync) and their migrations.

    Each area keeps its own version in `schema_versions`, so layers add tables without
    touching each other's migrations. `projections` are the area's derived tables: a
    rebuild clears and refills them; the area's other tables are state kept as is.
    """

    area: str
    migrations: tuple[Migration, ...]
    projections: tuple[str, ...] = ()

    @property
    def latest(self) -> int:
        return self.migrations[-1].version if self.migrations else 0


LEDGER = Schema("ledger", (Migration(1, _LEDGER_V1), Migration(2, _LEDGER_V2)))


class SchemaError(Exception):
    pass


def _versions(conn: sqlite3.Connection) -> dict[str, int]:
    conn.execute("CREATE TABLE IF NOT EXISTS schema_versions"
                 " (area TEXT PRIMARY KEY, version INTEGER NOT NULL)")
    return dict(conn.execute("SELECT area, version FROM schema_versions").fetchall())


def schema_version(conn: sqlite3.Connection, area: str) -> int:
    return _versions(conn).get(area, 0)


def migrate(conn: sqlite3.Connection, schemas: tuple[Schema, ...],
            upto: dict[str, int] | None = None) -> bool:
    """Apply pending migrations of every area; return whether projections need a rebuild.

    `upto` caps an area's version (tests use it to make a database of an older schema).
    """
    versions = _versions(conn)
    needs_rebuild = False
    for schema in schemas:
        current = versions.get(schema.area, 0)
        if current > schema.latest:
            raise SchemaError(
                f"the database's {schema.area} schema is version {current}, newer than this"
                f" hub knows ({schema.latest}): upgrade Loupe before opening it")
        limit = (upto or {}).get(schema.area, schema.latest)
        for migration in schema.migrations:
            if not current < migration.version <= limit:
                continue
            conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in _statements(migration.sql):
                    conn.execute(statement)
                conn.execute("INSERT INTO schema_versions (area, version) VALUES (?, ?)"
                             " ON CONFLICT(area) DO UPDATE SET version = excluded.version",
                             (schema.area, migration.version))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            # Books that existed before (any area recorded), even for an area new to them:
            # its tables derive from past entries. A new store has nothing to rebuild.
            needs_rebuild = needs_rebuild or (migration.rebuild and bool(versions))
            current = migration.version
    return needs_rebuild


def _statements(sql: str) -> list[str]:
    """Split a migration script into statements, keeping trigger bodies whole."""
    out, buf = [], []
    for line in sql.splitlines():
        if not line.split("--", 1)[0].strip() and not buf:
            continue
        buf.append(line)
        text = "\n".join(buf)
        if sqlite3.complete_statement(text):
            out.append(text.strip())
            buf = []
    if "".join(buf).strip():
        out.append("\n".join(buf))
    return out
