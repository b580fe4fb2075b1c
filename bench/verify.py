"""The ledger verified at the scale of years (issue 16), on the dashboard benchmark's store
(`python -m bench dashboard` writes it: 1,100,008 entries; `--quick`: about 50,000):

- `verify.anchors_s` (the issue's `ledger.verify_1m_s`): `loupe ledger verify`'s default on
  every core: every hash recomputed and linked, the anchors' signatures checked; beside it
  the same on one core;
- `verify.every_signature_per_s`: every signature too, on every core, against the one-core
  rate measured in the same run on the first 20,000 entries (`verify.share_of_cores`: the
  first over cores × the second; the issue's target 80 %).
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path


def run(quick: bool, out) -> dict[str, float]:
    from hub.ledger.audit import check_range, verify_on_cores
    from hub.ledger.ledger import verify_database

    root = Path(os.environ.get("LOUPE_BENCH_DIR", "/var/tmp/loupe-bench-dashboard"))
    db = root / ("quick" if quick else "full") / "loupe.db"
    if not db.exists():
        print(f"  no store at {db}: run `python -m bench{' --quick' if quick else ''}"
              " dashboard` first", file=out)
        return {}
    cores = os.cpu_count() or 1
    started = time.perf_counter()
    one = verify_database(db)
    one_s = time.perf_counter() - started
    started = time.perf_counter()
    every_core = verify_on_cores(db, processes=cores)
    anchors_s = time.perf_counter() - started
    assert one.ok and every_core.ok, (one, every_core)
    print(f"  verify {one.count:,} entries (every hash, the anchors' signatures):"
          f" {anchors_s:.1f} s on {cores} cores, {one_s:.1f} s on one", file=out)
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    meta = dict(conn.execute("SELECT key, value FROM store_meta").fetchall())
    conn.close()
    sample = min(20_000, one.count)
    started = time.perf_counter()
    check_range(str(db), meta["store_id"], bytes.fromhex(meta["public_key"]), 1, sample, "all")
    rate = sample / (time.perf_counter() - started)
    started = time.perf_counter()
    every = verify_on_cores(db, processes=cores, signatures="all")
    every_rate = every.count / (time.perf_counter() - started)
    share = every_rate / (cores * rate)
    print(f"  every signature: {every_rate:,.0f}/s on {cores} cores; one core {rate:,.0f}/s"
          f" ({share:.0%} of {cores} x that)", file=out)
    return {"verify.anchors_s": anchors_s, "verify.anchors_one_core_s": one_s,
            "verify.entries": float(one.count), "verify.every_signature_per_s": every_rate,
            "verify.one_core_signatures_per_s": rate, "verify.share_of_cores": share}
