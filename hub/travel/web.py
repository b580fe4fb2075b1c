"""Travellers' money on screen and in the API: HQ's exchange rates (and a manager's word on a
move held beyond the band), a quote and a foreign tender into a register's cart, tax-free
forms (made from a sale, listed, shown, printed as A4 PDF), her forms on her page. Each
handler turns HTTP into one call of a service and back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web

from hub.core.errors import NotFound, Refused
from hub.receipts import rate_text
from hub.travel.exchange import ACCEPT
from hub.travel.service import Travel
from hub.travel.taxfree import ISSUE, VIEW, countries, form_number
from hub.web.kernel import (
    Endpoints,
    json_response,
    may,
    read_json,
    render,
    runtime_of,
    service,
    session_of,
    store_of,
)
from hub.words import N_

STATIC = Path(__file__).parent / "static"
_TEXT = {"type": "string"}


def travel_of(request: web.Request) -> Travel:
    return service(runtime_of(request).travel, N_("foreign currencies and tax-free forms"))


def _me(request: web.Request) -> str:
    return session_of(request).staff_id


# -- exchange ---------------------------------------------------------------------------------

async def _rates_view(request: web.Request) -> dict[str, Any]:
    """The rates with how each currency is written here (the floor panel formats with it)."""
    exchange = travel_of(request).exchange
    words = store_of(request).words
    rates = await exchange.rates()
    return {"home": exchange.home, "spread_bp": exchange.settings.spread_bp,
            "cards": exchange.settings.cards,
            "rates": [{**r, "format": words.currency_format(r["currency"]).__dict__,
                       "rate_text": rate_text(words, r["rate"], exchange.home, r["currency"]),
                       "applied_text": rate_text(words, r["applied"], exchange.home,
                                                 r["currency"]),
                       "name": words.locale.currencies.get(r["currency"], r["currency"])}
                      for r in rates if r["taken"]],
            "held": await exchange.held()}


async def rates_api(request: web.Request) -> web.Response:
    return json_response(await _rates_view(request))


async def quote_api(request: web.Request) -> web.Response:
    """What an amount of a foreign currency counts for now (the floor shows it live)."""
    exchange = travel_of(request).exchange
    currency = request.query.get("currency", "")
    amount = exchange.parse_foreign(request.query.get("amount"), currency)
    quote = await exchange.quote(currency, amount)
    words = store_of(request).words
    return json_response({**quote, "foreign_text": words.money(quote["foreign_amount"],
                                                               quote["currency"]),
                          "rate_text": rate_text(words, quote["rate"], exchange.home,
                                                 quote["currency"]),
                          "amount_text": words.money(quote["amount"], exchange.home)})


async def take_api(request: web.Request) -> web.Response:
    body = await read_json(request)
    cart = await travel_of(request).exchange.take(request.match_info["register_id"], body,
                                                  by=_me(request))
    return json_response(cart)


async def accept_api(request: web.Request) -> web.Response:
    body = await read_json(request)
    done = await travel_of(request).exchange.accept(body.get("held_seq"), body.get("currency"),
                                                    actor=_me(request))
    return json_response(done, 201)


async def rates_page(request: web.Request) -> web.Response:
    view = await _rates_view(request)
    return await render(request, "exchange_rates.html", {
        **view, "can_accept": may(request, ACCEPT)})


# -- tax-free forms ---------------------------------------------------------------------------

async def issue_api(request: web.Request) -> web.Response:
    body = await read_json(request)
    form = await travel_of(request).tax_free.issue(request.match_info["sale_id"], body,
                                                   actor=_me(request))
    return json_response(form, 201)


async def form_api(request: web.Request) -> web.Response:
    return json_response(await travel_of(request).tax_free.get(request.match_info["number"]))


async def list_api(request: web.Request) -> web.Response:
    tax_free = travel_of(request).tax_free
    client_id = request.query.get("client_id")
    forms = await (tax_free.of_client(client_id) if client_id else tax_free.recent())
    return json_response({"forms": forms})


async def pdf(request: web.Request) -> web.Response:
    number = form_number(request.match_info["number"])
    body = await travel_of(request).tax_free.pdf(number)
    return web.Response(body=body, content_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{number}.pdf"', "Cache-Control": "no-store"})


async def forms_page(request: web.Request) -> web.Response:
    return await render(request, "tax_free_list.html",
                        {"forms": await travel_of(request).tax_free.recent()})


async def form_page(request: web.Request) -> web.Response:
    tax_free = travel_of(request).tax_free
    form = await tax_free.get(request.match_info["number"])
    doc = await tax_free.document(form["number"])
    return await render(request, "tax_free_form.html", {
        "form": form, "doc": doc, "countries": countries(store_of(request).words)})


async def new_form_page(request: web.Request) -> web.Response:
    """A sale's form: the form itself once made, else what to fill in (or why not)."""
    tax_free = travel_of(request).tax_free
    sale_id = request.match_info["sale_id"]
    made = await tax_free.of_sale(sale_id)
    if made is not None:
        raise web.HTTPSeeOther(f"/tax-free/{made['number']}")
    check = await tax_free.eligible(sale_id)
    words = store_of(request).words
    home = tax_free.settings.home_area
    if check["why_not"]:  # said in the store's words, the minimum written its way
        check["why_not"] = words.render(check["why_not"], {
            "minimum": words.money(check["minimum"], check["sale"]["currency"])})
    return await render(request, "tax_free_new.html", {
        **check, "can_issue": may(request, ISSUE),
        "countries": countries(words),
        "abroad": {c: n for c, n in countries(words).items() if c not in home}})


async def client_panel(request: web.Request, client: dict[str, Any]) -> dict[str, Any] | None:
    """Her tax-free forms on her page (numbers and amounts)."""
    travel = runtime_of(request).travel
    if travel is None or client.get("status") == "forgotten":
        return None
    try:
        forms = await travel.tax_free.of_client(client["client_id"])
    except (Refused, NotFound):
        return None
    return {"forms": forms} if forms else None


def setup(table: Endpoints) -> None:
    table.api("GET", "/api/v1/exchange-rates", rates_api, permission="sell",
              summary="Head office's exchange rates in force, the rate the counter applies,"
                      " and moves held for a manager")
    table.api("GET", "/api/v1/exchange-rates/quote", quote_api, permission="sell",
              summary="What an amount of a foreign currency counts for now",
              query=("currency", "amount"))
    table.api("POST", "/api/v1/exchange-rates/accept", accept_api, permission=ACCEPT,
              summary="Put an exchange rate held beyond the band in force",
              body={"type": "object", "required": ["held_seq", "currency"],
                    "properties": {"held_seq": {"type": "integer"}, "currency": _TEXT}})
    table.api("POST", "/api/v1/registers/{register_id}/cart/foreign-tenders", take_api,
              permission="sell", summary="Take cash or a card in another currency: the hub"
                                         " converts it at head office's rate",
              body={"type": "object", "required": ["currency", "foreign_amount"],
                    "properties": {"currency": _TEXT, "foreign_amount": _TEXT, "type": _TEXT,
                                   "brand": _TEXT, "last4": _TEXT, "auth_code": _TEXT}})
    table.page("/exchange-rates", rates_page, permission="sell", title=N_("Exchange rates"),
               nav=True, order=37)
    table.file("/api/v1/tax-free/{number}.pdf", pdf, permission=VIEW,
               summary="A tax-free form as A4 PDF (printed again from the books)")
    table.api("GET", "/api/v1/tax-free", list_api, permission=VIEW,
              summary="The store's latest tax-free forms, or a client's", query=("client_id",))
    table.api("GET", "/api/v1/tax-free/{number}", form_api, permission=VIEW,
              summary="One tax-free form, with the traveller's details")
    table.api("POST", "/api/v1/sales/{sale_id}/tax-free", issue_api, permission=ISSUE,
              summary="Make the tax-free form of a sale for the traveller who bought",
              body={"type": "object", "required": ["document_number", "residence",
                                                   "nationality", "address"],
                    "properties": {"document_type": _TEXT, "document_number": _TEXT,
                                   "residence": _TEXT, "nationality": _TEXT,
                                   "address": _TEXT}})
    table.page("/tax-free", forms_page, permission=VIEW, title=N_("Tax-free forms"), nav=True,
               order=38)
    table.page("/tax-free/{number}", form_page, permission=VIEW, title=N_("Tax-free form"))
    table.page("/sales/{sale_id}/tax-free", new_form_page, permission=VIEW,
               title=N_("New tax-free form"))
    table.script("/travel/travel.js", STATIC / "travel.js")
    table.templates("hub.travel")
    table.floor_panel("foreign_currency", "floor_foreign.html", permission="sell",
                      script="/travel/travel.js", order=60)
    table.client_panel("tax_free", "client_tax_free.html", client_panel, permission=VIEW,
                       order=70)
