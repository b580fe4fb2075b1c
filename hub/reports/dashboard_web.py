"""The dashboard: what a manager reads first, on one screen. To be built."""

from __future__ import annotations

from aiohttp import web

from hub.reports.layer import VIEW
from hub.web.kernel import Endpoints
from hub.words import N_


async def page(request: web.Request) -> web.Response:
    raise web.HTTPFound("/reports/sales")


def setup(table: Endpoints) -> None:
    table.page("/reports", page, permission=VIEW, title=N_("Reports"), nav=True, order=75)
