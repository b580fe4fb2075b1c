from web_helpers import sign_in


async def test_sale_through_the_api(client):
    csrf = await sign_in(client, "alex")
    h = {"X-CSRF-Token": csrf}
    r = await client.post("/api/v1/registers/R1/cart/lines", json={"code": "P001"}, headers=h)
    assert r.status == 200, await r.text()
    cart = await r.json()
    assert cart["total"] == 250_000
    r = await client.post("/api/v1/registers/R1/cart/tenders", json={"type": "cash", "amount": 50_000}, headers=h)
    r = await client.post("/api/v1/registers/R1/cart/tenders", json={"type": "card", "amount": 200_000, "last4": "4242"}, headers=h)
    assert (await r.json())["due"] == 0
    r = await client.post("/api/v1/registers/R1/cart/complete", json={}, headers=h)
    assert r.status == 201, await r.text()
    body = await r.json()
    print(body["receipt"]["text"])
    r = await client.get("/floor")
    assert r.status == 200, await r.text()
