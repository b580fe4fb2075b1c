"""The core as a layer: the books' own areas (pieces, clients, sales and closures; the
staff, carts and approvals; HQ's messages) and the store's commands (`hub/commands.py`)."""

from __future__ import annotations

from hub.core import (
    accounts,
    approvals,
    attachments,
    clients,
    closures,
    holds,
    hq,
    items,
    outbox,
    prices,
    roles,
    sales,
    staff,
)
from hub.core.schema import CORE
from hub.runtime import Area, Layer

LAYER = Layer(
    "core",
    areas=(
        Area("core", CORE, {**items.PROJECTIONS, **clients.PROJECTIONS, **sales.PROJECTIONS,
                            **closures.PROJECTIONS, **prices.PROJECTIONS}),
        Area("staff", staff.SCHEMA, {**staff.PROJECTIONS, **approvals.PROJECTIONS,
                                     **roles.PROJECTIONS}),
        Area("hq", hq.SCHEMA, hq.PROJECTIONS),
        Area("holds", holds.SCHEMA, holds.PROJECTIONS),  # pieces on a tray, set aside
        Area("accounts", accounts.SCHEMA, accounts.PROJECTIONS,  # every balance owed or held
             closure_section=accounts.closure_section),
        Area("outbox", outbox.SCHEMA, outbox.PROJECTIONS),  # messages to clients, via HQ
        Area("attachments", attachments.SCHEMA, attachments.PROJECTIONS),  # encrypted files
    ),
    cli="hub.commands",
)
