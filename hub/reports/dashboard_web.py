"""The dashboard on screen (`/reports`) and in JSON, and the month's target a manager sets
from it. One read (`dashboard`), cost and margin only for a role that may see them."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from hub.reports.chart import bars
from hub.reports.dashboard import TOPS, dashboard
from hub.reports.layer import MARGIN, TARGETS, VIEW
from hub.reports.sales import store_today
from hub.reports.tables import label
from hub.reports.targets import month_of, set_target
from hub.web.kernel import (
    Endpoints,
    json_response,
    may,
    read_json,
    render,
    runtime_of,
    session_of,
    store_of,
)
from hub.words import N_

STATIC = Path(__file__).parent / "static"
TOP_WORDS = {"associate": N_("By associate"), "category": N_("By category"),
             "metal": N_("By metal"), "designer": N_("By designer")}


async def dashboard_api(request: web.Request) -> web.Response:
    return json_response(await dashboard(runtime_of(request), margin=may(request, MARGIN)))


async def target_api(request: web.Request) -> web.Response:
    store = store_of(request)
    body = await read_json(request)
    month = month_of(request.match_info["month"], store_today(store))
    return json_response(await set_target(store.ledger, month, body.get("amount"),
                                          store.config.currency,
                                          actor=session_of(request).staff_id))


async def page(request: web.Request) -> web.Response:
    store = store_of(request)
    words = store.words
    out = await dashboard(runtime_of(request), margin=may(request, MARGIN))
    names = {m.staff_id: m.name for m in store.staff.all()}
    currency = out["currency"]
    tops = [(by, TOP_WORDS[by], [{**r, "label": label(words, by, r["key"], names)}
                                 for r in out["tops"][by]]) for by in TOPS]
    month = out["month"]
    points = [(words._("So far"), month["totals"]["net"],
               words.money(month["totals"]["net"], currency)),
              (words._("At this pace"), month["pace"], words.money(month["pace"], currency))]
    if month["target"] is not None:
        points.append((words._("Target"), month["target"], words.money(month["target"],
                                                                        currency)))
    points.append((words._("A year before"), month["before"]["net"],
                   words.money(month["before"]["net"], currency)))
    chart = bars(words._("This month's net sales"),
                 words._("This month's net sales so far, where the month ends at this pace,"
                         " its target and the same days a year before; the figures are"
                         " beside the chart."), points, ident="chart-month")
    return await render(request, "reports_dashboard.html", {
        "out": out, "tops": tops, "chart": chart, "month": month,
        "may_target": may(request, TARGETS)})


def setup(table: Endpoints) -> None:
    table.page("/reports", page, permission=VIEW, title=N_("Reports"), nav=True, order=75)
    table.api("GET", "/api/v1/reports/dashboard", dashboard_api, permission=VIEW,
              summary="The dashboard: yesterday and this month against last year and the"
                      " month's target, this month's sales by associate, category, metal and"
                      " designer, the stock held and what has waited over a year, the"
                      " workshop, memo, counts, clients and clienteling outcomes at a glance")
    table.api("PUT", "/api/v1/reports/targets/{month}", target_api, permission=TARGETS,
              summary="Set a month's sales target (net sales, minor units); the latest counts",
              body={"type": "object", "required": ["amount"],
                    "properties": {"amount": {"type": "integer", "minimum": 1}}})
    table.script("/reports/reports.js", STATIC / "reports.js")
