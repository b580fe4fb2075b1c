"""Reconciliation invariants under Hypothesis: random stores, random read streams with
duplicates, reads from unmapped readers and foreign tags, whole-store and scoped counts."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.counts.reconcile import IN_STORE, Piece, in_scope, reconcile
from hub.counts.service import PIECE_COLUMNS
from hub.counts.session import CountSession
from hub.epc import gid96_encode
from tests.counts.conftest import FOREIGN, read

LOCATIONS = ("showcase-1", "showcase-2", "window", "safe", "tray-A")
STATUSES = ("in_stock", "in_stock", "in_stock", "reserved", "returned", "sold", "memo_out",
            "in_repair", "in_transfer", "missing")


@st.composite
def scenarios(draw):
    n = draw(st.integers(0, 40))
    pieces = [Piece(f"P-{i}", gid96_encode(7, 1, i), draw(st.sampled_from(LOCATIONS)),
                    draw(st.sampled_from(STATUSES)), "ring", draw(st.integers(0, 10**7)))
              for i in range(n)]
    foreign = draw(st.lists(st.integers(0, 2**36 - 1).map(lambda s: gid96_encode(99, 2, s)),
                            max_size=5))
    tags = [p.epc for p in pieces] + foreign
    reads = []
    if tags:
        reads = draw(st.lists(st.tuples(st.sampled_from(tags),
                                        st.sampled_from((*LOCATIONS, None))), max_size=120))
    scope = draw(st.none() | st.frozensets(st.sampled_from((*LOCATIONS, "vault")), min_size=1))
    return pieces, foreign, reads, scope


def fold(reads):
    seen: dict[str, dict[str | None, int]] = {}
    for epc, location in reads:
        locations = seen.setdefault(epc, {})
        locations[location] = locations.get(location, 0) + 1
    return seen


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_reconciliation_invariants(scenario):
    pieces, foreign, reads, scope = scenario
    seen = fold(reads)
    result = reconcile(pieces, seen, scope)
    expected = {p.item_id for p in pieces if p.status in IN_STORE and in_scope(scope, p.location)}
    found = {p.item_id for p in result.found}
    missing = {p.item_id for p in result.missing}

    # every expected piece is exactly one of found or missing
    assert {p.item_id for p in result.expected} == expected
    assert found | missing == expected and not found & missing
    # found pieces are exactly the expected EPCs read
    assert found == {p.item_id for p in pieces if p.item_id in expected and p.epc in seen}
    # nothing outside the scope is reported missing
    assert all(in_scope(scope, p.location) for p in result.missing)
    # a found piece is in place, misplaced or unlocated: one of the three
    misplaced_expected = {p.item_id for p, _ in result.misplaced if p.item_id in expected}
    in_place = {p.item_id for p in result.in_place}
    unlocated = {p.item_id for p in result.unlocated}
    assert in_place | misplaced_expected | unlocated == found
    assert len(in_place) + len(misplaced_expected) + len(unlocated) == len(found)
    for piece, where in result.misplaced:
        assert where != piece.location and where in seen[piece.epc]
        assert piece.item_id in expected or in_scope(scope, where)
    # unknown tags are exactly the foreign tags read inside the scope
    assert set(result.unknown) == {epc for epc in foreign if epc in seen
                                   and any(in_scope(scope, loc) for loc in seen[epc])}
    # every tag read in scope is accounted for, once
    reported = ([p.epc for p in result.found] + [p.epc for p, _ in result.misplaced
                                                 if p.item_id not in expected]
                + [p.epc for p in result.away] + [p.epc for p in result.recovered]
                + result.unknown)
    assert len(reported) == len(set(reported))
    # the figures add up per location
    assert sum(t.expected for t in result.locations.values()) == len(expected)
    assert sum(t.missing for t in result.locations.values()) == len(missing)
    assert 0 <= result.accuracy_bp <= 10_000


@settings(max_examples=150, deadline=None)
@given(scenarios(), st.randoms(use_true_random=False), st.integers(1, 4))
def test_order_and_duplicates_do_not_change_the_result(scenario, rng, copies):
    pieces, _, reads, scope = scenario
    once = reconcile(pieces, fold(reads), scope).payload()
    shuffled = reads * copies
    rng.shuffle(shuffled)
    again = reconcile(pieces, fold(shuffled), scope).payload()
    for key in ("expected", "found", "in_place", "accuracy_bp", "unknown_total", "locations"):
        assert once[key] == again[key]
    for key in ("missing", "misplaced", "away", "recovered", "unlocated", "unknown"):
        assert sorted(map(str, once[key])) == sorted(map(str, again[key]))


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_live_tally_agrees_with_reconciliation(scenario):
    """What the count screen shows while reads arrive equals what closing will record."""
    pieces, _, reads, scope = scenario
    index = {p.epc: p for p in pieces}
    session = CountSession("C-1", "spot", scope, "2026-11-26", "2026-11-26T08:00:00Z")
    session.retally(index)
    for epc, location in reads:  # the ingest path: a new tag/location pair is noted once
        locations = session.seen.setdefault(epc, {})
        if location not in locations:
            locations[location] = 0
            session.note(epc, location, index.get(epc))
        locations[location] += 1
    result = reconcile(pieces, session.seen, scope)
    live = session.progress()
    assert live["expected"] == len(result.expected)
    assert live["found"] == len(result.found) and live["missing"] == len(result.missing)
    assert session.in_place == {p.epc for p in result.in_place}
    assert session.misplaced == {p.epc for p, _ in result.misplaced}
    assert session.unknown == set(result.unknown)
    assert session.away == {p.epc for p in result.away}
    assert session.recovered == {p.epc for p in result.recovered}
    # and starting the tally over from the same reads changes nothing
    before = live
    session.retally(index)
    after = session.progress()
    assert {k: after[k] for k in ("found", "misplaced", "unknown", "locations")} == \
        {k: before[k] for k in ("found", "misplaced", "unknown", "locations")}


def tally(session: CountSession) -> tuple:
    return (dict(session.expected_by_loc), dict(session.found_by_loc), set(session.found),
            set(session.in_place), set(session.misplaced), set(session.unknown),
            set(session.away), set(session.recovered))


@settings(max_examples=200, deadline=None)
@given(scenarios(), st.data())
def test_a_piece_changed_mid_count_moves_only_its_share_of_the_tally(scenario, data):
    """A sale or a move during a count updates the tally for that piece alone; the result
    is exactly a retally of the whole store from the same reads (and what closing records)."""
    pieces, _, reads, scope = scenario
    index = {p.epc: p for p in pieces}
    session = CountSession("C-1", "spot", scope, "2026-11-26", "2026-11-26T08:00:00Z")
    session.retally(index)
    for epc, location in reads:
        changes = data.draw(st.lists(st.tuples(st.sampled_from(pieces),
                                               st.sampled_from(LOCATIONS),
                                               st.sampled_from(STATUSES)), max_size=2)
                            if pieces else st.just([]))
        for piece, where, status in changes:
            old = index[piece.epc]
            new = old._replace(location=where, status=status)
            index[piece.epc] = new
            session.repiece(piece.epc, old, new)
        locations = session.seen.setdefault(epc, {})
        if location not in locations:
            locations[location] = 0
            session.note(epc, location, index.get(epc))
        locations[location] += 1
    live = tally(session)
    fresh = CountSession("C-1", "spot", scope, "2026-11-26", "2026-11-26T08:00:00Z",
                         seen=session.seen)
    fresh.retally(index)
    assert live == tally(fresh)
    result = reconcile(list(index.values()), session.seen, scope)
    assert session.progress()["missing"] == len(result.missing)
    assert session.misplaced == {p.epc for p, _ in result.misplaced}


def test_a_newly_tagged_piece_turns_its_unknown_tag_into_a_found_piece():
    piece = Piece("P-1", gid96_encode(7, 1, 1), "window", "in_stock")
    session = CountSession("C-1", "spot", None, "2026-11-26", "2026-11-26T08:00:00Z")
    session.seen[piece.epc] = {"window": 3}
    session.retally({})
    assert session.unknown == {piece.epc} and session.progress()["expected"] == 0
    session.repiece(piece.epc, None, piece)
    progress = session.progress()
    assert session.unknown == set() and session.in_place == {piece.epc}
    assert (progress["expected"], progress["found"], progress["missing"]) == (1, 1, 0)


def test_a_big_store_reconciles():
    """Not a timing: a store of 20,000 pieces with a known answer reconciles exactly."""
    rng = random.Random(5)
    size = 20_000
    pieces = [Piece(f"P-{i}", gid96_encode(7, 1, i), rng.choice(LOCATIONS), "in_stock")
              for i in range(size)]
    hidden = set(rng.sample(range(size), 20))
    moved = rng.sample(sorted(set(range(size)) - hidden), 5)
    reads = []
    for i, p in enumerate(pieces):
        if i in hidden:
            continue
        where = "window" if i in moved and p.location != "window" else p.location
        if i in moved and where == p.location:
            where = "safe" if p.location != "safe" else "tray-A"
        reads.append((p.epc, where))
    result = reconcile(pieces, fold(reads), None)
    assert {p.item_id for p in result.missing} == {f"P-{i}" for i in hidden}
    assert {p.item_id for p, _ in result.misplaced} == {f"P-{i}" for i in moved}


READ_TAGS = st.sampled_from(["P-1", "P-2", "P-3", "P-4", "P-5", "P-6", "P-7", "P-8",
                             "foreign", "corrupt"])


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(reads=st.lists(st.tuples(READ_TAGS, st.sampled_from((*LOCATIONS, None))), max_size=60),
       scope=st.none() | st.frozensets(st.sampled_from(LOCATIONS), min_size=1))
async def test_the_real_ingest_path_closes_to_the_reconciliation_of_its_reads(
        store, counts, epcs, reads, scope):
    """Reads through the bus (with duplicates, foreign tags, corrupt EPCs, unmapped readers)
    into a real count on a real store close to exactly reconcile() of the valid reads."""
    started = await counts.start_count("spot", sorted(scope) if scope else None, "manager")
    valid = []
    for tag, location in reads:
        epc = {"foreign": FOREIGN, "corrupt": "NOT-AN-EPC"}.get(tag) or epcs[tag]
        read(store.bus, epc, location)
        if tag != "corrupt":
            valid.append((epc, location))
    payload = await counts.close(started["count_id"], "manager", outcome="cancelled")
    rows = await store.ledger.fetch(f"SELECT {', '.join(PIECE_COLUMNS)} FROM items")
    expected = reconcile([Piece(*tuple(r)) for r in rows], fold(valid), scope).payload()
    assert payload["result"] == expected
