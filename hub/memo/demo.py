"""The demo store's memo and consignment: a Place Vendôme workshop's sapphire ring on 60-day
memo, sold this morning (its payable shows on the vendor's page and the Z report); two more
pieces on memo from another house, one past its due day; a piece out on approval with a
client; a watch a client left on consignment. All through the same services the screens
use, so the exposure page, the aging list and the client pages show them."""

from __future__ import annotations

from datetime import timedelta

from hub.memo.part import memo_of
from hub.memo.service import Memo
from hub.store import Store

ACTOR = "demo"


def _piece(serial: str, description: str, category: str, cost: int, price: int,
           **more: object) -> dict[str, object]:
    return {"item_id": serial, "sku": serial, "description": description,
            "category": category, "cost": cost, "tag_price": price, **more}


async def demo_memo(store: Store, associate: str) -> None:
    """Once: a store that has vendors already is left as it is."""
    if await store.ledger.fetch_one("SELECT 1 FROM memo_vendors LIMIT 1") is not None:
        return
    clients = store.clients.names.book_of(associate)[12:15]
    if len(clients) < 3:
        return
    with memo_of(store) as memo:
        await _vendors(store, memo)
        await _approval(store, memo, clients[0])
        await _consignment(memo, clients[1])


async def _vendors(store: Store, memo: Memo) -> None:
    vendome = (await memo.add_vendor({"name": "Atelier Vendôme", "terms_days": 60},
                                     actor=ACTOR))["vendor_id"]
    await memo.receive({"vendor_id": vendome, "memo_ref": "AV-2026-118", "pieces": [
        _piece("MEMO-SAPH-01", "Ceylon sapphire ring, diamond halo, platinum", "ring",
               1_840_000, 4_200_000, metal="platinum", fineness=950, metal_weight_mg=5_100,
               stones=[{"type": "sapphire", "carat_cents": 312, "shape": "oval",
                        "colour": "royal blue", "clarity": "Sri Lanka, no heat",
                        "lab": "SSEF", "certificate": "118842"}])]}, actor=ACTOR)
    await store.sales.complete(register_id="R1", actor="sophie",
                               lines=[{"item_id": "MEMO-SAPH-01"}],
                               tenders=[{"type": "bank_transfer", "amount": 4_200_000,
                                         "reference": "VIR-DEMO-118"}])
    riviere = (await memo.add_vendor({"name": "Maison Rivière", "terms_days": 30},
                                     actor=ACTOR))["vendor_id"]
    real_now = memo.now
    memo.now = lambda: real_now() - timedelta(days=45)  # received six weeks ago: overdue
    await memo.receive({"vendor_id": riviere, "memo_ref": "MR-5531", "pieces": [
        _piece("MEMO-EMER-02", "Colombian emerald pendant, yellow gold", "pendant",
               960_000, 2_150_000, metal="gold", fineness=750, metal_weight_mg=3_400)]},
        actor=ACTOR)
    memo.now = real_now
    await memo.receive({"vendor_id": riviere, "memo_ref": "MR-5602", "pieces": [
        _piece("MEMO-PEAR-03", "South Sea pearl earrings, white gold", "earrings",
               520_000, 1_180_000, metal="gold", fineness=750, metal_weight_mg=2_600)]},
        actor=ACTOR)


async def _approval(store: Store, memo: Memo, client_id: str) -> None:
    piece = await store.ledger.fetch_one(
        "SELECT item_id FROM items WHERE status = 'in_stock' AND category = 'bracelet' AND"
        " ownership = 'owned' ORDER BY tag_price DESC LIMIT 1")
    if piece is None:
        return
    await memo.send_out({"item_id": piece["item_id"], "client_id": client_id,
                         "due": (memo.today() + timedelta(days=3)).isoformat()}, actor="sophie")


async def _consignment(memo: Memo, client_id: str) -> None:
    await memo.consign({"client_id": client_id, "commission_bp": 2_500, "minimum": 1_100_000,
                        "term_days": 180, "piece": _piece(
                            "CONS-WATCH-01", "Steel chronograph watch, 1970s, box and papers",
                            "watch", 0, 1_450_000, metal="steel")}, actor=ACTOR)
