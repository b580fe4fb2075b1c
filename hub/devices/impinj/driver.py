"""Impinj R700: install and start an inventory preset over REST, then read the NDJSON
stream until it ends. `GET /status` is the health check; a stream that stops or a reader
that stops answering goes to retrying and the preset is started again on reconnect."""

from __future__ import annotations

import base64
from typing import Any

import aiohttp

from hub.devices.base import Device
from hub.devices.errors import DeviceFailed, LinkLost
from hub.devices.framing import LineFramer, Overflow
from hub.devices.impinj.protocol import API, EventError, inventory_preset, parse_event
from hub.devices.rfid import publish_read


class ImpinjReader(Device):
    kind = "rfid"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        host = self.spec.get("host")
        if not host:
            raise DeviceFailed("no `host` configured for the reader")
        scheme = self.spec.get("scheme", "http")
        self.base = f"{scheme}://{host}:{self.spec.get('port', 80)}"
        self.preset = str(self.spec.get("preset", "loupe"))
        self._session: aiohttp.ClientSession | None = None
        self.reads = 0
        self.skipped = 0
        self.bad_lines = 0
        self.last_problem: str | None = None

    async def connect(self) -> None:
        user, password = self.spec.get("user"), self.spec.get("password") or ""
        headers = {}
        if user:
            token = base64.b64encode(f"{user}:{password}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        self._session = aiohttp.ClientSession(
            headers=headers, timeout=aiohttp.ClientTimeout(total=None, connect=3, sock_read=None))
        antennas = sorted(int(a) for a in self.spec.get("antennas", {"1": None})) or [1]
        preset = inventory_preset(antennas, int(self.spec.get("power_cdbm", 2500)))
        await self._call("PUT", f"/profiles/inventory/presets/{self.preset}", json=preset)
        await self._call("POST", f"/profiles/inventory/presets/{self.preset}/start")

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        assert self._session is not None
        try:
            async with self._session.request(method, self.base + API + path,
                                             timeout=aiohttp.ClientTimeout(total=3),
                                             **kwargs) as resp:
                if resp.status == 401:
                    raise DeviceFailed("the reader refused the user name or password")
                if resp.status >= 400:
                    raise LinkLost(f"{method} {path}: HTTP {resp.status}"
                                   f" {(await resp.text())[:120]}")
                return await resp.json() if resp.content_type == "application/json" else None
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise LinkLost(f"{method} {path}: {exc or type(exc).__name__}") from None

    async def serve(self) -> None:
        assert self._session is not None
        framer = LineFramer(max_len=4096, terminators=b"\n")
        try:
            async with self._session.get(self.base + API + "/data/stream") as resp:
                if resp.status != 200:
                    raise LinkLost(f"event stream: HTTP {resp.status}")
                async for chunk in resp.content.iter_any():
                    for line in framer.feed(chunk):
                        self._line(line)
        except (aiohttp.ClientError, OSError) as exc:
            raise LinkLost(f"event stream: {exc or type(exc).__name__}") from None
        raise LinkLost("the reader ended the event stream")

    def _line(self, line: bytes | Overflow) -> None:
        if isinstance(line, Overflow):
            self.bad_lines += 1
            self.last_problem = f"dropped a {line.length}-byte event"
            return
        try:
            read = parse_event(line)
        except EventError as exc:
            self.bad_lines += 1
            self.last_problem = str(exc)
            return
        if read is not None:
            publish_read(self, read.epc, antenna=read.antenna, rssi_cdbm=read.rssi_cdbm,
                         ts=read.ts)

    async def check(self) -> bool:
        status = await self._call("GET", "/status")
        return isinstance(status, dict)

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            try:
                async with session.post(self.base + API + "/profiles/stop",
                                        timeout=aiohttp.ClientTimeout(total=1)):
                    pass
            except (aiohttp.ClientError, TimeoutError, OSError):
                pass
            await session.close()

    def info(self) -> dict[str, Any]:
        return {"reads": self.reads, "skipped_epcs": self.skipped, "bad_lines": self.bad_lines,
                "last_problem": self.last_problem}
