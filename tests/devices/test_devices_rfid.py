"""RFID: Impinj R700 (REST + NDJSON over HTTP) and TSL 1128 (ASCII 2.0 over a pty)."""

from __future__ import annotations

import asyncio

from device_helpers import wait_until
from hypothesis import given
from hypothesis import strategies as st

from hub.devices.base import DeviceSpec
from hub.devices.impinj.driver import ImpinjReader
from hub.devices.impinj.protocol import EventError, parse_event, parse_timestamp
from hub.devices.sim.impinj import ImpinjSim
from hub.devices.sim.tsl import TslSim
from hub.devices.tsl.driver import TslHandheld
from hub.devices.tsl.protocol import ReplyAssembler
from hub.epc import gid96_encode

FAST = {"check_interval": 0.05, "check_timeout": 0.5, "retry_initial": 0.02, "retry_cap": 0.1}
OURS = [gid96_encode(1, 1, n) for n in range(1, 6)]


def reader_spec(port):
    return DeviceSpec("showcase-reader", "rfid", "impinj-iot", "impinj-r700", None,
                      {"host": "127.0.0.1", "port": port, **FAST,
                       "antennas": {"1": "showcase-1", "2": "showcase-2"}})


async def test_impinj_stream_reads_locations_and_foreign_tags(bus):
    sim = ImpinjSim(rate=2000)
    sim.in_field = set(OURS)
    sim.antenna_of = {OURS[0]: 2}  # misplaced in the second showcase
    await sim.start()
    reads = bus.subscribe("device.rfid.read", maxsize=100_000)
    reader = ImpinjReader(reader_spec(sim.port), bus.publish)
    task = asyncio.create_task(reader.run())
    try:
        await wait_until(lambda: reader.reads >= 300)
        assert sim.presets["loupe"]["antennaConfigs"][0]["antennaPort"] == 1
        seen: dict[str, set] = {}
        while (e := reads.get_nowait()) is not None:
            d = e.data
            assert set(d) == {"device", "epc", "antenna", "rssi_cdbm", "location", "ts"}
            assert len(d["epc"]) == 24 and d["epc"] == d["epc"].upper()
            seen.setdefault(d["epc"], set()).add(d["location"])
        assert set(OURS) <= set(seen)  # every tag, read many times over
        assert seen[OURS[0]] == {"showcase-2"}
        assert "E2801190A5021F80055817CA" in seen  # foreign tags are reported too
        # A count test hides a piece: it stops being read.
        sim.in_field.discard(OURS[1])
        sim.junk_lines = 3
        await wait_until(lambda: reader.bad_lines >= 3)
        assert reader.state == "connected"
    finally:
        task.cancel()
        await sim.stop()


async def test_impinj_unplug_and_replug_restarts_inventory(bus):
    sim = ImpinjSim(rate=500)
    sim.in_field = set(OURS)
    await sim.start()
    reader = ImpinjReader(reader_spec(sim.port), bus.publish)
    task = asyncio.create_task(reader.run())
    try:
        await wait_until(lambda: reader.reads > 10)
        await sim.stop()
        await wait_until(lambda: reader.state == "retrying")
        again = ImpinjSim(port=sim.port, rate=500)
        again.in_field = set(OURS)
        await again.start()
        before = reader.reads
        await wait_until(lambda: reader.reads > before + 10)
        assert again.running and reader.state == "connected"
        await again.stop()
    finally:
        task.cancel()


async def test_tsl_trigger_and_requested_sweeps(tmp_path, bus):
    sim = TslSim(tmp_path / "tsl")
    sim.in_field = set(OURS[:3])
    sim.plug()
    reads = bus.subscribe("device.rfid.read")
    handheld = TslHandheld(DeviceSpec("handheld", "rfid", "tsl-ascii2", "tsl-1128", None,
                                      {"path": str(sim.link), "inventory_command": ".iv -r on",
                                       **FAST}), bus.publish)
    task = asyncio.create_task(handheld.run())
    try:
        await wait_until(lambda: handheld.state == "connected")
        sim.trigger()
        got = [await reads.get() for _ in range(4)]
        assert {e.data["epc"] for e in got} == set(OURS[:3]) | {"E2801190A5021F80055817CA"}
        assert all(-7500 <= e.data["rssi_cdbm"] <= -4000 for e in got)
        assert all(e.data["antenna"] is None for e in got)
        await handheld.inventory()
        assert (await reads.get()).data["device"] == "handheld"
        asked = sim.asked[".vr"]
        await wait_until(lambda: sim.asked[".vr"] >= asked + 3)  # health checks answered
        assert handheld.missed_checks == 0
        sim.unplug()
        await wait_until(lambda: handheld.state == "retrying")
    finally:
        task.cancel()
        sim.close()


def test_impinj_timestamps_with_nanoseconds():
    assert parse_timestamp("2021-07-09T23:35:59.278427551Z") == 1625873759.278427
    event = parse_event(b'{"timestamp":"2021-07-09T23:35:59.278427551Z","hostname":"h",'
                        b'"tagInventoryEvent":{"epcHex":"E2801190A5021F80055817CA",'
                        b'"antennaPort":1,"peakRssiCdbm":-2650}}')
    assert event.antenna == 1 and event.rssi_cdbm == -2650


@given(st.binary(max_size=200))
def test_impinj_event_parser_any_bytes(line):
    try:
        parse_event(line)
    except EventError as exc:
        assert str(exc)


@given(st.lists(st.binary(max_size=40), max_size=40))
def test_tsl_assembler_any_lines(lines):
    assembler = ReplyAssembler()
    for line in lines:
        reply = assembler.line(line)
        if reply is not None:
            assert reply.ok or reply.error
            reply.tags()


@given(st.lists(st.tuples(st.sampled_from(["add", "discard", "update", "clear"]),
                          st.sampled_from(OURS)), max_size=60))
def test_impinj_sim_draws_reads_only_from_the_tags_in_its_field(ops):
    # The simulator keeps its field as a list too (O(1) as pieces leave it with each sale);
    # that list must always be exactly the field, or it reads tags that were sold.
    sim = ImpinjSim(rate=0, seed=3)
    sim.in_field = set(OURS[:2])
    field = set(OURS[:2])
    for op, epc in ops:
        if op == "update":
            sim.in_field.update([epc])
            field.add(epc)
        elif op == "clear":
            sim.in_field.clear()
            field.clear()
        else:
            getattr(sim.in_field, op)(epc)
            getattr(field, op)(epc)
        assert sorted(sim.in_field.order) == sorted(field) == sorted(sim.in_field)
    sim.foreign = []
    if field:
        assert {parse_event(sim.next_read()).epc for _ in range(30)} <= field
