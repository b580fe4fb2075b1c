"""HQ's ops: each store's health as storage has it (deliveries and re-sends are
test_deliveries.py's)."""

from __future__ import annotations

import argparse
import json

from hub.hq import ops
from hub.sync.cli import cmd_hq_stores
from tests.hq.ops_fixtures import stores  # noqa: F401  (a fixture)
from tests.sync.sync_helpers import PIECE, caught_up, until


async def test_health_numbers_are_storage_numbers(hq, stores, hq_keys, capsys):  # noqa: F811
    paris = await stores.start("paris")
    await paris.store.items.receive_many([{**PIECE, "item_id": "paris-b1"}], actor="admin")
    await until(lambda: caught_up(hq, paris), "HQ has all of paris")
    await until(lambda: hq.call(lambda: hq.hq.storage.store("paris").online), "paris online")

    rows = await hq.call(ops.store_health, hq.hq)
    row = await hq.call(hq.hq.storage.store, "paris")
    [health] = rows
    assert health["store"] == "paris"
    assert health["head_seq"] == row.head_seq == paris.store.ledger.seq
    assert health["entries"] == row.entries
    assert health["held"] == await hq.call(hq.hq.storage.held, "paris") == 0
    assert health["online"] is True and health["last_contact"] == row.last_contact
    assert health["lag_s"] >= 0
    assert health["verified"] is None  # never checked yet

    assert (await hq.call(ops.verify, hq.hq, "paris")).startswith("ok")
    # The verdict is kept with its head: a plain look shows it without checking again.
    [health] = await hq.call(ops.store_health, hq.hq)
    assert health["verified"]["ok"] is True
    assert health["verified"]["head_seq"] == row.head_seq and health["verified"]["current"]

    args = argparse.Namespace(data_dir=str(hq_keys.data_dir), json=True, verify=True)
    assert cmd_hq_stores(args) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed[0]["head_seq"] == row.head_seq and printed[0]["verified"]["ok"]
    args.json = False
    assert cmd_hq_stores(args) == 0
    table = capsys.readouterr().out
    assert "paris" in table and "intact" in table
