"""Sans-IO framing shared by the line-oriented protocols (scanners, MT-SICS, TSL, NDJSON).

Bytes go in as they arrive, split anywhere; whole lines come out. A line longer than the
limit is reported once as an Overflow and skipped to its end, so a scanner stuck sending
10,000 characters cannot grow memory or wedge the parser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Overflow:
    length: int  # bytes dropped before the line ended


class LineFramer:
    def __init__(self, max_len: int = 256, terminators: bytes = b"\r\n") -> None:
        self.max_len = max_len
        self.terminators = terminators
        # Split with one C-level pass, not byte by byte in Python: a fixed RFID reader sends
        # about 200 kB/s of NDJSON, and a per-byte loop held the event loop for milliseconds.
        self._split = (re.compile(b"[" + b"".join(re.escape(bytes([t])) for t in terminators)
                                  + b"]").split if terminators else None)
        self._buf = bytearray()
        self._dropping = 0  # >0 while skipping the rest of an overlong line

    def feed(self, data: bytes) -> list[bytes | Overflow]:
        out: list[bytes | Overflow] = []
        segments = self._split(data) if self._split is not None else [data]
        for segment in segments[:-1]:  # each ended by a terminator
            self._take(segment)
            if self._dropping:
                out.append(Overflow(self._dropping))
                self._dropping = 0
            elif self._buf:  # CR LF and blank lines yield nothing
                out.append(bytes(self._buf))
            self._buf.clear()
        self._take(segments[-1])  # the start of a line still to come
        return out

    def _take(self, segment: bytes) -> None:
        if not segment:
            return
        if self._dropping:
            self._dropping += len(segment)
        elif len(self._buf) + len(segment) > self.max_len:
            self._dropping = len(self._buf) + len(segment)  # every byte of the line so far
            self._buf.clear()
        else:
            self._buf += segment


class StxFramer:
    """`STX payload CR` frames (Toledo 8217 replies, Zebra ~HS lines use STX…ETX)."""

    def __init__(self, max_len: int = 64, end: int = 0x0D) -> None:
        self.max_len, self.end = max_len, end
        self._buf: bytearray | None = None

    def feed(self, data: bytes) -> list[bytes | Overflow]:
        out: list[bytes | Overflow] = []
        for byte in data:
            if byte == 0x02:
                self._buf = bytearray()  # a new frame starts; a half frame is dropped
            elif self._buf is None:
                continue  # noise between frames
            elif byte == self.end:
                out.append(bytes(self._buf))
                self._buf = None
            elif len(self._buf) >= self.max_len:
                out.append(Overflow(len(self._buf)))
                self._buf = None
            else:
                self._buf.append(byte)
        return out
