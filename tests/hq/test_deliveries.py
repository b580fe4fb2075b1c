"""Deliveries of HQ's messages: a row per addressed store when HQ signs it, `applied` once
the store's own `hq.message` entry comes back; and a message the broker lost with its
persistence, published again (the very bytes HQ logged) when the store says hello.

Real Mosquitto, real hubs, a real HQ. The receiver here is HQ's own with the re-send the
lead wires into it (`deliveries.unapplied` then `mark_resent` on a store's hello)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import tempfile
from pathlib import Path

import aiomqtt
import pytest

from hub.hq import deliveries, pgcluster
from hub.sync.broker import Mosquitto, available
from hub.sync.enroll import HQKeys
from hub.sync.hq import HQ, Receiver, open_hq, publish_signed
from hub.sync.replicator import Replicator, load_enrollment
from hub.sync.settings import Broker
from hub.sync.wire import split_topic
from tests.sync.sync_helpers import FAST, HQRunner, Hub, enroll, make_bundle, new_store, until


class ResendingReceiver(Receiver):
    """HQ's receiver plus what is called on a store's hello: publish again what the store
    has not applied (test only, for a receiver without its own re-send)."""

    resend_grace_s = 0.0

    async def _handle(self, client: aiomqtt.Client, message: aiomqtt.Message) -> None:
        await super()._handle(client, message)
        _, store_id, leaf = split_topic(str(message.topic))
        if leaf != "hello":
            return
        due = await self._call(deliveries.unapplied, self.hq.storage, store_id,
                               self.resend_grace_s)
        for name, payload in due:
            await client.publish(name, payload, qos=1)
        await self._call(deliveries.mark_resent, self.hq.storage,
                         deliveries.message_ids(due), store_id)


class Runner(HQRunner):
    def __init__(self, hq: HQ, broker: Mosquitto) -> None:
        self.hq = hq
        url = Broker.parse(broker.url, "test")
        # HQ's receiver re-sends on a store's hello itself once the lead wires it in.
        own = hasattr(Receiver, "_resend")
        self.receiver = Receiver(hq, url) if own else ResendingReceiver(hq, url)
        self.receiver.resend_grace_s = 0.0  # anything not applied is due at once
        self.task = asyncio.create_task(self.receiver.run())


@pytest.fixture
def mosquitto(tmp_path: Path):
    if not available():
        pytest.skip("mosquitto is not installed (scripts/test installs it)")
    b = Mosquitto(tmp_path / "broker")
    b.start()
    yield b
    b.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def keys(request, tmp_path: Path):
    """HQ's keys, its database a SQLite file or a private PostgreSQL cluster's."""
    keys = HQKeys.create(tmp_path / "hq", "maison")
    if request.param == "sqlite":
        yield keys
        return
    if not pgcluster.available():
        pytest.skip("PostgreSQL binaries are missing (scripts/test installs them)")
    pg_dir = Path(tempfile.mkdtemp(prefix="loupe-d-pg-"))  # /tmp: postgres can reach it
    pg_dir.chmod(0o755)
    cluster = pgcluster.PgCluster(pg_dir / "pg")
    cluster.start()
    try:
        keys.use_db(cluster.createdb("hq"))
        yield keys
    finally:
        cluster.stop()
        shutil.rmtree(pg_dir, ignore_errors=True)


@pytest.fixture
async def hq(keys: HQKeys, mosquitto: Mosquitto):
    runner = Runner(open_hq(keys), mosquitto)
    await asyncio.wait_for(runner.receiver.connected.wait(), 10)
    yield runner
    await runner.close()
    runner.hq.storage.close()


class Hubs:
    def __init__(self, tmp_path: Path, keys: HQKeys, broker: Mosquitto) -> None:
        self.tmp_path, self.keys, self.broker = tmp_path, keys, broker
        self.running: dict[str, Hub] = {}
        self.enrolled: set[str] = set()

    async def start(self, store_id: str) -> Hub:
        store = await new_store(self.tmp_path, store_id, pieces=3)
        if store_id not in self.enrolled:
            await enroll(store, make_bundle(self.keys, store_id, self.broker.url))
            self.enrolled.add(store_id)
        hub = Hub(store, Replicator(store, FAST, await load_enrollment(store.ledger)))
        await hub.rep.start()
        self.running[store_id] = hub
        return hub

    async def stop(self, store_id: str) -> None:
        await self.running.pop(store_id).close()

    async def close(self) -> None:
        for hub in list(self.running.values()):
            with contextlib.suppress(Exception):
                await hub.close()


@pytest.fixture
async def hubs(tmp_path: Path, keys: HQKeys, mosquitto: Mosquitto):
    made = Hubs(tmp_path, keys, mosquitto)
    yield made
    await made.close()


async def _send(hq: Runner, broker: Mosquitto, store_id: str, mtype: str, body: dict) -> str:
    name, payload = await hq.call(hq.hq.message, store_id, mtype, body)
    await publish_signed(Broker.parse(broker.url, "test"), None, "test-hq-send",
                         [(name, payload)])
    return json.loads(payload)["doc"]["id"]


async def _caught_up(hq: Runner, hub: Hub) -> bool:
    return await hq.head(hub.store.config.store_id) == hub.store.ledger.seq


async def _delivery(hq: Runner, message_id: str) -> list[dict]:
    return await hq.call(hq.hq.storage.query, "SELECT store_id, status, seq, resent FROM"
                         " message_deliveries WHERE message_id = ? ORDER BY store_id",
                         (message_id,))


async def _price(hub: Hub, item_id: str) -> int:
    return (await hub.store.items.get(item_id))["tag_price"]


def _priced(hub: Hub, item_id: str, price: int):
    async def cond() -> bool:
        return await _price(hub, item_id) == price
    return cond


async def test_a_delivery_goes_from_sent_to_applied(hq, hubs, mosquitto):
    paris = await hubs.start("paris")
    lyon = await hubs.start("lyon")
    await until(lambda: paris.rep.connected and lyon.rep.connected, "hubs connected")
    await until(lambda: _caught_up(hq, paris), "HQ has paris (its hello pinned its key)")
    await until(lambda: _caught_up(hq, lyon), "HQ has lyon")
    hq.receiver.resend_grace_s = 3600.0  # nothing resent in this test

    msg_id = await _send(hq, mosquitto, "paris", "price",
                         {"item_id": "paris-1", "tag_price": 260000, "currency": "EUR"})
    [row] = await _delivery(hq, msg_id)
    assert (row["store_id"], row["seq"]) == ("paris", None)
    await until(_priced(paris, "paris-1", 260000), "paris applied the price")
    await until(lambda: _caught_up(hq, paris), "HQ has paris's hq.message entry")
    [row] = await _delivery(hq, msg_id)
    entry = (await paris.store.ledger.entries(row["seq"] - 1, 1))[0]
    assert row["status"] == "applied" and entry.kind == "hq.message"

    # A price for a piece HQ does not know at lyon: the store says conflict, and so does HQ.
    bad_id = await _send(hq, mosquitto, "lyon", "price",
                         {"item_id": "paris-1", "tag_price": 1000, "currency": "EUR"})
    await until(lambda: _conflicted(hq, bad_id), "lyon's conflict reached HQ")

    # `all`: one row per store HQ enrolled, each answered by its own store.
    all_id = await _send(hq, mosquitto, "all", "stock_elsewhere",
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


async def _conflicted(hq: Runner, message_id: str) -> bool:
    rows = await _delivery(hq, message_id)
    return bool(rows) and rows[0]["status"] == "conflict"


async def test_a_price_lost_with_the_broker_is_applied_once_resent(hq, hubs, mosquitto):
    paris = await hubs.start("paris")
    await until(lambda: paris.rep.connected, "paris connected")
    await until(lambda: _caught_up(hq, paris), "HQ has paris")
    await hubs.stop("paris")  # offline: its session on the broker would keep the message

    msg_id = await _send(hq, mosquitto, "paris", "price",
                         {"item_id": "paris-2", "tag_price": 199000, "currency": "EUR"})
    mosquitto.stop()
    (mosquitto.workdir / "mosquitto.db").unlink()  # the broker's persistence is lost
    await until(lambda: not hq.receiver.connected.is_set(), "HQ saw the broker go")
    port = mosquitto.port
    mosquitto.start()
    assert mosquitto.port == port, "the broker came back on another port"
    await until(lambda: hq.receiver.connected.is_set(), "HQ reconnected")
    assert [r["status"] for r in await _delivery(hq, msg_id)] == ["sent"]

    paris = await hubs.start("paris")  # its hello makes HQ publish what it has not applied
    await until(_priced(paris, "paris-2", 199000), "the lost price applied")
    await until(lambda: _caught_up(hq, paris), "HQ has paris's entry")
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
    await publish_signed(Broker.parse(mosquitto.url, "test"), None, "test-replay",
                         [(name, payload)])
    await until(lambda: paris.rep.refused > refused, "paris refused the replay")
    assert await _price(paris, "paris-2") == 199000
    assert [r["status"] for r in await _delivery(hq, msg_id)] == ["applied"]
