"""The journal entry format: what is hashed, signed and encrypted, and how to check it.

This module is the whole of the format; docs/architecture.md restates it for auditors.
Verification needs only the store id and the store's Ed25519 public key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import struct
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, fields
from typing import Any

import nacl.bindings
import nacl.exceptions
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT = "loupe/1"
GENESIS_HASH = bytes(32)
NONCE_LEN = 12


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8: the one byte form of a payload."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def header_bytes(store_id: str, seq: int, ts: str, kind: str, actor: str, subject: str,
                 key_id: str, key_version: int) -> bytes:
    """The hashed header: a compact ASCII JSON array (`header_bytes_reference`'s bytes).

    HQ and an audit build one per entry, so the usual case (plain printable ASCII, which
    JSON writes as it is) is formatted directly, at a quarter of `json.dumps`' cost; any
    text JSON would escape goes the reference way. tests/sync/test_wire_speed_equivalence.py pins
    the bytes of both ways.
    """
    text = store_id + ts + kind + actor + subject + key_id
    if (type(seq) is int and type(key_version) is int and text.isascii()
            and text.isprintable() and '"' not in text and "\\" not in text):
        return (f'["{FORMAT}","{store_id}",{seq},"{ts}","{kind}","{actor}","{subject}",'
                f'"{key_id}",{key_version}]').encode("ascii")
    return header_bytes_reference(store_id, seq, ts, kind, actor, subject, key_id, key_version)


def header_bytes_reference(store_id: str, seq: int, ts: str, kind: str, actor: str,
                           subject: str, key_id: str, key_version: int) -> bytes:
    """The header's definition: what every Loupe version hashed."""
    return json.dumps([FORMAT, store_id, seq, ts, kind, actor, subject, key_id, key_version],
                      separators=(",", ":"), ensure_ascii=True).encode("ascii")


def associated_data(store_id: str, seq: int, kind: str) -> bytes:
    """AES-GCM associated data: a ciphertext cannot be moved to another store, seq or kind."""
    return json.dumps([FORMAT, store_id, seq, kind], separators=(",", ":"),
                      ensure_ascii=True).encode("ascii")


_U32BE = struct.Struct(">I").pack


def entry_hash(prev_hash: bytes, header: bytes, payload: bytes) -> bytes:
    """SHA-256(prev_hash ‖ u32be(len(header)) ‖ header ‖ payload)."""
    # One buffer, one call: cheaper than three updates for entry-sized inputs.
    return hashlib.sha256(prev_hash + _U32BE(len(header)) + header + payload).digest()


def encrypt(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(NONCE_LEN)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def decrypt(key: bytes, payload: bytes, aad: bytes) -> bytes:
    """Raises InvalidTag when the key is wrong or the bytes were altered."""
    return AESGCM(key).decrypt(payload[:NONCE_LEN], payload[NONCE_LEN:], aad)


def short_code(signature: bytes) -> str:
    """A short, printable reference to an entry's signature (printed on receipts)."""
    return base64.b32encode(signature[:10]).decode().rstrip("=")


@dataclass(frozen=True, slots=True)
class Entry:
    """One journal row, exactly as stored and as exported."""

    seq: int
    ts: str
    kind: str
    actor: str
    subject: str
    key_id: str
    key_version: int
    payload: bytes  # nonce ‖ AES-256-GCM ciphertext ‖ tag
    prev_hash: bytes
    hash: bytes
    signature: bytes

    def header(self, store_id: str) -> bytes:
        return header_bytes(store_id, self.seq, self.ts, self.kind, self.actor, self.subject,
                            self.key_id, self.key_version)

    def short_code(self) -> str:
        return short_code(self.signature)

    def to_export(self) -> dict[str, Any]:
        return {
            "seq": self.seq, "ts": self.ts, "kind": self.kind, "actor": self.actor,
            "subject": self.subject, "key_id": self.key_id, "key_version": self.key_version,
            "payload": base64.b64encode(self.payload).decode(),
            "prev_hash": self.prev_hash.hex(), "hash": self.hash.hex(),
            "signature": self.signature.hex(),
        }

    @classmethod
    def from_export(cls, obj: dict[str, Any]) -> Entry:
        """An entry from its export object (`from_export_reference`'s result, or its error)."""
        return cls.from_plain_export(obj) or cls.from_export_reference(obj)

    @classmethod
    def from_plain_export(cls, obj: Any) -> Entry | None:
        """The entry, when every field of `obj` already has its type (as a decoded export
        has); None for anything else, which the reference way accepts or refuses.

        HQ reads every entry it receives this way: the conversions are no-ops and skipped,
        and so is the frozen dataclass' field-by-field init.
        """
        try:
            seq, ts, kind, actor = obj["seq"], obj["ts"], obj["kind"], obj["actor"]
            subject, key_id, key_version = obj["subject"], obj["key_id"], obj["key_version"]
            payload, prev_hash = obj["payload"], obj["prev_hash"]
            digest, signature = obj["hash"], obj["signature"]
            if not (type(seq) is int and type(key_version) is int and type(ts) is str
                    and type(kind) is str and type(actor) is str and type(subject) is str
                    and type(key_id) is str and type(payload) is str
                    and type(prev_hash) is str and type(digest) is str
                    and type(signature) is str):
                return None
            values = (seq, ts, kind, actor, subject, key_id, key_version,
                      # = base64.b64decode(validate=True), without its Python layers
                      binascii.a2b_base64(payload, strict_mode=True),
                      bytes.fromhex(prev_hash), bytes.fromhex(digest), bytes.fromhex(signature))
        except Exception:  # noqa: BLE001 - the reference way says what is wrong
            return None
        entry = _new_entry(cls)
        for put, value in zip(_ENTRY_SETTERS, values, strict=True):
            put(entry, value)
        return entry

    @classmethod
    def from_export_reference(cls, obj: dict[str, Any]) -> Entry:
        return cls(
            seq=int(obj["seq"]), ts=str(obj["ts"]), kind=str(obj["kind"]),
            actor=str(obj["actor"]), subject=str(obj["subject"]), key_id=str(obj["key_id"]),
            key_version=int(obj["key_version"]),
            payload=base64.b64decode(obj["payload"], validate=True),
            prev_hash=bytes.fromhex(obj["prev_hash"]), hash=bytes.fromhex(obj["hash"]),
            signature=bytes.fromhex(obj["signature"]),
        )

    @classmethod
    def from_row(cls, row: tuple) -> Entry:
        return cls(row[0], row[1], row[2], row[3], row[4], row[5], row[6], bytes(row[7]),
                   bytes(row[8]), bytes(row[9]), bytes(row[10]))


# Entry's slots, in field order, and a bare instance: `from_export`'s fast way.
_ENTRY_SETTERS = tuple(Entry.__dict__[f.name].__set__ for f in fields(Entry))
_new_entry = object.__new__

ENTRY_COLUMNS = ("seq, ts, kind, actor, subject, key_id, key_version, payload, prev_hash, hash, "
                 "signature")


def seal(*, store_id: str, seq: int, ts: str, kind: str, actor: str, subject: str,
         key_id: str, key_version: int, data_key: bytes, plaintext: bytes, prev_hash: bytes,
         sign: Callable[[bytes], bytes]) -> Entry:
    """Encrypt, chain and sign one entry (`sign` returns the Ed25519 signature of a hash)."""
    payload = encrypt(data_key, plaintext, associated_data(store_id, seq, kind))
    header = header_bytes(store_id, seq, ts, kind, actor, subject, key_id, key_version)
    digest = entry_hash(prev_hash, header, payload)
    return Entry(seq, ts, kind, actor, subject, key_id, key_version, payload, prev_hash, digest,
                 sign(digest))


def open_payload(entry: Entry, store_id: str, data_key: bytes) -> dict[str, Any]:
    plain = decrypt(data_key, entry.payload, associated_data(store_id, entry.seq, entry.kind))
    return json.loads(plain)


@dataclass(frozen=True)
class Verdict:
    ok: bool
    count: int  # entries that verified before the first problem
    bad_seq: int | None = None
    reason: str = ""
    mode: str = "all"  # which signatures were checked: "all", or "anchors" (verify_chain)

    def __str__(self) -> str:
        if self.ok:
            return f"ok: {self.count} entries"
        return f"bad: seq {self.bad_seq}: {self.reason}"


def raw_public_key(public_key: Ed25519PublicKey | bytes) -> bytes:
    if isinstance(public_key, bytes):
        return public_key
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


ANCHOR_KINDS = frozenset({"day.closed"})  # a signed Z report: a day the store stood by
ANCHOR_EVERY = 65_536  # and a signature checked at least this often (bounds a bisection)


def verify_chain(entries: Iterable[Entry], store_id: str,
                 public_key: Ed25519PublicKey | bytes, *, start_seq: int = 1,
                 start_hash: bytes = GENESIS_HASH, signatures: str = "anchors") -> Verdict:
    """Check gapless seq, the hash chain, and signatures; name the first bad seq
    (`verify_rows`, of entries)."""
    return verify_rows(((e.seq, e.ts, e.kind, e.actor, e.subject, e.key_id, e.key_version,
                         e.payload, e.prev_hash, e.hash, e.signature) for e in entries),
                       store_id, public_key, start_seq=start_seq, start_hash=start_hash,
                       signatures=signatures)


def verify_rows(rows: Iterable[tuple], store_id: str, public_key: Ed25519PublicKey | bytes, *,
                start_seq: int = 1, start_hash: bytes = GENESIS_HASH,
                signatures: str = "anchors") -> Verdict:
    """Check gapless seq, the hash chain, and signatures of journal rows (`ENTRY_COLUMNS`,
    as SQLite gives them: no `Entry` is built, which is most of an audit's cost); name the
    first bad seq.

    `signatures="anchors"` (the default): every hash is recomputed and linked, and the
    signatures checked are the tip's, each Z report's (`day.closed`) and one every
    `ANCHOR_EVERY` entries. Each hash binds every entry before it, so a good signature on an
    anchor proves the whole chain up to it as the store wrote it; when an anchor's signature
    fails (the chain was re-hashed after an edit), a bisection over the signatures since the
    last good anchor finds the first entry the store did not sign. What this mode does not
    see is a signature damaged on an entry whose contents are intact (nothing the store
    wrote is changed by it): `signatures="all"` checks every one (hub.ledger.audit checks
    them on every core).

    Signatures are checked with libsodium (PyNaCl): standard Ed25519, about twice as fast
    as OpenSSL's here.
    """
    if signatures not in ("anchors", "all"):
        raise ValueError("signatures: 'anchors' or 'all'")
    every = signatures == "all"
    expected_seq = start_seq
    prev = start_hash
    count = 0
    raw_key = raw_public_key(public_key)
    sign_open = nacl.bindings.crypto_sign_open
    bad_signature = nacl.exceptions.BadSignatureError

    def signed(seq_hash_sig: tuple[int, bytes, bytes]) -> bool:
        try:
            sign_open(seq_hash_sig[2] + seq_hash_sig[1], raw_key)
            return True
        except (bad_signature, ValueError):
            return False

    since: list[tuple[int, bytes, bytes]] = []  # unsigned-for-sure since the last anchor

    def first_unsigned() -> Verdict:
        # The last anchor held and this one fails: the first entry of `since` whose signature
        # fails, by bisection (signed up to it, unsigned from it on, after a re-hash).
        lo, hi = 0, len(since) - 1
        while lo < hi:
            mid = (lo + hi) // 2
            if signed(since[mid]):
                lo = mid + 1
            else:
                hi = mid
        return Verdict(False, since[lo][0] - start_seq, since[lo][0],
                       "signature does not verify with the store key")

    header_of = header_bytes
    for seq, ts, kind, actor, subject, key_id, key_version, payload, prev_hash, digest, \
            signature in rows:
        if seq != expected_seq:
            if seq > expected_seq:
                return Verdict(False, count, expected_seq, f"missing (next entry is seq {seq})")
            return Verdict(False, count, seq, f"out of order (expected seq {expected_seq})")
        if prev_hash != prev:
            return Verdict(False, count, seq, "prev_hash does not match the previous entry")
        header = header_of(store_id, seq, ts, kind, actor, subject, key_id, key_version)
        if entry_hash(prev, header, payload) != digest:
            return Verdict(False, count, seq, "hash does not match the entry's contents")
        if every:
            try:
                sign_open(signature + digest, raw_key)
            except (bad_signature, ValueError):
                return Verdict(False, count, seq, "signature does not verify with the store key")
        else:
            since.append((seq, digest, signature))
            if kind in ANCHOR_KINDS or len(since) >= ANCHOR_EVERY:
                if not signed(since[-1]):
                    return first_unsigned()
                since.clear()
        prev = digest
        expected_seq += 1
        count += 1
    if since and not signed(since[-1]):  # the tip
        return first_unsigned()
    return Verdict(True, count, mode=signatures)


def read_export(lines: Iterable[str]) -> tuple[dict[str, Any], Iterator[Entry]]:
    """Split an export file into its header object and a lazy stream of entries."""
    it = iter(lines)
    try:
        head = json.loads(next(it))
    except StopIteration:
        raise ValueError("empty export file") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"line 1: not JSON: {exc.msg}") from None
    if not isinstance(head, dict) or head.get("format") != "loupe-journal-export/1":
        raise ValueError("line 1: not a Loupe journal export header")

    def entries() -> Iterator[Entry]:
        for lineno, line in enumerate(it, start=2):
            if not line.strip():
                continue
            try:
                yield Entry.from_export(json.loads(line))
            except (json.JSONDecodeError, KeyError, ValueError, TypeError) as exc:
                raise ValueError(f"line {lineno}: malformed entry: {exc}") from None

    return head, entries()


__all__ = [
    "Entry", "Verdict", "seal", "open_payload", "verify_chain", "verify_rows", "read_export", "canonical_json",
    "GENESIS_HASH", "InvalidTag", "ENTRY_COLUMNS",
]
