"""Buying gold's API and screens: buy from a client (the scale, the camera), a purchase's
page (lots, photos, the price's breakdown with the rate named, the hold, releases), the hold
list, the register of purchases (managers; leaving the hub only encrypted or on paper), her
purchases and trade-ins on the client page, and a floor panel to take a trade-in against the
cart. Each handler turns HTTP into one call of `runtime.buying` and back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web

from hub.buying.book import (
    BUY,
    BUYING_METALS,
    PAYOUTS,
    RELEASE,
    REPORT,
    TESTS,
    Buying,
)
from hub.core.clients import IDENTITY_DOCUMENTS
from hub.core.errors import NotFound, Refused
from hub.core.fields import Form
from hub.web.kernel import (
    Endpoints,
    json_response,
    may,
    print_on_register,
    read_json,
    read_upload,
    render,
    runtime_of,
    service,
    session_of,
    store_of,
)
from hub.words import N_
from hub.words.labels import CATEGORY

STATIC = Path(__file__).parent / "static"
_TEXT = {"type": "string"}


def buying_of(request: web.Request) -> Buying:
    return service(runtime_of(request).buying, N_("buying gold"))


def _me(request: web.Request) -> str:
    return session_of(request).staff_id


def _period(request: web.Request) -> tuple[str | None, str | None]:
    f = Form(request.query, query=True, allowed=("from", "to"))
    start, end = f.day("from"), f.day("to")
    f.done()
    return start, end


# -- API ---------------------------------------------------------------------------------------

async def buy_api(request: web.Request) -> web.Response:
    done = await buying_of(request).buy(await read_json(request), actor=_me(request))
    return json_response(done, 201)


async def quote_api(request: web.Request) -> web.Response:
    body = await read_json(request)
    return json_response(await buying_of(request).quote(body.get("lots")))


async def photo_api(request: web.Request) -> web.Response:
    """A photo of a lot, kept under her key before the purchase names it."""
    buying_of(request)
    store = store_of(request)
    f = Form(request.query, query=True, allowed=("client_id", "name"))
    client_id = f.identifier("client_id", what="a client id")
    f.done()
    got = await read_upload(request, max_bytes=store.attachments.max_bytes)
    kept = await store.attachments.store(
        got.data, owner=f"client:{client_id}", kind="photo", name=got.filename,
        declared_type=got.content_type, actor=_me(request))
    return json_response({"hash": kept["hash"], "size": kept["size"]}, 201)


async def get_api(request: web.Request) -> web.Response:
    return json_response(await buying_of(request).get(request.match_info["buyin_id"]))


async def release_api(request: web.Request) -> web.Response:
    done = await buying_of(request).release(
        request.match_info["buyin_id"], request.match_info["pos"], await read_json(request),
        actor=_me(request))
    return json_response(done)


async def held_api(request: web.Request) -> web.Response:
    return json_response({"lots": await buying_of(request).held()})


async def trade_ins_api(request: web.Request) -> web.Response:
    found = await buying_of(request).open_trade_ins(request.match_info["client_id"][:40])
    return json_response({"trade_ins": found})


async def report_api(request: web.Request) -> web.Response:
    start, end = _period(request)
    return json_response({"purchases": await buying_of(request).report(start, end)})


async def export_api(request: web.Request) -> web.Response:
    """The register as an age-encrypted CSV (the passphrase opens it): journaled."""
    body = await read_json(request)
    sealed = await buying_of(request).export(body.get("from"), body.get("to"),
                                             body.get("passphrase"), actor=_me(request))
    return web.Response(body=sealed, content_type="application/octet-stream", headers={
        "Content-Disposition": 'attachment; filename="purchases.csv.age"',
        "Cache-Control": "no-store"})


async def print_api(request: web.Request) -> web.Response:
    body = await read_json(request)
    buying = buying_of(request)
    doc, count = await buying.printed(body.get("from"), body.get("to"))
    printed = await print_on_register(request, body, doc, "purchases")
    await buying.record_export(body.get("from"), body.get("to"), count, "print", _me(request))
    return json_response({"printed": printed, "count": count})


# -- screens -------------------------------------------------------------------------------------

async def buy_page(request: web.Request) -> web.Response:
    runtime = runtime_of(request)
    buying = buying_of(request)
    client = None
    client_id = (request.query.get("client_id") or "")[:40]
    if client_id and (name := runtime.store.clients.names.name_of(client_id)):
        client = {"client_id": client_id, "name": name}
    return await render(request, "buying_buy.html", {
        "client": client, "metals": BUYING_METALS, "tests": TESTS, "payouts": PAYOUTS,
        "registers": runtime.config.registers, "register_id": session_of(request).register_id,
        "settings": buying.settings, "currency": runtime.store.config.currency,
        "trade_in": request.query.get("payout") == "trade_in",
        "documents": IDENTITY_DOCUMENTS})


async def buyin_page(request: web.Request) -> web.Response:
    buying = buying_of(request)
    b = await buying.get(request.match_info["buyin_id"])
    name = runtime_of(request).store.clients.names.name_of(b["client_id"])
    return await render(request, "buying_buyin.html", {
        "b": b, "client_name": name, "categories": list(CATEGORY),
        "may_release": may(request, RELEASE)})


async def holds_page(request: web.Request) -> web.Response:
    lots = await buying_of(request).held()
    return await render(request, "buying_holds.html", {
        "free": [lot for lot in lots if lot["releasable"]],
        "waiting": [lot for lot in lots if not lot["releasable"]],
        "may_release": may(request, RELEASE),
        "currency": runtime_of(request).store.config.currency})


async def report_page(request: web.Request) -> web.Response:
    buying = buying_of(request)
    start, end = _period(request)
    today = buying.today().isoformat()
    start, end = start or today[:8] + "01", end or today
    runtime = runtime_of(request)
    return await render(request, "buying_report.html", {
        "purchases": await buying.report(start, end), "start": start, "end": end,
        "registers": runtime.config.registers, "register_id": session_of(request).register_id,
        "printer": runtime.devices is not None})


async def client_panel(request: web.Request, client: dict[str, Any]) -> dict[str, Any] | None:
    """Her purchases and trade-ins, newest first, each with what is left to spend."""
    buying = runtime_of(request).buying
    if buying is None or client.get("status") == "forgotten":
        return None
    try:
        return {"buyins": await buying.of_client(client["client_id"])}
    except (Refused, NotFound):
        return None


def setup(table: Endpoints) -> None:
    lot = {"type": "object", "properties": {
        "description": _TEXT, "metal": _TEXT, "fineness": {"type": "integer"},
        "weight_mg": {"type": "integer"}, "test": _TEXT,
        "photos": {"type": "array", "items": _TEXT}}}
    table.api("POST", "/api/v1/buyins", buy_api, permission=BUY,
              summary="Buy gold from a client (or take it as a trade-in)",
              body={"type": "object", "required": ["client_id", "lots", "payout"],
                    "properties": {"client_id": _TEXT, "document": {"type": "integer"},
                                   "new_document": {"type": "object"},
                                   "lots": {"type": "array", "items": lot}, "payout": _TEXT,
                                   "register_id": _TEXT, "reference": _TEXT,
                                   "offered": {"type": "integer"}, "approval_id": _TEXT}})
    table.api("POST", "/api/v1/buyins/quote", quote_api, permission=BUY,
              summary="What lots are worth to buy at today's rate",
              body={"type": "object", "properties": {"lots": {"type": "array", "items": lot}}})
    table.api("POST", "/api/v1/buyins/photos", photo_api, permission=BUY, upload=True,
              query=("client_id", "name"), summary="A photo of a lot, kept under her key")
    table.api("GET", "/api/v1/buyins/held", held_api, permission=BUY,
              summary="Bought lots in their hold period")
    table.api("GET", "/api/v1/buyins/report", report_api, permission=REPORT,
              query=("from", "to"), summary="The register of purchases in a period")
    table.api("POST", "/api/v1/buyins/report/export", export_api, permission=REPORT,
              summary="The register of purchases as an encrypted file",
              produces=("application/octet-stream",),
              body={"type": "object", "required": ["passphrase"],
                    "properties": {"from": _TEXT, "to": _TEXT, "passphrase": _TEXT}})
    table.api("POST", "/api/v1/buyins/report/print", print_api, permission=REPORT,
              summary="Print the register of purchases",
              body={"type": "object", "properties": {"from": _TEXT, "to": _TEXT,
                                                     "register": _TEXT}})
    table.api("GET", "/api/v1/buyins/{buyin_id}", get_api, permission=BUY,
              summary="A purchase: lots, price, hold")
    table.api("POST", "/api/v1/buyins/{buyin_id}/lots/{pos}/release", release_api,
              permission=RELEASE, summary="Release a bought lot to the melt or to stock",
              body={"type": "object", "required": ["to"], "properties": {
                  "to": _TEXT, "lot": _TEXT, "category": _TEXT, "description": _TEXT,
                  "tag_price": {"type": "integer"}, "item_id": _TEXT, "sku": _TEXT,
                  "location": _TEXT}})
    table.api("GET", "/api/v1/clients/{client_id}/trade-ins", trade_ins_api, permission=BUY,
              summary="A client's trade-ins with value left to spend")
    table.page("/buying", buy_page, permission=BUY, title=N_("Buy gold"), nav=True, order=70)
    table.page("/buying/holds", holds_page, permission=BUY, title=N_("Bought lots on hold"))
    table.page("/buying/report", report_page, permission=REPORT,
               title=N_("Register of purchases"))
    table.page("/buying/{buyin_id}", buyin_page, permission=BUY, title=N_("Purchase"))
    table.script("/buying/buying.js", STATIC / "buying.js")
    table.templates("hub.buying")
    table.client_panel("buyins", "client_buyins.html", client_panel, permission=BUY)
    table.floor_panel("trade_in", "floor_trade_in.html", permission=BUY,
                      script="/buying/buying.js", order=60)
