"""The stock report against the pieces: for any sequence of receipts (the ledger's clock set
back, as the demo's history does), sales, returns, voids, inspections, moves, edits, status
changes and HQ's metal rates, the writer's running totals (`stock_held`) are what the held
pieces add up to now, and a rebuild from the journal gives the very same rows. Then the
figures themselves: the ages with their cost, retail and metal value, turnover and
sell-through, the slow movers, the dashboard's glance, and the refusals."""

from __future__ import annotations

import asyncio
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.core.errors import Invalid, Refused
from hub.ledger.ledger import utc_now
from hub.reports.stock import (
    AGES,
    ask_turnover,
    slow_movers,
    stock_glance,
    stock_report,
    turnover,
)
from hub.reports.stock_book import fresh_held, held_rows
from hub.store import Store, init_store
from tests.builders import piece

CHAIN = {"making_per_gram": 1500, "making_bp": 0, "stones": 0, "margin_bp": 0, "round_to": 100,
         "rounding": "nearest"}
CATEGORIES = ("ring", "necklace", "bracelet")


def _rates(msg_id: str, per_gram: int) -> dict:
    return {"id": msg_id, "type": "rates", "chain": "maison", "store": "paris-01",
            "issued_at": "2026-12-02T08:00:00Z", "body": {"rates": [
                {"metal": metal, "fineness": fineness, "per_gram": per_gram, "currency": "EUR",
                 "valid_from": "2020-01-01T00:00:00Z", "valid_until": "2099-12-31T18:00:00Z"}
                for metal, fineness in (("gold", 750), ("platinum", 950))]}}


def _piece(i: int) -> dict:
    if i % 5 == 4:  # priced by the gram: HQ's rates move its tag
        return piece(i, sku="CHAIN-750", description="Gold chain", category="necklace",
                     metal="gold", fineness=750, metal_weight_mg=18_400, cost=90_000,
                     tag_price=0, stones=[], pricing=dict(CHAIN))
    return piece(i, category=CATEGORIES[i % 3], designer=("Maison", "Atelier B", None)[i % 3],
                 ownership=("owned", "owned", "memo")[i % 3],
                 vendor="Vendor A" if i % 3 == 2 else None,
                 location=("showcase-1", "safe")[i % 2], cost=40_000 + 1_000 * i,
                 tag_price=100_000 + 7_919 * i)


def _stamp(days: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


async def _received(store: Store, batches: list[tuple[int, list[dict]]]) -> None:
    """Each batch received `days` ago, oldest first (the journal's times never go back)."""
    for days, pieces in sorted(batches, key=lambda b: -b[0]):
        stamp = _stamp(days)
        store.ledger.clock = lambda s=stamp: s
        await store.items.receive_many(pieces, actor="admin")
    store.ledger.clock = utc_now


OP = st.one_of(
    st.tuples(st.just("sell"), st.integers(0, 19)),
    st.tuples(st.just("return"), st.integers(0, 19)),
    st.tuples(st.just("void"), st.integers(0, 19)),
    st.tuples(st.just("inspect"), st.integers(0, 19)),
    st.tuples(st.just("move"), st.integers(0, 19)),
    st.tuples(st.just("edit"), st.integers(0, 19)),
    st.tuples(st.just("status"), st.integers(0, 19)),
    st.tuples(st.just("rates"), st.integers(1_000, 9_000)))
OPS = st.lists(OP, min_size=1, max_size=16)
STATUSES = ("memo_out", "in_repair", "missing", "in_stock", "reserved", "returned_to_vendor")


async def _apply(store: Store, ops: list) -> None:
    sales: list[str] = []
    for n, (op, a) in enumerate(ops):
        item_id = f"P-{a}"
        try:
            if op == "sell":
                got = await store.ledger.read(lambda tx, i=item_id: tx.one(
                    "SELECT tag_price FROM items WHERE item_id = ?", (i,)))
                sale = await store.sales.complete(
                    register_id="R1", actor="admin", lines=[{"item_id": item_id}],
                    tenders=[{"type": "cash", "amount": got["tag_price"]}])
                sales.append(sale["sale_id"])
            elif op == "return" and sales:
                await store.sales.return_lines(sales[a % len(sales)], register_id="R1",
                                               actor="admin", reason="changed mind")
            elif op == "void" and sales:
                await store.sales.void(sales[a % len(sales)], register_id="R1", actor="admin",
                                       reason="mistake")
            elif op == "inspect":
                await store.items.inspect(item_id, ("in_stock", "written_off")[a % 2], "",
                                          "admin")
            elif op == "move":
                await store.items.move(item_id, ("showcase-2", "safe")[a % 2], "admin")
            elif op == "edit":
                await store.items.update(item_id, {"cost": 10_000 + a, "tag_price": 500_000 + a,
                                                   "category": CATEGORIES[(a + 1) % 3]},
                                         "admin")
            elif op == "status":
                await store.items.change_status(item_id, STATUSES[(a + n) % len(STATUSES)],
                                                "admin", reason="test")
            elif op == "rates":  # a move beyond the band waits for a manager, who takes it
                applied = await store.hq.apply(_rates(f"m-{n}", a), "sig")
                if applied.conflict == "rate_move_held":
                    await store.prices.accept(f"m-{n}", actor="mona")
        except Refused:
            pass  # a piece already sold, a status it may not take from here: nothing


async def _run(ops: list, root: Path) -> None:
    store = await Store.open(init_store(root / "s", "paris-01", "Maison", "EUR"))
    try:
        await store.staff.enroll("mona", "Mona Manager", "manager", "135790", actor="test")
        await store.hq.apply(_rates("m-first", 5_000), "sig")
        pieces = [_piece(i) for i in range(20)]
        await _received(store, [(500, pieces[:5]), (200, pieces[5:10]), (100, pieces[10:15]),
                                (3, pieces[15:])])
        await _apply(store, ops)
        kept = await store.ledger.read(held_rows)
        assert kept == await store.ledger.read(fresh_held)
        # Each piece's own row is what `items` says of it, held or not.
        stale = await store.ledger.fetch(
            "SELECT i.item_id FROM items i LEFT JOIN stock_pieces s USING (item_id) WHERE"
            " s.item_id IS NULL OR s.retail != i.tag_price OR s.cost != i.cost OR s.category"
            " != i.category OR s.location != i.location OR s.held != (i.status IN"
            " ('in_stock', 'reserved', 'returned', 'memo_out', 'in_repair'))")
        assert [r["item_id"] for r in stale] == []
        # The report's totals are the held pieces', whatever the grouping.
        held = await store.ledger.fetch(
            "SELECT COUNT(*) AS n, SUM(cost) AS cost, SUM(tag_price) AS retail FROM items"
            " WHERE status IN ('in_stock', 'reserved', 'returned', 'memo_out', 'in_repair')")
        for by in ("category", "location", "ownership", "designer", "metal"):
            out = await store.ledger.read(lambda tx, b=by: stock_report(
                tx, store.hq, "EUR", b, cost=True))
            t = out["totals"]
            assert (t["pieces"], t["cost"], t["retail"]) == (
                held[0]["n"], held[0]["cost"] or 0, held[0]["retail"] or 0)
            assert sum(r["pieces"] for r in out["rows"]) == t["pieces"]
            assert sum(a["pieces"] for a in t["ages"].values()) == t["pieces"]
            assert sum(a["retail"] for a in t["ages"].values()) == t["retail"]
        await store.rebuild()
        assert await store.ledger.read(held_rows) == kept
    finally:
        await store.close()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(OPS)
def test_the_running_totals_are_the_held_pieces_and_a_rebuild_gives_them_again(ops):
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(_run(ops, Path(tmp)))


async def _ages(days: list[int], root: Path) -> None:
    store = await Store.open(init_store(root / "s", "paris-01", "Maison", "EUR"))
    try:
        await _received(store, [(d, [piece(f"A-{n}", cost=1_000 + n)])
                                for n, d in enumerate(days)])
        out = await store.ledger.read(lambda tx: stock_report(tx, store.hq, "EUR", "location",
                                                              cost=True))
        today = datetime.now(UTC).date()
        want = {name: [0, 0] for name, _, _ in AGES}
        for n, d in enumerate(days):  # whole days since the UTC day it came in
            waited = (today - (datetime.now(UTC) - timedelta(days=d)).date()).days
            name = next(name for name, lo, hi in AGES if hi is None or waited <= hi)
            want[name][0] += 1
            want[name][1] += 1_000 + n
        assert {k: [v["pieces"], v["cost"]] for k, v in out["totals"]["ages"].items()} == want
    finally:
        await store.close()


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.integers(0, 800), st.sampled_from([89, 90, 91, 92, 179, 180,
                                                                 181, 364, 365, 366, 367])),
                min_size=1, max_size=12, unique=True))
def test_every_piece_is_in_the_age_of_the_whole_days_it_has_waited(days):
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(_ages(days, Path(tmp)))


# -- the figures ------------------------------------------------------------------------------

RATES = {"id": "m-pt", "type": "rates", "chain": "maison", "store": "paris-01",
         "issued_at": "2026-12-03T08:00:00Z", "body": {"rates": [
             {"metal": "platinum", "fineness": 950, "per_gram": 3_000, "currency": "EUR",
              "valid_from": "2026-12-03T08:00:00Z", "valid_until": "2099-12-31T18:00:00Z"}]}}


@pytest.fixture
async def shop(tmp_path):
    """Platinum rings (4.2 g each, cost 300,000, tag 950,000) received 400, 200, 120 and
    10 days ago; two of the 10-day ones by Atelier B, necklaces."""
    store = await Store.open(init_store(tmp_path / "s", "paris-01", "Maison", "EUR"))
    await _received(store, [
        (400, [piece("OLD-1", designer="Maison"), piece("OLD-2", designer="Maison")]),
        (200, [piece("MID-1", designer="Maison")]),
        (120, [piece("YNG-1", designer="Maison")]),
        (10, [piece(f"NEW-{i}", designer="Atelier B", category="necklace") for i in range(2)]
         + [piece("NEW-R", designer="Maison")])])
    await store.hq.apply(RATES, "sig")
    yield store
    await store.close()


async def test_each_age_is_worth_its_cost_retail_and_metal_value(shop):
    out = await shop.ledger.read(lambda tx: stock_report(tx, shop.hq, "EUR", "category",
                                                         cost=True))
    metal = 4_200 * 3_000 // 1_000  # 4.2 g of platinum 950 at 30.00 a gram
    ages = out["totals"]["ages"]
    assert ages == {
        "0-90": {"pieces": 3, "retail": 3 * 950_000, "cost": 3 * 300_000,
                 "metal_value": 3 * metal},
        "91-180": {"pieces": 1, "retail": 950_000, "cost": 300_000, "metal_value": metal},
        "181-365": {"pieces": 1, "retail": 950_000, "cost": 300_000, "metal_value": metal},
        "365+": {"pieces": 2, "retail": 2 * 950_000, "cost": 2 * 300_000,
                 "metal_value": 2 * metal}}
    rows = {r["key"]: r for r in out["rows"]}
    assert (rows["necklace"]["pieces"], rows["ring"]["pieces"]) == (2, 5)
    assert rows["ring"]["ages"]["365+"]["pieces"] == 2
    bare = await shop.ledger.read(lambda tx: stock_report(tx, shop.hq, "EUR", "designer",
                                                          cost=False))
    assert "cost" not in bare["totals"] and "cost" not in bare["totals"]["ages"]["365+"]
    assert all("cost" not in r for r in bare["rows"])


async def test_the_dashboard_glance_is_the_held_stock_and_what_has_not_moved_in_a_year(shop):
    await shop.sales.complete(register_id="R1", actor="admin", lines=[{"item_id": "OLD-1"}],
                              tenders=[{"type": "cash", "amount": 950_000}])
    glance = await shop.ledger.read(lambda tx: stock_glance(tx, shop.hq, "EUR", cost=True))
    metal = 4_200 * 3_000 // 1_000
    assert glance["held"] == {"pieces": 6, "retail": 6 * 950_000, "cost": 6 * 300_000,
                              "metal_value": 6 * metal, "unpriced": 0}
    assert glance["unmoved"] == {"pieces": 1, "retail": 950_000, "cost": 300_000,
                                 "metal_value": metal}
    bare = await shop.ledger.read(lambda tx: stock_glance(tx, shop.hq, "EUR", cost=False))
    assert "cost" not in bare["held"] and "cost" not in bare["unmoved"]
    assert bare["unmoved"]["pieces"] == 1


async def test_turnover_and_sell_through_by_category_and_designer(shop):
    for serial in ("NEW-0", "YNG-1"):
        await shop.sales.complete(register_id="R1", actor="admin", lines=[{"item_id": serial}],
                                  tenders=[{"type": "cash", "amount": 950_000}])
    asked = ask_turnover({}, date.today())
    by_category = await shop.ledger.read(lambda tx: turnover(
        tx, shop.config.timezone, "EUR", asked, cost=True))
    rows = {r["key"]: r for r in by_category["rows"]}
    # Necklaces: one sold, one held: half sold through; the cost sold equals the cost held.
    assert rows["necklace"] == {
        "key": "necklace", "sold": 1, "held": 1, "sold_net": 950_000, "held_retail": 950_000,
        "sold_cost": 300_000, "held_cost": 300_000, "sell_through_bp": 5_000,
        "turnover_bp": 10_000}
    assert (rows["ring"]["sold"], rows["ring"]["held"]) == (1, 4)
    assert rows["ring"]["sell_through_bp"] == 2_000 and rows["ring"]["turnover_bp"] == 2_500
    assert by_category["totals"]["sold"] == 2 and by_category["totals"]["held"] == 5
    assert by_category["basis"] == "cost"

    by_designer = await shop.ledger.read(lambda tx: turnover(
        tx, shop.config.timezone, "EUR", ask_turnover({"by": "designer"}, date.today()),
        cost=False))
    rows = {r["key"]: r for r in by_designer["rows"]}
    assert by_designer["basis"] == "retail"
    assert "sold_cost" not in rows["Maison"] and "held_cost" not in by_designer["totals"]
    assert (rows["Maison"]["sold"], rows["Maison"]["held"]) == (1, 4)
    assert rows["Maison"]["turnover_bp"] == 950_000 * 10_000 // (4 * 950_000)
    # A range before any sale: nothing sold, the stock held now still counted.
    early = ask_turnover({"from": "2020-01-01", "to": "2020-12-31"}, date.today())
    quiet = await shop.ledger.read(lambda tx: turnover(tx, shop.config.timezone, "EUR", early,
                                                       cost=True))
    assert quiet["totals"]["sold"] == 0 and quiet["totals"]["sell_through_bp"] == 0
    assert quiet["totals"]["held"] == 5


async def test_the_slow_movers_are_the_pieces_held_longest_oldest_first(shop):
    await shop.sales.complete(register_id="R1", actor="admin", lines=[{"item_id": "OLD-2"}],
                              tenders=[{"type": "cash", "amount": 950_000}])
    slow = await shop.ledger.read(lambda tx: slow_movers(tx, cost=True))
    assert [p["item_id"] for p in slow] == ["OLD-1", "MID-1", "YNG-1", "NEW-0", "NEW-1", "NEW-R"]
    first = slow[0]
    assert first["days"] == 400 and first["url"] == "/items/OLD-1" and first["cost"] == 300_000
    assert {"client_id", "client", "status_ref"}.isdisjoint(first)
    assert [p["item_id"] for p in await shop.ledger.read(
        lambda tx: slow_movers(tx, cost=False, limit=2))] == ["OLD-1", "MID-1"]
    assert all("cost" not in p for p in await shop.ledger.read(
        lambda tx: slow_movers(tx, cost=False)))


@pytest.mark.parametrize("query, field", [
    ({"from": "2026-12-10", "to": "2026-12-01"}, "from"),
    ({"from": "2020-01-01", "to": "2026-12-01"}, "to"),
    ({"to": "tomorrow"}, "to"),
    ({"by": "location"}, "by")])
def test_a_turnover_range_reversed_or_absurd_or_an_unknown_grouping_is_refused(query, field):
    with pytest.raises(Invalid) as refused:
        ask_turnover(query, date(2026, 12, 3))
    assert field in {p.field for p in refused.value.problems}


def test_the_turnover_range_is_the_last_365_days_unless_said():
    asked = ask_turnover({}, date(2026, 12, 3))
    assert (asked.first, asked.last, asked.by) == (date(2025, 12, 4), date(2026, 12, 3),
                                                   "category")
