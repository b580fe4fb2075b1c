"""CD5220 commands: `ESC @` initialise, `FF` clear, `ESC Q A text CR` upper line,
`ESC Q B text CR` lower line. Two lines of 20 characters; text in the display's code page."""

from __future__ import annotations

ESC = b"\x1b"
INIT = ESC + b"@"
CLEAR = b"\x0c"


# What a 20-column display shows for characters its code page lacks (a French price carries
# narrow no-break spaces and the euro sign; cp437 has neither).
_STAND_INS = {"\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u2019": "'", "\u2212": "-",
              "€": "EUR ", "…": "..."}


def fit(text: str, width: int = 20, codepage: str | None = None) -> str:
    """One display line: control characters out, stand-ins for what the code page cannot
    show, cut or padded to the width."""
    out = []
    for c in text:
        if not c.isprintable():
            c = " "
        if codepage is not None:
            try:
                c.encode(codepage)
            except UnicodeEncodeError:
                c = _STAND_INS.get(c, "?")
        out.append(c)
    return " ".join("".join(out).split(" ")).replace("  ", " ").strip()[:width].ljust(width)


def show_lines(top: str, bottom: str, *, width: int = 20, codepage: str = "cp437") -> bytes:
    def line(which: bytes, text: str) -> bytes:
        return ESC + b"Q" + which + fit(text, width, codepage).encode(codepage, "replace") \
            + b"\r"

    return CLEAR + line(b"A", top) + line(b"B", bottom)


class Cd5220Decoder:
    """Sans-IO decoder of what a CD5220 display receives (used by the simulator)."""

    def __init__(self, width: int = 20, codepage: str = "cp437") -> None:
        self.width, self.codepage = width, codepage
        self.lines = [" " * width, " " * width]
        self._buf = bytearray()
        self.unknown = 0

    def feed(self, data: bytes) -> None:
        self._buf += data
        while self._buf:
            used = self._step()
            if not used:
                return
            del self._buf[:used]

    def _step(self) -> int:
        b = self._buf
        if b[0] == 0x0C:
            self.lines = [" " * self.width, " " * self.width]
            return 1
        if b[0] != 0x1B:
            self.unknown += 1
            return 1
        if len(b) < 2:
            return 0
        if b[1] == ord("@"):
            self.lines = [" " * self.width, " " * self.width]
            return 2
        if b[1] == ord("Q"):
            if len(b) < 3:
                return 0
            end = b.find(b"\r", 3)
            if end < 0:
                if len(b) > 3 + 4 * self.width:  # no CR in sight: garbage, resync
                    self.unknown += 1
                    return 1
                return 0
            text = bytes(b[3:end]).decode(self.codepage, "replace")
            row = {ord("A"): 0, ord("B"): 1}.get(b[2])
            if row is None:
                self.unknown += 1
            else:
                self.lines[row] = text[:self.width].ljust(self.width)
            return end + 1
        self.unknown += 1
        return 2
