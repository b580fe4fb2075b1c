"""The rates screen and the price function's API (hub/core/prices.py): HQ's rates with their
validity, moves held for a manager, the batch reprint of tags whose price moved, quotes from
the sales floor and the promotions HQ runs. Each handler is one service call."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from hub.core import fields
from hub.core.errors import Invalid
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


def _me(request: web.Request) -> str:
    return session_of(request).staff_id


async def _promotions(request: web.Request) -> list[dict[str, Any]]:
    """What HQ pushed, each `running`, `upcoming` or `ended` at the store's now."""
    store = store_of(request)
    now = store.prices.now()
    rows = await store.ledger.fetch("SELECT promotion_id, name, starts, ends, rule"
                                    " FROM hq_promotions ORDER BY starts, promotion_id")
    out = []
    for r in rows:
        promo = {k: r[k] for k in r.keys()}
        starts, ends = (store.prices.moment(promo["starts"]),
                        store.prices.moment(promo["ends"], end_of_day=True))
        promo["state"] = "upcoming" if now < starts else "ended" if now > ends else "running"
        out.append(promo)
    return out


async def _board(request: web.Request) -> dict[str, Any]:
    prices = store_of(request).prices
    return {"rates": await prices.rates(), "held": await prices.held(),
            "tags": await prices.tags_to_reprint(), "promotions": await _promotions(request)}


async def rates_page(request: web.Request) -> web.Response:
    board = await _board(request)
    return await render(request, "rates.html", {
        **board, "now": datetime.now(UTC).isoformat()})


async def rates_api(request: web.Request) -> web.Response:
    return json_response(await _board(request))


async def accept(request: web.Request) -> web.Response:
    return json_response(await store_of(request).prices.accept(
        request.match_info["message_id"], actor=_me(request)))


async def print_tags(request: web.Request) -> web.Response:
    """Print the tags of the listed pieces (or those given) through the devices layer's tag
    printer; the pieces printed are recorded even when the printer stops half-way."""
    body = await read_json(request)
    store = store_of(request)
    wanted = body.get("item_ids")
    if wanted is not None and (not isinstance(wanted, list) or len(wanted) > 500):
        raise Invalid("this is a list of at most {max} serials", "item_ids", max=500)
    listed = {t["item_id"] for t in await store.prices.tags_to_reprint()}
    ids = sorted(listed) if wanted is None else [
        fields.identifier(i, "item_ids", what="a serial") for i in wanted]
    manager = service(runtime_of(request).devices, N_("the devices"))
    printed: list[str] = []
    try:
        for item_id in ids:
            await manager.print_tag(item_id)
            printed.append(item_id)
    finally:
        await store.prices.tags_printed(printed, actor=_me(request))
    return json_response({"printed": printed})


async def quote(request: web.Request) -> web.Response:
    body = await read_json(request)
    return json_response(await store_of(request).prices.quote(
        request.match_info["item_id"], client_id=body.get("client_id"), actor=_me(request)),
        201)


async def promotions_api(request: web.Request) -> web.Response:
    return json_response({"promotions": await _promotions(request)})


def setup(table: Endpoints) -> None:
    table.page("/rates", rates_page, permission="stock.view", title=N_("Metal rates"),
               nav=True, order=25)
    table.api("GET", "/api/v1/prices/rates", rates_api, permission="stock.view",
              summary="HQ's metal rates with their validity, moves held for a manager, the"
                      " tags whose price moved and HQ's promotions")
    table.api("POST", "/api/v1/prices/held/{message_id}/accept", accept, permission="approve",
              summary="Accept a rate move held beyond the band: its rates apply, pieces follow")
    table.api("POST", "/api/v1/prices/tags/print", print_tags, permission="stock.view",
              summary="Print the tags of pieces whose price moved since their tag was printed",
              body={"type": "object", "properties": {"item_ids": {
                  "type": "array", "items": {"type": "string"}}}})
    table.api("POST", "/api/v1/items/{item_id}/quote", quote, permission="sell",
              summary="Quote a piece's price now, with its rate, valid [pricing] quote_days",
              body={"type": "object", "properties": {"client_id": {"type": "string"}}})
    table.api("GET", "/api/v1/promotions", promotions_api, permission="sell",
              summary="HQ's promotions: running, upcoming and ended")
