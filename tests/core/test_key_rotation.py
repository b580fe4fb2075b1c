"""Data-key rotation: new versions seal new entries, every older version still opens what
it sealed, a forgotten client's key stays destroyed through any rotation, and a database
from before rotation (ledger schema v1) migrates with every key."""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from hub.cli import main
from hub.control import Books
from hub.keys_cli import ROTATED, rotate_keys
from hub.ledger.keys import KeyDestroyed, create_master_key
from hub.ledger.ledger import Ledger
from hub.store import Store
from tests.builders import client, piece


async def _rotate(store: Store, store_only: bool = False) -> dict:
    return await rotate_keys(Books(store), store_only=store_only, actor="admin")


def _key_rows(db: Path) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT key_id, version, wrapped IS NULL FROM keys"
                            " ORDER BY key_id, version").fetchall()
    finally:
        conn.close()


async def test_a_rotation_seals_new_entries_and_keeps_old_ones_readable(store):
    zoe = (await store.clients.create(client(), "anna"))["client_id"]
    gone = (await store.clients.create(client("Ida", "Oubli"), "anna"))["client_id"]
    await store.items.receive(piece(1), "admin")
    await store.clients.forget(gone, actor="admin", reason="erasure request")
    before = store.ledger.seq

    done = await _rotate(store)
    assert done["store_version"] == 2 and done["keys"] == 2  # the store's and Zoë's

    await store.clients.update(zoe, {"notes": "prefers rose gold"}, actor="anna")
    await store.items.receive(piece(2), "admin")
    entries = await store.ledger.entries(0, 10_000)
    rotated = [e for e in entries if e.kind == ROTATED]
    payloads = [store.ledger.decrypt(e) for e in rotated]
    assert sorted(p["key_id"] for p in payloads) == ["client:" + zoe, "store"]
    assert all(set(p) == {"key_id", "version"} for p in payloads)  # never the key itself
    assert all(e.subject == "keys" and e.key_id == "store" for e in rotated)
    new = [e for e in entries if e.seq > before and e.kind != ROTATED]
    assert {(e.key_id, e.key_version) for e in new} == {("store", 2), (f"client:{zoe}", 2)}
    assert all(e.key_version == 1 for e in entries if e.seq <= before)

    # The forgotten client was not rotated: her key is still destroyed, and only v1 exists.
    rows = _key_rows(store.config.db_path)
    assert [r for r in rows if r[0] == f"client:{gone}"] == [(f"client:{gone}", 1, 1)]
    try:
        store.ledger.keyring.get(f"client:{gone}")
        raise AssertionError("a forgotten client's key came back")
    except KeyDestroyed:
        pass

    # Forgetting after a rotation destroys every version.
    await store.clients.forget(zoe, actor="admin", reason="erasure request")
    assert [r for r in _key_rows(store.config.db_path) if r[0] == f"client:{zoe}"] == \
        [(f"client:{zoe}", 1, 1), (f"client:{zoe}", 2, 1)]
    assert (await store.ledger.verify()).ok

    config = store.config
    await store.close()
    again = await Store.open(config)
    try:
        for e in await again.ledger.entries(0, 10_000):
            payload = again.ledger.decrypt(e)
            assert (payload is None) == e.key_id.startswith("client:"), e  # both forgotten
        assert (await again.items.get(piece(1)["item_id"]))["item_id"] == piece(1)["item_id"]
        assert again.ledger.keyring.get("store")[0] == 2
        assert again.ledger.keyring.versions("store") == [1, 2]
    finally:
        await again.close()


async def test_a_ledger_from_before_rotation_migrates_with_every_key(make_config):
    config = make_config()
    store = await Store.open(config)
    zoe = (await store.clients.create(client(), "anna"))["client_id"]
    await store.items.receive(piece(1), "admin")
    await store.close()
    # The keys table as ledger v1 had it (one row per key id), rows and all.
    conn = sqlite3.connect(config.db_path)
    conn.executescript("""
        CREATE TABLE keys_v1 (key_id TEXT PRIMARY KEY, version INTEGER NOT NULL,
            wrapped BLOB, created_seq INTEGER, destroyed_seq INTEGER);
        INSERT INTO keys_v1 SELECT * FROM keys;
        DROP TABLE keys;
        ALTER TABLE keys_v1 RENAME TO keys;
        UPDATE schema_versions SET version = 1 WHERE area = 'ledger';
    """)
    conn.close()

    store = await Store.open(config)
    try:
        conn = sqlite3.connect(config.db_path)
        pk = [r[1] for r in conn.execute("PRAGMA table_info(keys)") if r[5]]
        version = conn.execute("SELECT version FROM schema_versions WHERE area = 'ledger'"
                               ).fetchone()[0]
        conn.close()
        assert pk == ["key_id", "version"] and version == 2
        assert (await store.clients.get(zoe))["profile"]["last_name"] == client()["last_name"]
        await _rotate(store)
        await store.clients.update(zoe, {"notes": "after"}, actor="anna")
        assert (await store.clients.get(zoe))["profile"]["notes"] == "after"
        assert (await store.ledger.verify()).ok
    finally:
        await store.close()


def test_loupe_keys_rotate_without_a_running_hub(make_config, capsys):
    config = make_config()
    assert main(["keys", "rotate", "--store-only", "--data-dir", str(config.data_dir)]) == 0
    assert "version 2" in capsys.readouterr().out
    assert ("store", 2, 0) in _key_rows(config.db_path)


# -- any interleaving ---------------------------------------------------------------------------

class _Nothing:
    def apply(self, tx, entry, payload) -> None:
        pass


KEYS = ("store", "client:a", "client:b", "client:c")
STEPS = st.lists(st.tuples(st.sampled_from(("append", "rotate", "forget", "reopen")),
                           st.sampled_from(KEYS)), max_size=25)


@settings(max_examples=30, deadline=None)
@given(steps=STEPS)
def test_any_interleaving_of_appends_rotations_and_forgetting(steps):
    asyncio.run(_interleave(steps))


async def _interleave(steps: list[tuple[str, str]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db, key = Path(tmp) / "x.db", Path(tmp) / "master.key"
        create_master_key(key)
        Ledger.create(db, "x", key, ())
        ledger = await Ledger.open(db, "x", key, _Nothing(), (), readers=1)
        await ledger.transact(lambda tx: [tx.create_key(k) for k in KEYS[1:]])
        forgotten: set[str] = set()
        written: dict[int, tuple[str, dict]] = {}  # seq -> (key id, payload)
        try:
            for n, (op, key_id) in enumerate(steps):
                if op == "append" and key_id not in forgotten:
                    payload = {"n": n}
                    e = await ledger.transact(
                        lambda tx, k=key_id, p=payload: tx.append("test", "t", p, actor="a",
                                                                  key_id=k))
                    written[e.seq] = (key_id, payload)
                elif op == "rotate" and key_id not in forgotten:
                    await ledger.transact(lambda tx, k=key_id: tx.rotate_key(k))
                elif op == "forget" and key_id != "store" and key_id not in forgotten:
                    await ledger.transact(lambda tx, k=key_id: tx.destroy_key(k))
                    forgotten.add(key_id)
                elif op == "reopen":
                    await ledger.close()
                    ledger = await Ledger.open(db, "x", key, _Nothing(), (), readers=1)
                await _check(ledger, written, forgotten)
            await ledger.close()
            ledger = await Ledger.open(db, "x", key, _Nothing(), (), readers=1)
            await _check(ledger, written, forgotten)
            assert (await ledger.verify()).ok
        finally:
            await ledger.close()


async def _check(ledger: Ledger, written: dict, forgotten: set[str]) -> None:
    for e in await ledger.entries(0, 10_000):
        key_id, payload = written[e.seq]
        if key_id in forgotten:
            assert ledger.decrypt(e) is None
            try:
                ledger.keyring.get(key_id, e.key_version)
                raise AssertionError(f"{key_id} v{e.key_version} was forgotten but opens")
            except KeyDestroyed:
                pass
        else:
            assert ledger.decrypt(e) == payload
