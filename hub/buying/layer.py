"""Buying gold and trade-ins as a layer: its area (purchases, lots, the hold), its part (the
`trade_in` tender) and its screens."""

from __future__ import annotations

from hub.buying import book
from hub.runtime import Area, Layer
from hub.words import N_

LAYER = Layer(
    "buying",
    areas=(Area("buying", book.SCHEMA, book.PROJECTIONS,
                closure_section=book.closure_section),),
    part="hub.buying.part", web="hub.buying.web",
    permissions={"buying.buy": N_("Buy gold and take trade-ins from clients"),
                 "buying.release": N_("Release bought lots from their hold to the melt or"
                                      " stock"),
                 "buying.report": N_("See and export the register of purchases")},
    grants=book.GRANTS,
)
