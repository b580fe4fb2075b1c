"""TSL handheld: inventory on request or on the trigger, `.vr` as the health check."""

from __future__ import annotations

from typing import Any

from hub.devices.framing import LineFramer, Overflow
from hub.devices.rfid import publish_read
from hub.devices.stream import StreamDevice
from hub.devices.tsl.protocol import ReplyAssembler


class TslHandheld(StreamDevice):
    kind = "rfid"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.inventory_command = str(self.spec.get("inventory_command", ".iv"))
        self.framer = LineFramer(max_len=512)
        self.assembler = ReplyAssembler()
        self.reads = 0
        self.skipped = 0

    async def on_connected(self) -> None:
        self.framer, self.assembler = LineFramer(max_len=512), ReplyAssembler()
        for command in self.spec.get("init", []):
            await self.send(command.encode("ascii") + b"\r\n")

    def on_bytes(self, data: bytes) -> None:
        for line in self.framer.feed(data):
            if isinstance(line, Overflow):
                self.problem(f"dropped a {line.length}-byte line")
                continue
            reply = self.assembler.line(line)
            if reply is None:
                continue
            if reply.command.startswith(".iv") or reply.command == "" and reply.tags():
                for epc, rssi in reply.tags():
                    publish_read(self, epc, antenna=None,
                                 rssi_cdbm=rssi * 100 if rssi is not None else None)
                if reply.error:
                    self.problem(f"inventory error {reply.error}")
                if reply.cut:
                    self.problem(f"inventory reply too long: {reply.cut} lines dropped"
                                 " (sweep the location in parts)")
            else:
                self.answer(line if reply.ok else b"ER:" + (reply.error or "").encode())

    async def check(self) -> bool:
        answer = await self.ask(b".vr\r\n")
        return not answer.startswith(b"ER:")

    async def inventory(self) -> None:
        """A sweep, as if the trigger were pulled; the reads arrive as `device.rfid.read`."""
        self.require_connected()
        await self.send(self.inventory_command.encode("ascii") + b"\r\n")

    def info(self) -> dict[str, Any]:
        return {**super().info(), "reads": self.reads, "skipped_epcs": self.skipped}


