"""Her loyalty points on her page's headline, in the summary the cart shows, and as a tender
the floor offers while the loyalty part runs."""

from __future__ import annotations

from web_helpers import sign_in

from hub.clienteling.loyalty import Loyalty, LoyaltyRules
from tests.builders import cash, piece


async def test_her_points_show_on_her_page_and_at_the_counter(client, store, runtime):
    loyalty = Loyalty(store.accounts, LoyaltyRules(), "EUR")
    store.sales.extensions.append(loyalty)  # what the layer's part does at start
    runtime.loyalty = loyalty
    her = (await store.clients.create({"first_name": "Hélène", "last_name": "Fontaine"},
                                      "t"))["client_id"]
    await store.items.receive_many([piece("W-1", tag_price=123_400)], "t")
    await store.sales.complete(register_id="R1", actor="alex", lines=[{"item_id": "W-1"}],
                               tenders=cash(123_400), client_id=her)
    await sign_in(client, "alex")
    summary = await (await client.get(f"/api/v1/clients/{her}/summary")).json()
    assert summary["loyalty"]["points"] == 1_234
    page = await (await client.get(f"/clients/{her}")).text()
    points = page[page.index('id="client-points"'):][:160]
    assert "1,234" in points and "€61.70" in points
    floor = await (await client.get("/floor")).text()
    assert '<option value="loyalty">Loyalty points</option>' in floor
    store.sales.extensions.clear()
    floor = await (await client.get("/floor")).text()
    assert 'value="loyalty"' not in floor
