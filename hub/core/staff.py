"""Staff: who may sign in at the hub, with which role, and their PIN's slow salted hash.

A staff member's name lives only in the (encrypted) journal payload; the `staff` projection
holds the id, role, status and the PIN's scrypt hash. PIN checks are CPU-heavy on purpose:
callers run `verify_pin` off the event loop (`Staff.check_pin` does).

This module also carries the "staff" area's schema: staff, register carts and manager
approvals (see `hub/core/carts.py` and `hub/core/approvals.py`).
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import hmac
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hub.core import fields, roles
from hub.core.errors import Invalid, NotFound, Refused
from hub.core.pins import Lockout
from hub.core.roles import Roles
from hub.ledger.journal import ENTRY_COLUMNS, Entry
from hub.ledger.ledger import Ledger, Tx
from hub.ledger.schema import Migration, Schema

_STAFF_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")
_PIN = re.compile(r"^\d{4,12}$")
# scrypt cost: ~50 ms and 16 MiB on a Pi 5, enough to make an offline guess of a 6-digit PIN
# cost hours rather than seconds, while a sign-in stays instant to a person.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1

_V1 = """
CREATE TABLE staff (
    staff_id    TEXT PRIMARY KEY,
    role        TEXT NOT NULL,            -- associate | manager | admin
    status      TEXT NOT NULL,            -- active | left
    pin_hash    TEXT,                     -- scrypt$N$r$p$salt$hash
    profile_seq INTEGER NOT NULL,         -- the entry holding the (encrypted) name
    updated_seq INTEGER NOT NULL
);

-- State, not a projection: a register's cart lives here between browser crashes and
-- restarts; it is written through the ledger's writer and never journaled (the sale is).
CREATE TABLE carts (
    register_id TEXT PRIMARY KEY,
    state       TEXT NOT NULL,            -- JSON: lines, client id, discount, tenders
    version     INTEGER NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE approvals (
    approval_id  TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,           -- discount | price_change | void | return | no_sale
    digest       TEXT NOT NULL,           -- SHA-256 of the exact action approved
    status       TEXT NOT NULL,           -- granted | refused | used
    register_id  TEXT,
    manager      TEXT,
    requested_by TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    ts           TEXT NOT NULL,
    used_seq     INTEGER
);
CREATE INDEX approvals_seq ON approvals(seq);
"""

# v2: roles as named sets of permissions, changed by the store (`hub/core/roles.py`).
SCHEMA = Schema("staff", (Migration(1, _V1), Migration(2, roles.SCHEMA_SQL)),
                projections=("staff", "approvals", "roles"))


def hash_pin(pin: str, salt: bytes | None = None) -> str:
    salt = salt or os.urandom(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P,
                            maxmem=64 * 1024 * 1024, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


@functools.cache
def _dummy_hash() -> str:
    """Compared against when the staff id is unknown, so a wrong id costs the same time as a
    wrong PIN; made at the first check, not at import (a scrypt: 70 ms of every start)."""
    return hash_pin("000000", b"loupe-dummy-salt")


def verify_pin(pin: str, stored: str | None) -> bool:
    """Constant-time check of a PIN against its stored hash (slow: run it off the loop)."""
    try:
        _, n, r, p, salt, digest = (stored or _dummy_hash()).split("$")
        got = hashlib.scrypt(pin.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r),
                             p=int(p), maxmem=64 * 1024 * 1024, dklen=32)
    except (ValueError, TypeError):
        return False
    return stored is not None and hmac.compare_digest(got, base64.b64decode(digest))


def check_pin_format(pin: Any, field: str = "pin") -> str:
    if not isinstance(pin, str) or not _PIN.match(pin):
        raise Invalid("a PIN is 4 to 12 digits", field)
    return pin


def check_staff_id(staff_id: Any, field: str = "staff_id") -> str:
    if not isinstance(staff_id, str) or not _STAFF_ID.match(staff_id):
        raise Invalid("a staff id is 1 to 40 letters, digits, - or _", field)
    return staff_id


@dataclass(frozen=True)
class Member:
    staff_id: str
    name: str
    role: str
    status: str


# -- projections ------------------------------------------------------------------------------

def _on_enrolled(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute("INSERT INTO staff (staff_id, role, status, pin_hash, profile_seq, updated_seq)"
               " VALUES (?, ?, 'active', ?, ?, ?)",
               (p["staff_id"], p["role"], p["pin_hash"], entry.seq, entry.seq))


def _on_changed(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    sets, params = ["updated_seq = ?"], [entry.seq]
    for col in ("role", "status", "pin_hash"):
        if col in p:
            sets.append(f"{col} = ?")
            params.append(p[col])
    if "name" in p:
        sets.append("profile_seq = ?")
        params.append(entry.seq)
    tx.execute(f"UPDATE staff SET {', '.join(sets)} WHERE staff_id = ?", (*params, p["staff_id"]))


PROJECTIONS = {
    "staff.enrolled": _on_enrolled,
    "staff.changed": _on_changed,
}


class Staff:
    """The roster. Names are decrypted once at load and kept in memory only."""

    def __init__(self, ledger: Ledger, roles: Roles | None = None,
                 lockout: Lockout | None = None) -> None:
        self.ledger = ledger
        self.roles = roles or Roles(ledger)
        self.lockout = lockout or Lockout()  # one per staff id, wherever a PIN is typed
        self._members: dict[str, Member] = {}

    async def load(self) -> int:
        self._members.clear()
        rows = await self.ledger.fetch(
            f"SELECT s.staff_id, s.role, s.status, {', '.join('j.' + c.strip() for c in ENTRY_COLUMNS.split(','))}"
            " FROM staff s JOIN journal j ON j.seq = s.profile_seq")
        for row in rows:
            payload = self.ledger.decrypt(Entry.from_row(tuple(row)[3:])) or {}
            self._members[row["staff_id"]] = Member(row["staff_id"], payload.get("name", ""),
                                                    row["role"], row["status"])
        return len(self._members)

    def get(self, staff_id: str) -> Member | None:
        return self._members.get(staff_id)

    def may(self, actor: str) -> Callable[[str], bool]:
        """What `actor`'s role lets them do (a stage machine's moves ask it); the hub's own
        actors (demo data, a command) may do all."""
        member = self._members.get(actor)
        if member is None:
            return lambda permission: True
        return lambda permission: self.roles.allows(member.role, permission)

    def all(self) -> list[Member]:
        order = self.roles.names()
        return sorted(self._members.values(), key=lambda m: (
            order.index(m.role) if m.role in order else len(order), m.staff_id))

    async def enroll(self, staff_id: Any, name: Any, role: Any, pin: Any, *,
                     actor: str) -> Member:
        staff_id = check_staff_id(staff_id)
        name = fields.text(name, "name", required=True, max_len=100)
        self.roles.check_role(role)
        pin_hash = await asyncio.to_thread(hash_pin, check_pin_format(pin))
        member = Member(staff_id, name, role, "active")

        def command(tx: Tx) -> None:
            if tx.one("SELECT 1 FROM staff WHERE staff_id = ?", (staff_id,)):
                raise Refused("duplicate", "staff id “{staff_id}” is taken", staff_id=staff_id,
                              field="staff_id")
            tx.append("staff.enrolled", f"staff:{staff_id}",
                      {"staff_id": staff_id, "name": member.name, "role": role,
                       "pin_hash": pin_hash}, actor=actor)
            tx.after_commit.append(lambda: self._members.__setitem__(staff_id, member))

        await self.ledger.transact(command)
        return member

    async def change(self, staff_id: str, *, actor: str, pin: Any = None, role: Any = None,
                     status: Any = None) -> Member:
        current = self._members.get(staff_id)
        if current is None:
            raise NotFound("no staff member “{staff_id}”", staff_id=staff_id)
        change: dict[str, Any] = {"staff_id": staff_id}
        if pin is not None:
            change["pin_hash"] = await asyncio.to_thread(hash_pin, check_pin_format(pin))
        if role is not None:
            change["role"] = self.roles.check_role(role)
        if status is not None:
            change["status"] = fields.choice(status, "status", ("active", "left"),
                                             vocabulary="staff_status", lower=False)
        if len(change) == 1:
            raise Invalid("there is nothing to change")
        updated = Member(staff_id, current.name, change.get("role", current.role),
                         change.get("status", current.status))
        await self.ledger.transact(lambda tx: (
            tx.append("staff.changed", f"staff:{staff_id}", change, actor=actor),
            tx.after_commit.append(lambda: self._members.__setitem__(staff_id, updated))))
        return updated

    async def verify(self, staff_id: str, pin: str, *, via: str) -> Member | None:
        """`check_pin` behind the lockout (sign-in, approvals): the member, None for a wrong
        PIN, or `LockedOut` while the id is locked (nothing checked, only counted)."""
        return await self.lockout.check_pin(self, staff_id, pin, via=via)

    async def check_pin(self, staff_id: str, pin: str) -> Member | None:
        """The active member whose PIN this is, or None. Slow by design, off the loop."""
        row = await self.ledger.fetch_one(
            "SELECT pin_hash, status FROM staff WHERE staff_id = ?", (staff_id,))
        stored = row["pin_hash"] if row and row["status"] == "active" else None
        ok = await asyncio.to_thread(verify_pin, pin, stored)
        return self._members.get(staff_id) if ok else None

    async def record_lockout(self, staff_id: str, failures: int, locked_s: float, *,
                             refused: int = 0, via: str = "sign_in") -> None:
        """A refused PIN streak goes in the books (the id tried, never the PINs): `refused`
        guesses were turned away unchecked while locked, at sign-in or approval (`via`)."""
        await self.ledger.transact(lambda tx: tx.append(
            "staff.lockout", f"staff:{staff_id}",
            {"staff_id": staff_id, "failures": failures, "locked_s": round(locked_s),
             "refused": refused, "via": via}, actor="hub"))
