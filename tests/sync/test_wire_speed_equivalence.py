"""HQ's fast ways of reading entries equal the reference ones, and the format stays put.

`decode_batch` (orjson), `Entry.from_export` and `header_bytes` take short cuts for the usual
input; stores and HQ of older versions interoperate and stored journals verify only if every
byte that is hashed, signed or sent is what it always was. So: pinned bytes of one entry made
by the code before the short cuts, and Hypothesis comparing each fast way with its reference
on arbitrary input, well-formed or not (same result, or the same refusal in the same words).
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.ledger.journal import (
    GENESIS_HASH,
    Entry,
    entry_hash,
    header_bytes,
    header_bytes_reference,
    verify_chain,
)
from hub.sync.wire import (
    BATCH_FORMAT,
    WrappedKey,
    decode_batch,
    decode_batch_reference,
    encode_batches,
)

# -- pinned: made by the journal and wire code as they were before the fast ways ------------

TS = "2026-01-02T03:04:05.678901Z"
PAYLOAD = hashlib.sha256(b"payload").digest() * 3
STORE_KEY = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"loupe-pinned-store").digest())
HEADER = (b'["loupe/1","paris",7,"2026-01-02T03:04:05.678901Z","sale.completed","staff:marie",'
          b'"sale:R1-000007","store",1]')
HASH = "4ebcfae7da010f728bb4af1e0f4ec70a2bea3cf3eca139cfa456eed042e4fbfe"
SIGNATURE = ("93c5f69c939a5623fbfee484de820cb4d1bea39a88375ccb1e11ebcca23d53e8"
             "717ea978393e04966f90d10e5f0455b87e210caaeae705d281a64ebccde52306")
# Text JSON must escape: accents, quotes, a backslash, a newline.
ESCAPED_HEADER = (b'["loupe/1","lyon-2",8,"2026-01-02T03:04:05.678901Z","note.added",'
                  b'"staff:\\u00e9lodie \\"d\\u00e9d\\u00e9\\"","client:c\\\\1\\n","client:c1",2]')
ESCAPED_HASH = "b09888a064bfe835c5005896c813546ef8422a8830f7b4dd6615a24886e6d088"
BATCH = (
    b'{"format":"loupe-batch/1","store":"paris","entries":[{"seq":7,"ts":"2026-01-02T03:04:05'
    b'.678901Z","kind":"sale.completed","actor":"staff:marie","subject":"sale:R1-000007",'
    b'"key_id":"store","key_version":1,"payload":"I59Z7VXnN8dxR89VrQwbAwttfudIp0JpUvm4UtWpNe'
    b'Ujn1ntVec3x3FHz1WtDBsDC21+50inQmlS+bhS1ak15SOfWe1V5zfHcUfPVa0MGwMLbX7nSKdCaVL5uFLVqTXl",'
    b'"prev_hash":"0000000000000000000000000000000000000000000000000000000000000000","hash":"'
    + HASH.encode() + b'","signature":"' + SIGNATURE.encode() + b'"}],"keys":[{"key_id":'
    b'"store","version":1,"wrapped":"AQJzZWFsZWQ="}]}')


def pinned_entry() -> Entry:
    return Entry(7, TS, "sale.completed", "staff:marie", "sale:R1-000007", "store", 1, PAYLOAD,
                 GENESIS_HASH, bytes.fromhex(HASH), bytes.fromhex(SIGNATURE))


def test_an_entry_hashes_signs_and_travels_byte_for_byte_as_before():
    entry = pinned_entry()
    assert entry.header("paris") == HEADER
    assert entry_hash(GENESIS_HASH, HEADER, PAYLOAD).hex() == HASH
    assert STORE_KEY.sign(entry.hash) == entry.signature  # Ed25519 is deterministic
    assert verify_chain([entry], "paris", STORE_KEY.public_key(), start_seq=7).ok
    sent = encode_batches("paris", [entry], {"store": WrappedKey("store", 1, b"\x01\x02sealed")},
                          4096)
    assert sent == [(BATCH, 7)]
    batch = decode_batch(BATCH, "paris")
    assert batch.entries == [entry]
    assert batch.keys == [WrappedKey("store", 1, b"\x01\x02sealed")]
    assert batch == decode_batch_reference(BATCH, "paris")


def test_a_header_with_text_json_escapes_is_the_same_bytes_as_before():
    header = header_bytes("lyon-2", 8, TS, "note.added", 'staff:élodie "dédé"', "client:c\\1\n",
                          "client:c1", 2)
    assert header == ESCAPED_HEADER
    assert entry_hash(bytes.fromhex(HASH), header, PAYLOAD).hex() == ESCAPED_HASH


# -- the fast ways against the reference ones ------------------------------------------------

def outcome(fn: Any, *args: Any) -> tuple:
    """What a call gives: its result, or the kind of error and what it says."""
    try:
        return ("ok", fn(*args))
    except Exception as exc:  # noqa: BLE001 - comparing refusals is the point
        return ("refused", type(exc), str(exc))


TEXT = st.text(max_size=12) | st.sampled_from(["store", "sale.completed", TS, "client:c1", ""])
SMALL_INT = st.integers(min_value=-(2**70), max_value=2**70)


@settings(max_examples=400)
@given(store=TEXT, seq=SMALL_INT | st.booleans(), ts=TEXT, kind=TEXT, actor=TEXT,
       subject=TEXT, key_id=TEXT, key_version=SMALL_INT | st.booleans())
def test_the_header_is_the_reference_bytes_for_any_fields(store, seq, ts, kind, actor,
                                                          subject, key_id, key_version):
    args = (store, seq, ts, kind, actor, subject, key_id, key_version)
    assert header_bytes(*args) == header_bytes_reference(*args)


def hex_of(size: int) -> st.SearchStrategy[str]:
    return st.binary(min_size=size, max_size=size).map(bytes.hex)


ODD = (st.none() | st.booleans() | SMALL_INT | st.floats(allow_nan=False)
       | st.text(max_size=6) | st.lists(st.integers(), max_size=2)
       | st.sampled_from(["12", " 3 ", "AB==", "AB=", "zz", "0a 0b", "é", "1e3"]))
FIELDS = {
    "seq": st.integers(min_value=1, max_value=2**40),
    "ts": st.just(TS) | TEXT,
    "kind": TEXT, "actor": TEXT, "subject": TEXT, "key_id": TEXT,
    "key_version": st.integers(min_value=0, max_value=9),
    "payload": st.binary(max_size=64).map(lambda b: base64.b64encode(b).decode()),
    "prev_hash": hex_of(32), "hash": hex_of(32), "signature": hex_of(64),
}


@st.composite
def raw_entry(draw) -> dict[str, Any]:
    """An entry's export object: usually well-formed, sometimes a field odd or missing."""
    obj = {name: draw(strategy) for name, strategy in FIELDS.items()}
    if draw(st.integers(0, 9)) < 7:
        return obj
    for name in draw(st.lists(st.sampled_from(sorted(FIELDS)), min_size=1, max_size=2,
                              unique=True)):
        if draw(st.booleans()):
            del obj[name]
        else:
            obj[name] = draw(ODD)
    return obj


@settings(max_examples=400)
@given(raw_entry() | ODD)
def test_an_entry_reads_as_the_reference_reads_it(obj):
    assert outcome(Entry.from_export, obj) == outcome(Entry.from_export_reference, obj)


@st.composite
def batch_bytes(draw) -> bytes:
    """A journal batch as a store would send it, or spoilt the ways a sender or the wire
    could spoil one: wrong store or format, odd fields, NaN, integers past 64 bits, lone
    surrogates, duplicate keys, another encoding, cut short or a byte changed."""
    doc: dict[str, Any] = {
        "format": draw(st.sampled_from([BATCH_FORMAT] * 9 + ["loupe-batch/0"])),
        "store": draw(st.sampled_from(["paris"] * 9 + ["lyon"])),
        "entries": draw(st.lists(raw_entry(), max_size=4))}
    wrapped = st.binary(max_size=16).map(lambda b: base64.b64encode(b).decode())
    good_key = st.fixed_dictionaries({"key_id": TEXT, "version": st.integers(0, 5),
                                      "wrapped": wrapped})
    odd_key = st.fixed_dictionaries({"key_id": TEXT | ODD, "version": st.integers(0, 5) | ODD,
                                     "wrapped": wrapped | ODD})
    keys = draw(st.lists(good_key, max_size=2) | st.lists(odd_key, min_size=1, max_size=2))
    if keys or draw(st.booleans()):
        doc["keys"] = keys
    spoil = draw(st.sampled_from(["none"] * 12 + ["field", "nan", "huge", "surrogate",
                                  "duplicate", "utf16", "bom", "cut", "flip", "not_object",
                                  "entries_not_list", "keys_not_list"]))
    entries = doc["entries"]
    if spoil == "field" and entries:
        entries[0][draw(st.sampled_from(sorted(FIELDS)))] = draw(ODD)
    elif spoil == "nan" and entries:
        entries[0]["seq"] = draw(st.sampled_from([math.nan, math.inf, -math.inf]))
    elif spoil == "huge" and entries:
        entries[0][draw(st.sampled_from(["seq", "key_version"]))] = draw(
            st.integers(min_value=2**64, max_value=2**200) | st.integers(max_value=-(2**63) - 1))
    elif spoil == "surrogate" and entries:
        entries[0]["actor"] = "staff:\ud800"
    elif spoil == "not_object":
        return json.dumps([doc]).encode()
    elif spoil == "entries_not_list":
        doc["entries"] = draw(ODD)
    elif spoil == "keys_not_list":
        doc["keys"] = draw(ODD)
    text = json.dumps(doc, separators=(",", ":"), ensure_ascii=draw(st.booleans()))
    if spoil == "duplicate":
        text = text.replace('"format":', '"store":"lyon","format":', 1)
    if spoil == "utf16":
        return text.encode("utf-16")
    data = text.encode("utf-8", "surrogatepass")
    if spoil == "bom":
        data = b"\xef\xbb\xbf" + data
    elif spoil == "cut":
        data = data[:draw(st.integers(0, max(0, len(data) - 1)))]
    elif spoil == "flip" and data:
        at = draw(st.integers(0, len(data) - 1))
        data = data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1:]
    return data


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(batch_bytes())
def test_a_batch_decodes_as_the_reference_decodes_it(data):
    assert outcome(decode_batch, data, "paris") == outcome(decode_batch_reference, data, "paris")


def test_a_store_backlog_decodes_the_same_both_ways():
    # Entries sealed and chained as a store makes them, cut into batches as it sends them.
    prev, entries = GENESIS_HASH, []
    for seq in range(1, 301):
        header = header_bytes("paris", seq, TS, "sale.completed", "staff:marie",
                              f"sale:R1-{seq:06d}", "store", 1)
        payload = hashlib.sha256(seq.to_bytes(4, "big")).digest() * 20
        digest = entry_hash(prev, header, payload)
        entries.append(Entry(seq, TS, "sale.completed", "staff:marie", f"sale:R1-{seq:06d}",
                             "store", 1, payload, prev, digest, STORE_KEY.sign(digest)))
        prev = digest
    sent = encode_batches("paris", entries, {"store": WrappedKey("store", 1, b"k")}, 64 * 1024)
    assert len(sent) > 1
    got = []
    for data, _ in sent:
        batch = decode_batch(data, "paris")
        assert batch == decode_batch_reference(data, "paris")
        got += batch.entries
    assert got == entries
    assert verify_chain(got, "paris", STORE_KEY.public_key()).ok
