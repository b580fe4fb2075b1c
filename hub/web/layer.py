"""The staff web app as a layer: its part serves every layer's screens and API (assembled
by `hub/web/app.py` from each layer's `web` module), its own `web` module adds the core's
screens, and its commands manage staff and the hub's certificate."""

from __future__ import annotations

from hub.runtime import Layer

LAYER = Layer("web", part="hub.web.part", web="hub.web.screens", cli="hub.web.cli")
