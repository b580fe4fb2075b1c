"""One backup file: the live database (SQLite's online backup, never a file copy), the
store's files, and the master key sealed to HQ, encrypted with age.

A backup is a plain tar holding three things, so that any age tool opens it:

    manifest.json      in clear: store, seq, chain tip, when, for whom (nothing personal)
    backup.tar.age     the books and files, age-encrypted to HQ's X25519 key and, when a
                       passphrase is set, to a one-off key of this backup
    passphrase.age     (with a passphrase) that one-off key, age-encrypted to the
                       passphrase (age allows a passphrase only as the sole recipient)

Inside `backup.tar.age`: `loupe.db`, `loupe.toml`, the attachments (already sealed under
their clients' keys), the store's HTTPS and HQ certificates, and `master.key.hq.age`, the
master key age-encrypted to HQ alone: the books inside open with the store's own copy of
its master key or, once HQ has opened that, with HQ's. Nothing is written in clear outside
the data dir: the database copy is made in `<data>/backup/`, beside the books it copies,
and leaves the box encrypted.
"""

from __future__ import annotations

import io
import json
import os
import sqlite3
import tarfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import pyrage

from hub import __version__
from hub.config import Config
from hub.control import LOCK_NAME, SOCKET_NAME, ControlError
from hub.ledger import age

FORMAT = "loupe-backup/1"
SUFFIX = ".loupe-backup"
WORK_DIR = "backup"  # under the data dir: the database copy while it is made, last.json
# Never in a backup: the books themselves (their online copy goes instead), the master key
# in clear, the lock, the control socket, and backups of backups.
_LEFT_OUT = {"loupe.db", "loupe.db-wal", "loupe.db-shm", LOCK_NAME, SOCKET_NAME, WORK_DIR}


class BackupError(ControlError):
    """A backup that cannot be made or opened, said in words (a command's one line)."""


@dataclass(frozen=True)
class Made:
    path: Path
    seq: int
    size: int
    at: str
    recipients: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"path": str(self.path), "seq": self.seq, "size": self.size, "at": self.at,
                "recipients": list(self.recipients)}


def backup_name(store_id: str, at: datetime, seq: int) -> str:
    return f"{store_id}-{at.strftime('%Y%m%dT%H%M%SZ')}-seq{seq}{SUFFIX}"


def make_backup(config: Config, dest_dir: Path, *, hq_box_key: bytes | None,
                escrow: bytes | None = None, passphrase: str | None = None,
                keep: int | None = None, now: datetime | None = None) -> Made:
    """Write one backup of the running (or resting) store into `dest_dir`. Blocking: the
    hub calls it on a worker thread. The writer goes on meanwhile: SQLite's backup reads one
    snapshot of the WAL database. `escrow`: the master key sealed to HQ (`Keyring.escrow`),
    kept inside when HQ is a recipient."""
    if hq_box_key is None and not passphrase:
        raise BackupError("nobody could open this backup: the store is not enrolled with HQ"
                          " and no passphrase is set (backup.passphrase_file or"
                          " --passphrase-file)")
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(f"cannot write backups to {dest_dir}: {exc.strerror}") from None
    at = (now or datetime.now(UTC)).replace(microsecond=0)
    work = config.data_dir / WORK_DIR
    work.mkdir(mode=0o700, exist_ok=True)
    copy = work / ".loupe.db.partial"
    copy.unlink(missing_ok=True)
    try:
        facts = _online_copy(config.db_path, copy)
        recipients = []
        names = []
        if hq_box_key is not None:
            recipients.append(age.recipient(hq_box_key))
            names.append("hq")
        one_off = None
        if passphrase:
            one_off = pyrage.x25519.Identity.generate()
            recipients.append(one_off.to_public())
            names.append("passphrase")
        manifest = {"format": FORMAT, "store_id": config.store_id,
                    "store_name": config.store_name, "at": at.isoformat(),
                    "seq": facts["seq"], "tip": facts["tip"], "schema": facts["schema"],
                    "hub_version": __version__, "recipients": names,
                    "master_key": "hq" if hq_box_key is not None and escrow else None}
        final = dest_dir / backup_name(config.store_id, at, facts["seq"])
        partial = dest_dir / f".{final.name}.partial"
        try:
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w|") as outer:
                _add_bytes(outer, "manifest.json", json.dumps(manifest, indent=1).encode())
                _add_bytes(outer, "README.txt", _README.format(**manifest).encode())
                if one_off is not None:
                    assert passphrase
                    _add_bytes(outer, "passphrase.age",
                               pyrage.passphrase.encrypt(str(one_off).encode(), passphrase))
                sealed = work / ".backup.tar.age.partial"
                try:
                    with open(sealed, "wb") as out:
                        _encrypt_stream(out, recipients, lambda tar: _add_books(
                            tar, config, copy, manifest, escrow if hq_box_key else None))
                    outer.add(str(sealed), arcname="backup.tar.age")
                finally:
                    sealed.unlink(missing_ok=True)
                raw.flush()
                os.fsync(raw.fileno())
            os.replace(partial, final)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise BackupError(f"cannot write the backup to {dest_dir}: {exc.strerror or exc}"
                              " (is the stick full or read-only?)") from None
    finally:
        copy.unlink(missing_ok=True)
    made = Made(final, facts["seq"], final.stat().st_size, manifest["at"], tuple(names))
    if keep is not None:
        prune(dest_dir, config.store_id, keep)
    record_last(config.data_dir, made)
    return made


def _online_copy(db_path: Path, copy: Path) -> dict[str, Any]:
    """SQLite's online backup of the live database into `copy`, and what it holds."""
    src = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(copy)
        try:
            src.backup(dst)  # one step: a read snapshot, the writer is not held up
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            row = dst.execute("SELECT seq, hash FROM journal ORDER BY seq DESC LIMIT 1"
                              ).fetchone()
            schema = dict(dst.execute("SELECT area, version FROM schema_versions"))
        finally:
            dst.close()
    finally:
        src.close()
    os.chmod(copy, 0o600)
    return {"seq": row[0] if row else 0, "tip": bytes(row[1]).hex() if row else "",
            "schema": schema}


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes, mode: int = 0o600) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), mode, int(datetime.now(UTC).timestamp())
    tar.addfile(info, io.BytesIO(data))


def _add_books(tar: tarfile.TarFile, config: Config, copy: Path, manifest: dict[str, Any],
               escrow: bytes | None) -> None:
    tar.add(str(copy), arcname="loupe.db")
    _add_bytes(tar, "manifest.json", json.dumps(manifest).encode())
    key_file = config.master_key_file.resolve()
    if escrow is not None:
        _add_bytes(tar, "master.key.hq.age", escrow)
    for path in sorted(config.data_dir.iterdir()):
        if path.name in _LEFT_OUT or path.name.startswith(".") or \
                path.resolve() == key_file or path.name.startswith(key_file.name):
            continue
        if path.is_file() or path.is_dir():
            tar.add(str(path), arcname=path.name,
                    filter=lambda info: None if info.name.endswith(".partial") else info)


def _encrypt_stream(out: IO[bytes], recipients: list[Any],
                    write: Callable[[tarfile.TarFile], None]) -> None:
    """age-encrypt a tar as it is written: the tar goes down a pipe, age reads the other end
    (no clear copy of the archive is ever on disk)."""
    read_fd, write_fd = os.pipe()
    failure: list[BaseException] = []

    def produce() -> None:
        try:
            with os.fdopen(write_fd, "wb") as pipe, tarfile.open(fileobj=pipe, mode="w|") as tar:
                write(tar)
        except BaseException as exc:  # noqa: BLE001 - re-raised by the caller below
            failure.append(exc)

    producer = threading.Thread(target=produce, name="backup-tar", daemon=True)
    producer.start()
    with os.fdopen(read_fd, "rb") as pipe:
        pyrage.encrypt_io(pipe, out, recipients)
    producer.join()
    if failure:
        raise failure[0]


# -- reading a backup ---------------------------------------------------------------------------

def read_manifest(path: Path) -> dict[str, Any]:
    try:
        with tarfile.open(path, mode="r:") as outer:
            member = outer.extractfile("manifest.json")
            manifest = json.loads(member.read()) if member else None
    except (OSError, tarfile.TarError, KeyError, ValueError):
        raise BackupError(f"{path} is not a Loupe backup (no manifest inside)") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{path} is not a backup this Loupe reads"
                          f" ({manifest.get('format') if isinstance(manifest, dict) else '?'})")
    return manifest


def unpack(path: Path, into: Path, *, identity: Any | None = None,
           passphrase: str | None = None) -> dict[str, Any]:
    """Decrypt a backup into the directory `into` (new and empty); returns its manifest.
    `identity` is HQ's age identity; else the passphrase opens it."""
    manifest = read_manifest(path)
    with tarfile.open(path, mode="r:") as outer:
        if identity is None:
            if not passphrase:
                raise BackupError("this backup opens with HQ's key (--hq-identity) or its"
                                  " passphrase (--passphrase-file)")
            member = _member(outer, "passphrase.age", "it was not made with a passphrase:"
                             " open it with HQ's key (--hq-identity)")
            try:
                identity = pyrage.x25519.Identity.from_str(
                    pyrage.passphrase.decrypt(member.read(), passphrase).decode())
            except pyrage.DecryptError:
                raise BackupError("the passphrase does not open this backup") from None
        sealed = _member(outer, "backup.tar.age", "the backup holds no books")
        read_fd, write_fd = os.pipe()
        failure: list[BaseException] = []

        def consume() -> None:
            try:
                with os.fdopen(read_fd, "rb") as pipe, \
                        tarfile.open(fileobj=pipe, mode="r|") as tar:
                    tar.extractall(into, filter="data")  # no path leaves `into`
            except BaseException as exc:  # noqa: BLE001 - re-raised below
                failure.append(exc)

        consumer = threading.Thread(target=consume, name="restore-tar", daemon=True)
        consumer.start()
        try:
            with os.fdopen(write_fd, "wb") as pipe:
                pyrage.decrypt_io(sealed, pipe, [identity])
        except pyrage.DecryptError:
            consumer.join()
            raise BackupError("this key does not open the backup (was it made for another"
                              " HQ?)") from None
        except BrokenPipeError:
            pass
        consumer.join()
        if failure:
            raise BackupError(f"the backup is damaged: {failure[0]}") from None
    return manifest


def _member(outer: tarfile.TarFile, name: str, missing: str) -> IO[bytes]:
    try:
        member = outer.extractfile(name)
    except KeyError:
        member = None
    if member is None:
        raise BackupError(missing)
    return member


# -- around the backups -------------------------------------------------------------------------

def prune(dest_dir: Path, store_id: str, keep: int) -> list[Path]:
    """Keep this store's newest `keep` backups at `dest_dir`; returns those removed."""
    mine = sorted(p for p in dest_dir.glob(f"{store_id}-*{SUFFIX}"))
    gone = mine[:-keep] if keep > 0 else []
    for path in gone:
        path.unlink(missing_ok=True)
    return gone


def record_last(data_dir: Path, made: Made) -> None:
    path = data_dir / WORK_DIR / "last.json"
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(made.to_json()))
    os.replace(partial, path)


def last_backup(data_dir: Path) -> dict[str, Any] | None:
    """The last backup made here (`loupe doctor` says how old it is), or None."""
    try:
        return json.loads((data_dir / WORK_DIR / "last.json").read_text())
    except (OSError, ValueError):
        return None


_README = """This is an encrypted backup of the Loupe store {store_id} ({store_name}),
made {at}, holding its journal through entry {seq}.

backup.tar.age is encrypted with age (https://age-encryption.org) to: {recipients}.
Restore it on a new box with:

    loupe restore THIS-FILE --data-dir /var/lib/loupe --hq-identity hq_box.key
    loupe restore THIS-FILE --data-dir /var/lib/loupe --passphrase-file FILE --master-key FILE

then the entries written after it come back from HQ's copy.
"""
