"""HQ's shelf of its stores' backups: `<hq data>/backups/<store>/<file>`, the newest
`KEEP` of each store. The files are encrypted to HQ's own key (and a store's passphrase);
HQ keeps them as they came, checked whole against the hash the store sent."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from pathlib import Path

log = logging.getLogger(__name__)

KEEP = 14
MAX_BYTES = 64 * 1024 ** 3
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}-\d{8}T\d{6}Z-seq\d+\.loupe-backup$")


class BackupRefused(ValueError):
    """A chunk HQ does not keep (misaddressed, malformed, too big), said in words."""


def shelf(data_dir: Path, store_id: str) -> Path:
    return data_dir / "backups" / store_id


def take_chunk(data_dir: Path, store_id: str, message: bytes) -> Path | None:
    """Write one chunk at its place; returns the kept file once the last one completes it
    (its hash checked), else None. Idempotent: a chunk sent twice writes the same bytes."""
    head, sep, body = message.partition(b"\n")
    try:
        doc = json.loads(head) if sep else None
    except ValueError:
        doc = None
    if not isinstance(doc, dict):
        raise BackupRefused(f"a backup chunk from {store_id} without its header")
    name, index, count, size, offset = (doc.get("name"), doc.get("index"), doc.get("count"),
                                        doc.get("size"), doc.get("offset"))
    if doc.get("store") != store_id or not isinstance(name, str) or not _NAME.match(name) \
            or not name.startswith(f"{store_id}-"):
        raise BackupRefused(f"a backup chunk from {store_id} names {name!r}: not its backup")
    if not all(isinstance(v, int) and not isinstance(v, bool)
               for v in (index, count, size, offset)) \
            or not 0 <= index < count or not 0 <= size <= MAX_BYTES \
            or not 0 <= offset <= size - len(body):
        raise BackupRefused(f"backup chunk of {name}: bad index, count or size")
    folder = shelf(data_dir, store_id)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = folder / f".{name}.partial"
    mode = "r+b" if partial.exists() else "wb"
    with open(partial, mode) as f:
        f.seek(offset)
        f.write(body)
    if index != count - 1:
        return None
    with open(partial, "rb") as f:
        digest = hashlib.file_digest(f, "sha256").hexdigest()
    if os.path.getsize(partial) != size or digest != doc.get("sha256"):
        partial.unlink(missing_ok=True)
        raise BackupRefused(f"backup {name} from {store_id} arrived incomplete or altered:"
                            " not kept (the store sends it again with its next backup)")
    final = folder / name
    os.replace(partial, final)
    for old in sorted(folder.glob(f"{store_id}-*.loupe-backup"))[:-KEEP]:
        old.unlink(missing_ok=True)
    log.info("HQ kept a store's backup", extra={"store_id": store_id, "file": name,
                                                "bytes": size})
    return final

