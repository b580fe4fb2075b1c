"""Reports as a layer: the writer's running totals of sales (hub/reports/book.py) and the
screens and API that read them."""

from __future__ import annotations

from hub.reports import book, clients_book, stock_book, targets
from hub.runtime import Area, Layer
from hub.words import N_

VIEW, MARGIN, TARGETS = "reports.view", "reports.margin", "reports.targets"

LAYER = Layer(
    "reports",
    areas=(Area("reports", book.SCHEMA, book.PROJECTIONS),
           Area("report_targets", targets.SCHEMA, targets.PROJECTIONS),
           Area("reports_stock", stock_book.SCHEMA, stock_book.PROJECTIONS),
           Area("report_clients", clients_book.SCHEMA, clients_book.PROJECTIONS)),
    web="hub.reports.web",
    permissions={VIEW: N_("Read the sales reports"),
                 MARGIN: N_("See cost and margin in the reports"),
                 TARGETS: N_("Set the month's sales target")},
    grants={"associate": (VIEW,), "manager": (VIEW, MARGIN, TARGETS)},
)
