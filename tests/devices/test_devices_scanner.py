"""Serial scanner against a scanner simulator on a real pty."""

from __future__ import annotations

import asyncio

from device_helpers import in_pieces, wait_until
from hypothesis import given
from hypothesis import strategies as st

from hub.devices.base import DeviceSpec
from hub.devices.framing import LineFramer, Overflow
from hub.devices.scanner.driver import SerialScanner
from hub.devices.scanner.keymap import KeyDecoder
from hub.devices.scanner.protocol import ScanError, parse_scan
from hub.devices.sim.pty import ScannerSim


def scanner_spec(path, aim=True):
    return DeviceSpec("scanner-r1", "scanner", "scanner-serial", "test", "R1",
                      {"path": str(path), "aim_prefix": aim, "check_interval": 0.05,
                       "retry_initial": 0.02, "retry_cap": 0.1})


async def test_scan_reaches_bus_with_register_and_symbology(tmp_path, bus):
    sim = ScannerSim(tmp_path / "scanner", aim="]E0")
    sim.plug()
    sub = bus.subscribe("device.scan")
    device = SerialScanner(scanner_spec(sim.link), bus.publish)
    task = asyncio.create_task(device.run())
    try:
        await wait_until(lambda: device.state == "connected")
        sim.scan("4006381333931")
        sim.write(b"]C1RG-0042\r\n")
        first, second = await sub.get(), await sub.get()
        assert first.data == {"device": "scanner-r1", "register": "R1",
                              "code": "4006381333931", "symbology": "ean-13"}
        assert second.data["code"] == "RG-0042" and second.data["symbology"] == "gs1-128"
    finally:
        task.cancel()
        sim.close()


async def test_garbage_and_overlong_lines_are_reported_and_later_scans_still_work(tmp_path, bus):
    sim = ScannerSim(tmp_path / "scanner", aim="]E0")
    sim.plug()
    sub = bus.subscribe("device.scan")
    device = SerialScanner(scanner_spec(sim.link), bus.publish)
    task = asyncio.create_task(device.run())
    try:
        await wait_until(lambda: device.state == "connected")
        await sim.write_async(b"X" * 10_000 + b"\r\n")  # a stuck scanner
        sim.write(b"\xff\xfe\x00junk\r\n")
        sim.scan("123")
        event = await sub.get()
        assert event.data["code"] == "123"
        assert device.problems == 2
        assert "10001 bytes" in device.last_problem or "unreadable" in device.last_problem
    finally:
        task.cancel()
        sim.close()


async def test_unplug_retries_then_replug_recovers(tmp_path, bus):
    sim = ScannerSim(tmp_path / "scanner")
    sim.plug()
    states = bus.subscribe("device.state")
    sub = bus.subscribe("device.scan")
    device = SerialScanner(scanner_spec(sim.link, aim=False), bus.publish)
    task = asyncio.create_task(device.run())
    try:
        await wait_until(lambda: device.state == "connected")
        sim.unplug()
        await wait_until(lambda: device.state == "retrying")
        assert device.error
        sim.plug()
        await wait_until(lambda: device.state == "connected")
        sim.scan("AFTER")
        assert (await sub.get()).data["code"] == "AFTER"
        seen = []
        while (e := states.get_nowait()) is not None:
            seen.append(e.data["state"])
        assert seen[:3] == ["connected", "retrying", "connecting"] or "retrying" in seen
        assert seen[-1] == "connected"
    finally:
        task.cancel()
        sim.close()


@given(st.binary(max_size=400), st.lists(st.integers(0, 400), max_size=8))
def test_line_framer_never_loses_a_line_across_splits(payload, cuts):
    whole = LineFramer(max_len=64).feed(payload)
    framer = LineFramer(max_len=64)
    pieces = [line for part in in_pieces(payload, cuts) for line in framer.feed(part)]
    assert pieces == whole
    for item in whole:
        assert isinstance(item, Overflow) or (0 < len(item) <= 64 and b"\r" not in item)


@given(st.binary(max_size=300))
def test_parse_scan_gives_a_scan_or_a_reason(line):
    for aim in (True, False):
        try:
            scan = parse_scan(line, aim=aim)
        except ScanError as exc:
            assert str(exc)
        else:
            assert scan.code and scan.symbology


def _type(decoder, keys):
    out = []
    for code, shift in keys:
        if shift:
            decoder.feed(42, 1)
        decoder.feed(code, 1)
        decoder.feed(code, 0)
        if shift:
            decoder.feed(42, 0)
    out.append(decoder.feed(28, 1))
    return out[-1]


def test_hid_layouts_decode_the_same_keys_differently():
    # Keys a US-configured scanner presses for "a@1": A, Shift+2, 1.
    keys = [(30, False), (3, True), (2, False)]
    assert _type(KeyDecoder("us"), keys) == "a@1"
    assert _type(KeyDecoder("fr"), keys) == "q2&"   # the mismatch the config prevents
    # A French-configured scanner types "a@1" as Q-key, AltGr+0, Shift+1.
    fr = KeyDecoder("fr")
    fr.feed(16, 1)
    fr.feed(100, 1)
    fr.feed(11, 1)
    fr.feed(100, 0)
    fr.feed(42, 1)
    fr.feed(2, 1)
    fr.feed(42, 0)
    assert fr.feed(28, 1) == "a@1"
    assert _type(KeyDecoder("de"), [(21, False), (44, True)]) == "zY"


@given(st.lists(st.tuples(st.integers(0, 255), st.integers(0, 2)), max_size=500))
def test_hid_decoder_takes_any_key_stream(events):
    decoder = KeyDecoder("de", max_len=50)
    for code, value in events:
        line = decoder.feed(code, value)
        assert line is None or 0 < len(line) <= 50
