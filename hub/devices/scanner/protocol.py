"""What a scanner sends: one code per line, optionally prefixed by an AIM identifier.

An AIM symbology identifier is `]` + a code character + a modifier (`]E0` EAN-13, `]C1`
GS1-128). GS1 codes carry FNC1 as the GS control character (0x1D), which is kept.
"""

from __future__ import annotations

from dataclasses import dataclass

# (code character, modifier) -> symbology; `*` matches any modifier.
AIM = {
    ("A", "*"): "code39", ("C", "0"): "code128", ("C", "1"): "gs1-128",
    ("C", "*"): "code128", ("E", "0"): "ean-13", ("E", "4"): "ean-8", ("E", "*"): "upc-ean",
    ("I", "*"): "itf", ("Q", "*"): "qr", ("d", "1"): "datamatrix", ("d", "2"): "gs1-datamatrix",
    ("d", "*"): "datamatrix", ("e", "*"): "gs1-databar", ("L", "*"): "pdf417",
    ("z", "*"): "aztec",
}
MAX_CODE = 200


class ScanError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Scan:
    code: str
    symbology: str


def symbology_of(prefix: str) -> str:
    return AIM.get((prefix[1], prefix[2])) or AIM.get((prefix[1], "*")) or f"aim{prefix}"


def parse_scan(line: bytes, *, aim: bool) -> Scan:
    """One framed line -> a Scan; raises ScanError with a reason for anything else."""
    try:
        text = line.decode("ascii")
    except UnicodeDecodeError:
        raise ScanError(f"not ASCII: {line[:40]!r}") from None
    text = text.strip(" ")
    symbology = "unknown"
    if aim:
        if len(text) < 3 or text[0] != "]":
            raise ScanError(f"no AIM identifier in {text[:40]!r}")
        symbology, text = symbology_of(text[:3]), text[3:]
    if not text:
        raise ScanError("empty code")
    if len(text) > MAX_CODE:
        raise ScanError(f"code of {len(text)} characters is longer than {MAX_CODE}")
    if any((ord(c) < 0x20 and c != "\x1d") or ord(c) == 0x7F for c in text):
        raise ScanError(f"control characters in {text[:40]!r}")
    return Scan(text, symbology)
