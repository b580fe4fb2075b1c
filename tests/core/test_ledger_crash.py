"""Kill a process appending sales with SIGKILL at random moments, many times: every append
whose future resolved is on disk after reopening, and the chain verifies."""

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hub.ledger.ledger import verify_database
from hub.store import Store, init_store

CHILD = r"""
import asyncio, sys
from pathlib import Path
from hub.config import load_config
from hub.store import Store

async def main(data_dir, start):
    store = await Store.open(load_config(Path(data_dir)))
    print("open", flush=True)  # the kill's clock starts once the books are open
    n = start

    async def one(n):
        item_id = f"K-{n}"
        entry = await store.items.receive({"item_id": item_id, "sku": "K", "description": "Ring",
                                          "category": "ring", "cost": 1, "tag_price": 100}, "k")
        sale = await store.sales.complete(register_id="R1", actor="k", lines=[{"item_id": item_id}],
                                          tenders=[{"type": "cash", "amount": 100}])
        # Printed only once both futures resolved: these must survive any kill.
        print(f"{item_id} {sale['seq']} {sale['sale_id']}", flush=True)

    while True:
        await asyncio.gather(*(one(n + i) for i in range(8)))
        n += 8

asyncio.run(main(sys.argv[1], int(sys.argv[2])))
"""


@pytest.mark.slow
def test_sigkill_never_loses_an_acknowledged_append(tmp_path: Path):
    config = init_store(tmp_path / "s", "paris-01", "Maison", "EUR")
    rng = random.Random(7)
    acknowledged: list[tuple[str, int, str]] = []
    start = 0
    for _ in range(10):
        proc = subprocess.Popen([sys.executable, "-c", CHILD, str(config.data_dir), str(start)],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                cwd=Path(__file__).resolve().parents[2])
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "open", "the child could not open the books"
        time.sleep(rng.uniform(0.3, 1.2))  # a random moment of its appending, not a wait
        os.kill(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        for line in out.splitlines():
            item_id, seq, sale_id = line.split()
            acknowledged.append((item_id, int(seq), sale_id))
        start += 10_000

    assert len(acknowledged) > 50, "the child never got going"
    verdict = verify_database(config.db_path)
    assert verdict.ok, str(verdict)

    async def check():
        async with await Store.open(config) as store:
            for item_id, seq, sale_id in acknowledged:
                sale = await store.sales.get(sale_id)
                assert sale["seq"] == seq
                assert (await store.items.get(item_id))["status"] == "sold"

    asyncio.run(check())
