"""The layers of the hub, in the order they start (and stop in reverse). Adding a layer is
one folder with its `layer.py` and one line in `LAYER_PACKAGES` (docs/architecture.md walks
through it).

Each `Layer` (`hub/runtime.py`) names its areas of the books, its permissions and the modules
of its daemon part, web screens and CLI commands; `load` imports those when the hub, the web
app or the CLI is put together. A listed layer or module that does not import is an error,
never skipped.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from hub.core.projector import Projector
from hub.core.roles import PERMISSIONS, Roles, with_layers
from hub.ledger.ledger import Ledger
from hub.ledger.schema import Schema
from hub.runtime import Area, ClosureSection, Layer
from hub.words import labels

# Each package's `layer.py` declares its `LAYER`; the core first, its areas are the books'.
LAYER_PACKAGES = (
    "hub.core",
    "hub.devices",
    "hub.counts",
    "hub.sync",
    "hub.clienteling",
    "hub.workshop",
    "hub.giftcards",
    "hub.travel",
    "hub.memo",
    "hub.transfers",
    "hub.buying",
    "hub.reports",
    "hub.backup",
    "hub.web",
)

# The control channel starts last: CLI commands arrive once every part they may touch runs,
# and stop arriving first at shutdown.
CONTROL = Layer("control", part="hub.control")


def declared(packages: tuple[str, ...] = LAYER_PACKAGES) -> tuple[Layer, ...]:
    """The layers these packages declare, in order, then the control channel."""
    found = []
    for package in packages:
        layer = importlib.import_module(f"{package}.layer").LAYER
        if not isinstance(layer, Layer):
            raise TypeError(f"{package}.layer.LAYER is not a hub.runtime.Layer")
        found.append(layer)
    return (*found, CONTROL)


LAYERS: tuple[Layer, ...] = declared()


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


def permissions(layers: tuple[Layer, ...] = LAYERS) -> dict[str, str]:
    """Every permission: the core's and each layer's own, with the words that say what it
    lets a person do (registered for the screens and refusals)."""
    known = dict(PERMISSIONS)
    for layer in layers:
        known.update(layer.permissions)
    labels.PERMISSION.update(known)
    return known


def roles(ledger: Ledger, layers: tuple[Layer, ...] = LAYERS) -> Roles:
    """The store's roles book: every layer's permissions, and the roles as shipped with what
    each layer grants them."""
    known = permissions(layers)
    return Roles(ledger, known, with_layers([layer.grants for layer in layers], known))


def load(module: str) -> ModuleType:
    """A layer's declared module (`Layer.part`, `.web`, `.cli`)."""
    return importlib.import_module(module)
