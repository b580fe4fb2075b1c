"""The sync area of the books (hub/sync/model.py), how journal batches are cut, and the one
registry of HQ message types: without a broker."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sync_helpers import new_store

from hub import layers
from hub.bus import EventBus
from hub.core import hq
from hub.core.errors import Refused
from hub.ledger.journal import Entry
from hub.ledger.keys import create_master_key
from hub.ledger.ledger import Ledger
from hub.ledger.schema import Migration, Schema
from hub.store import Store, init_store
from hub.sync import model
from hub.sync.model import Enrollment, SyncBook
from hub.sync.replicator import SyncState
from hub.sync.wire import (
    EntryTooLarge,
    WireError,
    WrappedKey,
    check_message,
    decode_batch,
    encode_batches,
)
from hub.words.labels import SYNC_STATE

# The hq area's v1 as Loupe first shipped it: the sync tables were made there.
_SYNC_TABLES_IN_HQ_V1 = """
CREATE TABLE sync_state (
    key   TEXT PRIMARY KEY,            -- enrollment, acked_seq
    value TEXT NOT NULL
);

CREATE TABLE sync_hq_keys (
    key_id  TEXT PRIMARY KEY,          -- data keys sealed to HQ's X25519 key (HQ alone opens)
    version INTEGER NOT NULL,
    wrapped BLOB NOT NULL
);

CREATE TABLE sync_refusals (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    at     TEXT NOT NULL,
    source TEXT NOT NULL,              -- the topic or command it came from
    reason TEXT NOT NULL
);
"""
ENROLLMENT = Enrollment("maison", "paris", "aa" * 32, "bb" * 32, "mqtt://hq.example:1883",
                        "cc" * 32, None)
SYNC_TABLES = ("sync_state", "sync_hq_keys", "sync_refusals")


def _versions(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(db)
    try:
        return dict(conn.execute("SELECT area, version FROM schema_versions").fetchall())
    finally:
        conn.close()


def _columns(db: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(db)
    try:
        return {t: conn.execute(f"PRAGMA table_info({t})").fetchall() for t in SYNC_TABLES}
    finally:
        conn.close()


async def test_an_existing_store_keeps_its_sync_state_when_the_tables_move(tmp_path: Path):
    # A store made before the sync area: the hq area made its tables, and sync wrote to them.
    old_hq = Schema("hq", (Migration(1, _SYNC_TABLES_IN_HQ_V1 + hq._HQ_V1),),
                    projections=hq.SCHEMA.projections)
    old_areas = tuple(dataclasses.replace(a, schema=old_hq) if a.name == "hq" else a
                      for a in layers.areas() if a.name != "sync")
    config = init_store(tmp_path / "paris", "paris", "Maison paris", "EUR")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{config.db_path}{suffix}").unlink(missing_ok=True)
    Ledger.create(config.db_path, "paris", config.master_key_file,
                  tuple(a.schema for a in old_areas))
    store = await Store.open(config, EventBus(), old_areas)
    try:
        await store.items.receive({"item_id": "paris-0", "sku": "RING-1", "description": "Ring",
                                   "category": "ring", "cost": 1, "tag_price": 2}, actor="admin")

        def old_code_writes(tx) -> None:  # what the replicator and enroll wrote, as they did
            tx.execute("INSERT INTO sync_state (key, value) VALUES ('enrollment', ?)",
                       (ENROLLMENT.to_json(),))
            tx.execute("INSERT INTO sync_state (key, value) VALUES ('acked_seq', '1')")
            tx.execute("INSERT INTO sync_hq_keys (key_id, version, wrapped) VALUES (?,?,?)",
                       ("store", 1, b"\x01" * 92))
            tx.execute("INSERT INTO sync_refusals (at, source, reason) VALUES (?,?,?)",
                       ("2026-11-26T10:00:00Z", "loupe/maison/paris/inbox", "bad signature"))

        await store.ledger.transact(old_code_writes)
    finally:
        await store.close()
    assert "sync" not in _versions(config.db_path)

    store = await Store.open(config.data_dir, EventBus())  # this Loupe: the sync area migrates
    try:
        book = SyncBook(store.ledger)
        assert await book.enrollment() == ENROLLMENT
        assert await book.cursor() == 1
        assert await book.sealed_keys() == {("store", 1): WrappedKey("store", 1, b"\x01" * 92)}
        [refusal] = await book.refusals()
        assert refusal["reason"] == "bad signature"
        # State, not projections: a rebuild keeps every row.
        await store.ledger.rebuild()
        assert await book.cursor() == 1 and len(await book.refusals()) == 1
        assert (await store.ledger.verify()).ok
    finally:
        await store.close()
    versions = _versions(config.db_path)
    # hq v2: head office's settings; v3: online orders to ship; sync v2: keys by version
    assert versions["sync"] == 2 and versions["hq"] == 3
    fresh = await new_store(tmp_path, "lyon", pieces=0)
    await fresh.close()
    assert _columns(config.db_path) == _columns(fresh.config.db_path)  # same tables, same columns


def test_the_sync_tables_are_the_sync_areas_own(tmp_path: Path):
    # Without the sync area, a new store has no sync tables: only the sync area makes them.
    without = tuple(a for a in layers.areas() if a.name != "sync")
    create_master_key(tmp_path / "master.key")
    db = tmp_path / "x.db"
    Ledger.create(db, "x", tmp_path / "master.key", tuple(a.schema for a in without))
    conn = sqlite3.connect(db)
    try:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    finally:
        conn.close()
    assert not names & set(SYNC_TABLES)
    assert "hq_messages" in names


async def test_the_sync_book(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(model, "REFUSALS_KEPT", 3)
    store = await new_store(tmp_path, "paris", pieces=0)
    try:
        book = SyncBook(store.ledger)
        assert await book.enrollment() is None and await book.cursor() == 0
        await book.save_cursor(5)
        await book.save_cursor(3)  # a late save of an older ack never moves the cursor back
        assert await book.cursor() == 5
        keys = [WrappedKey("store", 1, b"s" * 92), WrappedKey("client:C1", 1, b"c" * 92)]
        await book.keep_sealed_keys(keys, [])
        await book.keep_sealed_keys([], ["client:C1"])  # the client was forgotten
        assert await book.sealed_keys() == {("store", 1): keys[0]}
        for i in range(5):
            await book.refuse("test", f"refusal {i}")
        # The last few are kept, newest first.
        assert [r["reason"] for r in await book.refusals()] == [f"refusal {i}" for i in (4, 3, 2)]
    finally:
        await store.close()


# -- journal batches --------------------------------------------------------------------------

def _entry(seq: int, key_id: str, size: int) -> Entry:
    return Entry(seq, "2026-11-26T10:00:00Z", "sale.completed", "admin", f"sale:{seq}", key_id, 1,
                 bytes([seq % 256]) * size, b"\x00" * 32, bytes([seq % 256]) * 32, b"\x02" * 64)


KEYS = {k: WrappedKey(k, 1, k.encode() * 8) for k in ("store", "client:C1", "client:C2")}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(["store", "client:C1", "client:C2", "gone"]),
                          st.integers(0, 1500)), min_size=1, max_size=40),
       st.integers(1000, 6000))
def test_batches_fit_the_limit_and_carry_every_entry_once_with_its_keys(specs, limit):
    entries = [_entry(i + 1, key_id, size) for i, (key_id, size) in enumerate(specs)]
    try:
        chunks = encode_batches("paris", entries, KEYS, limit)
    except EntryTooLarge as exc:
        alone = encode_batches("paris", [entries[exc.seq - 1]], KEYS, 10**9)[0][0]
        assert len(alone) > limit == exc.limit and exc.size == len(alone)
        return
    got: list[Entry] = []
    for payload, last in chunks:
        assert len(payload) <= limit
        batch = decode_batch(payload, "paris")
        assert batch.entries and batch.entries[-1].seq == last
        # Exactly the sealed keys its own entries need (a key not held is not sent).
        assert sorted(k.key_id for k in batch.keys) == \
            sorted({e.key_id for e in batch.entries} & set(KEYS))
        assert all(k == KEYS[k.key_id] for k in batch.keys)
        got.extend(batch.entries)
    assert got == entries


def test_an_entry_too_big_for_any_message_is_named():
    with pytest.raises(EntryTooLarge, match="journal entry seq 1 needs"):
        encode_batches("paris", [_entry(1, "store", 5000)], KEYS, 4096)
    assert encode_batches("paris", [], KEYS, 4096) == []


# -- HQ message types: one registry -----------------------------------------------------------

def _message(mtype: str, body: dict) -> dict:
    return {"id": "m-0000000001", "type": mtype, "chain": "maison", "store": "paris",
            "issued_at": "2026-11-26T10:00:00Z", "body": body}


@pytest.mark.parametrize("mtype", sorted(hq.MESSAGE_TYPES))
def test_the_wire_asks_of_each_type_the_fields_the_registry_names(mtype):
    fields = hq.MESSAGE_TYPES[mtype].fields
    assert fields
    check_message(_message(mtype, dict.fromkeys(fields, "x")), "maison", "paris")
    for missing in fields:
        body = {f: "x" for f in fields if f != missing}
        with pytest.raises(WireError, match=f"body lacks {missing}"):
            check_message(_message(mtype, body), "maison", "paris")


async def test_a_new_message_type_is_one_entry(tmp_path: Path, monkeypatch):
    seen: list[tuple[dict, int]] = []
    note = hq.MessageType("note", ("text",), project=lambda tx, body, seq: seen.append((body, seq)))
    monkeypatch.setitem(hq.MESSAGE_TYPES, "note", note)
    check_message(_message("note", {"text": "closed on Monday"}), "maison", "paris")
    store = await new_store(tmp_path, "paris", pieces=0)
    try:
        applied = await store.hq.apply(_message("note", {"text": "closed on Monday"}), "ab")
        assert applied.outcome == "applied"
        assert seen == [({"text": "closed on Monday"}, applied.seq)]
        monkeypatch.delitem(hq.MESSAGE_TYPES, "note")
        with pytest.raises(Refused, match="does not know"):
            await store.hq.apply({**_message("note", {"text": "x"}), "id": "m-0000000002"}, "ab")
    finally:
        await store.close()


def test_every_sync_state_has_words_on_the_screen():
    assert {s.value for s in SyncState} <= set(SYNC_STATE)
    assert SyncState.IN_SYNC == "in_sync"  # the strings the API, the bus and the UI know
