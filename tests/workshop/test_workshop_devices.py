"""The workshop with the simulated hardware of `loupe demo`: the envelope and the client's
copy print on the register's receipt printer with a Code 128 of the job number, the label on
the tag printer; scanning the envelope on a register's scanner reaches the screens as
`workshop.scanned` (never the cart), and the board's move with the stage it saw happens
once; the scale's reading reaches the intake form's socket."""

from __future__ import annotations

import json

import aiohttp

from tests.builders import client
from tests.devices.device_helpers import demo_hub, wait_until


async def _next(ws, topic: str) -> dict:
    while True:
        msg = json.loads((await ws.receive()).data)
        if msg["topic"] == topic:
            return msg["data"]


async def test_envelope_prints_and_scans_move_the_job(tmp_path):
    async with demo_hub(tmp_path) as runtime:
        rig = runtime.simulators
        her = (await runtime.store.clients.create(client("Camille", "Durand"), "test"))
        job = await runtime.jobs.open({
            "kind": "repair", "client_id": her["client_id"], "item_kind": "ring",
            "description": "yellow metal ring, worn prongs", "weight_mg": 4210,
            "stone_count": 5,
            "services": [{"service": "retip", "detail": "4 prongs", "price": 6000}],
            "deposit": {"register_id": "R1", "tenders": [{"type": "cash", "amount": 2000}]}},
            actor="sophie")
        number = job["job_id"]
        base = f"http://127.0.0.1:{runtime.web.port}"
        async with aiohttp.ClientSession(base, cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            resp = await http.post("/api/v1/session", json={"staff_id": "sophie", "pin": "1111",
                                                            "register_id": "R1"})
            post = {"headers": {"X-CSRF-Token": (await resp.json())["csrf"], "Origin": base}}
            printed = await http.post(f"/api/v1/jobs/{number}/envelope", json={}, **post)
            assert printed.status == 200, await printed.text()
            printer = rig.printers["R1"]
            await wait_until(lambda: len(printer.receipts) >= 2, timeout=10)
            bench, theirs = printer.receipts[-2:]
            assert ("CODE128", number) in bench.barcodes
            assert ("CODE128", number) in theirs.barcodes
            assert "Camille Durand" in bench.text and "4 prongs" in bench.text
            assert "60.00" in theirs.text  # her copy has the price, the bench's has not
            assert "60.00" not in bench.text
            label = await http.post(f"/api/v1/jobs/{number}/label", json={}, **post)
            assert label.status == 200, await label.text()
            await wait_until(lambda: number in rig.tags.barcodes(), timeout=10)

            async with http.ws_connect("/api/v1/events", headers={"Origin": base}) as ws:
                rig.scanners["R1"].scan(number)
                seen = await _next(ws, "workshop.scanned")
                assert seen == {"job_id": number, "found": True, "stage": "received",
                                "device": "scanner-r1", "register": "R1"}
                got = await http.get("/api/v1/registers/R1/cart")
                assert got.status == 200
                assert (await got.json())["lines"] == [], "a job number is not a piece"
                # Two boards saw the same scan: the first moves it, the second is told.
                body = {"move": "next", "expect": seen["stage"]}
                first = await http.post(f"/api/v1/jobs/{number}/stage", json=body, **post)
                second = await http.post(f"/api/v1/jobs/{number}/stage", json=body, **post)
                assert first.status == 200 and (await first.json())["stage"] == "at_bench"
                assert second.status == 409, await second.text()
                assert "moved meanwhile" in (await second.json())["detail"]

                rig.scanners["R1"].scan("J999999")
                unknown = await _next(ws, "workshop.scanned")
                assert unknown["found"] is False

                rig.scale.place("4.215")
                weight = await _next(ws, "device.weight")
                assert weight["milligrams"] == 4215 and weight["stable"] is True
