"""The clienteling outcomes over HTTP: an appointment and a thank-you call followed by
purchases of the same client (the ledger's clock set back, as the demo's history does) are
counted with their net in JSON, in the CSV (figures and staff names, never a client's) and on
the page (a chart, its tables beneath, kinds in words); a bad range is a sentence, never a
500; the page reads at tablet and phone sizes in real Chromium."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from browser_helpers import needs_chromium, signed_in
from playwright.async_api import expect
from web_helpers import sign_in

from hub.clienteling.appointments import Appointments
from hub.clienteling.book import FollowUps
from hub.clienteling.rules import Rules
from hub.ledger.ledger import utc_now
from tests.builders import client as a_client


def _at(day, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def _set(store, moment: datetime) -> None:
    store.ledger.clock = lambda: moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@pytest.fixture
async def outcomes(runtime, store):
    """Twenty days ago Hélène came to a private viewing with Alex and bought during it; Alex
    called her two days later and she bought again; Inès did not come, then cancelled."""
    base = datetime.now(UTC).date() - timedelta(days=20)
    appointments = Appointments(store)
    followups = FollowUps(store, Rules())
    followups.sources.append(appointments.followups)
    her = (await store.clients.create(a_client("Hélène", "Fontaine"), "test"))["client_id"]
    other = (await store.clients.create(a_client("Inès", "Roux"), "test"))["client_id"]
    _set(store, _at(base, 8))
    appointments.now = lambda: _at(base, 8)
    booked = []
    for who, associate, day, hour in ((her, "alex", 0, 14), (other, "mona", 1, 11),
                                      (other, "mona", 2, 11)):
        booked.append(await appointments.book(
            {"kind": "private_viewing" if who == her else "bridal", "client_id": who,
             "associate": associate, "salon": "Salon 1", "duration_min": 60,
             "start": _at(base + timedelta(days=day), hour).replace(tzinfo=None).isoformat()},
            actor=associate))
    try:
        _set(store, _at(base, 14))
        await appointments.move(booked[0]["appointment_id"], "arrive", actor="alex")
        _set(store, _at(base, 14, 30))
        await store.sales.complete(register_id="R1", actor="alex", lines=[{"item_id": "P001"}],
                                   client_id=her, tenders=[{"type": "cash", "amount": 250_000}])
        _set(store, _at(base, 14, 55))
        await appointments.move(booked[0]["appointment_id"], "finish", actor="alex")
        _set(store, _at(base + timedelta(days=1), 12))
        await appointments.move(booked[1]["appointment_id"], "no_show", actor="mona")
        await appointments.move(booked[2]["appointment_id"], "cancel", "She is away",
                                actor="mona")
        _set(store, _at(base + timedelta(days=2), 10))
        await followups.done(f"appointment:{her}:{booked[0]['appointment_id']}", "called",
                             actor="alex", today=base + timedelta(days=2))
        _set(store, _at(base + timedelta(days=5), 16))
        await store.sales.complete(register_id="R1", actor="mona", lines=[{"item_id": "P002"}],
                                   client_id=her, tenders=[{"type": "cash", "amount": 250_000}])
    finally:
        store.ledger.clock = utc_now
    return base


async def test_outcomes_in_json_csv_and_on_the_page(client, outcomes):
    await sign_in(client, "alex")  # an associate reads the reports too
    r = await client.get("/api/v1/reports/outcomes")
    assert r.status == 200
    doc = await r.json()
    a, f = doc["appointments"], doc["followups"]
    assert {k: a["totals"][k] for k in ("held", "no_show", "cancelled", "converted", "sales",
                                        "net", "share_bp")} == {
        "held": 1, "no_show": 1, "cancelled": 1, "converted": 1, "sales": 2, "net": 500_000,
        "share_bp": 10_000}
    assert [(row["key"], row["held"], row["net"]) for row in a["by_associate"]] == [
        ("alex", 1, 500_000), ("mona", 0, 0)]
    assert {row["key"] for row in a["by_kind"]} == {"private_viewing", "bridal"}
    assert {k: f["totals"][k] for k in ("done", "converted", "sales", "net", "share_bp")} == {
        "done": 1, "converted": 1, "sales": 1, "net": 250_000, "share_bp": 10_000}
    assert [r["key"] for r in f["by_kind"]] == ["appointment"]
    assert [r["key"] for r in f["by_outcome"]] == ["called"]
    # A range after the appointments: nothing held in it, the share not said.
    later = (outcomes + timedelta(days=10)).isoformat()
    doc = await (await client.get("/api/v1/reports/outcomes", params={"from": later})).json()
    assert doc["appointments"]["totals"]["held"] == 0
    assert doc["appointments"]["totals"]["share_bp"] is None

    r = await client.get("/api/v1/reports/outcomes.csv")
    assert r.status == 200 and r.content_type == "text/csv"
    text = await r.text()
    for name in ("Hélène", "Fontaine", "Inès", "Roux"):  # no client, ever
        assert name not in text
    table = list(csv.reader(io.StringIO(text)))
    assert table[0][:5] == ["What", "Grouped by", "Row", "Held or done",
                            "Followed by a purchase"]
    rows = {(row[0], row[1], row[2]): row for row in table[1:]}
    alex = rows[("Appointments", "Associate", "Alex Associate")]
    assert (alex[3], alex[4], alex[5], alex[7]) == ("1", "1", "10000", "500000")
    assert ("Follow-ups", "Kind of follow-up", "After an appointment") in rows
    assert ("Follow-ups", "How it was done", "Called") in rows
    assert ("Appointments", "Kind of appointment", "Private viewing") in rows

    page = await client.get("/reports/outcomes")
    assert page.status == 200
    main = (await page.text()).split("<main")[-1]
    assert 'id="chart-outcomes-appointments"' in main and 'id="chart-outcomes-followups"' in main
    assert 'role="img"' in main and "<desc" in main
    assert "Alex Associate" in main and "€5,000.00" in main and "€2,500.00" in main
    assert "Private viewing" in main and "After an appointment" in main
    assert "private_viewing" not in main and "Hélène" not in main
    assert 'href="/api/v1/reports/outcomes.csv?' in main


@pytest.mark.parametrize("query, words", [
    ({"from": "2026-12-10", "to": "2026-12-01"}, "ends before it begins"),
    ({"from": "2019-01-01", "to": "2026-12-01"}, "at most"),
    ({"to": "the 3rd"}, "is not a date"),
    ({"from": "2999-01-01"}, "a year from now")])
async def test_a_bad_range_is_a_sentence(client, store, query, words):
    await sign_in(client, "mona")
    for path in ("/api/v1/reports/outcomes", "/api/v1/reports/outcomes.csv"):
        r = await client.get(path, params=query)
        assert r.status == 400 and words in await r.text()
    page = await client.get("/reports/outcomes", params=query)
    text = await page.text()
    assert page.status == 200 and words in text and "Traceback" not in text
    assert 'id="outcomes-table-appointments-by_associate"' in text  # the default range


@needs_chromium
@pytest.mark.parametrize("size", [(1024, 768), (390, 844)], ids=["tablet", "phone"])
async def test_the_page_reads_on_a_tablet_and_a_phone(runtime, outcomes, size):
    async with signed_in(runtime, size) as (page, base):
        await page.goto(base + "/reports/outcomes")
        await expect(page.locator("#outcomes-converted")).to_have_text("1")
        await expect(page.locator("svg#chart-outcomes-appointments")).to_be_visible()
        table = page.locator("#outcomes-table-appointments-by_associate")
        await expect(table.locator("tbody tr")).to_have_count(2)
        await expect(table).to_contain_text("Alex Associate")
        assert await page.evaluate("document.documentElement.scrollWidth") <= size[0]
