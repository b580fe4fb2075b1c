"""HQ's console on PostgreSQL: a representative handful of the console's tests run again with
HQ's storage on the session's private cluster (the `chain` fixture, indirectly: the whole
suite runs on SQLite) — the stores page with each store's health and a verification, stock
search across stores, clients (personal details, a merge across stores), sales by store,
conflicts resolved, the web shop's reservations (held and collected; refused for a piece
sold) — and two that cross more of HQ's tables: the messages page with each store's
delivery, and a piece reserved online while it was sold offline in the store."""

from __future__ import annotations

import html
import re

import pytest
from sync_helpers import send, until

# The console's own tests, collected here too (they run in their modules on SQLite).
from test_console import (  # noqa: F401
    test_conflict_resolution_recorded_and_seen_by_auditor,
    test_only_owner_reads_personal_details,
    test_owner_merges_the_same_client_at_two_stores,
    test_sales_of_the_day_and_a_bad_date,
    test_stock_search_finds_a_style_at_two_stores,
    test_stores_page_says_what_storage_holds,
)
from test_shop import (  # noqa: F401
    Shop,
    _ring,
    _status,
    test_a_ring_reserved_online_is_held_and_collected_in_lyon,
    test_bad_signatures_malformed_bodies_and_sold_pieces_are_refused,
)

from hub.hq import deliveries

pytestmark = pytest.mark.parametrize("chain", ["postgresql"], indirect=True)


async def test_runs_on_postgresql(chain) -> None:
    """The storage under every test of this module (a test that ran on SQLite proves
    nothing here)."""
    assert chain.keys.db is not None and chain.keys.db.startswith("postgresql")
    rows = await chain.call(chain.hq.hq.storage.query, "SELECT version() AS v")
    assert rows[0]["v"].startswith("PostgreSQL")


async def test_messages_page_shows_each_stores_delivery(chain, browser, broker) -> None:
    paris, lyon = chain.hubs["paris"], chain.hubs["lyon"]
    price = await send(chain.hq, broker, "paris", "price",
                       {"item_id": "paris-1", "tag_price": 260000, "currency": "EUR"})
    rates = await send(chain.hq, broker, "all", "rates", {"rates": [
        {"metal": "gold", "fineness": 750, "per_gram": 5480, "currency": "EUR",
         "valid_from": "2026-01-01T09:00:00Z", "valid_until": "2026-01-01T18:00:00Z"}]})

    async def delivered() -> dict[str, list[tuple[str, str]]]:
        rows = await chain.call(deliveries.outgoing, chain.hq.hq.storage)
        return {m["message_id"]: [(d["store_id"], d["status"]) for d in m["deliveries"]]
                for m in rows}

    async def all_applied() -> bool:
        await chain.settled()  # the stores' hq.message entries are what HQ reads
        return await delivered() == {price: [("paris", "applied")],
                                     rates: [("lyon", "applied"), ("paris", "applied")]}

    await until(all_applied, "both messages applied where they were sent")
    assert (await paris.store.items.get("paris-1"))["tag_price"] == 260000
    assert [r["per_gram"] for r in await lyon.rep.book.rates()] == [5480]

    b = browser()
    await b.sign_in("aude")
    status, page = await b.get("/messages")
    assert status == 200 and "Head office has sent no message yet." not in page
    cells = [[html.unescape(re.sub(r"<[^>]+>", "", c)).strip()
              for c in re.findall(r"<td>(.*?)</td>", row, re.S)]
             for row in re.findall(r"<tr>(<td>.*?)</tr>", page, re.S)]
    shown = {(c[2], c[3]) for c in cells}
    assert shown == {("paris", "paris: Applied"),
                     ("Every store", "lyon: Applied, paris: Applied")}
    assert "Price change" in [c[1] for c in cells]


async def test_a_piece_reserved_online_while_sold_in_store_is_a_conflict_at_both(
        chain, browser) -> None:
    lyon = chain.hubs["lyon"]
    await lyon.rep.stop()  # Lyon's line is down
    await lyon.sell("lyon-2")  # sold over the counter, offline
    # Meanwhile the web shop reserves it: HQ still has it in stock, so it accepts.
    status, done = await Shop(chain).post("/shop/v1/reservations",
                                          _ring("lyon", "lyon-2", "W-9"), "e9")
    assert (status, done["status"]) == (202, "accepted")
    await lyon.rep.start()  # the line is back: the sale reaches HQ, the hold reaches Lyon

    await until(lambda: lyon.rep.book.conflicts(), "the conflict at Lyon")
    [store_side] = await lyon.rep.book.conflicts()
    assert (store_side["kind"], store_side["item_id"]) == ("reservation_for_sold_piece",
                                                           "lyon-2")
    assert (await lyon.store.items.get("lyon-2"))["status"] == "sold"  # nothing undone
    await chain.settled()

    async def reservation_in_conflict() -> bool:
        return await _status(chain, "W-9") == "conflict"

    await until(reservation_in_conflict, "HQ marks the reservation in conflict")
    kinds = {(c["source"], c["store_id"], c["kind"], c["item_id"])
             for c in await chain.call(chain.hq.hq.storage.conflicts)}
    assert ("hq", "lyon", "reserved_piece_sold", "lyon-2") in kinds
    assert ("lyon", "lyon", "reservation_for_sold_piece", "lyon-2") in kinds

    b = browser()
    await b.sign_in("olga")
    status, page = await b.get("/conflicts")
    assert status == 200 and "A piece reserved online was sold" in page
    card = next(c for c in page.split('<article class="card"')[1:]
                if "A piece reserved online was sold" in c)
    assert "lyon-2" in card and "Store lyon" in card
