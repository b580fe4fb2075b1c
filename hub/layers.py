"""The layers of the hub, in the order they start (and stop in reverse). Adding a layer is
one folder with its `layer.py` and one line here.

Each `Layer` (`hub/runtime.py`) names its areas of the books and the modules of its daemon
part, web screens and CLI commands; `load` imports those when the hub, the web app or the CLI
is put together. A listed module that does not import is an error, never skipped.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from hub.core.layer import LAYER as CORE
from hub.core.projector import Projector
from hub.counts.layer import LAYER as COUNTS
from hub.devices.layer import LAYER as DEVICES
from hub.ledger.schema import Schema
from hub.runtime import Area, ClosureSection, Layer
from hub.sync.layer import LAYER as SYNC
from hub.web.layer import LAYER as WEB

# The control channel starts last: CLI commands arrive once every part they may touch runs,
# and stop arriving first at shutdown.
CONTROL = Layer("control", part="hub.control")

LAYERS: tuple[Layer, ...] = (CORE, DEVICES, COUNTS, SYNC, WEB, CONTROL)


def areas(layers: tuple[Layer, ...] = LAYERS) -> tuple[Area, ...]:
    """Every area of the books, core first: what the ledger migrates and projects."""
    return tuple(area for layer in layers for area in layer.areas)


def schemas(areas_: tuple[Area, ...]) -> tuple[Schema, ...]:
    return tuple(a.schema for a in areas_)


def projector(areas_: tuple[Area, ...]) -> Projector:
    proj = Projector()
    for area in areas_:
        proj.register_all(area.projections)
    return proj


def closure_sections(areas_: tuple[Area, ...]) -> dict[str, ClosureSection]:
    return {a.name: a.closure_section for a in areas_ if a.closure_section is not None}


def load(module: str) -> ModuleType:
    """A layer's declared module (`Layer.part`, `.web`, `.cli`)."""
    return importlib.import_module(module)
