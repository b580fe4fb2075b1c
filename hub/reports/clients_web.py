"""The clients report on screen, in JSON and as CSV (hub/reports/clients.py): tiers and
their movement, lifetime value, new, rising and lapsed clients, consent per channel.

The JSON and the CSV are aggregates only. The screen adds the two lists with names (lapsed
VIPs, rising clients) for a role that may see clients and their spend; anyone else reads
the counts."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from hub.core.errors import Invalid
from hub.reports.chart import bars
from hub.reports.clients import LAPSED_MONTHS, TOP_PERCENT, ClientsReport, ask_clients
from hub.reports.layer import VIEW
from hub.reports.tables import csv_download
from hub.web.kernel import Endpoints, json_response, may, render, store_of
from hub.words import N_, Words

# Names with their spend: the client book's own right, and the tiers' (spend by client).
NAMES_NEED = ("clients.view", "clients.tiers")
_QUERY = ("from", "to")


def may_see_names(request: web.Request) -> bool:
    return all(may(request, permission) for permission in NAMES_NEED)


async def _read(request: web.Request, query: dict[str, str] | None = None
                ) -> dict[str, Any]:
    report = ClientsReport(store_of(request))
    asked = ask_clients(dict(request.query) if query is None else query, report.today())
    return await report.report(asked)


async def clients_api(request: web.Request) -> web.Response:
    return json_response(await _read(request))


def band_label(words: Words, band: dict[str, Any], currency: str) -> str:
    if band["to"] is None:
        return words._("{low} and more").format(low=words.money(band["from"], currency))
    return words._("{low} to {high}").format(low=words.money(band["from"], currency),
                                             high=words.money(band["to"], currency))


def _tier(words: Words, tier: str) -> str:
    text = words.term("client_tier", tier)
    return text[:1].upper() + text[1:]


def _channel(words: Words, channel: str) -> str:
    return words.term("channel", channel)


async def clients_csv(request: web.Request) -> web.Response:
    """The aggregates as the screen shows them, in the store's words: never a name."""
    words = store_of(request).words
    out = await _read(request)
    cur = out["currency"]
    life = out["lifetime"]
    rows: list[list[Any]] = [
        [words._("Figure"), words._("Of"), words._("Clients"), words._("Value"),
         words._("Share")],
        [words._("Active clients"), "", out["active"], "", ""],
        *([words._("Tier"), _tier(words, t["tier"]), t["clients"], "", ""]
          for t in out["tiers"]),
        [words._("Moved up a tier"), "", out["movement"]["up"], "", ""],
        [words._("Moved down a tier"), "", out["movement"]["down"], "", ""],
        *([words._("Tier movement"), words._("{was} to {now}").format(
            was=_tier(words, m["from"]), now=_tier(words, m["to"])), m["clients"], "", ""]
          for m in out["movement"]["moves"]),
        [words._("New clients"), "", out["new_clients"], "", ""],
        [words._("Rising clients"), "", out["rising"], "", ""],
        [words._("Lapsed VIPs"), "", out["lapsed_vips"], "", ""],
        *([words._("Lifetime value"), band_label(words, b, cur), b["clients"], b["value"], ""]
          for b in life["bands"]),
        [words._("Lifetime value"), words._("All"), life["clients"], life["value"], ""],
        [words._("Average lifetime value"), "", life["clients"], life["average"], ""],
        [words._("The top {top} of clients").format(top=words.percent(TOP_PERCENT * 100)), "",
         life["top_clients"], life["top_value"],
         "" if life["top_share_bp"] is None else words.percent(life["top_share_bp"])],
        *([words._("Marketing consent"), _channel(words, c["channel"]), c["yes"], "",
           words.percent(c["share_bp"])] for c in out["consent"])]
    return csv_download(f"clients-{out['from']}-{out['to']}.csv", rows)


async def clients_page(request: web.Request) -> web.Response:
    store = store_of(request)
    words = store.words
    problem = None
    try:
        out = await _read(request)
    except Invalid as exc:
        problem = words.refusal(exc)
        out = await _read(request, {})  # the default range, the problem said
    cur = out["currency"]
    tiers = [{**t, "label": _tier(words, t["tier"])} for t in out["tiers"]]
    bands = [{**b, "label": band_label(words, b, cur)} for b in out["lifetime"]["bands"]]
    consent = [{**c, "label": _channel(words, c["channel"])} for c in out["consent"]]
    moves = [{**m, "label": words._("{was} to {now}").format(
        was=_tier(words, m["from"]), now=_tier(words, m["to"]))}
        for m in out["movement"]["moves"]]
    charts = {
        "tiers": bars(words._("Clients by tier"),
                      words._("How many active clients are in each tier today; the table"
                              " below gives every figure."),
                      [(t["label"], t["clients"], words.number(t["clients"])) for t in tiers],
                      ident="chart-client-tiers"),
        "value": bars(words._("Clients by lifetime value"),
                      words._("How many clients have spent, over all their purchases, within"
                              " each band; the table below gives every figure."),
                      [(b["label"], b["clients"], words.number(b["clients"])) for b in bands],
                      ident="chart-client-value"),
        "consent": bars(words._("Marketing consent by channel"),
                        words._("How many active clients said yes to marketing on each"
                                " channel, beside all the active clients; the table below"
                                " gives every figure."),
                        [(words._("All clients"), out["active"], words.number(out["active"])),
                         *((c["label"], c["yes"], words.percent(c["share_bp"]))
                           for c in consent)], ident="chart-client-consent")}
    names = may_see_names(request)
    named = await ClientsReport(store).named() if names else None
    return await render(request, "reports_clients.html", {
        "out": out, "tiers": tiers, "bands": bands, "consent": consent, "moves": moves,
        "charts": charts, "named": named, "problem": problem, "months": LAPSED_MONTHS,
        "top_percent": TOP_PERCENT, "query": request.query_string})


def setup(table: Endpoints) -> None:
    table.api("GET", "/api/v1/reports/clients", clients_api, permission=VIEW,
              summary="The client book in aggregates over a range of the store's days:"
                      " clients by tier and their movement, lifetime value in bands, new,"
                      " rising and lapsed clients, marketing consent per channel; no names",
              query=_QUERY)
    table.file("/api/v1/reports/clients.csv", clients_csv, permission=VIEW,
               summary="The clients report as CSV, in the store's words (aggregates only)")
    table.page("/reports/clients", clients_page, permission=VIEW, title=N_("Clients report"))
