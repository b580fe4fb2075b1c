"""Prices benchmark: re-pricing 100,000 pieces priced by the gram after new rates, through
the writer (the real HQ `rates` message applied: one `hq.message` entry, every piece's row
and history in its transaction), against a bare UPDATE of the same rows in the same run.

`money.reprice_100k_s`: seconds to apply the message; the baseline writes the same prices
with one `executemany` and no pricing at all, so the ratio is the price function's cost.
"""

from __future__ import annotations

import random
import sqlite3
import tempfile
import time
from pathlib import Path

from hub.store import Store, init_store


def _rates(msg_id: str, per_gram: int) -> dict:
    return {"id": msg_id, "type": "rates", "chain": "bench", "store": "bench-prices",
            "issued_at": "2026-12-02T08:00:00Z", "body": {"rates": [
                {"metal": "gold", "fineness": f, "per_gram": per_gram * f // 750,
                 "currency": "EUR", "valid_from": "2026-12-02T08:00:00Z",
                 "valid_until": "2026-12-02T18:00:00Z"} for f in (375, 585, 750, 916)]}}


def _pieces(n: int) -> list[dict]:
    rng = random.Random(7)
    out = []
    for i in range(n):
        fineness = rng.choice((375, 585, 750, 916))
        out.append({"item_id": f"G{i:06d}", "sku": f"GOLD-{i % 500}", "description":
                    "Gold chain", "category": rng.choice(("necklace", "bracelet", "ring")),
                    "metal": "gold", "fineness": fineness, "metal_colour": "yellow",
                    "metal_weight_mg": rng.randrange(1_500, 40_000), "cost": 50_000,
                    "tag_price": 0, "pricing": {
                        "making_per_gram": rng.choice((800, 1200, 1500, 2500)),
                        "stones": rng.choice((0, 0, 0, 25_000)),
                        "margin_bp": rng.choice((0, 500, 1000))}})
    return out


async def run(quick: bool, out) -> dict[str, float]:
    n = 10_000 if quick else 100_000
    with tempfile.TemporaryDirectory() as tmp:
        config = init_store(Path(tmp) / "s", "bench-prices", "Maison Bench", "EUR")
        async with await Store.open(config) as store:
            await store.hq.apply(_rates("r-0001", 8240), "sig")
            pieces = _pieces(n)
            for start in range(0, n, 5000):
                await store.items.receive_many(pieces[start:start + 5000], "bench")
            started = time.perf_counter()
            applied = await store.hq.apply(_rates("r-0002", 8560), "sig")  # +3.9 %
            through_writer = time.perf_counter() - started
            assert applied.outcome == "applied"
            moved = (await store.ledger.fetch_one(
                "SELECT count(*) FROM items WHERE price_rate_seq = ?", (applied.seq,)))[0]
            assert moved == n, moved
        # The baseline: the same rows, the same new prices, one bare UPDATE (no journal, no
        # pricing, no history), on the same file.
        conn = sqlite3.connect(config.db_path)
        rows = conn.execute("SELECT item_id, tag_price FROM items").fetchall()
        started = time.perf_counter()
        with conn:
            conn.executemany("UPDATE items SET tag_price = ? WHERE item_id = ?",
                             [(price + 1, item_id) for item_id, price in rows])
        bare = time.perf_counter() - started
        conn.close()
    print(f"money.reprice_{n // 1000}k_s: {through_writer:.2f} s through the writer"
          f" (one HQ rates message, {n:,} pieces re-priced); bare UPDATE of the same rows:"
          f" {bare:.2f} s; ratio {through_writer / bare:.1f}×", file=out)
    return {f"money.reprice_{n // 1000}k_s": round(through_writer, 3),
            f"money.reprice_{n // 1000}k_bare_update_s": round(bare, 3),
            f"money.reprice_{n // 1000}k_ratio": round(through_writer / bare, 2)}
