"""Upgrades: a database of every earlier schema, as that release wrote it, migrated forward.

tests/fixtures/releases/ keeps one small demo store per release whose schema versions
changed (scripts/release-fixture makes them; docs/operations.md, "Upgrades"). Each is opened
by this code the way `loupe run` opens it: migrated and rebuilt where a migration asks, its
journal untouched, its figures the same, its projections those of a fresh rebuild, and a
sale written after. Books newer than this code are refused, the file left as it was; and
`loupe run` refuses to migrate books this code has not verified (`hub/ledger/upgrade.py`).
"""

from __future__ import annotations

import hashlib
import json
import lzma
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from hub import layers
from hub.config import Config, ConfigError, load_config
from hub.core.errors import Refused
from hub.ledger import schema, upgrade
from hub.ledger.ledger import dump_projections, verify_database
from hub.store import Store
from tests.builders import cash, piece
from tests.core.test_one_writer import ENV, Hub

RELEASES = sorted(p for p in (Path(__file__).parent.parent / "fixtures" / "releases").iterdir()
                  if (p / "release.json").exists())
SCHEMAS = (schema.LEDGER, *layers.schemas(layers.areas()))
LATEST = upgrade.code_versions(SCHEMAS)
# What a store's summary says, compared as the release said it. The stock value is compared
# from core 10 on only: since then memo and consignment pieces are counted apart (681c367).
FACTS = ("pieces", "pieces_by_status", "clients", "sales", "sales_total")


def release(path: Path) -> dict:
    return json.loads((path / "release.json").read_text(encoding="utf-8"))


def unpack(path: Path, into: Path) -> Path:
    """The release's store, as it was left: its database, its master key and its config."""
    data = into / path.name
    data.mkdir(parents=True)
    for name in ("master.key", "loupe.toml"):
        shutil.copy2(path / name, data / name)
    (data / "master.key").chmod(0o600)  # git keeps no mode but the executable bit
    with lzma.open(path / "loupe.db.xz") as src, open(data / "loupe.db", "wb") as dst:
        shutil.copyfileobj(src, dst)
    return data


def released_config(data: Path) -> Config:
    """The release's loupe.toml, with what this code's refusal asks an operator to change."""
    try:
        return load_config(data)
    except ConfigError as refused:
        # Staff moved from the config into the books (ecd2d54): the refusal says to remove
        # [[staff]] and enroll each person with `loupe staff add`.
        assert "remove [[staff]] from loupe.toml" in str(refused)
    path = data / "loupe.toml"
    kept, in_staff = [], False
    for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
        if line.startswith("["):
            in_staff = line.strip() == "[[staff]]"
        if not in_staff:
            kept.append(line)
    path.write_text("".join(kept), encoding="utf-8")
    return load_config(data)


def versions(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return upgrade.database_versions(conn)
    finally:
        conn.close()


def journal_digest(db: Path) -> tuple[int, str, str]:
    """The journal's count, tip hash, and a digest of every row as stored."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        digest = hashlib.sha256()
        count, tip = 0, ""
        for row in conn.execute("SELECT * FROM journal ORDER BY seq"):
            digest.update(repr(tuple(row)).encode())
            count, tip = count + 1, bytes(row[9]).hex()
        return count, tip, digest.hexdigest()
    finally:
        conn.close()


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def loupe_run(data: Path) -> subprocess.CompletedProcess:
    """`loupe run` as an operator starts it, for a refusal: it must exit before serving."""
    return subprocess.run(
        [sys.executable, "-m", "hub", "run", "--data-dir", str(data), "--host", "127.0.0.1",
         "--port", "0", "--insecure-http", "--no-zeroconf"],
        capture_output=True, text=True, env=ENV, timeout=120)


def verify(capsys, data: Path) -> tuple[int, str]:
    from hub.cli import main

    code = main(["ledger", "verify", "--data-dir", str(data), "--quiet"])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def recorded(db: Path) -> dict[str, str]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return dict(conn.execute("SELECT key, value FROM store_meta"
                                 " WHERE key LIKE 'verified_%'").fetchall())
    finally:
        conn.close()


def an_upgrade() -> Path:
    """The newest release this code migrates (an upgrade pending)."""
    return next(p for p in reversed(RELEASES)
                if release(p)["schema_versions"] != LATEST and "[[staff]]" not in
                (p / "loupe.toml").read_text(encoding="utf-8"))


def test_every_migration_step_is_exercised_by_a_release():
    """Each area's step from v(n-1) to v(n) meets a real database of v(n-1) or older (the
    first release's own versions are what `loupe init` makes: no step to exercise)."""
    kept = [release(p)["schema_versions"] for p in RELEASES]
    assert len(RELEASES) >= 2
    for area, latest in LATEST.items():
        for version in range(kept[0].get(area, 0) + 1, latest + 1):
            assert any(v.get(area, 0) < version for v in kept), (
                f"no release fixture from before {area} v{version}: scripts/release-fixture")


@pytest.mark.parametrize("path", RELEASES, ids=[p.name for p in RELEASES])
async def test_a_released_store_opens_migrated_with_its_books_whole(path, tmp_path):
    kept = release(path)
    data = unpack(path, tmp_path)
    config = released_config(data)
    db = config.db_path
    assert versions(db) == kept["schema_versions"]
    count, tip, rows = journal_digest(db)
    assert (count, tip) == (kept["journal_entries"], kept["tip_hash"])

    async with await Store.open(config) as store:  # as `loupe run` opens it: migrated
        summary = await store.summary()
    assert versions(db) == LATEST
    assert journal_digest(db) == (count, tip, rows)  # migrations never touch the journal
    assert verify_database(db).ok
    facts = FACTS + (("stock_value",) if kept["schema_versions"]["core"] >= 10 else ())
    assert {k: summary[k] for k in facts} == {k: kept["facts"][k] for k in facts}

    upgraded = dump_projections(db, SCHEMAS)
    async with await Store.open(config) as store:
        assert await store.rebuild() == count
    assert dump_projections(db, SCHEMAS) == upgraded  # what a rebuild from the journal makes

    async with await Store.open(config) as store:
        await store.items.receive(piece("UPG-1"), "admin")
        # With a piece of the release's own, the first free to sell (not on a tray, say).
        for old in await store.ledger.fetch(
                "SELECT item_id, tag_price FROM items WHERE status = 'in_stock'"
                " AND COALESCE(ownership, 'owned') = 'owned' ORDER BY item_id"):
            try:
                sale = await store.sales.complete(
                    register_id="R1", actor="anna",
                    lines=[{"item_id": "UPG-1"}, {"item_id": old["item_id"]}],
                    tenders=cash(piece(1)["tag_price"] + old["tag_price"]))
                break
            except Refused:
                continue
        else:
            pytest.fail("no piece of the release could be sold")
        after = await store.summary()
        assert (await store.sales.get(sale["sale_id"]))["total"] == sale["total"]
    assert after["sales"] == summary["sales"] + 1
    assert after["sales_total"] == summary["sales_total"] + sale["total"]
    assert journal_digest(db)[0] > count and verify_database(db).ok


def test_books_of_a_newer_loupe_are_refused_and_left_as_they_are(make_config, capsys):
    config = make_config()
    conn = sqlite3.connect(config.db_path)
    conn.execute("UPDATE schema_versions SET version = version + 1 WHERE area = 'core'")
    conn.commit()
    conn.close()
    before = file_digest(config.db_path)
    said = (f"the database's core schema is version {LATEST['core'] + 1}, newer than this"
            f" hub knows ({LATEST['core']}): upgrade Loupe before opening it")

    run = loupe_run(config.data_dir)
    assert run.returncode == 1 and run.stderr.strip().endswith(said), run.stderr
    assert "Traceback" not in run.stderr and "serving" not in run.stdout
    code, out = verify(capsys, config.data_dir)
    assert code == 1 and said in out
    assert file_digest(config.db_path) == before
    assert recorded(config.db_path) == {}


async def test_run_refuses_an_upgrade_until_this_code_has_verified_the_books(tmp_path, capsys):
    path = an_upgrade()
    data = unpack(path, tmp_path)
    db = data / "loupe.db"
    before = file_digest(db)
    entries = release(path)["journal_entries"]

    run = loupe_run(data)
    assert run.returncode == 1, run.stderr
    assert "loupe: error: Loupe was upgraded (schema " in run.stderr
    assert f"run `loupe ledger verify --data-dir {data}` (about 1 s for {entries} entries)" \
        in run.stderr
    assert "Traceback" not in run.stderr and "serving" not in run.stdout
    assert file_digest(db) == before and versions(db) == release(path)["schema_versions"]

    code, out = verify(capsys, data)
    assert code == 0 and f"ok: {entries} entries" in out
    assert recorded(db) == {"verified_seq": str(entries),
                            "verified_hash": release(path)["tip_hash"],
                            "verified_by": upgrade.fingerprint(SCHEMAS)}
    assert versions(db) == release(path)["schema_versions"]  # verify migrates nothing

    hub = Hub(data)  # starts: it migrates and serves
    try:
        assert versions(db) == LATEST
    finally:
        assert hub.stop() == 0
    hub = Hub(data)  # nothing pending now: no verify asked again
    assert hub.stop() == 0


def test_a_verdict_is_of_one_tip_and_one_code(tmp_path):
    path = an_upgrade()
    db = unpack(path, tmp_path) / "loupe.db"
    entries = release(path)["journal_entries"]
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        assert upgrade.pending_upgrade(conn, SCHEMAS)
        assert not upgrade.record_verified(conn, SCHEMAS, entries - 1)  # not the tip
        assert upgrade.record_verified(conn, SCHEMAS, entries)
        upgrade.check_may_migrate(conn, SCHEMAS, db.parent)
        later = (*SCHEMAS, schema.Schema("later", (schema.Migration(1, "SELECT 1"),)))
        # Verified by other code (the next release of Loupe verifies again).
        with pytest.raises(upgrade.UpgradeNotVerified, match="new: later"):
            upgrade.check_may_migrate(conn, later, db.parent)
        conn.execute("UPDATE store_meta SET value = ? WHERE key = 'verified_seq'",
                     (str(entries - 1),))
        with pytest.raises(upgrade.UpgradeNotVerified, match=r"Loupe was upgraded \(schema"):
            upgrade.check_may_migrate(conn, SCHEMAS, db.parent)
    finally:
        conn.close()


def test_tampered_books_fail_verify_and_run_stays_refused(tmp_path, capsys):
    path = an_upgrade()
    data = unpack(path, tmp_path)
    db = data / "loupe.db"
    conn = sqlite3.connect(db)
    trigger = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'journal_no_update'"
                           ).fetchone()[0]
    seq = release(path)["journal_entries"] // 2
    payload = bytearray(conn.execute("SELECT payload FROM journal WHERE seq = ?", (seq,))
                        .fetchone()[0])
    payload[len(payload) // 2] ^= 0x01
    with conn:  # a copy with the append-only triggers dropped, one byte changed, put back
        conn.execute("DROP TRIGGER journal_no_update")
        conn.execute("UPDATE journal SET payload = ? WHERE seq = ?", (bytes(payload), seq))
        conn.execute(trigger)
    conn.close()

    code, out = verify(capsys, data)
    assert code == 1 and f"bad: seq {seq}:" in out
    assert recorded(db) == {}
    run = loupe_run(data)
    assert run.returncode == 1 and "Loupe was upgraded" in run.stderr, run.stderr
    assert versions(db) == release(path)["schema_versions"]


async def test_an_area_new_to_existing_books_is_filled_from_the_journal(tmp_path):
    """A release that adds an area whose tables derive from past entries (its first
    migration asks for a rebuild) fills them on upgrade, with no other rebuild to ride on."""
    path = RELEASES[-1]
    config = released_config(unpack(path, tmp_path))
    async with await Store.open(config):
        pass
    fresh = dump_projections(config.db_path, SCHEMAS)
    area = next(s for s in SCHEMAS if s.migrations[0].rebuild and s.projections
                and len(s.migrations) == 1)
    assert any(fresh[t] for t in area.projections)
    conn = sqlite3.connect(config.db_path)
    with conn:  # the books as a release before the area left them
        for table in area.projections:
            conn.execute(f"DROP TABLE {table}")
        conn.execute("DELETE FROM schema_versions WHERE area = ?", (area.area,))
    conn.close()
    async with await Store.open(config):
        pass
    assert dump_projections(config.db_path, SCHEMAS) == fresh
