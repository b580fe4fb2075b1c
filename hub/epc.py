"""EPC (RFID tag) identities per the GS1 EPC Tag Data Standard (TDS 2.x).

Pieces get a GID-96 EPC at receipt unless they carry one (the store's own scheme: manager
number from `[epc] company_prefix`, object class 1, serial = the journal seq of the receipt).
Tags bought pre-encoded by a brand usually carry SGTIN-96. Both decode to their pure-identity
URI (what the piece *is*) and tag URI (what the inlay holds, filter value included); any other
96-bit EPC reads as a raw URI so a technician still sees something exact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_HEX96 = re.compile(r"^[0-9A-F]{24}$")
_DECIMAL = re.compile(r"^(0|[1-9][0-9]*)$")  # TDS: no leading zeros in integer components
_DIGITS = re.compile(r"^[0-9]+$")

SGTIN96_HEADER = 0x30
GID96_HEADER = 0x35
SERIAL_BITS_SGTIN96 = 38

# TDS table 14-2, SGTIN partition: (company prefix bits, digits, item reference bits, digits).
SGTIN_PARTITIONS = (
    (40, 12, 4, 1),
    (37, 11, 7, 2),
    (34, 10, 10, 3),
    (30, 9, 14, 4),
    (27, 8, 17, 5),
    (24, 7, 20, 6),
    (20, 6, 24, 7),
)
# TDS table 10-1, SGTIN filter values.
SGTIN_FILTERS = {
    0: "all others",
    1: "point of sale trade item",
    2: "full case for transport",
    3: "reserved",
    4: "inner pack trade item grouping for handling",
    5: "reserved",
    6: "unit load",
    7: "unit inside trade item or component inside a product",
}
# Headers of other 96-bit schemes, named in messages though not decoded here.
OTHER_HEADERS = {0x31: "SSCC-96", 0x32: "SGLN-96", 0x33: "GRAI-96", 0x34: "GIAI-96",
                 0x2C: "GDTI-96", 0x2D: "GSRN-96", 0x2F: "USDOD-96", 0x3C: "CPI-96",
                 0x3D: "SGCN-96", 0x36: "SGTIN-198 (not 96 bits)"}


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


# -- GID-96 (the store's own scheme) --------------------------------------------------------------

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


# -- SGTIN-96 -----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Sgtin:
    """An SGTIN as TDS writes it: digit strings keep their leading zeros (their length
    carries the partition), the serial is a plain integer in the 96-bit encoding."""

    company_prefix: str
    item_reference: str  # indicator digit first, then the item reference proper
    serial: int
    filter: int = 1

    @property
    def gtin(self) -> str:
        """GTIN-14: indicator, company prefix, item reference, check digit."""
        body = self.item_reference[0] + self.company_prefix + self.item_reference[1:]
        return body + str(gs1_check_digit(body))


def gs1_check_digit(digits: str) -> int:
    """GS1 mod-10 check digit: weights 3 and 1 alternating from the right."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return (10 - total % 10) % 10


def _check_sgtin(s: Sgtin) -> int:
    """The partition value for `s`, or EpcError naming the field that does not fit."""
    if not (_DIGITS.match(s.company_prefix) and _DIGITS.match(s.item_reference)):
        raise EpcError("SGTIN company prefix and item reference must be digits")
    cp_digits = len(s.company_prefix)
    if len(s.company_prefix) + len(s.item_reference) != 13:
        raise EpcError(f"SGTIN company prefix and item reference must have 13 digits together,"
                       f" got {cp_digits} + {len(s.item_reference)}")
    if not 6 <= cp_digits <= 12:
        raise EpcError(f"SGTIN-96 company prefix must have 6 to 12 digits, got {cp_digits}")
    if not 0 <= s.filter <= 7:
        raise EpcError(f"filter value must be 0 to 7, got {s.filter}")
    if not 0 <= s.serial < 1 << SERIAL_BITS_SGTIN96:
        raise EpcError(f"SGTIN-96 serial must be below 2^38 (274877906944), got {s.serial}")
    return 12 - cp_digits


def sgtin96_encode(s: Sgtin) -> str:
    partition = _check_sgtin(s)
    cp_bits, _, ir_bits, _ = SGTIN_PARTITIONS[partition]
    value = SGTIN96_HEADER
    value = (value << 3) | s.filter
    value = (value << 3) | partition
    value = (value << cp_bits) | int(s.company_prefix)
    value = (value << ir_bits) | int(s.item_reference)
    value = (value << SERIAL_BITS_SGTIN96) | s.serial
    return f"{value:024X}"


def sgtin96_decode(hex_epc: str) -> Sgtin:
    value = int(normalise_epc(hex_epc), 16)
    if value >> 88 != SGTIN96_HEADER:
        raise EpcError(f"not an SGTIN-96 EPC (header {value >> 88:#04x})")
    filter_ = (value >> 85) & 0b111
    partition = (value >> 82) & 0b111
    if partition > 6:
        raise EpcError("corrupt SGTIN-96: partition 7 is not defined by the standard")
    cp_bits, cp_digits, ir_bits, ir_digits = SGTIN_PARTITIONS[partition]
    rest = value & ((1 << 82) - 1)
    company = rest >> (82 - cp_bits)
    item = (rest >> SERIAL_BITS_SGTIN96) & ((1 << ir_bits) - 1)
    serial = value & ((1 << SERIAL_BITS_SGTIN96) - 1)
    if company >= 10 ** cp_digits:
        raise EpcError(f"corrupt SGTIN-96: company prefix {company} has more than {cp_digits}"
                       f" digits (partition {partition})")
    if item >= 10 ** ir_digits:
        raise EpcError(f"corrupt SGTIN-96: item reference {item} has more than {ir_digits}"
                       f" digits (partition {partition})")
    return Sgtin(f"{company:0{cp_digits}d}", f"{item:0{ir_digits}d}", serial, filter_)


# -- URIs ---------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Identity:
    """What a 96-bit EPC says, in the standard's words."""

    hex: str
    scheme: str          # "sgtin-96", "gid-96" or "raw"
    pure_uri: str | None  # urn:epc:id:... (None for raw)
    tag_uri: str          # urn:epc:tag:... or urn:epc:raw:96.x...
    filter: int | None = None
    gtin: str | None = None
    note: str | None = None


def raw_uri(hex_epc: str) -> str:
    return f"urn:epc:raw:96.x{normalise_epc(hex_epc)}"


def decode(hex_epc: str) -> Identity:
    """Decode any 96-bit EPC. SGTIN-96 and GID-96 decode fully; a corrupt one raises
    EpcError; another scheme decodes as its raw URI with a note naming the header."""
    hex_epc = normalise_epc(hex_epc)
    header = int(hex_epc[:2], 16)
    if header == SGTIN96_HEADER:
        s = sgtin96_decode(hex_epc)
        body = f"{s.company_prefix}.{s.item_reference}.{s.serial}"
        return Identity(hex_epc, "sgtin-96", f"urn:epc:id:sgtin:{body}",
                        f"urn:epc:tag:sgtin-96:{s.filter}.{body}", s.filter, s.gtin)
    if header == GID96_HEADER:
        manager, object_class, serial = gid96_decode(hex_epc)
        body = f"{manager}.{object_class}.{serial}"
        return Identity(hex_epc, "gid-96", f"urn:epc:id:gid:{body}", f"urn:epc:tag:gid-96:{body}")
    name = OTHER_HEADERS.get(header)
    note = (f"header {header:#04x} is {name}, which this hub does not decode" if name else
            f"header {header:#04x} is not a GS1 EPC scheme (a factory or private EPC)")
    return Identity(hex_epc, "raw", None, raw_uri(hex_epc), note=note)


def _decimal(text: str, what: str) -> int:
    if not _DECIMAL.match(text):
        raise EpcError(f"{what} must be a decimal number without leading zeros, got {text!r}")
    return int(text)


def _parts(body: str, count: int, uri: str) -> list[str]:
    parts = body.split(".")
    if len(parts) != count:
        raise EpcError(f"{uri!r}: expected {count} dot-separated fields, got {len(parts)}")
    return parts


def encode(uri: str, *, filter: int = 1) -> str:
    """The 24-hex-digit EPC for a tag URI, a pure-identity URI (with `filter` for SGTIN),
    or a raw 96-bit URI."""
    if not isinstance(uri, str):
        raise EpcError(f"EPC URI must be text, got {uri!r}")
    text = uri.strip()
    if text.startswith("urn:epc:tag:sgtin-96:"):
        f, cp, ir, serial = _parts(text[len("urn:epc:tag:sgtin-96:"):], 4, text)
        if not re.fullmatch(r"[0-7]", f):
            raise EpcError(f"filter value must be one digit 0 to 7, got {f!r}")
        return sgtin96_encode(Sgtin(cp, ir, _decimal(serial, "SGTIN-96 serial"), int(f)))
    if text.startswith("urn:epc:id:sgtin:"):
        cp, ir, serial = _parts(text[len("urn:epc:id:sgtin:"):], 3, text)
        return sgtin96_encode(Sgtin(cp, ir, _decimal(serial, "SGTIN-96 serial"), filter))
    for prefix in ("urn:epc:tag:gid-96:", "urn:epc:id:gid:"):
        if text.startswith(prefix):
            m, c, s = _parts(text[len(prefix):], 3, text)
            return gid96_encode(_decimal(m, "GID manager number"),
                                _decimal(c, "GID object class"), _decimal(s, "GID serial"))
    if text.startswith("urn:epc:raw:96.x"):
        return normalise_epc(text[len("urn:epc:raw:96.x"):])
    raise EpcError(f"not an EPC URI this hub encodes: {text!r} (expected urn:epc:tag:sgtin-96:,"
                   " urn:epc:id:sgtin:, urn:epc:tag:gid-96:, urn:epc:id:gid: or urn:epc:raw:96.x)")
