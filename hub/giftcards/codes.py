"""Gift card codes: `<store prefix>-<12 random characters><check character>`.

The 12 characters are 60 random bits in Crockford's base 32 (no I, L, O, U: nothing to
misread on a printed card), so a code cannot be guessed; the last is a Luhn mod 32 check
character, so a mistyped character or two swapped neighbours are caught before the books are
asked. The prefix is the store's id (shortened with a hash past 24 characters, so a code
stays within a sale line's 38), which says which store of the chain owes the card. Codes
print as a Code 128 barcode and scan back as typed.
"""

from __future__ import annotations

import hashlib
import re
import secrets

from hub.core.errors import Invalid

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
BODY = 12
_MISREAD = str.maketrans({"O": "0", "I": "1", "L": "1"})
_PREFIX_MAX = 24
_CODE = re.compile(r"([A-Za-z0-9_-]{1,24})-([0-9A-Za-z]{13})")


def store_prefix(store_id: str) -> str:
    """The prefix of a store's codes (its id, or a hashed short form of a long one)."""
    if len(store_id) <= _PREFIX_MAX:
        return store_id
    return f"{store_id[:17]}_{hashlib.sha256(store_id.encode()).hexdigest()[:6]}"


def check_char(body: str) -> str:
    """Luhn mod 32 over the body's characters."""
    total, factor = 0, 2
    for ch in reversed(body):
        addend = factor * ALPHABET.index(ch)
        total += addend // 32 + addend % 32
        factor = 3 - factor
    return ALPHABET[(32 - total % 32) % 32]


def new_code(store_id: str) -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(BODY))
    return f"{store_prefix(store_id)}-{body}{check_char(body)}"


def parse(raw: object, field: str = "number") -> tuple[str, str]:
    """(prefix, code) of a code as scanned or typed (spaces and case forgiven, O read as
    0 and I, L as 1); a code that cannot be one is Invalid, in words."""
    text = re.sub(r"\s+", "", raw) if isinstance(raw, str) else ""
    match = _CODE.fullmatch(text)
    if match is None:
        raise Invalid("“{number}” is not a gift card number", field, number=text[:40])
    prefix, body = match.group(1), match.group(2).upper().translate(_MISREAD)
    if any(ch not in ALPHABET for ch in body) or check_char(body[:-1]) != body[-1]:
        raise Invalid("“{number}” is not a gift card number: a character is mistyped", field,
                      number=text[:40])
    return prefix, f"{prefix}-{body}"
