"""age (https://age-encryption.org) recipients and identities from raw X25519 keys.

HQ already has an X25519 key (stores seal data keys to it); age's X25519 recipients are the
same curve, written in Bech32. So what leaves the box for HQ (backups, the master key's
escrow) is encrypted to HQ's existing key with a standard tool: HQ, or anyone holding
`hq_box.key`, opens it with `age -d -i`, and nobody else does.
"""

from __future__ import annotations

import bech32
import pyrage


def recipient(public_raw: bytes) -> pyrage.x25519.Recipient:
    """HQ's age recipient (`age1...`) from its raw 32-byte X25519 public key."""
    return pyrage.x25519.Recipient.from_str(recipient_text(public_raw))


def recipient_text(public_raw: bytes) -> str:
    if len(public_raw) != 32:
        raise ValueError("an X25519 public key is 32 bytes")
    return bech32.bech32_encode("age", bech32.convertbits(public_raw, 8, 5))


def identity(private_raw: bytes) -> pyrage.x25519.Identity:
    """The matching age identity (`AGE-SECRET-KEY-1...`) from the raw X25519 private key."""
    if len(private_raw) != 32:
        raise ValueError("an X25519 private key is 32 bytes")
    text = bech32.bech32_encode("age-secret-key-", bech32.convertbits(private_raw, 8, 5))
    return pyrage.x25519.Identity.from_str(text.upper())
