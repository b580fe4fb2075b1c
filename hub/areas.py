"""The areas of the books: each brings its tables (a Schema) and its projection handlers.

The ledger is generic; an area is a slice of the domain (pieces/clients/sales, staff and
carts, stock counts, HQ messages). To add one, write its module with `SCHEMA` and
`PROJECTIONS` and list it in `AREAS` below. Order matters only for migrations' first run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hub.core import approvals, clients, closures, hq, items, sales, staff
from hub.core.projector import Handler, Projector
from hub.counts import model as counts_model
from hub.counts import reports as counts_reports
from hub.ledger.ledger import Tx
from hub.ledger.schema import CORE, Schema
from hub.sync import model as sync_model


@dataclass(frozen=True)
class Area:
    name: str
    schema: Schema
    projections: dict[str, Handler]
    # What the area adds to the daily closure (Z report): f(tx, from_seq, through_seq).
    closure_section: Callable[[Tx, int, int], dict[str, Any]] | None = None


def _core_projections() -> dict[str, Handler]:
    out: dict[str, Handler] = {}
    for module in (items, clients, sales, closures):
        out.update(module.PROJECTIONS)
    return out


AREAS: tuple[Area, ...] = (
    Area("core", CORE, _core_projections()),
    Area("staff", staff.SCHEMA, {**staff.PROJECTIONS, **approvals.PROJECTIONS}),
    Area("hq", hq.SCHEMA, hq.PROJECTIONS),
    Area("counts", counts_model.SCHEMA, counts_model.PROJECTIONS,
         closure_section=counts_reports.closure_section),
    Area(sync_model.AREA, sync_model.SCHEMA, sync_model.PROJECTIONS),
)


def closure_sections(areas: tuple[Area, ...] = AREAS
                     ) -> dict[str, Callable[[Tx, int, int], dict[str, Any]]]:
    return {a.name: a.closure_section for a in areas if a.closure_section is not None}


def schemas(areas: tuple[Area, ...] = AREAS) -> tuple[Schema, ...]:
    return tuple(a.schema for a in areas)


def projector(areas: tuple[Area, ...] = AREAS) -> Projector:
    proj = Projector()
    for area in areas:
        proj.register_all(area.projections)
    return proj
