"""Tamper evidence, export, keys, migrations and faults of the ledger."""

import asyncio
import json
import os
import shutil
import sqlite3

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.cli import main
from hub.core.schema import CORE
from hub.layers import areas, schemas
from hub.ledger.audit import ranges, verify_every_signature, verify_on_cores
from hub.ledger.export import export_journal
from hub.ledger.journal import ENTRY_COLUMNS, GENESIS_HASH, entry_hash, header_bytes
from hub.ledger.keys import KeyError_
from hub.ledger.ledger import Ledger, LedgerError, dump_projections, verify_database
from hub.ledger.schema import SchemaError, migrate, schema_version
from hub.store import Store
from tests.builders import cash, client, piece

COLUMNS = ("ts", "kind", "actor", "subject", "key_id", "key_version", "payload", "prev_hash",
           "hash", "signature")


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    """A store with 12 entries of every kind, built once; tests tamper with copies."""
    from hub.store import init_store

    root = tmp_path_factory.mktemp("pristine")
    config = init_store(root / "store", "paris-01", "Maison", "EUR")

    async def fill():
        async with await Store.open(config) as store:
            for n in range(6):
                await store.items.receive(piece(n, tag_price=1000 + n), "admin")
            c = await store.clients.create(client(), "anna")
            await store.sales.complete(register_id="R1", actor="anna", lines=[{"item_id": "P-1"}],
                                       tenders=cash(1001), client_id=c["client_id"])
            s = await store.sales.complete(register_id="R2", actor="anna",
                                           lines=[{"item_id": "P-2"}], tenders=cash(1002))
            await store.sales.void(s["sale_id"], register_id="R2", actor="m", reason="keyed")
            await store.items.move("P-3", "safe", "anna")
            await store.clients.update(c["client_id"], {"notes": "VIP"}, "anna")

    asyncio.run(fill())
    return config


def tampered_copy(pristine, tmp_path, sql, params=()):
    db = tmp_path / "copy.db"
    shutil.copy(pristine.db_path, db)
    conn = sqlite3.connect(db)
    conn.execute("DROP TRIGGER journal_no_update")
    conn.execute("DROP TRIGGER journal_no_delete")
    conn.execute(sql, params)
    conn.commit()
    conn.close()
    return db


def test_pristine_store_verifies(pristine, capsys):
    assert main(["ledger", "verify", "--data-dir", str(pristine.data_dir)]) == 0
    assert capsys.readouterr().out.strip() == "ok: 12 entries"


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seq=st.integers(1, 12), column=st.sampled_from(COLUMNS), data=st.data())
def test_flipping_any_byte_is_detected_at_its_seq(pristine, tmp_path, seq, column, data):
    conn = sqlite3.connect(pristine.db_path)
    value = conn.execute(f"SELECT {column} FROM journal WHERE seq = ?", (seq,)).fetchone()[0]
    conn.close()
    if isinstance(value, int):
        new = value + data.draw(st.integers(1, 5))
    else:
        raw = bytearray(value if isinstance(value, bytes) else value.encode())
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] ^= data.draw(st.integers(1, 255))
        new = bytes(raw) if isinstance(value, bytes) else raw.decode("latin-1")
    db = tampered_copy(pristine, tmp_path, f"UPDATE journal SET {column} = ? WHERE seq = ?",
                       (new, seq))
    verdict = verify_database(db, "paris-01", signatures="all")
    assert not verdict.ok
    assert verdict.bad_seq == seq
    # The default checks every hash but only the anchors' signatures: any change to what
    # the store wrote is found at its seq; a damaged signature only on the tip (no Z here).
    verdict = verify_database(db, "paris-01")
    if column != "signature" or seq == 12:
        assert (verdict.ok, verdict.bad_seq) == (False, seq)
    else:
        assert verdict.ok


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seq=st.integers(1, 12), closed=st.booleans())
def test_a_rehashed_chain_is_found_at_its_first_edit_by_bisection(pristine, tmp_path, seq,
                                                                  closed):
    """Edit an entry and re-hash every one after it (all a forger without the store's key
    can do): the hashes link, the signatures do not; the first unsigned entry is named."""
    db = tmp_path / "rehash.db"
    shutil.copy(pristine.db_path, db)
    conn = sqlite3.connect(db)
    conn.execute("DROP TRIGGER journal_no_update")
    if closed:  # a Z report among the entries: an anchor before or after the edit
        conn.execute("UPDATE journal SET kind = 'day.closed' WHERE seq = 6")
    rows = conn.execute(f"SELECT {ENTRY_COLUMNS} FROM journal ORDER BY seq").fetchall()
    prev = GENESIS_HASH
    for row in rows:
        row = list(row)
        if row[0] == seq:
            row[3] = "mallory"
        if row[0] >= seq or (closed and row[0] >= 6):
            row[8] = prev
            row[9] = entry_hash(prev, header_bytes("paris-01", *row[:7]), row[7])
            conn.execute("UPDATE journal SET actor = ?, prev_hash = ?, hash = ? WHERE seq = ?",
                         (row[3], row[8], row[9], row[0]))
        prev = row[9]
    conn.commit()
    conn.close()
    first = min(seq, 6) if closed else seq  # the kind changed at 6 is an edit too
    for mode in ("anchors", "all"):
        verdict = verify_database(db, "paris-01", signatures=mode)
        assert (verdict.ok, verdict.bad_seq) == (False, first), mode
        assert "signature" in verdict.reason
    assert verify_every_signature(db, processes=2).bad_seq == first
    for cores in (2, 5):  # the edit in any range of the journal cut between cores
        assert verify_on_cores(db, processes=cores).bad_seq == first


def test_every_signature_on_every_core(pristine, tmp_path, capsys):
    assert ranges(12, 5) == [(1, 3), (4, 6), (7, 8), (9, 10), (11, 12)]
    assert ranges(2, 8) == [(1, 1), (2, 2)] and ranges(0, 4) == []
    assert verify_every_signature(pristine.db_path, processes=2).ok
    db = tampered_copy(pristine, tmp_path, "UPDATE journal SET signature = ? WHERE seq IN (5, 9)",
                       (bytes(64),))
    verdict = verify_every_signature(db, processes=3)
    assert (verdict.ok, verdict.bad_seq) == (False, 5)
    assert verify_database(db).ok  # contents intact: the default mode does not look
    data_dir = tmp_path / "dd"
    shutil.copytree(pristine.data_dir, data_dir)
    shutil.copy(db, data_dir / "loupe.db")
    capsys.readouterr()
    assert main(["ledger", "verify", "--data-dir", str(data_dir), "--all-signatures",
                 "--processes", "2"]) == 1
    out = capsys.readouterr()
    assert out.out.startswith("bad: seq 5: signature does not verify")
    assert "every signature" in out.err


def test_deleting_a_row_names_the_gap(pristine, tmp_path):
    db = tampered_copy(pristine, tmp_path, "DELETE FROM journal WHERE seq = 7")
    verdict = verify_database(db, "paris-01")
    assert (verdict.ok, verdict.bad_seq) == (False, 7)
    assert "missing" in verdict.reason
    for cores in (2, 3, 4):  # 7 at a range's start, its end, or inside it
        verdict = verify_on_cores(db, processes=cores)
        assert (verdict.ok, verdict.bad_seq) == (False, 7), cores


def test_the_journal_on_several_cores_says_what_one_says(pristine):
    for cores in (1, 2, 5, 12, 20):
        for mode in ("anchors", "all"):
            verdict = verify_on_cores(pristine.db_path, processes=cores, signatures=mode)
            assert (verdict.ok, verdict.count, verdict.mode) == (True, 12, mode)


def test_swapping_two_rows_is_detected(pristine, tmp_path):
    db = tmp_path / "swap.db"
    shutil.copy(pristine.db_path, db)
    conn = sqlite3.connect(db)
    conn.execute("DROP TRIGGER journal_no_update")
    cols = ", ".join(COLUMNS)
    a = conn.execute(f"SELECT {cols} FROM journal WHERE seq = 4").fetchone()
    b = conn.execute(f"SELECT {cols} FROM journal WHERE seq = 9").fetchone()
    sets = ", ".join(f"{c} = ?" for c in COLUMNS)
    conn.execute(f"UPDATE journal SET {sets} WHERE seq = 4", (*b,))
    conn.execute(f"UPDATE journal SET {sets} WHERE seq = 9", (*a,))
    conn.commit()
    conn.close()
    assert verify_database(db, "paris-01").bad_seq == 4


def test_cli_names_the_first_bad_seq(pristine, tmp_path, capsys):
    data_dir = tmp_path / "dd"
    shutil.copytree(pristine.data_dir, data_dir)
    conn = sqlite3.connect(data_dir / "loupe.db")
    conn.execute("DROP TRIGGER journal_no_update")
    conn.execute("UPDATE journal SET actor = 'mallory' WHERE seq = 8")
    conn.commit()
    conn.close()
    assert main(["ledger", "verify", "--data-dir", str(data_dir)]) == 1
    assert capsys.readouterr().out.startswith("bad: seq 8: hash does not match")


def test_the_journal_refuses_update_and_delete(pristine, tmp_path):
    db = tmp_path / "t.db"
    shutil.copy(pristine.db_path, db)
    conn = sqlite3.connect(db)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE journal SET actor = 'x' WHERE seq = 1")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM journal WHERE seq = 12")
    conn.close()


def test_export_verifies_standalone_and_detects_edits(pristine, tmp_path, capsys):
    out = tmp_path / "journal.jsonl"
    assert export_journal(pristine.db_path, out) == 12
    assert main(["ledger", "verify", "--export", str(out)]) == 0
    assert capsys.readouterr().out.strip() == "ok: 12 entries"
    lines = out.read_text().splitlines()
    head = json.loads(lines[0])
    assert head["store_id"] == "paris-01" and len(head["public_key"]) == 64
    # Pinning the wrong public key fails; pinning the right one passes.
    assert main(["ledger", "verify", "--export", str(out), "--public-key", "00" * 32]) == 1
    assert main(["ledger", "verify", "--export", str(out), "--public-key",
                 head["public_key"]]) == 0
    entry = json.loads(lines[5])
    entry["actor"] = "mallory"
    lines[5] = json.dumps(entry)
    out.write_text("\n".join(lines) + "\n")
    capsys.readouterr()
    assert main(["ledger", "verify", "--export", str(out)]) == 1
    assert capsys.readouterr().out.startswith("bad: seq 5:")
    out.write_text(lines[0] + "\n{not json\n")
    assert main(["ledger", "verify", "--export", str(out)]) == 1
    assert "line 2: malformed entry" in capsys.readouterr().err


async def test_master_key_problems_are_named(make_config):
    config = make_config()
    os.chmod(config.master_key_file, 0o644)
    with pytest.raises(KeyError_, match="readable by others .* chmod 600"):
        await Store.open(config)
    os.chmod(config.master_key_file, 0o600)
    good = config.master_key_file.read_text()
    config.master_key_file.write_text("00" * 32)
    with pytest.raises(KeyError_, match="does not open key .* wrong master key file"):
        await Store.open(config)
    config.master_key_file.write_text("not hex")
    with pytest.raises(KeyError_, match="not 64 hexadecimal"):
        await Store.open(config)
    config.master_key_file.unlink()
    with pytest.raises(KeyError_, match="is missing"):
        await Store.open(config)
    config.master_key_file.write_text(good)
    os.chmod(config.master_key_file, 0o600)
    async with await Store.open(config):
        pass


async def test_a_database_from_another_store_is_refused(make_config):
    lyon = make_config("lyon", store_id="lyon-01")
    paris = make_config("paris", store_id="paris-01")
    shutil.copy(lyon.db_path, paris.db_path)
    with pytest.raises(LedgerError, match="belongs to store 'lyon-01', not 'paris-01'"):
        await Store.open(paris)


async def test_init_refuses_to_overwrite(make_config):
    make_config()
    with pytest.raises(LedgerError, match="already holds a store"):
        make_config()


async def test_older_schema_is_migrated_and_projections_backfilled(pristine, tmp_path):
    """A database made when the core schema was at v1 (no item_history) opens and migrates."""
    data_dir = tmp_path / "old"
    shutil.copytree(pristine.data_dir, data_dir)
    conn = sqlite3.connect(data_dir / "loupe.db")
    # Undo what core migrations 2-11 added, leaving exactly a v1 database.
    conn.execute("ALTER TABLE clients DROP COLUMN card")  # core v11's: the index cards
    conn.execute("ALTER TABLE sale_lines DROP COLUMN service")
    # core v10's (prices): the rule, the rate, the printed tag, quotes, accepted moves
    conn.execute("DROP INDEX items_priced")
    for column in ("pricing", "price_rate", "price_rate_seq", "tag_printed_price"):
        conn.execute(f"ALTER TABLE items DROP COLUMN {column}")
    conn.execute("ALTER TABLE sale_lines DROP COLUMN priced")
    conn.execute("DROP TABLE price_quotes")
    conn.execute("DROP TABLE rate_acceptances")
    conn.execute("DROP INDEX clients_merged")
    conn.execute("ALTER TABLE clients DROP COLUMN merged_into")
    conn.execute("DROP TABLE items_fts_terms")
    conn.execute("DROP TABLE items_fts")
    conn.execute("DROP INDEX items_received")
    conn.execute("DROP INDEX sales_ts")
    conn.execute("DROP TABLE item_history")
    conn.execute("DROP TABLE closures")
    for index in ("status", "category", "location", "designer", "metal"):
        conn.execute(f"DROP INDEX items_{index}_serial")
    conn.execute("CREATE INDEX items_status ON items(status, category)")
    conn.execute("CREATE INDEX items_location ON items(location)")
    conn.execute("UPDATE schema_versions SET version = 1 WHERE area = 'core'")
    conn.commit()
    assert schema_version(conn, "core") == 1
    conn.close()
    config = pristine.__class__(**{**pristine.__dict__, "data_dir": data_dir,
                                   "master_key_file": data_dir / "master.key"})
    async with await Store.open(config) as store:
        kinds = [h["kind"] for h in await store.items.history("P-2")]
        assert kinds == ["item.received", "sale.completed", "sale.voided"]
    conn = sqlite3.connect(data_dir / "loupe.db")
    assert schema_version(conn, "core") == CORE.latest
    conn.close()
    assert dump_projections(data_dir / "loupe.db", schemas(areas())) == \
        dump_projections(pristine.db_path, schemas(areas()))


def test_a_newer_schema_is_refused(tmp_path):
    conn = sqlite3.connect(tmp_path / "x.db")
    migrate(conn, (CORE,))
    conn.execute("UPDATE schema_versions SET version = 99 WHERE area = 'core'")
    conn.commit()
    with pytest.raises(SchemaError, match="version 99, newer than this hub knows"):
        migrate(conn, (CORE,))


async def test_a_full_disk_records_nothing_and_loses_nothing(store):
    for n in range(3):
        await store.items.receive(piece(n), "admin")
    before = dump_projections(store.config.db_path, schemas(areas()))
    pages = store.ledger._writer_conn.execute("PRAGMA page_count").fetchone()[0]
    # SQLite reports SQLITE_FULL when the file may not grow: the same error as a full disk.
    await store.ledger.transact(lambda tx: tx.execute(f"PRAGMA max_page_count = {pages}"))
    big = piece(99, description="x" * 400, stones=[
        {"type": "diamond", "carat_cents": 1, "certificate": str(10**9 + i)} for i in range(200)])
    results = await asyncio.gather(*[store.items.receive({**big, "item_id": f"B-{i}"}, "admin")
                                     for i in range(40)], return_exceptions=True)
    assert all(isinstance(r, LedgerError) for r in results)
    assert "the disk is full: nothing was recorded" in str(results[0])
    assert dump_projections(store.config.db_path, schemas(areas())) == before
    await store.ledger.transact(lambda tx: tx.execute("PRAGMA max_page_count = 1073741823"))
    await store.items.receive(piece(4), "admin")
    verdict = verify_database(store.config.db_path)
    assert verdict.ok and verdict.count == store.ledger.seq


async def test_rebuild_reproduces_projections_exactly(store):
    c = await store.clients.create(client(), "anna")
    for n in range(5):
        await store.items.receive(piece(n), "admin")
    await store.sales.complete(register_id="R1", actor="a", lines=[{"item_id": "P-0"}],
                               tenders=cash(950_000), client_id=c["client_id"])
    await store.clients.forget(c["client_id"], "m")
    before = dump_projections(store.config.db_path, schemas(areas()))
    assert await store.ledger.rebuild() == store.ledger.seq
    assert dump_projections(store.config.db_path, schemas(areas())) == before


def test_ledger_create_refuses_existing_file(tmp_path):
    (tmp_path / "x.db").write_bytes(b"")
    with pytest.raises(LedgerError, match="refusing to overwrite"):
        Ledger.create(tmp_path / "x.db", "s", tmp_path / "k", schemas(areas()))
