"""The workshop's API: jobs (intake, board, stages, payments, quotes, files, pick-up), and
the layaways', appraisals' and screens' own modules. Each handler turns HTTP into one call of
the layer's services (`runtime.jobs`...) and back."""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Any

from aiohttp import web

from hub.core.errors import Invalid
from hub.documents import Document, render_html, render_text
from hub.web.kernel import (
    Endpoints,
    json_response,
    print_on_register,
    read_json,
    read_upload,
    runtime_of,
    service,
    session_of,
    store_of,
)
from hub.words import N_
from hub.workshop import appraisals_web, layaways_web, screens
from hub.workshop.envelope import client_copy, envelope, envelope_zpl
from hub.workshop.jobs import BENCH as BENCH_PERMISSION
from hub.workshop.jobs import INTAKE, KINDS, MANAGE, Jobs

_TEXT = {"type": "string"}
_TENDERS = {"type": "array", "items": {"type": "object"}}
SIGNATURE_MAX = 512 * 1024  # a drawn signature as PNG is a few dozen kilobytes


def jobs_of(request: web.Request) -> Jobs:
    return service(runtime_of(request).jobs, N_("the workshop"))


def _id(request: web.Request) -> str:
    return request.match_info["job_id"]


def _me(request: web.Request) -> str:
    return session_of(request).staff_id


def signature_png(value: Any) -> bytes:
    """A signature drawn on the tablet, as the canvas gives it (a PNG data URL)."""
    prefix = "data:image/png;base64,"
    if not isinstance(value, str) or not value.startswith(prefix):
        raise Invalid("her signature is drawn on the screen (a PNG picture)", "signature")
    if len(value) > SIGNATURE_MAX * 4 // 3 + len(prefix):
        raise Invalid("this signature is too large a picture", "signature")
    try:
        return base64.b64decode(value[len(prefix):], validate=True)
    except (binascii.Error, ValueError):
        raise Invalid("this signature is not a picture", "signature") from None


# -- API ------------------------------------------------------------------------------------

async def list_api(request: web.Request) -> web.Response:
    jobs = jobs_of(request)
    client_id = request.query.get("client_id")
    if client_id:
        return json_response({"jobs": await jobs.of_client(client_id)})
    board = await jobs.board()
    return json_response({"jobs": [j for lane in board["lanes"] for j in lane["jobs"]],
                          "open": board["open"]})


async def open_api(request: web.Request) -> web.Response:
    body = await read_json(request)
    return json_response(await jobs_of(request).open(body, actor=_me(request)), 201)


async def board_api(request: web.Request) -> web.Response:
    return json_response(await jobs_of(request).board(request.query.get("stage")))


async def overdue_api(request: web.Request) -> web.Response:
    return json_response({"jobs": await jobs_of(request).overdue()})


async def get_api(request: web.Request) -> web.Response:
    return json_response(await jobs_of(request).get(_id(request)))


async def stage_api(request: web.Request) -> web.Response:
    body = await read_json(request)
    return json_response(await jobs_of(request).move(
        _id(request), body.get("move"), body.get("note"), actor=_me(request),
        expect=body.get("expect")))


async def pay_api(request: web.Request) -> web.Response:
    body = await read_json(request)
    return json_response(await jobs_of(request).pay(_id(request), body, actor=_me(request)))


async def refund_api(request: web.Request) -> web.Response:
    body = await read_json(request)
    return json_response(await jobs_of(request).refund(_id(request), body, actor=_me(request)))


async def revise_api(request: web.Request) -> web.Response:
    body = await read_json(request)
    return json_response(await jobs_of(request).revise(_id(request), body, actor=_me(request)))


async def piece_api(request: web.Request) -> web.Response:
    body = await read_json(request)
    return json_response(await jobs_of(request).set_piece(_id(request), body,
                                                          actor=_me(request)))


async def quote_api(request: web.Request) -> web.Response:
    body = await read_json(request)
    return json_response(await jobs_of(request).quote(_id(request), body, actor=_me(request)),
                         201)


async def accept_api(request: web.Request) -> web.Response:
    return json_response(await jobs_of(request).accept_quote(
        _id(request), request.match_info["version"], actor=_me(request)))


async def collect_api(request: web.Request) -> web.Response:
    body = await read_json(request)
    jobs = jobs_of(request)
    signature = None
    if body.get("signature") is not None:
        signature = signature_png(body.get("signature"))
    return json_response(await jobs.collect(_id(request), body, actor=_me(request),
                                            signature=signature))


async def attach_api(request: web.Request) -> web.Response:
    """A file for the job: the raw body or a multipart part (`?kind=photo|sketch|cad...`)."""
    store = store_of(request)
    got = await read_upload(request, max_bytes=store.attachments.max_bytes)
    kind = request.query.get("kind") or got.fields.get("kind") or "photo"
    return json_response(await jobs_of(request).attach(
        _id(request), got.data, kind=kind, name=got.filename,
        declared_type=got.content_type, actor=_me(request)), 201)


async def _papers(request: web.Request) -> tuple[dict[str, Any], Document, Document]:
    """The job as the envelope prints it, its bench copy and the client's copy."""
    jobs = jobs_of(request)
    store = store_of(request)
    job = jobs.paper_view(await jobs.get(_id(request)))
    name = store.config.store_name
    return (job, envelope(job, store.words, store_name=name),
            client_copy(job, store.words, store_name=name,
                        terms=list(jobs.settings.terms)))


async def envelope_api(request: web.Request) -> web.Response:
    """What the envelope and the client's copy will print, as text and HTML."""
    _, bench, theirs = await _papers(request)
    return json_response({"envelope": {"text": render_text(bench), "html": render_html(bench)},
                          "client_copy": {"text": render_text(theirs),
                                          "html": render_html(theirs)}})


async def print_envelope_api(request: web.Request) -> web.Response:
    """The envelope and her copy on a register's receipt printer (each time asked: a
    reprint is a new job)."""
    body = await read_json(request)
    job, bench, theirs = await _papers(request)
    printed = [await print_on_register(request, body, doc, f"{what}:{job['job_id']}")
               for what, doc in (("envelope", bench), ("client-copy", theirs))]
    return json_response({"printed": printed})


async def print_label_api(request: web.Request) -> web.Response:
    """The envelope's label on the tag printer (ZPL), or the one the body names."""
    body = await read_json(request)
    devices = service(runtime_of(request).devices, N_("the devices"))
    job, _, _ = await _papers(request)
    device = body.get("device")
    if device is not None and not isinstance(device, str):
        raise Invalid("name the label printer by its id", "device")
    zpl = envelope_zpl(job, store_of(request).words,
                       store_name=store_of(request).config.store_name)
    return json_response(await devices.print_label(
        zpl, device, job_id=f"label:{job['job_id']}:{uuid.uuid4().hex[:8]}"))


def setup(table: Endpoints) -> None:
    # The board and the overdue list before /jobs/{job_id}: routes match in this order.
    table.api("GET", "/api/v1/jobs/board", board_api, permission="clients.view",
              summary="The workshop board: open jobs by stage, rush first, with days in stage"
                      " (?stage=: that lane alone)", query=("stage",))
    table.api("GET", "/api/v1/jobs/overdue", overdue_api, permission="clients.view",
              summary="Jobs past their promised date, and jobs ready but not collected")
    table.api("GET", "/api/v1/jobs", list_api, permission="clients.view",
              summary="Open jobs, or one client's jobs", query=("client_id",))
    table.api("POST", "/api/v1/jobs", open_api, permission=INTAKE,
              summary="Take in a repair, a custom order or a special order (a deposit with"
                      " it)",
              body={"type": "object", "required": ["kind", "client_id", "item_kind",
                                                   "description"],
                    "properties": {"kind": {"enum": list(KINDS)}, "client_id": _TEXT,
                                   "item_kind": _TEXT, "description": _TEXT,
                                   "condition": _TEXT, "declared_value": {"type": "integer"},
                                   "weight_mg": {"type": "integer"},
                                   "stone_count": {"type": "integer"},
                                   "services": {"type": "array"}, "estimate": _TEXT,
                                   "estimate_limit": {"type": "integer"},
                                   "express": {"type": "boolean"}, "promised": _TEXT,
                                   "assignee": _TEXT, "vendor": _TEXT,
                                   "specs": {"type": "object"}, "price": {"type": "integer"},
                                   "source": _TEXT, "deposit": {"type": "object"}}})
    table.api("GET", "/api/v1/jobs/{job_id}", get_api, permission="clients.view",
              summary="A job: its details, timeline, payments, quotes and files")
    table.api("POST", "/api/v1/jobs/{job_id}/stage", stage_api, permission=BENCH_PERMISSION,
              summary="Move a job to another stage (\"next\": what a scan on the board does)",
              body={"type": "object", "required": ["move"],
                    "properties": {"move": _TEXT, "note": _TEXT, "expect": _TEXT}})
    table.api("POST", "/api/v1/jobs/{job_id}/payments", pay_api, permission=INTAKE,
              summary="Take a deposit or an instalment on a job",
              body={"type": "object", "required": ["register_id", "tenders"],
                    "properties": {"register_id": _TEXT, "tenders": _TENDERS}})
    table.api("POST", "/api/v1/jobs/{job_id}/refund", refund_api, permission=MANAGE,
              summary="Pay back what a cancelled job holds (a manager approves)",
              body={"type": "object", "required": ["register_id", "tenders"],
                    "properties": {"register_id": _TEXT, "tenders": _TENDERS,
                                   "approval_id": _TEXT}})
    table.api("POST", "/api/v1/jobs/{job_id}/revise", revise_api, permission=INTAKE,
              summary="Change a job's services and prices, who does it or when it is promised",
              body={"type": "object", "properties": {
                  "services": {"type": "array"}, "assignee": _TEXT, "vendor": _TEXT,
                  "promised": _TEXT, "price": {"type": "integer"}}})
    table.api("POST", "/api/v1/jobs/{job_id}/piece", piece_api, permission=INTAKE,
              summary="A special order's piece has come: received (its details) or named"
                      " (its serial), and set aside for her",
              body={"type": "object", "properties": {"item_id": _TEXT,
                                                     "piece": {"type": "object"}}})
    table.api("POST", "/api/v1/jobs/{job_id}/quotes", quote_api, permission=INTAKE,
              summary="Quote a custom order (valid N days, the metal rate of the day locked)",
              body={"type": "object", "required": ["amount"],
                    "properties": {"amount": {"type": "integer"},
                                   "valid_days": {"type": "integer"}}})
    table.api("POST", "/api/v1/jobs/{job_id}/quotes/{version}/accept", accept_api,
              permission=INTAKE, summary="She accepts a quote: its amount is the order's price")
    table.api("POST", "/api/v1/jobs/{job_id}/attachments", attach_api, permission=INTAKE,
              summary="Add a photo, sketch, CAD file or certificate to a job (JPEG, PNG, HEIC,"
                      " PDF or STL; kept encrypted under the client's key)",
              query=("kind", "name"), upload=True)
    table.api("POST", "/api/v1/jobs/{job_id}/collect", collect_api, permission=INTAKE,
              summary="Hand a job back: weighed and counted again, the balance paid, signed",
              body={"type": "object", "required": ["register_id"],
                    "properties": {"register_id": _TEXT, "weight_mg": {"type": "integer"},
                                   "stone_count": {"type": "integer"}, "tenders": _TENDERS,
                                   "approval_id": _TEXT, "signature": _TEXT,
                                   "piece": {"type": "object"}}})
    table.api("GET", "/api/v1/jobs/{job_id}/envelope", envelope_api,
              permission="clients.view",
              summary="The job's envelope and the client's copy, as they print")
    table.api("POST", "/api/v1/jobs/{job_id}/envelope", print_envelope_api, permission=INTAKE,
              summary="Print the envelope and the client's copy on a register's printer",
              body={"type": "object", "properties": {"register": _TEXT}})
    table.api("POST", "/api/v1/jobs/{job_id}/label", print_label_api, permission=INTAKE,
              summary="Print the envelope's label (Code 128 of the job number) on a tag printer",
              body={"type": "object", "properties": {"device": _TEXT}})
    table.topics("workshop.*")
    layaways_web.setup(table)
    appraisals_web.setup(table)
    screens.setup(table)


