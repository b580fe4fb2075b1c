"""HQ's ops: each store's health as storage has it, deliveries of HQ's messages (sent ->
applied), and a message lost with the broker's persistence resent once the store is back."""

from __future__ import annotations

import argparse
import json

from hub.hq import deliveries, ops
from hub.sync.cli import cmd_hq_stores
from tests.hq.ops_fixtures import (  # noqa: F401  (fixtures)
    caught_up,
    ops_broker,
    ops_hq,
    ops_keys,
    ops_stores,
    send,
)
from tests.sync.sync_helpers import PIECE, until


async def test_health_numbers_are_storage_numbers(ops_hq, ops_stores, ops_keys, capsys):  # noqa: F811 (fixtures)
    hq = ops_hq
    paris = await ops_stores.start("paris")
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

    args = argparse.Namespace(data_dir=str(ops_keys.data_dir), json=True, verify=True)
    assert cmd_hq_stores(args) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed[0]["head_seq"] == row.head_seq and printed[0]["verified"]["ok"]
    args.json = False
    assert cmd_hq_stores(args) == 0
    table = capsys.readouterr().out
    assert "paris" in table and "intact" in table


async def test_a_delivery_goes_from_sent_to_applied(ops_hq, ops_stores, ops_broker):  # noqa: F811 (fixtures)
    hq = ops_hq
    paris = await ops_stores.start("paris")
    lyon = await ops_stores.start("lyon")
    await until(lambda: paris.rep.connected and lyon.rep.connected, "hubs connected")
    msg_id = await send(hq, ops_broker, "paris", "price",
                        {"item_id": "paris-1", "tag_price": 260000, "currency": "EUR"})
    [out] = [m for m in await hq.call(deliveries.outgoing, hq.hq.storage, 10)
             if m["message_id"] == msg_id]
    assert out["type"] == "price" and [d["store_id"] for d in out["deliveries"]] == ["paris"]

    async def status() -> str:
        rows = await hq.call(hq.hq.storage.query, "SELECT status FROM message_deliveries"
                             " WHERE message_id = ?", (msg_id,))
        return rows[0]["status"]

    assert await status() == "sent"  # HQ has not heard back yet
    await until(lambda: _price(paris, "paris-1", 260000), "price applied")
    await until(lambda: caught_up(hq, paris), "HQ has paris's entry")
    assert await status() == "applied"
    [out] = [m for m in await hq.call(deliveries.outgoing, hq.hq.storage, 10)
             if m["message_id"] == msg_id]
    assert out["deliveries"][0]["seq"] is not None

    # A message to `all` has one row per store HQ enrolled.
    all_id = await send(hq, ops_broker, "all", "stock_elsewhere",
                        {"sku": "RING-SOL-1", "stores": {"paris": 5, "lyon": 5}})
    rows = await hq.call(hq.hq.storage.query, "SELECT store_id FROM message_deliveries"
                         " WHERE message_id = ? ORDER BY store_id", (all_id,))
    assert [r["store_id"] for r in rows] == ["lyon", "paris"]


async def test_resent_after_the_broker_lost_its_persistence(ops_hq, ops_stores, ops_broker):  # noqa: F811 (fixtures)
    hq = ops_hq
    hq.receiver.resend_grace_s = 0.0  # anything not applied is due at once
    paris = await ops_stores.start("paris")
    await until(lambda: paris.rep.connected, "paris connected")
    await until(lambda: caught_up(hq, paris), "HQ has paris")
    await ops_stores.stop("paris")  # offline: its session on the broker keeps the message
    msg_id = await send(hq, ops_broker, "paris", "price",
                        {"item_id": "paris-2", "tag_price": 199000, "currency": "EUR"})

    ops_broker.stop()
    (ops_broker.workdir / "mosquitto.db").unlink()  # the broker's persistence is lost
    await until(lambda: not hq.receiver.connected.is_set(), "HQ saw the broker go")
    port = ops_broker.port
    ops_broker.start()
    assert ops_broker.port == port, "the broker came back on another port"
    await until(lambda: hq.receiver.connected.is_set(), "HQ reconnected")

    paris = await ops_stores.start("paris")
    await until(lambda: _price(paris, "paris-2", 199000), "the lost price applied")
    await until(lambda: caught_up(hq, paris), "HQ has paris's entry")
    rows = await hq.call(hq.hq.storage.query, "SELECT status, resent FROM message_deliveries"
                         " WHERE message_id = ?", (msg_id,))
    assert rows[0]["status"] == "applied" and rows[0]["resent"] >= 1


async def _price(hub, item_id: str, price: int) -> bool:
    return (await hub.store.items.get(item_id))["tag_price"] == price
