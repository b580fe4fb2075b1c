"""HQ -> store: signed messages applied once as journal entries; forgeries refused visibly;
click-and-collect; conflicts on both sides."""

from __future__ import annotations

import asyncio
import contextlib
import json

import aiomqtt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sync_helpers import send, until

from hub.ledger.journal import verify_chain
from hub.sync.hq import publish_signed
from hub.sync.model import SyncBook
from hub.sync.settings import Broker
from hub.sync.wire import sign_doc, topic


async def refusals(store) -> list[str]:
    return [r["reason"] for r in reversed(await SyncBook(store.ledger).refusals())]


async def applied(store, msg_id: str) -> bool:
    return bool(await store.ledger.fetch_one(
        "SELECT 1 FROM hq_messages WHERE message_id = ?", (msg_id,)))


async def test_rates_and_prices_applied_once_with_hq_signature(hq, hubs, broker):
    paris = await hubs("paris")
    lyon = await hubs("lyon")
    await until(lambda: paris.rep.connected and lyon.rep.connected, "hubs connected")
    rates_id = await send(hq, broker, "all", "rates", {"rates": [
        {"metal": "gold", "fineness": 750, "per_gram": 5480, "currency": "EUR",
         "valid_from": "2026-01-01T09:00:00Z", "valid_until": "2026-01-01T18:00:00Z"}]})
    price_id = await send(hq, broker, "paris", "price",
                          {"item_id": "paris-1", "tag_price": 260000, "currency": "EUR"})
    for hub in (paris, lyon):
        await until(lambda h=hub: applied(h.store, rates_id), "rates applied")
    await until(lambda: applied(paris.store, price_id), "price applied")
    assert (await paris.store.items.get("paris-1"))["tag_price"] == 260000
    rates = await lyon.rep.book.rates()
    assert [(r["metal"], r["fineness"], r["per_gram"]) for r in rates] == [("gold", 750, 5480)]

    # The entry keeps HQ's signature: anyone with HQ's public key can check it again.
    row = await paris.store.ledger.fetch_one("SELECT seq FROM hq_messages WHERE message_id = ?",
                                             (price_id,))
    entry = (await paris.store.ledger.entries(row["seq"] - 1, 1))[0]
    payload = paris.store.ledger.decrypt(entry)
    hq_pub = hq.hq.keys.signing.public_key()
    from hub.ledger.journal import canonical_json
    hq_pub.verify(bytes.fromhex(payload["sig"]), canonical_json(payload["message"]))
    assert (await paris.store.ledger.verify()).ok


async def test_forged_unsigned_replayed_and_misaddressed_messages_are_refused(hq, hubs, broker):
    paris = await hubs("paris")
    await until(lambda: paris.rep.connected, "connected")
    good_name, good = await hq.call(hq.hq.message, "paris", "price",
                                    {"item_id": "paris-0", "tag_price": 1, "currency": "EUR"})
    doc = json.loads(good)["doc"]
    forged = sign_doc(Ed25519PrivateKey.generate(), {**doc, "id": "f" * 32})
    unsigned = json.dumps({"doc": {**doc, "id": "u" * 32}}).encode()
    other_store = sign_doc(hq.hq.keys.signing, {**doc, "id": "o" * 32, "store": "lyon"})
    b = Broker.parse(broker.url, "t")
    await publish_signed(b, None, "attacker", [
        (good_name, forged), (good_name, unsigned), (good_name, other_store),
        (good_name, b"not json"), (good_name, good), (good_name, good)])
    await until(lambda: applied(paris.store, doc["id"]), "genuine message applied")
    await until(lambda: paris.rep.refused >= 5, "five refusals")
    reasons = await refusals(paris.store)
    assert any("bad signature" in r for r in reasons)
    assert any("unsigned" in r for r in reasons)
    assert any("addressed to store 'lyon'" in r for r in reasons)
    assert any("not JSON" in r for r in reasons)
    assert any("replay refused" in r for r in reasons)
    assert (await paris.store.items.get("paris-0"))["tag_price"] == 1
    rows = await paris.store.ledger.fetch("SELECT COUNT(*) AS n FROM hq_messages")
    assert rows[0]["n"] == 1


async def test_client_update_travels_sealed_and_lands_under_the_clients_key(hq, hubs, broker):
    paris = await hubs("paris")
    await until(lambda: paris.rep.acked == paris.store.ledger.seq, "enrolled at HQ")
    seen: list[bytes] = []
    subscribed = asyncio.Event()

    async def spy() -> None:
        async with aiomqtt.Client("127.0.0.1", broker.port, identifier="spy") as c:
            await c.subscribe("#", qos=1)  # returns on the broker's SUBACK
            subscribed.set()
            async for m in c.messages:
                seen.append(bytes(m.payload))

    spy_task = asyncio.create_task(spy())
    await asyncio.wait_for(subscribed.wait(), 10)  # the spy hears everything from here on
    msg_id = await send(hq, broker, "paris", "client", {
        "client_id": "CABCDEFGHIJ", "profile": {"first_name": "Héloïse", "last_name": "Vasseur",
                                                "emails": ["heloise@example.fr"]}})
    await until(lambda: applied(paris.store, msg_id), "client applied")
    client = await paris.store.clients.get("CABCDEFGHIJ")
    assert client["profile"]["last_name"] == "Vasseur"
    await until(lambda: paris.rep.acked == paris.store.ledger.seq, "client entries at HQ")
    # The spy saw both legs: HQ's message in, and the store's client entry out to HQ.
    await until(lambda: any(msg_id.encode() in p for p in seen), "the spy saw HQ's message")
    await until(lambda: any(b'"subject":"client:CABCDEFGHIJ"' in p for p in seen),
                "the spy saw the client's entry go to HQ")
    spy_task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await spy_task
    for payload in seen:
        assert b"Vasseur" not in payload and b"heloise@" not in payload
    assert (await hq.call(hq.hq.client_profile, "paris", "CABCDEFGHIJ"))["first_name"] == "Héloïse"


async def test_click_and_collect(hq, hubs, broker):
    paris = await hubs("paris")
    client = await paris.store.clients.create({"last_name": "Laurent"}, actor="admin")
    await until(lambda: paris.rep.acked == paris.store.ledger.seq, "client at HQ")
    await send(hq, broker, "paris", "reservation", {
        "reservation_id": "WEB-1001", "item_id": "paris-3", "client_id": client["client_id"],
        "pickup_by": "2026-12-24T18:00:00Z"})
    await until(lambda: paris.rep.book.reservations("held"), "hold applied")
    assert (await paris.store.items.get("paris-3"))["status"] == "reserved"
    refused = None
    try:
        await paris.sell("paris-3")
    except Exception as exc:  # a held piece cannot be sold over the counter
        refused = exc
    assert refused is not None and "reserved" in str(refused)

    sale = await paris.rep.book.collect("WEB-1001", register_id="R1", actor="admin",
                                        tenders=[{"type": "cash", "amount": 250000}])
    assert sale["client_id"] == client["client_id"]
    assert (await paris.store.items.get("paris-3"))["status"] == "sold"
    await until(lambda: paris.rep.acked == paris.store.ledger.seq, "sale at HQ")
    res = await hq.call(hq.hq.storage.query, "SELECT status FROM reservations"
                        " WHERE reservation_id = 'WEB-1001'")
    assert res == [{"status": "collected"}]
    sales = await hq.call(hq.hq.storage.query, "SELECT sale_id, client_id FROM sales"
                          " WHERE store_id = 'paris'")
    assert {"sale_id": sale["sale_id"], "client_id": client["client_id"]} in sales
    assert await hq.call(hq.hq.storage.conflicts) == []


async def test_offline_double_sale_is_a_conflict_on_both_sides(hq, hubs, broker):
    paris = await hubs("paris")
    await until(lambda: paris.rep.acked == paris.store.ledger.seq, "in sync")
    await paris.rep.stop()  # the shop's line is down
    await paris.sell("paris-4")  # sold in the shop, offline

    # Meanwhile the web shop sells the same piece: HQ reserves it for pick-up.
    await send(hq, broker, "paris", "reservation", {
        "reservation_id": "WEB-2002", "item_id": "paris-4", "client_id": "CWEBCLIENT2",
        "pickup_by": "2026-12-24T18:00:00Z"})

    await paris.rep.start()  # the line is back
    await until(lambda: paris.rep.book.conflicts(), "conflict at the store")
    await until(lambda: paris.rep.acked == paris.store.ledger.seq, "all at HQ")
    [store_side] = await paris.rep.book.conflicts()
    assert store_side["kind"] == "reservation_for_sold_piece"
    assert store_side["item_id"] == "paris-4"
    assert (await paris.store.items.get("paris-4"))["status"] == "sold"  # nothing undone

    hq_side = await hq.call(hq.hq.storage.conflicts)
    kinds = {(c["source"], c["kind"]) for c in hq_side}
    assert ("hq", "reserved_piece_sold") in kinds  # HQ saw the store's sale of its reserved piece
    assert ("paris", "reservation_for_sold_piece") in kinds  # and the store's own conflict entry
    res = await hq.call(hq.hq.storage.query, "SELECT status FROM reservations"
                        " WHERE reservation_id = 'WEB-2002'")
    assert res == [{"status": "conflict"}]
    entries = await paris.store.ledger.entries(0, 10_000)
    assert verify_chain(entries, "paris", paris.store.ledger.public_key).ok


async def test_price_for_a_sold_piece_is_a_conflict_not_an_edit(hq, hubs, broker):
    paris = await hubs("paris")
    await paris.sell("paris-2")
    msg_id = await send(hq, broker, "paris", "price",
                        {"item_id": "paris-2", "tag_price": 1, "currency": "EUR"})
    await until(lambda: applied(paris.store, msg_id), "message recorded")
    [conflict] = await paris.rep.book.conflicts()
    assert conflict["kind"] == "price_for_sold_piece"
    assert (await paris.store.items.get("paris-2"))["tag_price"] == 250000


async def test_a_store_cannot_pass_off_another_stores_entries(hq, hubs, broker):
    paris = await hubs("paris")
    lyon = await hubs("lyon")
    await until(lambda: paris.rep.acked == paris.store.ledger.seq and
                lyon.rep.acked == lyon.store.ledger.seq, "both in sync")
    before = await hq.head("lyon")
    # Lyon's real entries, published on Paris's topic and relabelled as Paris's.
    entries = await lyon.store.ledger.entries(0, 100)
    body = {"format": "loupe-batch/1", "store": "paris",
            "entries": [e.to_export() for e in entries], "keys": []}
    relabelled = {**body, "entries": [{**e, "seq": e["seq"] + 1000} for e in body["entries"]]}
    b = Broker.parse(broker.url, "t")
    await publish_signed(b, None, "rogue", [
        (topic("maison", "paris", "journal"), json.dumps({**body, "store": "lyon"}).encode()),
        (topic("maison", "paris", "journal"), json.dumps(body).encode()),
        (topic("maison", "paris", "journal"), json.dumps(relabelled).encode())])
    await paris.sell("paris-1")
    await until(lambda: paris.rep.acked == paris.store.ledger.seq, "paris still syncs")
    assert await hq.head("lyon") == before
    assert (await hq.call(hq.hq.verify_store, "paris")).startswith("ok")
    from sync_helpers import hq_entries, journal
    assert await hq_entries(hq, "paris") == await journal(paris.store)
