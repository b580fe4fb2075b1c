"""Recommendations: the pure rules as properties (each has a reason; never what she bought,
never what is not for sale; in stock here before another store at equal score; the same
books give the same list), each rule by example, and the service over the real books with
its reasons in words."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from hub.clienteling.part import part
from hub.clienteling.recommend import (
    COMPLEMENTS,
    Offer,
    Piece,
    Taste,
    preferred_metals,
    reasons_for,
    recommend,
    size_named,
)
from hub.layers import LAYERS
from hub.runtime import Options, Runtime
from tests.builders import cash, piece

CATEGORIES = ("ring", "bracelet", "earrings", "necklace", "pendant", "watch", "cufflinks")
pieces = st.builds(
    Piece, item_id=st.one_of(st.none(), st.sampled_from([f"P{n}" for n in range(12)])),
    sku=st.sampled_from([f"S{n}" for n in range(8)]),
    category=st.one_of(st.none(), st.sampled_from(CATEGORIES)),
    designer=st.sampled_from((None, "Kono", "Ardent")),
    collection=st.sampled_from((None, "Jardin", "Onde")),
    metal=st.sampled_from((None, "gold", "platinum")),
    metal_colour=st.sampled_from((None, "rose", "white")),
    stones=st.lists(st.sampled_from(("diamond", "emerald", "sapphire")), max_size=2)
    .map(tuple),
    size=st.sampled_from((None, "52", "54")),
    status=st.sampled_from(("in_stock", "in_stock", "sold", "reserved")))
offers = st.builds(Offer, piece=pieces, store=st.sampled_from((None, None, "lyon", "nice")),
                   count=st.integers(0, 2))
refs = st.frozensets(st.sampled_from([f"P{n}" for n in range(12)]
                                     + [f"S{n}" for n in range(8)]), max_size=4)
tastes = st.builds(
    Taste, kept=st.lists(pieces, max_size=4).map(tuple),
    bought_ids=st.frozensets(st.sampled_from([f"P{n}" for n in range(12)]), max_size=4),
    bought_skus=st.frozensets(st.sampled_from([f"S{n}" for n in range(8)]), max_size=2),
    ring_sizes=st.sampled_from(((), ("52",), ("52", "54"))),
    metals=st.sampled_from(((), preferred_metals(["gold"], ["rose"]),
                            preferred_metals(["platinum"], []))),
    stones=st.sampled_from(((), ("emerald",))), designers=st.sampled_from(((), ("ardent",))),
    wished=refs, web_wished=refs, viewed=refs)


@given(taste=tastes, offered=st.lists(offers, max_size=25), seed=st.integers(0, 1000))
def test_every_recommendation_has_a_reason_is_for_sale_and_was_never_bought(taste, offered,
                                                                            seed):
    found = recommend(taste, offered, limit=50)
    for r in found:
        piece_ = r.offer.piece
        assert r.reasons and r.score == sum(x.weight for x in r.reasons)
        assert piece_.item_id not in taste.bought_ids
        assert piece_.sku not in taste.bought_skus
        assert r.offer.for_sale
        assert r.offer in offered
    # best first; at equal score, here before another store
    for a, b in zip(found, found[1:], strict=False):
        assert a.score >= b.score
        if a.score == b.score:
            assert not (a.offer.store is not None and b.offer.store is None)
    # a style offered here is not offered elsewhere too
    here = {r.offer.piece.sku for r in found if r.offer.store is None}
    assert not any(r.offer.store and r.offer.piece.sku in here for r in found)
    # the same books, asked in any order, give the same list
    shuffled = list(offered)
    random.Random(seed).shuffle(shuffled)
    assert recommend(taste, shuffled, limit=50) == found
    assert recommend(taste, offered, limit=3) == found[:3]


BRACELET = Piece("B1", "K-BR", category="bracelet", designer="Kono", collection="Jardin")


def test_matching_earrings_from_the_collection_of_her_bracelet():
    taste = Taste(kept=(BRACELET,), bought_ids=frozenset({"B1"}), bought_skus=frozenset({"K-BR"}))
    earrings = Piece("E1", "K-EA", category="earrings", designer="Kono", collection="Jardin")
    ring = Piece("R1", "K-RI", category="ring", designer="Kono", collection="Jardin")
    other = Piece("R2", "K-RO", category="ring", designer="Kono", collection="Onde")
    assert "ring" in COMPLEMENTS["bracelet"] and "earrings" in COMPLEMENTS["bracelet"]
    [why] = reasons_for(earrings, taste)
    assert (why.code, dict(why.params)) == ("complement", {"category": "earrings",
                                                           "hers": "bracelet"})
    assert reasons_for(ring, taste)[0].code == "complement"
    assert [r.code for r in reasons_for(other, taste)] == ["same_designer"]
    watch = Piece("W1", "K-WA", category="watch", designer="Kono", collection="Jardin")
    assert [r.code for r in reasons_for(watch, taste)] == ["same_collection"]
    assert reasons_for(BRACELET, taste)  # it suits her...
    assert recommend(taste, [Offer(BRACELET), Offer(Piece("B2", "K-BR", category="bracelet",
                                                          designer="Kono",
                                                          collection="Jardin"))]) == []
    # ...but she has it (and its twin is the same style)


def test_her_size_metals_stones_and_designers():
    taste = Taste(ring_sizes=("52",), metals=preferred_metals(["gold"], ["rose"]),
                  stones=("emerald",), designers=("ardent",))
    ring = Piece("R1", "A-1", category="ring", designer="Ardent", metal="gold",
                 metal_colour="rose", stones=("emerald", "diamond"), size="52")
    codes = [r.code for r in reasons_for(ring, taste)]
    assert codes == ["ring_size", "preferred_designer", "preferred_metal_colour",
                     "preferred_stone"]
    white = Piece("R2", "A-2", category="ring", metal="gold", metal_colour="white", size="54")
    assert [r.code for r in reasons_for(white, taste)] == ["preferred_metal"]
    assert reasons_for(Piece("R3", "A-3", category="ring", metal="platinum"), taste) == []
    assert size_named("Solitaire ring, size 52") == "52"
    assert size_named("Bague solitaire, taille 54,5") == "54.5"
    assert size_named("Solitaire ring, 1.01 ct") is None


def test_her_wishes_and_what_she_viewed_online_come_first_here_then_elsewhere():
    pendant = Piece(None, "K-PE", category="pendant", designer="Kono")
    here = Piece("P9", "K-PX", category="pendant")
    taste = Taste(viewed=frozenset({"K-PE", "K-PX"}), wished=frozenset({"E5"}))
    wished = Piece("E5", "K-E5", category="earrings")
    found = recommend(taste, [Offer(pendant, store="lyon"), Offer(here), Offer(wished),
                              Offer(Piece(None, "K-ZZ"), store="nice", count=0)])
    assert [(r.offer.piece.sku, r.offer.store) for r in found] == [
        ("K-E5", None), ("K-PX", None), ("K-PE", "lyon")]
    assert found[1].reasons[0].code == "viewed_online"


# -- the service over the real books ----------------------------------------------------------

async def test_the_reasons_read_as_sentences_over_the_real_books(store):
    await store.items.receive_many([
        piece("B1", sku="KONO-BR-1", category="bracelet", designer="Kono",
              collection="Jardin", description="Jardin bracelet"),
        piece("E1", sku="KONO-EA-1", category="earrings", designer="Kono",
              collection="Jardin", description="Jardin drop earrings"),
        piece("PE1", sku="KONO-PE-7", category="pendant", designer="Ardent",
              collection="Onde", description="Onde pendant"),
        piece("R9", sku="ZED-RI-9", category="ring", designer="Zed",
              description="Zed ring, size 52")], "test")
    other = await store.clients.create({"first_name": "Amara", "last_name": "Okafor"}, "test")
    her = await store.clients.create({"first_name": "Hélène", "last_name": "Fontaine",
                                      "ring_sizes": {"left ring": "52"}}, "test")
    for serial, client in (("B1", her), ("PE1", other)):
        await store.sales.complete(register_id="R1", actor="anna",
                                   lines=[{"item_id": serial}], tenders=cash(950_000),
                                   client_id=client["client_id"])
    # She viewed the pendant's style on the web shop; the Lyon store has one.
    for n, (kind, body) in enumerate((
            ("activity", {"client_id": her["client_id"], "events": [
                {"action": "viewed", "ref": "KONO-PE-7", "at": "2026-11-30T10:00:00Z"}]}),
            ("stock_elsewhere", {"sku": "KONO-PE-7", "stores": {"lyon": 1, "nice": 0}}))):
        await store.hq.apply({"id": f"m{n}", "type": kind, "body": body}, "sig")
    runtime = Runtime(store.config, store, store.bus, Options(), LAYERS)
    async with part(runtime):
        found = (await runtime.recommendations.for_client(her["client_id"]))["recommendations"]
        by_sku = {r["sku"]: r for r in found}
        assert by_sku["KONO-EA-1"]["sentence"] == ("Matching earrings from the collection of"
                                                   " her bracelet, in stock here")
        assert by_sku["KONO-PE-7"]["sentence"] == ("The pendant she viewed on the web shop,"
                                                   " at the lyon store")
        assert by_sku["KONO-PE-7"]["item_id"] is None and by_sku["KONO-PE-7"]["store"] == "lyon"
        assert by_sku["ZED-RI-9"]["sentence"] == "A ring in her size (52), in stock here"
        assert "KONO-BR-1" not in by_sku  # hers already
        assert [r["sku"] for r in found] == ["KONO-PE-7", "KONO-EA-1", "ZED-RI-9"]
        await store.clients.forget(her["client_id"], "mona")
        assert (await runtime.recommendations.for_client(her["client_id"]))[
            "recommendations"] == []


@given(taste=tastes, offered=st.lists(offers, max_size=25), top=st.integers(0, 2_000_000),
       prices=st.lists(st.integers(0, 3_000_000), min_size=25, max_size=25))
def test_nothing_above_her_budget_unless_she_asked_for_it(taste, offered, top, prices):
    taste = Taste(**{**vars(taste), "budget_max": top})
    priced = [Offer(Piece(**{**vars(o.piece), "tag_price": p}), o.store, o.count)
              for o, p in zip(offered, prices, strict=False)]
    for r in recommend(taste, priced, limit=50):
        assert (r.offer.piece.tag_price or 0) <= top or {x.code for x in r.reasons} & {
            "wish_list", "wishlisted_online", "viewed_online", "viewed_online_style"}
