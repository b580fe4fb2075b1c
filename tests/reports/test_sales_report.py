"""The sales report against the journal: for any sequence of sales (by two associates at two
registers, some discounted), returns of some lines and voids, the
report's figures equal what the sales, returns and lines recorded add up to, the store
figures equal the X (Z) report of the same entries, every grouping adds up to the same net,
and a rebuild from the journal gives the very same rows."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.core.errors import Invalid, Refused
from hub.core.sales import validate_lines
from hub.reports.sales import SalesReport, ask
from hub.store import Store, init_store
from tests.builders import piece

SALE = st.tuples(st.just("sale"), st.integers(1, 2), st.integers(0, 5),
                 st.sampled_from(["admin", "sophie"]))
RETURN = st.tuples(st.just("return"), st.integers(0, 30), st.integers(0, 1), st.just(""))
VOID = st.tuples(st.just("void"), st.integers(0, 30), st.just(0), st.just(""))
OPS = st.lists(st.one_of(SALE, SALE, RETURN, VOID), min_size=1, max_size=14)

CATEGORIES = ("ring", "necklace", "bracelet")
METALS = ("gold", "platinum", "silver")


def _pieces(n: int) -> list[dict]:
    return [piece(i, category=CATEGORIES[i % 3], metal=METALS[i % 3],
                  fineness={"gold": 750, "platinum": 950, "silver": 925}[METALS[i % 3]],
                  designer=("Maison", "Atelier B", None)[i % 3],
                  tag_price=100_000 + 7_919 * i, cost=40_000 + 1_000 * i) for i in range(n)]


async def _apply(store: Store, ops: list) -> None:
    free = [f"P-{i}" for i in range(40)]
    sales: list[str] = []
    for op, a, b, actor in ops:
        try:
            if op == "sale" and len(free) >= a:
                lines = [{"item_id": free.pop()} for _ in range(a)]
                cart = await store.ledger.read(
                    lambda tx, li=lines, off=b * 1_000: store.sales.price_in(
                        tx, validate_lines(li), off, None))
                made = await store.sales.complete(
                    register_id="R1" if actor == "admin" else "R2", actor=actor, lines=lines,
                    discount=b * 1_000, tenders=[{"type": "cash", "amount": cart["total"]}])
                sales.append(made["sale_id"])
            elif op == "return" and sales:
                sale = await store.sales.get(sales[a % len(sales)])
                open_ = [li for li in sale["lines"] if li["returned_qty"] < li["quantity"]]
                if open_:
                    await store.sales.return_lines(
                        sale["sale_id"], register_id="R1", actor="admin", reason="changed mind",
                        lines=[{"line_no": open_[b % len(open_)]["line_no"]}])
            elif op == "void" and sales:
                await store.sales.void(sales[a % len(sales)], register_id="R1", actor="admin",
                                       reason="mistake")
        except Refused:
            pass  # a sale already returned or voided, a discount needing a manager: nothing


async def _check(store: Store) -> None:
    report = SalesReport(store.ledger, store.config.timezone, "EUR")
    today = report.today()
    wide = {"from": (today.replace(year=today.year - 1)).isoformat(), "to": today.isoformat()}
    by_day = await report.report(ask({**wide, "by": "day"}, today), margin=True)
    x = (await store.closures.report())["totals"]
    t = by_day["totals"]
    # The store's figures are the X report's.
    assert (t["sales"], t["net"], t["refunds"], t["discounts"]) == (
        x["sales"], x["net"], x["refund_total"], x["discounts"])
    assert sum(r["net"] for r in by_day["rows"]) == t["net"]
    # Recomputed from what the books hold of each sale line.
    rows = await store.ledger.fetch(
        "SELECT l.quantity, l.returned_qty, l.total, i.cost, i.category FROM sale_lines l"
        " JOIN items i USING (item_id)")
    units = sum(r["quantity"] - r["returned_qty"] for r in rows)
    cost = sum(r["cost"] * (r["quantity"] - r["returned_qty"]) for r in rows)
    assert (t["units"], t["cost"]) == (units, cost)
    for by in ("category", "metal", "designer", "associate", "register", "week", "month"):
        grouped = await report.report(ask({**wide, "by": by}, today), margin=True)
        assert grouped["totals"] == t
        if by in ("associate", "register", "week", "month"):
            assert sum(r["net"] for r in grouped["rows"]) == t["net"]
    by_category = await report.report(ask({**wide, "by": "category"}, today), margin=True)
    for r in by_category["rows"]:  # a line's share back on a return: its line total
        kept = [x for x in rows if x["category"] == r["key"]]
        assert r["units"] == sum(x["quantity"] - x["returned_qty"] for x in kept)
    # Without the right to see margins, none of it is there.
    bare = await report.report(ask({**wide, "by": "category"}, today), margin=False)
    assert all("cost" not in r and "margin" not in r for r in [*bare["rows"], bare["totals"]])
    before = await store.ledger.fetch("SELECT * FROM report_sales ORDER BY hour, dimension,"
                                      " value")
    await store.rebuild()
    after = await store.ledger.fetch("SELECT * FROM report_sales ORDER BY hour, dimension,"
                                     " value")
    assert [tuple(r) for r in after] == [tuple(r) for r in before]


async def _run(ops: list, root: Path) -> None:
    store = await Store.open(init_store(root / "s", "paris-01", "Maison", "EUR"))
    try:
        await store.items.receive_many(_pieces(40), actor="admin")
        await _apply(store, ops)
        if ops[0][0] == "sale":  # the first sale always goes through: something to report
            assert (await store.closures.report())["totals"]["sales"] >= 1
        await _check(store)
    finally:
        await store.close()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(OPS)
def test_every_figure_is_what_the_journal_adds_up_to(ops):
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(_run(ops, Path(tmp)))


@pytest.mark.parametrize("query, field", [
    ({"from": "2026-12-10", "to": "2026-12-01"}, "from"),
    ({"from": "2020-01-01", "to": "2026-12-01"}, "to"),
    ({"from": "yesterday"}, "from"),
    ({"by": "colour"}, "by"),
    ({"compare": "last_week"}, "compare")])
def test_a_range_reversed_or_absurd_or_an_unknown_grouping_is_refused(query, field):
    from datetime import date

    with pytest.raises(Invalid) as refused:
        ask(query, date(2026, 12, 3))
    assert field in {p.field for p in refused.value.problems}
