"""The generated store both full-store count tests sweep: 5,000 pieces over the showcases,
window, trays and safe, 20 of them hidden and 5 put back in the neighbouring case."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from tests.builders import piece

LOCATIONS = ("showcase-1", "showcase-2", "showcase-3", "window", "tray-A", "tray-B", "safe")


@dataclass
class Scene:
    rows: list[Any]       # item_id, epc, location of every piece, by serial
    hidden: set[int]      # indexes into rows: not in the store
    moved: list[int]      # indexes into rows: in the next location over

    def where(self, n: int) -> str | None:
        """Where piece n really is (None: hidden)."""
        if n in self.hidden:
            return None
        where = self.rows[n]["location"]
        if n in self.moved:
            where = LOCATIONS[(LOCATIONS.index(where) + 1) % len(LOCATIONS)]
        return where

    def missing(self) -> set[str]:
        return {self.rows[n]["item_id"] for n in self.hidden}

    def misplaced(self) -> set[str]:
        return {self.rows[n]["item_id"] for n in self.moved}


async def five_thousand_pieces(store: Any, seed: int = 2026) -> Scene:
    rng = random.Random(seed)
    await store.items.receive_many(
        [piece(f"G-{n:05d}", location=rng.choice(LOCATIONS)) for n in range(5_000)], "manager")
    rows = await store.ledger.fetch("SELECT item_id, epc, location FROM items ORDER BY item_id")
    hidden = set(rng.sample(range(5_000), 20))
    moved = rng.sample(sorted(set(range(5_000)) - hidden), 5)
    return Scene(rows, hidden, moved)
