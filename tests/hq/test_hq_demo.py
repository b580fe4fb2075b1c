"""`loupe hq demo` end to end: HQ on PostgreSQL with two workers, a bridged broker pair and
three demo stores come up from one command; the simulated web shop's reservation at Lyon is
collected on Lyon's hub (over its HTTP API, as its floor does) and HQ sees it collected; its
online order waits at Paris to be shipped."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from hub.hq import pgcluster
from hub.hq.demo import _ports
from hub.sync.broker import available
from hub.sync.enroll import HQKeys
from hub.sync.hq import open_hq


async def _until(cond, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for: {what}")
        await asyncio.sleep(0.2)


def _reservation(root: Path, rid: str) -> str | None:
    hq = open_hq(HQKeys.load(root / "hq"))
    try:
        rows = hq.storage.query("SELECT status FROM reservations WHERE reservation_id = ?",
                                (rid,))
        return rows[0]["status"] if rows else None
    finally:
        hq.storage.close()


@pytest.mark.skipif(not (available() and pgcluster.available()),
                    reason="needs mosquitto and postgresql (scripts/test installs them)")
async def test_the_chain_demo_runs_and_a_web_reservation_is_collected(tmp_path: Path):
    root = tmp_path / "chain"
    log = open(tmp_path / "demo.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "hub", "hq", "demo", "--dir", str(root), "--items", "12",
         "--clients", "4", "--sales", "3", "--port", "0", "--console-port", "0"],
        stdout=log, stderr=subprocess.STDOUT)
    try:
        await _until(lambda: (root / "demo.json").exists() or proc.poll() is not None,
                     "the chain up", 240)
        assert proc.poll() is None, (tmp_path / "demo.log").read_text()
        demo = json.loads((root / "demo.json").read_text())
        rid, console = demo["reservation_id"], demo["console_port"]
        lyon = demo["ports"]["lyon"]
        async with aiohttp.ClientSession(f"http://127.0.0.1:{lyon}",
                                         cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            async with http.post("/api/v1/session",
                                 json={"staff_id": "marc", "pin": "2222"}) as r:
                assert r.status == 200, await r.text()
                csrf = (await r.json())["csrf"]

            async def held() -> bool:
                async with http.get("/api/v1/sync/reservations") as r:
                    rows = (await r.json())["reservations"]
                return any(x["reservation_id"] == rid and x["status"] == "held" for x in rows)

            deadline = time.monotonic() + 60
            while not await held():  # HQ's message reached Lyon through the bridge
                assert time.monotonic() < deadline, "the reservation never reached Lyon"
                await asyncio.sleep(0.3)
            async with http.post(f"/api/v1/sync/reservations/{rid}/collect",
                                 json={"tenders": [{"type": "card", "amount": demo["price"],
                                                   "last4": "4242"}]},
                                 headers={"X-CSRF-Token": csrf}) as r:
                assert r.status == 201, await r.text()
                sale = await r.json()
            assert sale["lines"][0]["item_id"] == demo["item_id"]
        await _until(lambda: _reservation(root, rid) == "collected", "collected at HQ", 60)
        # The web shop's online order is waiting at Paris, its address with it.
        paris = demo["ports"]["paris"]
        async with aiohttp.ClientSession(f"http://127.0.0.1:{paris}",
                                         cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            async with http.post("/api/v1/session",
                                 json={"staff_id": "marc", "pin": "2222"}) as r:
                assert r.status == 200, await r.text()

            async def waiting() -> list:
                async with http.get("/api/v1/sync/orders?status=to_ship") as r:
                    return (await r.json())["orders"]

            deadline = time.monotonic() + 60
            while not (orders := await waiting()):
                assert time.monotonic() < deadline, "the online order never reached Paris"
                await asyncio.sleep(0.3)
            assert orders[0]["order_id"] == demo["order_id"]
            assert orders[0]["item_id"] == demo["order_item_id"]
            assert orders[0]["ship_to"]["city"] == "Bordeaux"
        # The console (HTTPS, HQ's CA) is up beside the workers.
        context = ssl.create_default_context(cafile=str(root / "hq" / "ca.pem"))
        async with aiohttp.ClientSession() as http, \
                http.get(f"https://127.0.0.1:{console}/signin", ssl=context) as r:
            assert r.status == 200
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_the_demo_picks_distinct_free_ports_and_refuses_a_taken_one():
    picked = _ports([0, 0, 0, 0])
    assert len(set(picked)) == 4 and all(p > 0 for p in picked)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        with pytest.raises(SystemExit, match=f"port {port} is in use"):
            _ports([0, port])
