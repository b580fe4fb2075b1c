"""`loupe keys ...`: rotate the data keys, escrow the master key, protect it by a passphrase.

Rotation is a named command (through the running hub, the one writer of the books); the
others work on the master key file, or read the books beside the hub.
"""

from __future__ import annotations

import argparse
import getpass
import os
from pathlib import Path
from typing import Any

from hub.config import load_config, resolve_data_dir
from hub.control import Books, CommandError, book_command, data_dir_arg, read_books, write_books
from hub.ledger.keys import (
    KeyDestroyed,
    is_protected,
    protect_master_key,
    secret_file_line,
    unprotect_master_key,
)
from hub.ledger.ledger import Tx
from hub.sync.escrow import EscrowError, write_key_file
from hub.sync.replicator import load_enrollment

ROTATED = "key.rotated"

ROTATE_HELP = """\
Make a new version of the store's data key (it seals sales, pieces, counts) and of every
client's key: entries from now on are sealed with the new versions, and every older
version is kept, so what it sealed stays readable. A forgotten client's key stays
destroyed: a rotation never brings one back. Each new version is journaled (`key.rotated`,
its key id and version, never the key) and reaches HQ with the first entry it seals.

Two keys are not rotated: the blind-index key (every phone and e-mail look-up in the
client book would have to be recomputed, and HQ's and the backups' copies with them), and
the signing key (it is the store's identity: HQ pinned its public key at enrollment, and
every Z report is signed with it). Files kept for a client (attachments) stay sealed with
her first key version.
"""


def rotated_keys(tx: Tx, store_only: bool) -> list[str]:
    """The keys a rotation renews: `store`, and every client's key still held."""
    if store_only:
        return ["store"]
    return ["store"] + [k for k in tx.keyring.key_ids() if k.startswith("client:")]


@book_command("keys.rotate")
async def rotate_keys(books: Books, store_only: bool, actor: str) -> dict[str, Any]:
    def command(tx: Tx) -> dict[str, Any]:
        versions = {}
        for key_id in rotated_keys(tx, store_only):
            try:
                versions[key_id] = tx.rotate_key(key_id)
            except KeyDestroyed:  # forgotten meanwhile: stays destroyed
                continue
        for key_id, version in versions.items():
            # Sealed with the new store key, subject `keys`: not part of a client's history.
            tx.append(ROTATED, "keys", {"key_id": key_id, "version": version}, actor=actor)
        return {"keys": len(versions), "store_version": versions["store"], "seq": tx.seq}

    return await books.store.ledger.transact(command)


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    done = write_books(args, "keys.rotate", store_only=args.store_only, actor=args.actor)
    clients = done["keys"] - 1
    print(f"rotated the store's data key (now version {done['store_version']})"
          + (f" and {clients} client keys" if clients else "")
          + f"; journaled through seq {done['seq']}")
    return 0


def _key_file(args: argparse.Namespace) -> Path:
    return load_config(resolve_data_dir(args.data_dir)).master_key_file


def _passphrase(args: argparse.Namespace, twice: bool) -> str:
    if args.passphrase_file:
        return secret_file_line(Path(args.passphrase_file), "passphrase file")
    if os.environ.get("LOUPE_PASSPHRASE"):
        return os.environ["LOUPE_PASSPHRASE"]
    first = getpass.getpass("Passphrase: ")
    if twice and getpass.getpass("Same passphrase again: ") != first:
        raise CommandError("the two passphrases differ: nothing was changed")
    return first


def cmd_keys_protect(args: argparse.Namespace) -> int:
    path = _key_file(args)
    if is_protected(path):
        raise CommandError(f"the master key file {path} is protected already")
    protect_master_key(path, _passphrase(args, twice=True))
    print(f"{path} now holds the master key under your passphrase: the hub asks for it at"
          " each start (docs/operations.md, \"Keys\"). Keep the passphrase apart from the box;"
          " if it is lost, HQ's escrow brings the key back")
    return 0


def cmd_keys_unprotect(args: argparse.Namespace) -> int:
    path = _key_file(args)
    unprotect_master_key(path, _passphrase(args, twice=False))
    print(f"{path} holds the master key in clear again (0600): anyone with the box reads the"
          " books")
    return 0


def cmd_keys_escrow(args: argparse.Namespace) -> int:

    async def sealed(store: Any) -> bytes:
        enrollment = await load_enrollment(store.ledger)
        if enrollment is None:
            raise CommandError("this store is not enrolled with HQ: there is no HQ key to"
                               " seal the master key to (`loupe enroll` first)")
        return store.ledger.keyring.escrow(bytes.fromhex(enrollment.hq_box_key))

    blob = read_books(args, sealed)
    try:
        write_key_file(Path(args.out), blob)
    except EscrowError as exc:
        raise CommandError(str(exc)) from None
    print(f"wrote {args.out}: the master key, age-encrypted to HQ's box key (only HQ opens"
          " it: `loupe hq escrow --from-file`, or `age -d -i hq_box.key`)")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    keys = sub.add_parser("keys", help="rotate data keys, escrow and protect the master key"
                          ).add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    p = keys.add_parser("rotate", help="new versions of the store's and the clients' data keys",
                        description=ROTATE_HELP,
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    data_dir_arg(p)
    p.add_argument("--store-only", action="store_true",
                   help="rotate the store's data key alone, not the clients' keys")
    p.add_argument("--actor", default="admin", help="staff id recorded as the actor")
    p.set_defaults(func=cmd_keys_rotate)

    p = keys.add_parser("escrow", help="write the master key sealed to HQ (to carry by hand)",
                        description="The master key age-encrypted to HQ's box key, as the hub"
                                    " sends it to HQ in its hello: for a box that never"
                                    " reaches HQ's broker. Only HQ can open it.")
    data_dir_arg(p)
    p.add_argument("--out", required=True, help="the file to write (0600, never overwritten)")
    p.set_defaults(func=cmd_keys_escrow)

    for name, text, func in (
            ("protect", "keep the master key file under a passphrase (a box without a TPM)",
             cmd_keys_protect),
            ("unprotect", "put the master key back in clear in its 0600 file",
             cmd_keys_unprotect)):
        p = keys.add_parser(name, help=text)
        data_dir_arg(p)
        p.add_argument("--passphrase-file",
                       help="the passphrase, first line of a 0600 file (default: asked for, or"
                            " LOUPE_PASSPHRASE)")
        p.set_defaults(func=func)
