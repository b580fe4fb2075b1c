"""Scale drivers: poll for the weight (the poll doubles as the health check) and publish
`device.weight` when it changes, so the item form sees a live, stable weight."""

from __future__ import annotations

from typing import Any

from hub.devices.errors import DeviceError
from hub.devices.framing import LineFramer, Overflow, StxFramer
from hub.devices.scale.protocol import Reading, ScaleError, parse_8217, parse_sics
from hub.devices.stream import StreamDevice


class _Scale(StreamDevice):
    kind = "scale"
    poll_command = b""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.check_interval = float(self.spec.get("poll_interval", self.check_interval))
        self.reading: Reading | None = None
        self.framer: LineFramer | StxFramer = LineFramer(max_len=80)

    def parse(self, frame: bytes) -> Reading | str:
        raise NotImplementedError

    def on_bytes(self, data: bytes) -> None:
        for frame in self.framer.feed(data):
            if isinstance(frame, Overflow):
                self.problem(f"dropped a {frame.length}-byte reply: wrong baud rate?")
            else:
                self.answer(frame)

    async def check(self) -> bool:
        frame = await self.ask(self.poll_command)
        try:
            reading = self.parse(frame)
        except ScaleError as exc:
            self.problem(str(exc))
            return True  # it answered: alive, even if the answer is "overload"
        if isinstance(reading, Reading) and reading != self.reading:
            self.reading = reading
            self.publish("device.weight", device=self.id, register=self.register,
                         milligrams=reading.milligrams, stable=reading.stable,
                         unit=reading.unit)
        return True

    def info(self) -> dict[str, Any]:
        r = self.reading
        return {**super().info(), "milligrams": r.milligrams if r else None,
                "stable": r.stable if r else None}


class MtSicsScale(_Scale):
    poll_command = b"SI\r\n"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.framer = LineFramer(max_len=80)

    async def on_connected(self) -> None:
        self.framer = LineFramer(max_len=80)

    def parse(self, frame: bytes) -> Reading | str:
        return parse_sics(frame)

    async def _command(self, command: bytes, expect: str) -> None:
        self.require_connected()
        reply = parse_sics(await self.ask(command, timeout=float(self.spec.get("zero_timeout",
                                                                              3.0))))
        if reply != expect:
            raise DeviceError(f"unexpected reply to {command.strip().decode()}: {reply!r}")

    async def zero(self) -> None:
        await self._command(b"Z\r\n", "Z")


class Toledo8217Scale(_Scale):
    poll_command = b"W"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.unit = str(self.spec.get("unit", "kg"))
        self.framer = StxFramer()

    async def on_connected(self) -> None:
        self.framer = StxFramer()

    def parse(self, frame: bytes) -> Reading | str:
        return parse_8217(frame, self.unit)

    async def zero(self) -> None:
        self.require_connected()
        await self.send(b"Z")
