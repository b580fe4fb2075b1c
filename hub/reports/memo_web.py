"""Memo exposure by vendor and count accuracy over time, on screen, in JSON and as CSV.

Memo exposure (`hub.reports.memo`) is read from the memo layer's running service, so it
needs the memo part (a sentence otherwise, never a 500); counts (`hub.reports.counts`) read
the counts projections and need no count running. Cost only for a role that may see it.
Neither names a client: vendors only."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from aiohttp import web

from hub.core.errors import Invalid
from hub.memo.service import Memo
from hub.reports.chart import bars
from hub.reports.counts import ask_counts, counts_report
from hub.reports.layer import MARGIN, VIEW
from hub.reports.memo import BUCKETS, memo_report
from hub.reports.tables import csv_download
from hub.store import Store
from hub.web.kernel import Endpoints, json_response, may, render, runtime_of, service, store_of
from hub.words import N_, Listing, Words

DUE_WORDS = {"overdue": N_("Overdue"), "week": N_("Due within 7 days"),
             "month": N_("Due within 30 days"), "later": N_("Due later")}


def _memo(request: web.Request) -> Memo:
    return service(runtime_of(request).memo, N_("memo and consignment"))


def _today(store: Store) -> date:
    return datetime.now(store.words.tz).date()


# -- memo exposure ------------------------------------------------------------------------------

async def _exposure(request: web.Request) -> dict[str, Any]:
    return await memo_report(_memo(request), cost=may(request, MARGIN))


def _memo_lines(words: Words, out: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The table's lines as the reader says them: each vendor, all vendors, the pieces on
    consignment, the pieces out on approval (the last two never by client)."""
    return [*((v["name"], v) for v in out["vendors"]),
            (words._("All vendors"), out["totals"]),
            (words._("On consignment for clients"), out["consignment"]),
            (words._("Out on approval with clients"), out["approval"])]


async def memo_api(request: web.Request) -> web.Response:
    return json_response(await _exposure(request))


async def memo_csv(request: web.Request) -> web.Response:
    words = store_of(request).words
    out = await _exposure(request)
    cost = out["cost"]
    head = [words._("Vendor"), words._("Pieces"), words._("Retail"),
            *([words._("Cost"), words._("Owed now")] if cost else []),
            *(words._(DUE_WORDS[b]) for b in BUCKETS)]
    return csv_download(f"memo-{out['today']}.csv", [head, *(
        [name, line["pieces"], line["retail"],
         *([line["cost"], line.get("payable", "")] if cost else []),
         *(line["due"][b]["pieces"] for b in BUCKETS)]
        for name, line in _memo_lines(words, out))])


async def memo_page(request: web.Request) -> web.Response:
    words = store_of(request).words
    out = await _exposure(request)
    currency = out["currency"]
    held = [*((v["name"], v["retail"]) for v in out["vendors"]),
            (words._("On consignment for clients"), out["consignment"]["retail"])]
    chart = bars(words._("Pieces on memo and consignment, at retail"),
                 words._("What the pieces each vendor has on memo here, and the pieces"
                         " clients left on consignment, are worth at their tag price; the"
                         " table below gives every figure."),
                 [(name, retail, words.money(retail, currency)) for name, retail in held],
                 ident="chart-memo")
    lines = _memo_lines(words, out)
    return await render(request, "reports_memo.html", {
        "out": out, "chart": chart, "vendors": lines[:len(out["vendors"])],
        "others": lines[len(out["vendors"]):], "buckets": [(b, DUE_WORDS[b]) for b in BUCKETS]})


# -- counts -------------------------------------------------------------------------------------

async def _counts(request: web.Request, query: dict[str, str] | None = None
                  ) -> dict[str, Any]:
    store = store_of(request)
    first, last = ask_counts(dict(request.query) if query is None else query, _today(store))
    return await counts_report(store.ledger, first, last, cost=may(request, MARGIN),
                               currency=store.config.currency)


def _where(words: Words, scope: list[str] | None) -> str:
    return words.value(Listing(tuple(scope))) if scope else words._("The whole store")


async def counts_api(request: web.Request) -> web.Response:
    return json_response(await _counts(request))


async def counts_csv(request: web.Request) -> web.Response:
    words = store_of(request).words
    out = await _counts(request)
    head = [words._("When"), words._("Count"), words._("Where"), words._("Expected"),
            words._("Found"), words._("Missing"), words._("Misplaced"), words._("Unexpected"),
            words._("Accuracy (basis points)"), words._("Missing at retail")]
    figures = ("expected", "found", "missing", "misplaced", "unexpected", "accuracy_bp",
               "missing_value")
    t = out["totals"]
    return csv_download(f"counts-{out['from']}-{out['to']}.csv", [
        head,
        *([words.when(c["closed_ts"]), words.term("count_kind", c["kind"]),
           _where(words, c["scope"]), *(c[f] for f in figures)] for c in out["counts"]),
        [words._("All"), "", "", *("" if t[f] is None else t[f] for f in figures)]])


async def counts_page(request: web.Request) -> web.Response:
    words = store_of(request).words
    problem = None
    try:
        out = await _counts(request)
    except Invalid as exc:
        problem = words.refusal(exc)
        out = await _counts(request, {})  # the last 30 days, the problem said above them
    counts = [{**c, "when": words.when(c["closed_ts"]),
               "label": f"{words.day(c['day'], 'short')} {words.term('count_kind', c['kind'])}",
               "what": words.term("count_kind", c["kind"]), "where": _where(words, c["scope"])}
              for c in out["counts"]]
    chart = bars(words._("Accuracy of each count"),
                 words._("Pieces found out of the pieces expected, count by count, from"
                         " {first} to {last}; the table below gives every figure.").format(
                     first=words.day(out["from"]), last=words.day(out["to"])),
                 [(c["label"], c["accuracy_bp"], words.percent(c["accuracy_bp"]))
                  for c in counts], ident="chart-counts")
    shrinkage = [{**r, "label": _capital(words.term("category", r["category"]))}
                 for r in out["shrinkage"]["by_category"]]
    return await render(request, "reports_counts.html", {
        "out": out, "counts": counts, "chart": chart, "shrinkage": shrinkage,
        "problem": problem})


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def setup(table: Endpoints) -> None:
    table.api("GET", "/api/v1/reports/memo", memo_api, permission=VIEW,
              summary="Memo exposure by vendor: pieces on memo and on consignment and when"
                      " they fall due, pieces out on approval; at retail, at cost for roles"
                      " that may see it; no client named")
    table.file("/api/v1/reports/memo.csv", memo_csv, permission=VIEW,
               summary="Memo exposure by vendor as CSV, in the store's words")
    table.page("/reports/memo", memo_page, permission=VIEW, title=N_("Memo exposure"))
    table.api("GET", "/api/v1/reports/counts", counts_api, permission=VIEW,
              summary="Stock counts over a range of the store's days: each count's accuracy,"
                      " the range's, and the pieces written off as missing",
              query=("from", "to"))
    table.file("/api/v1/reports/counts.csv", counts_csv, permission=VIEW,
               summary="Count accuracy over a range of days as CSV, in the store's words")
    table.page("/reports/counts", counts_page, permission=VIEW,
               title=N_("Count accuracy and shrinkage"))
