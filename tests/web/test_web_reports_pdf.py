"""The day and the month on paper, through the real app: sales (one discounted) and a return
on two days, each day closed, both PDFs read back with pypdf; every figure printed equals
the JSON of /api/v1/reports/sales for the same range, the day's Z figures are printed and
agree, an associate's paper has no cost or margin, and a bad or future date is refused in a
sentence."""

from __future__ import annotations

import io
import re
from calendar import monthrange
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pypdf import PdfReader
from web_helpers import NAMES, sign_in

from hub.core.errors import Invalid
from hub.reports.pdf import EARLIEST, ask_day, ask_month
from hub.workshop.part import part


def _at(store, day: date, hour: int):
    """The ledger's clock at `hour` o'clock of the store's `day`."""
    moment = datetime.combine(day, time(hour), ZoneInfo(store.config.timezone)).astimezone(UTC)
    return lambda: moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


async def _sell(store, serial: str, actor: str, discount: int = 0) -> dict:
    return await store.sales.complete(register_id="R1", actor=actor, discount=discount,
                                      lines=[{"item_id": serial}],
                                      tenders=[{"type": "cash", "amount": 250_000}])


@pytest.fixture
async def two_days(store, monkeypatch):
    """A sale 52 weeks before yesterday, closed; the day before yesterday: two sales (one
    discounted), closed; yesterday: a sale and the return of the first day's first sale,
    closed."""
    today = datetime.now(ZoneInfo(store.config.timezone)).date()
    first, second = today - timedelta(days=2), today - timedelta(days=1)
    monkeypatch.setattr(store.ledger, "clock", _at(store, second - timedelta(weeks=52), 12))
    await _sell(store, "P005", "mona")
    monkeypatch.setattr(store.ledger, "clock", _at(store, second - timedelta(weeks=52), 19))
    await store.closures.close_day("mona")  # Z 1: so Z 2 and 3 are the two days' alone
    monkeypatch.setattr(store.ledger, "clock", _at(store, first, 11))
    sold = await _sell(store, "P001", "alex")
    await _sell(store, "P002", "mona", discount=10_000)
    monkeypatch.setattr(store.ledger, "clock", _at(store, first, 19))
    await store.closures.close_day("mona")
    monkeypatch.setattr(store.ledger, "clock", _at(store, second, 11))
    await _sell(store, "P003", "alex")
    await store.sales.return_lines(sold["sale_id"], register_id="R1", actor="mona",
                                   reason="changed her mind", lines=[{"line_no": 1}])
    monkeypatch.setattr(store.ledger, "clock", _at(store, second, 19))
    await store.closures.close_day("mona")
    monkeypatch.undo()
    return first, second


async def _pdf_text(client, path: str, **params) -> tuple[str, dict]:
    r = await client.get(path, params=params)
    assert r.status == 200, await r.text()
    assert r.content_type == "application/pdf"
    assert re.search(r'filename="[a-z]+-[0-9-]+\.pdf"', r.headers["Content-Disposition"])
    reader = PdfReader(io.BytesIO(await r.read()))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").split()), r.headers


def _section(text: str, start: str, end: str | None = None) -> str:
    part = text[text.index(start) + len(start):]
    return part[:part.index(end)] if end else part


def _money(n: int) -> str:
    return f"-€{-n / 100:,.2f}" if n < 0 else f"€{n / 100:,.2f}"


FIGURES = (("net", "Net sales"), ("sales", "Sales"), ("units", "Units"),
           ("discounts", "Discounts"), ("refunds", "Refunds"),
           ("average_basket", "Average basket"), ("cost", "Cost"), ("margin", "Margin"))


def _printed(totals: dict) -> list[str]:
    return [f"{word} {totals[k] if k in ('sales', 'units') else _money(totals[k])}"
            for k, word in FIGURES if k in totals]


async def _sales_json(client, **params) -> dict:
    r = await client.get("/api/v1/reports/sales", params=params)
    assert r.status == 200, await r.text()
    return await r.json()


async def test_the_day_on_paper_says_the_report_and_its_z(client, store, two_days):
    first, second = two_days
    await sign_in(client, "mona")
    zs = {z["z_no"]: z["report"] for z in await store.closures.list()}
    for day, z_no, path_day in ((second, 3, None), (first, 2, first.isoformat())):
        text, headers = await _pdf_text(client, "/api/v1/reports/day.pdf",
                                        **({"day": path_day} if path_day else {}))
        assert f'filename="day-{day.isoformat()}.pdf"' in headers["Content-Disposition"]
        out = await _sales_json(client, **{"from": day.isoformat(), "to": day.isoformat(),
                                           "by": "associate", "compare": "last_year"})
        the_day = _section(text, "The day", "The same weekday last year")
        for line in _printed(out["totals"]):
            assert line in the_day
        before = _section(text, "The same weekday last year", "By associate")
        for line in _printed(out["compare"]["totals"]):
            assert line in before
        associates = _section(text, "By associate", "By category")
        for row in out["rows"]:
            assert f"{NAMES[row['key']]} {_money(row['net'])}" in associates
        for by, heading, end in (("category", "By category", "By metal"),
                                 ("metal", "By metal", "Z reports")):
            rows = (await _sales_json(client, **{"from": day.isoformat(),
                                                 "to": day.isoformat(), "by": by}))["rows"]
            assert [r["key"] for r in rows] == ["ring" if by == "category" else "platinum"]
            word = "Ring" if by == "category" else "Platinum"
            assert f"{word} {_money(rows[0]['net'])}" in _section(text, heading, end)
        z, printed = zs[z_no], _section(text, "Z reports")
        assert f"Z report no. {z_no}" in printed
        for word, value in (("Sales", str(z["sales"])), ("Discounts", _money(z["discounts"])),
                            ("Refunded", _money(z["refund_total"])),
                            ("Net sales", _money(z["net"])), ("Taken in cash",
                                                              _money(z["tenders"]["cash"]))):
            assert f"{word} {value}" in printed
        assert (z["sales"], z["net"], z["refund_total"], z["discounts"]) == (
            out["totals"]["sales"], out["totals"]["net"], out["totals"]["refunds"],
            out["totals"]["discounts"])
        assert "agree with the day's figures" in printed
    # The figures themselves, once: yesterday's sale less the first day's refunded sale.
    assert out["totals"]["net"] == 250_000 + 240_000  # the first day: both its sales
    assert "Alex Associate" in associates and "alex" not in text


async def test_the_month_on_paper_says_the_report(client, store, two_days):
    first, second = two_days
    await sign_in(client, "mona")
    month = second.replace(day=1)
    today = datetime.now(ZoneInfo(store.config.timezone)).date()
    last = min(month.replace(day=monthrange(month.year, month.month)[1]), today)
    text, headers = await _pdf_text(client, "/api/v1/reports/month.pdf",
                                    month=month.isoformat()[:7])
    assert f'filename="month-{month.isoformat()[:7]}.pdf"' in headers["Content-Disposition"]
    span = {"from": month.isoformat(), "to": last.isoformat()}
    out = await _sales_json(client, **span, by="day", compare="last_year")
    for line in _printed(out["totals"]):
        assert line in _section(text, "The month", "The same weeks last year")
    for line in _printed(out["compare"]["totals"]):
        assert line in _section(text, "The same weeks last year", "Net sales by day")
    days = _section(text, "Net sales by day", "By category")
    for row in out["rows"]:
        shown = date.fromisoformat(row["key"])
        assert f"{shown:%A}, {shown.day} {shown:%B} {shown.year} {_money(row['net'])}" in days
    for by, heading, end in (("category", "By category", "By designer"),
                             ("designer", "By designer", "By associate"),
                             ("associate", "By associate", "Stock held on")):
        rows = (await _sales_json(client, **span, by=by))["rows"]
        for row in rows:
            word = {"ring": "Ring", "Maison": "Maison"}.get(row["key"]) or NAMES[row["key"]]
            assert f"{word} {_money(row['net'])}" in _section(text, heading, end)
    stock = await (await client.get("/api/v1/reports/stock")).json()
    held = _section(text, "Stock held on")
    assert f"Pieces {stock['totals']['pieces']}" in held
    assert f"At retail {_money(stock['totals']['retail'])}" in held
    assert f"At cost {_money(stock['totals']['cost'])}" in held
    assert "The workshop" not in text  # its part is not running here: left out


async def test_an_associates_paper_has_no_cost_nor_margin(client, store, two_days):
    await sign_in(client, "alex")
    for path in ("/api/v1/reports/day.pdf", "/api/v1/reports/month.pdf"):
        text, _ = await _pdf_text(client, path)
        assert "Net sales" in text
        assert "margin" not in text.lower() and "cost" not in text.lower()


async def test_the_month_on_paper_has_the_workshop_when_it_runs(runtime, client):
    async with part(runtime):
        await sign_in(client, "mona")
        jobs = await (await client.get("/api/v1/reports/workshop")).json()
        text, _ = await _pdf_text(client, "/api/v1/reports/month.pdf")
        workshop = _section(text, "The workshop")
        assert f"Open jobs {jobs['open_jobs']}" in workshop
        assert f"Overdue {jobs['overdue']}" in workshop
        assert f"Collected in the last {jobs['since_days']} days {jobs['collected']}" in workshop


@pytest.mark.parametrize("path, query, words", [
    ("day.pdf", {"day": "2026-13-01"}, "is not a day"),
    ("day.pdf", {"day": "yesterday"}, "is not a day"),
    ("day.pdf", {"day": "1999-12-31"}, "from 2000-01-01 on"),
    ("day.pdf", {"day": "tomorrow"}, "has not come yet"),
    ("month.pdf", {"month": "2026-13"}, "is not a month"),
    ("month.pdf", {"month": "12-2026"}, "is not a month"),
    ("month.pdf", {"month": "1999-12"}, "from 2000-01 on"),
    ("month.pdf", {"month": "next"}, "has not begun yet")])
async def test_a_bad_or_future_date_is_a_sentence(client, store, path, query, words):
    today = datetime.now(ZoneInfo(store.config.timezone)).date()
    if query.get("day") == "tomorrow":
        query = {"day": (today + timedelta(days=1)).isoformat()}
    if query.get("month") == "next":
        ahead = today.replace(day=28) + timedelta(days=5)
        query = {"month": f"{ahead.year}-{ahead.month:02d}"}
    await sign_in(client, "mona")
    r = await client.get(f"/api/v1/reports/{path}", params=query)
    assert r.status == 400 and r.content_type == "application/json"
    refusal = await r.json()
    assert refusal["error"] == "invalid" and words in refusal["detail"]
    assert "Traceback" not in refusal["detail"]


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2040, 12, 31)),
       st.dates(min_value=EARLIEST, max_value=date(2030, 12, 31)))
def test_a_day_or_month_is_taken_when_begun_and_not_before_2000(asked, today):
    if EARLIEST <= asked <= today:
        assert ask_day(asked.isoformat(), today) == asked
    else:
        with pytest.raises(Invalid):
            ask_day(asked.isoformat(), today)
    month = asked.replace(day=1)
    if EARLIEST <= month <= today:
        assert ask_month(f"{asked.year:04d}-{asked.month:02d}", today) == month
    else:
        with pytest.raises(Invalid):
            ask_month(f"{asked.year:04d}-{asked.month:02d}", today)
    assert ask_day("", today) == today - timedelta(days=1)
    assert ask_month(" ", today) == today.replace(day=1)
