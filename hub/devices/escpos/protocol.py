"""ESC/POS facts the driver and the simulator share: status bytes and the drawer pulse.

Real-time status `DLE EOT n` is answered with one byte whatever the printer is doing:
n=1 printer (bit 2 drawer sensor, bit 3 offline), n=2 offline cause (bit 2 cover open,
bit 5 stopped for paper end), n=4 roll paper sensor (bits 2-3 near end, bits 5-6 out).
Bits 1 and 4 are always 1, bit 0 and 7 always 0: anything else is not a status byte.
"""

from __future__ import annotations

from hub.devices.base import Paper

DLE_EOT = b"\x10\x04"
FIXED = 0x12


def is_status_byte(b: int) -> bool:
    return b & 0x93 == FIXED


def drawer_kick(pin: int, on_ms: int, off_ms: int) -> bytes:
    """`ESC p m t1 t2`: pulse on pin 2 (m=0) or 5 (m=1) for t1×2 ms, then off t2×2 ms."""
    if pin not in (2, 5):
        raise ValueError(f"drawer pin must be 2 or 5, got {pin}")
    t1 = max(1, min(255, on_ms // 2))
    t2 = max(t1, min(255, off_ms // 2))
    return bytes([0x1B, 0x70, 0 if pin == 2 else 1, t1, t2])


def paper_state(printer_byte: int, cause_byte: int, paper_byte: int) -> Paper:
    """The printer's state in the shop's words, from the three status bytes."""
    if cause_byte & 0x04:
        return Paper.COVER_OPEN
    if paper_byte & 0x60 or cause_byte & 0x20:
        return Paper.PAPER_OUT
    if printer_byte & 0x08:
        return Paper.OFFLINE
    if paper_byte & 0x0C:
        return Paper.PAPER_LOW
    return Paper.READY
