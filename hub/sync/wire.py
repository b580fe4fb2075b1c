"""What travels on the broker, and how each side checks it.

Topics (one chain, one store):

    loupe/<chain>/<store>/journal   store -> HQ   batches of journal entries, exactly as stored
    loupe/<chain>/<store>/hello     store -> HQ   enrollment proof, public keys, store data key
    loupe/<chain>/<store>/status    store -> HQ   retained online/offline (last will)
    loupe/<chain>/<store>/ack       HQ -> store   highest contiguous seq HQ stored (signed)
    loupe/<chain>/<store>/inbox     HQ -> store   signed HQ messages for this store
    loupe/<chain>/all/inbox         HQ -> stores  signed HQ messages for every store
    loupe/<chain>/<store>/backup    store -> HQ   its encrypted backup files, in chunks
    loupe/<chain>/<store>/restore   HQ -> store   a restored store's entries back (on a hello
                                                  asking for them: `loupe restore`)

Nothing personal is ever in clear here: entries are AES-GCM ciphertext, data keys travel
sealed to HQ's X25519 key, client profiles from HQ travel sealed to the store's X25519 key.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from hub.core.hq import MESSAGE_TYPES  # HQ -> store types and the fields each body carries
from hub.ledger.journal import Entry, canonical_json

BATCH_FORMAT = "loupe-batch/1"
ALL = "all"
LEAVES = ("journal", "hello", "status", "ack", "inbox", "restore", "backup")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")

class WireError(ValueError):
    """A message that is malformed, forged, misaddressed or otherwise refused."""


def check_id(value: Any, what: str) -> str:
    if not isinstance(value, str) or not _ID.match(value) or value == ALL:
        raise WireError(f"{what}: {value!r} is not a valid id (1-40 letters, digits, '-', '_')")
    return value


def topic(chain: str, store: str, leaf: str) -> str:
    return f"loupe/{chain}/{store}/{leaf}"


def split_topic(name: str) -> tuple[str, str, str]:
    parts = name.split("/")
    if len(parts) != 4 or parts[0] != "loupe" or parts[3] not in LEAVES:
        raise WireError(f"unexpected topic {name!r}")
    return parts[1], parts[2], parts[3]


def public_hex(key: Ed25519PublicKey | X25519PublicKey) -> str:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def load_ed25519_public(text: Any, what: str) -> Ed25519PublicKey:
    try:
        return Ed25519PublicKey.from_public_bytes(bytes.fromhex(text))
    except (ValueError, TypeError):
        raise WireError(f"{what}: not a 32-byte Ed25519 public key in hex") from None


def load_x25519_public(text: Any, what: str) -> X25519PublicKey:
    try:
        return X25519PublicKey.from_public_bytes(bytes.fromhex(text))
    except (ValueError, TypeError):
        raise WireError(f"{what}: not a 32-byte X25519 public key in hex") from None


def _json(data: bytes | str, what: str) -> dict[str, Any]:
    try:
        obj = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise WireError(f"{what}: not JSON ({exc})") from None
    if not isinstance(obj, dict):
        raise WireError(f"{what}: not a JSON object")
    return obj


# -- sealed boxes: X25519 + HKDF-SHA256 + AES-256-GCM ------------------------------------------

def seal_to(recipient: X25519PublicKey, plaintext: bytes, aad: bytes) -> bytes:
    """Encrypt for the holder of `recipient`'s private key only (ephemeral-static ECDH)."""
    eph = X25519PrivateKey.generate()
    eph_pub = eph.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    key = _box_key(eph.exchange(recipient), eph_pub, recipient)
    nonce = os.urandom(12)
    return eph_pub + nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def open_sealed(private: X25519PrivateKey, blob: bytes, aad: bytes) -> bytes:
    if len(blob) < 32 + 12 + 16:
        raise WireError("sealed box too short")
    eph_pub, nonce, body = blob[:32], blob[32:44], blob[44:]
    try:
        shared = private.exchange(X25519PublicKey.from_public_bytes(eph_pub))
        key = _box_key(shared, eph_pub, private.public_key())
        return AESGCM(key).decrypt(nonce, body, aad)
    except (InvalidTag, ValueError):
        raise WireError("sealed box does not open with this key (wrong key or altered)") from None


def _box_key(shared: bytes, eph_pub: bytes, recipient: X25519PublicKey) -> bytes:
    info = b"loupe-seal/1" + eph_pub + recipient.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return HKDF(hashes.SHA256(), 32, salt=None, info=info).derive(shared)


def key_aad(chain: str, store: str, key_id: str, version: int) -> bytes:
    """A wrapped data key is bound to its chain, store and key id: it cannot be replayed as
    another store's or another client's key."""
    return canonical_json(["loupe-hq-key/1", chain, store, key_id, version])


def profile_aad(chain: str, store: str, client_id: str) -> bytes:
    """A sealed profile opens only as this client's, at this store."""
    return canonical_json(["loupe-hq-profile/1", chain, store, client_id])


@dataclass(frozen=True)
class Sealed:
    """Personal data an HQ message carries sealed to its one store (X25519): the clear
    field HQ is given, the field it travels in, and what the seal is bound to."""

    clear: str
    field: str
    bound_to: Callable[[dict[str, Any]], str]

    def aad(self, chain: str, store: str, body: dict[str, Any]) -> bytes:
        return profile_aad(chain, store, self.bound_to(body))


SEALED = {"client": Sealed("profile", "sealed_profile", lambda body: body["client_id"]),
          "online_order": Sealed("ship_to", "sealed_ship_to",
                                 lambda body: f"order:{body['order_id']}")}


# -- journal batches (store -> HQ) ------------------------------------------------------------

@dataclass(frozen=True)
class WrappedKey:
    key_id: str
    version: int
    wrapped: bytes

    def to_json(self) -> dict[str, Any]:
        return {"key_id": self.key_id, "version": self.version,
                "wrapped": base64.b64encode(self.wrapped).decode()}


@dataclass(frozen=True)
class Batch:
    store: str
    entries: list[Entry]
    keys: list[WrappedKey]


class EntryTooLarge(WireError):
    """One entry that alone does not fit in a message: nothing after it can go either."""

    def __init__(self, seq: int, size: int, limit: int) -> None:
        super().__init__(f"journal entry seq {seq} needs {size} bytes, more than a message"
                         f" may carry ({limit})")
        self.seq, self.size, self.limit = seq, size, limit


def encode_batches(store: str, entries: Iterable[Entry],
                   keys: Mapping[tuple[str, int], WrappedKey] | Mapping[str, WrappedKey],
                   limit: int) -> list[tuple[bytes, int]]:
    """Entries, in order, as journal batches of at most `limit` bytes, each with the sealed
    keys of its own entries (those in `keys`, by (key id, version), or by key id for a key
    of one version); returns (payload, last seq) pairs.

    Each entry and each key is serialised once and the messages joined from the pieces: a
    backlog of a hundred thousand entries is not serialised twice to find where to cut it.
    """
    head = f'{{"format":"{BATCH_FORMAT}","store":{json.dumps(store)},"entries":['
    middle, tail = '],"keys":[', "]}"
    empty = len(head) + len(middle) + len(tail)
    sealed: dict[tuple[str, int], str | None] = {}  # (key id, version) -> JSON (None: not sent)

    def key_json(key_id: str, version: int) -> str | None:
        if (key_id, version) not in sealed:
            key = keys.get((key_id, version)) or keys.get(key_id)  # type: ignore[call-overload]
            if key is not None and key.version != version:
                key = None
            sealed[key_id, version] = None if key is None else json.dumps(
                key.to_json(), separators=(",", ":"))
        return sealed[key_id, version]

    out: list[tuple[bytes, int]] = []
    parts: list[str] = []
    chunk_keys: dict[tuple[str, int], str] = {}
    size, last = empty, 0

    def close() -> None:
        out.append(((head + ",".join(parts) + middle + ",".join(chunk_keys.values())
                     + tail).encode(), last))

    for entry in entries:
        part = json.dumps(entry.to_export(), separators=(",", ":"))
        which = (entry.key_id, entry.key_version)
        key = None if which in chunk_keys else key_json(*which)
        grow = len(part) + bool(parts) + (len(key) + bool(chunk_keys) if key else 0)
        if parts and size + grow > limit:
            close()
            parts, chunk_keys, size = [], {}, empty
            key = key_json(*which)
            grow = len(part) + (len(key) if key else 0)
        if size + grow > limit:
            raise EntryTooLarge(entry.seq, size + grow, limit)
        parts.append(part)
        if key:
            chunk_keys[which] = key
        size += grow
        last = entry.seq
    if parts:
        close()
    return out


def decode_batch(data: bytes, topic_store: str) -> Batch:
    """A journal batch checked and decoded (`decode_batch_reference`'s result or error).

    HQ decodes every entry it stores here. orjson parses the usual batch in well under half
    the time of `json`, but does not read all that `json` reads (NaN, lone surrogates,
    integers past 64 bits as integers), so anything but a plainly well-formed batch is
    handed whole to the reference decoder, which accepts or refuses it as it always did.
    tests/sync/test_wire_speed_equivalence.py checks the two agree on arbitrary batches.
    """
    try:
        obj = orjson.loads(data)
    except orjson.JSONDecodeError:
        return decode_batch_reference(data, topic_store)
    if type(obj) is not dict or obj.get("format") != BATCH_FORMAT \
            or obj.get("store") != topic_store:
        return decode_batch_reference(data, topic_store)
    raw_entries, raw_keys = obj.get("entries"), obj.get("keys", [])
    if type(raw_entries) is not list or type(raw_keys) is not list:
        return decode_batch_reference(data, topic_store)
    plain = Entry.from_plain_export
    entries = []
    for raw in raw_entries:
        entry = plain(raw)
        if entry is None:  # an entry of another shape: read the batch the reference way
            return decode_batch_reference(data, topic_store)
        entries.append(entry)
    try:
        keys = [WrappedKey(raw["key_id"], raw["version"],
                           base64.b64decode(raw["wrapped"], validate=True))
                for raw in raw_keys if type(raw["key_id"]) is str
                and type(raw["version"]) is int]
    except Exception:  # noqa: BLE001 - the reference decoder says what is wrong
        return decode_batch_reference(data, topic_store)
    if len(keys) != len(raw_keys):  # a key of another shape: read it the reference way
        return decode_batch_reference(data, topic_store)
    return Batch(topic_store, entries, keys)


def decode_batch_reference(data: bytes, topic_store: str) -> Batch:
    """The batch decoder as first written: the definition `decode_batch` must match."""
    obj = _json(data, "journal batch")
    if obj.get("format") != BATCH_FORMAT:
        raise WireError(f"journal batch: format {obj.get('format')!r}, expected {BATCH_FORMAT!r}")
    if obj.get("store") != topic_store:
        raise WireError(f"journal batch names store {obj.get('store')!r} but was published on"
                        f" {topic_store!r}'s topic: refused")
    raw_entries, raw_keys = obj.get("entries"), obj.get("keys", [])
    if not isinstance(raw_entries, list):
        raise WireError("journal batch: entries must be a list")
    entries = []
    for i, raw in enumerate(raw_entries):
        try:
            entries.append(Entry.from_export(raw))
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            raise WireError(f"journal batch: entries[{i}] is malformed: {exc!r}") from None
    return Batch(topic_store, entries, parse_keys(raw_keys, "journal batch"))


def parse_keys(raw_keys: Any, what: str) -> list[WrappedKey]:
    if not isinstance(raw_keys, list):
        raise WireError(f"{what}: keys must be a list")
    keys = []
    for i, raw in enumerate(raw_keys):
        try:
            keys.append(WrappedKey(str(raw["key_id"]), int(raw["version"]),
                                   base64.b64decode(raw["wrapped"], validate=True)))
        except (KeyError, ValueError, TypeError) as exc:
            raise WireError(f"{what}: keys[{i}] is malformed: {exc!r}") from None
    return keys


# -- signed documents (HQ messages, acks, hellos, bundles) ------------------------------------

def sign_doc(key: Ed25519PrivateKey, doc: dict[str, Any]) -> bytes:
    return json.dumps({"doc": doc, "sig": key.sign(canonical_json(doc)).hex()},
                      separators=(",", ":"), ensure_ascii=False).encode()


def verify_doc(key: Ed25519PublicKey, data: bytes | str, what: str) -> tuple[dict[str, Any], str]:
    """The signed document and its signature (hex), or WireError saying why not."""
    obj = _json(data, what)
    doc, sig = obj.get("doc"), obj.get("sig")
    if not isinstance(doc, dict) or not isinstance(sig, str):
        raise WireError(f"{what}: unsigned (expected {{doc, sig}})")
    try:
        key.verify(bytes.fromhex(sig), canonical_json(doc))
    except (InvalidSignature, ValueError):
        raise WireError(f"{what}: bad signature (not signed by the expected key)") from None
    return doc, sig


def check_message(doc: dict[str, Any], chain: str, store: str) -> dict[str, Any]:
    """Shape and address of a verified HQ message; returns it unchanged."""
    msg_id, mtype, body = doc.get("id"), doc.get("type"), doc.get("body")
    if not isinstance(msg_id, str) or not 8 <= len(msg_id) <= 64:
        raise WireError("HQ message: missing or bad id")
    if mtype not in MESSAGE_TYPES:
        raise WireError(f"HQ message {msg_id}: unknown type {mtype!r}")
    if doc.get("chain") != chain:
        raise WireError(f"HQ message {msg_id}: for chain {doc.get('chain')!r}, not {chain!r}")
    if doc.get("store") not in (store, ALL):
        raise WireError(f"HQ message {msg_id}: addressed to store {doc.get('store')!r},"
                        f" not {store!r}")
    if not isinstance(body, dict):
        raise WireError(f"HQ message {msg_id}: body must be an object")
    missing = [f for f in MESSAGE_TYPES[mtype].fields if f not in body]
    if missing:
        raise WireError(f"HQ message {msg_id} ({mtype}): body lacks {', '.join(missing)}")
    return doc
