"""Money at the register: a discount typed as a percentage, an approved discount kept (and
asked again) when the basket changes, a card tender above what is due refused when taken,
a price above the store's bound, and the change a cash client gets back on the receipt."""

from __future__ import annotations

from test_web_approvals import CART, _approve
from web_helpers import sign_in


async def _cart(client, h, *serials):
    for serial in serials:
        r = await client.post(CART + "/lines", json={"item_id": serial}, headers=h)
        assert r.status == 200, await r.text()


async def _approved(client, csrf, method, path, body):
    h = {"X-CSRF-Token": csrf}
    r = await client.request(method, path, json=body, headers=h)
    assert r.status == 403 and (await r.json())["error"] == "approval_needed"
    approval = await (await _approve(client, csrf, (await r.json())["action"])).json()
    return await client.request(method, path, json={**body, "approval_id":
                                                    approval["approval_id"]}, headers=h)


async def test_a_discount_by_percentage_is_of_the_basket(client):
    h = {"X-CSRF-Token": await sign_in(client, "alex")}
    await _cart(client, h, "P001", "P002")  # 2 × 2,500.00
    r = await client.put(CART + "/discount", json={"percent_bp": 500}, headers=h)  # 5 %
    cart = await r.json()
    assert r.status == 200 and cart["discount"] == 25_000 and cart["total"] == 475_000
    r = await client.put(CART + "/discount", json={"percent_bp": 500, "amount": 1}, headers=h)
    assert r.status == 400  # one or the other
    r = await client.put(CART + "/discount", json={"percent_bp": 10_001}, headers=h)
    assert r.status == 400 and (await r.json())["field"] == "percent_bp"


async def test_a_price_change_keeps_the_approved_discount_and_asks_again(client, store):
    csrf = await sign_in(client, "alex")
    h = {"X-CSRF-Token": csrf}
    await _cart(client, h, "P001", "P002")
    r = await _approved(client, csrf, "PUT", CART + "/discount", {"amount": 100_000})  # 20 %
    assert r.status == 200 and (await r.json())["discount_pending"] is None
    # The basket shrinks: the same amount is now a bigger share. It stays, visibly waiting.
    r = await _approved(client, csrf, "PUT", CART + "/lines/2/price", {"unit_price": 150_000})
    cart = await r.json()
    assert r.status == 200 and cart["discount"] == 100_000
    assert cart["discount_pending"]["kind"] == "discount"
    await client.post(CART + "/tenders", json={"type": "cash", "amount": cart["due"]}, headers=h)
    seq = store.ledger.seq
    r = await client.post(CART + "/complete", json={}, headers=h)
    assert r.status == 403 and (await r.json())["error"] == "approval_needed"
    assert store.ledger.seq == seq  # nothing sold without the manager
    r = await _approved(client, csrf, "POST", CART + "/complete", {})
    assert r.status == 201 and (await r.json())["sale"]["discount"] == 100_000


async def test_a_card_above_what_is_due_is_refused_when_taken(client):
    h = {"X-CSRF-Token": await sign_in(client, "alex")}
    await _cart(client, h, "P001")
    r = await client.post(CART + "/tenders", json={"type": "card", "amount": 250_001,
                                                   "last4": "4242"}, headers=h)
    body = await r.json()
    assert r.status == 409 and body["field"] == "amount" and "€2,500.00" in body["detail"]
    assert "250001" not in body["detail"]  # words, never cents
    r = await client.post(CART + "/tenders", json={"type": "cash", "amount": 300_000},
                          headers=h)
    assert r.status == 200 and (await r.json())["change"] == 50_000


async def test_a_price_above_the_stores_bound_is_a_typing_mistake(client, store):
    csrf = await sign_in(client, "alex")
    await _cart(client, {"X-CSRF-Token": csrf}, "P001")
    too_much = store.config.max_line_price + 1
    r = await client.put(CART + "/lines/1/price", json={"unit_price": too_much},
                         headers={"X-CSRF-Token": csrf})
    assert r.status == 400 and (await r.json())["field"] == "unit_price"


async def test_the_receipt_shows_the_change_given(client):
    h = {"X-CSRF-Token": await sign_in(client, "alex")}
    await _cart(client, h, "P003")
    await client.post(CART + "/tenders", json={"type": "cash", "amount": 260_000}, headers=h)
    done = await (await client.post(CART + "/complete", json={}, headers=h)).json()
    assert "Change given" in done["receipt"]["text"] and "€100.00" in done["receipt"]["text"]
    page = await (await client.get(f"/sales/{done['sale']['sale_id']}")).text()
    assert "Change given" in page
