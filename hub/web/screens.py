"""The core's own screens and API (pieces, clients, the register, sales, approvals, staff,
roles, settings), the live events socket and the plain files: the web layer's `setup`."""

from __future__ import annotations

from hub.web import api, attachments_web, events, files, pages, prices_web
from hub.web.kernel import Endpoints


def setup(table: Endpoints) -> None:
    files.setup(table)
    api.setup(table)
    events.setup(table)
    pages.setup(table)
    attachments_web.setup(table)
    prices_web.setup(table)  # metal rates, held moves, tags to reprint, quotes
