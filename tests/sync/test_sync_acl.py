"""The shipped broker configuration (deploy/mosquitto) in a real Mosquitto with TLS: client
certificates name the store, and the ACL keeps each store to its own topics."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import aiomqtt
import pytest
from sync_helpers import PIECE, enroll, make_bundle, new_store, until

from hub.sync.broker import Mosquitto, available
from hub.sync.enroll import HQKeys
from hub.sync.hq import Receiver, open_hq
from hub.sync.mqtt import make_client
from hub.sync.replicator import Replicator, load_enrollment
from hub.sync.settings import Broker, SyncSettings, TlsFiles

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "mosquitto"


@pytest.fixture
def tls_broker(tmp_path: Path, hq_keys: HQKeys):
    if not available():
        pytest.skip("mosquitto is not installed")
    conf_dir = tmp_path / "etc"
    conf_dir.mkdir()
    cert, key = hq_keys.server_cert(("127.0.0.1",))
    (conf_dir / "ca.pem").write_bytes((hq_keys.data_dir / "ca.pem").read_bytes())
    (conf_dir / "server.pem").write_bytes(cert)
    (conf_dir / "server.key").write_bytes(key)
    (conf_dir / "acl.conf").write_text(
        (DEPLOY / "acl.conf").read_text().replace("CHAIN", hq_keys.chain_id))
    broker = Mosquitto(tmp_path / "tls-broker")
    # The production file, with paths and port pointed at the test's copies.
    text = (DEPLOY / "mosquitto.conf").read_text()
    text = (text.replace("/etc/mosquitto/loupe/", f"{conf_dir}/")
            .replace("listener 8883", f"listener {broker.port} 127.0.0.1")
            .replace("persistence_location /var/lib/mosquitto/", "")
            .replace("log_dest syslog", ""))
    broker.extra = text
    broker.start()
    yield broker
    broker.stop()


def store_client(tmp_path: Path, store_id: str, port: int, name: str) -> aiomqtt.Client:
    d = tmp_path / store_id / "sync"
    tls = TlsFiles(d / "ca.pem", d / "client.pem", d / "client.key")
    return make_client(Broker("127.0.0.1", port, True), name, tls=tls, persistent=False)


async def test_a_store_is_confined_to_its_own_topics(tmp_path, hq_keys, tls_broker):
    url = f"mqtts://127.0.0.1:{tls_broker.port}"
    hq = open_hq(hq_keys)
    receiver = Receiver(hq, Broker.parse(url, "t"), hq_keys.tls)
    hq_task = asyncio.create_task(receiver.run())
    stores = {}
    for sid in ("paris", "lyon"):
        store = await new_store(tmp_path, sid)
        await enroll(store, make_bundle(hq_keys, sid, url))
        enrollment = await load_enrollment(store.ledger)
        rep = Replicator(store, SyncSettings(resend_after_s=1.0), enrollment)
        await rep.start()
        stores[sid] = (store, rep)
    try:
        # Replication works over TLS with certificate identities...
        for store, rep in stores.values():
            await until(lambda s=store, r=rep: r.acked == s.ledger.seq and r.acked > 0,
                        "replicated over TLS")

        # ...and Paris, with its own certificate, cannot write Lyon's topics nor read them.
        got: list[str] = []

        async def spy() -> None:
            async with make_client(Broker("127.0.0.1", tls_broker.port, True), "spy-hq",
                                   tls=hq_keys.tls, persistent=False) as c:
                await c.subscribe("loupe/maison/#", qos=1)
                spy_ready.set()
                async for m in c.messages:
                    got.append(f"{m.topic}:{bytes(m.payload).decode()}")

        spy_ready = asyncio.Event()
        spy_task = asyncio.create_task(spy())
        await spy_ready.wait()
        paris_in: list[str] = []
        async with store_client(tmp_path, "paris", tls_broker.port, "paris-rogue") as rogue:
            await rogue.subscribe([("loupe/maison/lyon/inbox", 1), ("loupe/maison/lyon/ack", 1),
                                   ("loupe/maison/paris/inbox", 1)])
            for leaf in ("journal", "hello", "status"):
                with contextlib.suppress(aiomqtt.MqttError):  # v5 may answer "not authorised"
                    await rogue.publish(f"loupe/maison/lyon/{leaf}", b"forged", qos=1)
            with contextlib.suppress(aiomqtt.MqttError):
                await rogue.publish("loupe/maison/all/inbox", b"forged", qos=1)
            await rogue.publish("loupe/maison/paris/status", b"marker", qos=1)
            # HQ writes to Lyon's inbox, then to Paris's: Paris sees only its own.
            async with make_client(Broker("127.0.0.1", tls_broker.port, True), "hq-cli",
                                   tls=hq_keys.tls, persistent=False) as hqc:
                await hqc.publish("loupe/maison/lyon/inbox", b"for-lyon", qos=1)
                await hqc.publish("loupe/maison/paris/inbox", b"for-paris", qos=1)

            async def read_paris() -> None:
                async for m in rogue.messages:
                    paris_in.append(bytes(m.payload).decode())
                    if paris_in[-1] == "for-paris":
                        return

            await asyncio.wait_for(read_paris(), 10)
        await until(lambda: any(g.endswith(":marker") for g in got), "marker seen by HQ")
        spy_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await spy_task
        assert not [g for g in got if g.endswith(":forged")], got
        assert paris_in == ["for-paris"]

        # No certificate, no connection.
        with pytest.raises(aiomqtt.MqttError):
            async with aiomqtt.Client("127.0.0.1", tls_broker.port, identifier="anon",
                                      tls_context=TlsFiles(hq_keys.data_dir / "ca.pem").context(),
                                      timeout=5):
                pass
    finally:
        for store, rep in stores.values():
            await rep.stop()
            await store.close()
        hq_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await hq_task
        await receiver.close()
        hq.storage.close()


async def test_hq_workers_share_the_stores_under_the_acl(tmp_path, hq_keys, tls_broker):
    """HQ's identity may subscribe through `$share/...` (Mosquitto checks the topic without
    the prefix); a store's certificate still cannot read another store's journal that way."""
    url = f"mqtts://127.0.0.1:{tls_broker.port}"
    hq = open_hq(hq_keys)
    receiver = Receiver(hq, Broker.parse(url, "t"), hq_keys.tls, worker="w1")
    hq_task = asyncio.create_task(receiver.run())
    store = await new_store(tmp_path, "paris")
    await enroll(store, make_bundle(hq_keys, "paris", url))
    rep = Replicator(store, SyncSettings(resend_after_s=1.0), await load_enrollment(store.ledger))
    await rep.start()
    try:
        await until(lambda: rep.acked == store.ledger.seq and rep.acked > 0,
                    "replicated through a shared subscription")
        seen: list[bytes] = []
        async with store_client(tmp_path, "paris", tls_broker.port, "paris-share") as rogue:
            await rogue.subscribe("$share/spy/loupe/maison/+/journal", qos=1)

            async def read() -> None:
                async for m in rogue.messages:
                    seen.append(bytes(m.payload))

            reader = asyncio.create_task(read())
            await rep.stop()
            rep = Replicator(store, SyncSettings(resend_after_s=0.2),
                             await load_enrollment(store.ledger))
            await store.items.receive_many([{**PIECE, "item_id": "paris-late"}], actor="admin")
            await rep.start()
            await until(lambda: rep.acked == store.ledger.seq, "the new piece replicated")
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        assert seen == []
    finally:
        await rep.stop()
        await store.close()
        hq_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await hq_task
        await receiver.close()
        hq.storage.close()
