"""The chain's reports on HQ's console, store by store: the Reports page (each store's
yesterday and month so far against last year's same days, a range by day, week or month
with a chart of the chosen figure by store and its table beneath, the stock each store
holds at retail), the same as CSV, and as JSON under `/api/v1/reports/`.

Mounted on the console's app as one of its setups (`create_app(console, [..., setup])`);
every read is one call of `hub.hq.reports` on HQ's storage thread. Its permissions are the
console's own: `sales.view` for the sales, `stock.view` for the stock."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web

from hub.core.errors import Invalid
from hub.hq.console.app import CONSOLE, SESSION, permit, render_page
from hub.hq.console.auth import PUBLIC, allows
from hub.hq.reports import PERIODS, SHOWN, Asked, ChainReport, ask, stock_held
from hub.reports.chart import bars
from hub.reports.tables import csv_download, label
from hub.words import N_, Words

HERE = Path(__file__).parent

PERIOD_WORDS = {"day": N_("Day"), "week": N_("Week"), "month": N_("Month")}
FIGURE_WORDS = {"net": N_("Net sales"), "sales": N_("Sales"), "units": N_("Units"),
                "discounts": N_("Discounts"), "refunds": N_("Refunds"),
                "average_basket": N_("Average basket"),
                "attachment_bp": N_("Attachment rate")}
COLUMNS = ("sales", "units", "discounts", "refunds", "net", "average_basket",
           "attachment_bp")
CSV_WORDS = {"attached": N_("Sales of two pieces or more"),
             "attachment_bp": N_("Attachment rate (%)")}
MONEY = {"discounts", "refunds", "net", "average_basket"}


def _shown(words: Words, name: str, value: int | None, currency: str | None) -> str:
    if value is None:  # a rate of no sale
        return "—"
    if name == "attachment_bp":
        return words.percent(value)
    if name not in MONEY:
        return words.number(value)
    return words.money(value, currency) if currency else "—"


def _chain(request: web.Request) -> ChainReport:
    return ChainReport(request.app[CONSOLE].words.tz)


async def _read(request: web.Request, query: dict[str, str] | None = None
                ) -> tuple[Asked, dict[str, Any]]:
    """The range the request asks for (`query`: else its own query string), read."""
    console = request.app[CONSOLE]
    chain = _chain(request)
    asked = ask(dict(request.query) if query is None else query, chain.today())
    return asked, await console.call(chain.report, console.hq.storage, asked)


def _refused(words: Words, exc: Invalid) -> web.Response:
    return web.json_response({"error": words.refusal(exc), "problems": words.problems(exc)},
                             status=400)


async def sales_api(request: web.Request) -> web.Response:
    words = request.app[CONSOLE].words
    try:
        _, out = await _read(request)
    except Invalid as exc:
        return _refused(words, exc)
    return web.json_response(out)


async def glance_api(request: web.Request) -> web.Response:
    console = request.app[CONSOLE]
    return web.json_response({"stores": await console.call(_chain(request).glance,
                                                           console.hq.storage)})


async def stock_api(request: web.Request) -> web.Response:
    console = request.app[CONSOLE]
    return web.json_response({"stores": await console.call(stock_held, console.hq.storage)})


async def sales_csv(request: web.Request) -> web.Response:
    """A row per store and period, in the console's words, as the store's own CSV gives
    them: amounts in minor units with their currency, the count the attachment rate is read
    from beside it (a sheet can sum counts, not rates), the rate as a percentage."""
    words = request.app[CONSOLE].words
    try:
        asked, out = await _read(request)
    except Invalid as exc:
        return _refused(words, exc)
    columns = [*COLUMNS[:-1], "attached", "attachment_bp"]
    heading = [words._("Store"), words._(PERIOD_WORDS[asked.by]),
               *(words._(CSV_WORDS.get(k) or FIGURE_WORDS[k]) for k in columns),
               words._("Currency")]
    rows = [[s["store_id"], label(words, asked.by, r["key"], {}),
             *(_plain(k, r[k]) for k in columns), s["currency"] or ""]
            for s in out["stores"] for r in s["rows"]]
    return csv_download(f"chain-sales-{asked.by}-{out['from']}-{out['to']}.csv",
                        [heading, *rows])


def _plain(name: str, value: int | None) -> Any:
    if value is None:
        return ""
    if name == "attachment_bp":  # basis points as a percentage with two decimals
        return f"{value // 100}.{value % 100:02d}"
    return value


def _charts(words: Words, out: dict[str, Any]) -> list[str]:
    """One chart per currency (figures in two currencies are not one scale): a bar per
    store for the chosen figure over the range."""
    figure = out["figure"]
    name = words._(FIGURE_WORDS[figure])
    currencies = sorted({s["currency"] for s in out["stores"] if s["currency"]})
    charts = []
    for n, currency in enumerate(currencies or [None]):
        stores = [s for s in out["stores"] if s["currency"] == currency]
        title = words._("%(figure)s by store") % {"figure": name}
        if len(currencies) > 1:
            title += f" ({currency})"
        charts.append(bars(title, words._(
            "%(figure)s of each store from %(first)s to %(last)s; the table below gives every"
            " figure.") % {"figure": name, "first": words.day(out["from"]),
                           "last": words.day(out["to"])},
            [(s["store_id"], s["totals"][figure] or 0,
              _shown(words, figure, s["totals"][figure], s["currency"])) for s in stores],
            ident=f"chart-chain-{n}"))
    return charts


async def page(request: web.Request) -> web.Response:
    console = request.app[CONSOLE]
    words = console.words
    problem = None
    try:
        asked, out = await _read(request)
    except Invalid as exc:  # the default range shown, the problem said above it
        problem = words.refusal(exc)
        asked, out = await _read(request, {})
    session = request.get(SESSION)
    role = session.role if session else None
    glance = await console.call(_chain(request).glance, console.hq.storage)
    stock = await console.call(stock_held, console.hq.storage) \
        if allows(role, "stock.view") else None
    periods = [{"key": k, "label": label(words, asked.by, k, {}),
                "cells": [(s, s["rows"][i][asked.figure]) for s in out["stores"]]}
               for i, k in enumerate(out["periods"])]
    return render_page(request, "reports.html", {
        "asked": asked, "out": out, "problem": problem, "glance": glance, "stock": stock,
        "charts": _charts(words, out), "periods": periods, "columns": COLUMNS,
        "figure_words": FIGURE_WORDS, "period_words": PERIOD_WORDS,
        "period_choices": PERIODS, "figure_choices": SHOWN,
        "show": lambda name, value, currency: _shown(words, name, value, currency),
        "query": request.query_string if problem is None else ""})


async def stylesheet(request: web.Request) -> web.FileResponse:
    return web.FileResponse(HERE / "static" / "reports.css",
                            headers={"Content-Type": "text/css"})


def setup(app: web.Application, console: Any) -> None:
    """Mount the reports on the console's app."""
    for path, handler, permission in (
            ("/reports", page, "sales.view"),
            ("/reports/sales.csv", sales_csv, "sales.view"),
            ("/reports.css", stylesheet, PUBLIC),
            ("/api/v1/reports/sales", sales_api, "sales.view"),
            ("/api/v1/reports/glance", glance_api, "sales.view"),
            ("/api/v1/reports/stock", stock_api, "stock.view")):
        permit(app, app.router.add_route("GET", path, handler), permission)
