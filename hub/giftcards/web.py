"""Gift cards' and store credit's screens and API: a card's balance by its code, a new card
into a register's cart, the cards sold today, her store credit, and exchanges. Each handler
turns HTTP into one call of a service and back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web

from hub.core import fields
from hub.core.errors import NotFound, Refused
from hub.giftcards.cards import GiftCards
from hub.web.kernel import (
    Endpoints,
    json_response,
    read_json,
    render,
    runtime_of,
    service,
    session_of,
    store_of,
)
from hub.words import N_

STATIC = Path(__file__).parent / "static"
SELL = "giftcards.sell"
_TEXT = {"type": "string"}
_LIST = {"type": "array", "items": {"type": "object"}}


def cards_of(request: web.Request) -> GiftCards:
    return service(runtime_of(request).giftcards, N_("gift cards"))


def _me(request: web.Request) -> str:
    return session_of(request).staff_id


async def card_api(request: web.Request) -> web.Response:
    return json_response(await cards_of(request).lookup(request.match_info["code"]))


async def today_api(request: web.Request) -> web.Response:
    return json_response({"cards": await cards_of(request).sold_today()})


async def sell_api(request: web.Request) -> web.Response:
    """A new card of `amount` into the register's cart (a fresh code, printed on the receipt
    with its barcode once sold)."""
    body = await read_json(request)
    cards = cards_of(request)
    amount = fields.amount(body.get("amount"), "amount", required=True)
    cards.check_amount(amount)
    cart = await store_of(request).carts.add(
        request.match_info["register_id"], service=f"giftcard:{cards.new_code()}",
        unit_price=amount, by=_me(request), why="gift_card")
    return json_response(cart)


async def credit_api(request: web.Request) -> web.Response:
    return json_response(await cards_of(request).store_credit(request.match_info["client_id"]))


async def exchange_api(request: web.Request) -> web.Response:
    body = await read_json(request)
    done = await store_of(request).registers.exchange(
        request.match_info["sale_id"], register_id=body.get("register_id"),
        lines=body.get("lines"), new_lines=body.get("new_lines"), tenders=body.get("tenders"),
        refund_tenders=body.get("refund_tenders"), reason=body.get("reason"),
        approval_id=body.get("approval_id"), actor=_me(request))
    return json_response(done, 201)


async def cards_page(request: web.Request) -> web.Response:
    cards = cards_of(request)
    card, problem = None, None
    code = request.query.get("code", "").strip()
    if code:
        try:
            card = await cards.lookup(code)
        except Refused as exc:
            problem = store_of(request).words.refusal(exc)
    return await render(request, "giftcards.html", {
        "code": code, "card": card, "problem": problem, "today": await cards.sold_today(),
        "foreign": await cards.foreign(50), "currency": cards.currency})


async def client_panel(request: web.Request, client: dict[str, Any]) -> dict[str, Any] | None:
    """Her store credit on her page (nothing for an erased client)."""
    cards = runtime_of(request).giftcards
    if cards is None or client.get("status") == "forgotten":
        return None
    try:
        return await cards.store_credit(client["client_id"])
    except (Refused, NotFound):
        return None


def setup(table: Endpoints) -> None:
    table.api("GET", "/api/v1/gift-cards", today_api, permission="sell",
              summary="The gift cards sold today, with what each holds now")
    table.api("GET", "/api/v1/gift-cards/{code}", card_api, permission="sell",
              summary="A gift card by its code: what it can pay now and its movements")
    table.api("POST", "/api/v1/registers/{register_id}/cart/gift-cards", sell_api,
              permission=SELL, summary="Put a new gift card of an amount into the cart",
              body={"type": "object", "required": ["amount"],
                    "properties": {"amount": {"type": "integer"}}})
    table.api("GET", "/api/v1/clients/{client_id}/store-credit", credit_api,
              permission="clients.view", summary="A client's store credit and its movements")
    table.api("POST", "/api/v1/sales/{sale_id}/exchange", exchange_api,
              permission="returns.request",
              summary="Exchange: lines of a sale back and new lines out in one go (manager"
                      " approval)",
              body={"type": "object", "required": ["register_id", "lines", "new_lines",
                                                   "reason"],
                    "properties": {"register_id": _TEXT, "reason": _TEXT, "lines": _LIST,
                                   "new_lines": _LIST, "tenders": _LIST,
                                   "refund_tenders": _LIST, "approval_id": _TEXT}})
    table.page("/gift-cards", cards_page, permission="sell", title=N_("Gift cards"), nav=True,
               order=35)
    table.script("/giftcards/giftcards.js", STATIC / "giftcards.js")
    table.templates("hub.giftcards")
    table.floor_panel("giftcards", "floor_giftcards.html", permission="sell",
                      script="/giftcards/giftcards.js")
    table.client_panel("store_credit", "client_store_credit.html", client_panel,
                       permission="clients.view", place="headline", summary=True)
