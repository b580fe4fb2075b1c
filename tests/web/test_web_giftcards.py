"""Gift cards through the API and screens: a new card into the cart and sold, its balance by
its code, taken as a tender, the gift cards page, her store credit on her page, a return to
store credit and an exchange from the sale's API."""

from __future__ import annotations

import pytest
from test_web_approvals import CART, _approve
from web_helpers import sign_in

from hub.giftcards.cards import GiftCardSettings
from hub.giftcards.part import giftcards_of


@pytest.fixture
async def cards(runtime):
    with giftcards_of(runtime.store, GiftCardSettings(1_000, 500_000, 20_000)) as cards:
        runtime.giftcards = cards
        yield cards
        runtime.giftcards = None


async def _approved(client, csrf, path, body):
    h = {"X-CSRF-Token": csrf}
    r = await client.post(path, json=body, headers=h)
    assert r.status == 403 and (await r.json())["error"] == "approval_needed", await r.text()
    action = (await r.json())["action"]
    approval = await (await _approve(client, csrf, action)).json()
    return action, await client.post(path, json={**body, "approval_id": approval["approval_id"]},
                                     headers=h)


async def test_sell_a_card_look_it_up_and_pay_with_it(client, cards, store):
    h = {"X-CSRF-Token": await sign_in(client, "alex")}
    r = await client.post(CART + "/gift-cards", json={"amount": 500}, headers=h)
    assert r.status == 409 and (await r.json())["error"] == "card_amount"
    r = await client.post(CART + "/gift-cards", json={"amount": 50_000}, headers=h)
    cart = await r.json()
    assert r.status == 200 and cart["total"] == 50_000 and cart["tax"] == 0
    code = cart["lines"][0]["service"].split(":", 1)[1]
    await client.post(CART + "/tenders", json={"type": "cash", "amount": 50_000}, headers=h)
    r = await client.post(CART + "/complete", json={}, headers=h)
    assert r.status == 201
    r = await client.get(f"/api/v1/gift-cards/{code.lower()}")
    card = await r.json()
    assert r.status == 200 and card["balance"] == 50_000 and card["code"] == code
    r = await client.get("/api/v1/gift-cards/paris-01-NOTACARD00000")
    assert r.status == 400 and "gift card number" in (await r.json())["detail"]
    # Taken as a tender: more than it holds is refused as the cart takes it.
    await client.post(CART + "/lines", json={"item_id": "P001"}, headers=h)
    r = await client.post(CART + "/tenders", json={"type": "gift_card", "amount": 60_000,
                                                   "number": code}, headers=h)
    assert r.status == 409 and (await r.json())["error"] == "card_short"
    r = await client.post(CART + "/tenders", json={"type": "gift_card", "amount": 50_000,
                                                   "number": code}, headers=h)
    assert r.status == 200
    await client.post(CART + "/tenders", json={"type": "cash", "amount": 200_000}, headers=h)
    r = await client.post(CART + "/complete", json={}, headers=h)
    assert r.status == 201
    page = await (await client.get(f"/gift-cards?code={code}")).text()
    assert code in page and "id=\"card-movements\"" in page
    floor = await (await client.get("/floor")).text()
    assert 'id="gc-check-form"' in floor and "/giftcards/giftcards.js" in floor
    receipt = await (await client.get(f"/sales/{(await r.json())['sale']['sale_id']}")).text()
    assert "Gift card" in receipt


async def test_return_to_store_credit_and_an_exchange(client, cards, store):
    csrf = await sign_in(client, "alex")
    h = {"X-CSRF-Token": csrf}
    r = await client.post("/api/v1/clients", json={"first_name": "Zoë", "last_name": "Marchand"},
                          headers=h)
    her = (await r.json())["client_id"]
    sale = await store.sales.complete(register_id="R1", actor="alex", client_id=her,
                                      lines=[{"item_id": "P001"}, {"item_id": "P002"}],
                                      tenders=[{"type": "cash", "amount": 500_000}])
    action, r = await _approved(client, csrf, f"/api/v1/sales/{sale['sale_id']}/return",
                                {"register_id": "R1", "reason": "too big",
                                 "lines": [{"line_no": 1}], "refund_to": "store_credit"})
    assert r.status == 201 and action["kind"] == "return"
    credit = await (await client.get(f"/api/v1/clients/{her}/store-credit")).json()
    assert credit["balance"] == 250_000
    page = await (await client.get(f"/clients/{her}")).text()
    assert 'id="client-store-credit"' in page
    action, r = await _approved(client, csrf, f"/api/v1/sales/{sale['sale_id']}/exchange",
                                {"register_id": "R1", "reason": "size",
                                 "lines": [{"line_no": 2}], "new_lines": [{"item_id": "P003"}]})
    done = await r.json()
    assert r.status == 201 and action["kind"] == "exchange", done
    assert done["sale"]["tenders"][0]["type"] == "exchange"
    assert done["sale"]["client_id"] == her
