"""One backup, as the nightly part and `loupe backup` both make it: written on a worker
thread, then sent to HQ when the store is enrolled."""

from __future__ import annotations

import asyncio
from pathlib import Path

from hub.backup import archive
from hub.backup.archive import Made
from hub.store import Store
from hub.sync.backups import BackupNotSent, send_backup
from hub.sync.replicator import load_enrollment


async def back_up(store: Store, dest: Path, *, passphrase: str | None, keep: int | None,
                  send: bool) -> tuple[Made, str]:
    """Write a backup of `store` into `dest`; returns it and what became of HQ's copy."""
    enrollment = await load_enrollment(store.ledger)
    hq_key = bytes.fromhex(enrollment.hq_box_key) if enrollment else None
    made = await asyncio.to_thread(
        archive.make_backup, store.config, dest, hq_box_key=hq_key,
        escrow=store.ledger.keyring.escrow(hq_key) if hq_key else None,
        passphrase=passphrase, keep=keep)
    if not send:
        return made, "not sent to HQ"
    if enrollment is None:
        return made, "not sent to HQ (not enrolled)"
    try:
        sent = await send_backup(store, made.path)
    except BackupNotSent as exc:  # still a backup: said, not an error
        return made, f"not sent to HQ: {exc}"
    return made, f"sent to HQ ({sent / 1e6:.1f} MB)"
