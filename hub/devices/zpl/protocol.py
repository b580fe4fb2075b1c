"""ZPL, the part a jewelry tag uses: `^XA … ^XZ` labels, `^FO x,y` origins, `^FD … ^FS`
field data, `^BC` Code 128 and `^BX` DataMatrix barcodes, `^RFW,H` RFID EPC writes.

`parse_labels` is shared by the simulator (what did the printer get?) and the tag preview
in the UI (what will it print?), so both read the same bytes the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_CMD = re.compile(rb"[\^~]([A-Z@][A-Z0-9@]?)")


@dataclass
class Field:
    x: int
    y: int
    text: str
    kind: str = "text"  # text | code128 | datamatrix | rfid


@dataclass
class Label:
    fields: list[Field] = field(default_factory=list)
    rfid_writes: list[str] = field(default_factory=list)

    def texts(self) -> list[str]:
        return [f.text for f in self.fields if f.kind == "text"]


class ZplParser:
    """Sans-IO: feed bytes in any split; completed labels collect in `labels`."""

    def __init__(self, max_label: int = 64 * 1024) -> None:
        self._buf = bytearray()
        self.labels: list[Label] = []
        self.host_status_asks = 0
        self.max_label = max_label

    def feed(self, data: bytes) -> None:
        self._buf += data
        while True:
            hs = self._buf.find(b"~HS")
            start = self._buf.find(b"^XA")
            if hs >= 0 and (start < 0 or hs < start):
                self.host_status_asks += 1
                del self._buf[:hs + 3]
                continue
            if start < 0:
                keep = self._buf[-2:]  # a "^X" or "~H" split across reads
                self._buf = bytearray(keep)
                return
            end = self._buf.find(b"^XZ", start)
            if end < 0:
                if len(self._buf) - start > self.max_label:  # never ended: not a label
                    del self._buf[:start + 3]
                    continue
                del self._buf[:start]
                return
            self.labels.append(parse_label(bytes(self._buf[start + 3:end])))
            del self._buf[:end + 3]


def parse_label(body: bytes) -> Label:
    label = Label()
    x = y = 0
    kind = "text"
    pos = 0
    while True:
        m = _CMD.search(body, pos)
        if m is None:
            return label
        cmd = m.group(1).decode()
        # A command's parameters run to the next ^ or ~.
        nxt = _CMD.search(body, m.end())
        params_end = nxt.start() if nxt else len(body)
        params = body[m.end():params_end].decode("latin-1")
        if cmd == "FO":
            nums = [int(p) for p in params.split(",")[:2] if p.strip().isdigit()]
            x, y = (nums + [0, 0])[:2]
        elif cmd in ("BC", "BX"):
            kind = "code128" if cmd == "BC" else "datamatrix"
        elif cmd == "RF" and params.upper().startswith("W"):
            kind = "rfid"
        elif cmd == "FD":
            end = body.find(b"^FS", m.end())
            end = len(body) if end < 0 else end
            text = body[m.end():end].decode("utf-8", "replace")
            if kind == "rfid":
                label.rfid_writes.append(text)
            label.fields.append(Field(x, y, text, kind))
            kind = "text"
            pos = end
            continue
        pos = params_end
