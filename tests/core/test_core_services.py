"""Pieces, clients and sales through the real services and a real database."""

import asyncio

import pytest

from hub.core.errors import Invalid, NotFound, Refused
from hub.ledger.ledger import verify_database
from tests.builders import cash, client, piece


async def test_receive_assigns_an_epc_and_history_starts(store):
    p = await store.items.receive(piece(1), "admin")
    assert p["status"] == "in_stock" and len(p["epc"]) == 24
    assert p["stones"][0]["certificate"] == "2141234567"
    history = await store.items.history("P-1")
    assert [h["kind"] for h in history] == ["item.received"]
    assert (await store.items.by_epc(p["epc"]))["item_id"] == "P-1"


@pytest.mark.parametrize("over, message", [
    ({"metal_weight_mg": -1}, "metal_weight_mg: this must be at least 0"),
    ({"category": "tiara-ish"}, "category: “tiara-ish” is not one of"),
    ({"tag_price": 12.5}, "tag_price: this must be an amount in minor units"),
    ({"epc": "XYZ"}, "epc: this is not an EPC"),
    ({"fineness": 1200}, "fineness: this must be at most 1,000"),
    ({"ownership": "memo"}, "a piece on memo or consignment needs its vendor"),
    ({"colour": "red"}, "unknown field “colour”"),
    ({"stones": [{"type": "diamond"}]}, "stones[0].carat_cents: this is required"),
])
async def test_bad_pieces_are_refused_with_the_field(store, over, message):
    with pytest.raises(Invalid) as err:
        await store.items.receive(piece(1, **over), "admin")
    assert message in str(err.value)
    assert store.ledger.seq == 0


async def test_duplicate_serial_and_epc(store):
    await store.items.receive(piece(1, epc="3034257BF7194E4000003039"), "admin")
    with pytest.raises(Refused, match="serial “P-1” is already in the books"):
        await store.items.receive(piece(1), "admin")
    with pytest.raises(Refused, match="EPC 3034257BF7194E4000003039 is already on another piece"):
        await store.items.receive(piece(2, epc="3034257bf7194e4000003039"), "admin")
    assert store.ledger.seq == 1


async def test_a_piece_sells_once_and_refusals_say_why(store):
    await store.items.receive(piece(1), "admin")
    await store.items.receive(piece(2), "admin")
    sale = await store.sales.complete(register_id="R1", actor="anna", lines=[{"item_id": "P-1"}],
                                      tenders=cash(950_000))
    assert sale["sale_id"] == "R1-000001" and sale["total"] == 950_000
    with pytest.raises(Refused, match=r"piece P-1 was already sold \(sale R1-000001\)"):
        await store.sales.complete(register_id="R1", actor="anna", lines=[{"item_id": "P-1"}],
                                   tenders=cash(950_000))
    await store.items.change_status("P-2", "memo_out", "anna", ref="memo-7")
    with pytest.raises(Refused, match=r"piece P-2 is out on memo \(memo-7\)"):
        await store.sales.complete(register_id="R1", actor="anna", lines=[{"item_id": "P-2"}],
                                   tenders=cash(950_000))
    with pytest.raises(NotFound, match="no piece with serial “P-9”"):
        await store.sales.complete(register_id="R1", actor="anna", lines=[{"item_id": "P-9"}],
                                   tenders=cash(1))


async def test_split_tenders_discount_tax_and_change(store):
    await store.items.receive(piece(1, tag_price=100_000), "admin")
    await store.items.receive(piece(2, tag_price=50_001), "admin")
    await store.items.receive_stock({"sku": "CLOTH", "description": "Polishing cloth",
                                     "unit_price": 1_500, "quantity": 10}, "admin")
    tenders = [{"type": "card", "amount": 100_000, "brand": "visa", "last4": "4242",
                "auth_code": "A1B2"}, {"type": "cash", "amount": 60_000}]
    sale = await store.sales.complete(
        register_id="R2", actor="anna", discount=1_000, tenders=tenders,
        lines=[{"item_id": "P-1"}, {"item_id": "P-2"}, {"sku": "CLOTH", "quantity": 2}])
    assert sale["subtotal"] == 153_001
    assert sale["discount"] == 1_000
    assert sale["total"] == 152_001
    assert sum(line["total"] for line in sale["lines"]) == sale["total"]
    # 20 % included: the tax of each line is its share, summed.
    assert sale["tax"] == sum(line["tax"] for line in sale["lines"])
    assert sale["tenders"][0]["detail"] == {"auth_code": "A1B2", "brand": "visa", "last4": "4242"}
    stock = await store.ledger.fetch_one("SELECT quantity FROM stock_lines WHERE sku = 'CLOTH'")
    assert stock["quantity"] == 8


async def test_underpaid_overpaid_by_card_and_card_numbers(store):
    await store.items.receive(piece(1, tag_price=10_000), "admin")
    with pytest.raises(Refused, match="€50.00 still to pay"):
        await store.sales.complete(register_id="R1", actor="a", lines=[{"item_id": "P-1"}],
                                   tenders=cash(5_000))
    with pytest.raises(Refused, match="only cash can be more than what is due"):
        await store.sales.complete(register_id="R1", actor="a", lines=[{"item_id": "P-1"}],
                                   tenders=[{"type": "card", "amount": 20_000, "last4": "1111"}])
    with pytest.raises(Invalid, match="looks like a full card number"):
        await store.sales.complete(register_id="R1", actor="a", lines=[{"item_id": "P-1"}],
                                   tenders=[{"type": "card", "amount": 10_000, "last4": "1111",
                                             "auth_code": "4111 1111 1111 1111"}])
    with pytest.raises(Invalid, match="is not a register"):
        await store.sales.complete(register_id="R9", actor="a", lines=[{"item_id": "P-1"}],
                                   tenders=cash(10_000))
    assert store.ledger.seq == 1


async def test_return_and_void_are_new_documents(store):
    for n in (1, 2, 3):
        await store.items.receive(piece(n, tag_price=10_000), "admin")
    sale = await store.sales.complete(register_id="R1", actor="a",
                                      lines=[{"item_id": "P-1"}, {"item_id": "P-2"}],
                                      tenders=cash(20_000))
    ret = await store.sales.return_lines(sale["sale_id"], register_id="R1", actor="m",
                                         reason="size", lines=[{"line_no": 2, "quantity": 1}])
    assert ret["return_id"] == "R1-000002" and ret["refund"] == 10_000
    assert (await store.items.get("P-2"))["status"] == "returned"
    assert (await store.sales.get(sale["sale_id"]))["status"] == "partly_returned"
    with pytest.raises(Refused, match="only a completed sale with no returns can be voided"):
        await store.sales.void(sale["sale_id"], register_id="R1", actor="m", reason="error")
    with pytest.raises(Refused, match="1 asked, 0 left to return"):
        await store.sales.return_lines(sale["sale_id"], register_id="R1", actor="m",
                                       reason="again", lines=[{"line_no": 2, "quantity": 1}])
    sale2 = await store.sales.complete(register_id="R1", actor="a", lines=[{"item_id": "P-3"}],
                                       tenders=cash(10_000))
    void = await store.sales.void(sale2["sale_id"], register_id="R1", actor="m", reason="keyed")
    assert void["return_id"] == "R1-000004"
    assert (await store.items.get("P-3"))["status"] == "in_stock"
    kinds = [h["kind"] for h in await store.items.history("P-3")]
    assert kinds == ["item.received", "sale.completed", "sale.voided"]
    assert verify_database(store.config.db_path).ok


async def test_a_return_refunds_through_the_tenders_paid(store):
    await store.items.receive(piece(1, tag_price=100_000), "admin")
    sale = await store.sales.complete(
        register_id="R1", actor="a", lines=[{"item_id": "P-1"}],
        tenders=[{"type": "card", "amount": 60_000, "last4": "4242"},
                 {"type": "cash", "amount": 50_000}])  # 10,000 change
    ret = await store.sales.return_lines(sale["sale_id"], register_id="R1", actor="m",
                                         reason="gift exchange")
    assert [(t["type"], t["amount"]) for t in ret["tenders"]] == [("card", 60_000),
                                                                   ("cash", 40_000)]
    summary = await store.summary()
    assert summary["sales_total"] == 0


async def test_clients_lookup_search_update_and_forget(store):
    c = await store.clients.create(client(), "anna")
    cid = c["client_id"]
    assert await store.clients.find_by_contact("ZOË.marchand@EXAMPLE.fr") == [cid]
    assert await store.clients.find_by_contact("0033 6 12 34 56 78") == [cid]
    assert [h["client_id"] for h in await store.clients.search("zoe mar")] == [cid]
    await store.clients.update(cid, {"ring_sizes": {"left ring": "53"}}, "anna")
    assert (await store.clients.get(cid))["profile"]["ring_sizes"] == {"left ring": "53"}
    await store.items.receive(piece(1), "admin")
    await store.sales.complete(register_id="R1", actor="anna", lines=[{"item_id": "P-1"}],
                               tenders=cash(950_000), client_id=cid)
    assert [s["client_id"] for s in await store.sales.for_client(cid)] == [cid]
    await store.clients.forget(cid, "manager")
    assert (await store.clients.get(cid))["profile"] is None
    assert await store.clients.search("zoe") == []
    assert await store.clients.find_by_contact("zoë.marchand@example.fr") == []
    with pytest.raises(Refused, match="already erased"):
        await store.clients.forget(cid, "manager")
    with pytest.raises(NotFound):
        await store.clients.update(cid, {"notes": "x"}, "anna")
    # The chain still verifies; the client's entries are there but unreadable.
    assert verify_database(store.config.db_path).ok
    entries = [e for e in await store.ledger.entries() if e.key_id == f"client:{cid}"]
    assert len(entries) == 2 and all(store.ledger.decrypt(e) is None for e in entries)


async def test_bad_client_profiles(store):
    for bad, message in [({"first_name": "A", "emails": ["not-an-email"]}, "is not an e-mail"),
                         ({"notes": "x"}, "needs a first or last name"),
                         ({"last_name": "B", "dates": {"birthday": "1990-02-30"}},
                          "is not a date"),
                         ({"last_name": "B", "partner_id": "CAAAAAAAAAA"}, "no client")]:
        with pytest.raises(Invalid, match=message):
            await store.clients.create(bad, "anna")


async def test_group_commit_batches_concurrent_callers(store):
    results = await asyncio.gather(*[store.items.receive(piece(n), "admin") for n in range(200)],
                                   return_exceptions=True)
    assert all(isinstance(r, dict) for r in results)
    assert store.ledger.seq == 200
    assert store.ledger.batches < 200  # many callers shared a commit
    # One refused command in a batch does not undo its neighbours.
    results = await asyncio.gather(store.items.receive(piece(500), "admin"),
                                   store.items.receive(piece(0), "admin"),
                                   store.items.receive(piece(501), "admin"),
                                   return_exceptions=True)
    assert isinstance(results[1], Refused)
    assert {r["item_id"] for r in results if isinstance(r, dict)} == {"P-500", "P-501"}
    # A command refused after it wrote (the third piece of a set is a duplicate) is undone
    # whole, and the commands batched with it still land exactly once.
    results = await asyncio.gather(
        store.items.receive(piece(600), "admin"),
        store.items.receive_many([piece(601), piece(602), piece(0)], "admin"),
        store.items.receive(piece(603), "admin"),
        return_exceptions=True)
    assert isinstance(results[1], Refused) and "P-0" in str(results[1])
    assert [r["item_id"] for r in (results[0], results[2])] == ["P-600", "P-603"]
    serials = {r["item_id"] for r in await store.ledger.fetch("SELECT item_id FROM items")}
    assert {"P-600", "P-603"} <= serials and not {"P-601", "P-602"} & serials
    assert store.ledger.seq == 204
    assert verify_database(store.config.db_path).ok


def test_identical_stones_read_as_one_line_after_the_centre_stone():
    from hub.core.items import group_stones

    centre = {"type": "diamond", "carat_cents": 101}
    pave = {"type": "diamond", "carat_cents": 2}
    ruby = {"type": "ruby", "carat_cents": 5}
    assert group_stones([centre, pave, pave, pave, ruby, pave]) == [
        (1, centre), (3, pave), (1, ruby), (1, pave)]
    assert group_stones([pave, pave]) == [(1, pave), (1, pave)]  # the centre stays alone
    assert sum(n for n, _ in group_stones([centre] + [pave] * 22)) == 23
