"""Receipt printer (python-escpos over TCP) against the ESC/POS simulator, and receipts."""

from __future__ import annotations

from device_helpers import FAST, in_pieces, wait_until
from hypothesis import given
from hypothesis import strategies as st

from hub.devices.base import DeviceSpec
from hub.devices.config import parse_devices
from hub.devices.escpos.render import receipt_bytes
from hub.devices.manager import DeviceManager
from hub.devices.profiles import load_profiles
from hub.devices.sim.escpos import EscPosDecoder, EscPosPrinterSim, code128_data
from hub.documents import Document, render_html, render_text
from hub.receipts import build_receipt, receipt_settings


def printer_config(port):
    return {"printer-r1": {"model": "epson-tm-t88vi", "register": "R1", "host": "127.0.0.1",
                           "port": port, "drawer": {"alert_after_s": 0.2}, **FAST}}


async def sell(store, tenders=None):
    return await store.sales.complete(
        register_id="R1", actor="admin", lines=[{"item_id": "RG-0042"}],
        tenders=tenders or [{"type": "card", "amount": 1250000, "last4": "4242",
                             "brand": "VISA", "auth_code": "A1B2"}])


async def manager_for(store, sim):
    specs = parse_devices(printer_config(sim.port), load_profiles(), {"R1", "R2"})
    manager = DeviceManager(specs, store.bus, store, receipt_settings(store.config))
    await manager.start()
    await wait_until(lambda: manager.devices["printer-r1"].state == "connected")
    return manager


async def test_completed_sale_prints_receipt_with_certificate_once(store):
    sim = EscPosPrinterSim()
    await sim.start()
    manager = await manager_for(store, sim)
    try:
        sale = await sell(store)
        await wait_until(lambda: sim.receipts)
        text = sim.receipts[0].text
        assert "2141438167" in text and "GIA" in text
        assert "Solitaire ring" in text and "€12,500.00" in text
        assert "platinum 950, 5.23 g" in text and "**** 4242" in text
        assert sale["short_code"] in text
        assert sim.receipts[0].qr == [f"LOUPE:paris-01/{sale['seq']}/{sale['short_code']}:"
                                      f"{sale['sale_id']}"]
        # The same job id again (a replayed event, a reconnect) never prints twice.
        again = await manager.print_receipt(sale["sale_id"], job_id=sale["sale_id"])
        assert again["status"] == "printed"
        # Jobs go out in order on one link: once the gift receipt queued after it is out,
        # a second copy would have come before it.
        gift = await manager.gift_receipt(sale["sale_id"])
        await wait_until(lambda: any("GIFT RECEIPT" in r.text for r in sim.receipts))
        assert len(sim.receipts) == 2
        assert gift["job_id"] != sale["sale_id"]
        assert "GIFT RECEIPT" in sim.receipts[1].text and "€" not in sim.receipts[1].text
        assert "2141438167" in sim.receipts[1].text
    finally:
        await manager.stop()
        await sim.stop()


async def test_receipt_printed_while_printer_unplugged_prints_once_after_replug(store):
    sim = EscPosPrinterSim()
    await sim.start()
    manager = await manager_for(store, sim)
    printer = manager.devices["printer-r1"]
    try:
        await sim.stop()
        await wait_until(lambda: printer.state == "retrying")
        sale = await sell(store)
        await wait_until(lambda: sale["sale_id"] in printer.jobs)
        assert printer.jobs[sale["sale_id"]].status == "queued"
        restarted = EscPosPrinterSim(port=sim.port)
        await restarted.start()
        await wait_until(lambda: restarted.receipts)
        await wait_until(lambda: printer.state == "connected")
        await manager.gift_receipt(sale["sale_id"])  # goes out after any second copy
        await wait_until(lambda: any("GIFT RECEIPT" in r.text for r in restarted.receipts))
        assert len(restarted.receipts) == 2 and "2141438167" in restarted.receipts[0].text
        assert "GIFT RECEIPT" not in restarted.receipts[0].text
        await restarted.stop()
    finally:
        await manager.stop()


async def test_paper_out_holds_jobs_and_mute_printer_is_declared_gone(store):
    sim = EscPosPrinterSim()
    await sim.start()
    manager = await manager_for(store, sim)
    printer = manager.devices["printer-r1"]
    statuses = store.bus.subscribe("device.printer")
    try:
        sim.paper_out = True
        await wait_until(lambda: printer.paper == "paper_out")
        assert (await statuses.get()).data == {"device": "printer-r1", "status": "paper_out"}
        sale = await sell(store)
        await wait_until(lambda: sale["sale_id"] in printer.jobs)
        answered = sim.status_answers  # two health checks later the job has had its chance
        await wait_until(lambda: sim.status_answers >= answered + 6)
        assert not sim.receipts and printer.jobs[sale["sale_id"]].status == "queued"
        sim.paper_out = False
        await wait_until(lambda: sim.receipts)
        sim.mute = True  # answers nothing: several missed checks, then gone
        await wait_until(lambda: printer.state == "retrying")
        assert "health checks" in printer.error
        assert printer.missed_checks >= printer.gone_after
        sim.mute = False
        await wait_until(lambda: printer.state == "connected")
        assert len(sim.receipts) == 1
    finally:
        await manager.stop()
        await sim.stop()


async def test_drawer_opens_with_retry_and_reports_sensor(store):
    sim = EscPosPrinterSim()
    sim.drawer_jams = 1  # the first pulse does not open it
    sim.drawer_close_after = None
    await sim.start()
    manager = await manager_for(store, sim)
    drawer_events = store.bus.subscribe("device.drawer")
    alerts = store.bus.subscribe("device.alert")
    try:
        result = await manager.open_drawer("R1")
        assert result["open"] is True
        assert len(sim.decoder.kicks) == 2 and sim.decoder.kicks[0] == (2, 100, 100)
        ev = await drawer_events.get()
        assert ev.data == {"device": "printer-r1", "register": "R1", "open": True}
        alert = await alerts.get()  # left open past the profile's alert_after_s
        assert alert.data["alert"] == "drawer_left_open" and alert.data["register"] == "R1"
        sim.close_drawer()
        assert (await drawer_events.get()).data["open"] is False
    finally:
        await manager.stop()
        await sim.stop()


async def test_receipt_layout_text_and_html_share_blocks(store):
    sale = await sell(store, [{"type": "cash", "amount": 1300000}])
    piece = await store.items.get("RG-0042")
    receipt = build_receipt(sale, {"RG-0042": piece}, receipt_settings(store.config),
                            associate="Claire Vidal")  # the roster's name for the sale's staff id
    text, page = render_text(receipt), render_html(receipt)
    for needle in ("Certificate GIA 2141438167", "Centre stone: 1.02 ct round diamond E/VVS1",
                   "Your associate: Claire Vidal", "Returns within 30 days"):
        assert needle in text and needle in page.replace("\u00a0", " ")
    assert all(len(line) <= 42 for line in text.splitlines())


async def test_a_document_barcode_prints_as_the_printers_own_code_128(store):
    sim = EscPosPrinterSim()
    await sim.start()
    manager = await manager_for(store, sim)
    try:
        doc = Document("Envelope")
        doc.add("title", "J1042", center=True)
        doc.add("barcode", "J1042")
        doc.add("text", "Camille Durand")
        job = await manager.print_document(doc, "R1", "envelope:J1042")
        await wait_until(lambda: sim.receipts)
        printed = sim.receipts[0]
        assert printed.barcodes == [("CODE128", "J1042")]
        # The printer writes the code under the bars itself: no text stand-in on the paper.
        assert "[Code 128]" not in printed.text and "Camille Durand" in printed.text
        assert job["job_id"] == "envelope:J1042"
    finally:
        await manager.stop()
        await sim.stop()


def test_escpos_decoder_reads_code_128_as_a_scanner_would():
    doc = Document("x")
    for code in ("J1042", "A{B}", "Bague à 54"):
        doc.add("barcode", code)
    decoder = EscPosDecoder()
    decoder.feed(receipt_bytes(doc))
    # A code the bars could not carry as typed prints as text, not as a wrong barcode.
    assert decoder.receipts[0].barcodes == [("CODE128", "J1042"), ("CODE128", "A{B}")]
    assert "Bague à 54" in decoder.receipts[0].text
    assert code128_data(b"{BJ{C\x0a\x2a") == "J1042"  # code set C: two digits a byte


@given(st.binary(max_size=300), st.lists(st.integers(0, 300), max_size=6))
def test_escpos_decoder_survives_any_bytes_and_any_split(payload, cuts):
    whole = EscPosDecoder()
    whole.feed(payload)
    split = EscPosDecoder()
    for part in in_pieces(payload, cuts):
        split.feed(part)
    assert split.lines == whole.lines and split.kicks == whole.kicks
    assert split.status_asks == whole.status_asks and split.barcodes == whole.barcodes


def test_unknown_config_keys_and_models_are_named():
    import pytest

    from hub.config import ConfigError

    profiles = load_profiles()
    cases = [
        ({"p": {"model": "nope", "host": "x"}}, "devices.p.model: no profile 'nope'"),
        ({"p": {"model": "epson-tm-t88vi", "host": "x", "colour": 1}}, "unknown key 'colour'"),
        ({"p": {"model": "epson-tm-t88vi", "host": "x", "register": "R9"}}, "devices.p.register"),
        ({"p": {"model": "epson-tm-t88vi", "host": "x", "drawer": {"pn": 2}}}, "drawer.pn"),
        ({"p": {"model": "epson-tm-t88vi", "host": "x", "port": "9100"}}, "devices.p.port"),
        ({"p": {"model": "epson-tm-t88vi"}}, "give path"),
        ({"p": 3}, "devices.p: must be a table"),
    ]
    for section, message in cases:
        with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
            parse_devices(section, profiles, {"R1"})
    spec = DeviceSpec("x", "printer", "escpos", "m")
    assert spec.get("missing", 1) == 1
