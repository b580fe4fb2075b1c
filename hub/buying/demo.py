"""The demo's gold buying: a client trades in her old bracelet against a new bracelet (a sale
with a `trade_in` tender), another sells scrap gold for cash that sits in its 14-day hold,
and an older lot, past its hold, released to the melt. Run after `hub.prices_demo` (it
pushes head office's rates); the fine gold rate is pushed again here, at the same price, valid
since a month ago, so the older purchase was priced by a rate of its day."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.buying.part import buying_of
from hub.prices_demo import MORNING
from hub.store import Store
from hub.sync.wire import sign_doc, verify_doc


async def demo_buying(store: Store, associate: str, manager: str) -> None:
    tz = store.words.tz
    today = datetime.combine(datetime.now(tz).date(), time(), tz)
    key = Ed25519PrivateKey.generate()
    doc = {"id": f"demo-rates-{today:%Y%m%d}-buying", "type": "rates", "chain": "demo",
           "store": store.config.store_id, "issued_at": today.replace(hour=8).isoformat(),
           "body": {"rates": [{"metal": "gold", "fineness": 1000,
                               "per_gram": MORNING[("gold", 1000)], "currency": "EUR",
                               "valid_from": (today - timedelta(days=31)).isoformat(),
                               "valid_until": today.replace(hour=20).isoformat()}]}}
    checked, sig = verify_doc(key.public_key(), sign_doc(key, doc), "demo HQ message")
    await store.hq.apply(checked, sig)
    passport = {"type": "passport", "number": "19FV40711", "expiry": "2031-09-30",
                "country": "FR"}
    card = {"type": "identity_card", "number": "X4RT2KL08", "expiry": "2029-04-12",
            "country": "BE"}
    helene = (await store.clients.create({
        "first_name": "Hélène", "last_name": "Garnier", "emails": ["helene.garnier@example.com"],
        "identity_documents": [passport]}, "demo"))["client_id"]
    bastien = (await store.clients.create({
        "first_name": "Bastien", "last_name": "Lemaire", "phones": ["+33 6 39 98 12 40"],
        "identity_documents": [card]}, "demo"))["client_id"]
    await store.items.receive_many([{
        "item_id": "DEMO-BRACELET-NEW", "sku": "GOLD-BRACELET-NEW",
        "description": "Gold link bracelet, 18 kt, 19 cm", "category": "bracelet",
        "metal": "gold", "fineness": 750, "metal_colour": "yellow", "metal_weight_mg": 14_600,
        "designer": "Maison Aurore", "collection": "Étoile", "cost": 98_000,
        "tag_price": 245_000, "location": "window 2"}], "demo")
    with buying_of(store) as buying:
        buying.now = lambda: (today - timedelta(days=20)).replace(hour=15)
        old = await buying.buy({"client_id": bastien, "payout": "bank_transfer",
                                "reference": "VIR-DEMO-0412", "lots": [
                                    {"description": "Broken chains and single earrings",
                                     "metal": "gold", "fineness": 585, "weight_mg": 21_350,
                                     "test": "touchstone"}]}, actor=associate)
        buying.now = lambda: today.replace(hour=11)
        await buying.release(old["buyin_id"], 1, {"to": "melt", "lot": "MELT-1"},
                             actor=manager)
        trade = await buying.buy({"client_id": helene, "payout": "trade_in", "lots": [
            {"description": "Old curb bracelet, clasp broken", "metal": "gold",
             "fineness": 750, "weight_mg": 16_200, "test": "hallmark"}]}, actor=associate)
        await store.sales.complete(
            register_id="R1", actor=associate, client_id=helene,
            lines=[{"item_id": "DEMO-BRACELET-NEW"}],
            tenders=[{"type": "trade_in", "amount": trade["price"],
                      "reference": trade["buyin_id"]},
                     {"type": "card", "amount": 245_000 - trade["price"], "brand": "Visa",
                      "last4": "4417", "auth_code": "D3M0K7"}])
        await buying.buy({"client_id": bastien, "payout": "cash", "register_id": "R1",
                          "lots": [{"description": "Scrap: two wedding bands", "metal": "gold",
                                    "fineness": 750, "weight_mg": 9_800, "test": "xrf"}]},
                         actor=associate)
