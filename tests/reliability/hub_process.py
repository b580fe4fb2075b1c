"""The real hub as its own process (`python -m hub run`), for the reliability suite and its
bench scripts: start it, wait until it serves, kill it, start it again. Shared by
`bench/crash.py`, `bench/faults.py` and tests/reliability (a module of its own: a module
named `conftest` is ambiguous when several test folders have one)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def add_registers(data_dir: Path, count: int) -> list[str]:
    """Registers R1..R<count> in the store's loupe.toml (a new store has R1 and R2): one per
    till that sells at once, each with its own cart and its own receipt numbers."""
    config = data_dir / "loupe.toml"
    text = config.read_text(encoding="utf-8")
    ids = [f"R{n}" for n in range(1, count + 1)]
    extra = "".join(f'\n[[registers]]\nid = "{r}"\nname = "Till {r}"\n' for r in ids
                    if f'id = "{r}"' not in text)
    config.write_text(text + extra, encoding="utf-8")
    return ids


class HubProcess:
    """`python -m hub run` on a data dir over plain HTTP on a free port. Its log goes to
    `<data_dir>/../hub-<port>.log` (appended across restarts: what a crash left is kept)."""

    def __init__(self, data_dir: Path, port: int | None = None,
                 log_level: str = "warning") -> None:
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.log_level = log_level
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = self.data_dir.parent / f"hub-{self.port}.log"
        self.starts = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> float:
        """Start the hub; returns the moment (perf_counter) it was asked to start."""
        assert self.proc is None or self.proc.poll() is not None, "the hub is running"
        log = open(self.log_path, "ab")  # the child writes it; ours is closed below
        try:
            started = time.perf_counter()
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "hub", "run", "--data-dir", str(self.data_dir),
                 "--host", "127.0.0.1", "--port", str(self.port), "--insecure-http",
                 "--no-zeroconf", "--log-level", self.log_level],
                stdout=log, stderr=log, cwd=ROOT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"})
        finally:
            log.close()
        self.starts += 1
        return started

    async def serving(self, timeout: float = 60.0) -> float:
        """Wait until /healthz answers 200; the moment (perf_counter) it first did. A bound
        on a hang, not a timing assertion: a hub that exits or never answers is an error
        naming its log."""
        deadline = time.perf_counter() + timeout
        async with aiohttp.ClientSession() as http:
            while True:
                if self.proc is None or self.proc.poll() is not None:
                    raise RuntimeError(f"the hub exited ({self.returncode}) before serving;"
                                       f" see {self.log_path}:\n{self.log_tail()}")
                try:
                    async with http.get(self.base + "/healthz",
                                        timeout=aiohttp.ClientTimeout(total=2)) as r:
                        if r.status == 200:
                            return time.perf_counter()
                except (TimeoutError, aiohttp.ClientError, OSError):
                    pass
                if time.perf_counter() > deadline:
                    raise RuntimeError(f"the hub did not serve within {timeout} s; see"
                                       f" {self.log_path}")
                await asyncio.sleep(0.01)

    async def start_serving(self, timeout: float = 60.0) -> float:
        """Start and wait: seconds from asking to serving."""
        started = self.start()
        return await self.serving(timeout) - started

    @property
    def returncode(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    def kill(self) -> None:
        """SIGKILL: no clean-up, no flush, what a power cut leaves."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(30)

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM and wait: a clean stop."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        return self.proc.returncode

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])
