"""Clienteling as a layer: its area (the follow-ups' outcomes), its part (the rules of
`[clienteling]`) and its API."""

from __future__ import annotations

from hub.clienteling import model
from hub.runtime import Area, Layer

LAYER = Layer(
    "clienteling",
    areas=(Area("clienteling", model.SCHEMA, model.PROJECTIONS),),
    part="hub.clienteling.part", web="hub.clienteling.web",
)
