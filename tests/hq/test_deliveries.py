"""Deliveries of HQ's messages: a row per addressed store when HQ signs it, `applied` once
the store's own `hq.message` entry comes back; and a message the broker lost with its
persistence, published again (the very bytes HQ logged) when the store says hello.

Real Mosquitto, real hubs, a real HQ on SQLite and on PostgreSQL (tests/conftest.py)."""

from __future__ import annotations

from hub.hq import deliveries
from hub.sync.hq import publish_signed
from hub.sync.settings import Broker
from tests.hq.ops_fixtures import stores  # noqa: F401  (a fixture)
from tests.sync.sync_helpers import HQRunner, Hub, caught_up, send, until


async def _delivery(hq: HQRunner, message_id: str) -> list[dict]:
    return await hq.call(hq.hq.storage.query, "SELECT store_id, status, seq, resent FROM"
                         " message_deliveries WHERE message_id = ? ORDER BY store_id",
                         (message_id,))


async def _price(hub: Hub, item_id: str) -> int:
    return (await hub.store.items.get(item_id))["tag_price"]


def _priced(hub: Hub, item_id: str, price: int):
    async def cond() -> bool:
        return await _price(hub, item_id) == price
    return cond


async def test_a_delivery_goes_from_sent_to_applied(hq, stores, broker):  # noqa: F811
    paris = await stores.start("paris")
    lyon = await stores.start("lyon")
    await until(lambda: paris.rep.connected and lyon.rep.connected, "hubs connected")
    await until(lambda: caught_up(hq, paris), "HQ has paris (its hello pinned its key)")
    await until(lambda: caught_up(hq, lyon), "HQ has lyon")
    hq.receiver.resend_grace_s = 3600.0  # nothing resent in this test

    msg_id = await send(hq, broker, "paris", "price",
                         {"item_id": "paris-1", "tag_price": 260000, "currency": "EUR"})
    [row] = await _delivery(hq, msg_id)
    assert (row["store_id"], row["seq"]) == ("paris", None)
    await until(_priced(paris, "paris-1", 260000), "paris applied the price")
    await until(lambda: caught_up(hq, paris), "HQ has paris's hq.message entry")
    [row] = await _delivery(hq, msg_id)
    entry = (await paris.store.ledger.entries(row["seq"] - 1, 1))[0]
    assert row["status"] == "applied" and entry.kind == "hq.message"

    # A price for a piece HQ does not know at lyon: the store says conflict, and so does HQ.
    bad_id = await send(hq, broker, "lyon", "price",
                         {"item_id": "paris-1", "tag_price": 1000, "currency": "EUR"})
    await until(lambda: _conflicted(hq, bad_id), "lyon's conflict reached HQ")

    # `all`: one row per store HQ enrolled, each answered by its own store.
    all_id = await send(hq, broker, "all", "stock_elsewhere",
                         {"sku": "RING-SOL-1", "stores": {"paris": 3, "lyon": 3}})
    assert [r["store_id"] for r in await _delivery(hq, all_id)] == ["lyon", "paris"]

    async def both_applied() -> bool:
        return [r["status"] for r in await _delivery(hq, all_id)] == ["applied", "applied"]

    await until(both_applied, "both stores applied the stock message")

    out = await hq.call(deliveries.outgoing, hq.hq.storage, 10)
    assert [m["message_id"] for m in out] == [all_id, bad_id, msg_id]  # newest first
    assert [(d["store_id"], d["status"]) for d in out[1]["deliveries"]] == [("lyon",
                                                                             "conflict")]
    # Nothing is left to resend: every delivery was answered.
    assert await hq.call(deliveries.unapplied, hq.hq.storage, "paris", 0.0) == []


async def _conflicted(hq: HQRunner, message_id: str) -> bool:
    rows = await _delivery(hq, message_id)
    return bool(rows) and rows[0]["status"] == "conflict"


async def test_a_price_lost_with_the_broker_is_applied_once_resent(hq, stores,  # noqa: F811
                                                                  broker):
    hq.receiver.resend_grace_s = 0.0  # anything not applied is due at once
    paris = await stores.start("paris")
    await until(lambda: paris.rep.connected, "paris connected")
    await until(lambda: caught_up(hq, paris), "HQ has paris")
    await stores.stop("paris")  # offline: its session on the broker would keep the message

    msg_id = await send(hq, broker, "paris", "price",
                         {"item_id": "paris-2", "tag_price": 199000, "currency": "EUR"})
    broker.stop()
    (broker.workdir / "mosquitto.db").unlink()  # the broker's persistence is lost
    await until(lambda: not hq.receiver.connected.is_set(), "HQ saw the broker go")
    port = broker.port
    broker.start()
    assert broker.port == port, "the broker came back on another port"
    await until(lambda: hq.receiver.connected.is_set(), "HQ reconnected")
    assert [r["status"] for r in await _delivery(hq, msg_id)] == ["sent"]

    paris = await stores.start("paris")  # its hello makes HQ publish what it has not applied
    await until(_priced(paris, "paris-2", 199000), "the lost price applied")
    await until(lambda: caught_up(hq, paris), "HQ has paris's entry")
    [row] = await _delivery(hq, msg_id)
    assert row["status"] == "applied" and row["resent"] >= 1
    applied = await paris.store.ledger.fetch("SELECT message_id FROM hq_messages"
                                             " WHERE message_id = ?", (msg_id,))
    assert len(applied) == 1

    # A second resend (the store's next hello) is refused by the store as a replay and
    # changes nothing: the piece keeps its price, HQ's row stays applied.
    assert await hq.call(deliveries.unapplied, hq.hq.storage, "paris", 0.0) == []
    [logged] = await hq.call(hq.hq.storage.query, "SELECT signed FROM messages"
                             " WHERE message_id = ?", (msg_id,))
    name, payload = "loupe/maison/paris/inbox", bytes(logged["signed"])
    refused = paris.rep.refused
    await publish_signed(Broker.parse(broker.url, "test"), None, "test-replay",
                         [(name, payload)])
    await until(lambda: paris.rep.refused > refused, "paris refused the replay")
    assert await _price(paris, "paris-2") == 199000
    assert [r["status"] for r in await _delivery(hq, msg_id)] == ["applied"]


async def test_a_message_the_store_cannot_take_is_refused_once_and_not_resent(
        hq, stores, broker):  # noqa: F811
    hq.receiver.resend_grace_s = 0.0  # anything still `sent` would be due at once
    paris = await stores.start("paris")
    await until(lambda: paris.rep.connected, "paris connected")
    await until(lambda: caught_up(hq, paris), "HQ has paris")
    before = await _price(paris, "paris-1")

    # Signed by HQ and addressed to paris, but in a currency paris does not sell in.
    msg_id = await send(hq, broker, "paris", "price",
                         {"item_id": "paris-1", "tag_price": 1000, "currency": "CHF"})

    async def refused_at_hq() -> bool:
        rows = await _delivery(hq, msg_id)
        return bool(rows) and rows[0]["status"] == "refused"

    await until(refused_at_hq, "HQ read the store's refusal from its journal")
    assert await _price(paris, "paris-1") == before
    [entry] = [e for e in await paris.store.ledger.entries(0, paris.store.ledger.seq)
               if e.kind == "hq.message"]
    p = paris.store.ledger.decrypt(entry)
    assert p["outcome"] == "refused" and p["message"]["id"] == msg_id
    assert "CHF" in p["reason"] and "EUR" in p["reason"]
    # ... and the sync screen still lists it among the refusals, with the same reason.
    assert any(p["reason"] in r["reason"] for r in await paris.rep.sync_book.refusals(10))
    # Refused is an answer: HQ does not publish it again.
    assert await hq.call(deliveries.unapplied, hq.hq.storage, "paris", 0.0) == []

    # The same bytes again (a late resend): refused, but journaled only once.
    [logged] = await hq.call(hq.hq.storage.query, "SELECT signed FROM messages"
                             " WHERE message_id = ?", (msg_id,))
    refused = paris.rep.refused
    await publish_signed(Broker.parse(broker.url, "test"), None, "test-replay",
                         [("loupe/maison/paris/inbox", bytes(logged["signed"]))])
    await until(lambda: paris.rep.refused > refused, "paris refused it again")
    kept = [e for e in await paris.store.ledger.entries(0, paris.store.ledger.seq)
            if e.kind == "hq.message"]
    assert len(kept) == 1
