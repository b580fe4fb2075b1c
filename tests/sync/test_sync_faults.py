"""Fault injection: a hub process killed at random points and the broker restarted, during a
stream of sales; afterwards HQ holds every entry exactly once, in order, chain verified."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
from pathlib import Path

from sync_helpers import enroll, hq_entries, journal, make_bundle, new_store, until

from hub.bus import EventBus
from hub.store import Store

# The hub process: the real sync part of `loupe run`, and a till selling piece after piece.
WORKER = r'''
import asyncio, random, sys
from pathlib import Path
from hub.bus import EventBus
from hub.store import Store
from hub.sync.part import part
from hub.layers import LAYERS
from hub.runtime import Options, Runtime

async def main(data_dir, sales, seed):
    rng = random.Random(seed)
    bus = EventBus(asyncio.get_running_loop())
    store = await Store.open(Path(data_dir), bus)
    runtime = Runtime(store.config, store, bus, Options(), LAYERS)
    async with part(runtime) as sync:
        rep = sync.replicator
        for _ in range(sales):
            row = await store.ledger.fetch_one(
                "SELECT item_id, tag_price FROM items WHERE status = 'in_stock' ORDER BY item_id")
            await store.sales.complete(register_id="R1", actor="admin",
                                       lines=[{"item_id": row["item_id"]}],
                                       tenders=[{"type": "cash", "amount": row["tag_price"]}])
            print("sold", store.ledger.seq, flush=True)
            await asyncio.sleep(rng.random() * 0.03)
        while rep.acked < store.ledger.seq:
            await asyncio.sleep(0.02)
        print("drained", store.ledger.seq, flush=True)
    await store.close()

asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
'''


async def test_kill_hub_and_restart_broker_during_sales(tmp_path: Path, hq, hq_keys, broker):
    seed = int(os.environ.get("LOUPE_FAULT_SEED", random.randrange(1_000_000)))
    rng = random.Random(seed)
    print(f"fault-injection seed {seed} (LOUPE_FAULT_SEED={seed} repeats it)")
    store = await new_store(tmp_path, "nice", pieces=80)
    await enroll(store, make_bundle(hq_keys, "nice", broker.url))
    await store.close()
    config = tmp_path / "nice" / "loupe.toml"
    config.write_text(config.read_text() + "\n[sync]\nresend_after_s = 1.0\nbatch_entries = 7\n")
    script = tmp_path / "worker.py"
    script.write_text(WORKER)

    async def spawn(sales: int) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            sys.executable, str(script), str(tmp_path / "nice"), str(sales),
            str(rng.randrange(1 << 30)), stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL)

    for _ in range(5):
        proc = await spawn(1000)
        kill_after = rng.randint(1, 8)
        broker_bounce = rng.random() < 0.5
        for n in range(kill_after):
            line = await asyncio.wait_for(proc.stdout.readline(), 30)
            assert line.startswith(b"sold"), line
            if broker_bounce and n == kill_after // 2:
                broker.stop()
                await asyncio.sleep(rng.random() * 0.2)
                broker.start()
        await asyncio.sleep(rng.random() * 0.05)  # somewhere between commit, publish and ack
        proc.send_signal(signal.SIGKILL)
        await proc.wait()

    proc = await spawn(3)  # a last run that is left to drain
    out = (await asyncio.wait_for(proc.communicate(), 60))[0].decode()
    assert proc.returncode == 0 and "drained" in out, out

    store = await Store.open(tmp_path / "nice", EventBus())
    try:
        mine = await journal(store)
        await until(lambda: hq.head("nice"), "HQ caught up")
        theirs = await hq_entries(hq, "nice")
        assert [e.seq for e in theirs] == list(range(1, len(mine) + 1))  # once each, in order
        for a, b in zip(mine, theirs, strict=True):  # entry by entry, byte for byte
            assert a == b, f"seq {a.seq} differs at HQ"
        assert (await hq.call(hq.hq.verify_store, "nice")).startswith("ok")
        sold_here = await store.ledger.fetch("SELECT item_id FROM items WHERE status = 'sold'"
                                             " ORDER BY item_id")
        sold_at_hq = await hq.call(hq.hq.storage.query, "SELECT item_id FROM items WHERE"
                                   " store_id = 'nice' AND status = 'sold' ORDER BY item_id")
        assert [r["item_id"] for r in sold_here] == [r["item_id"] for r in sold_at_hq]
        count = await hq.call(hq.hq.storage.query, "SELECT COUNT(*) AS n FROM sales")
        assert count[0]["n"] == len(sold_here)
    finally:
        await store.close()
