"""`loupe backup` (now, beside a running hub or not) and `loupe restore` (on a new box)."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any

from hub.backup import restore
from hub.backup.archive import BackupError
from hub.backup.service import back_up
from hub.backup.settings import read_settings
from hub.config import load_config, resolve_data_dir
from hub.control import BooksLock, CommandError, data_dir_arg, read_books
from hub.store import Store
from hub.sync.catchup import CatchUpError, catch_up


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("backup", help="write an encrypted backup of the books and files now")
    data_dir_arg(p)
    p.add_argument("--to", help="the directory to write it to (default: backup.path)")
    p.add_argument("--passphrase-file",
                   help="also open it to this passphrase (default: backup.passphrase_file)")
    p.add_argument("--no-hq", action="store_true", help="do not send it to HQ")
    p.add_argument("--json", action="store_true", help="say what was written as JSON")
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser("restore", help="restore a backup on a new box, then fetch from HQ"
                       " every entry written after it")
    p.add_argument("backup", nargs="?", help="the backup file (.loupe-backup)")
    p.add_argument("--data-dir", required=True, help="the new, empty data dir")
    p.add_argument("--hq-identity", help="HQ's hq_box.key: opens the backup and its master key")
    p.add_argument("--passphrase-file", help="the backup's passphrase, in a 0600 file")
    p.add_argument("--master-key", help="the store's master key file (its offline copy)")
    p.add_argument("--catch-up", action="store_true",
                   help="only fetch from HQ the entries after the restored journal")
    p.add_argument("--without-hq", action="store_true",
                   help="sell on from the backup alone (entries HQ kept after it stay lost)")
    p.set_defaults(func=cmd_restore)


def cmd_backup(args: argparse.Namespace) -> int:
    config = load_config(resolve_data_dir(args.data_dir))
    try:
        settings = read_settings(config)
        dest = Path(args.to).expanduser() if args.to else settings.path
        if dest is None:
            raise BackupError("where to? give --to DIR, or set backup.path in loupe.toml")
        phrase_file = (Path(args.passphrase_file) if args.passphrase_file
                       else settings.passphrase_file)
        passphrase = (restore.read_secret_file(phrase_file, "passphrase file")
                      if phrase_file else None)

        made, sent = read_books(args, lambda store: back_up(
            store, dest, passphrase=passphrase, keep=settings.keep if not args.to else None,
            send=settings.to_hq and not args.no_hq))
    except BackupError as exc:
        raise CommandError(str(exc)) from None
    if args.json:
        print(json.dumps({**made.to_json(), "hq": sent}))
    else:
        print(f"backup of {config.store_id} through entry {made.seq}: {made.path}"
              f" ({made.size / 1e6:.1f} MB, opens with: {', '.join(made.recipients)}); {sent}")
    return 0



def cmd_restore(args: argparse.Namespace) -> int:
    data_dir = Path(args.data_dir).expanduser().resolve()
    try:
        if args.catch_up or (args.without_hq and not args.backup):
            if not restore.restoring(data_dir):
                raise BackupError(f"{data_dir} is not waiting for a restore to finish")
        else:
            if not args.backup:
                raise BackupError("which backup? give the .loupe-backup file")
            identity = restore.hq_identity(Path(args.hq_identity)) if args.hq_identity else None
            passphrase = (restore.read_secret_file(Path(args.passphrase_file), "passphrase file")
                          if args.passphrase_file else None)
            done = restore.restore_files(
                Path(args.backup), data_dir, identity=identity, passphrase=passphrase,
                master_key=Path(args.master_key) if args.master_key else None)
            print(f"restored {done.config.store_id} ({done.config.store_name}) from the backup"
                  f" of {done.manifest['at']}: {done.entries} entries, chain verified")
        if args.without_hq:
            restore.finished(data_dir)
            print("selling on from the backup alone: entries HQ holds after it are not"
                  " fetched, and sync will say HQ is ahead of this store")
            return 0
        outcome = _catch_up(data_dir)
    except (BackupError, CatchUpError) as exc:
        raise CommandError(str(exc)) from None
    restore.finished(data_dir)
    print(f"fetched {outcome['entries']} entries from HQ: the journal ends at seq"
          f" {outcome['seq']}, as HQ's does; `loupe run` may start")
    return 0


def _catch_up(data_dir: Path) -> dict[str, Any]:
    config = load_config(data_dir)
    with BooksLock.acquire(data_dir, "loupe restore"):
        async def go() -> dict[str, Any]:
            store = await Store.open(config)
            try:
                caught = await catch_up(store)
            finally:
                await store.close()
            return {"entries": caught.entries, "seq": caught.head}

        return asyncio.run(go())
