"""An ESC/POS receipt printer on TCP (port 9100 by convention).

It decodes what it receives into text (one `Printed` per cut), records QR payloads, the
data of barcodes (`GS k`, with their symbology) and drawer pulses, and answers `DLE EOT n` status queries from its paper, cover and drawer
state. Knobs for tests: `paper_out`, `cover_open`, `mute` (never answers), `drawer_jams`
(pulses ignored before the drawer opens).
"""

from __future__ import annotations

import asyncio
import codecs
from dataclasses import dataclass, field

from escpos.capabilities import get_profile

from hub.devices.sim.tcp import TcpDeviceSim


def _codepages() -> dict[int, str]:
    """Code page numbers (ESC t n) as python-escpos's default profile numbers them, to the
    Python codecs that decode them: the simulator reads what the library chose to send."""
    out = {}
    for name, number in get_profile("default").get_code_pages().items():
        try:
            out[int(number)] = codecs.lookup(name.replace("ISO_", "iso").replace("-", "_")).name
        except LookupError:
            continue
    return out


_CODEPAGES = _codepages()
# Commands with a fixed number of parameter bytes after ESC x / GS x.
_ESC_FIXED = {0x40: 0, 0x61: 1, 0x45: 1, 0x2D: 1, 0x21: 1, 0x74: 1, 0x64: 1, 0x4D: 1,
              0x47: 1, 0x7B: 1, 0x56: 1, 0x4A: 1, 0x32: 0, 0x33: 1, 0x52: 1, 0x20: 1,
              0x72: 1, 0x63: 2, 0x3D: 1, 0x4B: 1}
_GS_FIXED = {0x21: 1, 0x48: 1, 0x68: 1, 0x77: 1, 0x66: 1, 0x42: 1, 0x4C: 2, 0x57: 2,
             0x61: 1, 0x62: 1, 0x49: 1, 0x72: 1}
# GS k m: the symbology of each barcode type, function A (m 0-6) and function B (m 65-78).
_SYMBOLOGY = {0: "UPC-A", 1: "UPC-E", 2: "EAN13", 3: "EAN8", 4: "CODE39", 5: "ITF", 6: "NW7",
              65: "UPC-A", 66: "UPC-E", 67: "EAN13", 68: "EAN8", 69: "CODE39", 70: "ITF",
              71: "NW7", 72: "CODE93", 73: "CODE128", 74: "GS1-128",
              75: "GS1 DATABAR OMNIDIRECTIONAL", 76: "GS1 DATABAR TRUNCATED",
              77: "GS1 DATABAR LIMITED", 78: "GS1 DATABAR EXPANDED"}


def code128_data(raw: bytes) -> str:
    """What a Code 128 in `GS k 73` holds, as a scanner would read it: `{A` `{B` `{C` pick a
    code set (set C packs two digits in a byte), `{{` is a `{`; other `{x` functions
    (FNC1-4, shift) carry no data."""
    out, code_set, i = [], "B", 0
    while i < len(raw):
        byte = raw[i]
        if byte == 0x7B and i + 1 < len(raw):  # "{"
            nxt = chr(raw[i + 1])
            if nxt == "{":
                out.append("{")
            elif nxt in "ABC":
                code_set = nxt
            i += 2
            continue
        out.append(f"{byte:02d}" if code_set == "C" else chr(byte))
        i += 1
    return "".join(out)


@dataclass
class Printed:
    text: str
    qr: list[str] = field(default_factory=list)
    barcodes: list[tuple[str, str]] = field(default_factory=list)  # (symbology, data)


class EscPosDecoder:
    """Sans-IO: bytes in (any split), decoded text, QR codes, kicks and status asks out."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self.codepage = "cp437"
        self.lines: list[str] = []
        self._line = bytearray()
        self._parts: list[str] = []
        self.qr: list[str] = []
        self.barcodes: list[tuple[str, str]] = []
        self.receipts: list[Printed] = []
        self.kicks: list[tuple[int, int, int]] = []
        self.status_asks: list[int] = []
        self.unknown = 0

    def feed(self, data: bytes) -> None:
        self._buf += data
        while self._buf:
            used = self._step(self._buf)
            if used == 0:
                return  # a command is incomplete: wait for its remaining bytes
            del self._buf[:used]

    def _switch(self, codepage: str) -> None:
        # Bytes already on the line were sent in the old code page.
        self._parts.append(self._line.decode(self.codepage, "replace"))
        self._line.clear()
        self.codepage = codepage

    def _text(self) -> None:
        self.lines.append("".join(self._parts) + self._line.decode(self.codepage, "replace"))
        self._line.clear()
        self._parts.clear()

    def _step(self, b: bytearray) -> int:
        c = b[0]
        if c == 0x0A:
            self._text()
            return 1
        if c in (0x0D, 0x00):
            return 1
        if c == 0x10:  # DLE
            if len(b) < 3:
                return 0
            if b[1] == 0x04:
                self.status_asks.append(b[2])
                return 3
            if b[1] == 0x14:  # DLE DC4 fn m t: real-time pulse
                if len(b) < 5:
                    return 0
                self.kicks.append((2 if b[3] == 0 else 5, b[4] * 100, b[4] * 100))
                return 5
            self.unknown += 1
            return 2
        if c == 0x1B:  # ESC
            if len(b) < 2:
                return 0
            cmd = b[1]
            if cmd == 0x70:  # ESC p m t1 t2: drawer kick
                if len(b) < 5:
                    return 0
                pin = 2 if b[2] in (0, 0x30) else 5
                self.kicks.append((pin, b[3] * 2, b[4] * 2))
                return 5
            if cmd == 0x2A:  # ESC * m nL nH bit image
                if len(b) < 5:
                    return 0
                width = b[3] + 256 * b[4]
                size = 5 + width * (3 if b[2] in (32, 33) else 1)
                return size if len(b) >= size else 0
            n = _ESC_FIXED.get(cmd)
            if n is None:
                self.unknown += 1
                return 2
            if len(b) < 2 + n:
                return 0
            if cmd == 0x74:
                self._switch(_CODEPAGES.get(b[2], "cp437"))
            if cmd == 0x40:
                self._switch("cp437")
            if cmd == 0x64:
                for _ in range(b[2]):
                    self.lines.append("")
            return 2 + n
        if c == 0x1D:  # GS
            if len(b) < 2:
                return 0
            cmd = b[1]
            if cmd == 0x56:  # GS V m [n]: cut
                if len(b) < 3:
                    return 0
                size = 4 if b[2] in (65, 66, 97, 98, 103, 104) else 3
                if len(b) < size:
                    return 0
                self._cut()
                return size
            if cmd == 0x28:  # GS ( x pL pH data
                if len(b) < 5:
                    return 0
                size = 5 + b[3] + 256 * b[4]
                if len(b) < size:
                    return 0
                if b[2] == 0x6B and size >= 8 and b[5:8] == b"1P0":  # QR: store data
                    self.qr.append(bytes(b[8:size]).decode("latin-1"))
                return size
            if cmd == 0x76:  # GS v 0 m xL xH yL yH raster image
                if len(b) < 8:
                    return 0
                size = 8 + (b[4] + 256 * b[5]) * (b[6] + 256 * b[7])
                return size if len(b) >= size else 0
            if cmd == 0x6B:  # GS k barcode
                if len(b) < 3:
                    return 0
                symbology = _SYMBOLOGY.get(b[2], str(b[2]))
                if b[2] <= 6:
                    end = b.find(b"\x00", 3)
                    if end < 0:
                        return 0
                    self.barcodes.append((symbology, bytes(b[3:end]).decode("latin-1")))
                    return end + 1
                if len(b) < 4:
                    return 0
                size = 4 + b[3]
                if len(b) < size:
                    return 0
                raw = bytes(b[4:size])
                self.barcodes.append((symbology, code128_data(raw) if b[2] in (73, 74)
                                      else raw.decode("latin-1")))
                return size
            n = _GS_FIXED.get(cmd)
            if n is None:
                self.unknown += 1
                return 2
            return 2 + n if len(b) >= 2 + n else 0
        if c < 0x20 and c not in (0x09,):
            self.unknown += 1
            return 1
        self._line.append(c)
        return 1

    def _cut(self) -> None:
        if self._line or self._parts:
            self._text()
        self.receipts.append(Printed("\n".join(self.lines), list(self.qr),
                                     list(self.barcodes)))
        self.lines, self.qr, self.barcodes = [], [], []


class EscPosPrinterSim(TcpDeviceSim):
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host, port)
        self.decoder = EscPosDecoder()
        self.paper_out = False
        self.paper_low = False
        self.cover_open = False
        self.mute = False
        self.drawer_jams = 0
        self.drawer_is_open = False
        self.drawer_close_after: float | None = 2.0
        self._kicks_seen = 0
        self.status_answers = 0  # every status byte sent back: a test's sign of a check done

    @property
    def receipts(self) -> list[Printed]:
        return self.decoder.receipts

    def status_byte(self, n: int) -> int:
        b = 0x12
        if n == 1:
            b |= 0x04 if self.drawer_is_open else 0
            b |= 0x08 if (self.cover_open or self.paper_out) else 0
        elif n == 2:
            b |= 0x04 if self.cover_open else 0
            b |= 0x20 if self.paper_out else 0
        elif n == 4:
            b |= 0x60 if self.paper_out else 0x0C if self.paper_low else 0
        return b

    def close_drawer(self) -> None:
        self.drawer_is_open = False

    def received(self, data: bytes) -> bytes:
        if self.paper_out or self.cover_open:
            # Out of paper the printer still answers status, but prints nothing.
            dec = EscPosDecoder()
            dec.feed(data)
            asks = dec.status_asks
        else:
            before = len(self.decoder.status_asks)
            self.decoder.feed(data)
            asks = self.decoder.status_asks[before:]
            self._kicked()
        if self.mute:
            return b""
        self.status_answers += len(asks)
        return bytes(self.status_byte(n) for n in asks)

    def _kicked(self) -> None:
        for _ in self.decoder.kicks[self._kicks_seen:]:
            if self.drawer_jams > 0:
                self.drawer_jams -= 1
                continue
            self.drawer_is_open = True
            if self.drawer_close_after is not None:
                asyncio.get_running_loop().call_later(self.drawer_close_after, self.close_drawer)
        self._kicks_seen = len(self.decoder.kicks)
