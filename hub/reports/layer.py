"""Reports as a layer: the writer's running totals of sales (hub/reports/book.py) and the
screens and API that read them."""

from __future__ import annotations

from hub.reports import book
from hub.runtime import Area, Layer
from hub.words import N_

VIEW, MARGIN = "reports.view", "reports.margin"

LAYER = Layer(
    "reports",
    areas=(Area("reports", book.SCHEMA, book.PROJECTIONS),),
    web="hub.reports.web",
    permissions={VIEW: N_("Read the sales reports"),
                 MARGIN: N_("See cost and margin in the reports")},
    grants={"associate": (VIEW,), "manager": (VIEW, MARGIN)},
)
