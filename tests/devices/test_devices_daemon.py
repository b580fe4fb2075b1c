"""The whole hub in demo mode: simulators, real drivers, the books, the web app.

A scan typed on the register's scanner pty reaches that register's cart and a signed-in
WebSocket client; a completed sale prints its receipt; pulling one device leaves the others
working."""

from __future__ import annotations

import json

import aiohttp
from device_helpers import demo_hub, wait_until


async def test_demo_hub_scan_to_cart_and_websocket_sale_prints_unplug_isolated(tmp_path):
    async with demo_hub(tmp_path) as runtime:
        manager = runtime.devices
        rig = runtime.simulators
        kinds = {d["kind"] for d in manager.states()}
        assert kinds == {"scanner", "printer", "scale", "display", "rfid", "tag_printer",
                         "terminal"}

        base = f"http://127.0.0.1:{runtime.web.port}"
        async with aiohttp.ClientSession(base, cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            resp = await http.post("/api/v1/session", json={"staff_id": "sophie", "pin": "1111",
                                                            "register_id": "R1"})
            assert resp.status == 200, await resp.text()
            async with http.ws_connect("/api/v1/events", headers={"Origin": base}) as ws:
                rig.scanners["R1"].scan("RG-0042")

                async def cart_update():
                    while True:
                        msg = json.loads((await ws.receive()).data)
                        if msg["topic"] == "cart.changed":
                            return msg["data"]

                data = await cart_update()
                assert data["register_id"] == "R1" and data["why"] == "scanned"
                assert "RG-0042" in json.dumps(data["cart"])
                # The customer sees the piece and the running total on R1's pole display.
                await wait_until(lambda: rig.display.lines == ["Solitaire ring",
                                                               "TOTAL EUR 12,500.00"])

            state = await (await http.get("/api/v1/devices")).json()
            assert {d["device"] for d in state["devices"]} >= {"scanner-r1", "printer-r1"}
            page = await http.get("/devices")
            assert page.status == 200
            html = await page.text()
            assert 'data-device="showcase-reader"' in html and "Simulated hardware" in html
            csrf = (await resp.json())["csrf"]
            post = {"headers": {"X-CSRF-Token": csrf, "Origin": base}}
            bad = await http.post("/api/v1/devices/demo/scan",
                                  json={"register": "R9", "code": "x"}, **post)
            assert bad.status == 400 and "R9" in (await bad.json())["detail"]
            preview = await (await http.get("/api/v1/devices/tags/RG-0042")).json()
            assert preview["rfid_writes"] and "RG-0042" in json.dumps(preview["fields"])

        sale = await runtime.store.sales.complete(
            register_id="R1", actor="sophie", lines=[{"item_id": "RG-0042"}],
            tenders=[{"type": "cash", "amount": 1250000}])
        printer = rig.printers["R1"]
        await wait_until(lambda: printer.receipts, timeout=10)
        assert "2141438167" in printer.receipts[0].text
        assert "Sophie Laurent" in printer.receipts[0].text
        assert manager.last_receipt["R1"]["sale_id"] == sale["sale_id"]
        await wait_until(lambda: rig.display.lines[0] == "Thank you")
        metrics = "\n".join(manager.metrics_lines())
        assert 'loupe_device_state{device="scanner-r1",kind="scanner",state="connected"} 1' \
            in metrics

        # Pull the scale's cable: it goes to retrying, the scanner still scans.
        scans = runtime.bus.subscribe("device.scan")
        rig.scale.unplug()
        scale = manager.devices["scale-1"]
        await wait_until(lambda: scale.state == "retrying")
        rig.scanners["R2"].scan("4006381333931")
        event = await scans.get()
        assert event.data["register"] == "R2"
        assert manager.devices["printer-r1"].state == "connected"
        rig.scale.plug()
        await wait_until(lambda: scale.state == "connected")
