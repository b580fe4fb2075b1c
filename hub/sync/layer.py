"""Sync with HQ as a layer: its area (enrollment, cursor, HQ's keys, refusals), the
replicator, the sync screen, `loupe enroll` and HQ's own commands."""

from __future__ import annotations

from hub.runtime import Area, Layer
from hub.sync import model

LAYER = Layer(
    "sync",
    areas=(Area(model.AREA, model.SCHEMA, model.PROJECTIONS),),
    part="hub.sync.part", web="hub.sync.web", cli="hub.sync.cli",
)
