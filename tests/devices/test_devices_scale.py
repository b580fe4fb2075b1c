"""MT-SICS and Toledo 8217 scales against their simulators on real ptys."""

from __future__ import annotations

import asyncio

import pytest
from device_helpers import in_pieces, wait_until
from hypothesis import given
from hypothesis import strategies as st

from hub.devices.base import DeviceSpec
from hub.devices.errors import DeviceBusy
from hub.devices.framing import StxFramer
from hub.devices.scale.driver import MtSicsScale, Toledo8217Scale
from hub.devices.scale.protocol import ScaleError, parse_8217, parse_sics, to_milligrams
from hub.devices.sim.scale import MtSicsSim, Toledo8217Sim

FAST = {"poll_interval": 0.03, "check_timeout": 0.3, "retry_initial": 0.02, "retry_cap": 0.1}


def spec(path, **extra):
    return DeviceSpec("scale-1", "scale", "mt-sics", "test", "R1",
                      {"path": str(path), **FAST, **extra})


async def run(device):
    task = asyncio.create_task(device.run())
    await wait_until(lambda: device.state == "connected")
    return task


async def test_weight_events_stable_and_dynamic_in_exact_milligrams(tmp_path, bus):
    sim = MtSicsSim(tmp_path / "scale")
    sim.plug()
    weights = bus.subscribe("device.weight")
    scale = MtSicsScale(spec(sim.link), bus.publish)
    task = await run(scale)
    try:
        sim.place("5.237", stable=False)
        event = await weights.get()
        while event.data["milligrams"] != 5237:
            event = await weights.get()
        assert event.data == {"device": "scale-1", "register": "R1", "milligrams": 5237,
                              "stable": False, "unit": "g"}
        sim.place("5.237", stable=True)
        assert (await weights.get()).data["stable"] is True
        await scale.zero()
        assert (await weights.get()).data["milligrams"] == 0
    finally:
        task.cancel()
        sim.close()


async def test_garbled_replies_are_problems_and_silence_means_gone(tmp_path, bus):
    sim = MtSicsSim(tmp_path / "scale")
    sim.plug()
    scale = MtSicsScale(spec(sim.link), bus.publish)
    task = await run(scale)
    try:
        sim.garble = True  # a wrong baud rate looks like this
        await wait_until(lambda: scale.problems >= 2)
        assert scale.state == "connected" and "not" in scale.last_problem
        sim.garble, sim.overload = False, True
        await wait_until(lambda: "overload" in (scale.last_problem or ""))
        sim.overload, sim.mute = False, True
        await wait_until(lambda: scale.state == "retrying")
        assert "health checks" in scale.error
        sim.mute = False
        await wait_until(lambda: scale.state == "connected")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        sim.close()
    with pytest.raises(DeviceBusy):
        await scale.zero()


async def test_toledo_8217_poll_and_motion(tmp_path, bus):
    sim = Toledo8217Sim(tmp_path / "toledo")
    sim.plug()
    weights = bus.subscribe("device.weight")
    scale = Toledo8217Scale(DeviceSpec("scale-2", "scale", "toledo-8217", "t", None,
                                       {"path": str(sim.link), "unit": "lb",
                                        "serial": {"bytesize": 7, "parity": "E"}, **FAST}),
                            bus.publish)
    task = await run(scale)
    try:
        sim.weight = "001.000"
        event = await weights.get()
        while event.data["milligrams"] == 0:
            event = await weights.get()
        assert event.data["milligrams"] == 453592 and event.data["unit"] == "lb"
        sim.motion = True
        assert (await weights.get()).data["stable"] is False
        sim.unplug()
        await wait_until(lambda: scale.state == "retrying")
    finally:
        task.cancel()
        sim.close()


def test_units_convert_exactly():
    assert to_milligrams("1.02", "ct") == 204
    assert to_milligrams("12.345", "g") == 12345
    assert to_milligrams("-0.001", "kg") == -1000
    assert parse_sics(b"S S      12.345 g").milligrams == 12345
    for bad in (b"ES", b"S +", b"S S 1,2 g", b"S S 1.0 stone", b"\xff"):
        with pytest.raises(ScaleError):
            parse_sics(bad)


@given(st.binary(max_size=60))
def test_scale_parsers_reply_or_reason(line):
    for parse in (parse_sics, lambda b: parse_8217(b, "kg")):
        try:
            parse(line)
        except ScaleError as exc:
            assert str(exc)


@given(st.binary(max_size=200), st.lists(st.integers(0, 200), max_size=6))
def test_stx_framer_is_split_independent(payload, cuts):
    whole = StxFramer().feed(payload)
    framer = StxFramer()
    got = [frame for part in in_pieces(payload, cuts) for frame in framer.feed(part)]
    assert got == whole
