"""What a client wishes for, her tier and what to show her: the wish list's API and panel,
the tier in the client's headline, the recommendations' API and panel, and the book browsed
by tier with its rising clients. Each handler is one call of a clienteling service."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web

from hub.clienteling.tiers import TIERS
from hub.clienteling.wishlists import STYLE_MAX
from hub.core import fields
from hub.core.errors import NotFound
from hub.core.fields import Form
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


def _wishlists(request: web.Request) -> Any:
    return service(runtime_of(request).wishlists, N_("the wish lists"))


def _tiers(request: web.Request) -> Any:
    return service(runtime_of(request).tiers, N_("the client tiers"))


def _recommendations(request: web.Request) -> Any:
    return service(runtime_of(request).recommendations, N_("the recommendations"))


# -- wish lists ---------------------------------------------------------------------------------

async def wishlist(request: web.Request) -> web.Response:
    client_id = request.match_info["client_id"]
    await store_of(request).clients.get(client_id)  # a clear 404 for a client never here
    return json_response(await _wishlists(request).of(client_id))


async def wish(request: web.Request) -> web.Response:
    body = await read_json(request)
    return json_response(await _wishlists(request).add(
        request.match_info["client_id"], body, actor=session_of(request).staff_id), 201)


async def unwish(request: web.Request) -> web.Response:
    return json_response(await _wishlists(request).remove(
        request.match_info["client_id"], request.match_info["entry_id"],
        actor=session_of(request).staff_id))


def _linked(profile: dict[str, Any]) -> list[str]:
    """The clients her profile links to (partner, household), read defensively: the
    profile's shape grows."""
    found = []
    if isinstance(profile.get("partner_id"), str):
        found.append(profile["partner_id"])
    for link in profile.get("household") or []:
        if isinstance(link, str):
            found.append(link)
        elif isinstance(link, dict) and isinstance(link.get("client_id"), str):
            found.append(link["client_id"])
    return list(dict.fromkeys(found))


async def _sizes_of(request: web.Request, client_id: str) -> dict[str, str]:
    try:
        profile = (await store_of(request).clients.get(client_id))["profile"] or {}
    except NotFound:
        return {}
    sizes = profile.get("ring_sizes")
    return {str(k): str(v) for k, v in sizes.items()} if isinstance(sizes, dict) else {}


async def wishlist_panel(request: web.Request, client: dict[str, Any]) -> dict[str, Any] | None:
    wishlists = runtime_of(request).wishlists
    if wishlists is None or client["profile"] is None:
        return None
    store = store_of(request)
    data = await wishlists.of(client["client_id"])
    # Sizes for gifting: of each client a wish on her list is for, and her own for the
    # wishes others keep for her.
    sizes = {cid: await _sizes_of(request, cid)
             for cid in {w["for_client_id"] for w in data["entries"] if w["for_client_id"]}}
    names = store.clients.names
    others = [{"client_id": cid, "name": names.name_of(cid)}
              for cid in _linked(client["profile"]) if names.name_of(cid)]
    own = client["profile"].get("ring_sizes")
    return {**data, "sizes": sizes, "others": others, "style_max": STYLE_MAX,
            "own_sizes": own if isinstance(own, dict) else {},
            "currency": store.config.currency}


# -- tiers --------------------------------------------------------------------------------------

async def tier_panel(request: web.Request, client: dict[str, Any]) -> dict[str, Any] | None:
    tiers = runtime_of(request).tiers
    if tiers is None:
        return None
    return await tiers.of(client["client_id"])


def _tier_asked(request: web.Request) -> str | None:
    f = Form(request.query, query=True)
    tier = f.choice("tier", TIERS[1:], vocabulary="client_tier", lower=False)
    f.done()
    return tier


async def tiers_api(request: web.Request) -> web.Response:
    tiers = _tiers(request)
    tier = _tier_asked(request)
    out: dict[str, Any] = {"counts": await tiers.counts(),
                           "thresholds": {name: vars(t) for name, t in tiers.rules.thresholds},
                           "currency": store_of(request).config.currency}
    if tier is not None:
        out["tier"], out["clients"] = tier, await tiers.book(tier)
    return json_response(out)


async def rising_api(request: web.Request) -> web.Response:
    return json_response({"clients": await _tiers(request).rising(),
                          "currency": store_of(request).config.currency})


async def tiers_page(request: web.Request) -> web.Response:
    tiers = _tiers(request)
    tier = _tier_asked(request) or "vip"
    return await render(request, "tiers.html", {
        "tiers": TIERS, "tier": tier, "counts": await tiers.counts(),
        "clients": await tiers.book(tier)})


async def rising_page(request: web.Request) -> web.Response:
    return await render(request, "rising.html", {"clients": await _tiers(request).rising()})


# -- recommendations ----------------------------------------------------------------------------

async def recommendations(request: web.Request) -> web.Response:
    client_id = fields.identifier(request.match_info["client_id"], "client_id",
                                  what="a client id")
    return json_response(await _recommendations(request).for_client(client_id or ""))


async def recommendations_panel(request: web.Request,
                                client: dict[str, Any]) -> dict[str, Any] | None:
    service_ = runtime_of(request).recommendations
    if service_ is None or client["profile"] is None:
        return None
    return await service_.for_client(client["client_id"])


def setup(table: Endpoints) -> None:
    table.client_panel("tier", "client_tier.html", tier_panel, permission="clients.view",
                       place="headline", order=10, summary=True)
    table.client_panel("wishlist", "client_wishlist.html", wishlist_panel,
                       permission="clients.view", order=20)
    table.client_panel("recommendations", "client_recommendations.html",
                       recommendations_panel, permission="clients.view", order=25)
    table.script("/clienteling/taste.js", STATIC / "taste.js")
    table.page("/tiers", tiers_page, permission="clients.tiers", title=N_("Tiers"), nav=True,
               order=37)
    table.page("/tiers/rising", rising_page, permission="clients.tiers",
               title=N_("Rising clients"))
    wish_body = {"type": "object", "properties": {
        "item_id": {"type": "string", "description": "a piece of this store (its serial)"},
        "style": {"type": "string", "maxLength": STYLE_MAX,
                  "description": "a style in her words, when it is not one piece"},
        "for_client_id": {"type": "string",
                          "description": "a gift: the client it is for (his list for her)"}}}
    table.api("GET", "/api/v1/clients/{client_id}/wishlist", wishlist,
              permission="clients.view",
              summary="A client's wish list, and the wishes others keep for her")
    table.api("POST", "/api/v1/clients/{client_id}/wishlist", wish, permission="clients.edit",
              summary="Add a piece or a style to a client's wish list", body=wish_body)
    table.api("DELETE", "/api/v1/clients/{client_id}/wishlist/{entry_id}", unwish,
              permission="clients.edit", summary="Take a wish off a client's wish list")
    table.api("GET", "/api/v1/clients/{client_id}/recommendations", recommendations,
              permission="clients.view",
              summary="What to show a client, best first, each with its reasons in words")
    table.api("GET", "/api/v1/tiers", tiers_api, permission="clients.tiers",
              summary="How many clients in each tier, the thresholds, and a tier's clients",
              query=("tier",))
    table.api("GET", "/api/v1/tiers/rising", rising_api, permission="clients.tiers",
              summary="The rising clients: spending more, or coming more often, than the"
                      " year before")
