"""Transfers between stores and the warehouse as a layer: its area (the transfers this store
sends, expects and received), its part (HQ's transfer messages) and its screen."""

from __future__ import annotations

from hub.runtime import Area, Layer
from hub.transfers import book

LAYER = Layer(
    "transfers",
    areas=(Area("transfers", book.SCHEMA, book.PROJECTIONS),),
    part="hub.transfers.part", web="hub.transfers.web",
    permissions=book.PERMISSIONS,
    grants=book.GRANTS,
)
