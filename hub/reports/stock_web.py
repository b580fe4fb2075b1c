"""The stock report on screen, in JSON and as CSV: pieces held, valued at retail, at today's
metal value and at cost (for a role that may see it), by how long they have waited, the slow
movers, and the turnover and sell-through of a range of the store's days by category or
designer. Every figure is read from the writer's running totals (hub/reports/stock_book.py,
hub/reports/book.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from hub.core.errors import Invalid
from hub.reports.chart import bars
from hub.reports.layer import MARGIN, VIEW
from hub.reports.stock import (
    AGES,
    GROUPS,
    TURNOVER_GROUPS,
    TurnoverAsked,
    ask_stock,
    ask_turnover,
    slow_movers,
    stock_report,
    turnover,
)
from hub.reports.tables import csv_download, label
from hub.web.kernel import Endpoints, json_response, may, render, store_of
from hub.words import N_, Words

STOCK_WORDS = {"category": N_("Category"), "location": N_("Location"),
               "ownership": N_("Ownership"), "designer": N_("Designer"), "metal": N_("Metal")}
AGE_WORDS = {"0-90": N_("0 to 90 days"), "91-180": N_("91 to 180 days"),
             "181-365": N_("181 to 365 days"), "365+": N_("Over a year")}


async def _stock(request: web.Request, by: str) -> dict[str, Any]:
    store = store_of(request)
    cost = may(request, MARGIN)
    return await store.ledger.read(lambda tx: {
        **stock_report(tx, store.hq, store.config.currency, by, cost=cost),
        "slow_movers": slow_movers(tx, cost=cost)})


def _today(request: web.Request) -> Any:
    return datetime.now(ZoneInfo(store_of(request).config.timezone)).date()


async def _turnover(request: web.Request, asked: TurnoverAsked) -> dict[str, Any]:
    store = store_of(request)
    cost = may(request, MARGIN)
    return await store.ledger.read(lambda tx: turnover(
        tx, store.config.timezone, store.config.currency, asked, cost=cost))


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


async def turnover_api(request: web.Request) -> web.Response:
    asked = ask_turnover(dict(request.query), _today(request))
    return json_response(await _turnover(request, asked))


def _times(words: Words, bp: int | None) -> str:
    """A turnover of 12,500 bp as the reader writes it: "1.25×"."""
    return "" if bp is None else f"{words.decimal(bp // 100, 2)}\u00d7"


def _turnover_columns(words: Words, out: dict[str, Any]) -> list[tuple[str, str]]:
    money = ([("sold_cost", words._("Cost sold")), ("held_cost", words._("Cost held"))]
             if out["basis"] == "cost" else
             [("sold_net", words._("Net sales")), ("held_retail", words._("Retail held"))])
    return [("sold", words._("Units sold")), ("held", words._("Pieces held")), *money,
            ("sell_through_bp", words._("Sell-through")), ("turnover_bp", words._("Turnover"))]


def _turnover_cell(words: Words, key: str, value: Any, currency: str) -> str:
    if value is None:
        return ""
    if key == "sell_through_bp":
        return words.percent(value)
    if key == "turnover_bp":
        return _times(words, value)
    if key in ("sold", "held"):
        return words.number(value)
    return words.money(value, currency)


async def turnover_csv(request: web.Request) -> web.Response:
    """The turnover table in the store's words; rates as plain decimals for a sheet."""
    words = store_of(request).words
    asked = ask_turnover(dict(request.query), _today(request))
    out = await _turnover(request, asked)
    columns = _turnover_columns(words, out)

    def plain(key: str, value: Any) -> Any:
        if value is None:
            return ""
        return f"{value / 10_000:.4f}" if key.endswith("_bp") else value

    return csv_download(
        f"turnover-{asked.by}-{out['from']}-{out['to']}.csv",
        [[words._(STOCK_WORDS[asked.by]), *(t for _, t in columns)],
         *([label(words, asked.by, r["key"], {}), *(plain(k, r[k]) for k, _ in columns)]
           for r in out["rows"]),
         [words._("All"), *(plain(k, out["totals"][k]) for k, _ in columns)]])


async def stock_page(request: web.Request) -> web.Response:
    words = store_of(request).words
    query = dict(request.query)
    problems = []
    try:
        by = ask_stock(query)
    except Invalid as exc:
        problems.append(words.refusal(exc))
        by = "category"
    today = _today(request)
    turnover_query = {"from": query.get("from", ""), "to": query.get("to", ""),
                      "by": query.get("turnover_by", "")}
    try:
        asked = ask_turnover(turnover_query, today)
    except Invalid as exc:
        problems.append(words.refusal(exc))
        asked = ask_turnover({}, today)  # the last year, the problem said
    out = await _stock(request, by)
    turned = await _turnover(request, asked)
    currency = out["currency"]
    ages = [(name, AGE_WORDS[name]) for name, _, _ in AGES]
    chart = bars(words._("Pieces held, by how long they have waited"),
                 words._("How many pieces have waited 0 to 90 days, 91 to 180, 181 to 365 and"
                         " over a year since they came in; the table below gives every"
                         " figure."),
                 [(words._(w), out["totals"]["ages"][n]["pieces"],
                   words.number(out["totals"]["ages"][n]["pieces"])) for n, w in ages],
                 ident="chart-stock")
    rows = [{**r, "label": label(words, by, r["key"], {})} for r in out["rows"]]
    turned_rows = [{**r, "label": label(words, asked.by, r["key"], {})} for r in turned["rows"]]
    turnover_chart = bars(
        words._("Sell-through by {grouping}").format(
            grouping=words._(STOCK_WORDS[asked.by]).lower()),
        words._("The share of each group's pieces sold from {first} to {last}; the table"
                " below gives every figure.").format(first=words.day(turned["from"]),
                                                     last=words.day(turned["to"])),
        [(r["label"], r["sell_through_bp"] or 0, words.percent(r["sell_through_bp"] or 0))
         for r in turned_rows], ident="chart-turnover")
    slow = [{**p, "category_label": label(words, "category", p["category"], {})}
            for p in out["slow_movers"]]
    return await render(request, "reports_stock.html", {
        "out": out, "rows": rows, "by": by, "groups": [(g, STOCK_WORDS[g]) for g in GROUPS],
        "ages": ages, "chart": chart, "problems": problems, "query": request.query_string,
        "turned": turned, "turned_rows": turned_rows, "turnover_chart": turnover_chart,
        "turnover_by": asked.by, "turnover_groups": [(g, STOCK_WORDS[g])
                                                     for g in TURNOVER_GROUPS],
        "turnover_columns": _turnover_columns(words, turned),
        "turnover_cell": lambda k, v: _turnover_cell(words, k, v, currency),
        "turnover_query": f"from={turned['from']}&to={turned['to']}&by={asked.by}",
        "slow": slow, "currency": currency})


def setup(table: Endpoints) -> None:
    table.api("GET", "/api/v1/reports/stock", stock_api, permission=VIEW,
              summary="Stock held by category, location, ownership, designer or metal: at"
                      " retail, at today's metal value, at cost for roles that may see it,"
                      " by how long it has waited (with each bucket's retail and metal"
                      " value), and the 50 pieces held longest", query=("by",))
    table.file("/api/v1/reports/stock.csv", stock_csv, permission=VIEW,
               summary="The stock report as CSV, in the store's words")
    table.api("GET", "/api/v1/reports/turnover", turnover_api, permission=VIEW,
              summary="Turnover and sell-through by category or designer over a range of the"
                      " store's days (the last 365 by default): units sold, pieces held now,"
                      " sold / (sold + held), and the cost sold / the cost held (for roles"
                      " that may see cost; else net sales / retail held)",
              query=("from", "to", "by"))
    table.file("/api/v1/reports/turnover.csv", turnover_csv, permission=VIEW,
               summary="Turnover and sell-through as CSV, in the store's words")
    table.page("/reports/stock", stock_page, permission=VIEW, title=N_("Stock report"))
