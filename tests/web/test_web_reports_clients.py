"""The clients report over HTTP: aggregates in JSON and CSV (never a name), the page with
its charts and tables, the lists with names only for a role that may see clients, a bad
range refused in a sentence with nothing written."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from web_helpers import piece, sign_in

from hub.clienteling.tiers import TierRules, Tiers
from hub.layers import LAYERS
from hub.ledger.ledger import utc_now
from hub.reports import clients_book
from hub.runtime import Area
from hub.store import Store, init_store


def with_clients_book(layers=LAYERS):
    """The layers with the clients report's area, whether or not hub/reports/layer.py
    declares it yet."""
    return tuple(replace(layer, areas=(*layer.areas, Area(
        "report_clients", clients_book.SCHEMA, clients_book.PROJECTIONS)))
        if layer.name == "reports" and not any(
            a.schema is clients_book.SCHEMA for a in layer.areas) else layer
        for layer in layers)


def _at(days_ago: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@pytest.fixture
async def store(tmp_path):
    """Béatrice Lapsed, a VIP who last bought 200 days ago; Rose Rising, who bought once
    the year before and twice as much this year; Nina New, who joined today and said yes to
    e-mails."""
    config = init_store(tmp_path / "store", "test-01", "Maison Test", "EUR")
    store = await Store.open(config, with_layers=with_clients_book())
    store.ledger.clock = lambda: _at(900)
    await store.items.receive_many(
        [piece(f"V{n}", price=1_200_000) for n in range(4)]
        + [piece(f"R{n}", price=300_000) for n in range(3)], actor="test")
    vip = (await store.clients.create({"first_name": "Béatrice", "last_name": "Lapsed",
                                       "consent": {"sms": {"marketing": False,
                                                           "how": "in_store"}}},
                                      actor="test"))["client_id"]
    rising = (await store.clients.create({"first_name": "Rose", "last_name": "Rising"},
                                         actor="test"))["client_id"]
    for serial, days, who in (("V0", 800, vip), ("V1", 800, vip), ("R0", 400, rising),
                              ("V2", 300, vip), ("V3", 200, vip), ("R1", 100, rising),
                              ("R2", 10, rising)):
        store.ledger.clock = lambda d=days: _at(d)
        price = 1_200_000 if serial.startswith("V") else 300_000
        await store.sales.complete(register_id="R1", actor="mona", client_id=who,
                                   lines=[{"item_id": serial}],
                                   tenders=[{"type": "cash", "amount": price}])
    store.ledger.clock = utc_now
    await store.clients.create({"first_name": "Nina", "last_name": "New", "emails": [
        "nina@example.com"], "consent": {"email": {"marketing": True, "how": "in_store"}}},
        actor="test")
    await Tiers(store, TierRules()).recompute_all()
    store.test_ids = {"vip": vip, "rising": rising}
    yield store
    await store.close()


async def test_the_book_in_aggregates_json_and_csv(client, store):
    await sign_in(client, "mona")
    r = await client.get("/api/v1/reports/clients")
    assert r.status == 200
    text = await r.text()
    assert "Lapsed" not in text and "Rising" not in text and store.test_ids["vip"] not in text
    doc = await r.json()
    assert doc["currency"] == "EUR" and doc["active"] == 3
    assert {t["tier"]: t["clients"] for t in doc["tiers"]} == {
        "prospect": 1, "new": 0, "loyal": 1, "vip": 1}
    assert (doc["new_clients"], doc["rising"], doc["lapsed_vips"]) == (1, 1, 1)
    assert doc["movement"] == {"up": 2, "down": 0, "moves": [
        {"from": "prospect", "to": "vip", "clients": 1},
        {"from": "prospect", "to": "loyal", "clients": 1}]}
    life = doc["lifetime"]
    assert (life["clients"], life["value"], life["average"]) == (2, 5_700_000, 2_850_000)
    assert (life["top_clients"], life["top_value"], life["top_share_bp"]) == (
        1, 4_800_000, 8421)
    assert [b["clients"] for b in life["bands"]] == [0, 0, 1, 1, 0]
    consent = {c["channel"]: c for c in doc["consent"]}
    assert (consent["email"]["yes"], consent["email"]["share_bp"]) == (1, 3333)
    assert (consent["sms"]["yes"], consent["sms"]["no"]) == (0, 1)

    r = await client.get("/api/v1/reports/clients.csv")
    assert r.status == 200 and r.content_type == "text/csv"
    body = await r.text()
    assert "Béatrice" not in body and "Rose" not in body and "Nina" not in body
    table = list(csv.reader(io.StringIO(body)))
    assert table[0] == ["Figure", "Of", "Clients", "Value", "Share"]
    rows = {(row[0], row[1]): row[2:] for row in table[1:]}
    assert rows[("Tier", "VIP")][0] == "1" and rows[("Lapsed VIPs", "")][0] == "1"
    assert rows[("Lifetime value", "All")][:2] == ["2", "5700000"]
    assert rows[("Marketing consent", "E-mail")] == ["1", "", "33.33%"]


async def test_the_page_names_clients_only_for_a_role_that_may_see_them(client, store):
    await sign_in(client, "mona")
    page = await (await client.get("/reports/clients")).text()
    for ident in ("chart-client-tiers", "chart-client-value", "chart-client-consent"):
        assert f'id="{ident}"' in page
    assert 'id="tiers-table"' in page and 'id="value-table"' in page
    assert "€28,500.00" in page  # the average lifetime value
    lapsed = page[page.index('id="lapsed-table"'):page.index('id="rising-clients"')]
    assert f'href="/clients/{store.test_ids["vip"]}"' in lapsed and "Béatrice Lapsed" in lapsed
    rising = page[page.index('id="rising-table"'):]
    assert f'href="/clients/{store.test_ids["rising"]}"' in rising and "Rose Rising" in rising

    roles = store.staff.roles
    await roles.define("associate", sorted(roles.get("associate").permissions
                                           - {"clients.view"}), actor="ada")
    await sign_in(client, "alex")
    page = await (await client.get("/reports/clients")).text()
    assert 'id="clients-lapsed"' in page and 'id="clients-no-names"' in page
    assert "Béatrice" not in page and "Rose Rising" not in page and "/clients/C" not in page


@pytest.mark.parametrize("query, words", [
    ({"from": "2026-12-10", "to": "2026-12-01"}, "ends before it begins"),
    ({"from": "2019-01-01", "to": "2026-12-01"}, "at most"),
    ({"to": "the 3rd"}, "is not a date")])
async def test_a_bad_range_is_a_sentence_and_writes_nothing(client, store, query, words):
    await sign_in(client, "mona")
    seq = store.ledger.seq
    for path in ("/api/v1/reports/clients", "/api/v1/reports/clients.csv"):
        r = await client.get(path, params=query)
        assert r.status == 400 and words in await r.text()
    page = await client.get("/reports/clients", params=query)
    text = await page.text()
    assert page.status == 200 and words in text and "Traceback" not in text
    assert store.ledger.seq == seq


async def test_the_report_is_in_the_openapi_document(client, store):
    await sign_in(client, "mona")
    doc = await (await client.get("/api/v1/openapi.json")).json()
    get = doc["paths"]["/api/v1/reports/clients"]["get"]
    assert "aggregates" in get["summary"]
    assert {p["name"] for p in get["parameters"]} >= {"from", "to"}
