"""The workshop as a layer: its areas (jobs, deposits, layaways, appraisals), its part and
its screens."""

from __future__ import annotations

from hub.runtime import Area, Layer
from hub.workshop import appraisals, deposits, jobs, layaways

LAYER = Layer(
    "workshop",
    areas=(Area("workshop", jobs.SCHEMA, jobs.PROJECTIONS),
           Area("deposits", deposits.SCHEMA, deposits.PROJECTIONS,
                closure_section=deposits.closure_section),
           Area("layaways", layaways.SCHEMA, layaways.PROJECTIONS),
           Area("appraisals", appraisals.SCHEMA, appraisals.PROJECTIONS)),
    part="hub.workshop.part", web="hub.workshop.web",
    permissions={**jobs.PERMISSIONS, **layaways.PERMISSIONS, **appraisals.PERMISSIONS},
    grants={role: (*jobs.GRANTS.get(role, ()), *layaways.GRANTS.get(role, ()),
                   *appraisals.GRANTS.get(role, ()))
            for role in ("associate", "manager")},
)
