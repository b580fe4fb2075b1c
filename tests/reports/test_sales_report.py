"""The sales report against the journal: for any sequence of sales (by two associates at two
registers, some discounted, some to clients whose tier moves), returns of some lines and
voids, the report's figures equal what the sales, returns and lines recorded add up to, the
store figures equal the X (Z) report of the same entries, every grouping adds up to the same
net, each tier's figures are those of the sales made while the client was of that tier, and
a rebuild from the journal gives the very same rows. Over several days, each closed with its
Z report, the JSON report's days, the CSV's and the Z reports agree exactly. A store whose
report tables are of the first version is rebuilt on upgrade as a fresh rebuild would."""

from __future__ import annotations

import asyncio
import csv
import io
import sqlite3
import tempfile
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.clienteling.tiers import TierRules, Tiers
from hub.core.errors import Invalid, Refused
from hub.core.sales import validate_lines
from hub.layers import LAYERS
from hub.reports import book
from hub.reports.sales import SalesReport, ask
from hub.runtime import Options, Runtime
from hub.store import Store, init_store
from hub.web.app import create_app
from tests.builders import client, piece

SALE = st.tuples(st.just("sale"), st.integers(1, 2), st.integers(0, 5),
                 st.sampled_from(["admin", "sophie"]), st.integers(0, 2))
RETURN = st.tuples(st.just("return"), st.integers(0, 30), st.integers(0, 1), st.just(""),
                   st.just(0))
VOID = st.tuples(st.just("void"), st.integers(0, 30), st.just(0), st.just(""), st.just(0))
OPS = st.lists(st.one_of(SALE, SALE, RETURN, VOID), min_size=1, max_size=14)
COLLECTIONS = ("Étoile", "Serpenti", None)
MANAGER_PIN = "135790"

CATEGORIES = ("ring", "necklace", "bracelet")
METALS = ("gold", "platinum", "silver")


def _pieces(n: int) -> list[dict]:
    return [piece(i, category=CATEGORIES[i % 3], metal=METALS[i % 3],
                  fineness={"gold": 750, "platinum": 950, "silver": 925}[METALS[i % 3]],
                  designer=("Maison", "Atelier B", None)[i % 3],
                  collection=COLLECTIONS[(i // 3) % 3],
                  tag_price=100_000 + 7_919 * i, cost=40_000 + 1_000 * i) for i in range(n)]


async def _clients(store: Store) -> list[str]:
    return [(await store.clients.create(client(first, "Marchand"), "admin"))["client_id"]
            for first in ("Zoë", "Inès")]


async def _apply(store: Store, ops: list, clients: list[str] = (), tiers: Tiers | None = None,
                 free: list[str] | None = None, sales: list[str] | None = None) -> None:
    """Sell, return and void as `ops` say; a sale to a client has her tier recomputed after
    it, as the clienteling part does (it journals a change of tier)."""
    free = [f"P-{i}" for i in range(40)] if free is None else free
    sales = [] if sales is None else sales
    for op, a, b, actor, who in ops:
        try:
            if op == "sale" and len(free) >= a:
                lines = [{"item_id": free.pop()} for _ in range(a)]
                her = clients[who - 1] if who and clients else None
                cart = await store.ledger.read(
                    lambda tx, li=lines, off=b * 1_000, c=her: store.sales.price_in(
                        tx, validate_lines(li), off, c))
                made = await store.sales.complete(
                    register_id="R1" if actor == "admin" else "R2", actor=actor, lines=lines,
                    discount=b * 1_000, tenders=[{"type": "cash", "amount": cart["total"]}],
                    client_id=her)
                sales.append(made["sale_id"])
                if her and tiers is not None:
                    await tiers.recompute(her)
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
    # Sales of two pieces or more (no gift card here: every line is a piece).
    pieces = await store.ledger.fetch("SELECT sale_id, SUM(quantity) AS n FROM sale_lines"
                                      " WHERE tax_code != '' GROUP BY sale_id")
    assert t["attached"] == sum(1 for r in pieces if r["n"] >= 2)
    assert t["attachment_bp"] == (t["attached"] * 10_000 // t["sales"] if t["sales"] else None)
    for by in ("category", "metal", "designer", "collection", "associate", "register", "tier",
               "week", "month"):
        grouped = await report.report(ask({**wide, "by": by}, today), margin=True)
        assert grouped["totals"] == t
        if by in ("associate", "register", "tier", "week", "month"):
            assert sum(r["net"] for r in grouped["rows"]) == t["net"]
            assert sum(r["sales"] for r in grouped["rows"]) == t["sales"]
    # Each tier: the sales made while the client was of it, less their refunds, replayed
    # from the journal (her tier is her last client.tier_changed before the sale).
    tier_now: dict[str, str] = {}
    tier_of_sale: dict[str, str] = {}
    net_by_tier: dict[str, int] = defaultdict(int)
    for entry in await store.ledger.entries(0, 100_000):
        p = store.ledger.decrypt(entry)
        if entry.kind == "client.tier_changed":
            tier_now[p["client_id"]] = p["to"]
        elif entry.kind == "sale.completed":
            cid = p["client_id"]
            tier_of_sale[p["sale_id"]] = tier_now.get(cid, "prospect") if cid else ""
            net_by_tier[tier_of_sale[p["sale_id"]]] += p["total"]
        elif entry.kind in ("sale.returned", "sale.voided"):
            net_by_tier[tier_of_sale[p["sale_id"]]] -= p["refund"]
    by_tier = await report.report(ask({**wide, "by": "tier"}, today), margin=True)
    assert {r["key"]: r["net"] for r in by_tier["rows"]} == dict(net_by_tier)
    by_category = await report.report(ask({**wide, "by": "category"}, today), margin=True)
    for r in by_category["rows"]:  # a line's share back on a return: its line total
        kept = [x for x in rows if x["category"] == r["key"]]
        assert r["units"] == sum(x["quantity"] - x["returned_qty"] for x in kept)
    # Without the right to see margins, none of it is there.
    bare = await report.report(ask({**wide, "by": "category"}, today), margin=False)
    assert all("cost" not in r and "margin" not in r for r in [*bare["rows"], bare["totals"]])
    before = await _rows(store)
    await store.rebuild()
    assert await _rows(store) == before


async def _rows(store: Store) -> tuple[list[tuple], list[tuple]]:
    sums = await store.ledger.fetch("SELECT * FROM report_sales ORDER BY hour, dimension,"
                                    " value")
    tiers = await store.ledger.fetch("SELECT * FROM report_sale_tiers ORDER BY sale_id")
    return [tuple(r) for r in sums], [tuple(r) for r in tiers]


async def _run(ops: list, root: Path) -> None:
    store = await Store.open(init_store(root / "s", "paris-01", "Maison", "EUR"))
    try:
        await store.items.receive_many(_pieces(40), actor="admin")
        await _apply(store, ops, await _clients(store), Tiers(store, TierRules()))
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


async def test_a_store_of_the_first_report_tables_is_rebuilt_on_upgrade(tmp_path):
    """The v1 table (no collection, no tier, no count of sales of two pieces) upgraded: its
    rows are made again from the journal, as a fresh rebuild makes them."""
    config = init_store(tmp_path / "s", "paris-01", "Maison", "EUR")
    store = await Store.open(config)
    try:
        await store.items.receive_many(_pieces(12), actor="admin")
        clients = await _clients(store)
        await _apply(store, [("sale", 2, 0, "admin", 1), ("sale", 1, 1, "sophie", 1),
                             ("sale", 2, 0, "sophie", 2), ("return", 1, 0, "", 0),
                             ("sale", 1, 0, "admin", 0), ("void", 3, 0, "", 0)],
                     clients, Tiers(store, TierRules()), [f"P-{i}" for i in range(12)])
        fresh = await _rows(store)
        db = store.ledger.db_path
    finally:
        await store.close()
    assert {r[1] for r in fresh[0]} >= {"collection", "tier"} and fresh[1]
    # Make it a store of the first version: its table as v1 wrote it, the area at 1.
    v1 = ", ".join(("hour", "dimension", "value", *book.FIGURES[:-1]))
    conn = sqlite3.connect(db)
    with conn:
        conn.execute(f"CREATE TABLE old AS SELECT {v1} FROM report_sales WHERE dimension"
                     " IN ('store', 'associate', 'register', 'category', 'metal', 'designer')")
        conn.execute("DROP TABLE report_sales")
        conn.execute("DROP TABLE report_sale_tiers")
        conn.execute(book._V1)
        conn.execute("INSERT INTO report_sales SELECT * FROM old")
        conn.execute("DROP TABLE old")
        conn.execute("UPDATE schema_versions SET version = 1 WHERE area = 'reports'")
    assert "attached" not in {c[1] for c in conn.execute("PRAGMA table_info(report_sales)")}
    conn.close()
    store = await Store.open(config)
    try:
        assert await _rows(store) == fresh
        version = await store.ledger.fetch_one(
            "SELECT version FROM schema_versions WHERE area = 'reports'")
        assert version["version"] == book.SCHEMA.latest
    finally:
        await store.close()


# -- several days, each closed with its Z report ---------------------------------------------

DAYS = st.lists(st.lists(st.one_of(SALE, SALE, RETURN, VOID), max_size=6), min_size=1,
                max_size=4)


async def days_of_sales(root: Path, days: list[list]) -> tuple[Store, Runtime, list[date]]:
    """A store where each of `days` (ending yesterday) had its sales, returns and voids,
    from 10:00 in the store's time, and was closed with its Z report at 21:00; a manager
    (`mona`) to read the reports. The store keeps Paris time: its days are not UTC's. The
    caller closes the store."""
    store = await Store.open(init_store(root / "s", "paris-01", "Maison", "EUR",
                                        timezone="Europe/Paris"))
    zone = ZoneInfo(store.config.timezone)
    today = datetime.now(zone).date()
    dates = [today - timedelta(days=len(days) - i) for i in range(len(days))]
    real_clock = store.ledger.clock
    moment = [datetime.combine(dates[0], time(8), zone).astimezone(UTC)]

    def clock() -> str:
        moment[0] += timedelta(seconds=7)  # the journal's times walk forward
        return moment[0].strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    store.ledger.clock = clock
    free, sales = [f"P-{i}" for i in range(40)], []
    try:
        await store.staff.enroll("mona", "Mona Manager", "manager", MANAGER_PIN, actor="admin")
        await store.items.receive_many(_pieces(40), actor="admin")
        clients = await _clients(store)
        tiers = Tiers(store, TierRules())
        for day, ops in zip(dates, days, strict=True):
            moment[0] = datetime.combine(day, time(10), zone).astimezone(UTC)
            await _apply(store, ops, clients, tiers, free, sales)
            moment[0] = datetime.combine(day, time(21), zone).astimezone(UTC)
            await store.closures.close_day("mona")
    finally:
        store.ledger.clock = real_clock
    runtime = Runtime(store.config, store, store.bus,
                      Options(host="127.0.0.1", port=0, insecure_http=True, zeroconf=False),
                      LAYERS)
    return store, runtime, dates


async def signed_in(runtime: Runtime) -> TestClient:
    web = TestClient(TestServer(create_app(runtime)))
    await web.start_server()
    r = await web.post("/api/v1/session", json={"staff_id": "mona", "pin": MANAGER_PIN,
                                                "register_id": "R1"})
    assert r.status == 200, await r.text()
    return web


async def _days_agree(days: list[list], root: Path) -> None:
    store, runtime, dates = await days_of_sales(root, days)
    try:
        web = await signed_in(runtime)
        try:
            span = {"from": dates[0].isoformat(), "to": dates[-1].isoformat(), "by": "day"}
            doc = await (await web.get("/api/v1/reports/sales", params=span)).json()
            text = await (await web.get("/api/v1/reports/sales.csv", params=span)).text()
        finally:
            await web.close()
        zone = ZoneInfo(store.config.timezone)
        z_of = {datetime.fromisoformat(z["ts"].replace("Z", "+00:00")).astimezone(zone)
                .date().isoformat(): z["report"] for z in await store.closures.list()}
        assert sorted(z_of) == [d.isoformat() for d in dates]  # one Z report a day
        table = list(csv.reader(io.StringIO(text)))
        head, body = table[0], table[1:-1]
        col = {name: head.index(name) for name in ("Sales", "Refunds", "Net sales")}
        assert [r["key"] for r in doc["rows"]] == sorted(z_of) and len(body) == len(dates)
        for row, line in zip(doc["rows"], body, strict=True):
            z = z_of[row["key"]]
            assert (row["sales"], row["refunds"], row["net"]) == (
                z["sales"], z["refund_total"], z["net"])
            assert (int(line[col["Sales"]]), int(line[col["Refunds"]]),
                    int(line[col["Net sales"]])) == (z["sales"], z["refund_total"], z["net"])
        t, all_z = doc["totals"], table[-1]
        assert (t["net"], int(all_z[col["Net sales"]])) == (sum(z["net"] for z in z_of.values()),) * 2
    finally:
        await store.close()


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DAYS)
def test_the_json_the_csv_and_the_z_reports_of_the_same_days_agree(days):
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(_days_agree(days, Path(tmp)))
