"""The rates screen and the price function's API: rates with their validity in words, a held
rate move a manager accepts, the tags whose price moved, a quote from the floor sold at its
price, a stale rate's sale approved by a manager."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from test_web_approvals import CART, _approve
from web_helpers import piece, sign_in

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
CHAIN = {"making_per_gram": 1500}


def rates(msg_id: str, per_gram: int) -> dict:
    return {"id": msg_id, "type": "rates", "chain": "maison", "store": "test-01",
            "issued_at": "2026-12-02T08:00:00Z", "body": {"rates": [
                {"metal": "gold", "fineness": 750, "per_gram": per_gram, "currency": "EUR",
                 "valid_from": "2026-12-02T08:00:00Z", "valid_until": "2026-12-02T18:00:00Z"}]}}


async def _gold(store):
    store.prices.now = lambda: NOW
    await store.hq.apply(rates("m-rates-01", 8240), "sig")
    await store.items.receive(piece("G1", description="Gold chain", category="necklace",
                                    metal="gold", fineness=750, metal_weight_mg=18_400,
                                    stones=[], tag_price=0, pricing=CHAIN), "test")


async def test_the_rates_screen_holds_accepts_and_lists_tags(client, store):
    await _gold(store)
    await store.hq.apply(rates("m-rates-02", 9500), "sig")  # +15 %: held
    csrf = await sign_in(client, "alex")
    page = await client.get("/rates")
    html = await page.text()
    assert page.status == 200
    assert "Metal rates" in html and "€82.40" in html and "€95.00" in html
    assert "A manager accepts them here." in html and "accept-rate" not in html
    assert "Every tag shows its piece’s price." in html
    r = await client.post("/api/v1/prices/held/m-rates-02/accept", json={},
                          headers={"X-CSRF-Token": csrf})
    assert r.status == 403  # an associate does not accept rates

    csrf = await sign_in(client, "mona")
    assert "accept-rate" in await (await client.get("/rates")).text()
    r = await client.post("/api/v1/prices/held/m-rates-02/accept", json={},
                          headers={"X-CSRF-Token": csrf})
    assert r.status == 200, await r.text()
    board = await (await client.get("/api/v1/prices/rates")).json()
    assert board["held"] == [] and board["rates"][0]["per_gram"] == 9500
    assert [t["item_id"] for t in board["tags"]] == ["G1"]
    html = await (await client.get("/rates")).text()
    assert "print-tags" in html and "Gold chain" in html
    item = await (await client.get("/items/G1")).text()
    assert "Priced by the gram" in item and "Repriced by HQ rates of" in item
    # no devices layer running in this test: a clean refusal, nothing recorded
    r = await client.post("/api/v1/prices/tags/print", json={}, headers={"X-CSRF-Token": csrf})
    assert r.status == 503
    r = await client.post("/api/v1/prices/held/nope/accept", json={},
                          headers={"X-CSRF-Token": csrf})
    assert r.status == 404


async def test_a_quote_sells_at_its_price_and_a_stale_rate_asks_a_manager(client, store):
    await _gold(store)
    csrf = await sign_in(client, "alex")
    h = {"X-CSRF-Token": csrf}
    r = await client.post("/api/v1/items/G1/quote", json={}, headers=h)
    quote = await r.json()
    assert r.status == 201 and quote["unit_price"] == 179_200
    await store.hq.apply(rates("m-rates-02", 8600), "sig")
    r = await client.post(CART + "/lines", json={"item_id": "G1", "quote_id": quote["quote_id"]},
                          headers=h)
    cart = await r.json()
    assert r.status == 200 and cart["lines"][0]["unit_price"] == 179_200
    await client.delete(CART, headers=h)

    store.prices.now = lambda: NOW + timedelta(hours=10)  # the rates ended at 18:00
    page = await (await client.get("/items/G1")).text()
    assert "past its validity" in page
    cart = await (await client.post(CART + "/lines", json={"item_id": "G1"}, headers=h)).json()
    assert cart["lines"][0]["stale"] is True
    await client.post(CART + "/tenders", json={"type": "cash", "amount": cart["due"]}, headers=h)
    r = await client.post(CART + "/complete", json={}, headers=h)
    body = await r.json()
    assert r.status == 403 and body["error"] == "approval_needed"
    assert body["action"]["kind"] == "stale_rate"
    approval = await (await _approve(client, csrf, body["action"])).json()
    r = await client.post(CART + "/complete", json={"approval_id": approval["approval_id"]},
                          headers=h)
    assert r.status == 201, await r.text()
    sale = (await r.json())["sale"]
    assert sale["lines"][0]["rate"]["message_id"] == "m-rates-02"
