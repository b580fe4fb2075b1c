"""Online orders shipped from a store, in the store's books (HQ's message handed over as the
sync layer would, its address opened from the seal): held, refused when the piece is not
free, shipped by scan as a sale paid online, cancelled; the address erased with her, and
never kept with a refused message; the `online` tender taken by no other sale; a rebuild
gives the same."""

from __future__ import annotations

import pytest

from hub.core.errors import Refused
from tests.builders import cash, client, piece

ADDRESS = {"name": "Zoë Marchand", "line1": "3 quai des Chartrons", "postcode": "33000",
           "city": "Bordeaux", "country": "FR", "phone": "+33 6 12 34 56 78"}


def order(n: int, item_id: str, client_id: str = "WEB-1", **over) -> dict:
    return {"id": f"m-order-{n}", "type": "online_order", "chain": "maison",
            "store": "paris-01", "issued_at": "2026-12-03T09:00:00Z",
            "body": {"order_id": f"WO-{n}", "item_id": item_id, "client_id": client_id,
                     "paid": 900_000, "currency": "EUR", "ship_by": "2026-12-06T18:00:00Z",
                     "sealed_ship_to": "00", **over}}


async def test_an_online_order_is_held_shipped_and_sold_paid_online(store):
    await store.items.receive_many([piece(1), piece(2)], actor="admin")
    applied = await store.hq.apply(order(1, "P-1"), "sig", profile=ADDRESS)
    assert applied.outcome == "applied"
    assert (await store.items.get("P-1"))["status"] == "reserved"
    with pytest.raises(Refused, match="reserved .order:WO-1"):  # the floor cannot sell it
        await store.sales.complete(register_id="R1", actor="admin",
                                   lines=[{"item_id": "P-1"}], tenders=cash(950_000))
    [waiting] = await store.hq.orders("to_ship")
    assert waiting["ship_to"] == ADDRESS and waiting["paid"] == 900_000

    sale = await store.hq.ship("WO-1", scanned="P-1", carrier="Chronopost",
                               tracking="XY123", register_id="R1", actor="admin")
    assert sale["total"] == 900_000 and sale["discount"] == 50_000  # tag 9,500.00
    assert [t["type"] for t in sale["tenders"]] == ["online"]
    assert (await store.items.get("P-1"))["status"] == "sold"
    report = (await store.closures.report())["totals"]
    assert report["tenders"]["online"] == 900_000

    before = [dict(r) for r in await store.ledger.fetch("SELECT * FROM hq_orders")]
    await store.rebuild()
    assert [dict(r) for r in await store.ledger.fetch("SELECT * FROM hq_orders")] == before
    assert before[0]["status"] == "shipped" and before[0]["tracking"] == "XY123"


async def test_bad_orders_and_bad_shipments_change_nothing(store):
    await store.items.receive_many([piece(1), piece(2)], actor="admin")
    await store.sales.complete(register_id="R1", actor="admin", lines=[{"item_id": "P-2"}],
                               tenders=cash(950_000))
    conflict = await store.hq.apply(order(2, "P-2"), "sig", profile=ADDRESS)
    assert conflict.outcome == "conflict"  # sold in store meanwhile: never a double sale
    assert await store.hq.orders() == []
    for msg, profile, words in (
            (order(3, "P-1"), {"name": "Zoë"}, "line1"),
            (order(4, "P-1", paid=0), ADDRESS, "more than zero"),
            (order(5, "P-1", currency="USD"), ADDRESS, "USD")):
        seq = store.ledger.seq
        with pytest.raises(Refused, match=words):
            await store.hq.apply(msg, "sig", profile=profile)
        # The refusal is the journal's one new entry (HQ reads it as refused); nothing else,
        # and not her address, sealed or not.
        assert store.ledger.seq == seq + 1
        [entry] = await store.ledger.entries(seq, 1)
        kept = store.ledger.decrypt(entry)
        assert kept["outcome"] == "refused" and kept["left_out"] == ["sealed_ship_to"]
        assert "sealed_ship_to" not in kept["message"]["body"]
        assert (await store.items.get("P-1"))["status"] == "in_stock"

    await store.hq.apply(order(6, "P-1"), "sig", profile=ADDRESS)
    seq = store.ledger.seq
    for kwargs, code in (({"scanned": "P-2"}, "wrong_piece"),
                         ({"scanned": "P-1", "carrier": ""}, "invalid"),
                         ({"scanned": "P-1", "register_id": "R9"}, None)):
        args = {"scanned": "P-1", "carrier": "DHL", "tracking": "1Z", "register_id": "R1",
                **kwargs}
        with pytest.raises(Refused) as refused:
            await store.hq.ship("WO-6", actor="admin", **args)
        assert code is None or refused.value.code == code
    assert store.ledger.seq == seq
    # No sale outside an online order takes the `online` tender.
    with pytest.raises(Refused) as online:
        await store.sales.complete(register_id="R1", actor="admin", lines=[{"item_id": "P-3"}],
                                   tenders=[{"type": "online", "amount": 1}])
    assert online.value.code == "online_only"

    cancel = {"id": "m-cancel-6", "type": "online_order_cancelled", "chain": "maison",
              "store": "paris-01", "issued_at": "2026-12-03T10:00:00Z",
              "body": {"order_id": "WO-6", "reason": "changed her mind"}}
    assert (await store.hq.apply(cancel, "sig")).outcome == "applied"
    assert (await store.items.get("P-1"))["status"] == "in_stock"
    with pytest.raises(Refused, match="not waiting to be shipped"):
        await store.hq.ship("WO-6", scanned="P-1", carrier="DHL", tracking="1Z",
                            register_id="R1", actor="admin")


async def test_her_address_goes_with_her_when_she_is_erased(store):
    await store.items.receive_many([piece(1)], actor="admin")
    her = await store.clients.create(client(), "admin")
    await store.hq.apply(order(7, "P-1", client_id=her["client_id"]), "sig", profile=ADDRESS)
    assert (await store.hq.orders())[0]["ship_to"]["city"] == "Bordeaux"
    await store.clients.forget(her["client_id"], "admin")
    [kept] = await store.hq.orders()
    assert kept["ship_to"] is None and kept["status"] == "to_ship"


async def test_a_profile_for_an_erased_client_is_refused_and_not_kept(store):
    her = await store.clients.create(client(), "admin")
    await store.clients.forget(her["client_id"], "admin")
    doc = {"id": "m-client-1", "type": "client", "chain": "maison", "store": "paris-01",
           "issued_at": "2026-12-03T09:00:00Z",
           "body": {"client_id": her["client_id"], "sealed_profile": "ab" * 40}}
    seq = store.ledger.seq
    with pytest.raises(Refused) as refused:
        await store.hq.apply(doc, "sig", profile=client())
    assert refused.value.code == "client_forgotten"
    [entry] = await store.ledger.entries(seq, 1)
    kept = store.ledger.decrypt(entry)
    assert kept["left_out"] == ["sealed_profile"]
    assert "sealed_profile" not in kept["message"]["body"] and "abab" not in str(kept)
