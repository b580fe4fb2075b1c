"""The reports on screen, in JSON and as CSV: sales (with the glance and the entries behind
each of its rows), stock and the workshop. Each handler is one read (`SalesReport`, `trace`,
`stock_report`, `Jobs.figures`) with its filters checked the same way everywhere; cost and
margin only for a role that may see them."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from hub.core.errors import Invalid
from hub.reports import (
    clients_web,
    dashboard_web,
    memo_web,
    outcomes_web,
    pdf_web,
    stock_web,
)
from hub.reports.chart import bars
from hub.reports.layer import MARGIN, VIEW
from hub.reports.sales import GROUPINGS, PERIODS, Asked, SalesReport, ask
from hub.reports.tables import csv_download, label
from hub.reports.trace import Traced, ask_trace, trace
from hub.web.kernel import Endpoints, json_response, may, render, runtime_of, service, store_of
from hub.words import N_, Words

GROUPING_WORDS = {"day": N_("Day"), "week": N_("Week"), "month": N_("Month"),
                  "associate": N_("Associate"), "register": N_("Register"),
                  "tier": N_("Tier"), "category": N_("Category"), "metal": N_("Metal"),
                  "designer": N_("Designer"), "collection": N_("Collection"),
                  "store": N_("All")}
COLUMNS = (("sales", N_("Sales")), ("units", N_("Units")), ("discounts", N_("Discounts")),
           ("refunds", N_("Refunds")), ("net", N_("Net sales")),
           ("average_basket", N_("Average basket")),
           ("attachment_bp", N_("Attachment rate")), ("cost", N_("Cost")),
           ("margin", N_("Margin")))
MONEY = {"discounts", "refunds", "net", "average_basket", "cost", "margin"}
RATES = {"attachment_bp"}


def _report(request: web.Request) -> SalesReport:
    store = store_of(request)
    return SalesReport.of(store)


async def _read(request: web.Request, query: dict[str, str] | None = None
                ) -> tuple[Asked, dict[str, Any]]:
    """The report the request asks for (`query`: else its own query string)."""
    report = _report(request)
    asked = ask(dict(request.query) if query is None else query, report.today())
    return asked, await report.report(asked, margin=may(request, MARGIN))


def _columns(out: dict[str, Any]) -> list[tuple[str, str]]:
    return [(k, t) for k, t in COLUMNS if out["margin"] or k not in ("cost", "margin")]


def _shown(words: Words, name: str, value: Any, currency: str) -> str:
    if value is None:
        return ""
    if name in RATES:
        return words.percent(value)
    return words.money(value, currency) if name in MONEY else words.number(value)


def _label(words: Words, by: str, key: str, names: dict[str, str]) -> str:
    """A row's key as the reader says it (a tier in words; no tier: a sale to no client)."""
    if by == "tier":
        text = words.term("client_tier", key) if key else words._("No client")
        return text[:1].upper() + text[1:]
    if by == "store":
        return words._("The whole store")
    return label(words, by, key, names)


def _entries_href(out: dict[str, Any], by: str, key: str) -> str:
    """The "show entries" link of a row of the report."""
    return "/reports/entries?" + urlencode({"from": out["from"], "to": out["to"], "by": by,
                                            "key": key})


async def glance_api(request: web.Request) -> web.Response:
    return json_response(await _report(request).glance(margin=may(request, MARGIN)))


async def sales_api(request: web.Request) -> web.Response:
    _, out = await _read(request)
    return json_response(out)


async def sales_csv(request: web.Request) -> web.Response:
    """The table as the screen shows it, in the store's words (a spreadsheet opens it)."""
    store = store_of(request)
    words = store.words
    asked, out = await _read(request)
    names = {m.staff_id: m.name for m in store.staff.all()}
    columns = _csv_columns(out)
    return csv_download(f"sales-{asked.by}-{asked.first.isoformat()}-{asked.last.isoformat()}.csv", [
        [words._(GROUPING_WORDS[asked.by]), *(words._(t) for _, t in columns)],
        *([_label(words, asked.by, row["key"], names), *(_plain(k, row[k]) for k, _ in columns)]
          for row in out["rows"]),
        [words._("All"), *(_plain(k, out["totals"][k]) for k, _ in columns)]])


def _csv_columns(out: dict[str, Any]) -> list[tuple[str, str]]:
    """Every column: the screen's, with the count the attachment rate is read from beside
    it (a sheet can sum counts, not rates)."""
    columns = _columns(out)
    at = [k for k, _ in columns].index("attachment_bp")
    return [*columns[:at], ("attached", N_("Sales of two pieces or more")),
            ("attachment_bp", N_("Attachment rate (%)")), *columns[at + 1:]]


def _screen_columns(out: dict[str, Any]) -> list[tuple[str, str]]:
    # A counter tablet's width holds the figures and the margin; the cost is in the CSV.
    return [(k, t) for k, t in _columns(out) if k != "cost"]


def _change(now: int, before: int) -> int | None:
    """Now against before, in basis points (+1250 is 12.5 % up); None: nothing before."""
    return None if before <= 0 else (now - before) * 10_000 // before


def _plain(name: str, value: Any) -> Any:
    if value is None:
        return ""
    if name in RATES:  # basis points as a percentage with two decimals: 3333 is 33.33
        return f"{value // 100}.{value % 100:02d}"
    return value  # minor units stay whole numbers for a sheet


async def page(request: web.Request) -> web.Response:
    store = store_of(request)
    words = store.words
    problem = None
    try:
        asked, out = await _read(request)
    except Invalid as exc:
        problem = words.refusal(exc)
        asked, out = await _read(request, {})  # the default range, the problem said
    names = {m.staff_id: m.name for m in store.staff.all()}
    currency = out["currency"]
    rows = [{**r, "label": _label(words, asked.by, r["key"], names),
             "entries": _entries_href(out, asked.by, r["key"])} for r in out["rows"]]
    title = words._("Net sales by {grouping}").format(
        grouping=words._(GROUPING_WORDS[asked.by]).lower())
    chart = bars(title, words._("Net sales from {first} to {last}; the table below gives"
                                " every figure.").format(first=words.day(out["from"]),
                                                         last=words.day(out["to"])),
                 [(r["label"], r["net"], words.money(r["net"], currency)) for r in rows],
                 ident="chart-sales")
    columns = _screen_columns(out)
    glance = await _report(request).glance(margin=may(request, MARGIN))
    return await render(request, "reports_sales.html", {
        "glance": glance, "change": _change,
        "asked": asked, "out": out, "rows": rows, "chart": chart, "problem": problem,
        "columns": columns, "groupings": [(g, GROUPING_WORDS[g]) for g in GROUPINGS],
        "periods": PERIODS, "show": lambda name, value: _shown(words, name, value, currency),
        "all_entries": _entries_href(out, "store", ""),
        "query": request.query_string})  # the form again, the problem said above it


_QUERY = ("from", "to", "by", "compare")
_TRACE_QUERY = ("from", "to", "by", "key", "after")


async def _trace(request: web.Request, query: dict[str, str]
                 ) -> tuple[Traced, dict[str, Any]]:
    """The entries behind one row of the report, each said in words too: what it was and
    when, in the store's time."""
    store = store_of(request)
    words = store.words
    report = _report(request)
    traced = ask_trace(query, report.today())
    out = await trace(store.ledger, report, traced, margin=may(request, MARGIN))
    for e in out["entries"]:
        e["what"], e["when"] = words.term("kind", e["kind"]), words.when(e["ts"])
    return traced, out


async def entries_api(request: web.Request) -> web.Response:
    _, out = await _trace(request, dict(request.query))
    return json_response(out)


async def entries_page(request: web.Request) -> web.Response:
    store = store_of(request)
    words = store.words
    query = dict(request.query)
    try:
        traced, out = await _trace(request, query)
    except Invalid as exc:
        return await render(request, "reports_entries.html", {
            "problem": words.refusal(exc), "out": None, "back": "/reports/sales"})
    names = {m.staff_id: m.name for m in store.staff.all()}
    by = traced.asked.by
    back = {"from": out["from"], "to": out["to"],
            "by": by if by in GROUPINGS else "day"}
    more = None if out["next"] is None else "/reports/entries?" + urlencode(
        {"from": out["from"], "to": out["to"], "by": by, "key": out["key"],
         "after": out["next"]})
    return await render(request, "reports_entries.html", {
        "problem": None, "out": out, "grouping": GROUPING_WORDS[by],
        "row": _label(words, by, out["key"], names), "more": more,
        "first_page": traced.after == 0, "back": "/reports/sales?" + urlencode(back),
        "show": lambda name, value: _shown(words, name, value, out["currency"])})

async def _workshop(request: web.Request) -> dict[str, Any]:
    jobs = service(runtime_of(request).jobs, N_("the workshop"))
    return await jobs.figures()


async def workshop_api(request: web.Request) -> web.Response:
    return json_response(await _workshop(request))


async def workshop_page(request: web.Request) -> web.Response:
    words = store_of(request).words
    out = await _workshop(request)
    open_ = [{**r, "label": f"{words.term('job_kind', r['kind'])}:"
                            f" {words.term('job_stage', r['stage'])}"} for r in out["open"]]
    chart = bars(words._("Open jobs by stage"),
                 words._("How many jobs wait in each stage of the workshop; the table below"
                         " gives every figure."),
                 [(r["label"], r["jobs"], words.number(r["jobs"])) for r in open_],
                 ident="chart-workshop")
    return await render(request, "reports_workshop.html", {"out": out, "open": open_,
                                                           "chart": chart})


def setup(table: Endpoints) -> None:
    table.api("GET", "/api/v1/reports/sales", sales_api, permission=VIEW,
              summary="Sales over a range of the store's days, by day, week, month,"
                      " associate, register, tier (the client's when she bought), category,"
                      " metal, designer or collection: sales, units, discounts, refunds,"
                      " net, average basket, attachment rate (the share of sales of two"
                      " pieces or more, `attachment_bp` in basis points); cost and margin"
                      " for roles that may see them", query=_QUERY)
    table.api("GET", "/api/v1/reports/entries", entries_api, permission=VIEW,
              summary="The journal entries behind one row of the sales report (`by` as the"
                      " report, or `store` for its totals; `key` the row's day, week, month"
                      " or value): each sale, return and void with its seq, time, document"
                      " and what it added; the list adds up to the row's figures; at most"
                      " 500 a page, `after` the `next` of the page before", query=_TRACE_QUERY)
    table.api("GET", "/api/v1/reports/glance", glance_api, permission=VIEW,
              summary="Yesterday against the same weekday last year, and this month so far"
                      " against the same days of last year's")
    table.file("/api/v1/reports/sales.csv", sales_csv, permission=VIEW,
               summary="The sales report as CSV, in the store's words")
    table.page("/reports/sales", page, permission=VIEW, title=N_("Sales report"))
    table.page("/reports/entries", entries_page, permission=VIEW,
               title=N_("Entries behind a figure"))
    table.api("GET", "/api/v1/reports/workshop", workshop_api, permission=VIEW,
              summary="The workshop at a glance: open jobs by kind and stage, overdue jobs,"
                      " the average turnaround, the deposits held")
    table.page("/reports/workshop", workshop_page, permission=VIEW,
               title=N_("Workshop report"))
    table.templates("hub.reports")
    for module in (stock_web, clients_web, memo_web, outcomes_web, pdf_web,
                   dashboard_web):
        module.setup(table)
