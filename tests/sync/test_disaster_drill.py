"""The disaster drill: sell, back up, sell more (acknowledged by HQ), throw the data dir away,
restore on a fresh dir from the backup and HQ's copy, and compare the journal entry by entry.
Real Mosquitto, real HQ (SQLite and PostgreSQL), the real `loupe` commands."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
from pathlib import Path

import pytest
from sync_helpers import (
    FAST,
    HQRunner,
    Hub,
    enroll,
    hq_entries,
    journal,
    make_bundle,
    new_store,
    until,
)

from hub.backup.restore import RESTORING
from hub.bus import EventBus
from hub.cli import main
from hub.daemon import running
from hub.ledger.keys import KeyDestroyed
from hub.ledger.ledger import verify_database
from hub.runtime import Options
from hub.store import Store
from hub.sync.broker import Bridge, Mosquitto
from hub.sync.hq import open_hq
from hub.sync.replicator import Replicator, load_enrollment


async def _hub(store: Store) -> Hub:
    rep = Replicator(store, FAST, await load_enrollment(store.ledger))
    await rep.start()
    return Hub(store, rep)


async def test_a_new_box_gets_back_every_acknowledged_entry(tmp_path: Path, hq, hq_keys,
                                                            broker, capsys):
    store = await new_store(tmp_path, "lyon-01", pieces=8)
    await enroll(store, make_bundle(hq_keys, "lyon-01", broker.url))
    hub = await _hub(store)
    try:
        await _drill(tmp_path, hq, hq_keys, hub, capsys)  # closes the old box itself
    except BaseException:
        with contextlib.suppress(Exception):
            await hub.close()
        raise


async def test_a_box_behind_a_regional_broker_is_restored_through_the_bridge(
        tmp_path: Path, hq_keys, capsys):
    """The chain's shape: the store on its region's Mosquitto, HQ on the central one. The
    backup goes up the bridge, and the new box's catch-up comes back down it."""
    central = Mosquitto(tmp_path / "central")
    central.start()
    regional = Mosquitto(tmp_path / "regional",
                         bridge_to=Bridge(central, hq_keys.chain_id, "south"))
    regional.start()
    hq = HQRunner(open_hq(hq_keys), central)
    try:
        await asyncio.wait_for(hq.receiver.connected.wait(), 10)
        store = await new_store(tmp_path, "lyon-01", pieces=8)
        await enroll(store, make_bundle(hq_keys, "lyon-01", regional.url))
        hub = await _hub(store)
        try:
            await _drill(tmp_path, hq, hq_keys, hub, capsys)
        except BaseException:
            with contextlib.suppress(Exception):
                await hub.close()
            raise
    finally:
        await hq.close()
        hq.hq.storage.close()
        regional.stop()
        central.stop()


async def _drill(tmp_path, hq, hq_keys, hub, capsys):
    store = hub.store
    kept = await store.clients.create({"first_name": "Claire", "last_name": "Vidal",
                                       "emails": ["claire@example.org"]}, actor="admin")
    gone = await store.clients.create({"first_name": "Anne", "last_name": "Roy",
                                       "phones": ["+33 6 11 22 33 44"]}, actor="admin")
    await hub.sell("lyon-01-0", kept["client_id"])
    await hub.sell("lyon-01-1")

    # The night's backup, made while the hub runs, through the command an operator types.
    stick = tmp_path / "usb"
    assert await asyncio.to_thread(main, ["backup", "--data-dir", str(store.config.data_dir),
                                          "--to", str(stick)]) == 0
    [backup] = list(stick.iterdir())
    at_backup = store.ledger.seq
    # HQ has it too, byte for byte: the stick may go with the box.
    at_hq = hq_keys.data_dir / "backups" / "lyon-01" / backup.name
    await until(at_hq.exists, "HQ keeps the backup")
    assert at_hq.read_bytes() == backup.read_bytes()

    # The next morning: more sales, a new client and her key, an erasure; HQ acknowledges.
    late = await store.clients.create({"first_name": "Inès", "last_name": "Morel"},
                                      actor="admin")
    await hub.sell("lyon-01-2", late["client_id"])
    await hub.sell("lyon-01-3")
    await store.clients.forget(gone["client_id"], "admin")
    await until(lambda: hub.rep.acked == store.ledger.seq, "HQ acknowledges every entry")
    before = [e.to_export() for e in await journal(store)]
    assert len(before) > at_backup
    await hub.rep.stop()
    await store.close()

    # The SD card dies, and the stick is lost with the box.
    shutil.rmtree(store.config.data_dir)
    shutil.rmtree(stick)
    backup = at_hq

    # A new box: the backup, opened with HQ's key, then HQ's copy of what came after.
    fresh = tmp_path / "new-box"
    code = await asyncio.to_thread(main, ["restore", str(backup), "--data-dir", str(fresh),
                 "--hq-identity", str(hq_keys.data_dir / "hq_box.key")])
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"{at_backup} entries, chain verified" in out
    assert f"fetched {len(before) - at_backup} entries from HQ" in out
    assert not (fresh / RESTORING).exists()

    assert verify_database(fresh / "loupe.db", "lyon-01").ok
    restored = await Store.open(fresh, EventBus())
    after = [e.to_export() for e in await journal(restored)]
    assert after == before  # entry by entry: every acknowledged one is back
    assert (await restored.clients.get(late["client_id"]))["profile"]["first_name"] == "Inès"
    assert restored.ledger.keyring.is_destroyed(f"client:{gone['client_id']}")
    with pytest.raises(KeyDestroyed):
        restored.ledger.keyring.get(f"client:{gone['client_id']}")
    sold = {r["item_id"] for r in await restored.ledger.fetch("SELECT item_id FROM sale_lines")}
    assert {"lyon-01-0", "lyon-01-1", "lyon-01-2", "lyon-01-3"} <= sold
    # The new box sells on, and HQ takes its entries as the same store's chain.
    new_box = await _hub(restored)
    try:
        await new_box.sell("lyon-01-4")
        await until(lambda: new_box.rep.acked == restored.ledger.seq,
                    "HQ takes the new box's sale")
        assert len(await hq_entries(hq, "lyon-01")) == restored.ledger.seq
    finally:
        await new_box.close()


async def test_a_restore_not_caught_up_may_not_run(tmp_path: Path, hq_keys, broker, capsys):
    """HQ unreachable during the restore: the books wait, marked, and `loupe run` refuses
    them until the catch-up is done (a hub selling on them would fork HQ's copy)."""
    store = await new_store(tmp_path, "nice-01", pieces=2)
    await enroll(store, make_bundle(hq_keys, "nice-01", broker.url))
    stick = tmp_path / "usb"
    await store.close()
    assert await asyncio.to_thread(main, ["backup", "--data-dir", str(tmp_path / "nice-01"),
                                          "--to", str(stick)]) == 0
    [backup] = list(stick.iterdir())
    broker.stop()  # HQ's broker is away
    fresh = tmp_path / "new-box"
    code = await asyncio.to_thread(main, ["restore", str(backup), "--data-dir", str(fresh),
                 "--hq-identity", str(hq_keys.data_dir / "hq_box.key")])
    err = capsys.readouterr().err
    assert code == 1
    assert "cannot reach HQ's broker" in err or "did not answer" in err
    assert (fresh / RESTORING).exists()
    config = (await Store.open(fresh, EventBus()))
    await config.close()
    with pytest.raises(Exception, match="has not yet fetched from HQ"):
        async with running(config.config, Options(insecure_http=True, port=0, zeroconf=False)):
            pass


async def test_a_backup_newer_than_hqs_copy_sends_it_the_rest(tmp_path: Path, hq, hq_keys,
                                                              broker, capsys):
    """The old box sold while HQ was away, backed up, then died: the backup holds entries HQ
    never got. The restore takes nothing from HQ and the new box sends HQ the rest."""
    store = await new_store(tmp_path, "rennes-01", pieces=4)
    await enroll(store, make_bundle(hq_keys, "rennes-01", broker.url))
    hub = await _hub(store)
    await hub.sell("rennes-01-0")
    await until(lambda: hub.rep.acked == store.ledger.seq, "HQ acknowledges the first sale")
    await hub.rep.stop()  # HQ's link is down from here
    await hub.sell("rennes-01-1")
    await hub.sell("rennes-01-2")
    assert await asyncio.to_thread(main, ["backup", "--data-dir", str(store.config.data_dir),
                                          "--to", str(tmp_path / "usb"), "--no-hq"]) == 0
    [backup] = list((tmp_path / "usb").iterdir())
    before = [e.to_export() for e in await journal(store)]
    await store.close()
    shutil.rmtree(store.config.data_dir)
    assert await hq.head("rennes-01") < len(before)

    fresh = tmp_path / "new-box"
    assert await asyncio.to_thread(main, ["restore", str(backup), "--data-dir", str(fresh),
                                          "--hq-identity",
                                          str(hq_keys.data_dir / "hq_box.key")]) == 0
    assert "fetched 0 entries from HQ" in capsys.readouterr().out
    restored = await Store.open(fresh, EventBus())
    new_box = await _hub(restored)
    try:
        assert [e.to_export() for e in await journal(restored)] == before
        await until(lambda: new_box.rep.acked == restored.ledger.seq, "HQ gets the rest")
        assert [e.to_export() for e in await hq_entries(hq, "rennes-01")] == before

        async def told() -> object:  # HQ's acks say its time; `loupe doctor` compares
            return await restored.ledger.fetch_one(
                "SELECT value FROM sync_state WHERE key = 'hq_clock'")
        await until(told, "the clock HQ's acks told")
        assert abs(json.loads((await told())["value"])["offset_s"]) < 60
    finally:
        await new_box.close()
