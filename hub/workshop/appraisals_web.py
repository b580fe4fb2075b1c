"""The appraisals' API: issue one, list a client's (or a piece's, or the store's latest), read
one, and its A4 PDF, laid out again from the books each time it is asked for; and the upload
of a photo for one (kept for her, or for the store when the piece is the store's, before the
appraisal names it). Each handler turns HTTP into one call of `Appraisals`
(`runtime.appraisals`) or of the attachment store and back."""

from __future__ import annotations

from aiohttp import web

from hub.core.fields import Form
from hub.web.kernel import (
    Endpoints,
    json_response,
    read_json,
    read_upload,
    runtime_of,
    service,
    session_of,
    store_of,
)
from hub.words import N_
from hub.workshop.appraisals import ISSUE, PURPOSES, VIEW, Appraisals, appraisal_number

_TEXT = {"type": "string"}
_INT = {"type": "integer"}
_STONE = {"type": "object", "required": ["type", "carat_cents"],
          "properties": {"type": _TEXT, "carat_cents": _INT, "shape": _TEXT, "colour": _TEXT,
                         "clarity": _TEXT, "lab": _TEXT, "certificate": _TEXT}}
_PHOTO = {"type": "object", "required": ["hash", "size"],
          "properties": {"hash": _TEXT, "size": _INT, "caption": _TEXT}}


def appraisals_of(request: web.Request) -> Appraisals:
    return service(runtime_of(request).appraisals, N_("the appraisals"))


def _id(request: web.Request) -> str:
    return request.match_info["appraisal_id"]


async def issue_api(request: web.Request) -> web.Response:
    body = await read_json(request)
    return json_response(await appraisals_of(request).issue(
        body, actor=session_of(request).staff_id), 201)


async def list_api(request: web.Request) -> web.Response:
    appraisals = appraisals_of(request)
    f = Form(request.query, query=True, allowed=("client_id", "item_id"))
    client_id = f.identifier("client_id", required=False, what="a client id")
    item_id = f.identifier("item_id", required=False, what="a serial")
    f.done()
    if client_id:
        found = await appraisals.of_client(client_id)
    elif item_id:
        found = await appraisals.of_piece(item_id)
    else:
        found = await appraisals.recent()
    return json_response({"appraisals": found})


async def get_api(request: web.Request) -> web.Response:
    return json_response(await appraisals_of(request).get(_id(request)))


async def photo_api(request: web.Request) -> web.Response:
    """A photo for an appraisal about to be issued: kept under her key (`?client_id=`), or
    the store's for a piece of the books; answers the {hash, size} the appraisal names."""
    appraisals_of(request)  # a clean 503 while the workshop is not running
    store = store_of(request)
    f = Form(request.query, query=True, allowed=("client_id", "name"))
    client_id = f.identifier("client_id", required=False, what="a client id")
    f.done()
    got = await read_upload(request, max_bytes=store.attachments.max_bytes)
    kept = await store.attachments.store(
        got.data, owner=f"client:{client_id}" if client_id else "store", kind="photo",
        name=got.filename, declared_type=got.content_type, actor=session_of(request).staff_id)
    return json_response({"hash": kept["hash"], "size": kept["size"]}, 201)


async def pdf(request: web.Request) -> web.Response:
    appraisals = appraisals_of(request)
    number = appraisal_number(_id(request))
    body = await appraisals.pdf(number)
    return web.Response(body=body, content_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{number}.pdf"',
        "Cache-Control": "no-store"})


def setup(table: Endpoints) -> None:
    # The PDF before /{appraisal_id}: routes match in this order, and that one would take
    # "AP-000001.pdf" as an id.
    table.file("/api/v1/appraisals/{appraisal_id}.pdf", pdf, permission=VIEW,
               summary="An appraisal as A4 PDF (printed again from the books, the same words)")
    table.api("GET", "/api/v1/appraisals", list_api, permission=VIEW,
              summary="A client's appraisals, a piece's, or the store's latest",
              query=("client_id", "item_id"))
    table.api("POST", "/api/v1/appraisals", issue_api, permission=ISSUE,
              summary="Issue an appraisal of a piece in the books or of a client's own item",
              body={"type": "object", "required": ["value"],
                    "properties": {"item_id": _TEXT, "client_id": _TEXT, "job_id": _TEXT,
                                   "description": _TEXT, "category": _TEXT, "metal": _TEXT,
                                   "metal_colour": _TEXT, "fineness": _INT, "karat": _INT,
                                   "weight_mg": _INT, "designer": _TEXT,
                                   "stones": {"type": "array", "items": _STONE},
                                   "value": _INT, "appraiser": _TEXT,
                                   "photos": {"type": "array", "items": _PHOTO},
                                   "purpose": {"enum": list(PURPOSES)}}})
    table.api("POST", "/api/v1/appraisals/photos", photo_api, permission=ISSUE,
              summary="Keep a photo for an appraisal (JPEG, PNG or HEIC; under the client's"
                      " key, or the store's for a piece of the books): its hash and size",
              query=("client_id", "name"), upload=True)
    table.api("GET", "/api/v1/appraisals/{appraisal_id}", get_api, permission=VIEW,
              summary="An appraisal: its number, the piece, its stones, value and appraiser")
