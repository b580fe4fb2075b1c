"""Wish lists over the API: a piece or a style added and taken off, each refusal in words
with nothing written; a style sealed under her key (unreadable once she is forgotten); a
partner's gift list on both pages with her sizes; a wish-listed piece back in stock or
repriced recorded for the follow-ups."""

from __future__ import annotations

import pytest
from web_helpers import sign_in

from hub.clienteling.part import part
from hub.ledger.ledger import dump_projections


@pytest.fixture
async def taste(runtime):
    """The clienteling part, as `loupe run` starts it."""
    async with part(runtime):
        yield runtime


async def _client(store, first: str, last: str, **more) -> str:
    return (await store.clients.create({"first_name": first, "last_name": last, **more},
                                       "test"))["client_id"]


def _books(store) -> tuple[int, dict]:
    return store.ledger.seq, dump_projections(store.ledger.db_path, store.ledger.schemas)


async def test_a_piece_and_a_style_on_her_list_and_every_refusal_writes_nothing(
        client, store, taste):
    her = await _client(store, "Hélène", "Fontaine")
    gone = await _client(store, "Zoé", "Marchand")
    await store.clients.forget(gone, "mona")
    h = {"X-CSRF-Token": await sign_in(client, "alex")}
    path = f"/api/v1/clients/{her}/wishlist"
    r = await client.post(path, json={"item_id": "P001"}, headers=h)
    assert r.status == 201, await r.text()
    added = await r.json()
    assert (added["item_id"], added["source"], added["entry_id"]) == (
        "P001", "in_store", f"W{added['seq']}")
    r = await client.post(path, json={"style": "  emerald drop earrings, rose gold "},
                          headers=h)
    assert r.status == 201 and (await r.json())["style"] == "emerald drop earrings, rose gold"

    before = _books(store)
    refusals = [
        (path, {"item_id": "P001"}, 409, "already on this wish list", "item_id"),
        (path, {"item_id": "NOPE"}, 400, "no piece with serial", "item_id"),
        (path, {"style": "   "}, 400, "describe the style", "style"),
        (path, {}, 400, "describe the style", "style"),
        (path, {"item_id": "P002", "style": "and a ring"}, 400, "not both", "style"),
        (path, {"style": "x" * 201}, 400, "longer than", "style"),
        (path, {"item_id": ["P002"]}, 400, "not a serial", "item_id"),
        (path, {"style": "a ring", "for_client_id": "CNOBODY0000"}, 400, "no client",
         "for_client_id"),
        (path, {"style": "a ring", "for_client_id": her}, 400, "leave it empty",
         "for_client_id"),
        (path, {"style": "a ring", "price": 3}, 400, "unknown field", None),
        (f"/api/v1/clients/{gone}/wishlist", {"style": "a ring"}, 409, "was erased", None),
        ("/api/v1/clients/CNOBODY0000/wishlist", {"style": "a ring"}, 404, "no client", None),
    ]
    for where, body, status, words, field in refusals:
        r = await client.post(where, json=body, headers=h)
        answer = await r.json()
        assert r.status == status, (body, answer)
        assert words.lower() in answer["detail"].lower(), (body, answer)
        if field:
            assert answer["field"] == field, (body, answer)
    r = await client.delete(f"{path}/W999999", headers=h)
    assert r.status == 404 and "No wish" in (await r.json())["detail"]
    assert _books(store) == before  # nothing written by any refusal

    listed = await (await client.get(path)).json()
    style, serial = listed["entries"]
    assert style["style"] == "emerald drop earrings, rose gold" and style["piece"] is None
    assert serial["piece"]["status"] == "in_stock" and serial["piece"]["tag_price"] == 250_000
    assert await taste.wishlists.watching("P001") == [her]
    r = await client.delete(f"{path}/{serial['entry_id']}", headers=h)
    assert r.status == 200
    assert [w["entry_id"] for w in (await (await client.get(path)).json())["entries"]] == [
        style["entry_id"]]
    assert await taste.wishlists.watching("P001") == []
    r = await client.delete(f"{path}/{serial['entry_id']}", headers=h)  # taken off already
    assert r.status == 404
    assert (await client.get("/api/v1/clients/CNOBODY0000/wishlist")).status == 404


async def test_a_style_is_hers_alone_and_goes_when_she_is_forgotten(client, store, taste):
    her = await _client(store, "Inès", "Roux")
    h = {"X-CSRF-Token": await sign_in(client, "alex")}
    canary = "canary-opal-tiara-Zq7"
    path = f"/api/v1/clients/{her}/wishlist"
    assert (await client.post(path, json={"style": canary}, headers=h)).status == 201
    assert (await client.post(path, json={"item_id": "P003"}, headers=h)).status == 201
    files = list(store.config.data_dir.glob("loupe.db*"))  # the database and its WAL
    assert files and not any(canary.encode() in f.read_bytes() for f in files)
    [style, _] = (await (await client.get(path)).json())["entries"][::-1]
    assert style["style"] == canary  # read from her sealed entry


async def test_forgetting_her_drops_her_list_and_a_rebuild_agrees(client, store, taste):
    her = await _client(store, "Inès", "Roux")
    h = {"X-CSRF-Token": await sign_in(client, "alex")}
    path = f"/api/v1/clients/{her}/wishlist"
    assert (await client.post(path, json={"style": "a pearl choker"}, headers=h)).status == 201
    assert (await client.post(path, json={"item_id": "P003"}, headers=h)).status == 201
    await store.items.change_status("P003", "reserved", "test")
    await store.items.change_status("P003", "in_stock", "test")
    assert [e["what"] for e in await taste.wishlists.events_between("2000-01-01",
                                                                    "2999-12-31")] == [
        "back_in_stock"]
    await store.clients.forget(her, "mona")
    assert (await (await client.get(path)).json())["entries"] == []
    assert await taste.wishlists.watching("P003") == []
    assert await taste.wishlists.events_between("2000-01-01", "2999-12-31") == []
    before = dump_projections(store.ledger.db_path, store.ledger.schemas)
    await store.rebuild()  # her sealed entries no longer open: the same rows come back
    assert dump_projections(store.ledger.db_path, store.ledger.schemas) == before


async def test_back_in_stock_and_repriced_are_recorded_for_whoever_wishes_for_the_piece(
        client, store, taste):
    her = await _client(store, "Hélène", "Fontaine")
    him = await _client(store, "Hugo", "Fontaine")
    wishlists = taste.wishlists
    await wishlists.add(her, {"item_id": "P004"}, actor="alex")
    await wishlists.add(him, {"item_id": "P004", "for_client_id": her}, actor="alex")
    await wishlists.add(her, {"item_id": "P005"}, actor="alex")
    await store.items.change_status("P004", "memo_out", "test")
    await store.items.change_status("P004", "in_stock", "test")  # back from memo
    await store.items.update("P005", {"tag_price": 240_000}, "test")  # a new price
    await store.items.update("P005", {"description": "Solitaire, re-polished"}, "test")
    await store.items.change_status("P002", "reserved", "test")  # nobody wishes for it
    await store.items.change_status("P002", "in_stock", "test")
    events = await wishlists.events_between("2000-01-01", "2999-12-31")
    assert sorted((e["client_id"], e["item_id"], e["what"]) for e in events) == sorted([
        (her, "P004", "back_in_stock"), (him, "P004", "back_in_stock"),
        (her, "P005", "repriced")])
    assert await wishlists.watching("P004") == [her, him]
    first = min(e["ts"] for e in events)
    assert await wishlists.events_between("2000-01-01", first[:10]) == events  # a whole day
    assert await wishlists.events_between("2000-01-01", "2000-01-02") == []
    assert len(await wishlists.events_between("2000-01-01", "2999-12-31", [him])) == 1
    # ...and each is a follow-up of the day for whoever wishes for the piece.
    today = (await taste.followups.day())["today"]
    assert sorted((f["client_id"], f["about"]) for f in today if f["kind"] == "wish") == sorted(
        [(her, "P004"), (him, "P004"), (her, "P005")])
    before = dump_projections(store.ledger.db_path, store.ledger.schemas)
    await store.rebuild()
    assert dump_projections(store.ledger.db_path, store.ledger.schemas) == before


async def test_his_wish_list_for_her_is_on_both_pages_with_her_sizes(client, store, taste):
    her = await _client(store, "Hélène", "Fontaine",
                        ring_sizes={"left ring": "52", "right ring": "51"})
    him = await _client(store, "Hugo", "Fontaine", partner_id=her)
    h = {"X-CSRF-Token": await sign_in(client, "alex")}
    r = await client.post(f"/api/v1/clients/{him}/wishlist",
                          json={"style": "emerald drop earrings", "for_client_id": her},
                          headers=h)
    assert r.status == 201
    hers = await (await client.get(f"/api/v1/clients/{her}/wishlist")).json()
    assert hers["entries"] == []
    [gift] = hers["for_her"]
    assert (gift["client_name"], gift["style"]) == ("Hugo Fontaine", "emerald drop earrings")

    page = await (await client.get(f"/clients/{her}")).text()
    panel = page[page.index('id="panel-wishlist"'):]
    panel = panel[:panel.index("</section>")]
    assert "wished for her by Hugo Fontaine" in panel and "emerald drop earrings" in panel
    assert "left ring: 52" in panel and "Nothing on the wish list yet." in panel
    page = await (await client.get(f"/clients/{him}")).text()
    panel = page[page.index('id="panel-wishlist"'):]
    panel = panel[:panel.index("</section>")]
    assert "Hélène Fontaine" in panel and "right ring: 51" in panel
    assert "In store" in panel or "in store" in panel
    assert "in_store" not in panel.replace('value="in_store"', "")
    assert f'<option value="{her}">Hélène Fontaine</option>' in panel  # a gift for her
    assert 'src="/clienteling/taste.js"' in panel
