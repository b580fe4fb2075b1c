"""One client across stores: the same person in two stores' books, found at HQ and proposed
for merging; once head office merges them, both stores record a link to one chain-wide
client id (message `client_merge`, table `hq_client_links` at the store).

HQ never keeps an e-mail or a phone number: when a store's client entry is stored, HQ opens
her profile in memory (`HQ.client_profile`) and keeps only HMAC-SHA256 digests of her
normalised e-mails (trimmed, lower case) and phones (`hub.ledger.keys.normalise_phone`, as
the hub's own blind index) under a key derived from HQ's box key, so the digests mean
nothing without HQ's keys. Two clients of different stores sharing a digest are one
proposal (`client_matches`, one per pair whatever they share).

Everything here runs on HQ's storage thread. `merge` returns HQ's signed messages to
publish (`hub.sync.hq.publish_signed`, or the receiver's client).
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Iterable
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from hub.ledger.keys import normalise_email, normalise_phone
from hub.ledger.ledger import utc_now
from hub.sync.hqstore import Db, Fact, HQPart, HQStorage
from hub.words import N_

SCHEMA = """
-- Digests of a client's contacts (never the contacts): HMAC-SHA256 under HQ's contact key.
CREATE TABLE IF NOT EXISTS client_contacts (
    store_id  TEXT NOT NULL,
    client_id TEXT NOT NULL,
    kind      TEXT NOT NULL,          -- email | phone
    digest    TEXT NOT NULL,          -- hex
    PRIMARY KEY (store_id, client_id, kind, digest)
);
CREATE INDEX IF NOT EXISTS client_contacts_digest ON client_contacts(kind, digest);
CREATE TABLE IF NOT EXISTS client_matches (
    match_id        TEXT PRIMARY KEY,  -- from the pair: the same pair is one match
    store_a         TEXT NOT NULL,
    client_a        TEXT NOT NULL,
    store_b         TEXT NOT NULL,
    client_b        TEXT NOT NULL,
    reason          TEXT NOT NULL,     -- email | phone | email+phone
    status          TEXT NOT NULL,     -- proposed | merged | dismissed
    proposed_at     TEXT NOT NULL,
    decided_at      TEXT,
    decided_by      TEXT,
    chain_client_id TEXT               -- once merged: the one id both stores link to
);
CREATE INDEX IF NOT EXISTS client_matches_status ON client_matches(status, proposed_at);
"""

KINDS = ("email", "phone")
MIN_PHONE_DIGITS = 6  # fewer is not a phone number anyone shares by chance or design
REASONS = {"email": N_("same e-mail"), "phone": N_("same phone"),
           "email+phone": N_("same e-mail and phone")}
STATUSES = {"proposed": N_("proposed"), "merged": N_("merged"), "dismissed": N_("dismissed")}
ERASED = "erasure"  # decided_by of a proposal closed because a client was erased


def contact_key(box_private: bytes, chain: str) -> bytes:
    """HQ's key for contact digests, derived from its X25519 box key (one chain, one key)."""
    return HKDF(hashes.SHA256(), 32, salt=chain.encode(),
                info=b"loupe hq client contacts v1").derive(box_private)


def _key(hq: Any) -> bytes:
    return contact_key(hq.keys.box.private_bytes_raw(), hq.chain)


def digests(key: bytes, profile: dict[str, Any]) -> set[tuple[str, str]]:
    """(kind, digest) for each e-mail and phone of a profile, normalised first."""
    out = set()
    for email in profile.get("emails") or []:
        if isinstance(email, str) and normalise_email(email):
            out.add(("email", normalise_email(email)))
    for phone in profile.get("phones") or []:
        if isinstance(phone, str):
            number = normalise_phone(phone)
            if len(number.lstrip("+")) >= MIN_PHONE_DIGITS:
                out.add(("phone", number))
    return {(kind, hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest())
            for kind, value in out}


def _match_id(a: tuple[str, str], b: tuple[str, str]) -> str:
    return "m" + hashlib.sha256(f"{a[0]}/{a[1]}|{b[0]}/{b[1]}".encode()).hexdigest()[:15]


def note_profile(hq: Any, db: Db, store_id: str, client_id: str) -> list[str]:
    """Keep a client's contact digests as her profile now stands at HQ (none once she is
    erased: her open proposals close) and propose a match with each client of another
    store sharing one. Returns the ids of the matches proposed or widened."""
    held = db.query("SELECT status FROM clients WHERE store_id = ? AND client_id = ?",
                    (store_id, client_id))
    active = bool(held) and held[0]["status"] == "active"
    profile = hq.client_profile(store_id, client_id) if active else None
    if active and profile is None:
        return []  # her entry did not open (no key yet): what HQ knew of her stands
    db.execute("DELETE FROM client_contacts WHERE store_id = ? AND client_id = ?",
               (store_id, client_id))
    if profile is None:
        db.execute("UPDATE client_matches SET status = 'dismissed', decided_at = ?,"
                   " decided_by = ? WHERE status = 'proposed' AND ((store_a = ? AND"
                   " client_a = ?) OR (store_b = ? AND client_b = ?))",
                   (utc_now(), ERASED, store_id, client_id, store_id, client_id))
        return []
    mine = sorted(digests(_key(hq), profile))
    db.executemany("INSERT INTO client_contacts (store_id, client_id, kind, digest) VALUES"
                   " (?,?,?,?) ON CONFLICT DO NOTHING",
                   [(store_id, client_id, kind, digest) for kind, digest in mine])
    shared: dict[tuple[str, str], set[str]] = {}
    for kind, digest in mine:
        for r in db.query("SELECT store_id, client_id FROM client_contacts WHERE kind = ?"
                          " AND digest = ? AND store_id <> ?", (kind, digest, store_id)):
            shared.setdefault((r["store_id"], r["client_id"]), set()).add(kind)
    out = []
    for other, kinds in sorted(shared.items()):
        a, b = sorted([(store_id, client_id), other])
        if _linked(db, a, b):
            continue  # already one client through earlier merges
        match_id = _match_id(a, b)
        reason = "+".join(k for k in KINDS if k in kinds)
        # A dismissed or merged match stays decided; a proposed one says all they share.
        db.execute("INSERT INTO client_matches (match_id, store_a, client_a, store_b,"
                   " client_b, reason, status, proposed_at) VALUES (?,?,?,?,?,?,'proposed',?)"
                   " ON CONFLICT(match_id) DO UPDATE SET reason = excluded.reason"
                   " WHERE client_matches.status = 'proposed'",
                   (match_id, a[0], a[1], b[0], b[1], reason, utc_now()))
        out.append(match_id)
    return out


def _chain_ids(db: Db | HQStorage, who: tuple[str, str]) -> set[str]:
    return {r["chain_client_id"] for r in db.query(
        "SELECT chain_client_id FROM client_matches WHERE status = 'merged' AND"
        " ((store_a = ? AND client_a = ?) OR (store_b = ? AND client_b = ?))",
        (who[0], who[1], who[0], who[1]))}


def _linked(db: Db, a: tuple[str, str], b: tuple[str, str]) -> bool:
    return bool(_chain_ids(db, a) & _chain_ids(db, b))


def _answers(hq: Any, store_id: str, facts: list[Fact]) -> list[tuple[str, bytes]]:
    """Once a run with client entries is stored: note each client's contacts. (The part's
    `answers` hook: it runs after the run's transaction, with HQ at hand to open the
    profile; it sends nothing.)"""
    touched = sorted({f.data["client_id"] for f in facts if f.what == "client"})
    if touched:
        with hq.storage.transaction() as db:
            for client_id in touched:
                note_profile(hq, db, store_id, client_id)
    return []


PART = HQPart("clients", schema=SCHEMA, answers=_answers)


# -- reads and head office's decisions --------------------------------------------------------

_COLUMNS = ("match_id, store_a, client_a, store_b, client_b, reason, status, proposed_at,"
            " decided_at, decided_by, chain_client_id")


def proposals(storage: Db | HQStorage) -> list[dict[str, Any]]:
    """Matches waiting for head office's word, oldest first."""
    return storage.query(f"SELECT {_COLUMNS} FROM client_matches WHERE status = 'proposed'"
                         " ORDER BY proposed_at, match_id")


def matches(storage: Db | HQStorage, limit: int = 500) -> list[dict[str, Any]]:
    """Every match, proposed first, then the latest decided."""
    return storage.query(f"SELECT {_COLUMNS} FROM client_matches ORDER BY"
                         " CASE WHEN status = 'proposed' THEN 0 ELSE 1 END,"
                         " COALESCE(decided_at, proposed_at) DESC LIMIT ?", (limit,))


def _decided(m: dict[str, Any]) -> str:
    when = (m["decided_at"] or "")[:16].replace("T", " ")
    if m["status"] == "merged":
        return (f"client match {m['match_id']} was already merged by {m['decided_by']} on"
                f" {when}: nothing is sent again")
    if m["decided_by"] == ERASED:
        return (f"client match {m['match_id']} was closed on {when}: one of the clients was"
                " erased")
    return f"client match {m['match_id']} was dismissed by {m['decided_by']} on {when}"


def _decide(db: Db, match_id: str, status: str, actor: str,
            chain_client_id: str | None = None) -> dict[str, Any]:
    rows = db.query(f"SELECT {_COLUMNS} FROM client_matches WHERE match_id = ?", (match_id,))
    if not rows:
        raise LookupError(f"head office has no client match {match_id!r}")
    if rows[0]["status"] != "proposed":
        raise ValueError(_decided(rows[0]))
    changed = db.execute("UPDATE client_matches SET status = ?, decided_at = ?,"
                         " decided_by = ?, chain_client_id = ? WHERE match_id = ? AND"
                         " status = 'proposed'",
                         (status, utc_now(), actor, chain_client_id, match_id))
    if changed != 1:  # another worker decided it between our read and our write
        raise ValueError(f"client match {match_id} was decided meanwhile: look again")
    return rows[0]


def merge(hq: Any, match_id: str, actor: str) -> list[tuple[str, bytes]]:
    """Head office says the two clients are one person: the match is merged (once: a second
    merge is refused in a sentence) and each store is sent a signed `client_merge` linking
    its client to one chain-wide id (kept from an earlier merge of either, else new).
    Returns the (topic, payload) to publish. LookupError or ValueError (in words) for a
    match HQ does not have, one already decided, or a client no longer in her book."""
    with hq.storage.transaction() as db:
        rows = db.query(f"SELECT {_COLUMNS} FROM client_matches WHERE match_id = ?",
                        (match_id,))
        if not rows:
            raise LookupError(f"head office has no client match {match_id!r}")
        m = rows[0]
        a, b = (m["store_a"], m["client_a"]), (m["store_b"], m["client_b"])
        if m["status"] == "proposed":
            for store_id, client_id in (a, b):
                held = db.query("SELECT status FROM clients WHERE store_id = ? AND"
                                " client_id = ?", (store_id, client_id))
                if not held or held[0]["status"] != "active":
                    raise ValueError(f"client {client_id} of store {store_id} is no longer"
                                     " in its book (erased there): not merged")
        known = sorted(_chain_ids(db, a) | _chain_ids(db, b))
        chain_client_id = known[0] if known else f"chain-{uuid.uuid4().hex[:16]}"
        _decide(db, match_id, "merged", actor, chain_client_id)
    # Signed once the decision is kept: a message is never logged for a refused merge
    # (a logged one would be re-sent as unapplied).
    return [hq.message(store_id, "client_merge", {
        "match_id": match_id, "chain_client_id": chain_client_id, "client_id": client_id,
        "linked": [{"store_id": other[0], "client_id": other[1]}]})
        for (store_id, client_id), other in ((a, b), (b, a))]


def dismiss(storage: HQStorage, match_id: str, actor: str) -> None:
    """Head office says they are two people: the match is closed, nothing is sent."""
    with storage.transaction() as db:
        _decide(db, match_id, "dismissed", actor)


# -- `loupe hq clients ...` -------------------------------------------------------------------

_HEADERS = (("match_id", N_("Match")), ("a", N_("Client at one store")),
            ("b", N_("Client at the other")), ("reason", N_("Why")),
            ("status", N_("Status")), ("proposed_at", N_("Proposed")),
            ("decided", N_("Decided")))


def matches_table(rows: Iterable[dict[str, Any]]) -> str:
    rows = list(rows)
    if not rows:
        return N_("No client is proposed for merging.")
    lines = [[h for _, h in _HEADERS]]
    for m in rows:
        decided = "" if not m["decided_at"] else (
            f"{m['decided_by']} {m['decided_at'][:16].replace('T', ' ')}"
            + (f" -> {m['chain_client_id']}" if m["chain_client_id"] else ""))
        lines.append([m["match_id"], f"{m['client_a']} at {m['store_a']}",
                      f"{m['client_b']} at {m['store_b']}",
                      REASONS.get(m["reason"], m["reason"]),
                      STATUSES.get(m["status"], m["status"]),
                      m["proposed_at"][:16].replace("T", " "), decided])
    widths = [max(len(line[i]) for line in lines) for i in range(len(_HEADERS))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip()
                     for line in lines)
