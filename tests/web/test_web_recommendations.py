"""Recommendations, tiers and the wish list on the consultation screen: the client page says
her tier, her wishes and what to show her in words; the summary API carries the tier; the
recommendations' API gives each reason as a sentence; the book browses by tier, with the
rising clients."""

from __future__ import annotations

import re

import pytest
from web_helpers import piece, sign_in

from hub.clienteling.part import part
from tests.builders import cash


@pytest.fixture
async def taste(runtime):
    async with part(runtime):
        yield runtime


async def _vip(store, runtime) -> str:
    """A client who bought three fine pieces: a VIP under the default thresholds."""
    await store.items.receive_many([
        piece(f"V{n}", price=1_000_000, sku=f"KONO-BR-{n}", category="bracelet",
              designer="Kono", collection="Jardin", description=f"Jardin bracelet {n}")
        for n in range(1, 4)] + [
        piece("E1", price=400_000, sku="KONO-EA-1", category="earrings", designer="Kono",
              collection="Jardin", description="Jardin drop earrings")], "test")
    her = (await store.clients.create({"first_name": "Hélène", "last_name": "Fontaine",
                                       "ring_sizes": {"left ring": "52"}}, "test"))["client_id"]
    for n in range(1, 4):
        await store.sales.complete(register_id="R1", actor="alex",
                                   lines=[{"item_id": f"V{n}"}], tenders=cash(1_000_000),
                                   client_id=her)
    await runtime.tiers.settled()
    return her


def _section(page: str, marker: str) -> str:
    part_ = page[page.index(marker):]
    return part_[:part_.index("</section>")] if "</section>" in part_ else part_


def _no_codes(html: str) -> None:
    text = re.sub(r"<[^>]+>", " ", html)
    for code in ("in_stock", "in_store", "web_shop", "vip", "same_collection", "complement",
                 "back_in_stock"):
        assert not re.search(rf"\b{code}\b", text), code


async def test_the_client_page_says_her_tier_wishes_and_recommendations_in_words(
        client, store, taste):
    her = await _vip(store, taste)
    await taste.wishlists.add(her, {"item_id": "P001"}, actor="alex")
    await taste.wishlists.add(her, {"style": "an emerald ring, rose gold"}, actor="alex")
    await sign_in(client, "alex")
    r = await client.get(f"/clients/{her}")
    assert r.status == 200
    page = await r.text()
    headline = page[page.index('id="client-summary"'):]
    headline = headline[:headline.index("</dl>")]
    assert re.search(r'id="client-tier"><span[^>]*>VIP</span> · since ', headline)
    wishes = _section(page, 'id="panel-wishlist"')
    assert "Solitaire ring P001" in wishes and "In stock" in wishes and "€2,500.00" in wishes
    assert "an emerald ring, rose gold" in wishes and "A style, not one piece" in wishes
    shown = _section(page, 'id="panel-recommendations"')
    assert "Jardin drop earrings" in shown
    assert "Matching earrings from the collection of her bracelet, in stock here" in shown
    assert "On her wish list, in stock here" in shown  # P001
    for html in (headline, wishes, shown):
        _no_codes(html)

    summary = await (await client.get(f"/api/v1/clients/{her}/summary")).json()
    assert summary["tier"]["tier"] == "vip" and summary["lifetime"] == 3_000_000


async def test_the_recommendations_api_gives_each_reason_as_a_sentence(client, store, taste):
    her = await _vip(store, taste)
    await sign_in(client, "alex")
    r = await client.get(f"/api/v1/clients/{her}/recommendations")
    assert r.status == 200
    body = await r.json()
    [first, *_] = body["recommendations"]
    assert (first["item_id"], first["store"], first["tag_price"]) == ("E1", None, 400_000)
    assert [x["code"] for x in first["reasons"]] == ["complement"]
    assert first["reasons"][0]["text"] == ("matching earrings from the collection of her"
                                           " bracelet")
    assert first["where"] == "in stock here"
    assert all(x["reasons"] and x["sentence"] for x in body["recommendations"])
    assert not {x["item_id"] for x in body["recommendations"]} & {"V1", "V2", "V3"}
    assert (await client.get("/api/v1/clients/CNOBODY0000/recommendations")).status == 404
    await store.clients.forget(her, "mona")
    r = await client.get(f"/api/v1/clients/{her}/recommendations")
    assert r.status == 200 and (await r.json())["recommendations"] == []


async def test_the_book_by_tier_and_the_rising_clients(client, store, taste):
    her = await _vip(store, taste)
    await sign_in(client, "alex")
    r = await client.get("/tiers")
    assert r.status == 200
    page = await r.text()
    assert 'href="/tiers"' in page  # in the menu
    listed = page[page.index('id="tier-clients"'):]
    assert f'/clients/{her}' in listed and "Hélène Fontaine" in listed
    assert "€30,000.00" in listed
    assert "VIP · 1" in page and "Prospect · 0" in page
    _no_codes(listed)
    r = await client.get("/tiers?tier=loyal")
    assert r.status == 200 and "No client in this tier yet." in await r.text()
    assert (await client.get("/tiers?tier=gold")).status == 400
    api = await (await client.get("/api/v1/tiers?tier=vip")).json()
    assert api["counts"]["vip"] == 1 and api["clients"][0]["client_id"] == her
    assert api["thresholds"]["vip"]["lifetime"] == 2_500_000
    r = await client.get("/api/v1/tiers?tier=platinum")
    assert r.status == 400 and (await r.json())["field"] == "tier"
    r = await client.get("/tiers/rising")
    assert r.status == 200 and "No rising client at the moment." in await r.text()
    assert (await (await client.get("/api/v1/tiers/rising")).json())["clients"] == []
