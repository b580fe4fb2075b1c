"""Attachment figures: keeping a 10 MB photo (checked, SHA-256 and keyed hash, AES-256-GCM,
written to tmp, fsynced, renamed, journaled) against a plain write of the same bytes.

- `jobs.attachment_mb_per_s`: megabytes of photos kept per second through
  `store.attachments.store`, one after another (each a different photo, so none is
  deduplicated), entry committed.
- `attachments.plain_write_mb_per_s`: the same bytes written to a file and fsynced, one
  file per photo: what the disk alone costs.
- `attachments.kept_vs_plain`: the first divided by the second (1 would be free).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from hub.core.attachments import MB
from hub.store import Store, init_store

PHOTO_MB = 10


def _photo(n: int) -> bytes:
    """A 10 MB JPEG-looking photo (its start is what the check reads), different each time."""
    body = os.urandom(PHOTO_MB * MB - 8)
    return b"\xff\xd8\xff\xe0" + n.to_bytes(4, "big") + body


def _plain(folder: Path, photos: list[bytes]) -> float:
    folder.mkdir()
    started = time.perf_counter()
    for n, data in enumerate(photos):
        with open(folder / f"photo-{n}.jpg", "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    return len(photos) * PHOTO_MB / (time.perf_counter() - started)


async def _kept(root: Path, photos: list[bytes]) -> float:
    config = init_store(root / "store", "bench-att", "Bench", "EUR")
    async with await Store.open(config) as store:
        client_id = (await store.clients.create({"first_name": "Bench"}, "b"))["client_id"]
        started = time.perf_counter()
        for n, data in enumerate(photos):
            await store.attachments.store(data, owner=f"client:{client_id}", kind="photo",
                                          name=f"IMG_{n:04d}.jpg", declared_type="image/jpeg",
                                          actor="b")
        return len(photos) * PHOTO_MB / (time.perf_counter() - started)


async def run(quick: bool, out) -> dict[str, float]:
    count = 3 if quick else 10
    photos = [_photo(n) for n in range(count)]
    with tempfile.TemporaryDirectory(dir=os.environ.get("LOUPE_BENCH_DIR")) as tmp:
        root = Path(tmp)
        plain = _plain(root / "plain", photos)
        print(f"attachments: plain write + fsync of {count} x {PHOTO_MB} MB: {plain:,.0f} MB/s",
              file=out)
        kept = await _kept(root, photos)
        print(f"attachments: kept (checked, encrypted, fsynced, journaled) {count} x"
              f" {PHOTO_MB} MB: {kept:,.0f} MB/s ({kept / plain:.2f} of plain)", file=out)
    return {"jobs.attachment_mb_per_s": kept, "attachments.plain_write_mb_per_s": plain,
            "attachments.kept_vs_plain": kept / plain}
