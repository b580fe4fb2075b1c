"""Jewelry money as a layer: gift cards and store credit, their part and screens."""

from __future__ import annotations

from hub.giftcards import cards
from hub.runtime import Area, Layer

LAYER = Layer(
    "giftcards",
    areas=(Area("giftcards", cards.SCHEMA, cards.PROJECTIONS,
                closure_section=cards.closure_section),),
    part="hub.giftcards.part", web="hub.giftcards.web",
    permissions=cards.PERMISSIONS, grants=cards.GRANTS,
)
