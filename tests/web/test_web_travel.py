"""Travellers' money through the API and screens: HQ's rates on the rates page, a quote, US
dollars taken into the cart (the hub computes the euros), the sale, its receipt, its
tax-free form made from the sale page, shown, printed, listed and on her page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from test_web_approvals import CART
from web_helpers import sign_in

from hub.travel.service import travel_of


@pytest.fixture
async def travel(runtime):
    with travel_of(runtime.store) as travel:
        runtime.travel = travel
        yield travel
        runtime.travel = None


async def _rates(store, *rates):
    now = datetime.now(UTC)
    body = {"rates": [{"currency": c, "rate": r, "valid_from": (now - timedelta(hours=1))
                       .isoformat(), "valid_until": (now + timedelta(hours=8)).isoformat()}
                      for c, r in rates]}
    return await store.hq.apply({"id": f"fx-{len(rates)}-{rates[0][1]}", "type":
                                 "exchange_rates", "body": body}, "sig")


async def test_dollars_at_the_counter_and_the_tax_free_form(client, travel, store):
    h = {"X-CSRF-Token": await sign_in(client, "alex")}
    page = await (await client.get("/exchange-rates")).text()
    assert "no exchange rate" in page
    await _rates(store, ("USD", "0.9215"), ("GBP", "1.17"))
    await _rates(store, ("GBP", "1.30"))  # +11 %: held for a manager
    page = await (await client.get("/exchange-rates")).text()
    assert "1 USD = 0.893855 EUR" in page and "Held for a manager" in page
    assert 'class="fx-accept"' not in page  # an associate may not accept it
    r = await client.get("/api/v1/exchange-rates/quote?currency=USD&amount=1,000.00")
    q = await r.json()
    assert r.status == 200 and q["amount"] == 89_385 and q["amount_text"] == "€893.85"
    r = await client.get("/api/v1/exchange-rates/quote?currency=CHF&amount=10")
    assert r.status == 409 and "no rate for CHF" in (await r.json())["detail"]

    her = (await store.clients.create({"first_name": "Mei", "last_name": "Chen"}, "alex"))
    await client.post(CART + "/lines", json={"item_id": "P001"}, headers=h)  # 2,500.00
    await client.put(CART + "/client", json={"client_id": her["client_id"]}, headers=h)
    r = await client.post(CART + "/foreign-tenders", json={"currency": "USD",
                                                            "foreign_amount": "1500"},
                          headers=h)
    cart = await r.json()
    assert r.status == 200, cart
    assert cart["tenders"][0]["amount"] == 134_078  # 1500 × 0.893855, down to the cent
    r = await client.post(CART + "/foreign-tenders", json={"currency": "USD",
                                                            "foreign_amount": "lots"},
                          headers=h)
    assert r.status == 400 and (await r.json())["field"] == "foreign_amount"
    await client.post(CART + "/tenders", json={"type": "cash", "amount": 120_000}, headers=h)
    r = await client.post(CART + "/complete", json={}, headers=h)
    assert r.status == 201, await r.text()
    sale_id = (await r.json())["sale"]["sale_id"]
    page = await (await client.get(f"/sales/{sale_id}")).text()
    assert "US$1,500.00 at 1 USD = 0.893855 EUR" in page and "Tax-free form" in page

    page = await (await client.get(f"/sales/{sale_id}/tax-free")).text()
    assert 'id="tax-free-form"' in page and "Hong Kong" in page
    r = await client.post(f"/api/v1/sales/{sale_id}/tax-free", json={
        "document_number": "E1234567", "residence": "GB", "nationality": "CN",
        "address": ""}, headers=h)
    body = await r.json()
    assert r.status == 400 and {p["field"] for p in body["problems"]} == {"residence",
                                                                          "address"}
    r = await client.post(f"/api/v1/sales/{sale_id}/tax-free", json={
        "document_number": "E1234567", "residence": "HK", "nationality": "CN",
        "address": "88 Nathan Road\nKowloon"}, headers=h)
    form = await r.json()
    assert r.status == 201 and form["number"] == "TF-000001", form
    r = await client.get("/api/v1/tax-free/TF-000001.pdf")
    assert r.status == 200 and (await r.read()).startswith(b"%PDF")
    r = await client.get("/api/v1/tax-free/TF-000001")
    assert (await r.json())["traveller"]["residence"] == "HK"
    r = await client.get(f"/sales/{sale_id}/tax-free", allow_redirects=False)
    assert r.status == 303 and r.headers["Location"] == "/tax-free/TF-000001"
    page = await (await client.get("/tax-free/TF-000001")).text()
    assert "E1234567" in page and "Refundable VAT" in page
    assert "TF-000001" in await (await client.get("/tax-free")).text()
    page = await (await client.get(f"/clients/{her['client_id']}")).text()
    assert 'id="panel-tax-free"' in page and "TF-000001" in page
    assert 'id="foreign-floor"' in await (await client.get("/floor")).text()


async def test_a_manager_accepts_a_held_rate(client, travel, store):
    await _rates(store, ("GBP", "1.17"))
    await _rates(store, ("GBP", "1.30"))
    held = (await travel.exchange.held())[0]
    h = {"X-CSRF-Token": await sign_in(client, "alex")}
    r = await client.post("/api/v1/exchange-rates/accept",
                          json={"held_seq": held["seq"], "currency": "GBP"}, headers=h)
    assert r.status == 403
    h = {"X-CSRF-Token": await sign_in(client, "mona")}
    assert 'class="fx-accept"' in await (await client.get("/exchange-rates")).text()
    r = await client.post("/api/v1/exchange-rates/accept",
                          json={"held_seq": held["seq"], "currency": "GBP"}, headers=h)
    assert r.status == 201
    rates = (await (await client.get("/api/v1/exchange-rates")).json())["rates"]
    assert [r["rate"] for r in rates if r["currency"] == "GBP"] == ["1.3"]
