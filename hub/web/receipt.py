"""The receipt preview: the same layout model the printer prints (`hub.receipts`), as JSON
blocks the browser lays out with text nodes only."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from hub import receipts
from hub.core.errors import Refused


async def receipt_of(runtime: Any, sale: dict[str, Any]) -> dict[str, Any]:
    pieces = {}
    for line in sale["lines"]:
        if line.get("item_id"):
            try:
                pieces[line["item_id"]] = await runtime.store.items.get(line["item_id"])
            except Refused:
                pass
    member = runtime.store.staff.get(sale.get("associate") or "")
    receipt = receipts.build_receipt(sale, pieces, receipts.receipt_settings(runtime.config),
                                     associate=member.name if member else None)
    return {"sale_id": sale["sale_id"], "blocks": [asdict(b) for b in receipt.blocks],
            "text": receipts.render_text(receipt)}
