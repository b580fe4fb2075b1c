"""Store -> HQ: entries arrive exactly as stored, once, in order, through outages."""

from __future__ import annotations

from sync_helpers import hq_entries, hq_stored_bytes, journal, until


async def test_sales_reach_hq_exactly_as_stored(hq, hubs, pg_cluster):
    paris = await hubs("paris")
    lyon = await hubs("lyon")
    await paris.sell("paris-0")
    await lyon.sell("lyon-1")
    client = await paris.store.clients.create({"first_name": "Zoë", "last_name": "Marchand",
                                               "emails": ["zoe@example.com"]}, actor="admin")
    await paris.sell("paris-2", client_id=client["client_id"])

    for hub in (paris, lyon):
        sid = hub.store.config.store_id
        await until(lambda h=hub: h.rep.acked == h.store.ledger.seq, f"{sid} fully acked")
        assert await hq_entries(hq, sid) == await journal(hub.store)  # byte for byte
        assert (await hq.call(hq.hq.verify_store, sid)).startswith("ok")
        assert hub.rep.backlog == 0

    stock = {(r["store_id"], r["item_id"]): r["status"]
             for r in await hq.call(hq.hq.storage.stock)}
    assert stock[("paris", "paris-0")] == "sold"
    assert stock[("lyon", "lyon-1")] == "sold"
    assert stock[("lyon", "lyon-0")] == "in_stock"
    # HQ reads the profile (decrypted in memory with the wrapped client key)...
    profile = await hq.call(hq.hq.client_profile, "paris", client["client_id"])
    assert profile["first_name"] == "Zoë"
    # ...and nothing personal sits in HQ's database file in clear.
    raw = hq_stored_bytes(hq.hq, pg_cluster)
    assert b"Marchand" not in raw and b"zoe@example.com" not in raw


async def test_forgotten_client_becomes_unreadable_at_hq(hq, hubs):
    paris = await hubs("paris")
    client = await paris.store.clients.create({"last_name": "Oubli"}, actor="admin")
    cid = client["client_id"]
    await until(lambda: paris.rep.acked == paris.store.ledger.seq, "client acked")
    assert (await hq.call(hq.hq.client_profile, "paris", cid))["last_name"] == "Oubli"

    await paris.store.clients.forget(cid, actor="admin")
    await until(lambda: paris.rep.acked == paris.store.ledger.seq, "forget acked")
    keys = await hq.call(hq.hq.storage.keys, "paris")
    assert keys[f"client:{cid}"][1] is None  # HQ destroyed its copy
    assert await hq.call(hq.hq.client_profile, "paris", cid) is None
    # A resend of old batches cannot bring the key back: the hub no longer sends it.
    paris.rep._go_back("test")
    await until(lambda: paris.rep.acked == paris.store.ledger.seq, "acked again")
    assert (await hq.call(hq.hq.storage.keys, "paris"))[f"client:{cid}"][1] is None


async def test_offline_sales_drain_after_broker_restart(hq, hubs, broker):
    paris = await hubs("paris")
    await paris.sell("paris-0")
    await until(lambda: paris.rep.acked == paris.store.ledger.seq, "first sale acked")

    broker.stop()
    await until(lambda: not paris.rep.connected, "hub sees the broker gone")
    await paris.sell("paris-1")
    await paris.sell("paris-2")
    assert paris.rep.backlog >= 2
    assert paris.rep.status()["state"] == "offline"
    # Each failed attempt waits longer...
    await until(lambda: paris.rep.backoff.attempt >= 3, "retrying with a growing wait")

    broker.start()
    await until(lambda: paris.rep.acked == paris.store.ledger.seq, "backlog drained", 60)
    # ...and a good connection starts the next outage from the shortest wait again.
    assert paris.rep.connected and paris.rep.backoff.attempt == 0
    assert await hq_entries(hq, "paris") == await journal(paris.store)
    stores = {s.store_id: s for s in await hq.call(hq.hq.storage.stores)}
    assert stores["paris"].head_seq == paris.store.ledger.seq
    assert stores["paris"].entries == paris.store.ledger.seq


async def test_hub_restart_resumes_from_its_durable_cursor(hq, hubs):
    paris = await hubs("paris")
    await paris.sell("paris-0")
    await until(lambda: paris.rep.acked == paris.store.ledger.seq, "acked")
    acked = paris.rep.acked
    await paris.close()

    again = await hubs("paris", enrolled=True)
    assert again.rep.acked == acked  # read back from sync_state
    await again.sell("paris-1")
    await until(lambda: again.rep.acked == again.store.ledger.seq, "acked after restart")
    assert await hq_entries(hq, "paris") == await journal(again.store)
