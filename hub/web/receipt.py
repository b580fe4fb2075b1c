"""The receipt preview: the same layout model the printer prints (`hub.receipts`), as JSON
blocks the browser lays out with text nodes only. Until that model is installed, a plain
layout from the sale itself stands in."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from hub.core.errors import Refused
from hub.money import format_amount


async def receipt_of(runtime: Any, sale: dict[str, Any]) -> dict[str, Any]:
    try:
        from hub import receipts
    except ImportError:
        return _plain(runtime, sale)
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


def _plain(runtime: Any, sale: dict[str, Any]) -> dict[str, Any]:
    cur = sale["currency"]
    blocks = [{"kind": "title", "text": runtime.config.store_name, "center": True, "bold": True},
              {"kind": "pair", "text": f"Receipt {sale['sale_id']}", "right": sale["ts"][:16]},
              {"kind": "rule"}]
    for line in sale["lines"]:
        blocks.append({"kind": "pair", "text": line["description"],
                       "right": format_amount(line["total"], cur)})
    blocks += [{"kind": "rule"},
               {"kind": "pair", "text": "TOTAL", "right": format_amount(sale["total"], cur),
                "bold": True}]
    for tender in sale["tenders"]:
        blocks.append({"kind": "pair", "text": tender["type"],
                       "right": format_amount(tender["amount"], cur)})
    blocks.append({"kind": "small", "text": f"Signature {sale['short_code']}"})
    for b in blocks:
        b.setdefault("text", "")
        b.setdefault("right", "")
        b.setdefault("bold", False)
        b.setdefault("center", False)
    return {"sale_id": sale["sale_id"], "blocks": blocks,
            "text": "\n".join(f"{b['text']} {b['right']}".strip() for b in blocks)}
