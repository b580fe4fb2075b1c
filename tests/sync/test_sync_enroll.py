"""Enrollment and configuration: bad bundles, bad settings, a hub that is not enrolled, an
entry too big for the broker, a hello with the wrong proof: each refused with a clear reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sync_helpers import make_bundle, new_store, until

from hub.bus import EventBus
from hub.cli import main
from hub.config import ConfigError, Section
from hub.layers import LAYERS
from hub.runtime import Options, Runtime
from hub.store import Store
from hub.sync.enroll import EnrollError, HQKeys, read_bundle
from hub.sync.part import part
from hub.sync.settings import Broker, SyncSettings, read_settings
from hub.sync.wire import WireError, sign_doc


def test_cli_init_enroll_and_stores(tmp_path: Path, capsys):
    hq_dir, store_dir = tmp_path / "hq", tmp_path / "store"
    assert main(["hq", "init", "--data-dir", str(hq_dir), "--chain-id", "maison"]) == 0
    assert main(["init", "--data-dir", str(store_dir), "--store-id", "paris",
                 "--store-name", "Paris", "--currency", "EUR"]) == 0
    bundle = tmp_path / "paris.bundle"
    assert main(["hq", "enroll", "--data-dir", str(hq_dir), "--store-id", "paris",
                 "--broker", "mqtts://broker.example:8883", "--out", str(bundle)]) == 0
    assert bundle.stat().st_mode & 0o077 == 0
    hq_out = capsys.readouterr().out
    assert main(["enroll", "--data-dir", str(store_dir), str(bundle)]) == 0
    out = capsys.readouterr().out
    fingerprint = hq_out.split("fingerprint: ")[1].split()[0]
    assert fingerprint in out  # what the technician compares by eye
    assert (store_dir / "sync" / "client.key").stat().st_mode & 0o077 == 0
    assert main(["hq", "stores", "--data-dir", str(hq_dir), "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["store"] == "paris" and row["enrolled"] is False and row["contiguous_seq"] == 0

    # The same store cannot take a bundle from another chain's HQ, and its TLS files stay.
    tls = {f.name: f.read_bytes() for f in (store_dir / "sync").iterdir()}
    other = HQKeys.create(tmp_path / "hq2", "rival")
    (tmp_path / "rival.bundle").write_bytes(
        other.make_bundle("paris", Broker.parse("mqtts://rival.example:8883", "t"))[0])
    assert main(["enroll", "--data-dir", str(store_dir), str(tmp_path / "rival.bundle")]) == 1
    assert "will not switch to another HQ" in capsys.readouterr().err
    assert {f.name: f.read_bytes() for f in (store_dir / "sync").iterdir()} == tls
    assert set(tls) == {"ca.pem", "client.pem", "client.key"}


def test_wrong_and_damaged_bundles_are_refused(tmp_path: Path, hq_keys: HQKeys):
    bundle = make_bundle(hq_keys, "lyon", "mqtt://127.0.0.1:1883")
    with pytest.raises(EnrollError, match="for store 'lyon', but this hub is store 'paris'"):
        read_bundle(bundle, "paris")
    doc = json.loads(bundle)
    doc["doc"]["broker"] = "mqtt://evil.example:1883"
    with pytest.raises(EnrollError, match="bad signature"):
        read_bundle(json.dumps(doc).encode(), "lyon")
    with pytest.raises(EnrollError, match="not a Loupe enrollment bundle"):
        read_bundle(b"\x00garbage", "lyon")
    inner = json.loads(bundle)["doc"]
    resigned = sign_doc(hq_keys.signing, {**inner, "format": "other/9"})
    with pytest.raises(EnrollError, match="format"):
        read_bundle(resigned, "lyon")
    with pytest.raises(WireError):
        hq_keys.make_bundle("not a store id!", None)  # type: ignore[arg-type]


@pytest.mark.parametrize(("section", "message"), [
    ({"batch_entries": 0}, "sync.batch_entries: must be a whole number from 1 to 5000"),
    ({"broker": "http://x"}, "sync.broker: 'http://x' must look like mqtt://host:1883"),
    ({"enabled": "yes"}, "sync.enabled: must be true or false"),
    ({"resend_after_s": -1}, "sync.resend_after_s: must be seconds"),
    ({"broker": 1883}, "sync.broker: must be text"),
    ({"keepalive_s": 1.5}, "sync.keepalive_s: must be a whole number from 5 to 3600"),
    ({"bogus": 1}, "sync.bogus: unknown key"),
])
def test_bad_sync_settings_name_the_key(section, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        read_settings(Section("sync", section))


def test_sync_settings_read_from_the_section():
    assert read_settings(Section("sync", None)) == SyncSettings()
    settings = read_settings(Section("sync", {
        "enabled": False, "broker": "mqtts://hq.example", "batch_entries": 7,
        "resend_after_s": 2, "window_entries": 100}))
    assert settings == SyncSettings(enabled=False, broker=Broker("hq.example", 8883, True),
                                    batch_entries=7, resend_after_s=2.0, window_entries=100)


async def test_part_idles_and_says_so_when_not_enrolled(tmp_path: Path, caplog):
    store = await new_store(tmp_path, "paris", pieces=0)
    try:
        sub = store.bus.subscribe("sync.*")
        runtime = Runtime(store.config, store, store.bus, Options(), LAYERS)
        with caplog.at_level("INFO"):
            async with part(runtime) as sync:
                assert runtime.sync is sync and sync.replicator is None
        event = sub.get_nowait()
        assert event.data["state"] == "idle" and "not enrolled" in event.data["problem"]
        assert "not enrolled" in caplog.text
    finally:
        await store.close()


async def test_an_entry_too_big_for_the_broker_blocks_visibly(tmp_path, hq, hubs):
    paris = await hubs("paris", SyncSettings(max_message_bytes=4096, resend_after_s=1.0))
    await until(lambda: paris.rep.acked == paris.store.ledger.seq, "in sync")
    await paris.store.clients.create({"last_name": "Long", "notes": "x" * 5000}, actor="admin")
    await until(lambda: paris.rep.state == "blocked", "blocked state")
    assert "needs" in paris.rep.problem and "sync.max_message_bytes (4096)" in paris.rep.problem
    assert paris.rep.backlog == 1  # kept, not dropped: it goes once the limit is raised


async def test_hello_with_a_wrong_proof_is_refused(tmp_path, hq, hq_keys, broker):
    make_bundle(hq_keys, "nantes", broker.url)
    store = await new_store(tmp_path, "nantes", pieces=0)
    try:
        signing = store.ledger.keyring.signing_key
        doc = {"store": "nantes", "chain": "maison", "public_key": store.ledger.public_key_hex,
               "box_key": "00" * 32, "proof": "00" * 32, "keys": [], "seq": 0}
        with pytest.raises(WireError, match="enrollment proof does not match"):
            await hq.call(hq.hq.hello, "nantes", sign_doc(signing, doc))
        with pytest.raises(WireError, match="unknown store"):
            await hq.call(hq.hq.hello, "brest", sign_doc(signing, doc))
        result = await hq.call(hq.hq.ingest, "nantes", b"{}")
        assert result.hello and "no hello received" in result.problem  # the hub says it again
        with pytest.raises(WireError, match="never enrolled"):
            await hq.call(hq.hq.ingest, "brest", b"{}")
    finally:
        await store.close()


async def test_store_reopens_with_sync_tables(tmp_path: Path):
    store = await new_store(tmp_path, "paris", pieces=1)
    await store.close()
    again = await Store.open(tmp_path / "paris", EventBus())
    try:
        assert await again.ledger.rebuild() == again.ledger.seq
    finally:
        await again.close()
