"""A CD5220 pole display on a pty: shows what it was sent in `lines`."""

from __future__ import annotations

from pathlib import Path

from hub.devices.display.protocol import Cd5220Decoder
from hub.devices.sim.pty import PtyDevice


class PoleDisplaySim(PtyDevice):
    def __init__(self, link: Path) -> None:
        super().__init__(link)
        self.decoder = Cd5220Decoder()

    @property
    def lines(self) -> list[str]:
        return [line.rstrip() for line in self.decoder.lines]

    def on_bytes(self, data: bytes) -> None:
        self.decoder.feed(data)
