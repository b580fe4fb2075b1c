"""Search over HTTP: the page with its total and next offset, the stock page's count and
Previous/Next links, and a sold piece's SKU scanned at the register."""

from __future__ import annotations

import asyncio
import html
import re

from web_helpers import piece, sign_in

from tests.builders import cash


async def test_the_items_api_pages_with_a_total(client):
    await sign_in(client, "alex")
    r = await client.get("/api/v1/items?limit=2")
    assert r.status == 200
    body = await r.json()
    assert [i["item_id"] for i in body["items"]] == ["P001", "P002"]
    assert {k: v for k, v in body.items() if k != "items"} == {
        "count": 2, "total": 5, "total_is_capped": False, "offset": 0, "limit": 2,
        "next_offset": 2}
    seen, offset = [], 0
    while offset is not None:
        body = await (await client.get(f"/api/v1/items?limit=2&offset={offset}")).json()
        seen += [i["item_id"] for i in body["items"]]
        assert body["total"] == 5 and body["count"] == len(body["items"])
        offset = body["next_offset"]
    assert seen == ["P001", "P002", "P003", "P004", "P005"]
    # Words in any order, with a filter; a code typed in full comes first.
    body = await (await client.get("/api/v1/items?q=ring%20solitaire&status=in_stock")).json()
    assert body["total"] == 5 and body["next_offset"] is None
    body = await (await client.get("/api/v1/items?q=sku-p004")).json()
    assert body["items"][0]["item_id"] == "P004" and body["total"] == 1


async def test_fts_syntax_in_the_query_string_is_just_text(client):
    await sign_in(client, "alex")
    for q in ('"', "ring*", "NEAR(", "solitaire AND", "description:ring", "(((", "-ring", "^"):
        r = await client.get("/api/v1/items", params={"q": q})
        assert r.status == 200, (q, await r.text())
    for raw in ("%00", "ring%00solitaire", "%FF%FE", "%ED%A0%80"):  # NUL, bytes not UTF-8
        r = await client.get("/api/v1/items?q=" + raw)
        assert r.status == 200, (raw, await r.text())


async def test_the_stock_page_counts_and_pages_keeping_its_filters(client, store):
    await store.items.receive_many([piece(f"P{n:03d}") for n in range(6, 13)], actor="test")
    await sign_in(client, "alex")
    r = await client.get("/items?category=ring&q=solitaire&limit=5")
    assert r.status == 200
    page = await r.text()
    assert "12 pieces; showing 1–5" in page
    links = dict(re.findall(r'rel="(prev|next)" href="([^"]+)"', page))
    assert set(links) == {"next"}
    nxt = html.unescape(links["next"])
    assert nxt == "/items?category=ring&q=solitaire&limit=5&offset=5"
    page = await (await client.get(nxt)).text()
    assert "12 pieces; showing 6–10" in page and "P006" in page
    links = {k: html.unescape(v) for k, v in
             re.findall(r'rel="(prev|next)" href="([^"]+)"', page)}
    assert links == {"prev": "/items?category=ring&q=solitaire&limit=5",
                     "next": "/items?category=ring&q=solitaire&limit=5&offset=10"}
    page = await (await client.get(links["next"])).text()
    assert "showing 11–12" in page and 'rel="next"' not in page
    page = await (await client.get("/items?q=nothing-like-this")).text()
    assert "No pieces match." in page and "pieces;" not in page


async def test_a_sold_pieces_sku_says_it_was_sold_and_on_which_sale(client, store, runtime):
    sale = await store.sales.complete(register_id="R1", actor="alex",
                                      lines=[{"item_id": "P002"}], tenders=cash(250_000))
    csrf = await sign_in(client, "alex")
    r = await client.post("/api/v1/registers/R1/cart/lines", json={"code": "SKU-P002"},
                          headers={"X-CSRF-Token": csrf})
    assert r.status == 409
    body = await r.json()
    assert body["error"] == "item_sold"
    assert body["detail"] == f"Piece P002 was already sold (sale {sale['sale_id']})"
    looked = await (await client.get("/api/v1/lookup?code=SKU-P002")).json()
    assert looked["item_id"] == "P002" and looked["status"] == "sold"
    assert looked["status_ref"] == sale["sale_id"]
    # The same at a scanner bound to the register.
    refused = asyncio.get_running_loop().create_future()
    unlisten = runtime.bus.listen("cart.scan_refused", lambda e: refused.done()
                                  or refused.set_result(e.data))
    try:
        runtime.bus.publish("device.scan", device="scanner-1", register="R1", code="SKU-P002",
                            symbology="code128")
        data = await asyncio.wait_for(refused, 10)
    finally:
        unlisten()
    assert data["error"] == "item_sold" and sale["sale_id"] in data["detail"]
    # A SKU nobody has is still "no piece".
    r = await client.post("/api/v1/registers/R1/cart/lines", json={"code": "SKU-NOPE"},
                          headers={"X-CSRF-Token": csrf})
    assert r.status == 404 and "No piece with serial, tag or SKU" in (await r.json())["detail"]


async def test_an_in_stock_piece_of_a_style_wins_over_a_sold_one(client, store):
    await store.items.receive_many([piece("Q1", sku="STYLE-1"), piece("Q2", sku="STYLE-1")],
                                   actor="test")
    await store.sales.complete(register_id="R1", actor="alex", lines=[{"item_id": "Q1"}],
                               tenders=cash(250_000))
    csrf = await sign_in(client, "alex")
    r = await client.post("/api/v1/registers/R1/cart/lines", json={"code": "STYLE-1"},
                          headers={"X-CSRF-Token": csrf})
    assert r.status == 200
    assert [ln["item_id"] for ln in (await r.json())["lines"]] == ["Q2"]


async def test_the_query_string_is_read_once_and_exactly(client, store):
    # A designer with an ampersand, a value with a plus sign: each reaches the search as the
    # browser sent it (encoded once, decoded once), whether the filters are read anew or
    # come from the memo of query strings already read.
    await store.items.receive_many([
        piece("P100", designer="Halden & Fils"), piece("P101", designer="Halden"),
        piece("P102", designer="A+B Atelier"), piece("P103", designer="Atelier 50%ABC")],
        actor="test")
    await sign_in(client, "alex")
    for _ in range(2):
        for designer, expected in (("Halden & Fils", ["P100"]), ("Halden", ["P101"]),
                                   ("A+B Atelier", ["P102"]), ("Atelier 50%ABC", ["P103"])):
            r = await client.get("/api/v1/items", params={"designer": designer})
            assert [i["item_id"] for i in (await r.json())["items"]] == expected, designer
        r = await client.get("/api/v1/items?designer=Halden+%26+Fils")  # '+' for a space
        assert [i["item_id"] for i in (await r.json())["items"]] == ["P100"]
