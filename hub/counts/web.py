"""The counts screens and API: start a count, watch it live, close it, act on the result,
find a piece with a handheld. Live progress reaches browsers as `count.progress` events on
the WebSocket (forwarded by the web app for `count.*`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web

from hub.core import fields
from hub.core.errors import Invalid
from hub.counts import reports
from hub.counts.model import CountStatus
from hub.counts.service import Counts
from hub.web.app import json_response, read_json, session_of
from hub.web.endpoints import ANYONE, MANAGERS, STAFF, ApiError, endpoints, render
from hub.words import N_

STATIC = Path(__file__).parent / "static"
_ID_LIST = {"type": "array", "items": {"type": "string"}}


def setup(app: web.Application, runtime: Any) -> None:
    table = endpoints(app)

    def counts() -> Counts:
        service = runtime.services.get("counts")
        if service is None:
            raise ApiError(503, "counts_unavailable", "stock counts are not running on this hub")
        return service

    async def list_counts(request: web.Request) -> web.Response:
        service = counts()
        return json_response({
            "open": [service.progress(s) for s in service.sessions.values()],
            "recent": await reports.counts_list(service.ledger, limit=30)})

    async def start(request: web.Request) -> web.Response:
        body = await read_json(request)
        progress = await counts().start_count(body.get("kind", "spot"), body.get("scope"),
                                              session_of(request).staff_id)
        return json_response(progress, 201)

    async def detail(request: web.Request) -> web.Response:
        service, count_id = counts(), request.match_info["count_id"]
        session = service.sessions.get(count_id)
        if session is not None:
            return json_response({**service.progress(session), "status": CountStatus.OPEN})
        return json_response(await reports.count_detail(service.ledger, service.items,
                                                        count_id))

    async def missing(request: web.Request) -> web.Response:
        """The pieces an open count has not read yet, with their description."""
        service = counts()
        session = service.get_session(request.match_info["count_id"])
        pieces = [p for p in service.index.values()
                  if session.expects(p) and p.epc not in session.found]
        pieces.sort(key=lambda p: (p.location, p.item_id))
        return json_response({"count_id": session.count_id, "missing": [
            {"item_id": p.item_id, "description": p.description, "location": p.location,
             "category": p.category, "tag_price": p.tag_price} for p in pieces[:500]],
            "total": len(pieces)})

    async def sweep(request: web.Request) -> web.Response:
        body = await read_json(request)
        count_id = request.match_info["count_id"]
        await counts().sweep(count_id, body.get("device"), body.get("location"),
                             session_of(request).staff_id)
        return json_response({"count_id": count_id, "device": body.get("device"),
                              "location": body.get("location")})

    def ending(outcome: CountStatus):
        async def handler(request: web.Request) -> web.Response:
            body = await read_json(request)
            note = fields.text(body.get("note"), "note", max_len=500, multiline=True) or ""
            return json_response(await counts().close(request.match_info["count_id"],
                                                      session_of(request).staff_id,
                                                      outcome=outcome, note=note))
        return handler

    def follow_up(action: str):
        async def handler(request: web.Request) -> web.Response:
            body = await read_json(request)
            item_ids = body.get("item_ids")
            if item_ids is not None and (not isinstance(item_ids, list) or not all(
                    isinstance(i, str) for i in item_ids)):
                raise Invalid("this must be a list of serials", "item_ids")
            service = counts()
            method = service.confirm_missing if action == "confirm" else service.move_misplaced
            return json_response(await method(request.match_info["count_id"],
                                              session_of(request).staff_id, item_ids))
        return handler

    async def report(request: web.Request) -> web.Response:
        since, until = request.query.get("since"), request.query.get("until")
        ledger = counts().ledger
        return json_response({
            "currency": runtime.config.currency,
            "accuracy": await reports.accuracy(ledger, since=since, until=until),
            "shrinkage": await reports.shrinkage(ledger, since=since, until=until),
            "locations": await reports.hot_locations(ledger, since=since, until=until)})

    async def day(request: web.Request) -> web.Response:
        return json_response(await reports.day_record(counts().ledger, request.match_info["day"]))

    async def find(request: web.Request) -> web.Response:
        body = await read_json(request)
        return json_response(counts().find(str(body.get("piece", ""))))

    async def stop_find(request: web.Request) -> web.Response:
        counts().stop_finding(request.match_info["epc"])
        return json_response({"stopped": request.match_info["epc"]})

    async def counts_page(request: web.Request) -> web.Response:
        return await render(request, "counts.html", {"currency": runtime.config.currency})

    async def find_page(request: web.Request) -> web.Response:
        return await render(request, "find.html", {})

    async def script(request: web.Request) -> web.Response:
        return web.Response(body=(STATIC / "counts.js").read_bytes(),
                            content_type="application/javascript")

    body = {"type": "object"}
    table.api("GET", "/api/v1/counts", list_counts, roles=STAFF,
              summary="Open counts with live progress, and recent counts")
    table.api("POST", "/api/v1/counts", start, roles=MANAGERS, summary="Start a count",
              body={"type": "object", "properties": {
                  "kind": {"enum": ["opening", "closing", "spot", "full"]},
                  "scope": {"type": ["array", "null"], "items": {"type": "string"}}}})
    table.api("GET", "/api/v1/counts/{count_id}", detail, roles=STAFF,
              summary="A count: live progress while open, result and discrepancies once closed")
    table.api("GET", "/api/v1/counts/{count_id}/missing", missing, roles=STAFF,
              summary="Pieces an open count has not read yet")
    table.api("POST", "/api/v1/counts/{count_id}/sweep", sweep, roles=STAFF,
              summary="Say which location a handheld or scanner is sweeping",
              body={"type": "object", "properties": {"device": {"type": "string"},
                                                     "location": {"type": "string"}}})
    table.api("POST", "/api/v1/counts/{count_id}/close", ending(CountStatus.CLOSED), roles=MANAGERS,
              summary="Close a count: one journal entry with its reconciliation", body=body)
    table.api("POST", "/api/v1/counts/{count_id}/cancel", ending(CountStatus.CANCELLED),
              roles=MANAGERS,
              summary="Abandon a count (its reads are kept in its record)", body=body)
    table.api("POST", "/api/v1/counts/{count_id}/confirm-missing", follow_up("confirm"),
              roles=MANAGERS, summary="Mark the count's missing pieces missing",
              body={"type": "object", "properties": {"item_ids": _ID_LIST}})
    table.api("POST", "/api/v1/counts/{count_id}/move-misplaced", follow_up("move"),
              roles=MANAGERS, summary="Move misplaced pieces to where they were read",
              body={"type": "object", "properties": {"item_ids": _ID_LIST}})
    table.api("GET", "/api/v1/count-reports", report, roles=MANAGERS,
              summary="Accuracy over time, shrinkage, locations with most discrepancies",
              query=("since", "until"))
    table.api("GET", "/api/v1/count-reports/day/{day}", day, roles=MANAGERS,
              summary="The counts of a business day (its closing count first)")
    table.api("POST", "/api/v1/find", find, roles=STAFF,
              summary="Follow one piece's signal strength (count.find events)",
              body={"type": "object", "properties": {"piece": {"type": "string"}}})
    table.api("DELETE", "/api/v1/find/{epc}", stop_find, roles=STAFF,
              summary="Stop following a piece")
    table.page("/counts", counts_page, roles=STAFF, title=N_("Counts"), nav=True, order=40)
    table.page("/counts/find", find_page, roles=STAFF, title=N_("Find a piece"))
    table.file("/counts/counts.js", script, roles=ANYONE, summary="The counts screens' script")
    table.templates("hub.counts", "templates")
