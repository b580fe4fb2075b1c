"""The stock report on screen, in JSON and as CSV: pieces held, valued at retail, at today's
metal value and at cost (for a role that may see it), and by how long they have waited."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from hub.core.errors import Invalid
from hub.reports.chart import bars
from hub.reports.layer import MARGIN, VIEW
from hub.reports.stock import AGES, GROUPS, ask_stock, stock_report
from hub.reports.tables import csv_download, label
from hub.web.kernel import Endpoints, json_response, may, render, store_of
from hub.words import N_

STOCK_WORDS = {"category": N_("Category"), "location": N_("Location"),
               "ownership": N_("Ownership"), "designer": N_("Designer"), "metal": N_("Metal")}
AGE_WORDS = {"0-90": N_("0 to 90 days"), "91-180": N_("91 to 180 days"),
             "181-365": N_("181 to 365 days"), "365+": N_("Over a year")}


async def _stock(request: web.Request, by: str) -> dict[str, Any]:
    store = store_of(request)
    return await store.ledger.read(lambda tx: stock_report(
        tx, store.hq, store.config.currency, by, cost=may(request, MARGIN)))


async def stock_api(request: web.Request) -> web.Response:
    return json_response(await _stock(request, ask_stock(dict(request.query))))


async def stock_csv(request: web.Request) -> web.Response:
    words = store_of(request).words
    by = ask_stock(dict(request.query))
    out = await _stock(request, by)
    head = [words._(STOCK_WORDS[by]), words._("Pieces"), words._("Retail"),
            words._("Metal value"), *([words._("Cost")] if out["cost"] else []),
            *(words._(AGE_WORDS[name]) for name, _, _ in AGES)]
    return csv_download(f"stock-{by}.csv", [head, *(
        [key, row["pieces"], row["retail"], row["metal_value"],
         *([row["cost"]] if out["cost"] else []),
         *(row["ages"][name]["pieces"] for name, _, _ in AGES)]
        for row, key in [*((r, label(words, by, r["key"], {})) for r in out["rows"]),
                         (out["totals"], words._("All"))])])


async def stock_page(request: web.Request) -> web.Response:
    words = store_of(request).words
    problem = None
    try:
        by = ask_stock(dict(request.query))
    except Invalid as exc:
        problem, by = words.refusal(exc), "category"
    out = await _stock(request, by)
    ages = [(name, AGE_WORDS[name]) for name, _, _ in AGES]
    chart = bars(words._("Pieces held, by how long they have waited"),
                 words._("How many pieces have waited 0 to 90 days, 91 to 180, 181 to 365 and"
                         " over a year since they came in; the table below gives every"
                         " figure."),
                 [(words._(w), out["totals"]["ages"][n]["pieces"],
                   words.number(out["totals"]["ages"][n]["pieces"])) for n, w in ages],
                 ident="chart-stock")
    rows = [{**r, "label": label(words, by, r["key"], {})} for r in out["rows"]]
    return await render(request, "reports_stock.html", {
        "out": out, "rows": rows, "by": by, "groups": [(g, STOCK_WORDS[g]) for g in GROUPS],
        "ages": ages, "chart": chart, "problem": problem, "query": request.query_string})

def setup(table: Endpoints) -> None:
    table.api("GET", "/api/v1/reports/stock", stock_api, permission=VIEW,
              summary="Stock held by category, location, ownership, designer or metal: at"
                      " retail, at today's metal value, at cost for roles that may see it,"
                      " and by how long it has waited", query=("by",))
    table.file("/api/v1/reports/stock.csv", stock_csv, permission=VIEW,
               summary="The stock report as CSV, in the store's words")
    table.page("/reports/stock", stock_page, permission=VIEW, title=N_("Stock report"))
