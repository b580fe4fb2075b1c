"""The counts screens and API: start a count, watch it live, close it, act on the result,
find a piece with a handheld. Live progress reaches browsers as `count.progress` events on
the WebSocket."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from hub.core import fields
from hub.core.errors import Invalid
from hub.counts.model import CountStatus
from hub.counts.service import Counts
from hub.web.kernel import (
    Endpoints,
    json_response,
    read_json,
    render,
    runtime_of,
    service,
    session_of,
)
from hub.words import N_

STATIC = Path(__file__).parent / "static"
_ID_LIST = {"type": "array", "items": {"type": "string"}}


async def _counts(request: web.Request) -> Counts:
    """The running counts, once they have loaded the books (a moment after the hub's start)."""
    counts = service(runtime_of(request).counts, N_("stock counts"))
    await counts.ready()
    return counts


def _me(request: web.Request) -> str:
    return session_of(request).staff_id


async def list_counts(request: web.Request) -> web.Response:
    counts = await _counts(request)
    return json_response(await counts.overview())


async def start(request: web.Request) -> web.Response:
    body = await read_json(request)
    counts = await _counts(request)
    progress = await counts.start_count(body.get("kind", "spot"), body.get("scope"),
                                        _me(request))
    return json_response(progress, 201)


async def detail(request: web.Request) -> web.Response:
    counts = await _counts(request)
    return json_response(await counts.detail(request.match_info["count_id"]))


async def missing(request: web.Request) -> web.Response:
    counts = await _counts(request)
    return json_response(counts.not_yet_read(request.match_info["count_id"]))


async def sweep(request: web.Request) -> web.Response:
    body = await read_json(request)
    count_id = request.match_info["count_id"]
    counts = await _counts(request)
    await counts.sweep(count_id, body.get("device"), body.get("location"), _me(request))
    return json_response({"count_id": count_id, "device": body.get("device"),
                          "location": body.get("location")})


def _ending(outcome: CountStatus) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        body = await read_json(request)
        note = fields.text(body.get("note"), "note", max_len=500, multiline=True) or ""
        counts = await _counts(request)
        return json_response(await counts.close(
            request.match_info["count_id"], _me(request), outcome=outcome, note=note))
    return handler


def _item_ids(body: dict[str, Any]) -> list[str] | None:
    item_ids = body.get("item_ids")
    if item_ids is not None and (not isinstance(item_ids, list) or not all(
            isinstance(i, str) for i in item_ids)):
        raise Invalid("this must be a list of serials", "item_ids")
    return item_ids


async def confirm_missing(request: web.Request) -> web.Response:
    body = await read_json(request)
    counts = await _counts(request)
    return json_response(await counts.confirm_missing(
        request.match_info["count_id"], _me(request), _item_ids(body)))


async def move_misplaced(request: web.Request) -> web.Response:
    body = await read_json(request)
    counts = await _counts(request)
    return json_response(await counts.move_misplaced(
        request.match_info["count_id"], _me(request), _item_ids(body)))


async def report(request: web.Request) -> web.Response:
    counts = await _counts(request)
    return json_response(await counts.report(request.query.get("since"),
                                             request.query.get("until")))


async def day(request: web.Request) -> web.Response:
    counts = await _counts(request)
    return json_response(await counts.day(request.match_info["day"]))


async def find(request: web.Request) -> web.Response:
    body = await read_json(request)
    counts = await _counts(request)
    return json_response(counts.find(str(body.get("piece", ""))))


async def stop_find(request: web.Request) -> web.Response:
    counts = await _counts(request)
    counts.stop_finding(request.match_info["epc"])
    return json_response({"stopped": request.match_info["epc"]})


async def counts_page(request: web.Request) -> web.Response:
    return await render(request, "counts.html", {})


async def find_page(request: web.Request) -> web.Response:
    return await render(request, "find.html", {})


def setup(table: Endpoints) -> None:
    body = {"type": "object"}
    table.api("GET", "/api/v1/counts", list_counts, permission="counts.run",
              summary="Open counts with live progress, and recent counts")
    table.api("POST", "/api/v1/counts", start, permission="counts.manage",
              summary="Start a count",
              body={"type": "object", "properties": {
                  "kind": {"enum": ["opening", "closing", "spot", "full"]},
                  "scope": {"type": ["array", "null"], "items": {"type": "string"}}}})
    table.api("GET", "/api/v1/counts/{count_id}", detail, permission="counts.run",
              summary="A count: live progress while open, result and discrepancies once closed")
    table.api("GET", "/api/v1/counts/{count_id}/missing", missing, permission="counts.run",
              summary="Pieces an open count has not read yet")
    table.api("POST", "/api/v1/counts/{count_id}/sweep", sweep, permission="counts.run",
              summary="Say which location a handheld or scanner is sweeping",
              body={"type": "object", "properties": {"device": {"type": "string"},
                                                     "location": {"type": "string"}}})
    table.api("POST", "/api/v1/counts/{count_id}/close", _ending(CountStatus.CLOSED),
              permission="counts.manage",
              summary="Close a count: one journal entry with its reconciliation", body=body)
    table.api("POST", "/api/v1/counts/{count_id}/cancel", _ending(CountStatus.CANCELLED),
              permission="counts.manage",
              summary="Abandon a count (its reads are kept in its record)", body=body)
    table.api("POST", "/api/v1/counts/{count_id}/confirm-missing", confirm_missing,
              permission="counts.manage", summary="Mark the count's missing pieces missing",
              body={"type": "object", "properties": {"item_ids": _ID_LIST}})
    table.api("POST", "/api/v1/counts/{count_id}/move-misplaced", move_misplaced,
              permission="counts.manage",
              summary="Move misplaced pieces to where they were read",
              body={"type": "object", "properties": {"item_ids": _ID_LIST}})
    table.api("GET", "/api/v1/count-reports", report, permission="counts.manage",
              summary="Accuracy over time, shrinkage, locations with most discrepancies",
              query=("since", "until"))
    table.api("GET", "/api/v1/count-reports/day/{day}", day, permission="counts.manage",
              summary="The counts of a business day (its closing count first)")
    table.api("POST", "/api/v1/find", find, permission="counts.run",
              summary="Follow one piece's signal strength (count.find events)",
              body={"type": "object", "properties": {"piece": {"type": "string"}}})
    table.api("DELETE", "/api/v1/find/{epc}", stop_find, permission="counts.run",
              summary="Stop following a piece")
    table.page("/counts", counts_page, permission="counts.run", title=N_("Counts"), nav=True,
               order=40)
    table.page("/counts/find", find_page, permission="counts.run", title=N_("Find a piece"))
    table.script("/counts/counts.js", STATIC / "counts.js")
    table.templates("hub.counts")
    table.topics("count.*")
