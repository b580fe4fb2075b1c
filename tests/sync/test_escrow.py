"""Keys over the real broker: a rotated data key reaches HQ with the first entry it seals
(HQ reads old and new entries), and the master key's escrow reaches HQ in the hello, so
`loupe hq escrow` gives back exactly the store's master key, to HQ alone."""

from __future__ import annotations

import asyncio

from sync_helpers import hq_entries, journal, until

from hub.cli import main
from hub.control import Books
from hub.keys_cli import rotate_keys


async def test_a_rotated_key_reaches_hq_and_both_versions_read(hq, hubs):
    paris = await hubs("paris")
    zoe = (await paris.store.clients.create({"last_name": "Marchand"}, actor="admin"))
    await paris.sell("paris-0", client_id=zoe["client_id"])
    await until(lambda: paris.rep.acked == paris.store.ledger.seq, "first sale acked")

    await rotate_keys(Books(paris.store), store_only=False, actor="admin")
    await paris.store.clients.update(zoe["client_id"], {"last_name": "Marchand-Roux"},
                                     actor="admin")
    sale = await paris.sell("paris-1", client_id=zoe["client_id"])
    await until(lambda: paris.rep.acked == paris.store.ledger.seq, "rotated entries acked")

    assert await hq_entries(hq, "paris") == await journal(paris.store)
    assert (await hq.call(hq.hq.verify_store, "paris")).startswith("ok")
    entries = await hq.call(hq.hq.storage.entries, "paris", 0, 10_000)
    versions = {(e.key_id, e.key_version) for e in entries}
    assert {("store", 1), ("store", 2), (f"client:{zoe['client_id']}", 2)} <= versions
    # HQ opens every entry, sealed with either version.
    for e in entries:
        assert hq.hq.decrypt("paris", e, {}) == paris.store.ledger.decrypt(e), e.seq
    sales = {r["sale_id"]: r for r in await hq.call(hq.hq.storage.query,
                                                    "SELECT * FROM sales")}
    assert sales[sale["sale_id"]]["total"] == sale["total"]
    profile = await hq.call(hq.hq.client_profile, "paris", zoe["client_id"])
    assert profile["last_name"] == "Marchand-Roux"

    # Forgetting her now destroys both versions at HQ too.
    await paris.store.clients.forget(zoe["client_id"], actor="admin")
    await until(lambda: paris.rep.acked == paris.store.ledger.seq, "forget acked")
    key_id = f"client:{zoe['client_id']}"
    assert (await hq.call(hq.hq.storage.keys, "paris"))[key_id][1] is None
    assert await hq.call(hq.hq.storage.key, "paris", key_id, 1) is None
    assert await hq.call(hq.hq.storage.key, "paris", key_id, 2) is None
    assert await hq.call(hq.hq.client_profile, "paris", zoe["client_id"]) is None


async def test_hq_keeps_the_escrow_and_gives_back_the_master_key(hq, hubs, hq_keys, tmp_path):
    paris = await hubs("paris")
    await until(lambda: hq.call(hq.hq.storage.escrow, "paris"), "HQ holds the escrow")
    master = paris.store.config.master_key_file.read_bytes()

    out = tmp_path / "paris-master.key"
    hq_dir = str(hq_keys.data_dir)
    args = ["hq", "escrow", "--data-dir", hq_dir, "--store", "paris", "--out", str(out)]
    assert await asyncio.to_thread(main, args) == 0
    assert out.read_bytes() == master  # exactly the store's key file
    assert out.stat().st_mode & 0o777 == 0o600
    assert await asyncio.to_thread(main, args) == 1  # never over an existing file
    assert out.read_bytes() == master

    # The same escrow written at the store, carried by hand, opens at HQ alone.
    carried = tmp_path / "paris.escrow.age"
    assert await asyncio.to_thread(main, ["keys", "escrow", "--data-dir",
                                          str(paris.store.config.data_dir),
                                          "--out", str(carried)]) == 0
    assert master.strip() not in carried.read_bytes()
    again = tmp_path / "again.key"
    assert await asyncio.to_thread(main, ["hq", "escrow", "--data-dir", hq_dir, "--store",
                                          "paris", "--from-file", str(carried),
                                          "--out", str(again)]) == 0
    assert again.read_bytes() == master
    assert await asyncio.to_thread(main, ["hq", "escrow", "--data-dir", hq_dir, "--store",
                                          "lyon", "--out", str(tmp_path / "x")]) == 1
