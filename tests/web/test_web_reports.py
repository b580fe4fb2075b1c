"""The sales report over HTTP: the JSON and the CSV say the same figures as the Z report of
the same day, cost and margin only for a role that may see them, a bad range refused in a
sentence (never a 500), the page in words; by collection and by the client's tier, with the
attachment rate said and explained, each row linked to the entries behind it."""

from __future__ import annotations

import csv
import io

import pytest
from web_helpers import piece, sign_in


async def _sell(store, serial: str, actor: str = "alex") -> dict:
    return await store.sales.complete(register_id="R1", actor=actor, lines=[{"item_id": serial}],
                                      tenders=[{"type": "cash", "amount": 250_000}])


async def test_the_day_in_json_and_csv_equals_the_z_report(client, store):
    sold = await _sell(store, "P001")
    await _sell(store, "P002", actor="mona")
    await store.sales.return_lines(sold["sale_id"], register_id="R1", actor="mona",
                                   reason="changed her mind", lines=[{"line_no": 1}])
    z = (await store.closures.close_day("mona"))["totals"]
    await sign_in(client, "mona")
    r = await client.get("/api/v1/reports/sales", params={"by": "associate"})
    assert r.status == 200
    doc = await r.json()
    t = doc["totals"]
    assert (t["sales"], t["net"], t["refunds"]) == (z["sales"], z["net"], z["refund_total"])
    assert t["margin"] == t["costed"] - t["cost"] and t["cost"] == 125_000  # one piece kept
    assert {row["key"]: row["net"] for row in doc["rows"]} == {"mona": 250_000, "alex": 0}

    r = await client.get("/api/v1/reports/sales.csv", params={"by": "associate"})
    assert r.status == 200 and r.content_type == "text/csv"
    table = list(csv.reader(io.StringIO(await r.text())))
    assert table[0][:2] == ["Associate", "Sales"] and "Margin" in table[0]
    assert table[-1][0] == "All"
    assert int(table[-1][table[0].index("Net sales")]) == z["net"]
    names = [row[0] for row in table[1:-1]]
    assert "Mona Manager" in names and "mona" not in names  # people, not ids


async def test_an_associate_sees_no_cost_and_no_margin(client, store):
    await _sell(store, "P001")
    await sign_in(client, "alex")
    doc = await (await client.get("/api/v1/reports/sales", params={"by": "category"})).json()
    assert doc["margin"] is False
    for row in (*doc["rows"], doc["totals"]):
        assert not {"cost", "costed", "margin", "margin_bp"} & set(row)
    text = await (await client.get("/api/v1/reports/sales.csv")).text()
    assert "Margin" not in text and "Cost" not in text
    page = await (await client.get("/reports/sales?by=category")).text()
    assert "Ring" in page and "margin" not in page.lower().split("<main")[-1]


@pytest.mark.parametrize("query, words", [
    ({"from": "2026-12-10", "to": "2026-12-01"}, "ends before it begins"),
    ({"from": "2019-01-01", "to": "2026-12-01"}, "at most"),
    ({"to": "the 3rd"}, "is not a date"),
    ({"by": "weather"}, "grouped by")])
async def test_a_bad_range_or_grouping_is_a_sentence(client, store, query, words):
    await sign_in(client, "mona")
    r = await client.get("/api/v1/reports/sales", params=query)
    assert r.status == 400
    assert words in (await r.text())
    page = await client.get("/reports/sales", params=query)
    assert page.status == 200 and words in await page.text()  # the form, the problem above
    assert "Traceback" not in await page.text()


async def test_the_page_has_its_chart_with_the_table_beneath(client, store):
    await _sell(store, "P003")
    await sign_in(client, "mona")
    page = await (await client.get("/reports/sales?by=day&compare=last_year")).text()
    assert '<svg class="chart"' in page and 'role="img"' in page and "<desc" in page
    assert 'id="report-table"' in page and "€2,500.00" in page
    assert "Same weeks last year" in page



async def test_yesterday_against_the_same_weekday_last_year(client, store, monkeypatch):
    from datetime import UTC, datetime, time, timedelta
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(store.config.timezone)
    yesterday = datetime.now(zone).date() - timedelta(days=1)
    for serial, day in (("P001", yesterday - timedelta(weeks=52)), ("P002", yesterday),
                        ("P003", yesterday)):
        at = datetime.combine(day, time(15), zone).astimezone(UTC)
        monkeypatch.setattr(store.ledger, "clock",
                            lambda a=at: a.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
        await _sell(store, serial)
    monkeypatch.undo()
    await sign_in(client, "mona")
    doc = await (await client.get("/api/v1/reports/glance")).json()
    y = doc["yesterday"]
    assert (y["day"], y["totals"]["net"], y["before"]["net"]) == (
        yesterday.isoformat(), 500_000, 250_000)
    page = await (await client.get("/reports/sales")).text()
    glance = page[page.index('id="report-glance"'):]
    assert "Yesterday" in glance and "€5,000.00" in glance and "+100%" in glance
    day = yesterday.isoformat()
    page = await (await client.get("/reports/sales", params={"from": day, "to": day})).text()
    assert f"/api/v1/reports/day.pdf?day={day}" in page  # one day: it prints
    assert f"/api/v1/reports/month.pdf?month={day[:7]}" in page
    r = await client.get(f"/api/v1/reports/day.pdf?day={day}")
    assert r.status == 200 and r.content_type == "application/pdf"


async def test_collection_tier_and_the_attachment_rate_in_json_csv_and_page(client, store):
    await store.items.receive_many([piece("P101", collection="Étoile"),
                                    piece("P102", collection="Étoile")], actor="test")
    her = (await store.clients.create({"first_name": "Zoë", "last_name": "Marchand",
                                       "emails": ["zoe@example.fr"]}, "test"))["client_id"]
    await store.sales.complete(register_id="R1", actor="mona", client_id=her,
                               lines=[{"item_id": "P101"}, {"item_id": "P102"}],
                               tenders=[{"type": "cash", "amount": 500_000}])
    await _sell(store, "P001")
    await sign_in(client, "mona")
    doc = await (await client.get("/api/v1/reports/sales", params={"by": "collection"})).json()
    assert {r["key"]: r["net"] for r in doc["rows"]} == {"Étoile": 500_000, "": 250_000}
    t = doc["totals"]
    assert (t["sales"], t["attached"], t["attachment_bp"]) == (2, 1, 5_000)
    tiers = await (await client.get("/api/v1/reports/sales", params={"by": "tier"})).json()
    assert {r["key"]: r["sales"] for r in tiers["rows"]} == {"prospect": 1, "": 1}

    text = await (await client.get("/api/v1/reports/sales.csv", params={"by": "tier"})).text()
    table = list(csv.reader(io.StringIO(text)))
    head = table[0]
    assert head[0] == "Tier" and "Sales of two pieces or more" in head
    assert "Attachment rate (%)" in head
    assert {row[0] for row in table[1:-1]} == {"Prospect", "No client"}
    assert table[-1][head.index("Attachment rate (%)")] == "50.00"
    assert table[-1][head.index("Sales of two pieces or more")] == "1"

    page = await (await client.get("/reports/sales", params={"by": "tier"})).text()
    assert "Attachment rate" in page and "50%" in page
    assert "share of sales of two pieces or more" in page
    assert "/reports/entries?from=" in page and "by=tier" in page
    assert "Zoë" not in page and her not in page  # a tier, never a client


async def test_the_api_documents_the_entries_and_the_new_groupings(client, store):
    await sign_in(client, "ada")
    doc = await (await client.get("/api/v1/openapi.json")).json()
    entries = doc["paths"]["/api/v1/reports/entries"]["get"]
    assert {p["name"] for p in entries["parameters"]} >= {"from", "to", "by", "key", "after"}
    assert "collection" in doc["paths"]["/api/v1/reports/sales"]["get"]["summary"]
