"""The appraisals' screens: the store's latest appraisals with the form that issues one (a
piece of the books by its serial, or her own item described with its stones, weighed on the
scale, photographed with the tablet), one appraisal in words with its PDF and its photos, and
hers on a client's page. Every value reaches the screen in words (the vocabularies, the
store's money, weights and carats); the pages are rendered here from `runtime.appraisals`,
and `static/appraisals.js` drives the form over the API of `hub.workshop.appraisals_web`
(`static/workshop.js`, loaded too, follows the scale and the envelopes' scans as on every
workshop screen)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web

from hub.core.errors import NotFound, Refused
from hub.core.items import COLOURS, group_stones
from hub.web.kernel import Endpoints, render, runtime_of, service, session_of
from hub.words import N_
from hub.words.labels import CATEGORY, METAL, STONE
from hub.workshop.appraisals import (
    ISSUE,
    PURPOSES,
    TITLES,
    VALUE_LABELS,
    VIEW,
    Appraisals,
    appraisal_number,
    metal_words,
    stone_words,
)

STATIC = Path(__file__).parent / "static"


def _appraisals(request: web.Request) -> Appraisals:
    return service(runtime_of(request).appraisals, N_("the appraisals"))


def _signers(request: web.Request) -> list[Any]:
    """Who may sign an appraisal: the active staff whose role issues them."""
    store = runtime_of(request).store
    return [m for m in store.staff.all()
            if m.status == "active" and store.staff.roles.allows(m.role, ISSUE)]


async def appraisals_page(request: web.Request) -> web.Response:
    """The latest appraisals, newest first, and the form that issues one (for her, when her
    page sent us: `?client_id=`; for a piece, `?item_id=`)."""
    runtime = runtime_of(request)
    appraisals = _appraisals(request)
    client = None
    client_id = (request.query.get("client_id") or "")[:40]
    if client_id and (name := runtime.store.clients.names.name_of(client_id)):
        client = {"client_id": client_id, "name": name}
    item_id = (request.query.get("item_id") or "")[:40]
    return await render(request, "workshop_appraisals.html", {
        "appraisals": await appraisals.recent(), "client": client, "item_id": item_id,
        "subject": "piece" if item_id else "client_item",
        "purposes": PURPOSES, "categories": list(CATEGORY), "metals": list(METAL),
        "colours": COLOURS, "stones": list(STONE), "signers": _signers(request),
        "me": session_of(request).staff_id, "register_id": session_of(request).register_id})


async def appraisal_page(request: web.Request) -> web.Response:
    """One appraisal as its paper says it: the piece, each stone's grading, the value, the
    appraiser; its photos and the PDF."""
    store = runtime_of(request).store
    appraisals = _appraisals(request)
    a = await appraisals.get(appraisal_number(request.match_info["appraisal_id"]))
    words = store.words
    return await render(request, "workshop_appraisal.html", {
        "a": a, "title": TITLES[a["purpose"]], "value_label": VALUE_LABELS[a["purpose"]],
        "metal": metal_words(a, words),
        "stones": [{"count": count, **stone, "graded": stone_words(stone, words)}
                   for count, stone in group_stones(a["stones"])]})


async def client_panel(request: web.Request, client: dict[str, Any]) -> dict[str, Any] | None:
    """Her appraisals on her page, newest first."""
    appraisals = runtime_of(request).appraisals
    if appraisals is None or client.get("status") == "forgotten":
        return None
    try:
        found = await appraisals.of_client(client["client_id"])
    except (Refused, NotFound):
        return None
    return {"appraisals": found}


def setup(table: Endpoints) -> None:
    table.page("/workshop/appraisals", appraisals_page, permission=VIEW,
               title=N_("Appraisals"))
    table.page("/workshop/appraisals/{appraisal_id}", appraisal_page, permission=VIEW,
               title=N_("Appraisal"))
    table.script("/workshop/appraisals.js", STATIC / "appraisals.js")
    table.client_panel("appraisals", "client_appraisals.html", client_panel, permission=VIEW,
                       order=47)
