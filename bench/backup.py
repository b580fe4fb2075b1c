"""Backups and restore at the size of a busy boutique (issue 16), on the small-box store
(`python -m bench smallbox` writes it: 100,000 pieces, 20,000 clients; `--quick`: a store of
its own, made here):

- `backup.make_s`: `make_backup` (SQLite's online copy, the tar, age to HQ's key and a
  passphrase), against its floor measured in the same run: a plain `cp` of the database file
  (what a backup must at least read and write);
- `backup.restore_s`: `restore_files` (decrypt, unpack, master key check, verify the chain),
  against `verify_database` alone on the same books;
- `backup.bytes` and the database's size.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
from pathlib import Path


def _store(quick: bool, scratch: Path) -> Path:
    root = Path(os.environ.get("LOUPE_BENCH_SMALLBOX", "/var/tmp/loupe-bench-smallbox"))
    full = next(iter(sorted(root.glob("full*"))), None) if root.exists() else None
    if not quick and full is not None and (full / "loupe.db").exists():
        return full
    from hub.generate import generate
    from hub.store import Store, init_store

    data = scratch / "store"
    init_store(data, "bench-01", "Bench", "EUR")

    async def fill() -> None:
        async with await Store.open(data) as store:
            await generate(store, items=2000, clients=300, sales=500, seed=1)

    asyncio.run(fill())
    return data


def run(quick: bool, out) -> dict[str, float]:
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    from hub.backup import archive
    from hub.backup.restore import restore_files
    from hub.config import load_config
    from hub.ledger import age
    from hub.ledger.ledger import verify_database

    scratch = Path(tempfile.mkdtemp(prefix="loupe-bench-backup-"))
    try:
        data = _store(quick, scratch)
        config = load_config(data)
        hq = X25519PrivateKey.generate()
        db_bytes = config.db_path.stat().st_size
        started = time.perf_counter()
        shutil.copyfile(config.db_path, scratch / "plain-copy.db")
        copy_s = time.perf_counter() - started
        (scratch / "plain-copy.db").unlink()
        started = time.perf_counter()
        made = archive.make_backup(config, scratch / "usb",
                                   hq_box_key=hq.public_key().public_bytes_raw(),
                                   passphrase="bench passphrase")
        make_s = time.perf_counter() - started
        print(f"  backup of {made.seq:,} entries ({db_bytes / 1e6:.0f} MB database):"
              f" {make_s:.1f} s, {made.size / 1e6:.0f} MB; a plain copy of the file"
              f" {copy_s:.1f} s", file=out)
        started = time.perf_counter()
        restore_files(made.path, scratch / "new-box",
                      identity=age.identity(hq.private_bytes_raw()),
                      master_key=config.master_key_file)
        restore_s = time.perf_counter() - started
        started = time.perf_counter()
        assert verify_database(config.db_path, config.store_id).ok
        verify_s = time.perf_counter() - started
        print(f"  restore from it (decrypt, unpack, check the key, verify): {restore_s:.1f} s;"
              f" the verify alone {verify_s:.1f} s", file=out)
        return {"backup.make_s": make_s, "backup.plain_copy_s": copy_s,
                "backup.restore_s": restore_s, "backup.verify_s": verify_s,
                "backup.bytes": float(made.size), "backup.db_bytes": float(db_bytes),
                "backup.entries": float(made.seq)}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
