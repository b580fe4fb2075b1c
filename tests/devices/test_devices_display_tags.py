"""Pole display (CD5220 on a pty) and ZPL tag printer (TCP) against their simulators."""

from __future__ import annotations

import asyncio

from device_helpers import FAST, PIECE, in_pieces, wait_until
from hypothesis import given
from hypothesis import strategies as st

from hub.devices.base import DeviceSpec
from hub.devices.display.driver import PoleDisplay
from hub.devices.display.protocol import Cd5220Decoder, show_lines
from hub.devices.sim.display import PoleDisplaySim
from hub.devices.sim.zpl import ZplPrinterSim
from hub.devices.zpl.driver import TagPrinter, cost_letters
from hub.devices.zpl.protocol import ZplParser


async def test_display_shows_lines_and_restores_them_after_replug(tmp_path, bus):
    sim = PoleDisplaySim(tmp_path / "display")
    sim.plug()
    display = PoleDisplay(DeviceSpec("display-1", "display", "cd5220", "t", "R1",
                                     {"path": str(sim.link), **FAST}), bus.publish)
    task = asyncio.create_task(display.run())
    try:
        await wait_until(lambda: sim.lines[0] == "Welcome")
        await display.show("Solitaire ring", "TOTAL 12\u202f500,00\u00a0€ and more text")
        # No euro sign or narrow spaces in the display's code page: plain stand-ins.
        await wait_until(lambda: sim.lines == ["Solitaire ring", "TOTAL 12 500,00 EUR"])
        sim.unplug()
        await wait_until(lambda: display.state == "retrying")
        sim.decoder.lines = [" " * 20, " " * 20]  # a replugged display is blank
        sim.plug()
        await wait_until(lambda: sim.lines[0] == "Solitaire ring")
    finally:
        task.cancel()
        sim.close()


@given(st.text(max_size=40), st.text(max_size=40), st.lists(st.integers(0, 60), max_size=5))
def test_cd5220_round_trip_any_text_any_split(top, bottom, cuts):
    data = show_lines(top, bottom)
    decoder = Cd5220Decoder()
    for part in in_pieces(data, cuts):
        decoder.feed(part)
    assert all(len(line) == 20 for line in decoder.lines)
    assert decoder.unknown == 0


async def test_tag_prints_fields_and_writes_epc_on_rfid_model(store, bus):
    sim = ZplPrinterSim()
    await sim.start()
    printer = TagPrinter(DeviceSpec("tags", "tag_printer", "zpl", "zebra-zd621r", None,
                                    {"host": "127.0.0.1", "port": sim.port, "rfid": True,
                                     "cost_code": "BLACKHORSE", **FAST}), bus.publish)
    task = asyncio.create_task(printer.run())
    try:
        await wait_until(lambda: printer.state == "connected")
        piece = await store.items.get(PIECE["item_id"])
        result = await printer.print_tag(piece, "EUR")
        await wait_until(lambda: sim.labels)
        label = sim.labels[0]
        assert label.rfid_writes == [piece["epc"]]
        texts = label.texts()
        assert "€12,500.00" in texts and "RG-0042" in texts and "5.23 g" in texts
        assert "platinum 950" in texts and "2 st. 1.14 ct E/VVS1" in texts
        assert cost_letters(600000, "BLACKHORSE") == "HEEE" and "HEEE" in texts
        assert any(f.kind == "datamatrix" and f.text == "RG-0042" for f in label.fields)
        assert result["preview"]["rfid_writes"] == [piece["epc"]]
        await sim.stop()
        await wait_until(lambda: printer.state == "retrying")
    finally:
        task.cancel()
        await sim.stop()


@given(st.binary(max_size=300), st.lists(st.integers(0, 300), max_size=5))
def test_zpl_parser_any_bytes_any_split(payload, cuts):
    whole = ZplParser()
    whole.feed(payload)
    split = ZplParser()
    for part in in_pieces(payload, cuts):
        split.feed(part)
    assert len(split.labels) == len(whole.labels)
