"""The receipt preview: the same layout model the printer prints (`Store.receipt`), as JSON
blocks the browser lays out with text nodes only."""

from __future__ import annotations

from typing import Any

from hub.documents import render_text
from hub.store import Store


async def receipt_of(store: Store, sale: dict[str, Any], *, gift: bool = False) -> dict[str, Any]:
    receipt = await store.receipt(sale, gift=gift)
    return {"sale_id": sale["sale_id"], "blocks": [b.as_dict() for b in receipt.blocks],
            "text": render_text(receipt)}
