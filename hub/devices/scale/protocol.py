"""Scale replies parsed into exact milligrams (no floats: a carat is 200 mg exactly).

MT-SICS: `S S      12.345 g` (stable), `S D ...` (dynamic), `S I` busy, `S +`/`S -`
overload/underload, `ES`/`ET`/`EL` errors; `Z A`, `T S <tare>` for zero and tare.
Toledo 8217: host sends `W`, the scale answers `STX weight CR`, or `STX ? status CR`
where the status byte's bits say motion (0), over capacity (1), under zero (2).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

# Milligrams per unit.
UNITS = {"mg": Fraction(1), "g": Fraction(1000), "kg": Fraction(1_000_000),
         "ct": Fraction(200), "oz": Fraction(28_349_523_125, 1_000_000),
         "lb": Fraction(45_359_237, 100), "dwt": Fraction(155_517_384, 100_000),
         "ozt": Fraction(3_110_347_680, 100_000)}
_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")
_SICS_ERRORS = {"ES": "syntax error: the scale did not know the command",
                "ET": "transmission error", "EL": "logical error: command not allowed now"}


class ScaleError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Reading:
    milligrams: int
    stable: bool
    unit: str


def to_milligrams(number: str, unit: str) -> int:
    if not _NUMBER.match(number):
        raise ScaleError(f"not a weight: {number!r}")
    if unit not in UNITS:
        raise ScaleError(f"unit {unit!r} is not one of {', '.join(UNITS)}")
    value = Fraction(number) * UNITS[unit]
    return round(value)  # Fraction rounds half to even, exactly


def parse_sics(line: bytes) -> Reading | str:
    """A weight reply -> Reading; an acknowledgement (`Z A`, `T S ...`) -> its code."""
    try:
        text = line.decode("ascii").strip()
    except UnicodeDecodeError:
        raise ScaleError(f"not ASCII: {line[:40]!r}") from None
    parts = text.split()
    if not parts:
        raise ScaleError("empty reply")
    if parts[0] in _SICS_ERRORS:
        raise ScaleError(f"{parts[0]}: {_SICS_ERRORS[parts[0]]}")
    if parts[0] in ("S", "SI") and len(parts) >= 2:
        status = parts[1]
        if status == "+":
            raise ScaleError("overload: take the piece off the pan")
        if status == "-":
            raise ScaleError("underload: zero the scale")
        if status == "I":
            raise ScaleError("scale busy")
        if status in ("S", "D") and len(parts) == 4:
            return Reading(to_milligrams(parts[2], parts[3]), status == "S", parts[3])
        raise ScaleError(f"unexpected weight reply {text[:40]!r}")
    if parts[0] in ("Z", "T", "@", "ZI", "TA") :
        if len(parts) >= 2 and parts[1] in ("+", "-", "I"):
            raise ScaleError(f"{parts[0]} refused ({parts[1]}): {text[:40]}")
        return parts[0]
    raise ScaleError(f"unexpected reply {text[:40]!r}")


def parse_8217(frame: bytes, unit: str) -> Reading:
    """One STX…CR frame's payload (without STX and CR)."""
    try:
        text = frame.decode("ascii")
    except UnicodeDecodeError:
        raise ScaleError(f"not ASCII: {frame[:20]!r}") from None
    if text.startswith("?"):
        status = ord(text[1]) if len(text) > 1 else 0
        if status & 0x02:
            raise ScaleError("over capacity")
        if status & 0x04:
            raise ScaleError("under zero: zero the scale")
        if status & 0x01:
            return Reading(0, False, unit)  # in motion: no weight yet
        raise ScaleError(f"status {status:#04x}")
    number = text.strip().rstrip("N").strip()
    return Reading(to_milligrams(number, unit), True, unit)
