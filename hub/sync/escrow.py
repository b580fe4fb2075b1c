"""The master key's escrow at HQ: a store's master key, age-encrypted to HQ's box key.

A hub's hello carries it (`Replicator.hello`); HQ checks it opens with its `hq_box.key` and
keeps the newest per store (`escrows`, HQ's storage). A store that lost its key file, or
the passphrase protecting it, gets it back from HQ (`loupe hq escrow`) and from nobody
else: the broker and the network see only the age file. `loupe keys escrow` writes the same
file at the store, to carry to HQ by hand.
"""

from __future__ import annotations

import os
from pathlib import Path

import pyrage
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from hub.ledger import age
from hub.ledger.keys import MASTER_KEY_LEN, master_key_text


class EscrowError(Exception):
    """The escrow does not open, or there is none: said in words."""


def open_escrow(box: X25519PrivateKey, sealed: bytes) -> bytes:
    """The 32-byte master key an escrow holds; EscrowError if HQ's key does not open it."""
    try:
        text = pyrage.decrypt(sealed, [age.identity(box.private_bytes_raw())])
        key = bytes.fromhex(text.decode("ascii").strip())
    except (pyrage.DecryptError, ValueError, UnicodeDecodeError):
        raise EscrowError("the escrow does not open with HQ's box key (hq_box.key): it was"
                          " made for another HQ, or is damaged") from None
    if len(key) != MASTER_KEY_LEN:
        raise EscrowError(f"the escrow holds {len(key)} bytes, not a 32-byte master key")
    return key


def write_key_file(path: Path, data: bytes) -> None:
    """A new file, 0600, never over an existing one (a master key is never overwritten)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise EscrowError(f"{path} exists already: refusing to overwrite it") from None
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def write_master_key(path: Path, key: bytes) -> None:
    write_key_file(path, master_key_text(key))
