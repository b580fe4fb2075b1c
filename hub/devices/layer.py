"""The shop's hardware as a layer: the device manager (and the demo's simulators), the
Devices screen, and `loupe` commands that need no books."""

from __future__ import annotations

from hub.devices.zvt import books
from hub.runtime import Area, Layer

# The card terminal's payments, reversals and end-of-day totals (hub/devices/zvt/books.py).
LAYER = Layer("devices", areas=(Area("terminals", books.SCHEMA, books.PROJECTIONS,
                                     closure_section=books.closure_section),),
              part="hub.devices.part", web="hub.devices.web", cli="hub.devices.cli")
