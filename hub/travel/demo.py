"""The demo store's travellers: head office's exchange rates for US dollars, pounds, Swiss
francs, yen and yuan pushed as a signed message (checked with the demo head office's public
key, as the sync layer checks HQ's), and a tourist's purchase paid half in US dollars cash,
half by card, with her tax-free form."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.store import Store
from hub.sync.wire import sign_doc, verify_doc
from hub.travel.exchange import applied_rate
from hub.travel.service import travel_of

# Euros for one unit of each, as head office writes them (a morning's reference rates).
RATES = (("USD", "0.9215"), ("GBP", "1.1702"), ("CHF", "1.0596"), ("JPY", "0.006123"),
         ("CNY", "0.127350"))
TOURIST = {"first_name": "Emily", "last_name": "Carter", "emails": ["emily.carter@example.com"],
           "notes": "Visiting from New York; collects Art Deco brooches."}
TRAVELLER = {"document_type": "passport", "document_number": "X00000000",  # a specimen's
             "residence": "US", "nationality": "US",
             "address": "245 Park Avenue, Apt 12B\nNew York, NY 10167\nUnited States"}


async def demo_travel(store: Store, associate: str) -> None:
    """Once: a store with rates is left as it is."""
    if await store.ledger.fetch_one("SELECT 1 FROM exchange_rates LIMIT 1") is not None:
        return
    piece = await store.ledger.fetch_one(
        "SELECT item_id, tag_price FROM items WHERE status = 'in_stock' AND tag_price BETWEEN"
        " 300000 AND 900000 ORDER BY tag_price DESC LIMIT 1")
    key = Ed25519PrivateKey.generate()
    now = datetime.now(UTC)
    doc = {"id": f"demo-fx-{now:%Y%m%d}", "type": "exchange_rates", "chain": "demo",
           "store": store.config.store_id, "issued_at": now.isoformat(),
           "body": {"rates": [{"currency": c, "rate": r,
                               "valid_from": (now - timedelta(hours=2)).isoformat(),
                               "valid_until": (now + timedelta(days=7)).isoformat()}
                              for c, r in RATES]}}
    with travel_of(store) as travel:
        checked, sig = verify_doc(key.public_key(), sign_doc(key, doc), "demo HQ message")
        await store.hq.apply(checked, sig)
        if piece is None:
            return
        her = (await store.clients.create(TOURIST, associate))["client_id"]
        half = piece["tag_price"] // 2
        usd = Fraction(dict(RATES)["USD"])
        dollars = -(-Fraction(half) // applied_rate(usd, travel.exchange.settings.spread_bp))
        cash = await travel.exchange.quote("USD", int(dollars // 100 * 100))  # whole dollars
        sale = await store.sales.complete(
            register_id="R1", actor=associate, client_id=her, lines=[{"item_id": piece["item_id"]}],
            tenders=[{"type": "cash", "amount": cash["amount"], "currency": "USD",
                      "foreign_amount": str(cash["foreign_amount"]), "rate": cash["rate"],
                      "rate_ref": cash["rate_ref"]},
                     {"type": "card", "amount": piece["tag_price"] - cash["amount"],
                      "brand": "Amex", "last4": "1005", "auth_code": "D3M0TF"}])
        await travel.tax_free.issue(sale["sale_id"], TRAVELLER, actor=associate)
