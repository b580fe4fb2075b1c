"""Bridged brokers: a store on a regional Mosquitto, HQ on the central one, the two linked by
the shipped bridge configuration (deploy/mosquitto/bridge.conf). The link is cut and restored,
or the regional broker restarted, while the store drains: HQ ends with every entry once, the
store gets HQ's acks and the message HQ sent while the link was down."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from pathlib import Path

import pytest
from sync_helpers import (
    HQRunner,
    Hub,
    enroll,
    hq_entries,
    journal,
    make_bundle,
    new_store,
    until,
)

from hub.sync import tls as tls_mod
from hub.sync.broker import Bridge, Mosquitto, available, free_port
from hub.sync.enroll import HQKeys
from hub.sync.hq import HQ, Receiver, open_hq, publish_signed
from hub.sync.replicator import Replicator, load_enrollment
from hub.sync.settings import Broker, SyncSettings, TlsFiles

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "mosquitto"
REGION = "north"
# Small batches and a short resend: the drain is many messages, and the store resends from its
# cursor while the link is down (duplicates that HQ must drop).
DRAIN = SyncSettings(resend_after_s=1.0, batch_entries=3)

pytestmark = pytest.mark.skipif(not available(), reason="mosquitto is not installed")


class Relay:
    """The network between the regional and the central broker, in the test's hands: `cut()`
    drops the link (open connections reset, new ones refused), `restore()` lets it through
    again on the same port."""

    def __init__(self, target_port: int) -> None:
        self.port = free_port()
        self.target_port = target_port
        self.accepted = 0  # connections let through: grows when the bridge reconnects
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self._serving: set[asyncio.Task[None]] = set()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def restore(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    def cut(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._open):
            writer.transport.abort()

    async def close(self) -> None:
        self.cut()
        if self._serving:  # each ends once its sockets are reset
            await asyncio.wait(self._serving, timeout=5)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        me = asyncio.current_task()
        assert me is not None
        self._serving.add(me)
        me.add_done_callback(self._serving.discard)
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()
            return
        self.accepted += 1
        self._open |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()

        pipes = [asyncio.create_task(pipe(reader, up_writer)),
                 asyncio.create_task(pipe(up_reader, writer))]
        try:
            await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in pipes:
                task.cancel()
            for w in (writer, up_writer):
                self._open.discard(w)
                w.transport.abort()


class TlsHQ(HQRunner):
    """HQ's receiver on the central broker, with HQ's client certificate."""

    def __init__(self, hq: HQ, url: str, tls: TlsFiles) -> None:
        self.hq = hq
        self.receiver = Receiver(hq, Broker.parse(url, "test"), tls)
        self.task = asyncio.create_task(self.receiver.run())


def shipped(name: str, chain: str, conf_dir: Path) -> str:
    """A file of deploy/mosquitto with the chain, the region and the test's paths in it."""
    return ((DEPLOY / name).read_text().replace("CHAIN", chain).replace("REGION", REGION)
            .replace("/etc/mosquitto/loupe/", f"{conf_dir}/"))


def tls_broker(workdir: Path, conf_dir: Path, acl: str, bridge: str = "") -> Mosquitto:
    """A broker on the production mosquitto.conf (TLS, certificates as identities, the ACL)."""
    broker = Mosquitto(workdir)
    acl_file = workdir / "acl.conf"
    workdir.mkdir(parents=True, exist_ok=True)
    acl_file.write_text(acl)
    text = ((DEPLOY / "mosquitto.conf").read_text()
            .replace("/etc/mosquitto/loupe/acl.conf", str(acl_file))
            .replace("/etc/mosquitto/loupe/", f"{conf_dir}/")
            .replace("listener 8883", f"listener {broker.port} 127.0.0.1")
            .replace("persistence_location /var/lib/mosquitto/", "")
            .replace("log_dest syslog", ""))
    broker.extra = text + "\n" + bridge
    return broker


async def send(hq: HQRunner, url: str, tls: TlsFiles | None, store_id: str, body: dict) -> str:
    """HQ prices a piece; returns once the central broker holds the message."""
    name, payload = await hq.call(hq.hq.message, store_id, "price", body)
    await publish_signed(Broker.parse(url, "t"), tls, "test-hq-cli", [(name, payload)])
    return json.loads(payload)["doc"]["id"]


async def applied(hub: Hub, msg_id: str) -> bool:
    return bool(await hub.store.ledger.fetch_one(
        "SELECT 1 FROM hq_messages WHERE message_id = ?", (msg_id,)))


async def caught_up(hq: HQRunner, hub: Hub) -> bool:
    return await hq.head("paris") == hub.store.ledger.seq


async def sell_some(hub: Hub, n: int) -> None:
    for _ in range(n):
        row = await hub.store.ledger.fetch_one(
            "SELECT item_id FROM items WHERE status = 'in_stock' ORDER BY item_id")
        await hub.sell(row["item_id"])


async def hq_holds_the_journal(hq: HQRunner, hub: Hub) -> None:
    """HQ's copy is the store's journal: every entry once, in order, byte for byte, verified."""
    await until(lambda: hub.rep.acked == hub.store.ledger.seq, "the store saw HQ's last ack")
    mine = await journal(hub.store)
    assert await hq.head("paris") == mine[-1].seq
    theirs = await hq_entries(hq, "paris")
    assert [e.seq for e in theirs] == list(range(1, len(mine) + 1))  # once each, in order
    for a, b in zip(mine, theirs, strict=True):
        assert a == b, f"seq {a.seq} differs at HQ"
    assert (await hq.call(hq.hq.verify_store, "paris")).startswith("ok")


async def test_cutting_the_bridge_mid_drain_loses_and_doubles_nothing(tmp_path, hq_keys):
    conf_dir = tmp_path / "etc"
    conf_dir.mkdir()
    ca_pem, ca_key = (hq_keys.data_dir / "ca.pem").read_bytes(), (
        hq_keys.data_dir / "ca.key").read_bytes()
    cert, key = hq_keys.server_cert(("127.0.0.1",))
    (conf_dir / "ca.pem").write_bytes(ca_pem)
    (conf_dir / "server.pem").write_bytes(cert)
    (conf_dir / "server.key").write_bytes(key)
    # The link's own client certificate, CN bridge-<region>, from HQ's CA.
    cert, key = tls_mod.issue(ca_pem, ca_key, f"bridge-{REGION}")
    (conf_dir / "bridge.pem").write_bytes(cert)
    tls_mod.write_secret(conf_dir / "bridge.key", key)

    chain = hq_keys.chain_id
    acl = shipped("acl.conf", chain, conf_dir)
    central = tls_broker(tmp_path / "central", conf_dir,
                         acl + "\n" + shipped("acl-bridge.conf", chain, conf_dir))
    central.start()
    relay = Relay(central.port)
    await relay.restore()
    # The shipped bridge, pointed at the relay, retrying every second instead of 2..30 s.
    bridge = shipped("bridge.conf", chain, conf_dir)
    bridge = re.sub(r"(?m)^address .*$", f"address {relay.address}", bridge)
    bridge = re.sub(r"(?m)^restart_timeout .*$", "restart_timeout 1", bridge)
    regional = tls_broker(tmp_path / "regional", conf_dir, acl, bridge)
    regional.start()
    central_url = f"mqtts://127.0.0.1:{central.port}"
    regional_url = f"mqtts://127.0.0.1:{regional.port}"

    hq = TlsHQ(open_hq(hq_keys), central_url, hq_keys.tls)
    store = await new_store(tmp_path, "paris", pieces=60)
    # The store is enrolled with the broker of its region; it never sees the central one.
    await enroll(store, make_bundle(hq_keys, "paris", regional_url))
    hub: Hub | None = None
    try:
        await until(lambda: relay.accepted >= 1, "the bridge connected")
        await asyncio.wait_for(hq.receiver.connected.wait(), 10)
        await sell_some(Hub(store, None), 20)  # a backlog before the store goes online
        hub = Hub(store, Replicator(store, DRAIN, await load_enrollment(store.ledger)))
        await hub.rep.start()
        await until(lambda: hq.head("paris"), "HQ received the first entries")

        relay.cut()  # mid-drain: the store is still publishing its backlog
        gen = hub.rep._gen
        price_id = await send(hq, central_url, hq_keys.tls, "paris",
                              {"item_id": "paris-59", "tag_price": 270000, "currency": "EUR"})
        await sell_some(hub, 10)  # and the till goes on selling
        # No acks come back through a cut link: the store resends from its cursor (the
        # regional broker queues those duplicates for the link too).
        await until(lambda: hub.rep._gen > gen, "the store resent from its cursor")
        assert not await applied(hub, price_id)
        assert await hq.head("paris") < store.ledger.seq

        await relay.restore()
        await until(lambda: relay.accepted >= 2, "the bridge reconnected")
        await until(lambda: applied(hub, price_id), "HQ's price reached the store")
        assert (await store.items.get("paris-59"))["tag_price"] == 270000
        await sell_some(hub, 5)
        await until(lambda: caught_up(hq, hub), "HQ caught up")
        await hq_holds_the_journal(hq, hub)
        assert (await store.ledger.verify()).ok
    finally:
        if hub is not None:
            await hub.close()
        else:
            await store.close()
        await hq.close()
        hq.hq.storage.close()
        await relay.close()
        regional.stop()
        central.stop()


async def test_restarting_the_regional_broker_mid_drain(tmp_path, hq_keys: HQKeys):
    # The demo's way: hub.sync.broker's Bridge, plain loopback like the other sync tests.
    central = Mosquitto(tmp_path / "central")
    central.start()
    regional = Mosquitto(tmp_path / "regional",
                         bridge_to=Bridge(central, hq_keys.chain_id, REGION))
    regional.start()
    hq = HQRunner(open_hq(hq_keys), central)
    store = await new_store(tmp_path, "paris", pieces=50)
    await enroll(store, make_bundle(hq_keys, "paris", regional.url))
    await sell_some(Hub(store, None), 20)
    hub = Hub(store, Replicator(store, DRAIN, await load_enrollment(store.ledger)))
    try:
        await asyncio.wait_for(hq.receiver.connected.wait(), 10)
        await hub.rep.start()
        await until(lambda: hq.head("paris"), "HQ received the first entries")

        regional.stop()  # mid-drain; it saves its queues, the link's among them
        price_id = await send(hq, central.url, None, "paris",
                              {"item_id": "paris-49", "tag_price": 270000, "currency": "EUR"})
        await sell_some(hub, 5)  # the till sells on while its broker is away
        regional.start()  # same port, same persistence file

        await until(lambda: applied(hub, price_id), "HQ's price reached the store")
        await sell_some(hub, 5)
        await until(lambda: caught_up(hq, hub), "HQ caught up")
        await hq_holds_the_journal(hq, hub)
    finally:
        await hub.close()
        await hq.close()
        hq.hq.storage.close()
        regional.stop()
        central.stop()


def test_the_demo_bridge_is_the_shipped_one():
    """hub.sync.broker.Bridge writes the topics deploy/mosquitto/bridge.conf ships, with the
    same session settings: a demo runs what a chain deploys."""
    def lines(text: str, prefixes: tuple[str, ...]) -> list[str]:
        return sorted(ln.strip() for ln in text.splitlines()
                      if ln.strip().startswith(prefixes))

    keys = ("topic ", "cleansession ", "bridge_protocol_version ", "connection ",
            "remote_clientid ", "local_clientid ", "notifications_local_only ")
    deployed = (DEPLOY / "bridge.conf").read_text().replace("CHAIN", "maison").replace(
        "REGION", REGION)
    demo = Bridge("127.0.0.1:1883", "maison", REGION).section()
    assert lines(demo, keys) == lines(deployed, keys)
