"""The console's tables at HQ: its staff, the resolutions of conflicts and the hub version
each store last said (chain verdicts are hub/hq/ops.py's). An `HQPart` with no facts: nothing here
comes from a store's entries."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from typing import Any

from hub.ledger.ledger import utc_now
from hub.sync.hqstore import Db, HQPart, HQStorage

ROLES = ("owner", "merchandiser", "auditor")
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")
MIN_PASSWORD = 10
# scrypt at n=2**14, r=8: ~16 MB and a few tens of ms per sign-in (OWASP's minimum).
_N, _R, _P = 2 ** 14, 8, 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS console_staff (
    name TEXT PRIMARY KEY, role TEXT NOT NULL, secret_hash TEXT NOT NULL,
    created_at TEXT NOT NULL, disabled INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS conflict_resolutions (
    conflict_id INTEGER PRIMARY KEY, resolution TEXT NOT NULL, note TEXT NOT NULL,
    resolved_by TEXT NOT NULL, resolved_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS console_hub_versions (
    store_id TEXT PRIMARY KEY, hub_version TEXT NOT NULL, said_at TEXT NOT NULL
);
"""

PART = HQPart("console", schema=SCHEMA)

# What an owner may record of a conflict (a few words, then a note in her own).
RESOLUTIONS = ("corrected", "accepted", "written_off", "no_action")


class StaffError(ValueError):
    """A console staff change that cannot be made: the sentence says why."""


def hash_secret(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def secret_matches(stored: str, password: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        got = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r),
                             p=int(p), dklen=len(digest) // 2)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got.hex(), digest)


def add_staff(storage: HQStorage, name: str, role: str, password: str) -> None:
    if not NAME.fullmatch(name or ""):
        raise StaffError(f"{name!r} is not a staff name: letters, digits, '.', '-' or '_',"
                         " at most 40")
    if role not in ROLES:
        raise StaffError(f"{role!r} is not a console role: one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise StaffError(f"the password must have at least {MIN_PASSWORD} characters")
    with storage.transaction() as db:
        if db.query("SELECT 1 AS x FROM console_staff WHERE name = ?", (name,)):
            raise StaffError(f"there is already a console staff member called {name!r}")
        db.execute("INSERT INTO console_staff (name, role, secret_hash, created_at, disabled)"
                   " VALUES (?,?,?,?,0)", (name, role, hash_secret(password), utc_now()))


def list_staff(storage: HQStorage) -> list[dict[str, Any]]:
    return storage.query("SELECT name, role, created_at, disabled FROM console_staff"
                         " ORDER BY name")


def disable_staff(storage: HQStorage, name: str) -> None:
    if storage.execute("UPDATE console_staff SET disabled = 1 WHERE name = ?", (name,)) != 1:
        raise StaffError(f"there is no console staff member called {name!r}")


def sign_in(storage: HQStorage, name: str, password: str) -> dict[str, Any] | None:
    """The staff member's row if the password is hers and she is not disabled."""
    rows = storage.query("SELECT name, role, secret_hash, disabled FROM console_staff"
                         " WHERE name = ?", (name,))
    if not rows:
        hash_secret(password)  # as slow as a real check: no telling names apart by time
        return None
    row = rows[0]
    if not secret_matches(row["secret_hash"], password) or row["disabled"]:
        return None
    return {"name": row["name"], "role": row["role"]}


def still_allowed(storage: HQStorage, name: str) -> bool:
    rows = storage.query("SELECT disabled FROM console_staff WHERE name = ?", (name,))
    return bool(rows) and not rows[0]["disabled"]


def record_hub_version(db: Db | HQStorage, store_id: str, version: Any) -> None:
    """What hub version a store's hello said (an old hub says none: nothing recorded)."""
    if not isinstance(version, str) or not 0 < len(version) <= 40:
        return
    db.execute("INSERT INTO console_hub_versions (store_id, hub_version, said_at) VALUES"
               " (?,?,?) ON CONFLICT(store_id) DO UPDATE SET hub_version ="
               " excluded.hub_version, said_at = excluded.said_at",
               (store_id, version, utc_now()))


def resolve_conflict(storage: HQStorage, conflict_id: int, resolution: str, note: str,
                     actor: str) -> None:
    if resolution not in RESOLUTIONS:
        raise StaffError("choose one of the resolutions offered")
    note = note.strip()
    if len(note) > 500:
        raise StaffError("the note is longer than 500 characters")
    with storage.transaction() as db:
        if not db.query("SELECT id FROM conflicts WHERE id = ?", (conflict_id,)):
            raise StaffError("there is no such conflict")
        if db.query("SELECT 1 AS x FROM conflict_resolutions WHERE conflict_id = ?",
                    (conflict_id,)):
            raise StaffError("this conflict is already resolved")
        db.execute("INSERT INTO conflict_resolutions (conflict_id, resolution, note,"
                   " resolved_by, resolved_at) VALUES (?,?,?,?,?)",
                   (conflict_id, resolution, note, actor, utc_now()))
