"""Scale simulators on a pty: an MT-SICS balance and a Toledo 8217-mode scale."""

from __future__ import annotations

from pathlib import Path

from hub.devices.framing import LineFramer
from hub.devices.sim.pty import PtyDevice


class MtSicsSim(PtyDevice):
    """Holds a weight in `grams_text` (e.g. "12.345") and answers S, SI, Z, T, @."""

    def __init__(self, link: Path, unit: str = "g") -> None:
        super().__init__(link)
        self.unit = unit
        self.net = "0.000"
        self.tare_value = "0.000"
        self.stable = True
        self.overload = False
        self.garble = False  # answer with noise, as a wrong baud rate does
        self.mute = False
        self._framer = LineFramer()

    def place(self, weight: str, stable: bool = True) -> None:
        self.net, self.stable = weight, stable

    def on_bytes(self, data: bytes) -> None:
        for line in self._framer.feed(data):
            if self.mute or not isinstance(line, bytes):
                continue
            if self.garble:
                self.write(b"\xf3\x9a\x11\xfe\r\n")
                continue
            self.write(self.reply(line.decode("ascii", "replace").strip()) + b"\r\n")

    def reply(self, cmd: str) -> bytes:
        if cmd in ("S", "SI"):
            if self.overload:
                return b"S +"
            if cmd == "S" and not self.stable:
                return b"S I"
            flag = "S" if self.stable else "D"
            return f"S {flag} {self.net:>10} {self.unit}".encode()
        if cmd == "Z":
            self.net = "0.000"
            return b"Z A"
        if cmd == "T":
            self.tare_value, self.net = self.net, "0.000"
            return f"T S {self.tare_value:>10} {self.unit}".encode()
        if cmd == "@":
            return b'I4 A "0123456789"'
        return b"ES"


class Toledo8217Sim(PtyDevice):
    """Answers `W` with STX weight CR; `motion` and `over` give the `?` status frame."""

    def __init__(self, link: Path) -> None:
        super().__init__(link)
        self.weight = "000.000"
        self.motion = False
        self.over = False

    def on_bytes(self, data: bytes) -> None:
        for byte in data:
            if byte == ord("W"):
                if self.motion or self.over:
                    status = (1 if self.motion else 0) | (2 if self.over else 0)
                    self.write(b"\x02?" + bytes([0x20 | status]) + b"\r")
                else:
                    self.write(b"\x02" + self.weight.encode() + b"\r")
            elif byte == ord("Z"):
                self.weight = "000.000"
