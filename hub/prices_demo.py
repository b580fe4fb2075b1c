"""The demo's jewelry money: gold pieces priced by the gram (the issue's chain of 18.40 g of
750 gold at this morning's rate plus its making charge), this morning's rates pushed as a
signed HQ message, an afternoon rate the prices and tags follow, and a promotion running
(10 % off a house's collection for gold-tier clients).

The messages are signed by a demo head office key made here and checked with its public
key before they are applied, as the sync layer checks HQ's (an unsigned one never gets in).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.store import Store
from hub.sync.wire import sign_doc, verify_doc

# The demo's rates, minor units a gram of the alloy (fine gold 1000, 18 kt 750...).
MORNING = {("gold", 1000): 10_987, ("gold", 750): 8_240, ("gold", 585): 6_430,
           ("platinum", 950): 3_150, ("silver", 925): 95}
AFTERNOON_GOLD_750 = 8_310  # +0.85 %: inside the band, so applied at once
GOLD_PIECES = (  # serial, description, category, fineness, weight mg, making, collection
    ("DEMO-CHAIN-18", "Gold chain, 18 kt, 45 cm", "necklace", 750, 18_400,
     {"making_per_gram": 1500}, "Étoile"),
    ("DEMO-BANGLE-18", "Gold bangle, 18 kt", "bracelet", 750, 22_100,
     {"making_per_gram": 1800, "margin_bp": 500}, "Étoile"),
    ("DEMO-SIGNET-14", "Signet ring, 14 kt", "ring", 585, 9_300,
     {"making_bp": 3500}, "Aube"),
    ("DEMO-CREOLES-18", "Hoop earrings, 18 kt", "earrings", 750, 6_800,
     {"making_per_gram": 2500, "stones": 0}, "Nocturne"),
)


def _doc(store: Store, msg_id: str, mtype: str, body: dict, at: datetime) -> dict:
    return {"id": msg_id, "type": mtype, "chain": "demo", "store": store.config.store_id,
            "issued_at": at.isoformat(), "body": body}


async def _push(store: Store, key: Ed25519PrivateKey, doc: dict) -> None:
    checked, sig = verify_doc(key.public_key(), sign_doc(key, doc), "demo HQ message")
    await store.hq.apply(checked, sig)


def _rates(day: datetime, start: int, end: int, rates: dict) -> dict:
    def at(hour: int) -> str:
        return day.replace(hour=hour).isoformat()
    return {"rates": [{"metal": m, "fineness": f, "per_gram": v, "currency": "EUR",
                       "valid_from": at(start), "valid_until": at(end)}
                      for (m, f), v in sorted(rates.items())]}


async def demo_prices(store: Store) -> None:
    """Rates of this morning, the gold pieces priced by them, an afternoon rate, and a
    promotion running this month (once: the demo store is made once)."""
    key = Ed25519PrivateKey.generate()
    today = datetime.combine(datetime.now(store.words.tz).date(), time(), store.words.tz)
    await _push(store, key, _doc(store, f"demo-rates-{today:%Y%m%d}-am", "rates",
                                 _rates(today, 8, 13, MORNING), today.replace(hour=8)))
    designer = "Maison Aurore"
    await store.items.receive_many([
        {"item_id": serial, "sku": f"GOLD-{serial[5:]}", "description": text,
         "category": category, "metal": "gold", "fineness": fineness, "metal_colour": "yellow",
         "metal_weight_mg": weight, "designer": designer, "collection": collection,
         "cost": weight * fineness // 150, "tag_price": 0, "location": "window 2",
         "pricing": making} for serial, text, category, fineness, weight, making, collection
        in GOLD_PIECES], "demo")
    afternoon = {k: v for k, v in MORNING.items() if k[0] == "gold"}
    afternoon[("gold", 750)] = AFTERNOON_GOLD_750
    await _push(store, key, _doc(store, f"demo-rates-{today:%Y%m%d}-pm", "rates",
                                 _rates(today, 13, 20, afternoon), today.replace(hour=13)))
    first = today.replace(day=1).date()
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    await _push(store, key, _doc(store, f"demo-promo-{today:%Y%m}", "promotion", {
        "promotion_id": f"ETOILE-GOLD-{today:%Y%m}", "name": "Étoile −10 % (gold clients)",
        "starts": first.isoformat(), "ends": last.isoformat(),
        "rule": {"percent_bp": 1000, "designer": designer, "collection": "Étoile",
                 "tier": "gold"}}, today))
