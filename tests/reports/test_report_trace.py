"""The entries behind each figure of the sales report ("show entries"): for any days of
sales, returns and voids, every row of every grouping lists the sales, returns and voids
whose shares add up to the row's figures exactly, page after page; the seq span of a range
is found by bisection on the journal's times; nothing of a client is said; a bad row is a
sentence."""

from __future__ import annotations

import asyncio
import tempfile
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings

from hub.core.errors import Invalid
from hub.reports import trace
from hub.reports.book import FIGURES
from hub.reports.trace import ask_trace, last_seq_before
from tests.reports.test_sales_report import DAYS, days_of_sales, signed_in

GROUPINGS = ("day", "week", "month", "associate", "register", "tier", "category", "metal",
             "designer", "collection")


async def _entries(web, query: dict) -> tuple[dict, list[dict]]:
    """Every page of the entries behind one row: the first answer, and all the entries."""
    first = None
    listed: list[dict] = []
    after = None
    while True:
        r = await web.get("/api/v1/reports/entries",
                          params={**query, **({"after": after} if after else {})})
        assert r.status == 200, await r.text()
        doc = await r.json()
        first = first or doc
        assert sum(e["amount"] for e in doc["entries"]) == doc["sum"]["net"]
        listed += doc["entries"]
        if doc["next"] is None:
            return first, listed
        assert len(doc["entries"]) == trace.PAGE
        after = doc["next"]


async def _every_row_traced(days: list[list], root: Path) -> None:
    store, runtime, dates = await days_of_sales(root, days)
    page = trace.PAGE
    trace.PAGE = 3  # a few entries a page: every row of some size is read page after page
    try:
        web = await signed_in(runtime)
        try:
            span = {"from": dates[0].isoformat(), "to": dates[-1].isoformat()}
            for by in GROUPINGS:
                doc = await (await web.get("/api/v1/reports/sales",
                                           params={**span, "by": by})).json()
                rows = [(by, r["key"], r) for r in doc["rows"]]
                if by == "day":
                    rows.append(("store", "", doc["totals"]))
                for grouping, key, row in rows:
                    first, listed = await _entries(web, {**span, "by": grouping, "key": key})
                    assert first["figure"] == {k: v for k, v in row.items() if k != "key"}
                    for f in FIGURES:  # the list adds up to every figure of the row
                        assert sum(e["figures"][f] for e in listed) == row[f], (grouping, key, f)
                    seqs = [e["seq"] for e in listed]
                    assert seqs == sorted(set(seqs))  # each once, in the journal's order
                    assert {e["kind"] for e in listed} <= {"sale.completed", "sale.returned",
                                                           "sale.voided"}
        finally:
            await web.close()
    finally:
        trace.PAGE = page
        await store.close()


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DAYS)
def test_every_row_lists_the_entries_that_add_up_to_it(days):
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(_every_row_traced(days, Path(tmp)))


async def test_the_seq_span_is_found_by_bisection_on_the_journals_times(tmp_path):
    store, _, _ = await days_of_sales(tmp_path, [[("sale", 1, 0, "admin", 0)] * 3,
                                                 [("sale", 2, 0, "sophie", 1)] * 2])
    try:
        times = [(r["seq"], r["ts"]) for r in await store.ledger.fetch(
            "SELECT seq, ts FROM journal ORDER BY seq")]
        probes = [ts for _, ts in times] + ["2000-01-01", "2999-01-01",
                                            times[len(times) // 2][1][:13]]

        def check(tx):
            for ts in probes:
                assert last_seq_before(tx, ts) == max(
                    [seq for seq, at in times if at < ts], default=0), ts

        await store.ledger.read(check)
    finally:
        await store.close()


async def test_no_client_is_named_and_a_page_reads_in_words(tmp_path):
    store, runtime, dates = await days_of_sales(tmp_path, [[("sale", 2, 0, "admin", 1),
                                                            ("return", 0, 0, "", 0)]])
    try:
        web = await signed_in(runtime)
        try:
            query = {"from": dates[0].isoformat(), "to": dates[0].isoformat(), "by": "tier",
                     "key": "prospect"}
            r = await web.get("/api/v1/reports/entries", params=query)
            text = await r.text()
            assert r.status == 200
            ids = [row["client_id"] for row in await store.ledger.fetch(
                "SELECT client_id FROM clients")]
            assert "Zoë" not in text and "Marchand" not in text
            assert not any(cid in text for cid in ids)
            doc = await r.json()
            assert [e["kind"] for e in doc["entries"]] == ["sale.completed", "sale.returned"]
            assert doc["entries"][1]["document"] != doc["entries"][1]["sale_id"]
            sold = doc["entries"][0]  # its time in the store's zone (Paris), to the second
            assert sold["local"] == datetime.fromisoformat(sold["ts"].replace(
                "Z", "+00:00")).astimezone(ZoneInfo("Europe/Paris")).isoformat(timespec="seconds")
            # The sales page links each row to its entries, and the entries read in words.
            sales = await (await web.get("/reports/sales", params={
                "from": query["from"], "to": query["to"], "by": "tier"})).text()
            assert "/reports/entries?from=" in sales and "key=prospect" in sales
            page = await web.get("/reports/entries", params=query)
            html = await page.text()
            assert page.status == 200 and 'id="entries-table"' in html
            assert "Sold" in html and "Returned" in html and "Prospect" in html
            assert "sale.completed" not in html and "Zoë" not in html
        finally:
            await web.close()
    finally:
        await store.close()


@pytest.mark.parametrize("query, field", [
    ({"by": "day"}, "key"),
    ({"from": "2026-12-01", "to": "2026-12-03", "by": "day", "key": "2026-12-09"}, "key"),
    ({"from": "2026-12-01", "to": "2026-12-03", "by": "week", "key": "2026-W01"}, "key"),
    ({"by": "colour", "key": "red"}, "by"),
    ({"by": "associate", "key": "x" * 300}, "key"),
    ({"by": "associate", "key": "mona", "after": "-3"}, "after"),
    ({"from": "2026-12-09", "to": "2026-12-01", "by": "store"}, "from")])
def test_a_row_that_is_not_there_is_refused_in_a_sentence(query, field):
    with pytest.raises(Invalid) as refused:
        ask_trace(query, date(2026, 12, 3))
    assert field in {p.field for p in refused.value.problems}


def test_a_row_of_the_range_is_taken():
    asked = ask_trace({"from": "2026-11-30", "to": "2026-12-03", "by": "week",
                       "key": "2026-W49"}, date(2026, 12, 3))
    assert (asked.asked.by, asked.key, asked.after) == ("week", "2026-W49", 0)
    assert ask_trace({"by": "designer", "key": ""}, date(2026, 12, 3)).key == ""  # not said
    assert trace.PAGE == 500


async def test_a_bad_row_is_a_sentence_on_the_page_and_in_the_api(tmp_path):
    store, runtime, _ = await days_of_sales(tmp_path, [[]])
    try:
        web = await signed_in(runtime)
        try:
            r = await web.get("/api/v1/reports/entries", params={"by": "day"})
            assert r.status == 400 and "which row" in await r.text()
            page = await web.get("/reports/entries", params={"by": "day", "key": "soon"})
            html = await page.text()
            assert page.status == 200 and "not a day, week or month" in html
            assert "Traceback" not in html
        finally:
            await web.close()
    finally:
        await store.close()
