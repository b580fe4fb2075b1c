"""What the hub tells systemd, heard on a real notify socket: READY once the hub serves, the
watchdog's heartbeat from the event loop (none while the loop is blocked: that is what gets
a hung hub restarted), a STATUS line, STOPPING on SIGTERM; nothing at all outside systemd."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from hub import systemd
from hub.bus import EventBus
from hub.cli import main
from hub.runtime import Options, Runtime


@pytest.fixture
def notify_socket(tmp_path):
    path = tmp_path / "notify"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    yield str(path), sock
    sock.close()


def _drain(sock: socket.socket) -> list[str]:
    sock.setblocking(False)
    out = []
    while True:
        try:
            out.append(sock.recv(4096).decode())
        except BlockingIOError:
            return out


def _wait_for(sock: socket.socket, wanted: str, timeout: float = 30) -> list[str]:
    sock.settimeout(timeout)
    heard = []
    while not any(m.startswith(wanted) for m in heard):
        sock.setblocking(True)
        sock.settimeout(timeout)
        heard.append(sock.recv(4096).decode())
    return heard


async def test_ready_heartbeat_status_and_stopping(store, notify_socket, monkeypatch):
    path, sock = notify_socket
    runtime = Runtime(store.config, store, EventBus(), Options())
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    monkeypatch.setenv("WATCHDOG_USEC", "100000")
    told = systemd.Systemd()
    assert told.watchdog_s == 0.05
    async with systemd.told(runtime, told) as stopping:
        await asyncio.to_thread(_wait_for, sock, "WATCHDOG=1")
        await asyncio.sleep(0.2)
        heard = _drain(sock)
        assert heard.count("WATCHDOG=1") >= 2
        time.sleep(0.5)  # the event loop blocked, as a hung hub's would be
        assert "WATCHDOG=1" not in _drain(sock)  # so systemd hears no heartbeat
        await asyncio.sleep(0.2)
        assert "WATCHDOG=1" in _drain(sock)  # and hears it again once the loop runs
        stopping()
    heard = _drain(sock)
    assert heard.count("STOPPING=1") == 1  # said once, early, not again on the way out


async def test_the_first_words_are_ready_then_a_status(store, notify_socket, monkeypatch):
    path, sock = notify_socket
    runtime = Runtime(store.config, store, EventBus(), Options())
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    async with systemd.told(runtime):
        heard = await asyncio.to_thread(_wait_for, sock, "STATUS=")
    assert heard[0] == "READY=1"
    assert heard[1] == f"STATUS=seq {store.ledger.seq}"


def test_outside_systemd_nothing_is_sent(monkeypatch):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    quiet = systemd.Systemd()
    assert not quiet.enabled and quiet.watchdog_s is None
    monkeypatch.setenv("NOTIFY_SOCKET", "/x")
    monkeypatch.setenv("WATCHDOG_USEC", "30000000")
    monkeypatch.setenv("WATCHDOG_PID", "1")
    assert systemd.Systemd().watchdog_s is None  # another process's watchdog


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_loupe_run_is_ready_when_it_serves(tmp_path, notify_socket, capsys):
    path, sock = notify_socket
    data_dir = tmp_path / "store"
    assert main(["init", "--data-dir", str(data_dir), "--store-id", "paris-01",
                 "--store-name", "Maison Paris", "--currency", "EUR"]) == 0
    capsys.readouterr()
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "hub", "run", "--data-dir", str(data_dir), "--host", "127.0.0.1",
         "--port", str(port), "--insecure-http", "--no-zeroconf"],
        stderr=subprocess.DEVNULL,
        env={**os.environ, "NOTIFY_SOCKET": path, "WATCHDOG_USEC": "2000000"})
    try:
        heard = _wait_for(sock, "READY=1")
        assert heard == ["READY=1"]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/signin", timeout=10) as r:
            assert r.status == 200  # ready means serving
        _wait_for(sock, "WATCHDOG=1")
        proc.send_signal(signal.SIGTERM)
        assert "STOPPING=1" in _wait_for(sock, "STOPPING=1")
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not here")
def test_the_unit_is_hardened(tmp_path):
    """`systemd-analyze security` scores the unit as shipped (docs/operations.md keeps the
    figure): the hardening stays, and every directive is one systemd knows."""
    unit = Path(__file__).parents[2] / "systemd" / "loupe.service"
    copy = tmp_path / "loupe.service"
    copy.write_text(unit.read_text())
    out = subprocess.run(["systemd-analyze", "security", "--offline=true", str(copy)],
                         capture_output=True, text=True, timeout=60)
    score = re.search(r"Overall exposure level for loupe.service: ([0-9.]+)", out.stdout)
    assert score is not None, out.stdout + out.stderr
    assert float(score.group(1)) <= 2.0
    assert "Unknown key" not in out.stderr and "Unknown lvalue" not in out.stderr, out.stderr
    text = unit.read_text()
    assert "Type=notify" in text and "WatchdogSec=" in text
