"""The demo store's gift cards and store credit: three cards sold this morning (one half
spent on a piece), a client with store credit from a return, and an exchange — each through
the services the counter uses, so the gift cards page, her page and the Z report show them."""

from __future__ import annotations

from typing import Any

from hub.giftcards.part import giftcards_of
from hub.store import Store

CARDS = (50_000, 100_000, 25_000)  # minor units: 500, 1,000 and 250 EUR


async def _in_stock(store: Store, low: int, high: int, limit: int) -> list[dict[str, Any]]:
    rows = await store.ledger.fetch(
        "SELECT item_id, tag_price FROM items WHERE status = 'in_stock' AND tag_price BETWEEN"
        " ? AND ? AND pricing IS NULL ORDER BY tag_price, item_id LIMIT ?", (low, high, limit))
    return [dict(r) for r in rows]


async def demo_giftcards(store: Store, associate: str, manager: str) -> None:
    """Once: a store that sold gift cards is left as it is."""
    if await store.ledger.fetch_one("SELECT 1 FROM gift_cards LIMIT 1") is not None:
        return
    clients = store.clients.names.book_of(associate)[12:14]
    pieces = await _in_stock(store, 60_000, 400_000, 4)
    if len(clients) < 2 or len(pieces) < 4:
        return
    with giftcards_of(store) as cards:
        codes = []
        for amount in CARDS:
            code = cards.new_code()
            await store.sales.complete(
                register_id="R1", actor=associate, tenders=[{"type": "cash", "amount": amount}],
                lines=[{"service": f"giftcard:{code}", "unit_price": amount}])
            codes.append(code)
        # Half of the second card spent on a piece, the rest by card.
        first = pieces[0]
        await store.sales.complete(
            register_id="R1", actor=associate, lines=[{"item_id": first["item_id"]}],
            tenders=[{"type": "gift_card", "amount": CARDS[1] // 2, "number": codes[1]},
                     {"type": "card", "amount": first["tag_price"] - CARDS[1] // 2,
                      "brand": "Visa", "last4": "4242", "auth_code": "D3M0GC"}])
        # She brings a piece back: its refund becomes her store credit.
        her, other = clients
        sold = await store.sales.complete(
            register_id="R1", actor=associate, client_id=her,
            lines=[{"item_id": pieces[1]["item_id"]}],
            tenders=[{"type": "card", "amount": pieces[1]["tag_price"], "brand": "Visa",
                      "last4": "1881", "auth_code": "D3M0SC"}])
        await store.sales.return_lines(sold["sale_id"], register_id="R1", actor=manager,
                                       reason="a gift she already had",
                                       refund_to="store_credit")
        # Another exchanges a piece for a dearer one, paying the difference in cash.
        bought = await store.sales.complete(
            register_id="R1", actor=associate, client_id=other,
            lines=[{"item_id": pieces[2]["item_id"]}],
            tenders=[{"type": "cash", "amount": pieces[2]["tag_price"]}])
        dearer = pieces[3]
        await store.sales.exchange(
            bought["sale_id"], register_id="R1", actor=manager, reason="another size",
            lines_back=[{"line_no": 1}], new_lines=[{"item_id": dearer["item_id"]}],
            tenders=[{"type": "cash", "amount": dearer["tag_price"] - pieces[2]["tag_price"]}]
            if dearer["tag_price"] > pieces[2]["tag_price"] else None)
