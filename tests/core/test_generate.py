"""The generator: believable, exactly priced, reproducible stock, clients and sales."""

from __future__ import annotations

import functools
import re
from datetime import UTC, date, datetime, timedelta
from random import Random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.core.clients import validate_profile
from hub.core.items import validate_piece
from hub.generate import (
    CATEGORY_CODES,
    CLARITIES_FINE,
    COLOURED_SHAPES,
    COLOURS_FINE,
    DIAMOND_LAB,
    DIAMOND_SHAPES,
    HOUSE_CODES,
    HOUSES,
    MAKING,
    PEARL_SHAPE,
    StockWords,
    Workshop,
    generate,
    history,
    house_code,
    make_client,
    make_piece,
    make_style,
    pearl_carat_cents,
    pearl_mm_tenths,
    piece_of,
    price_piece,
    tag_step,
)
from hub.store import Store

EUR = 100  # minor units per euro
GEMSTONES = {"diamond", "sapphire", "ruby", "emerald"}
SKU = re.compile(r"^[A-Z]{4}-[A-Z]{2}-\d{4,}$")
CARATS_OF_A_PEARL = re.compile(r"\d+\.\d\d ct [^,]*pearl")
MM = re.compile(r"(\d+(?:\.\d)?)(?:-(\d+(?:\.\d)?))? mm")


def stock(seed: int, count: int) -> list[dict[str, Any]]:
    return Workshop(Random(seed), "standard").pieces(count)


@functools.cache
def sample() -> list[dict[str, Any]]:
    """A boutique's worth of stock, made once for the sanity bounds."""
    return stock(1, 6_000)


def centre(piece: dict[str, Any]) -> dict[str, Any] | None:
    return piece["stones"][0] if piece["stones"] else None


# -- the price of a piece -----------------------------------------------------------------------

def test_a_price_is_integers_from_its_parts():
    ring = {"category": "ring", "designer": "Studio Ilse", "metal": "gold", "fineness": 750,
            "metal_weight_mg": 4_000,
            "stones": [{"type": "diamond", "carat_cents": 100, "shape": "round", "colour": "G",
                        "clarity": "VS1", "lab": "GIA"}]}
    price = price_piece(ring)
    # 4 g of 18k at 95.00 EUR per fine gram; a ring's making and one centre setting at
    # Studio Ilse's 0.9; a 1.00 ct G VS1 round at 5,200 EUR with its GIA certificate.
    assert price.metal == 4_000 * 750 * 9_500 // 1_000_000 == 28_500
    assert price.making == (12_000 + 4_500) * 9 // 10
    assert price.stones == 520_000 + 11_000
    assert price.cost == price.metal + price.making + price.stones
    retail = ((price.metal + price.making) * 25_000 + price.stones * 17_000) // 10_000
    assert retail == 1_011_075 and price.tag_price == 10_200 * EUR  # up to the next 100
    assert all(isinstance(v, int) for v in (price.metal, price.making, price.stones,
                                            price.cost, price.tag_price))
    # The house's premium is on the making: the same ring from Maison Aurore costs more.
    assert price_piece({**ring, "designer": "Maison Aurore"}).cost > price.cost


@pytest.mark.parametrize("currency, minor", [("EUR", 100), ("JPY", 1), ("KWD", 1_000)])
def test_prices_are_in_the_store_currency_minor_units(currency, minor):
    for piece in stock(3, 200):
        price = price_piece(piece, currency)
        assert price.tag_price % tag_step(price.tag_price - 1, minor) == 0
        assert price.tag_price >= price.cost > 0
        assert abs(price.cost - price_piece(piece).cost * minor // EUR) <= 3 * minor


def test_tags_are_rounded_the_way_a_boutique_rounds():
    assert [tag_step(a * EUR, EUR) // EUR for a in (990, 1_000, 9_999, 10_000, 60_000)] == \
        [10, 50, 50, 100, 500]
    for piece in sample():
        tag = piece["tag_price"]
        assert tag % tag_step(tag - 1, EUR) == 0, piece


def test_the_cheapest_possible_one_carat_solitaire_is_above_5000_eur():
    """Every grade, cut, lab, house and metal a 1.00 ct centre diamond can be made in."""
    cheapest = min(
        price_piece({"category": category, "designer": house.name, "metal": metal,
                     "fineness": fineness, "metal_weight_mg": 1_500,
                     "stones": [{"type": "diamond", "carat_cents": 100, "shape": shape,
                                 "colour": colour, "clarity": clarity, "lab": lab}]}).tag_price
        for category in ("ring", "pendant") for house in HOUSES
        for metal, fineness in (("gold", 750), ("palladium", 950), ("platinum", 950))
        for shape, _ in DIAMOND_SHAPES for colour, _ in COLOURS_FINE
        for clarity, _ in CLARITIES_FINE for lab in DIAMOND_LAB)
    assert cheapest > 5_000 * EUR


def test_a_pearl_is_sized_in_millimetres_and_weighed_from_its_size():
    for tenths in range(30, 251):
        assert pearl_mm_tenths(pearl_carat_cents(tenths)) == tenths
    assert pearl_carat_cents(85) == 436  # an 8.5 mm pearl weighs about 0.87 g


# -- the stock ----------------------------------------------------------------------------------

def test_sanity_bounds_a_jeweller_expects():
    pieces = sample()
    silver = [p["tag_price"] for p in pieces if p.get("metal") == "silver"]
    assert silver and max(silver) <= 3_000 * EUR
    solitaires = [p for p in pieces if "solitaire" in p["description"]
                  and centre(p)["type"] == "diamond" and centre(p)["carat_cents"] >= 100]
    assert solitaires and min(p["tag_price"] for p in solitaires) > 5_000 * EUR
    one_carat = [p["tag_price"] for p in solitaires if "solitaire ring" in p["description"]
                 and centre(p)["carat_cents"] < 110 and centre(p)["colour"] == "G"
                 and centre(p)["clarity"] == "VS1"]
    assert one_carat and all(6_000 * EUR <= t <= 12_000 * EUR for t in one_carat)
    bands = [p["tag_price"] for p in pieces if "wedding band" in p["description"]
             and p.get("karat") == 18]
    assert bands and all(500 * EUR <= t <= 2_000 * EUR for t in bands)
    emeralds = [p["tag_price"] for p in pieces if p["category"] == "ring" and p["stones"]
                and centre(p)["type"] == "emerald" and centre(p)["carat_cents"] >= 300]
    assert emeralds and min(emeralds) >= 15_000 * EUR
    tags = sorted(p["tag_price"] for p in pieces)
    assert 1_500 * EUR <= tags[len(tags) // 2] <= 8_000 * EUR  # a luxury boutique's median
    assert tags[-1] <= 500_000 * EUR


def test_pieces_of_one_style_share_a_readable_ascii_sku():
    assert house_code("Kōno") == "KONO" and house_code("Maison Aurore") == "AURO"
    assert len(set(HOUSE_CODES.values())) == len(HOUSES)
    by_sku: dict[str, list[dict[str, Any]]] = {}
    for piece in sample():
        assert SKU.match(piece["sku"]) and piece["sku"].isascii(), piece["sku"]
        assert piece["sku"].startswith(f"{HOUSE_CODES[piece['designer']]}-"
                                       f"{CATEGORY_CODES[piece['category']]}-")
        by_sku.setdefault(piece["sku"], []).append(piece)
    copies = [len(group) for group in by_sku.values()]
    assert max(copies) == 3 and 0.1 < sum(c > 1 for c in copies) / len(copies) < 0.4
    for group in by_sku.values():
        same = {(p["description"], p["cost"], p["tag_price"], p.get("metal_weight_mg"),
                 tuple((s["type"], s["carat_cents"], s.get("colour")) for s in p["stones"]))
                for p in group}
        assert len(same) == 1, group[0]["sku"]
        certificates = [s["certificate"] for p in group for s in p["stones"] if s.get("lab")]
        assert len(certificates) == len(set(certificates))  # every stone has its own


def test_make_piece_makes_one_piece_of_a_one_off_style():
    piece = make_piece(Random(4), 42, "standard")
    assert piece["item_id"] == "LP-000042" and piece["sku"].endswith("-0042")
    validate_piece(piece, {"standard"}, "standard")
    assert price_piece(piece).tag_price == piece["tag_price"]


def sizes_in(description: str) -> list[tuple[int, int]]:
    """The sizes a description gives in mm ('8.5 mm', '9-11 mm'), in tenths of a mm."""
    def tenths(text: str) -> int:
        whole, _, tenth = text.partition(".")
        return int(whole) * 10 + int(tenth or 0)

    return [(tenths(lo), tenths(hi or lo)) for lo, hi in MM.findall(description)]


def check_piece(piece: dict[str, Any]) -> None:
    """What every generated piece must be, whatever the seed."""
    validate_piece(piece, {"standard"}, "standard")
    price = price_piece(piece)
    assert (price.cost, price.tag_price) == (piece["cost"], piece["tag_price"])
    assert piece["sku"].isascii() and SKU.match(piece["sku"])
    assert piece["category"] in MAKING
    description, stones = piece["description"], piece["stones"]
    assert not description[0].islower() and "  " not in description
    assert not CARATS_OF_A_PEARL.search(description), description
    if stones and all(s["type"] == "pearl" for s in stones):
        assert " ct" not in description and " mm" in description, description
    for stone in stones:
        if stone["type"] == "pearl":
            assert stone["shape"] in PEARL_SHAPE and not stone.get("lab")
            size = pearl_mm_tenths(stone["carat_cents"])
            assert any(lo <= size <= hi for lo, hi in sizes_in(description)), description
        elif stone["type"] != "diamond":
            assert stone["shape"] in dict(COLOURED_SHAPES[stone["type"]]) | {"cabochon": 1}
        if stone.get("lab"):
            assert stone.get("certificate"), stone
    if piece["category"] == "loose stone":
        assert len(stones) == 1 and stones[0]["type"] in GEMSTONES
        assert stones[0].get("lab") and stones[0].get("certificate")
        assert piece.get("metal") is None and piece["location"] == "safe"
    else:
        assert piece["metal"] and piece["metal_weight_mg"] > 0
    if piece["category"] == "watch":
        assert piece["metal"] in ("steel", "titanium", "gold", "platinum")
        assert all(s["type"] == "diamond" and s["carat_cents"] <= 2 for s in stones)
        assert sum(s["carat_cents"] for s in stones) <= 100
    if piece.get("metal") == "silver" and not any(s["type"] == "pearl" for s in stones):
        # A strand of fine pearls on a silver clasp is priced by its pearls (seed 708).
        assert piece["tag_price"] <= 3_000 * EUR
    if piece["ownership"] != "owned":
        assert piece["vendor"] == piece["designer"]


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=0, max_value=2**32))
def test_any_seed_makes_valid_exactly_priced_pieces(seed):
    pieces = stock(seed, 60)
    assert [p["item_id"] for p in pieces] == [f"LP-{n:06d}" for n in range(1, 61)]
    for piece in pieces:
        check_piece(piece)


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=0, max_value=2**32))
def test_any_seed_makes_plausible_clients(seed):
    rng = Random(seed)
    words = StockWords(designers=("Kōno", "Verdier"), metals=("platinum", "gold"),
                       stones=("diamond", "pearl"), colours=("rose", "white"))
    for n in range(20):
        profile = validate_profile(make_client(rng, n, words))
        assert profile["emails"][0].endswith("@example.com") and profile["emails"][0].isascii()
        assert profile["phones"][0].startswith("+33 6 39 98 ")
        assert "rue du Faubourg" in profile["addresses"][0]["line1"]
        for finger, size in profile["ring_sizes"].items():
            assert 44 <= int(size) <= 72, (finger, size)
        born = date.fromisoformat(profile["dates"]["birthday"])
        assert 1950 <= born.year <= 2001
        married = profile["dates"].get("anniversary")
        if married and not married.startswith("--"):
            assert born.year + 18 <= date.fromisoformat(married).year <= 2025
        if married and n % 2 == 0:  # the partner: same home and anniversary, of an age
            partner = validate_profile(make_client(rng, n + 100, words, partner=profile))
            assert partner["addresses"] == profile["addresses"]
            assert partner["dates"]["anniversary"] == married
            partner_born = date.fromisoformat(partner["dates"]["birthday"]).year
            assert abs(partner_born - born.year) <= 6
            if not married.startswith("--"):
                assert partner_born + 18 <= int(married[:4])
        prefs = profile["preferences"]
        assert set(prefs["designers"]) <= set(words.designers)
        assert set(prefs["metals"]) <= set(words.metals)
        assert set(prefs["stones"]) <= set(words.stones)
        assert set(prefs.get("colours", ())) <= set(words.colours)


# -- through the store --------------------------------------------------------------------------

async def books(store: Store) -> dict[str, Any]:
    """Everything the generator wrote, as the projections and the client book hold it."""
    fetch = store.ledger.fetch

    async def rows(sql: str) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in await fetch(sql)]

    client_ids = [r[0] for r in await rows("SELECT client_id FROM clients ORDER BY client_id")]
    return {
        "items": await rows("SELECT * FROM items ORDER BY item_id"),
        "stones": await rows("SELECT * FROM item_stones ORDER BY item_id, pos"),
        "clients": [await store.clients.get(c) for c in client_ids],
        "sales": await rows("SELECT sale_id, register_id, receipt_no, associate, client_id,"
                            " subtotal, discount, tax, total, status FROM sales ORDER BY sale_id"),
        "lines": await rows("SELECT * FROM sale_lines ORDER BY sale_id, line_no"),
        "tenders": await rows("SELECT * FROM sale_tenders ORDER BY sale_id, pos"),
        "returns": await rows("SELECT return_id, sale_id, register_id, actor, refund, reason"
                              " FROM returns ORDER BY return_id"),
    }


async def generated(make_config, name: str, seed: int, **counts: int) -> dict[str, Any]:
    store = await Store.open(make_config(name))
    try:
        await store.staff.enroll("sophie", "Sophie Test", "associate", "1111", actor="test")
        await store.staff.enroll("marc", "Marc Test", "manager", "2222", actor="test")
        made = await generate(store, seed=seed, **counts)
        assert made == {"pieces": counts["items"], "clients": counts["clients"],
                        "sales": counts["sales"]}
        return await books(store)
    finally:
        await store.close()


async def test_the_same_seed_gives_the_same_books(make_config):
    counts = {"items": 160, "clients": 40, "sales": 80}
    first = await generated(make_config, "a", 7, **counts)
    again = await generated(make_config, "b", 7, **counts)
    other = await generated(make_config, "c", 8, **counts)
    assert first == again
    assert first["items"] != other["items"] and first["sales"] != other["sales"]
    assert len(first["returns"]) == 2  # 2-3 % of the sales come back


async def test_generated_books_hold_together(store):
    await store.staff.enroll("sophie", "Sophie Test", "associate", "1111", actor="test")
    await store.staff.enroll("marc", "Marc Test", "manager", "2222", actor="test")
    await generate(store, items=300, clients=60, sales=120, seed=3)
    pieces = {p["item_id"]: p for p in [await store.items.get(r["item_id"]) for r in
                                         await store.ledger.fetch("SELECT item_id FROM items")]}
    for piece in pieces.values():  # the price is recomputed from the books, not from memory
        price = price_piece(piece)
        assert (price.cost, price.tag_price) == (piece["cost"], piece["tag_price"])
    designers = {p["designer"] for p in pieces.values()}
    stone_types = {s["type"] for p in pieces.values() for s in p["stones"]}
    for row in await store.ledger.fetch("SELECT client_id FROM clients"):
        prefs = (await store.clients.get(row["client_id"]))["profile"]["preferences"]
        assert set(prefs.get("designers", [])) <= designers
        assert set(prefs.get("stones", [])) <= stone_types
    sales = [await store.sales.get(r["sale_id"]) for r in await store.sales.recent(500)]
    assert len(sales) == 120 and {s["associate"] for s in sales} == {"sophie", "marc"}
    sizes = [len(s["lines"]) for s in sales]
    assert set(sizes) == {1, 2} and sizes.count(1) > 0.8 * len(sizes)
    for sale in sales:
        lines = [pieces[ln["item_id"]] for ln in sale["lines"]]
        if len(lines) == 2:  # a matching set: one house, one collection
            assert len({(p["designer"], p["collection"]) for p in lines}) == 1
        assert sum(t["amount"] for t in sale["tenders"]) >= sale["total"]
        for tender in sale["tenders"]:
            if tender["type"] == "cash":
                assert tender["amount"] <= 1_000 * EUR  # the French cash ceiling
            if tender["type"] == "bank_transfer":
                assert sale["total"] > 1_000 * EUR
    assert 0 < sum(s["discount"] > 0 for s in sales) < 0.25 * len(sales)
    returned = [s for s in sales if s["returns"]]
    assert len(returned) == 3 and all(s["status"] == "returned" for s in returned)
    for sale in returned:
        for line in sale["lines"]:
            assert pieces[line["item_id"]]["status"] == "returned"  # awaiting inspection


async def test_a_second_run_continues_serials_and_style_numbers(store):
    await generate(store, items=80, seed=1)
    await generate(store, items=80, clients=10, seed=1)
    rows = await store.ledger.fetch("SELECT item_id, sku, description, tag_price FROM items")
    assert len({r["item_id"] for r in rows}) == 160
    styles: dict[str, set[tuple[str, int]]] = {}
    for r in rows:
        styles.setdefault(r["sku"], set()).add((r["description"], r["tag_price"]))
    assert all(len(s) == 1 for s in styles.values())  # no SKU given to two styles
    await generate(store, clients=10, seed=1)  # the same seed again: fresh client ids
    assert (await store.ledger.fetch_one("SELECT COUNT(*) AS n FROM clients"))["n"] == 20


def test_every_house_makes_valid_pieces_in_each_of_its_categories():
    rng = Random(11)
    for house in HOUSES:
        for category in house.categories:
            for _ in range(40):
                style = make_style(rng, house, category, 1_001, "standard")
                check_piece(piece_of(rng, style, 1))


async def test_a_history_dates_the_same_books_over_the_past_days(make_config):
    counts = {"items": 60, "clients": 10, "sales": 30}
    plain = await generated(make_config, "now", 3, **counts)
    store = await Store.open(make_config("past"))
    try:
        with history(store, 30, seed=3) as past:
            await store.staff.enroll("sophie", "Sophie Test", "associate", "1111",
                                     actor="test")
            await store.staff.enroll("marc", "Marc Test", "manager", "2222", actor="test")
            await generate(store, seed=3, past=past, **counts)
        dated = await books(store)
        assert dated == plain  # the same books, only dated otherwise
        entries = await store.ledger.entries(0, store.ledger.seq)
        stamps = [e.ts for e in entries]
        assert stamps == sorted(stamps)  # walking forward, never back
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        sold = [e.ts for e in entries if e.kind == "sale.completed"]
        first = (datetime.now(UTC) - timedelta(days=31)).strftime("%Y-%m-%d")
        assert first <= stamps[0] <= sold[0] < sold[-1] < now
        assert len({ts[:10] for ts in sold}) >= 20  # spread along the days
        await store.staff.enroll("lea", "Léa Test", "associate", "3333", actor="test")
        last = (await store.ledger.entries(store.ledger.seq - 1, 1))[0]
        assert last.ts >= now  # the clock was put back: what follows says now
        assert (await store.ledger.verify()).ok
    finally:
        await store.close()
