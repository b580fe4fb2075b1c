"""Search over pieces: words in any order, accents, whole words before prefixes, codes,
filters with text, paging and totals, the index kept by the projections and by a rebuild."""

from __future__ import annotations

import sqlite3
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hub.core.search as search_mod
from hub.core.errors import Invalid
from hub.core.search import index_row, match_expressions, words
from hub.layers import areas, schemas
from hub.ledger.ledger import dump_projections
from hub.store import Store
from tests.builders import cash, piece

PIECES = [
    piece("A-1", sku="AUR-BR1", description="Ruby brooch, old mine cut", category="brooch",
          metal="gold", fineness=750, karat=18, metal_colour="yellow", designer="Maison Aurore",
          collection="Étoile", stones=[{"type": "ruby", "carat_cents": 120}], tag_price=500_000),
    piece("A-2", sku="KON-RI2", description="Brooch ring with a ruby", category="ring",
          designer="Kōno", collection="Sève", stones=[{"type": "ruby", "carat_cents": 90}],
          tag_price=800_000),
    piece("A-3", sku="KON-EA3", description="Diamond earrings", category="earrings",
          designer="Kōno", tag_price=1_200_000),
    piece("A-4", sku="VER-RI4", description="Ringed bangle", category="bracelet",
          designer="Verdier", stones=[], tag_price=300_000),
    piece("A-5", sku="VER-RI5", description="Platinum eternity ring", category="ring",
          designer="Verdier", collection="Riviera", tag_price=2_000_000, location="window"),
    piece("A-6", sku="CAS-PE6", description="Pearl strand", category="necklace",
          metal="silver", fineness=925, designer="Castellane",
          stones=[{"type": "pearl", "carat_cents": 500}], tag_price=150_000),
    piece("A-7", sku="AUR-BR1", description="Sapphire brooch", category="brooch",
          designer="Maison Aurore", stones=[{"type": "sapphire", "carat_cents": 150}],
          tag_price=650_000),
    piece("A-8", sku="LUM-RI8", description="Rings of light, stacking set", category="set",
          designer="Lumière & Fils", tag_price=400_000),
]


@pytest.fixture
async def shop(store: Store) -> Store:
    await store.items.receive_many(PIECES, "admin")
    return store


async def serials(store: Store, text: str | None = None, **filters) -> list[str]:
    page = await store.items.search(text=text, limit=500, **filters)
    return [p["item_id"] for p in page.items]


async def test_every_word_must_match_in_any_order(shop):
    assert set(await serials(shop, "ruby brooch")) == {"A-1", "A-2"}
    assert set(await serials(shop, "brooch ruby")) == {"A-1", "A-2"}
    assert await serials(shop, "ruby brooch sapphire") == []
    assert await serials(shop, "") == [f"A-{n}" for n in range(1, 9)]  # no text: serial order


async def test_accents_and_case_fold_both_ways(shop):
    assert set(await serials(shop, "Kono")) == {"A-2", "A-3"}
    assert set(await serials(shop, "KŌNO")) == {"A-2", "A-3"}
    assert await serials(shop, "etoile") == ["A-1"]
    assert await serials(shop, "Sève") == ["A-2"]
    assert await serials(shop, "lumiere") == ["A-8"]


async def test_a_whole_word_comes_before_its_prefixes(shop):
    found = await serials(shop, "ring")
    # "ring" whole (A-2, A-5, in the order received), then "ringed" and "rings" as prefixes.
    assert found[:2] == ["A-2", "A-5"]
    assert set(found[2:]) == {"A-4", "A-8"}


async def test_long_prefixes_find_their_words(shop):
    # Past the 8-letter prefix index, the index's word list says whether a longer word exists.
    assert await serials(shop, "castellan") == ["A-6"]
    assert await serials(shop, "castellane") == ["A-6"]
    assert await serials(shop, "castellanes") == ["A-6"]  # its singular, whole
    assert await serials(shop, "castellanex") == []


async def test_rings_finds_rings_and_ring_but_never_earrings(shop):
    found = await serials(shop, "rings")
    assert "A-3" not in found  # earrings
    assert set(found) == {"A-2", "A-5", "A-8"}  # the word "ring", and "Rings of light"
    assert await serials(shop, "earring") == ["A-3"]  # a prefix of "earrings"


async def test_a_code_typed_in_full_finds_its_piece_first(shop):
    assert (await serials(shop, "A-5"))[0] == "A-5"
    assert (await serials(shop, "a-5"))[0] == "A-5"  # serials in any case
    found = await serials(shop, "AUR-BR1")  # a SKU: both pieces of that style, first
    assert set(found[:2]) == {"A-1", "A-7"}
    epc = (await shop.items.get("A-3"))["epc"]
    assert await serials(shop, epc) == ["A-3"]
    assert await serials(shop, epc.lower()) == ["A-3"]


async def test_filters_combine_with_the_text(shop):
    assert await serials(shop, "ruby", category="ring") == ["A-2"]
    assert await serials(shop, "kono", price_min=1_000_000) == ["A-3"]
    assert await serials(shop, "verdier", location="window") == ["A-5"]
    assert await serials(shop, "aurore", stone="sapphire") == ["A-7"]
    assert await serials(shop, "brooch", metal="gold", fineness=750) == ["A-1"]
    assert await serials(shop, "ring", designer="Verdier") == ["A-5", "A-4"]  # whole first
    # A designer filter is the whole name: "Maison" is not "Maison Aurore".
    assert await serials(shop, "brooch", designer="Maison") == []
    assert await serials(shop, "AUR-BR1", stone="ruby") == ["A-1"]
    await shop.sales.complete(register_id="R1", actor="anna", lines=[{"item_id": "A-1"}],
                              tenders=cash(500_000))
    assert await serials(shop, "ruby", status="in_stock") == ["A-2"]
    assert await serials(shop, "ruby", status="sold") == ["A-1"]


async def test_pages_walk_every_match_once_with_the_total(shop, monkeypatch):
    for text, filters in ((None, {}), ("ring", {}), ("r", {}), ("AUR-BR1", {}),
                          ("kono", {"status": "in_stock"}), ("verdier ring", {})):
        everything = await serials(shop, text, **filters)
        for limit in (1, 2, 3):
            seen, offset, pages = [], 0, 0
            while offset is not None:
                page = await shop.items.search(text=text, limit=limit, offset=offset, **filters)
                assert page.total == len(everything) and not page.total_is_capped
                assert len(page.items) <= limit and page.offset == offset
                seen += [p["item_id"] for p in page.items]
                offset, pages = page.next_offset, pages + 1
            assert seen == everything, (text, limit)
            assert pages == max(1, -(-len(everything) // limit))
    beyond = await shop.items.search(limit=5, offset=100)
    assert beyond.items == [] and beyond.total == 8 and beyond.next_offset is None


async def test_a_broad_count_stops_at_the_cap_and_says_so(shop, monkeypatch):
    monkeypatch.setattr(search_mod, "COUNT_CAP", 3)
    page = await shop.items.search(limit=2)
    assert page.total == 3 and page.total_is_capped and page.next_offset == 2
    page = await shop.items.search(text="ring", limit=2)
    assert page.total == 3 and page.total_is_capped
    # Paged past the cap, the total still covers the page ("more than 6").
    page = await shop.items.search(limit=2, offset=4)
    assert page.total == 6 and page.total_is_capped and page.next_offset == 6
    last = await shop.items.search(limit=2, offset=6)  # the last page knows the end
    assert last.total == 8 and not last.total_is_capped and last.next_offset is None
    few = await shop.items.search(text="kono", limit=2)  # under the cap: exact
    assert few.total == 2 and not few.total_is_capped and few.next_offset is None


async def test_the_index_follows_edits(shop):
    await shop.items.update("A-6", {"description": "Tahitian pearl strand",
                                    "designer": "Oriane Vos"}, "admin")
    assert await serials(shop, "tahitian") == ["A-6"]
    assert await serials(shop, "oriane") == ["A-6"]
    assert await serials(shop, "castellane") == []
    await shop.items.update("A-6", {"stones": [{"type": "emerald", "carat_cents": 100}]},
                            "admin")
    assert await serials(shop, "emerald") == ["A-6"]
    assert await serials(shop, "pearl") == ["A-6"]  # still in its description
    assert "A-6" not in await serials(shop, "pearl", stone="pearl")
    await shop.items.update("A-6", {"sku": "NEW-SKU9", "category": "pendant"}, "admin")
    assert await serials(shop, "NEW-SKU9") == ["A-6"]
    assert await serials(shop, "pendant") == ["A-6"]
    await shop.items.update("A-6", {"tag_price": 160_000}, "admin")  # not indexed text
    assert await serials(shop, "tahitian") == ["A-6"]
    rows = await shop.ledger.fetch("SELECT count(*) FROM items_fts")
    assert rows[0][0] == len(PIECES)


async def test_a_rebuild_reproduces_the_index(shop):
    await shop.items.update("A-2", {"description": "Cocktail ring", "stones": []}, "admin")
    await shop.items.move("A-3", "safe", "admin")
    before = dump_projections(shop.ledger.db_path, schemas(areas()))
    assert before["items_fts (index)"], "the dump compares the indexed words"
    assert ("cocktail", 2) in {(t, d) for t, d, *_ in before["items_fts (index)"]}
    await shop.ledger.rebuild()
    assert dump_projections(shop.ledger.db_path, schemas(areas())) == before
    assert await serials(shop, "cocktail") == ["A-2"]


async def test_a_store_from_before_the_index_is_backfilled(make_config):
    config = make_config()
    async with await Store.open(config) as s:
        await s.items.receive_many(PIECES, "admin")
    conn = sqlite3.connect(config.db_path)  # back to core schema v4: no index
    conn.execute("DROP TABLE items_fts_terms")
    conn.execute("DROP TABLE items_fts")
    conn.execute("DROP INDEX items_received")
    conn.execute("DROP INDEX sales_ts")  # core v7's
    conn.execute("DROP INDEX clients_merged")  # core v8's
    conn.execute("ALTER TABLE clients DROP COLUMN merged_into")
    conn.execute("ALTER TABLE sale_lines DROP COLUMN service")  # core v9's
    # core v10's (prices): the rule, the rate, the printed tag, quotes, accepted moves
    conn.execute("DROP INDEX items_priced")
    for column in ("pricing", "price_rate", "price_rate_seq", "tag_printed_price"):
        conn.execute(f"ALTER TABLE items DROP COLUMN {column}")
    conn.execute("ALTER TABLE sale_lines DROP COLUMN priced")
    conn.execute("DROP TABLE price_quotes")
    conn.execute("DROP TABLE rate_acceptances")
    conn.execute("ALTER TABLE clients DROP COLUMN card")  # core v11's
    conn.execute("UPDATE schema_versions SET version = 4 WHERE area = 'core'")
    conn.commit()
    conn.close()
    async with await Store.open(config) as s:
        assert set(await serials(s, "ruby brooch")) == {"A-1", "A-2"}


def test_user_text_becomes_quoted_words_only():
    assert words('  "ruby"  AND  brooch* NEAR(x) col:umn  ') == \
        ["ruby", "AND", "brooch", "NEAR", "x", "col", "umn"]
    assert words("R-1042/A d'or") == ["R", "1042", "A", "d", "or"]
    assert words("*** () ''") == []
    assert match_expressions("!!") is None
    exact, prefixed = match_expressions("rings a")
    assert exact == '("rings" OR "ring") AND "a"'
    assert prefixed == '("rings"* OR "ring") AND "a"'


def test_the_index_holds_no_client_and_nothing_unlisted():
    row = index_row({**PIECES[0], "vendor": "Secret Vendor", "cost": 1}, ["ruby", "ruby"])
    assert row == ("A-1", "AUR-BR1", "Ruby brooch, old mine cut", "brooch", "750 18k yellow gold",
                   "Maison Aurore", "Étoile", "ruby")


async def test_overlong_or_broken_text_is_refused_with_a_reason(shop):
    with pytest.raises(Invalid, match="longer than 200 characters"):
        await shop.items.search(text="x" * 201)
    with pytest.raises(Invalid, match="not valid text"):
        await shop.items.search(text="ruby \udc80")


FTS_NOISE = st.lists(st.sampled_from(list('"*()^:+-{}., \'\\') + ["AND", "OR", "NOT", "NEAR",
                                                                     "ring", "é"]),
                     max_size=30).map("".join)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=200) | FTS_NOISE)
async def test_no_text_can_break_the_search(shop, text):
    page = await shop.items.search(text=text, limit=3)
    assert len(page.items) <= 3 and page.total >= len(page.items)


# -- an oracle: the same matching rules in plain Python ----------------------------------------

VOCABULARY = ("ruby", "Ruby", "brooch", "BROOCH", "kono", "Kōno", "ring", "rings", "ri",
              "bro", "earrings", "ear", "diamond", "étoile", "etoile", "verdier", "gold", "18k",
              "750", "pearl", "pearls", "A-1", "zzz", "of", "light", "set", "r", "platinum")


def _fold(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", word)
                   if unicodedata.category(c) != "Mn").lower()


def _oracle(text: str) -> set[str]:
    """Which pieces the rules say match: every word is a word of the piece, or (two letters
    or more) starts one, or is the plural of one."""
    query = [_fold(w) for w in words(text)]
    out = set()
    for p in PIECES:
        tokens = {_fold(t) for f in index_row(p, [s["type"] for s in p["stones"]]) if f
                  for t in words(str(f))}

        def has(word: str, tokens: set[str] = tokens) -> bool:
            return any(t in (word, search_mod.singular(word))
                       or (len(word) > 1 and t.startswith(word)) for t in tokens)

        if query and all(has(w) for w in query):
            out.add(p["item_id"])
    code = text.strip()
    return out | {p["item_id"] for p in PIECES
                  if code in (p["item_id"], p["sku"]) or code.upper() in (p["item_id"], p["sku"])}


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chosen=st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=3))
async def test_search_finds_exactly_what_the_rules_say(shop, chosen):
    text = " ".join(chosen)
    page = await shop.items.search(text=text, limit=500)
    found = [p["item_id"] for p in page.items]
    assert len(found) == len(set(found)) == page.total
    assert set(found) == _oracle(text)


async def test_a_french_boutique_searches_in_french(tmp_path):
    """The pieces' data is in English; the associate types the store's language."""
    from hub.store import init_store

    config = init_store(tmp_path / "fr", "paris-02", "Maison Paris", "EUR", "Europe/Paris",
                        "fr-FR")
    async with await Store.open(config) as fr:
        await fr.items.receive_many(PIECES, "admin")

        async def found(text: str) -> list[str]:
            return [p["item_id"] for p in (await fr.items.search(text=text)).items]

        assert await found("rubis broche") == ["A-1", "A-2"]  # brooch + ruby, any order
        assert await found("bague") == ["A-2", "A-5"]  # category "ring"
        assert await found("bagues or jaune") == []  # no yellow gold ring here
        assert await found("broche or jaune") == ["A-1"]
        assert await found("boucles d'oreilles") == ["A-3"]
        assert await found("Émeraude") == []
        assert await found("perle argent") == ["A-6"]
        assert await found("Kono") == ["A-2", "A-3"]  # names still match as typed
