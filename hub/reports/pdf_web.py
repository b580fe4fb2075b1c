"""The day and the month as a printable PDF (hub/reports/pdf.py): one read of the same
figures as the screens, laid out as a `Document` on A4 pages; cost and margin only for a
role that may see them. A bad or future date is refused in a sentence, as the API refuses."""

from __future__ import annotations

from aiohttp import web

from hub.documents import Document, render_pdf
from hub.reports.layer import MARGIN, VIEW
from hub.reports.pdf import (
    ask_day,
    ask_month,
    day_document,
    day_figures,
    month_document,
    month_figures,
)
from hub.reports.sales import store_today
from hub.web.kernel import Endpoints, may, runtime_of, store_of


async def _pdf(doc: Document, name: str) -> web.Response:
    body = await render_pdf(doc)
    return web.Response(body=body, content_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{name}"', "Cache-Control": "no-store"})


def _names(request: web.Request) -> dict[str, str]:
    return {m.staff_id: m.name for m in store_of(request).staff.all()}


async def day_pdf(request: web.Request) -> web.Response:
    store = store_of(request)
    day = ask_day(request.query.get("day"), store_today(store))
    figures = await day_figures(runtime_of(request), day, margin=may(request, MARGIN))
    doc = day_document(store.words, store.config.store_name, figures, _names(request))
    return await _pdf(doc, f"day-{day.isoformat()}.pdf")


async def month_pdf(request: web.Request) -> web.Response:
    store = store_of(request)
    first = ask_month(request.query.get("month"), store_today(store))
    figures = await month_figures(runtime_of(request), first, margin=may(request, MARGIN))
    doc = month_document(store.words, store.config.store_name, figures, _names(request))
    return await _pdf(doc, f"month-{figures['month']}.pdf")


def setup(table: Endpoints) -> None:
    table.file("/api/v1/reports/day.pdf", day_pdf, permission=VIEW,
               summary="A day on paper (day=YYYY-MM-DD, yesterday if left out): its sales"
                       " against the same weekday last year, by associate, category and"
                       " metal, and its Z reports; cost and margin for roles that may see"
                       " them")
    table.file("/api/v1/reports/month.pdf", month_pdf, permission=VIEW,
               summary="A month on paper (month=YYYY-MM, this month if left out): its sales"
                       " against the same weeks last year, net sales by day, by category,"
                       " designer and associate, the stock held and the workshop")
