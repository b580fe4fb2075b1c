"""The memo screens: the exposure at a glance (`/memo`), receiving a vendor's memo (and adding
a vendor), a vendor's page (its pieces, payable and payments), the aging list, the pieces
out on approval (and sending one out), the consignments (and taking one in), and what a
client has on approval or on consignment on her page. Rendered here from `runtime.memo` in
the store's words; `static/memo.js` sends the forms to the JSON API of `hub.memo.web`."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from hub.core.errors import Refused
from hub.core.items import CATEGORIES
from hub.memo.book import METHODS, TERMS
from hub.memo.layer import MANAGE, OUT
from hub.memo.service import MAX_APPROVAL_DAYS, Memo
from hub.web.kernel import Endpoints, render, runtime_of, service, session_of
from hub.words import N_

STATIC = Path(__file__).parent / "static"
TENDERS = ("cash", "card", "bank_transfer")  # what a piece kept from approval is paid in


def _memo(request: web.Request) -> Memo:
    return service(runtime_of(request).memo, N_("memo and consignment"))


def _client(request: web.Request) -> dict[str, str] | None:
    client_id = (request.query.get("client_id") or "")[:40]
    name = runtime_of(request).store.clients.names.name_of(client_id) if client_id else None
    return {"client_id": client_id, "name": name} if name else None


async def exposure_page(request: web.Request) -> web.Response:
    memo = _memo(request)
    return await render(request, "memo_exposure.html", {"x": await memo.exposure(),
                                                        "today": memo.today().isoformat()})


async def receive_page(request: web.Request) -> web.Response:
    memo = _memo(request)
    return await render(request, "memo_receive.html", {
        "vendors": await memo.vendors(), "terms": TERMS, "categories": CATEGORIES,
        "today": memo.today().isoformat(),
        "vendor_id": (request.query.get("vendor_id") or "")[:40]})


async def vendor_page(request: web.Request) -> web.Response:
    memo = _memo(request)
    return await render(request, "memo_vendor.html", {
        "v": await memo.vendor(request.match_info["vendor_id"]), "methods": METHODS})


async def aging_page(request: web.Request) -> web.Response:
    memo = _memo(request)
    return await render(request, "memo_aging.html", {"pieces": await memo.aging(),
                                                     "currency": memo.currency})


async def approvals_page(request: web.Request) -> web.Response:
    memo = _memo(request)
    runtime = runtime_of(request)
    today = memo.today()
    return await render(request, "memo_approvals.html", {
        "outs": await memo.outs(), "client": _client(request),
        "item_id": (request.query.get("item_id") or "")[:40],
        "today": today.isoformat(), "due": (today + timedelta(days=3)).isoformat(),
        "last_day": (today + timedelta(days=MAX_APPROVAL_DAYS)).isoformat(),
        "registers": runtime.config.registers, "register_id": session_of(request).register_id,
        "tenders": TENDERS})


async def consignments_page(request: web.Request) -> web.Response:
    memo = _memo(request)
    return await render(request, "memo_consignments.html", {
        "consignments": await memo.consignments(), "client": _client(request),
        "categories": CATEGORIES, "currency": memo.currency})


async def client_panel(request: web.Request, client: dict[str, Any]) -> dict[str, Any] | None:
    """Her pieces on approval and on consignment, and her credit (None while not running)."""
    memo = runtime_of(request).memo
    if memo is None:
        return None
    try:
        found = await memo.of_client(client["client_id"])
    except Refused:
        return None
    return {**found, "methods": METHODS,
            "open": [o for o in found["outs"] if o["state"] == "out"]}


def setup(table: Endpoints) -> None:
    table.page("/memo", exposure_page, permission="cost.view", title=N_("Memo"), nav=True,
               order=39)
    table.page("/memo/receive", receive_page, permission=MANAGE,
               title=N_("Receive on memo"))
    table.page("/memo/vendors/{vendor_id}", vendor_page, permission="cost.view",
               title=N_("Vendor"))
    table.page("/memo/aging", aging_page, permission="cost.view", title=N_("Memo aging"))
    table.page("/memo/approvals", approvals_page, permission=OUT, title=N_("On approval"))
    table.page("/memo/consignments", consignments_page, permission="clients.view",
               title=N_("Consignments"))
    table.script("/memo/memo.js", STATIC / "memo.js")
    table.templates("hub.memo")
    table.client_panel("memo", "client_memo.html", client_panel, permission="clients.view",
                       order=47)
