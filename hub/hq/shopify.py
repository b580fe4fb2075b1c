"""Shopify's `orders/create` webhook read as a click-and-collect reservation at a store, or
as an online order shipped from one.

Shopify signs each webhook with the app's secret: `X-Shopify-Hmac-Sha256` is the base64
HMAC-SHA256 of the raw body (checked in hub/hq/shop.py), `X-Shopify-Webhook-Id` names the
delivery (retries repeat it), `X-Shopify-Topic` is `orders/create`. The order (REST Admin
API's Order resource) carries `id`, `name` ("#1001"), `created_at`, `customer.id`,
`line_items[].sku` and `quantity`, `shipping_lines[]` and `note_attributes[]` ({name, value}).
The boutique a client collects from is the note attribute `pickup_store` (a store id, set by
the shop's pick-up choice). An order without one is shipped: to its `shipping_address`
(first_name, last_name, address1, address2, zip, city, country_code, phone), paid
`total_price` (a decimal string) in `currency`, from the store named by the note attribute
`ship_from_store`, else the one HQ finds holding the style. One piece per order: the first
line with a SKU.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from hub.money import MoneyError, check_currency, parse_plain_amount

HOLD_DAYS = 7  # how long the boutique holds a piece for its online client


class OrderRefused(ValueError):
    """An order this adapter cannot read as a reservation: the HTTP status and a sentence."""

    def __init__(self, status: int, sentence: str) -> None:
        super().__init__(sentence)
        self.status, self.sentence, self.outcome = status, sentence, "refused"


def _attribute(order: dict[str, Any], name: str) -> str | None:
    for attr in order.get("note_attributes") or []:
        if isinstance(attr, dict) and attr.get("name") == name:
            return str(attr.get("value") or "") or None
    return None


def _name(order: dict[str, Any]) -> str:
    return re.sub(r"[^A-Za-z0-9-]", "", str(order.get("name") or order["id"])) or \
        str(order["id"])


def request_of(order: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """What an order asks of the web shop (hub/hq/shop.py): ("reservation", the body of
    `WebShop.reserve`) or ("order", the body of `WebShop.order`)."""
    if not isinstance(order.get("id"), int):
        raise OrderRefused(400, "id: a Shopify order id (a number) is needed")
    lines = [li for li in order.get("line_items") or []
             if isinstance(li, dict) and li.get("sku")]
    if not lines:
        raise OrderRefused(400, "line_items: no line carries a SKU")
    customer = order.get("customer") or {}
    client_id = f"shopify-{customer.get('id', 'guest')}"
    store_id = _attribute(order, "pickup_store")
    if store_id:
        created = str(order.get("created_at") or "")
        try:
            pickup_by = datetime.fromisoformat(created) + timedelta(days=HOLD_DAYS)
        except ValueError:
            raise OrderRefused(400, "created_at: a date and time (ISO 8601) is needed") from None
        return "reservation", {
            "reservation_id": f"SHOPIFY-{_name(order)}"[:60], "store_id": store_id,
            "sku": str(lines[0]["sku"]), "client_id": client_id,
            "pickup_by": pickup_by.isoformat()}
    return "order", _order_of(order, str(lines[0]["sku"]), client_id)


def _order_of(order: dict[str, Any], sku: str, client_id: str) -> dict[str, Any]:
    address = order.get("shipping_address")
    if not isinstance(address, dict):
        raise OrderRefused(422, f"Shopify order {order.get('name') or order['id']} names"
                                " neither a pick-up store (note attribute pickup_store) nor a"
                                " shipping address: nothing was done")
    try:
        currency = check_currency(order.get("currency"))
        paid = parse_plain_amount(str(order.get("total_price") or ""), currency)
    except MoneyError as exc:
        raise OrderRefused(400, f"total_price, currency: {exc}") from None
    name = " ".join(str(address.get(k) or "").strip() for k in ("first_name", "last_name"))
    ship_to = {"name": name.strip() or str(address.get("name") or ""),
               "line1": address.get("address1"), "line2": address.get("address2"),
               "postcode": address.get("zip"), "city": address.get("city"),
               "country": address.get("country_code") or address.get("country"),
               "phone": address.get("phone")}
    body = {"order_id": f"SHOPIFY-{_name(order)}"[:60], "sku": sku, "client_id": client_id,
            "paid": paid, "currency": currency,
            "ship_to": {k: str(v) for k, v in ship_to.items() if v}}
    ship_from = _attribute(order, "ship_from_store")
    return {**body, "store_id": ship_from} if ship_from else body
