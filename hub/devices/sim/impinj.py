"""An Impinj R700 speaking the IoT device interface over HTTP (aiohttp server).

REST: GET /api/v1/status, PUT /api/v1/profiles/inventory/presets/{id},
POST /api/v1/profiles/inventory/presets/{id}/start, POST /api/v1/profiles/stop;
GET /api/v1/data/stream streams NDJSON tag events while an inventory runs.

Knobs: `in_field` (the EPCs a counts test puts in front of the antennas, with `antenna_of`
to misplace some), `rate` (events per second), `foreign` tags from the shop next door,
RSSI noise and repeats (every tag is read again and again, as real readers do).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web


class _Field(set):
    """The EPCs in front of the antennas, also kept as a list to draw reads from: a reader
    streams ~1,000 reads/s while pieces leave the field with every sale, so a piece comes
    and goes in O(1) (swap-remove), never by re-sorting the field (8.2 ms at 40,000 tags,
    twenty times a second in the soak). The order is sorted when the field is set and then
    follows its changes, so a seed still gives the same reads."""

    def __init__(self, epcs: Iterable[str] = ()) -> None:
        super().__init__(epcs)
        self._reorder()

    def _reorder(self) -> None:
        self.order = sorted(self)
        self._index = {epc: i for i, epc in enumerate(self.order)}

    def add(self, epc: str) -> None:
        if epc not in self:
            super().add(epc)
            self._index[epc] = len(self.order)
            self.order.append(epc)

    def discard(self, epc: str) -> None:
        if epc in self:
            super().discard(epc)
            at, last = self._index.pop(epc), self.order.pop()
            if last != epc:
                self.order[at], self._index[last] = last, at

    def remove(self, epc: str) -> None:
        if epc not in self:
            raise KeyError(epc)
        self.discard(epc)

    def update(self, *others: Iterable[str]) -> None:
        for other in others:
            for epc in other:
                self.add(epc)

    def clear(self) -> None:
        super().clear()
        self._reorder()


class ImpinjSim:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, rate: float = 200,
                 seed: int = 7) -> None:
        self.host, self.port = host, port
        self.rate = rate
        self._field = _Field()
        self.antenna_of: dict[str, int] = {}
        self.antennas = [1]
        self.foreign: list[str] = ["E2801190A5021F80055817CA", "300833B2DDD9014000000001"]
        self.foreign_share = 0.05
        self.junk_lines = 0  # garbage lines to mix in, for fault tests
        self.running = False
        self.presets: dict[str, Any] = {}
        self.sent = 0
        self.rng = random.Random(seed)
        self._runner: web.AppRunner | None = None
        self._streams: set[web.StreamResponse] = set()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/api/v1/status", self._status)
        app.router.add_put("/api/v1/profiles/inventory/presets/{preset}", self._put_preset)
        app.router.add_post("/api/v1/profiles/inventory/presets/{preset}/start", self._start)
        app.router.add_post("/api/v1/profiles/stop", self._stop)
        app.router.add_get("/api/v1/data/stream", self._stream)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        """Pull the network cable: every stream ends, nothing answers."""
        for resp in list(self._streams):
            with contextlib.suppress(Exception):
                resp.force_close()
                if resp.task is not None:
                    resp.task.cancel()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        self.running = False

    async def _status(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "running" if self.running else "idle",
                                  "time": datetime.now(UTC).isoformat()})

    async def _put_preset(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"message": "body is not JSON"}, status=400)
        if not isinstance(body, dict) or not body.get("antennaConfigs"):
            return web.json_response({"message": "antennaConfigs required"}, status=400)
        self.presets[request.match_info["preset"]] = body
        self.antennas = [a["antennaPort"] for a in body["antennaConfigs"]]
        return web.Response(status=204)

    async def _start(self, request: web.Request) -> web.Response:
        if request.match_info["preset"] not in self.presets:
            return web.json_response({"message": "no such preset"}, status=404)
        self.running = True
        return web.Response(status=204)

    async def _stop(self, request: web.Request) -> web.Response:
        self.running = False
        return web.Response(status=204)

    def event(self, epc: str, antenna: int) -> bytes:
        now = datetime.now(UTC)
        ts = now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond:06d}123Z"
        rssi = -5500 + self.rng.randint(-800, 800)  # RSSI noise
        return (json.dumps({"timestamp": ts, "hostname": "impinj-sim",
                            "tagInventoryEvent": {"epcHex": epc, "antennaPort": antenna,
                                                  "peakRssiCdbm": rssi,
                                                  "transmitPowerCdbm": 2500}},
                           separators=(",", ":")) + "\n").encode()

    @property
    def in_field(self) -> _Field:
        return self._field

    @in_field.setter
    def in_field(self, epcs: set[str]) -> None:
        self._field = _Field(epcs)

    def next_read(self) -> bytes:
        tags = self._field.order
        if self.foreign and (not tags or self.rng.random() < self.foreign_share):
            epc = self.rng.choice(self.foreign)
        else:
            epc = self.rng.choice(tags)
        antenna = self.antenna_of.get(epc) or self.rng.choice(self.antennas)
        return self.event(epc, antenna)

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
        await resp.prepare(request)
        self._streams.add(resp)
        loop = asyncio.get_running_loop()
        last, carry = loop.time(), 0.0
        try:
            while True:
                await asyncio.sleep(0.01)
                now = loop.time()
                elapsed, last = now - last, now  # by the clock: sleeps overrun under load
                if not self.running or (not self.in_field and not self.foreign):
                    continue
                carry += self.rate * elapsed
                n, carry = int(carry), carry - int(carry)
                batch = b"".join(self.next_read() for _ in range(n))
                if self.junk_lines:
                    batch += b"{not json\n" * self.junk_lines
                    self.junk_lines = 0
                if batch:
                    await resp.write(batch)
                    self.sent += n
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._streams.discard(resp)
        return resp
