"""The workshop's screens: the board (lanes by stage, live with the envelopes' scans), the
intake form (the tablet's camera, the scale), a job's page (what she left, its money, its
moves, quotes, files, the envelope, the pick-up with her signature), the overdue list, the
layaways (the open ones, setting a piece aside, one with its schedule), and the jobs and
layaways on a client's page. Every value reaches the screen in words (the vocabularies, the
store's money, weights and dates); the pages are rendered here from `runtime.jobs`, and
`static/workshop.js` drives the forms over the JSON API of `hub.workshop.web`."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from hub.core.errors import NotFound, Refused
from hub.web.kernel import Endpoints, may, render, runtime_of, service, session_of
from hub.words import N_
from hub.words.labels import CATEGORY, METAL, STONE
from hub.workshop import appraisals_screens, layaways_web
from hub.workshop.jobs import (
    BENCH,
    CLOSED,
    ESTIMATES,
    FONTS,
    INTAKE,
    KINDS,
    MANAGE,
    SERVICES,
    Jobs,
)
from hub.workshop.layaways import MAX_INSTALMENTS, Layaways

STATIC = Path(__file__).parent / "static"
# What a payment or the balance at pick-up is taken in on these screens (a deposit is money:
# no store credit, gift card or loyalty points; hub.workshop.deposits refuses those).
TENDERS = ("cash", "card", "bank_transfer")
PHOTO_KINDS = ("photo", "sketch", "cad")  # shown as pictures; the rest as links


def _jobs(request: web.Request) -> Jobs:
    return service(runtime_of(request).jobs, N_("the workshop"))


def _staff_name(request: web.Request, staff_id: str | None) -> str | None:
    if not staff_id:
        return None
    member = runtime_of(request).store.staff.get(staff_id)
    return member.name if member and member.name else staff_id


def _card(request: web.Request, job: dict[str, Any]) -> dict[str, Any]:
    """A job as the board and the lists show it: where the piece is, by name."""
    return {**job, "where": _staff_name(request, job.get("assignee")) or job.get("vendor")}


def _active_staff(request: web.Request) -> list[Any]:
    return [m for m in runtime_of(request).store.staff.all() if m.status == "active"]


async def board_page(request: web.Request) -> web.Response:
    """Open jobs by stage, rush first; a scan of an envelope moves it on (workshop.js)."""
    jobs = _jobs(request)
    board = await jobs.board(request.query.get("stage"))
    lanes = [{**lane, "jobs": [_card(request, j) for j in lane["jobs"]]}
             for lane in board["lanes"]]
    return await render(request, "workshop_board.html", {
        "lanes": lanes, "open": board["open"], "overdue": await jobs.overdue_count(),
        "stage": board["stage"],
        "register_id": session_of(request).register_id})


async def intake_page(request: web.Request) -> web.Response:
    """The intake form, for the client her page sent here (`?client_id=`) or one found by
    name."""
    runtime = runtime_of(request)
    jobs = _jobs(request)
    client = None
    client_id = (request.query.get("client_id") or "")[:40]
    if client_id:
        name = runtime.store.clients.names.name_of(client_id)
        if name:
            client = {"client_id": client_id, "name": name}
    today = jobs.today()
    kind = request.query.get("kind")
    return await render(request, "workshop_intake.html", {
        "client": client, "kinds": KINDS, "kind": kind if kind in KINDS else "repair",
        "categories": list(CATEGORY), "services": SERVICES, "fonts": FONTS,
        "estimates": ESTIMATES, "metals": list(METAL), "stones": list(STONE),
        "staff": _active_staff(request), "vendors": jobs.settings.vendors,
        "registers": runtime.config.registers, "register_id": session_of(request).register_id,
        "tenders": TENDERS, "today": today.isoformat(),
        "promise_day": (today + timedelta(days=10)).isoformat(),
        "me": session_of(request).staff_id})


def _moves(request: web.Request, jobs: Jobs, job: dict[str, Any]) -> list[dict[str, Any]]:
    """The moves this person may make from the job's stage, with whether each asks why."""
    machine = jobs.settings.machine(job["kind"])
    out = []
    for name in job["moves"]:
        move = machine.move(name)
        if move is not None and may(request, move.permission):
            out.append({"name": name, "needs_note": move.needs_note,
                        "next": name == job["next_move"]})
    out.sort(key=lambda m: not m["next"])  # the usual next step first
    return out


async def job_page(request: web.Request) -> web.Response:
    runtime = runtime_of(request)
    jobs = _jobs(request)
    job = _card(request, await jobs.get(request.match_info["job_id"]))
    files = job["files"]
    return await render(request, "workshop_job.html", {
        "job": job, "moves": _moves(request, jobs, job),
        "pictures": [f for f in files if f["kind"] in PHOTO_KINDS],
        "signatures": [f for f in files if f["kind"] == "signature"],
        "documents": [f for f in files if f["kind"] not in (*PHOTO_KINDS, "signature")],
        "closed": job["stage"] in CLOSED, "registers": runtime.config.registers,
        "register_id": session_of(request).register_id, "tenders": TENDERS,
        "printer": runtime.devices is not None, "today": jobs.today().isoformat(),
        "tolerance_mg": jobs.settings.weight_tolerance_mg,
        "may_intake": may(request, INTAKE), "may_bench": may(request, BENCH),
        "may_manage": may(request, MANAGE),
        "unsent": request.query.get("unsent", "")[:3]})


async def overdue_page(request: web.Request) -> web.Response:
    """Jobs past their promised date, and jobs ready that she has not collected."""
    jobs = _jobs(request)
    found = [_card(request, j) for j in await jobs.overdue()]
    return await render(request, "workshop_overdue.html", {
        "late": [j for j in found if j["stage"] != "ready"],
        "waiting": [j for j in found if j["stage"] == "ready"],
        "collect_days": jobs.settings.collect_overdue_days})


async def client_panel(request: web.Request, client: dict[str, Any]) -> dict[str, Any] | None:
    """Her jobs on her page, newest first, each with its stage and what is left to pay."""
    jobs = runtime_of(request).jobs
    if jobs is None or client.get("status") == "forgotten":
        return None
    try:
        found = await jobs.of_client(client["client_id"])
    except (Refused, NotFound):
        return None
    return {"jobs": [_card(request, j) for j in found],
            "open": [j for j in found if j["stage"] not in CLOSED]}


def _layaways(request: web.Request) -> Layaways:
    return service(runtime_of(request).layaways, N_("the layaways"))


async def layaways_page(request: web.Request) -> web.Response:
    """The open layaways (the soonest to end first, the overdue marked) and the form that
    sets a piece aside for her."""
    runtime = runtime_of(request)
    layaways = _layaways(request)
    client = None
    client_id = (request.query.get("client_id") or "")[:40]
    if client_id and (name := runtime.store.clients.names.name_of(client_id)):
        client = {"client_id": client_id, "name": name}
    today = layaways.today()
    return await render(request, "workshop_layaways.html", {
        "layaways": await layaways.open_ones(), "client": client,
        "item_id": (request.query.get("item_id") or "")[:40],
        "max_instalments": MAX_INSTALMENTS, "today": today.isoformat(),
        "first_due": (today + timedelta(days=30)).isoformat(),
        "registers": runtime.config.registers, "register_id": session_of(request).register_id,
        "tenders": TENDERS})


async def layaway_page(request: web.Request) -> web.Response:
    runtime = runtime_of(request)
    layaway = await _layaways(request).get(request.match_info["layaway_id"])
    return await render(request, "workshop_layaway.html", {
        "l": layaway, "registers": runtime.config.registers,
        "register_id": session_of(request).register_id, "tenders": TENDERS,
        "may_intake": may(request, INTAKE), "may_manage": may(request, MANAGE)})


def setup(table: Endpoints) -> None:
    table.page("/workshop", board_page, permission="clients.view", title=N_("Workshop"),
               nav=True, order=38)
    table.page("/workshop/intake", intake_page, permission="clients.view",
               title=N_("Take in a job"))
    table.page("/workshop/overdue", overdue_page, permission="clients.view",
               title=N_("Overdue jobs"))
    table.page("/workshop/jobs/{job_id}", job_page, permission="clients.view",
               title=N_("Job"))
    table.page("/workshop/layaways", layaways_page, permission="clients.view",
               title=N_("Layaways"))
    table.page("/workshop/layaways/{layaway_id}", layaway_page, permission="clients.view",
               title=N_("Layaway"))
    table.script("/workshop/workshop.js", STATIC / "workshop.js")
    table.templates("hub.workshop")
    table.client_panel("jobs", "client_jobs.html", client_panel, permission="clients.view",
                       order=45)
    table.client_panel("layaways", "client_layaways.html", layaways_web.client_panel,
                       permission="clients.view", order=46)
    appraisals_screens.setup(table)
