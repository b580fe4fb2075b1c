"""EPC (RFID tag) identities. Pieces get a GID-96 EPC at receipt unless they carry one."""

from __future__ import annotations

import re

_HEX96 = re.compile(r"^[0-9A-F]{24}$")
GID96_HEADER = 0x35


class EpcError(ValueError):
    pass


def normalise_epc(text: str) -> str:
    """Upper-case 24-hex-digit form of a 96-bit EPC; raises EpcError on anything else."""
    if not isinstance(text, str):
        raise EpcError(f"EPC must be text, got {text!r}")
    value = text.strip().upper()
    if value.startswith("0X"):
        value = value[2:]
    if not _HEX96.match(value):
        raise EpcError(f"EPC must be 24 hexadecimal digits (96 bits), got {text!r}")
    return value


def gid96_encode(manager: int, object_class: int, serial: int) -> str:
    """GS1 GID-96: header 0x35, manager (28 bits), object class (24 bits), serial (36 bits)."""
    if not 0 <= manager < 1 << 28:
        raise EpcError("GID-96 manager number must fit 28 bits")
    if not 0 <= object_class < 1 << 24:
        raise EpcError("GID-96 object class must fit 24 bits")
    if not 0 <= serial < 1 << 36:
        raise EpcError("GID-96 serial must fit 36 bits")
    value = (GID96_HEADER << 88) | (manager << 60) | (object_class << 36) | serial
    return f"{value:024X}"


def gid96_decode(hex_epc: str) -> tuple[int, int, int]:
    value = int(normalise_epc(hex_epc), 16)
    if value >> 88 != GID96_HEADER:
        raise EpcError(f"not a GID-96 EPC (header {value >> 88:#04x})")
    return (value >> 60) & ((1 << 28) - 1), (value >> 36) & ((1 << 24) - 1), value & ((1 << 36) - 1)
