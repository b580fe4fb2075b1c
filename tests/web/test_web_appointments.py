"""Appointments over the API and on the screens, with the real app: booking and its
refusals (in words, nothing written), moving on, a tray of held pieces (the piece's page and
API say where it is, the register asks before selling one), the preparation list on screen
and on the ESC/POS simulator, closing the tray, the client's panel, and a rebuild."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from web_helpers import sign_in

from hub.clienteling.appointments import Appointments
from hub.devices.config import parse_devices
from hub.devices.manager import DeviceManager
from hub.devices.profiles import load_profiles
from hub.devices.sim.escpos import EscPosPrinterSim
from hub.ledger.ledger import dump_projections
from hub.receipts import receipt_settings
from tests.devices.device_helpers import FAST, wait_until

API = "/api/v1/appointments"
CART = "/api/v1/registers/R1/cart"


@pytest.fixture
async def appointments(runtime, store):
    runtime.appointments = Appointments(store)  # what the layer's part does at start
    return runtime.appointments


@pytest.fixture
async def her(store):
    return (await store.clients.create({"first_name": "Hélène", "last_name": "Fontaine"},
                                       "test"))["client_id"]


def at(days: int, hour: int, minute: int = 0) -> str:
    day = (datetime.now(UTC) + timedelta(days=days)).date()
    return f"{day.isoformat()}T{hour:02d}:{minute:02d}"


def books(store) -> tuple[int, dict]:
    return store.ledger.seq, dump_projections(store.ledger.db_path, store.ledger.schemas)


async def book(client, headers, her, start, **over):
    return await client.post(API, json={"kind": "private_viewing", "client_id": her,
                                        "associate": "alex", "salon": "Salon 1",
                                        "start": start, "duration_min": 60, **over},
                             headers=headers)


async def test_booking_and_its_refusals_over_the_api(client, store, appointments, her):
    h = {"X-CSRF-Token": await sign_in(client, "alex")}
    r = await book(client, h, her, at(2, 14), note="Looking for her 40th")
    assert r.status == 201, await r.text()
    made = await r.json()
    assert (made["status"], made["starts"], made["ends"], made["associate_name"]) == \
        ("booked", "14:00", "15:00", "Alex Associate")
    before = books(store)
    for over, status, field in (
            ({"start": at(-1, 10)}, 400, "start"),                       # in the past
            ({"start": at(2, 14, 30), "salon": "Salon 2"}, 409, "start"),  # Alex is busy
            ({"start": at(2, 13, 30), "associate": "mona"}, 409, "salon"),  # the salon is
            ({"client_id": "CNOBODY0000"}, 400, "client_id"),
            ({"associate": "nobody"}, 400, "associate"),
            ({"salon": "The roof"}, 400, "salon"),
            ({"end": at(2, 9), "start": at(2, 10)}, 400, "end")):
        r = await book(client, h, her, at(2, 11), **over) if "start" not in over else \
            await book(client, h, her, **over)
        body = await r.json()
        assert r.status == status, body
        assert body["field"] == field or field in [p["field"] for p in body["problems"]], body
        assert "_" not in body["detail"], body
    assert books(store) == before  # nothing written by any of them
    r = await book(client, h, her, start=at(2, 14, 30), salon="Salon 2")
    assert (await r.json())["detail"] == ("Start: Alex Associate has a private viewing from"
                                          " 14:00 to 15:00")
    listed = await (await client.get(f"{API}?from={made['day']}&to={made['day']}")).json()
    assert [a["appointment_id"] for a in listed["appointments"]] == [made["appointment_id"]]
    mine = await (await client.get(f"{API}?associate=mona")).json()
    assert mine["appointments"] == []
    r = await client.get(f"{API}?from=2026-02-10&to=2026-01-01")
    assert r.status == 400 and (await r.json())["field"] == "to"


async def test_moving_on_over_the_api(client, store, appointments, her):
    h = {"X-CSRF-Token": await sign_in(client, "alex")}
    aid = (await (await book(client, h, her, at(3, 10))).json())["appointment_id"]
    path = f"{API}/{aid}/status"
    r = await client.post(path, json={"move": "finish"}, headers=h)
    assert r.status == 409 and "not possible from Booked" in (await r.json())["detail"]
    r = await client.post(path, json={"move": "cancel"}, headers=h)
    assert r.status == 400 and (await r.json())["field"] == "note"
    r = await client.post(path, json={"move": "cancel", "note": "She is travelling"}, headers=h)
    assert r.status == 200 and (await r.json())["status"] == "cancelled"
    r = await client.post(path, json={"move": "reopen", "note": "back early"}, headers=h)
    assert r.status == 409 and (await r.json())["error"] == "move_not_permitted"
    r = await client.post(f"{API}/A999/status", json={"move": "confirm"}, headers=h)
    assert r.status == 404
    page = await (await client.get(f"/appointments/{aid}")).text()
    assert "Cancelled" in page and "She is travelling" in page
    assert 'data-move="reopen"' not in page  # a manager's move: not offered to Alex
    await sign_in(client, "mona")
    page = await (await client.get(f"/appointments/{aid}")).text()
    assert 'data-move="reopen"' in page


async def test_a_tray_held_shown_asked_about_printed_and_closed(client, store, appointments,
                                                                runtime, her):
    h = {"X-CSRF-Token": await sign_in(client, "alex")}
    made = await (await book(client, h, her, at(1, 15))).json()
    aid = made["appointment_id"]
    await store.items.move("P002", "showcase-2", "test")
    r = await client.post(f"{API}/{aid}/tray", json={"item_ids": ["P001", "P002", "P003"]},
                          headers=h)
    assert r.status == 200, await r.text()
    tray = await r.json()
    assert tray["tray"] == "T1" and [p["from_location"] for p in tray["pieces"]] == [
        "store", "showcase-2", "store"]
    # a sold or held piece refuses the whole tray, in words, writing nothing
    before = books(store)
    r = await client.post(f"{API}/{aid}/tray", json={"item_ids": ["P004", "P001"]}, headers=h)
    body = await r.json()
    assert r.status == 409 and body["error"] == "held" and "P001" in body["detail"]
    assert books(store) == before
    # where a held piece is: the piece's API and its page
    piece = await (await client.get("/api/v1/items/P002")).json()
    assert piece["status"] == "in_stock" and piece["hold"]["where"] == "on tray T1, Salon 1"
    page = await (await client.get("/items/P002")).text()
    assert "on tray T1, Salon 1" in page and f"/appointments/{aid}" in page
    assert (await (await client.get("/api/v1/items/P004")).json())["hold"] is None
    # the register asks before selling it
    r = await client.post(CART + "/lines", json={"item_id": "P001"}, headers=h)
    body = await r.json()
    assert r.status == 409 and body["error"] == "held"
    assert body["detail"].startswith("Piece P001 is on tray T1 in Salon 1 for an appointment")
    assert (await (await client.get(CART)).json())["lines"] == []
    r = await client.post(CART + "/lines", json={"code": "P001", "confirm_held": True},
                          headers=h)
    assert r.status == 200 and len((await r.json())["lines"]) == 1
    await client.post(CART + "/tenders", json={"type": "cash", "amount": 250_000}, headers=h)
    r = await client.post(CART + "/complete", json={}, headers=h)
    assert r.status == 201
    assert (await (await client.get("/api/v1/items/P001")).json())["hold"] is None
    # the preparation list: each piece, where it comes from, its price
    prep = await (await client.get(f"{API}/{aid}/prep")).json()
    assert [(p["item_id"], p["from_location"], p["tag_price"], p["state"])
            for p in prep["pieces"]] == [("P001", "store", 250_000, "sold"),
                                         ("P002", "showcase-2", 250_000, "open"),
                                         ("P003", "store", 250_000, "open")]
    assert "Tray T1 · Salon 1" in prep["text"] and "Hélène" not in prep["text"]
    page = await (await client.get(f"/appointments/{aid}/prep")).text()
    assert "showcase-2" in page and "€2,500.00" in page and "Sold from the tray" in page
    # ... and on the receipt printer (the ESC/POS simulator, through the real driver)
    r = await client.post(f"{API}/{aid}/prep/print", json={"register": "R1"}, headers=h)
    assert r.status == 503  # no devices running yet: said, not failed
    sim = EscPosPrinterSim()
    await sim.start()
    specs = parse_devices({"printer-r1": {"model": "epson-tm-t88vi", "register": "R1",
                                          "host": "127.0.0.1", "port": sim.port, **FAST}},
                          load_profiles(), {"R1", "R2"})
    manager = DeviceManager(specs, store.bus, store, receipt_settings(store.config))
    await manager.start()
    runtime.devices = manager
    try:
        await wait_until(lambda: manager.devices["printer-r1"].state == "connected")
        r = await client.post(f"{API}/{aid}/prep/print", json={"register": "R1"}, headers=h)
        assert r.status == 200, await r.text()
        printed = await wait_until(lambda: [p for p in sim.receipts if "Tray T1" in p.text])
        assert "P002 · from showcase-2" in printed[0].text and "2,500.00" in printed[0].text
        r = await client.post(f"{API}/{aid}/prep/print", json={"register": "R9"}, headers=h)
        assert r.status == 400 and (await r.json())["field"] == "register"
    finally:
        runtime.devices = None
        await manager.stop()
        await sim.stop()
    # closing the tray: what goes back where
    r = await client.post(f"{API}/{aid}/tray/close", json={}, headers=h)
    closed = await r.json()
    assert r.status == 200 and [(p["item_id"], p["back_to"]) for p in closed["back"]] == [
        ("P002", "showcase-2"), ("P003", "store")]
    assert (await (await client.get("/api/v1/items/P002")).json())["hold"] is None
    before = dump_projections(store.ledger.db_path, store.ledger.schemas)
    await store.rebuild()
    assert dump_projections(store.ledger.db_path, store.ledger.schemas) == before
    assert before["holds"] == [] and before["appointment_tray_pieces"]


async def test_the_screens_read_in_words(client, store, appointments, her):
    h = {"X-CSRF-Token": await sign_in(client, "alex")}
    made = await (await book(client, h, her, at(1, 11), kind="repair_pickup")).json()
    aid = made["appointment_id"]
    await client.post(f"{API}/{aid}/tray", json={"item_ids": ["P005"], "tray": "T7"}, headers=h)
    page = await (await client.get(f"/appointments?view=day&day={made['day']}")).text()
    assert 'href="/appointments"' in page  # in the menu
    day = page[page.index(f'id="day-{made["day"]}"'):]
    assert "Repair pick-up" in day and "Hélène Fontaine" in day and "Alex Associate" in day
    assert "11:00–12:00" in day and "tray T7" in day and "Booked" in day
    assert "repair_pickup" not in day.split('id="book"')[0]
    week = await (await client.get(f"/appointments?day={made['day']}")).text()
    assert week.count('class="pane appointment-day') == 7
    one = await (await client.get(f"/appointments/{aid}")).text()
    assert "Tray T7" in one and "Solitaire ring P005" in one and "Confirm" in one
    assert "data-move=\"confirm\"" in one and "Pull to the tray" in one
    # the client's panel: her appointments, and a way to book her another
    her_page = await (await client.get(f"/clients/{her}")).text()
    panel = her_page[her_page.index('id="panel-appointments"'):]
    assert "Repair pick-up" in panel and f'/appointments?client={her}' in panel
    prefilled = await (await client.get(f"/appointments?client={her}")).text()
    assert "Booking for Hélène Fontaine" in prefilled and f'value="{her}"' in prefilled


async def test_the_api_is_documented_with_its_bodies(client, appointments):
    doc = await (await client.get("/api/v1/openapi.json")).json()
    for path, method in ((API, "get"), (API, "post"), (API + "/{appointment_id}/status", "post"),
                         (API + "/{appointment_id}/tray", "post"),
                         (API + "/{appointment_id}/tray/close", "post"),
                         (API + "/{appointment_id}/prep", "get")):
        assert method in doc["paths"][path], path
    body = doc["paths"][API]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert {"kind", "client_id", "associate", "salon", "start"} <= set(body["required"])
    assert "confirm_held" in doc["paths"][CART.replace("R1", "{register_id}") + "/lines"][
        "post"]["requestBody"]["content"]["application/json"]["schema"]["properties"]
