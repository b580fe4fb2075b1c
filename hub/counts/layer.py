"""Stock counts as a layer: its area (count sessions and discrepancies, its part of the Z
report), the counting service, its screens and its commands."""

from __future__ import annotations

from hub.counts import model, reports
from hub.runtime import Area, Layer

LAYER = Layer(
    "counts",
    areas=(Area("counts", model.SCHEMA, model.PROJECTIONS,
                closure_section=reports.closure_section),),
    part="hub.counts.part", web="hub.counts.web", cli="hub.counts.cli",
)
