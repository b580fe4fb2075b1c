"""Issue 6, done when: two hubs and an HQ receiver on one machine, joined through a real broker,
sell, go offline, sell again, reconnect, and HQ's books match both stores' exactly."""

from __future__ import annotations

from sync_helpers import hq_entries, journal, until

STORES = ("paris", "lyon")


async def _store_books(hub) -> dict[str, list[dict]]:
    """The store's own projections, in the shape HQ keeps them."""
    async def rows(sql: str) -> list[dict]:
        return [dict(r) for r in await hub.store.ledger.fetch(sql)]

    return {
        "items": await rows("SELECT item_id, sku, description, category, tag_price, status"
                            " FROM items ORDER BY item_id"),
        "sales": await rows("SELECT sale_id, seq, ts, total, currency, client_id, status"
                            " FROM sales ORDER BY sale_id"),
        "clients": await rows("SELECT client_id, status FROM clients ORDER BY client_id"),
    }


async def _hq_books(hq, store_id: str) -> dict[str, list[dict]]:
    async def rows(sql: str) -> list[dict]:
        return await hq.call(hq.hq.storage.query, sql, (store_id,))

    return {
        "items": await rows("SELECT item_id, sku, description, category, tag_price, status"
                            " FROM items WHERE store_id = ? ORDER BY item_id"),
        "sales": await rows("SELECT sale_id, seq, ts, total, currency, client_id, status"
                            " FROM sales WHERE store_id = ? ORDER BY sale_id"),
        "clients": await rows("SELECT client_id, status FROM clients WHERE store_id = ?"
                              " ORDER BY client_id"),
    }


async def _fully_acked(hub) -> None:
    sid = hub.store.config.store_id
    await until(lambda: hub.rep.acked == hub.store.ledger.seq, f"{sid} fully acked")


async def test_two_stores_sell_offline_and_hq_books_match_after_reconnect(hq, hubs, broker):
    paris = await hubs("paris")
    lyon = await hubs("lyon")
    by_id = {"paris": paris, "lyon": lyon}

    # -- connected: both stores sell; a Paris client buys and HQ can read her profile.
    await paris.sell("paris-0")
    vip = await paris.store.clients.create({"first_name": "Hélène", "last_name": "Vasseur",
                                            "emails": ["helene@example.com"]}, actor="admin")
    vip_id = vip["client_id"]
    await paris.sell("paris-4", client_id=vip_id)
    await lyon.sell("lyon-0")
    for hub in (paris, lyon):
        await _fully_acked(hub)
    assert (await hq.call(hq.hq.client_profile, "paris", vip_id))["last_name"] == "Vasseur"

    before = {sid: await hq_entries(hq, sid) for sid in STORES}
    books_before = {sid: await _hq_books(hq, sid) for sid in STORES}
    for sid in STORES:
        assert before[sid] == await journal(by_id[sid].store)

    # -- offline: the broker goes away; each store keeps trading.
    broker.stop()
    await until(lambda: all(not h.rep.connected and h.rep.status()["state"] == "offline"
                            for h in (paris, lyon)), "both hubs see the broker gone")

    sold = await paris.sell("paris-1")
    await paris.sell("paris-2")
    await paris.store.sales.return_lines(sold["sale_id"], register_id="R1", actor="admin",
                                         reason="changed her mind")
    await paris.store.clients.forget(vip_id, actor="admin")  # forgotten on the Paris side only

    walk_in = await lyon.store.clients.create({"first_name": "Jules", "last_name": "Ferrand",
                                               "phones": ["+33 4 72 00 00 00"]}, actor="admin")
    await lyon.sell("lyon-1", client_id=walk_in["client_id"])
    await lyon.sell("lyon-2")
    await lyon.sell("lyon-3")

    for hub in (paris, lyon):
        assert hub.rep.backlog >= 4
        assert hub.rep.acked < hub.store.ledger.seq
        assert hub.rep.status()["state"] == "offline"
    # Nothing new reached HQ while the stores were cut off.
    for sid in STORES:
        assert await hq_entries(hq, sid) == before[sid]
        assert await hq.head(sid) == before[sid][-1].seq
        assert await _hq_books(hq, sid) == books_before[sid]
    assert (await hq.call(hq.hq.client_profile, "paris", vip_id))["last_name"] == "Vasseur"

    # -- reconnect: the broker comes back on the same port; both backlogs drain.
    broker.start()
    for hub in (paris, lyon):
        await _fully_acked(hub)
        assert hub.rep.backlog == 0

    stores = {s.store_id: s for s in await hq.call(hq.hq.storage.stores)}
    for sid, hub in by_id.items():
        mine = await journal(hub.store)
        theirs = await hq_entries(hq, sid)
        assert [e.seq for e in theirs] == list(range(1, hub.store.ledger.seq + 1))
        for a, b in zip(mine, theirs, strict=True):  # entry by entry, byte for byte
            assert (a.seq, a.hash, a.signature, a.payload) == (b.seq, b.hash, b.signature,
                                                              b.payload), f"{sid} seq {a.seq}"
            assert a == b, f"{sid} seq {a.seq} differs at HQ"
        assert await hq.call(hq.hq.verify_store, sid) == f"ok: {len(mine)} entries"
        assert stores[sid].head_seq == hub.store.ledger.seq
        assert stores[sid].entries == hub.store.ledger.seq
        # HQ's chain-wide projections are the store's own books.
        assert await _hq_books(hq, sid) == await _store_books(hub), sid

    # Spelled out, for whoever reads this when it fails.
    stock = {(r["store_id"], r["item_id"]): r["status"] for r in await hq.call(hq.hq.storage.stock)}
    assert stock[("paris", "paris-0")] == "sold"
    assert stock[("paris", "paris-1")] == "returned"
    assert stock[("paris", "paris-2")] == "sold"
    assert stock[("paris", "paris-3")] == "in_stock"
    assert stock[("lyon", "lyon-3")] == "sold"
    assert stock[("lyon", "lyon-4")] == "in_stock"
    counts = {r["store_id"]: r["n"] for r in await hq.call(
        hq.hq.storage.query, "SELECT store_id, COUNT(*) AS n FROM sales GROUP BY store_id")}
    assert counts == {"paris": 4, "lyon": 4}
    returned = await hq.call(hq.hq.storage.query, "SELECT sale_id, status FROM sales WHERE"
                             " store_id = 'paris' AND status != 'completed'")
    assert returned == [{"sale_id": sold["sale_id"], "status": "returned"}]

    # The client forgotten in Paris while offline is unreadable at HQ; Lyon's new one is not.
    assert await hq.call(hq.hq.client_profile, "paris", vip_id) is None
    assert (await hq.call(hq.hq.storage.keys, "paris"))[f"client:{vip_id}"][1] is None
    lyon_client = await hq.call(hq.hq.client_profile, "lyon", walk_in["client_id"])
    assert lyon_client["last_name"] == "Ferrand"
