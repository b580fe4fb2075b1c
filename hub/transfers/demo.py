"""The demo's transfers: the Paris boutique has a ring to send to Lyon (asked for, not yet
packed), a bracelet on its way to Cannes, a necklace on its way here from the chain's
warehouse (HQ's word, as a signed message would bring it), and a pendant received from the
warehouse last week. Run after `generate` (it uses the store's own pieces for what leaves)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.store import Store
from hub.sync.wire import sign_doc, verify_doc
from hub.transfers.part import transfers_of

WAREHOUSE = "warehouse"  # the chain's warehouse: a store of its own kind (hub/transfers/book.py)


def _from_warehouse(n: int, description: str, category: str, tag_price: int,
                    **more: Any) -> dict[str, Any]:
    return {"item_id": f"WH-DEMO-{n}", "sku": f"WH-{category.upper()}-{n}",
            "description": description, "category": category, "tag_price": tag_price,
            "cost": tag_price // 3, "designer": "Maison Aurore", **more}


async def _hq(store: Store, key: Ed25519PrivateKey, mtype: str, body: dict[str, Any]) -> None:
    doc = {"id": f"demo-{uuid.uuid4().hex[:12]}", "type": mtype, "chain": "demo",
           "store": store.config.store_id, "issued_at": datetime.now(UTC).isoformat(),
           "body": body}
    checked, sig = verify_doc(key.public_key(), sign_doc(key, doc), "demo HQ message")
    await store.hq.apply(checked, sig)


async def demo_transfers(store: Store, associate: str) -> None:
    me = store.config.store_id
    key = Ed25519PrivateKey.generate()
    rows = await store.ledger.fetch("SELECT item_id FROM items WHERE status = 'in_stock'"
                                    " ORDER BY item_id LIMIT 2")
    with transfers_of(store) as transfers:
        if len(rows) == 2:
            await transfers.request(rows[0]["item_id"], to_store="demo-lyon", actor=associate)
            await transfers.request(rows[1]["item_id"], to_store="demo-cannes", actor=associate)
            await transfers.scan(rows[1]["item_id"], actor=associate)
        shipped = (datetime.now(UTC) - timedelta(days=1)).isoformat()
        for n, piece in ((1, _from_warehouse(1, "Akoya pearl necklace, 18 kt clasp", "necklace",
                                             380_000, metal="gold", fineness=750,
                                             metal_weight_mg=2_100)),
                         (2, _from_warehouse(2, "Diamond pavé pendant, white gold", "pendant",
                                             275_000, metal="gold", fineness=750,
                                             metal_weight_mg=3_400))):
            await _hq(store, key, "transfer_expected", {
                "transfer_id": f"{WAREHOUSE}-T{n}", "item_id": piece["item_id"],
                "from_store": WAREHOUSE, "to_store": me, "piece": piece,
                "currency": store.config.currency, "shipped_at": shipped})
        await transfers.scan("WH-DEMO-2", actor=associate)  # the pendant arrived
