"""The clients report against what was done: for any generated book (clients with consent
on some channels, sales to them over two and a half years, returns, voids, a merge and an
erasure), every count and lifetime value equals what the test itself recomputes from the
sales it rang up and the profiles' consent; erased and merged-away clients never count; a
rebuild from the journal gives the same tables and the same report; a bad range is refused
in a sentence."""

from __future__ import annotations

import asyncio
import tempfile
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from hub.clienteling.tiers import TIERS, Measures, TierRules, Tiers, Windows, is_rising
from hub.core.clients import CHANNELS, consent_now
from hub.core.errors import Invalid, Refused
from hub.layers import LAYERS
from hub.ledger.ledger import utc_now
from hub.money import round_half_up_div
from hub.reports import clients_book
from hub.reports.clients import (
    VALUE_BANDS,
    ClientsReport,
    Range,
    ask_clients,
    clients_glance,
    months_before,
)
from hub.runtime import Area
from hub.store import Store, init_store
from tests.builders import client, piece


def with_clients_book(layers=LAYERS):
    """The layers with the clients report's area, whether or not hub/reports/layer.py
    declares it yet."""
    out = []
    for layer in layers:
        if layer.name == "reports" and not any(
                a.schema is clients_book.SCHEMA for a in layer.areas):
            layer = replace(layer, areas=(*layer.areas, Area(
                "report_clients", clients_book.SCHEMA, clients_book.PROJECTIONS)))
        out.append(layer)
    return tuple(out)


PRICES = (150_000, 600_000, 1_200_000)
DAYS_AGO = (800, 500, 400, 300, 200, 100, 30, 0)  # none near a window's edge
ANSWER = st.sampled_from([None, True, False])
CLIENT = st.fixed_dictionaries({ch: ANSWER for ch in ("email", "sms", "post")})
# Most sales to the first three clients: tiers climb, some rise, some lapse.
SALE = st.tuples(st.just("sale"), st.one_of(st.integers(0, 2), st.integers(0, 7)),
                 st.sampled_from(DAYS_AGO), st.integers(0, 2))
RETURN = st.tuples(st.just("return"), st.integers(0, 40), st.just(0), st.just(0))
VOID = st.tuples(st.just("void"), st.integers(0, 40), st.just(0), st.just(0))
BOOK = st.fixed_dictionaries({
    "clients": st.lists(CLIENT, min_size=2, max_size=8),
    "walk_ins": st.integers(0, 2),  # joined today, nothing bought yet
    "ops": st.lists(st.one_of(SALE, SALE, SALE, RETURN, VOID), min_size=4, max_size=30),
    "merge": st.booleans(), "forget": st.booleans()})


def _at(days_ago: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


async def _build(store: Store, book: dict) -> tuple[list[str], dict[str, list[dict]]]:
    """The book as the ops say, time walking forward; returns the client ids and, per
    client, her sales as the test saw them (total, refunded, voided, days ago)."""
    ops = sorted(book["ops"], key=lambda op: -op[2] if op[0] == "sale" else 0)
    store.ledger.clock = lambda: _at(900)
    await store.items.receive_many([piece(i, tag_price=PRICES[i % 3]) for i in range(40)],
                                   actor="admin")
    ids = []
    for n, said in enumerate(book["clients"]):
        consent = {ch: {"marketing": yes, "how": "in_store"} for ch, yes in said.items()
                   if yes is not None}
        made = await store.clients.create(client(f"Client{n}", "Test", consent=consent),
                                          actor="admin")
        ids.append(made["client_id"])
    free = [f"P-{i}" for i in range(40)]
    rung: list[dict] = []
    when = 900
    for op, a, days, price in ops:
        if op == "sale":
            when = days
        store.ledger.clock = lambda w=when: _at(w)
        try:
            if op == "sale":
                serial = next((s for s in free if PRICES[int(s[2:]) % 3] == PRICES[price]),
                              None)
                if serial is None:
                    continue
                free.remove(serial)
                made = await store.sales.complete(
                    register_id="R1", actor="admin", lines=[{"item_id": serial}],
                    client_id=ids[a % len(ids)],
                    tenders=[{"type": "cash", "amount": PRICES[price]}])
                rung.append({"sale_id": made["sale_id"], "client": ids[a % len(ids)],
                             "total": made["total"], "refunded": 0, "voided": False,
                             "whole": False, "days": when})
            elif op == "return" and rung:
                sale = rung[a % len(rung)]
                done = await store.sales.return_lines(
                    sale["sale_id"], register_id="R1", actor="admin", reason="changed mind",
                    lines=[{"line_no": 1}])
                sale["refunded"] += done["refund"]
                sale["whole"] = True
            elif op == "void" and rung:
                sale = rung[a % len(rung)]
                await store.sales.void(sale["sale_id"], register_id="R1", actor="admin",
                                       reason="mistake")
                sale["voided"] = True
        except Refused:
            pass  # returned or voided already: nothing
    store.ledger.clock = utc_now
    for n in range(book["walk_ins"]):
        ids.append((await store.clients.create(client(f"Walk{n}", "In"),
                                               actor="admin"))["client_id"])
    tiers = Tiers(store, TierRules())
    await tiers.recompute_all()
    if book["merge"]:  # the second into the first: her sales are the first's now
        await store.clients.merge(ids[0], ids[1], actor="admin")
        for sale in rung:
            if sale["client"] == ids[1]:
                sale["client"] = ids[0]
        await tiers.recompute(ids[0])
    if book["forget"]:
        await store.clients.forget(ids[-1], actor="admin")
    gone = {ids[1]} if book["merge"] else set()
    gone |= {ids[-1]} if book["forget"] else set()
    by_client: dict[str, list[dict]] = {cid: [] for cid in ids if cid not in gone}
    for sale in rung:
        if sale["client"] in by_client:
            by_client[sale["client"]].append(sale)
    return ids, by_client


def _expected(by_client: dict[str, list[dict]], today: date) -> dict:
    rules = TierRules()
    tiers: Counter[str] = Counter()
    lifetimes, rising, lapsed = [], 0, 0
    for sales in by_client.values():
        kept = [s for s in sales if not s["voided"]]
        value = sum(s["total"] - s["refunded"] for s in kept)
        visits = sum(not s["whole"] for s in kept)
        recent = [s for s in kept if s["days"] < 365]
        earlier = [s for s in kept if 365 <= s["days"] < 730]
        tier = rules.tier_of(Measures(value, sum(s["total"] - s["refunded"] for s in recent),
                                      visits))
        tiers[tier] += 1
        if visits:
            lifetimes.append(value)
        rising += is_rising(Windows(
            sum(s["total"] - s["refunded"] for s in recent), sum(not s["whole"] for s in recent),
            sum(s["total"] - s["refunded"] for s in earlier),
            sum(not s["whole"] for s in earlier)))
        if tier == TIERS[-1] and min(s["days"] for s in kept) >= 200:  # over six months
            lapsed += 1
    return {"tiers": tiers, "lifetimes": sorted(lifetimes, reverse=True), "rising": rising,
            "lapsed": lapsed}


async def _check(store: Store, book: dict, ids: list[str],
                 by_client: dict[str, list[dict]]) -> None:
    report = ClientsReport(store)
    today = report.today()
    out = await report.report(ask_clients({}, today))
    want = _expected(by_client, today)
    assert out["active"] == len(by_client)
    assert {t["tier"]: t["clients"] for t in out["tiers"]} == {
        t: want["tiers"].get(t, 0) for t in TIERS}
    # Every tier of the book was reached in the last 30 days (the recompute ran today).
    assert out["movement"]["up"] == len(by_client) - want["tiers"][TIERS[0]]
    assert out["movement"]["down"] == 0
    assert {(m["from"], m["to"]): m["clients"] for m in out["movement"]["moves"]} == {
        (TIERS[0], t): n for t, n in want["tiers"].items() if t != TIERS[0]}
    walk_ins = [cid for cid in ids[len(book["clients"]):] if cid in by_client]
    assert out["new_clients"] == len(walk_ins)
    life, values = out["lifetime"], want["lifetimes"]
    assert (life["clients"], life["value"]) == (len(values), sum(values))
    assert life["average"] == (round_half_up_div(sum(values), len(values)) if values else 0)
    top = -(-len(values) // 10)
    assert life["top_clients"] == top and life["top_value"] == sum(values[:top])
    unit = 100  # EUR
    for band, (low, high) in zip(life["bands"], VALUE_BANDS, strict=True):
        inside = [v for v in values if v >= low * unit and (high is None or v < high * unit)
                  or (low == 0 and v < 0)]
        assert (band["clients"], band["value"]) == (len(inside), sum(inside))
    assert sum(b["clients"] for b in life["bands"]) == len(values)
    assert out["rising"] == want["rising"]
    assert out["lapsed_vips"] == want["lapsed"]
    # Consent: what each active client's own profile says, channel by channel.
    profiles = [(await store.clients.get(cid))["profile"] for cid in by_client]
    for row in out["consent"]:
        yes = sum(consent_now(p, row["channel"]) is True for p in profiles)
        no = sum(consent_now(p, row["channel"]) is False for p in profiles)
        assert (row["yes"], row["no"]) == (yes, no)
        assert row["share_bp"] == yes * 10_000 // len(profiles)
    assert [r["channel"] for r in out["consent"]] == list(CHANNELS)
    # The names for the staff screen: only active clients, the same counts.
    named = await report.named()
    assert {c["client_id"] for c in named["rising"]} <= set(by_client)
    assert len(named["rising"]) == out["rising"]
    assert len(named["lapsed_vips"]) == out["lapsed_vips"]
    glance = await clients_glance(store)
    assert (glance["rising"], glance["lapsed_vips"], glance["tiers"]) == (
        out["rising"], out["lapsed_vips"], out["tiers"])
    # A rebuild from the journal: the same tables, the same report.
    tables = ("report_clients", "report_client_consent", "report_client_moves")
    before = {t: [tuple(r) for r in await store.ledger.fetch(f"SELECT * FROM {t} ORDER BY 1, 2")]
              for t in tables}
    await store.rebuild()
    after = {t: [tuple(r) for r in await store.ledger.fetch(f"SELECT * FROM {t} ORDER BY 1, 2")]
             for t in tables}
    assert after == before
    assert await report.report(ask_clients({}, today)) == out


async def _run(book: dict, root: Path) -> None:
    store = await Store.open(init_store(root / "s", "paris-01", "Maison", "EUR"),
                             with_layers=with_clients_book())
    try:
        ids, by_client = await _build(store, book)
        await _check(store, book, ids, by_client)
    finally:
        await store.close()


# A book with all of it: a lapsed VIP (2), a rising client (3), a walk-in, the second client
# merged into the first, the walk-in erased.
RICH = {"clients": [{"email": True, "sms": None, "post": False},
                    {"email": None, "sms": True, "post": None},
                    {"email": False, "sms": None, "post": None},
                    {"email": True, "sms": None, "post": None}],
        "walk_ins": 2,
        "ops": [("sale", 2, 800, 2), ("sale", 2, 400, 2), ("sale", 2, 300, 2),
                ("sale", 2, 200, 2), ("sale", 3, 500, 0), ("sale", 3, 100, 1),
                ("sale", 3, 30, 2), ("sale", 0, 30, 1), ("return", 6, 0, 0),
                ("void", 7, 0, 0), ("sale", 1, 0, 1)],
        "merge": True, "forget": True}


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(BOOK)
@example(RICH)
def test_every_count_and_lifetime_value_is_what_the_sales_add_up_to(book):
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(_run(book, Path(tmp)))


@pytest.mark.parametrize("query, field, words", [
    ({"from": "2026-12-10", "to": "2026-12-01"}, "from", "ends before it begins"),
    ({"from": "2020-01-01", "to": "2026-12-01"}, "to", "at most"),
    ({"from": "yesterday"}, "from", "is not a date")])
def test_a_range_reversed_or_absurd_is_refused(query, field, words):
    with pytest.raises(Invalid) as refused:
        ask_clients(query, date(2026, 12, 3))
    assert field in {p.field for p in refused.value.problems}


def test_the_default_range_is_the_last_30_days():
    assert ask_clients({}, date(2026, 12, 3)) == Range(date(2026, 11, 4), date(2026, 12, 3))


def test_six_months_before_keeps_the_day_or_the_months_last():
    assert months_before(date(2026, 12, 3), 6) == date(2026, 6, 3)
    assert months_before(date(2026, 8, 31), 6) == date(2026, 2, 28)
    assert months_before(date(2026, 3, 15), 6) == date(2025, 9, 15)
