"""Memo exposure and count accuracy through the real services: memos received from two vendors
with their due days, a memo piece sold (its vendor owed), a consignment and pieces out on
approval, then the store's days moved on so some fall overdue; counts run through the counts
service with pieces missing, misplaced and tags on no piece, missing pieces confirmed and one
found again. Every figure is what was created; for any memos, the due buckets add up to what
each piece's due day says; ranges reversed or absurd are refused."""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.core.errors import Invalid
from hub.counts.service import Counts
from hub.counts.settings import CountSettings
from hub.memo.part import memo_of
from hub.memo.service import Memo
from hub.reports.counts import ask_counts, counts_glance, counts_report
from hub.reports.memo import BUCKETS, due_bucket, memo_glance, memo_report
from hub.store import Store, init_store
from tests.builders import cash, piece
from tests.builders import client as client_of
from tests.counts.conftest import FOREIGN, next_event, read, stock


@pytest.fixture
async def memo(store: Store) -> AsyncIterator[Memo]:
    with memo_of(store) as memo:
        yield memo


def _later(memo: Memo, days: int) -> None:
    moved = memo.now() + timedelta(days=days)
    memo.now = lambda: moved


async def _memo_scene(store: Store, memo: Memo) -> str:
    """Two vendors' memos, one memo piece sold, a consignment, two pieces on approval; the
    store's day then five days on. Returns her client id."""
    today = memo.today()
    a = (await memo.add_vendor({"name": "Atelier Vendôme", "terms_days": 60}, actor="m"))
    b = (await memo.add_vendor({"name": "Maison Dubois", "terms_days": 90}, actor="m"))
    await memo.receive({"vendor_id": a["vendor_id"], "memo_ref": "AV-1",
                        "due": (today + timedelta(days=3)).isoformat(), "pieces": [
                            piece("M-1", tag_price=1_000_000, cost=400_000),
                            {**piece("M-2", tag_price=500_000, cost=200_000),
                             "owed": 250_000}]}, actor="m")
    await memo.receive({"vendor_id": a["vendor_id"], "memo_ref": "AV-2", "terms_days": 30,
                        "pieces": [piece("M-3", tag_price=300_000, cost=100_000)]}, actor="m")
    await memo.receive({"vendor_id": b["vendor_id"], "memo_ref": "MD-1", "pieces": [
        piece("M-4", tag_price=800_000, cost=350_000)]}, actor="m")  # its own net 90
    await memo.receive({"vendor_id": b["vendor_id"], "memo_ref": "MD-2",
                        "due": (today + timedelta(days=9)).isoformat(),
                        "pieces": [piece("M-5", tag_price=200_000, cost=80_000)]}, actor="m")
    await store.items.receive(piece("P-1", tag_price=600_000, cost=250_000), actor="m")
    await store.sales.complete(register_id="R1", actor="alex", lines=[{"item_id": "M-2"}],
                               tenders=cash(500_000))
    her = (await store.clients.create(client_of("Camille", "Durand"), "m"))["client_id"]
    await memo.consign({"client_id": her, "commission_bp": 2_500, "minimum": 400_000,
                        "term_days": 12, "piece": piece("W-1", tag_price=500_000,
                                                        category="watch")}, actor="m")
    for item_id, days in (("P-1", 2), ("M-3", 20)):
        await memo.send_out({"item_id": item_id, "client_id": her,
                             "due": (today + timedelta(days=days)).isoformat()}, actor="alex")
    _later(memo, 5)
    return her


async def test_memo_exposure_by_vendor_and_due_day(store, memo):
    her = await _memo_scene(store, memo)
    out = await memo_report(memo, cost=True)
    rows = {v["name"]: v for v in out["vendors"]}
    a, b = rows["Atelier Vendôme"], rows["Maison Dubois"]
    # M-1 (due in 3 days, 5 days ago) is overdue; M-3 (net 30) is due in 25 days; M-2 sold.
    assert (a["pieces"], a["retail"], a["cost"], a["payable"]) == (
        2, 1_300_000, 500_000, 250_000)
    assert {k: v["pieces"] for k, v in a["due"].items()} == {
        "overdue": 1, "week": 0, "month": 1, "later": 0}
    assert a["due"]["overdue"] == {"pieces": 1, "retail": 1_000_000, "cost": 400_000}
    assert (b["pieces"], b["retail"], b["cost"], b["payable"]) == (2, 1_000_000, 430_000, 0)
    assert {k: v["pieces"] for k, v in b["due"].items()} == {
        "overdue": 0, "week": 1, "month": 0, "later": 1}
    assert [v["name"] for v in out["vendors"]] == ["Atelier Vendôme", "Maison Dubois"]
    t = out["totals"]
    assert (t["pieces"], t["retail"], t["cost"], t["payable"]) == (
        4, 2_300_000, 930_000, 250_000)
    # Her watch: at most 12 days, 7 left; her cost is her share at the agreed price.
    c = out["consignment"]
    assert (c["pieces"], c["retail"], c["cost"], c["due"]["week"]["pieces"]) == (
        1, 500_000, 300_000, 1)
    # P-1 was due back 3 days ago; M-3 (a memo piece, still its vendor's) in 15 days.
    o = out["approval"]
    assert (o["pieces"], o["retail"]) == (2, 900_000)
    assert (o["due"]["overdue"]["pieces"], o["due"]["month"]["pieces"]) == (1, 1)
    assert her not in repr(out) and "Camille" not in repr(out) and "Durand" not in repr(out)

    bare = await memo_report(memo, cost=False)
    for line in (*bare["vendors"], bare["totals"], bare["consignment"], bare["approval"]):
        assert "cost" not in line and "payable" not in line
        assert all("cost" not in bucket for bucket in line["due"].values())
        assert "retail" in line

    assert await memo_glance(memo, cost=True) == {
        "currency": "EUR", "pieces": 4, "retail": 2_300_000, "cost": 930_000, "overdue": 1,
        "due_within_7": 1, "approval_overdue": 1}
    assert "cost" not in await memo_glance(memo, cost=False)
    await store.rebuild()  # the memo area's projections again from the journal: the same
    assert await memo_report(memo, cost=True) == out


def test_due_buckets_at_their_edges():
    today = date(2026, 12, 3)
    days = {n: due_bucket((today + timedelta(days=n)).isoformat(), today)
            for n in (-1, 0, 7, 8, 30, 31)}
    assert days == {-1: "overdue", 0: "week", 7: "week", 8: "month", 30: "month", 31: "later"}


DUES = st.lists(st.tuples(st.integers(0, 2), st.integers(0, 120),
                          st.integers(1, 50).map(lambda n: n * 10_000)),
                min_size=1, max_size=8)


async def _memos_add_up(dues: list, later: int, root: Path) -> None:
    store = await Store.open(init_store(root / "s", "paris-01", "Maison", "EUR"))
    try:
        with memo_of(store) as memo:
            vendors = [(await memo.add_vendor({"name": f"Vendor {n}", "terms_days": 30},
                                              actor="m"))["vendor_id"] for n in range(3)]
            today = memo.today()
            for i, (v, days, price) in enumerate(dues):
                await memo.receive({"vendor_id": vendors[v], "memo_ref": f"R{i}",
                                    "due": (today + timedelta(days=days)).isoformat(),
                                    "pieces": [piece(f"M-{i}", tag_price=price,
                                                     cost=price // 3)]}, actor="m")
            _later(memo, later)
            out = await memo_report(memo, cost=True)
            glance = await memo_glance(memo, cost=True)
        rows = {v["vendor_id"]: v for v in out["vendors"]}
        for n, vendor_id in enumerate(vendors):
            mine = [(d, p) for v, d, p in dues if v == n]
            if not mine:
                assert vendor_id not in rows  # nothing on memo, nothing owed: not listed
                continue
            row = rows[vendor_id]
            for bucket in BUCKETS:
                kept = [p for d, p in mine if due_bucket(
                    (today + timedelta(days=d)).isoformat(), today + timedelta(days=later))
                    == bucket]
                assert row["due"][bucket] == {"pieces": len(kept), "retail": sum(kept),
                                              "cost": sum(p // 3 for p in kept)}
            assert row["pieces"] == sum(row["due"][b]["pieces"] for b in BUCKETS)
        t = out["totals"]
        assert (t["pieces"], t["retail"]) == (len(dues), sum(p for _, _, p in dues))
        assert t["cost"] == sum(p // 3 for _, _, p in dues)
        # The dashboard's own read says what the report says.
        assert glance == {"currency": "EUR", "pieces": t["pieces"], "retail": t["retail"],
                          "cost": t["cost"], "overdue": t["due"]["overdue"]["pieces"],
                          "due_within_7": t["due"]["week"]["pieces"], "approval_overdue": 0}
    finally:
        await store.close()


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DUES, st.integers(0, 60))
def test_for_any_memos_the_due_buckets_add_up(dues, later):
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(_memos_add_up(dues, later, Path(tmp)))


# -- counts ----------------------------------------------------------------------------------

@pytest.fixture
async def counts(store: Store) -> AsyncIterator[Counts]:
    await stock(store)  # P-1..P-3 in showcase-1, P-4..P-6 in showcase-2, P-7, P-8 in the safe
    engine = Counts(store, store.bus, CountSettings(flush_interval_s=0.05,
                                                    progress_interval_s=0.02))
    await engine.start()
    try:
        yield engine
    finally:
        await engine.stop()


async def _count_scene(store: Store, counts: Counts) -> None:
    """Forty days ago a count of the safe; today a closing count of both showcases (P-3 and
    P-6 not read, the safe's P-7 read in showcase 2, a foreign tag) and an opening count of
    the safe (P-7 not there). P-3 and P-6 are confirmed missing, then P-3 answers again."""
    epcs = {r["item_id"]: r["epc"] for r in await store.ledger.fetch(
        "SELECT item_id, epc FROM items")}
    await counts.start_count("spot", ["safe"], "manager", now=time.time() - 40 * 86_400)
    read(store.bus, epcs["P-7"], "safe")
    read(store.bus, epcs["P-8"], "safe")
    await counts.close(next(iter(counts.sessions)), "manager")

    await counts.start_count("closing", ["showcase-1", "showcase-2"], "manager")
    for item_id in ("P-1", "P-2", "P-4", "P-5"):
        read(store.bus, epcs[item_id], "showcase-1" if item_id < "P-4" else "showcase-2")
    read(store.bus, epcs["P-7"], "showcase-2")
    read(store.bus, FOREIGN, "showcase-2")
    closing = await counts.close(next(iter(counts.sessions)), "manager")
    await counts.confirm_missing(closing["count_id"], "manager")

    await counts.start_count("opening", ["safe"], "manager")
    read(store.bus, epcs["P-8"], "safe")
    await counts.close(next(iter(counts.sessions)), "manager")

    with store.bus.subscribe("count.found") as sub:
        read(store.bus, epcs["P-3"], "tray-A", device="tsl-9")  # no count open: news
        await next_event(sub)  # published once its entry is written


async def test_count_accuracy_and_shrinkage_over_the_last_thirty_days(store, counts):
    await _count_scene(store, counts)
    today = datetime.now(store.words.tz).date()  # the store's day the counts were on
    first, last = ask_counts({}, today)
    assert (last - first).days == 29
    out = await counts_report(store.ledger, first, last, cost=True, currency="EUR")
    closing, opening = out["counts"]
    assert (closing["kind"], closing["scope"]) == ("closing", ["showcase-1", "showcase-2"])
    assert (closing["expected"], closing["found"], closing["missing"], closing["misplaced"],
            closing["unexpected"]) == (6, 4, 2, 1, 1)
    assert closing["accuracy_bp"] == 4 * 10_000 // 6 and closing["in_place_bp"] == 6666
    assert closing["missing_value"] == 2 * 950_000
    assert (opening["kind"], opening["scope"], opening["expected"], opening["found"],
            opening["missing"], opening["accuracy_bp"]) == ("opening", ["safe"], 2, 1, 1, 5000)
    t = out["totals"]
    assert (t["counts"], t["expected"], t["found"], t["missing"], t["misplaced"],
            t["unexpected"]) == (2, 8, 5, 3, 1, 1)
    assert t["accuracy_bp"] == 5 * 10_000 // 8  # every count's pieces together
    # P-3 and P-6 written off after the closing count; P-3 found again since: one lost.
    s = out["shrinkage"]
    assert (s["pieces"], s["retail"], s["cost"], s["found_again"]) == (
        1, 950_000, 300_000, 1)
    assert s["by_category"] == [{"category": "ring", "pieces": 1, "retail": 950_000,
                                 "cost": 300_000, "found_again": 1}]
    bare = await counts_report(store.ledger, first, last, cost=False, currency="EUR")
    assert "cost" not in bare["shrinkage"] and "cost" not in bare["shrinkage"]["by_category"][0]
    assert bare["counts"] == out["counts"]

    # The count of forty days ago, with a range that reaches it.
    wide = await counts_report(store.ledger, *ask_counts(
        {"from": (today - timedelta(days=45)).isoformat()}, today), cost=True, currency="EUR")
    assert [c["kind"] for c in wide["counts"]] == ["spot", "closing", "opening"]
    assert wide["counts"][0]["accuracy_bp"] == 10_000

    assert await counts_glance(store.ledger, today) == {
        "from": first.isoformat(), "to": today.isoformat(), "counts": 2,
        "accuracy_bp": 6250, "missing": 3, "lost": 1}
    nothing = await counts_glance(store.ledger, today - timedelta(days=100))
    assert (nothing["counts"], nothing["accuracy_bp"], nothing["missing"]) == (0, None, 0)

    # A rebuild from the journal gives the very same report.
    await store.rebuild()
    assert await counts_report(store.ledger, first, last, cost=True, currency="EUR") == out


@pytest.mark.parametrize("query, field", [
    ({"from": "2026-12-10", "to": "2026-12-01"}, "from"),
    ({"from": "2020-01-01", "to": "2026-12-01"}, "to"),
    ({"to": "31/12/2026"}, "to"),
    ({"to": "0001-01-05"}, "to")])
def test_a_range_reversed_or_absurd_is_refused(query, field):
    with pytest.raises(Invalid) as refused:
        ask_counts(query, date(2026, 12, 3))
    assert field in {p.field for p in refused.value.problems}
