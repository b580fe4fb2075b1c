"""The customer display: welcome, the piece and running total, thank-you."""

from __future__ import annotations

from typing import Any

from hub.devices.display.protocol import INIT, show_lines
from hub.devices.stream import StreamDevice


class PoleDisplay(StreamDevice):
    kind = "display"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.width = int(self.spec.get("columns", 20))
        self.codepage = str(self.spec.get("codepage", "cp437"))
        messages = self.spec.get("messages", {})
        self.welcome = (messages.get("welcome_top", "Welcome"),
                        messages.get("welcome_bottom", ""))
        self.shown = self.welcome

    async def on_connected(self) -> None:
        # After a replug the display is blank: show again what it should be showing.
        await self.send(INIT + show_lines(*self.shown, width=self.width, codepage=self.codepage))

    def on_bytes(self, data: bytes) -> None:
        pass  # a CD5220 display never answers

    async def show(self, top: str, bottom: str = "") -> None:
        self.shown = (top, bottom)
        self.require_connected()
        await self.send(show_lines(top, bottom, width=self.width, codepage=self.codepage))

    def info(self) -> dict[str, Any]:
        return {**super().info(), "lines": list(self.shown)}
