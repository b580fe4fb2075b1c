"""The dashboard over HTTP: its figures are those of the reports it links to (the month of
the sales report, the stock report's totals), the month's target set by a manager and kept
as an entry (the latest counts; an associate may not set it; a bad month or amount refused
in a sentence with the books unchanged), no cost for an associate."""

from __future__ import annotations

import asyncio

import pytest
from web_helpers import sign_in

from hub.reports import dashboard as dashboard_module
from hub.reports.dashboard import month_pace
from hub.reports.sales import store_today
from tests.builders import client as client_of


async def _sell(store, serial: str, actor: str = "alex") -> dict:
    return await store.sales.complete(register_id="R1", actor=actor, lines=[{"item_id": serial}],
                                      tenders=[{"type": "cash", "amount": 250_000}])


async def test_the_dashboard_says_what_the_reports_say(client, store):
    await _sell(store, "P001")
    await _sell(store, "P002", actor="mona")
    await sign_in(client, "mona")
    doc = await (await client.get("/api/v1/reports/dashboard")).json()
    today = store_today(store)
    month = await (await client.get("/api/v1/reports/sales", params={
        "from": today.replace(day=1).isoformat(), "to": today.isoformat(),
        "by": "associate"})).json()
    assert doc["month"]["totals"] == month["totals"]
    assert {r["key"]: r["net"] for r in doc["tops"]["associate"]} == {
        r["key"]: r["net"] for r in month["rows"]}
    assert doc["month"]["pace"] == month_pace(month["totals"]["net"], today)
    stock = await (await client.get("/api/v1/reports/stock")).json()
    assert doc["stock"]["totals"] == stock["totals"]
    assert doc["month"]["target"] is None and "margin" in doc["month"]["totals"]
    clients = await (await client.get("/api/v1/reports/clients")).json()
    assert (doc["clients"]["lapsed_vips"], doc["clients"]["rising"], doc["clients"]["active"]) \
        == (clients["lapsed_vips"], clients["rising"], clients["active"])
    counts = await (await client.get("/api/v1/reports/counts")).json()
    assert doc["counts"]["counts"] == len(counts["counts"])
    outcomes = await (await client.get("/api/v1/reports/outcomes", params={
        "from": doc["outcomes"]["from"], "to": doc["outcomes"]["to"]})).json()
    assert doc["outcomes"]["appointments"]["held"] == outcomes["appointments"]["totals"]["held"]
    page = await (await client.get("/reports")).text()
    assert 'id="chart-month"' in page and "€5,000.00" in page and "Mona Manager" in page
    assert "No target is set for this month." in page and 'id="target-form"' in page
    assert f"/api/v1/reports/month.pdf?month={today.strftime('%Y-%m')}" in page


async def test_a_manager_sets_the_target_and_the_latest_counts(client, store):
    await _sell(store, "P001")
    headers = {"X-CSRF-Token": await sign_in(client, "mona")}
    month = store_today(store).strftime("%Y-%m")
    for amount in (1_000_000, 1_000_001):
        r = await client.put(f"/api/v1/reports/targets/{month}", json={"amount": amount},
                             headers=headers)
        assert r.status == 200, await r.text()
    doc = await (await client.get("/api/v1/reports/dashboard")).json()
    assert doc["month"]["target"] == 1_000_001
    assert doc["month"]["reached_bp"] == 250_000 * 10_000 // 1_000_001
    kinds = [e.kind for e in await store.ledger.entries()]
    assert kinds.count("report.target_set") == 2  # each one kept: who set what, and when
    page = await (await client.get("/reports")).text()
    assert "of the target of €10,000.01" in page


@pytest.mark.parametrize("month, body, words", [
    ("2026-13", {"amount": 100}, "is not a month"),
    ("soon", {"amount": 100}, "is not a month"),
    ("2206-01", {"amount": 100}, "two years ahead"),
    ("{month}", {"amount": 0}, "above zero"),
    ("{month}", {"amount": -5}, "amount"),
    ("{month}", {"amount": "lots"}, "amount"),
    ("{month}", {}, "amount"),
])
async def test_a_bad_target_is_refused_in_a_sentence(client, store, month, body, words):
    headers = {"X-CSRF-Token": await sign_in(client, "mona")}
    before = store.ledger.seq
    month = month.format(month=store_today(store).strftime("%Y-%m"))
    r = await client.put(f"/api/v1/reports/targets/{month}", json=body, headers=headers)
    assert r.status == 400
    assert words in (await r.json())["detail"].lower()
    assert store.ledger.seq == before


async def test_an_associate_sees_no_cost_and_may_not_set_the_target(client, store):
    await _sell(store, "P001")
    headers = {"X-CSRF-Token": await sign_in(client, "alex")}
    doc = await (await client.get("/api/v1/reports/dashboard")).json()
    assert doc["margin"] is False and "cost" not in doc["stock"]["totals"]
    assert "margin" not in doc["month"]["totals"]
    month = store_today(store).strftime("%Y-%m")
    r = await client.put(f"/api/v1/reports/targets/{month}", json={"amount": 100},
                         headers=headers)
    assert r.status == 403
    page = await (await client.get("/reports")).text()
    assert 'id="target-form"' not in page and "at cost" not in page


async def test_the_clients_figures_are_a_reading_refreshed_beside_the_dashboard(
        client, store, monkeypatch):
    """Reading the clients' figures is a pass over every client's sales: the dashboard
    shows its last reading (and when it was made) and reads them again beside it once
    it is older than CLIENTS_FRESH_S."""
    await sign_in(client, "mona")
    first = (await (await client.get("/api/v1/reports/dashboard")).json())["clients"]
    await store.clients.create(client_of("Inès", "Moreau"), "mona")
    again = (await (await client.get("/api/v1/reports/dashboard")).json())["clients"]
    assert again == first  # within the freshness: the same reading, not a new pass
    monkeypatch.setattr(dashboard_module, "CLIENTS_FRESH_S", 0.0)
    stale = (await (await client.get("/api/v1/reports/dashboard")).json())["clients"]
    assert stale["as_of"] == first["as_of"]  # shown at once; the new reading runs beside
    for _ in range(200):
        now = (await (await client.get("/api/v1/reports/dashboard")).json())["clients"]
        if now["active"] == first["active"] + 1:
            break
        await asyncio.sleep(0.05)
    assert now["active"] == first["active"] + 1 and now["as_of"] > first["as_of"]
    page = await (await client.get("/reports")).text()
    assert "As of " in page[page.index('id="dash-clients"'):]
