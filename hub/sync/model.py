"""The sync area of the books: what a hub keeps of its link with HQ.

- `sync_state`: the enrollment (HQ's public keys, the broker, where the TLS files are) and
  the cursor (`acked_seq`, the highest contiguous seq HQ acknowledged: HQ's word, never ours);
- `sync_hq_keys`: the store's data keys sealed to HQ's box key, kept so that a resend
  carries the very bytes HQ already opened, and dropped when a client's key is destroyed;
- `sync_refusals`: what came in and was refused (unsigned, forged, replayed...), the last
  thousand, for the sync screen.

All three are state, not projections: a rebuild keeps them. Only this module touches them.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from hub.core.projector import Handler
from hub.ledger.ledger import Ledger, Tx, utc_now
from hub.ledger.schema import Migration, Schema
from hub.sync.settings import TlsFiles
from hub.sync.wire import WrappedKey

AREA = "sync"
REFUSALS_KEPT = 1000

# Stores made before the sync area got these tables from the hq area's v1, with the same
# names and columns: IF NOT EXISTS adopts them as they are, rows and all.
_SYNC_V1 = """
CREATE TABLE IF NOT EXISTS sync_state (
    key   TEXT PRIMARY KEY,            -- enrollment, acked_seq
    value TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS sync_hq_keys (
    key_id  TEXT PRIMARY KEY,          -- data keys sealed to HQ's X25519 key (HQ alone opens)
    version INTEGER NOT NULL,
    wrapped BLOB NOT NULL
);

CREATE TABLE IF NOT EXISTS sync_refusals (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    at     TEXT NOT NULL,
    source TEXT NOT NULL,              -- the topic or command it came from
    reason TEXT NOT NULL
);
"""

# v2: a data key rotates (`loupe keys rotate`): one sealed copy per (key id, version).
_SYNC_V2 = """
CREATE TABLE sync_hq_keys_v2 (
    key_id  TEXT NOT NULL,
    version INTEGER NOT NULL,
    wrapped BLOB NOT NULL,
    PRIMARY KEY (key_id, version)
);
INSERT INTO sync_hq_keys_v2 (key_id, version, wrapped)
    SELECT key_id, version, wrapped FROM sync_hq_keys;
DROP TABLE sync_hq_keys;
ALTER TABLE sync_hq_keys_v2 RENAME TO sync_hq_keys;
"""

SCHEMA = Schema(AREA, (Migration(1, _SYNC_V1), Migration(2, _SYNC_V2)))
PROJECTIONS: dict[str, Handler] = {}  # no entries of its own: sync is state beside the journal


@dataclass(frozen=True)
class Enrollment:
    """What a hub keeps of its bundle (in `sync_state`; TLS files in <data>/sync/)."""

    chain_id: str
    store_id: str
    hq_signing_key: str
    hq_box_key: str
    broker: str
    secret: str
    tls_dir: str | None

    def tls(self) -> TlsFiles | None:
        if self.tls_dir is None:
            return None
        d = Path(self.tls_dir)
        return TlsFiles(d / "ca.pem", d / "client.pem", d / "client.key")

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Enrollment:
        return cls(**json.loads(text))


# -- in a transaction ------------------------------------------------------------------------

def enrollment_in(tx: Tx) -> Enrollment | None:
    row = tx.one("SELECT value FROM sync_state WHERE key = 'enrollment'")
    return None if row is None else Enrollment.from_json(row["value"])


def record_enrollment_in(tx: Tx, enrollment: Enrollment) -> None:
    tx.execute("INSERT INTO sync_state (key, value) VALUES ('enrollment', ?)"
               " ON CONFLICT(key) DO UPDATE SET value = excluded.value", (enrollment.to_json(),))


def record_refusal_in(tx: Tx, source: str, reason: str) -> None:
    tx.execute("INSERT INTO sync_refusals (at, source, reason) VALUES (?,?,?)",
               (utc_now(), source, reason))
    tx.execute("DELETE FROM sync_refusals WHERE id <= (SELECT MAX(id) FROM sync_refusals) - ?",
               (REFUSALS_KEPT,))


# -- the service -----------------------------------------------------------------------------

class SyncBook:
    """The sync area's reads and writes, for the replicator, enrollment and the sync screen."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    async def enrollment(self) -> Enrollment | None:
        row = await self.ledger.fetch_one("SELECT value FROM sync_state WHERE key = 'enrollment'")
        if row is None:
            return None
        enrollment = Enrollment.from_json(row["value"])
        if enrollment.tls_dir is not None:
            # The TLS files are always `<data>/sync/`; the data dir may have moved since
            # (a backup restored on a new box, into another path).
            enrollment = replace(enrollment, tls_dir=str(self.ledger.db_path.parent / "sync"))
        return enrollment

    async def cursor(self) -> int:
        """The highest contiguous seq HQ acknowledged (0 before its first ack)."""
        row = await self.ledger.fetch_one("SELECT value FROM sync_state WHERE key = 'acked_seq'")
        return int(row["value"]) if row else 0

    async def save_cursor(self, acked: int, hq_clock: dict[str, Any] | None = None) -> None:
        """Keep HQ's ack; the cursor never moves back (a late, older save is a no-op). With
        it, how far this box's clock was from HQ's (`hq_clock`, for `loupe doctor`)."""
        def command(tx: Tx) -> None:
            tx.execute(
                "INSERT INTO sync_state (key, value) VALUES ('acked_seq', ?) ON CONFLICT(key)"
                " DO UPDATE SET value = excluded.value WHERE CAST(value AS INTEGER) < ?",
                (str(acked), acked))
            if hq_clock is not None:
                tx.execute("INSERT INTO sync_state (key, value) VALUES ('hq_clock', ?)"
                           " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                           (json.dumps(hq_clock),))

        await self.ledger.transact(command)

    async def sealed_keys(self) -> dict[tuple[str, int], WrappedKey]:
        """The sealed copies, by (key id, version)."""
        rows = await self.ledger.fetch("SELECT key_id, version, wrapped FROM sync_hq_keys")
        return {(r["key_id"], r["version"]): WrappedKey(r["key_id"], r["version"],
                                                        bytes(r["wrapped"])) for r in rows}

    async def keep_sealed_keys(self, new: list[WrappedKey], gone: list[str]) -> None:
        """Keep newly sealed keys; drop those of destroyed keys (a forgotten client's),
        every version."""
        def command(tx: Tx) -> None:
            tx.conn.executemany("INSERT OR IGNORE INTO sync_hq_keys (key_id, version, wrapped)"
                                " VALUES (?,?,?)", [(k.key_id, k.version, k.wrapped)
                                                    for k in new])
            tx.conn.executemany("DELETE FROM sync_hq_keys WHERE key_id = ?",
                                [(k,) for k in gone])
        await self.ledger.transact(command)

    async def refuse(self, source: str, reason: str) -> None:
        await self.ledger.transact(lambda tx: record_refusal_in(tx, source, reason))

    async def refusals(self, limit: int = 200) -> list[dict[str, Any]]:
        rows = await self.ledger.fetch("SELECT * FROM sync_refusals ORDER BY id DESC LIMIT ?",
                                       (limit,))
        return [dict(r) for r in rows]
