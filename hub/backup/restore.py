"""`loupe restore` on a new box: the backup's books and files into a new data dir, its
master key back, the chain verified; then (hub/sync/catchup.py) every entry HQ acknowledged
after the backup. Until that second step is done the data dir carries a `RESTORING` mark and
`loupe run` refuses it: a hub selling on a journal that ends before HQ's would fork the
store's books from HQ's copy, and the entries HQ kept could never come back.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyrage

from hub.backup.archive import BackupError, unpack
from hub.config import CONFIG_NAME, Config, load_config
from hub.ledger import age
from hub.ledger.keys import (
    KeyError_,
    Keyring,
    load_master_key,
    master_key_text,
    secret_file_line,
)
from hub.ledger.ledger import verify_database

RESTORING = "RESTORING"


@dataclass(frozen=True)
class Restored:
    config: Config
    manifest: dict[str, Any]
    entries: int  # in the backup's journal, verified


def read_secret_file(path: Path, what: str) -> str:
    """A passphrase or key file's first line (`keys.secret_file_line`), refused in the
    backup's words."""
    try:
        return secret_file_line(path, what)
    except KeyError_ as exc:
        raise BackupError(str(exc)) from None


def hq_identity(path: Path) -> Any:
    """HQ's age identity from `hq_box.key` (hex, as `loupe hq init` writes it) or an age
    secret key (`AGE-SECRET-KEY-1...`)."""
    text = read_secret_file(path, "HQ's key file")
    try:
        if text.upper().startswith("AGE-SECRET-KEY-1"):
            return pyrage.x25519.Identity.from_str(text.upper())
        return age.identity(bytes.fromhex(text))
    except (ValueError, pyrage.IdentityError):
        raise BackupError(f"{path} is neither HQ's hq_box.key nor an age secret key") from None


def restore_files(backup: Path, data_dir: Path, *, identity: Any | None = None,
                  passphrase: str | None = None, master_key: Path | None = None) -> Restored:
    """Unpack `backup` into the new `data_dir` and check it opens; leaves `RESTORING`."""
    if (data_dir / CONFIG_NAME).exists() or (data_dir / "loupe.db").exists():
        raise BackupError(f"{data_dir} already holds a store: restore into a new data dir")
    if not backup.is_file():
        raise BackupError(f"{backup}: no such backup file")
    fresh = not data_dir.exists()
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    before = set(data_dir.iterdir())
    try:
        manifest = unpack(backup, data_dir, identity=identity, passphrase=passphrase)
        (data_dir / "manifest.json").unlink(missing_ok=True)
        config = load_config(data_dir)
        escrow = data_dir / "master.key.hq.age"
        if master_key is not None:
            # Its offline copy, in clear or under its passphrase (asked for as at a start).
            secret = master_key_text(load_master_key(master_key))
        elif identity is not None and escrow.exists():
            secret = pyrage.decrypt(escrow.read_bytes(), [identity])
        else:
            raise BackupError("the books in this backup need the store's master key: give"
                              " --master-key (the copy kept offline), or have HQ restore it"
                              " (--hq-identity)")
        escrow.unlink(missing_ok=True)
        fd = os.open(config.master_key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(secret)
        _opens(config)
        verdict = verify_database(config.db_path, config.store_id)
        if not verdict.ok:
            raise BackupError(f"the backup's journal does not verify: {verdict}")
        if verdict.count != manifest["seq"]:
            raise BackupError(f"the backup says it holds {manifest['seq']} entries but its"
                              f" journal has {verdict.count}")
        (data_dir / RESTORING).write_text(f"{manifest['seq']}\n")
        return Restored(config, manifest, verdict.count)
    except BaseException:
        for path in set(data_dir.iterdir()) - before:  # leave the dir as it was found
            shutil.rmtree(path) if path.is_dir() else path.unlink()
        if fresh:
            data_dir.rmdir()
        raise


def _opens(config: Config) -> None:
    """The master key given opens every key the books keep (else a `KeyError_` in words)."""
    conn = sqlite3.connect(f"file:{config.db_path}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT key_id, version, wrapped FROM keys").fetchall()
    finally:
        conn.close()
    try:
        Keyring(config.store_id, load_master_key(config.master_key_file)).load(rows)
    except KeyError_ as exc:
        raise BackupError(f"{exc} (is --master-key this store's?)") from None


def restoring(data_dir: Path) -> bool:
    return (data_dir / RESTORING).exists()


def finished(data_dir: Path) -> None:
    (data_dir / RESTORING).unlink(missing_ok=True)


def refuse_if_restoring(data_dir: Path) -> None:
    """`loupe run` on a data dir whose restore has not fetched HQ's entries yet."""
    if restoring(data_dir):
        raise BackupError(
            f"{data_dir} was restored from a backup and has not yet fetched from HQ the"
            f" entries written after it: run `loupe restore --catch-up --data-dir {data_dir}`"
            " (or, if HQ will never be reachable, `loupe restore --without-hq --data-dir"
            f" {data_dir}` to sell on from the backup alone)")
