"""The client book: profiles encrypted under each client's own key.

Nothing personal reaches the disk in clear. The projection holds only an opaque client id,
a status and a pointer to the journal entry with the current profile; exact look-up by phone
or e-mail goes through HMAC blind indexes, and name search through an in-memory index built
at start. Forgetting a client destroys their key: their entries stay in the chain, unreadable.
"""

from __future__ import annotations

import base64
import os
import re
import sys
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from hub.core import fields
from hub.core.errors import Invalid, NotFound, Refused
from hub.core.fields import Form
from hub.ledger.journal import Entry
from hub.ledger.keys import normalise_email, normalise_phone
from hub.ledger.ledger import Ledger, Tx

PROFILE_FIELDS = ("title", "first_name", "last_name", "emails", "phones", "addresses",
                  "ring_sizes", "preferences", "dates", "partner_id", "notes", "consent",
                  "language", "tier")
DATE_KINDS = ("birthday", "anniversary", "engagement", "wedding", "other")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CLIENT_ID = re.compile(r"^C[A-Z2-7]{10}$")


def new_client_id() -> str:
    return "C" + base64.b32encode(os.urandom(7)).decode()[:10]


def validate_profile(raw: Any) -> dict[str, Any]:
    """A whole client profile, every field checked at once (all problems together)."""
    f = Form(raw, allowed=PROFILE_FIELDS)
    p: dict[str, Any] = {}
    for field in ("title", "first_name", "last_name", "language", "tier"):
        p[field] = f.text(field, max_len=100)
    if not (p["first_name"] or p["last_name"]) and not any(
            pr.field in ("first_name", "last_name") for pr in f.problems):
        f.problem("last_name", "a client needs a first or last name")
    p["emails"] = [normalise_email(e) for e in f.texts("emails")]
    for i, email in enumerate(p["emails"]):
        if not _EMAIL.match(email):
            f.problem(f"emails[{i}]", "“{value}” is not an e-mail address", value=email)
    p["phones"] = f.texts("phones", max_len=40)
    for i, phone in enumerate(p["phones"]):
        if len(normalise_phone(phone).lstrip("+")) < 6:
            f.problem(f"phones[{i}]", "“{value}” is not a phone number", value=phone)
    addresses = f.get("addresses") or []
    p["addresses"] = []
    if not isinstance(addresses, list) or len(addresses) > 5:
        f.problem("addresses", "this must be a list of at most {max} addresses", max=5)
        addresses = []
    for i, addr in enumerate(addresses):
        allowed = ("label", "line1", "line2", "city", "postcode", "region", "country")
        a = f.check(Form, addr, f"addresses[{i}]", allowed=allowed)
        if a is None:
            continue
        clean = {k: a.text(k) for k in sorted(allowed)}
        f.problems += a.problems
        p["addresses"].append({k: v for k, v in clean.items() if v})
    sizes = f.get("ring_sizes") or {}
    p["ring_sizes"] = {}
    if not isinstance(sizes, dict) or len(sizes) > 20:
        f.problem("ring_sizes", "this maps a finger to a size, e.g. left ring: 52")
        sizes = {}
    for finger, size in sizes.items():
        finger = f.check(fields.text, finger, "ring_sizes", max_len=40)
        size = f.check(fields.text, size, f"ring_sizes.{finger}", max_len=10)
        if finger and size:
            p["ring_sizes"][finger] = size
    prefs = f.get("preferences") or {}
    p["preferences"] = {}
    if not isinstance(prefs, dict) or len(prefs) > 20:
        f.problem("preferences", "this maps a topic to a list, e.g. designers: ...")
        prefs = {}
    for topic, values in prefs.items():
        topic = f.check(fields.text, topic, "preferences", max_len=40)
        chosen = f.check(fields.texts, values, f"preferences.{topic}", max_items=30,
                         max_len=100)
        if topic:
            p["preferences"][topic] = chosen or []
    dates = f.get("dates") or {}
    p["dates"] = {}
    if not isinstance(dates, dict):
        f.problem("dates", "this maps a kind of date (birthday, anniversary...) to a date")
        dates = {}
    for kind, value in dates.items():
        if kind not in DATE_KINDS:
            f.problem("dates", "“{kind}” is not a kind of date this book keeps", kind=str(kind))
            continue
        chosen = f.check(fields.day, value, f"dates.{kind}", year_optional=True)
        if chosen:
            p["dates"][kind] = chosen
    p["partner_id"] = f.identifier("partner_id", required=False, pattern=_CLIENT_ID,
                                   what="a client id")
    p["notes"] = f.text("notes", max_len=5000, multiline=True)
    consent = f.get("consent") or {}
    if not isinstance(consent, dict) or not all(isinstance(v, bool) for v in consent.values()):
        f.problem("consent", "this maps a purpose to yes or no")
        consent = {}
    p["consent"] = {str(k): v for k, v in consent.items()}
    f.done()
    return p


@dataclass(frozen=True)
class Milestone:
    """A client's next date to remember: its kind (birthday, anniversary...), the day it
    falls on, in how many days, and how many years it marks when the year is known."""

    kind: str
    day: date
    days: int
    years: int | None


def next_milestone(dates: Mapping[str, str], today: date) -> Milestone | None:
    """The soonest of a profile's dates from `today` on (today itself included). A date
    kept as --MM-DD has no year to count; 29 February falls on the 28th in other years."""
    best: Milestone | None = None
    for kind, kept in dates.items():
        try:
            year = None if kept.startswith("--") else int(kept[:4])
            month, day_ = int(kept[-5:-3]), int(kept[-2:])
        except (ValueError, AttributeError):
            continue  # the profile's validation keeps only days; an old one may hold less
        for when in (today.year, today.year + 1):
            try:
                on = date(when, month, day_)
            except ValueError:  # 29 February in a year without one
                on = date(when, month, 28)
            if on >= today:
                break
        years = on.year - year if year is not None and on.year > year else None
        found = Milestone(kind, on, (on - today).days, years)
        if best is None or (found.day, found.kind) < (best.day, best.kind):
            best = found
    return best


def display_name(profile: dict[str, Any]) -> str:
    return " ".join(x for x in (profile.get("first_name"), profile.get("last_name")) if x)


def _fold(text: str) -> str:
    """Case- and accent-insensitive form for name search (Zoë -> zoe)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


class NameIndex:
    """What the client book keeps in memory of each active client, never persisted: the
    name, for search, and the dates to remember (birthday, anniversary...), for the day's
    follow-ups. Built by the one pass that decrypts the profiles at start."""

    def __init__(self) -> None:
        self._names: dict[str, tuple[str, tuple[str, ...]]] = {}
        self._dates: dict[str, tuple[tuple[str, str], ...]] = {}  # (kind, day) pairs

    def put(self, client_id: str, profile: dict[str, Any]) -> None:
        name = display_name(profile)
        tokens = tuple(_fold(t) for t in re.split(r"[\s\-']+", name) if t)
        self._names[client_id] = (name, tokens)
        dates = profile.get("dates") or {}
        if dates:  # pairs of an interned kind: half the memory of a dict per client
            self._dates[client_id] = tuple((sys.intern(k), v) for k, v in dates.items())
        else:
            self._dates.pop(client_id, None)

    def drop(self, client_id: str) -> None:
        self._names.pop(client_id, None)
        self._dates.pop(client_id, None)

    def name_of(self, client_id: str) -> str | None:
        entry = self._names.get(client_id)
        return entry[0] if entry else None

    def dates_of(self, client_id: str) -> tuple[tuple[str, str], ...]:
        return self._dates.get(client_id, ())

    def dated(self) -> list[tuple[str, tuple[tuple[str, str], ...]]]:
        """Every active client with dates kept, and those dates as (kind, day) pairs."""
        return list(self._dates.items())

    def search(self, query: str, limit: int = 20) -> list[tuple[str, str]]:
        words = [_fold(w) for w in re.split(r"[\s\-']+", query) if w]
        if not words:
            return []
        hits = [(name, cid) for cid, (name, tokens) in self._names.items()
                if all(any(t.startswith(w) for t in tokens) for w in words)]
        hits.sort(key=lambda h: _fold(h[0]))
        return [(cid, name) for name, cid in hits[:limit]]

    def __len__(self) -> int:
        return len(self._names)


# -- projections ------------------------------------------------------------------------------

def _index_contacts(tx: Tx, client_id: str, profile: dict[str, Any]) -> None:
    tx.execute("DELETE FROM client_lookup WHERE client_id = ?", (client_id,))
    blinds = {tx.keyring.blind("email", e) for e in profile.get("emails", [])}
    blinds |= {tx.keyring.blind("phone", normalise_phone(p)) for p in profile.get("phones", [])}
    tx.conn.executemany("INSERT OR IGNORE INTO client_lookup (blind, client_id) VALUES (?, ?)",
                        [(b, client_id) for b in sorted(blinds)])


def _client_id(entry: Entry) -> str:
    return entry.subject.split(":", 1)[1]


def _on_profile(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    client_id = _client_id(entry)
    if p is None:
        # The client's key was destroyed: a later client.forgotten entry settles the row.
        return
    tx.execute(
        "INSERT INTO clients (client_id, status, profile_seq, created_seq, updated_seq)"
        " VALUES (?, 'active', ?, ?, ?) ON CONFLICT(client_id) DO UPDATE SET"
        " profile_seq = excluded.profile_seq, updated_seq = excluded.updated_seq",
        (client_id, entry.seq, entry.seq, entry.seq))
    _index_contacts(tx, client_id, p["profile"])


def _on_forgotten(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    client_id = _client_id(entry)
    tx.execute("DELETE FROM client_lookup WHERE client_id = ?", (client_id,))
    tx.execute(
        "INSERT INTO clients (client_id, status, profile_seq, created_seq, updated_seq)"
        " VALUES (?, 'forgotten', NULL, ?, ?) ON CONFLICT(client_id) DO UPDATE SET"
        " status = 'forgotten', profile_seq = NULL, updated_seq = excluded.updated_seq",
        (client_id, (p or {}).get("created_seq", entry.seq), entry.seq))


PROJECTIONS = {
    "client.created": _on_profile,
    "client.updated": _on_profile,
    "client.forgotten": _on_forgotten,
}


class Clients:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.names = NameIndex()

    async def load_index(self) -> int:
        """Decrypt every active profile once at start to build the name index."""
        for row in await self.ledger.fetch(
                "SELECT client_id, profile_seq FROM clients WHERE status = 'active'"):
            profile = await self._profile_at(row["profile_seq"])
            if profile is not None:
                self.names.put(row["client_id"], profile)
        return len(self.names)

    async def _profile_at(self, seq: int) -> dict[str, Any] | None:
        payload = await self.ledger.payload_at(seq)
        return None if payload is None else payload["profile"]

    def _check_partner(self, tx: Tx, profile: dict[str, Any]) -> None:
        partner = profile.get("partner_id")
        if partner and not tx.one("SELECT 1 FROM clients WHERE client_id = ? AND"
                                  " status = 'active'", (partner,)):
            raise Invalid("no client {client_id}", "partner_id", client_id=partner)

    def create_in(self, tx: Tx, profile: dict[str, Any], actor: str,
                  client_id: str | None = None) -> str:
        client_id = client_id or new_client_id()
        self._check_partner(tx, profile)
        key_id = f"client:{client_id}"
        tx.create_key(key_id)
        tx.append("client.created", key_id, {"profile": profile}, actor=actor, key_id=key_id)
        tx.after_commit.append(lambda: self.names.put(client_id, profile))
        return client_id

    async def create(self, raw: dict[str, Any], actor: str) -> dict[str, Any]:
        profile = validate_profile(raw)
        client_id = await self.ledger.transact(lambda tx: self.create_in(tx, profile, actor))
        return {"client_id": client_id, "status": "active", "profile": profile}

    async def create_many(self, raws: list[dict[str, Any]], actor: str) -> list[str]:
        profiles = [validate_profile(r) for r in raws]
        return await self.ledger.transact(
            lambda tx: [self.create_in(tx, p, actor) for p in profiles])

    def update_in(self, tx: Tx, client_id: str, profile: dict[str, Any], actor: str) -> Entry:
        """Record a client's whole new (validated) profile inside a transaction."""
        row = tx.one("SELECT status FROM clients WHERE client_id = ?", (client_id,))
        if row is None or row["status"] != "active":
            raise NotFound("no client {client_id}", client_id=client_id)
        self._check_partner(tx, profile)
        key_id = f"client:{client_id}"
        entry = tx.append("client.updated", key_id, {"profile": profile}, actor=actor,
                          key_id=key_id)
        tx.after_commit.append(lambda: self.names.put(client_id, profile))
        return entry

    async def update(self, client_id: str, raw: dict[str, Any], actor: str) -> dict[str, Any]:
        """Apply a partial change; the entry carries the whole new profile."""
        current = await self.get(client_id)
        if current["profile"] is None:
            raise NotFound("client {client_id} was erased", client_id=client_id)
        if not isinstance(raw, dict):
            raise Invalid("a client change must be an object")
        merged = {**current["profile"], **raw}
        profile = validate_profile(merged)

        await self.ledger.transact(lambda tx: self.update_in(tx, client_id, profile, actor))
        return {"client_id": client_id, "status": "active", "profile": profile}

    async def forget(self, client_id: str, actor: str, reason: str = "erasure request") -> int:
        """Right to erasure: shred the client's key; returns the seq of the forget entry."""

        def command(tx: Tx) -> int:
            row = tx.one("SELECT status, created_seq FROM clients WHERE client_id = ?",
                         (client_id,))
            if row is None:
                raise NotFound("no client {client_id}", client_id=client_id)
            if row["status"] == "forgotten":
                raise Refused("already_forgotten", "client {client_id} was already erased",
                              client_id=client_id)
            entry = tx.append("client.forgotten", f"client:{client_id}",
                              {"client_id": client_id, "created_seq": row["created_seq"],
                               "reason": reason}, actor=actor)
            tx.destroy_key(f"client:{client_id}")
            tx.after_commit.append(lambda: self.names.drop(client_id))
            return entry.seq

        return await self.ledger.transact(command)

    async def get(self, client_id: str) -> dict[str, Any]:
        row = await self.ledger.fetch_one("SELECT * FROM clients WHERE client_id = ?",
                                          (client_id,))
        if row is None:
            raise NotFound("no client {client_id}", client_id=client_id)
        if row["status"] != "active":
            return {"client_id": client_id, "status": row["status"], "profile": None}
        return {"client_id": client_id, "status": "active",
                "profile": await self._profile_at(row["profile_seq"])}

    async def find_by_contact(self, contact: str) -> list[str]:
        """Exact look-up by e-mail or phone through the blind index."""
        if "@" in contact:
            blind = self.ledger.keyring.blind("email", normalise_email(contact))
        else:
            blind = self.ledger.keyring.blind("phone", normalise_phone(contact))
        rows = await self.ledger.fetch(
            "SELECT client_id FROM client_lookup WHERE blind = ? ORDER BY client_id", (blind,))
        return [r["client_id"] for r in rows]

    async def search(self, query: str, limit: int = 20) -> list[dict[str, Any]]:
        query = (query or "").strip()
        if not query:
            return []
        if "@" in query or (sum(ch.isdigit() for ch in query) >= 6 and not any(
                ch.isalpha() for ch in query)):
            ids = await self.find_by_contact(query)
            out = []
            for cid in ids[:limit]:
                client = await self.get(cid)
                out.append({"client_id": cid, "name": display_name(client["profile"] or {})})
            return out
        return [{"client_id": cid, "name": name} for cid, name in self.names.search(query, limit)]
