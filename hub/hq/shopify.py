"""Shopify's `orders/create` webhook read as a click-and-collect reservation at a store.

Shopify signs each webhook with the app's secret: `X-Shopify-Hmac-Sha256` is the base64
HMAC-SHA256 of the raw body (checked in hub/hq/shop.py), `X-Shopify-Webhook-Id` names the
delivery (retries repeat it), `X-Shopify-Topic` is `orders/create`. The order (REST Admin
API's Order resource) carries `id`, `name` ("#1001"), `created_at`, `customer.id`,
`line_items[].sku` and `quantity`, `shipping_lines[]` and `note_attributes[]` ({name, value}).
The boutique a client collects from is the note attribute `pickup_store` (a store id, set by
the shop's pick-up choice); an order without one is not a click-and-collect order and is
refused here in words. One piece per order: the first line with a SKU.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

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


def reservation_of(order: dict[str, Any]) -> dict[str, Any]:
    """The reservation body (hub/hq/shop.py `WebShop.reserve`) an order asks for."""
    if not isinstance(order.get("id"), int):
        raise OrderRefused(400, "id: a Shopify order id (a number) is needed")
    store_id = _attribute(order, "pickup_store")
    if not store_id:
        raise OrderRefused(422, f"Shopify order {order.get('name') or order['id']} names no"
                               " pick-up store (note attribute pickup_store): not a"
                               " click-and-collect order, nothing was reserved")
    lines = [li for li in order.get("line_items") or []
             if isinstance(li, dict) and li.get("sku")]
    if not lines:
        raise OrderRefused(400, "line_items: no line carries a SKU")
    customer = order.get("customer") or {}
    created = str(order.get("created_at") or "")
    try:
        pickup_by = datetime.fromisoformat(created) + timedelta(days=HOLD_DAYS)
    except ValueError:
        raise OrderRefused(400, "created_at: a date and time (ISO 8601) is needed") from None
    name = re.sub(r"[^A-Za-z0-9-]", "", str(order.get("name") or order["id"]))
    return {"reservation_id": f"SHOPIFY-{name or order['id']}"[:60], "store_id": store_id,
            "sku": str(lines[0]["sku"]), "client_id": f"shopify-{customer.get('id', 'guest')}",
            "pickup_by": pickup_by.isoformat()}
