"""A TSL 1128 handheld on a pty: answers `.vr` and `.iv`, and `trigger()` presses."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

from hub.devices.framing import LineFramer
from hub.devices.sim.pty import PtyDevice


class TslSim(PtyDevice):
    def __init__(self, link: Path, seed: int = 1) -> None:
        super().__init__(link)
        self.in_field: set[str] = set()
        self.foreign = ["E2801190A5021F80055817CA"]
        self.rng = random.Random(seed)
        self._framer = LineFramer()
        self.asked: Counter[str] = Counter()  # commands answered, by name (".vr", ".iv")

    def on_bytes(self, data: bytes) -> None:
        for line in self._framer.feed(data):
            if isinstance(line, bytes):
                self.command(line.decode("ascii", "replace").strip())

    def _send(self, *lines: str) -> None:
        self.write("".join(f"{line}\r\n" for line in lines).encode("ascii"))

    def command(self, cmd: str) -> None:
        self.asked[cmd.split(" ")[0]] += 1
        if cmd.startswith(".vr"):
            self._send(f"CS: {cmd}", "MF: Technology Solutions UK Ltd", "US: 1128-BT-000123",
                       "AV: 2.4.0", "OK:")
        elif cmd.startswith(".iv") and " -x" in cmd:
            self._send(f"CS: {cmd}", "OK:")  # -x: store the parameters, take no action
        elif cmd.startswith(".iv"):
            self.inventory(cmd)
        else:
            self._send(f"CS: {cmd}", "ER: 001")

    def inventory(self, cmd: str = ".iv") -> None:
        lines = [f"CS: {cmd}"]
        for epc in sorted(self.in_field) + self.foreign:
            lines += [f"EP: {epc}", f"RI: {self.rng.randint(-75, -40)}"]
        self._send(*lines, "OK:")

    def trigger(self) -> None:
        self.inventory()
