"""`loupe backup` and `loupe restore` without HQ: a passphrase backup made while the hub
writes, restored with the store's own master key; what a backup holds and never holds; the
refusals, each in words and leaving nothing behind."""

from __future__ import annotations

import asyncio
import tarfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.backup import archive
from hub.backup.part import next_run
from hub.backup.restore import RESTORING
from hub.backup.settings import BackupSettings
from hub.bus import EventBus
from hub.cli import main
from hub.config import load_config
from hub.ledger.ledger import verify_database
from hub.store import Store, init_store

PIECE = {"sku": "BR-1", "description": "Tennis bracelet", "category": "bracelet", "cost": 1000,
         "tag_price": 5000}


def _secret(path: Path, text: str) -> Path:
    path.write_text(text + "\n")
    path.chmod(0o600)
    return path


@pytest.fixture
def passphrase(tmp_path: Path) -> Path:
    return _secret(tmp_path / "backup.pass", "grenat rubis saphir émeraude")


async def _sell(store: Store, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        await store.items.receive({**PIECE, "item_id": f"B-{i}"}, "admin")
        await store.sales.complete(register_id="R1", actor="admin",
                                   lines=[{"item_id": f"B-{i}"}],
                                   tenders=[{"type": "cash", "amount": 5000}])


async def test_backed_up_while_selling_and_restored_entry_by_entry(tmp_path, passphrase,
                                                                   capsys):
    data = tmp_path / "store"
    assert main(["init", "--data-dir", str(data), "--store-id", "paris-01", "--store-name",
                 "Maison Paris", "--currency", "EUR"]) == 0  # with its HTTPS certificates
    store = await Store.open(data, EventBus())
    try:
        await _sell(store, 20)
        client = await store.clients.create({"first_name": "Hélène", "last_name": "Durand"},
                                            actor="admin")
        # The writer goes on while SQLite copies its snapshot: the backup is one moment.
        selling = asyncio.create_task(_sell(store, 30, start=20))
        code = await asyncio.to_thread(main, ["backup", "--data-dir", str(data), "--to",
                                              str(tmp_path / "usb"), "--passphrase-file",
                                              str(passphrase)])
        await selling
        assert code == 0
        [backup] = list((tmp_path / "usb").iterdir())
        manifest = archive.read_manifest(backup)
        journal = [e.to_export() for e in await store.ledger.entries(0, 10_000)]
    finally:
        await store.close()
    assert 0 < manifest["seq"] <= len(journal)
    assert manifest["recipients"] == ["passphrase"] and manifest["master_key"] is None
    assert backup.stat().st_mode & 0o077 == 0

    # Nothing in clear leaves the box: no client's name, no key, in any byte of the file.
    raw = backup.read_bytes()
    for clear in (b"Durand", "Hélène".encode(), data.joinpath("master.key").read_bytes()[:32],
                  b"SQLite format 3"):
        assert clear not in raw
    with tarfile.open(backup) as outer:
        assert set(outer.getnames()) == {"manifest.json", "README.txt", "passphrase.age",
                                         "backup.tar.age"}

    fresh = tmp_path / "new-box"
    code = await asyncio.to_thread(main, [
        "restore", str(backup), "--data-dir", str(fresh), "--passphrase-file", str(passphrase),
        "--master-key", str(data / "master.key"), "--without-hq"])
    assert code == 0, capsys.readouterr().err
    assert not (fresh / RESTORING).exists()
    assert (fresh / "master.key").stat().st_mode & 0o077 == 0
    assert (fresh / "web" / "ca.key").read_bytes() == (data / "web" / "ca.key").read_bytes()
    assert verify_database(fresh / "loupe.db", "paris-01").ok
    restored = await Store.open(fresh, EventBus())
    try:
        back = [e.to_export() for e in await restored.ledger.entries(0, 10_000)]
        assert back == journal[:manifest["seq"]]  # the backup's moment, exactly
        assert (await restored.clients.get(client["client_id"]))["profile"]["last_name"] == \
            "Durand"
        await _sell(restored, 1, start=100)  # and the new box sells on
    finally:
        await restored.close()


async def test_refusals_say_why_and_leave_nothing(tmp_path, passphrase, capsys):
    data = tmp_path / "store"
    init_store(data, "paris-01", "Maison Paris", "EUR")
    # Not enrolled with HQ and no passphrase: nobody could ever open it.
    assert await asyncio.to_thread(main, ["backup", "--data-dir", str(data), "--to",
                                          str(tmp_path / "usb")]) == 1
    assert "nobody could open this backup" in capsys.readouterr().err
    assert not list((tmp_path / "usb").glob("*"))
    assert await asyncio.to_thread(main, ["backup", "--data-dir", str(data), "--to",
                                          str(tmp_path / "usb"), "--passphrase-file",
                                          str(passphrase)]) == 0
    [backup] = list((tmp_path / "usb").iterdir())
    capsys.readouterr()
    fresh = tmp_path / "new-box"
    wrong = _secret(tmp_path / "wrong.pass", "topaze")
    cases = [
        (["--passphrase-file", str(wrong), "--master-key", str(data / "master.key")],
         "the passphrase does not open this backup"),
        (["--passphrase-file", str(passphrase)], "need the store's master key"),
        ([], "opens with HQ's key (--hq-identity) or its passphrase"),
    ]
    for extra, said in cases:
        code = await asyncio.to_thread(main, ["restore", str(backup), "--data-dir", str(fresh),
                                              *extra])
        assert code == 1
        assert said in capsys.readouterr().err
        assert not fresh.exists()  # the new box's dir is as it was found
    # A key of another store does not open the books; a store already there is never
    # overwritten.
    other = tmp_path / "other"
    init_store(other, "lyon-01", "Maison Lyon", "EUR")
    assert await asyncio.to_thread(main, [
        "restore", str(backup), "--data-dir", str(fresh), "--passphrase-file", str(passphrase),
        "--master-key", str(other / "master.key")]) == 1
    assert "does not open key" in capsys.readouterr().err and not fresh.exists()
    assert await asyncio.to_thread(main, [
        "restore", str(backup), "--data-dir", str(other), "--passphrase-file",
        str(passphrase)]) == 1
    assert "already holds a store" in capsys.readouterr().err
    junk = tmp_path / "junk.loupe-backup"
    junk.write_bytes(b"not a backup")
    assert await asyncio.to_thread(main, ["restore", str(junk), "--data-dir", str(fresh),
                                          "--passphrase-file", str(passphrase)]) == 1
    assert "is not a Loupe backup" in capsys.readouterr().err


def test_the_stick_keeps_the_newest(tmp_path, passphrase):
    data = tmp_path / "store"
    init_store(data, "paris-01", "Maison Paris", "EUR")
    config = load_config(data)
    start = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)
    for day in range(5):
        archive.make_backup(config, tmp_path / "usb", hq_box_key=None, passphrase="p",
                            keep=3, now=start + timedelta(days=day))
    kept = sorted(p.name for p in (tmp_path / "usb").iterdir())
    assert kept == [archive.backup_name("paris-01", start + timedelta(days=d), 0)
                    for d in (2, 3, 4)]
    assert archive.last_backup(data)["at"] == (start + timedelta(days=4)).isoformat()


@given(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1)),
       st.integers(0, 23), st.integers(0, 59))
def test_the_nightly_backup_is_next_at_its_time(now, hour, minute):
    from datetime import time

    now = now.replace(tzinfo=UTC)
    at = next_run(BackupSettings(at=time(hour, minute)), now)
    assert now < at <= now + timedelta(days=1)
    assert (at.hour, at.minute, at.second) == (hour, minute, 0)
