"""Restock after a return: a returned piece waits for a manager's inspection, which sends it
back to stock, to repair, or writes it off, with a note; its history and its sale show who."""

from __future__ import annotations

import asyncio
import re

from test_web_client_book import CART, _approved, _sell
from web_helpers import sign_in

from hub.cli import main


async def _returned(client, h, serial: str) -> str:
    sale_id = await _sell(client, h, [serial])
    doc = await _approved(client, h, f"/api/v1/sales/{sale_id}/return",
                          {"register_id": "R1", "reason": "the clasp is loose"})
    return doc["return_id"]


async def test_a_manager_restocks_a_returned_piece_and_it_sells_again(client, store):
    h = {"X-CSRF-Token": await sign_in(client, "alex")}
    return_id = await _returned(client, h, "P001")
    assert (await store.items.get("P001"))["status"] == "returned"
    r = await client.post(CART + "/lines", json={"item_id": "P001"}, headers=h)
    assert r.status == 409 and "awaits inspection" in (await r.json())["detail"]

    # An associate sees why it cannot be sold, not the form; the API refuses them too.
    page = await (await client.get("/items/P001")).text()
    assert 'id="inspect-form"' not in page and "awaits a manager" in page
    r = await client.post("/api/v1/items/P001/inspection", json={"outcome": "in_stock"},
                          headers=h)
    assert r.status == 403

    h = {"X-CSRF-Token": await sign_in(client, "mona")}
    page = await (await client.get("/items/P001")).text()
    assert 'id="inspect-form"' in page and "Back to stock" in page
    seq = store.ledger.seq
    r = await client.post("/api/v1/items/P001/inspection",
                          json={"outcome": "written_off"}, headers=h)
    error = await r.json()
    assert r.status == 400 and error["field"] == "note" and store.ledger.seq == seq
    r = await client.post("/api/v1/items/P001/inspection",
                          json={"outcome": "in_stock", "note": "clasp tightened, polished"},
                          headers=h)
    assert r.status == 200 and (await r.json())["status"] == "in_stock"
    r = await client.post("/api/v1/items/P001/inspection", json={"outcome": "in_stock"},
                          headers=h)
    assert r.status == 409  # inspected once: it is in stock now

    page = await (await client.get("/items/P001")).text()
    assert "Inspected after its return" in page and "Mona Manager" in page
    assert "clasp tightened, polished" in page and return_id in page
    # What a person reads: the text of the main part (the head carries loupe.js's words).
    shown = re.sub(r"<[^>]+>", " ", page.split("<main", 1)[1])
    assert "item.inspected" not in shown and "in_stock" not in shown
    r = await client.post(CART + "/lines", json={"item_id": "P001"}, headers=h)
    assert r.status == 200  # back in the showcase: it sells again

    sale_page = await (await client.get(f"/sales/{return_id.split('-')[0]}-000001")).text()
    assert "Mona Manager" in sale_page  # the return names the manager who approved it


async def test_repair_and_write_off_need_a_note_and_leave_the_showcase(client, store):
    h = {"X-CSRF-Token": await sign_in(client, "alex")}
    await _returned(client, h, "P002")
    await _returned(client, h, "P003")
    h = {"X-CSRF-Token": await sign_in(client, "mona")}
    for serial, outcome in (("P002", "in_repair"), ("P003", "written_off")):
        r = await client.post(f"/api/v1/items/{serial}/inspection",
                              json={"outcome": outcome, "note": "stone chipped"}, headers=h)
        assert r.status == 200 and (await r.json())["status"] == outcome
    r = await client.post(CART + "/lines", json={"item_id": "P003"}, headers=h)
    assert r.status == 409 and "written off" in (await r.json())["detail"]


def test_loupe_items_inspect_restocks_from_the_terminal(tmp_path, capsys):
    from web_helpers import piece

    from hub.store import Store, init_store

    async def returned() -> str:
        config = init_store(tmp_path / "store", "test-01", "Maison Test", "EUR")
        async with await Store.open(config) as store:
            await store.items.receive(piece("P004"), actor="test")
            sale = await store.sales.complete(register_id="R1", actor="test",
                                              lines=[{"item_id": "P004"}],
                                              tenders=[{"type": "cash", "amount": 250_000}])
            await store.sales.return_lines(sale["sale_id"], register_id="R1", actor="test",
                                           reason="too big")
        return str(config.data_dir)

    data_dir = asyncio.run(returned())  # the terminal opens the books itself: no hub runs
    code = main(["items", "inspect", "--data-dir", data_dir, "P004", "repair",
                 "--actor", "mona"])
    assert code == 1 and "note: this is required" in capsys.readouterr().err
    assert main(["items", "inspect", "--data-dir", data_dir, "P004", "stock", "--note", "ok",
                 "--actor", "mona"]) == 0
    assert capsys.readouterr().out == "P004: in stock\n"
