"""Generator benchmark: `hub.generate.generate` receiving 100,000 pieces into a fresh store,
against receiving the very same pieces, made beforehand, through `Items.receive_many` (what
the services cost on their own). The difference is what making believable pieces costs.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from random import Random


async def _timed_store(folder: Path, fill) -> float:
    from hub.store import Store, init_store

    config = init_store(folder, "bench-01", "Maison Bench", "EUR")
    async with await Store.open(config) as store:
        started = time.perf_counter()
        await fill(store)
        return time.perf_counter() - started


async def run(quick: bool, out) -> dict[str, float]:
    from hub.generate import Workshop, generate

    pieces = 5_000 if quick else 100_000
    root = Path(tempfile.mkdtemp(prefix="loupe-bench-generate-"))
    try:
        started = time.perf_counter()
        made = Workshop(Random(1), "standard").pieces(pieces)
        make_s = time.perf_counter() - started
        stones = sum(len(p["stones"]) for p in made) / pieces

        async def receive(store) -> None:
            for i in range(0, pieces, 500):
                await store.items.receive_many(made[i:i + 500], "generator")

        # The baseline runs before and after (the better one counts): the VM is noisy.
        first_s = await _timed_store(root / "receive-1", receive)
        generate_s = await _timed_store(
            root / "generate", lambda store: generate(store, items=pieces, seed=1))
        receive_s = min(first_s, await _timed_store(root / "receive-2", receive))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"  {pieces} pieces, seed 1 ({stones:.1f} stones a piece)", file=out)
    print(f"  making them only:       {make_s:6.2f} s", file=out)
    print(f"  generate() into a store: {generate_s:5.1f} s", file=out)
    print(f"  receive_many of the same pieces (baseline): {receive_s:5.1f} s;"
          f" ratio {generate_s / receive_s:.2f}", file=out)
    return {"generate.pieces": pieces, "generate.make_s": make_s, "generate.store_s": generate_s,
            "generate.receive_baseline_s": receive_s, "generate.ratio": generate_s / receive_s,
            "generate.stones_per_piece": stones}
