"""Travellers' money as a layer: foreign currency tenders and tax-free forms."""

from __future__ import annotations

from hub.runtime import Area, Layer
from hub.travel import exchange, taxfree

LAYER = Layer(
    "travel",
    areas=(Area("exchange", exchange.SCHEMA, exchange.PROJECTIONS,
                closure_section=exchange.closure_section),
           Area("tax_free", taxfree.SCHEMA, taxfree.PROJECTIONS,
                closure_section=taxfree.closure_section)),
    part="hub.travel.part", web="hub.travel.web",
    permissions={**exchange.PERMISSIONS, **taxfree.PERMISSIONS},
    grants={"associate": taxfree.GRANTS["associate"],
            "manager": (*exchange.GRANTS["manager"], *taxfree.GRANTS["manager"])},
)
