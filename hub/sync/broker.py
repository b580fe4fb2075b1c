"""A local Mosquitto process on a free loopback port, for tests, benchmarks and demos.

`stop()` and `start()` keep the port and the persistence file, like a broker restart.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def available() -> bool:
    return os.path.exists(MOSQUITTO)


class Mosquitto:
    def __init__(self, workdir: Path, extra: str = "", port: int | None = None) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.conf = workdir / "mosquitto.conf"
        self.extra = extra  # listener and security lines; plain anonymous loopback by default
        self.proc: subprocess.Popen[bytes] | None = None
        workdir.mkdir(parents=True, exist_ok=True)

    def write_conf(self) -> None:
        listener = self.extra or f"listener {self.port} 127.0.0.1\nallow_anonymous true\n"
        # Run as root (CI containers), Mosquitto would drop to user "mosquitto", which
        # cannot read our temp files: stay as whoever runs us.
        me = "user root\n" if os.getuid() == 0 else ""
        self.conf.write_text(me + f"persistence true\npersistence_location {self.workdir}/\n"
                             f"log_dest file {self.workdir}/mosquitto.log\n"
                             "max_queued_messages 200000\nset_tcp_nodelay true\n" + listener)

    def start(self) -> None:
        # A free port can be taken by another process between our look and Mosquitto's bind
        # (parallel test runs): then our broker exits and another one answers on the port. We
        # are up only when *our* process logged its listener; otherwise try another port.
        for _ in range(5):
            if self._start_once():
                return
            if self.extra:  # the caller chose the listener: nothing else to try
                break
            self.port = free_port()
        raise RuntimeError(f"mosquitto did not listen on 127.0.0.1:{self.port}: "
                           + self._log_tail())

    def _start_once(self) -> bool:
        log = self.workdir / "mosquitto.log"
        log.unlink(missing_ok=True)
        self.write_conf()
        self.proc = subprocess.Popen([MOSQUITTO, "-c", str(self.conf)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            # A caller's own listener config may log less: there the connection must do.
            listening = bool(self.extra) or (log.exists()
                                             and "listen socket on port" in log.read_text())
            if listening:
                with contextlib.suppress(OSError), \
                        socket.create_connection(("127.0.0.1", self.port), 0.2):
                    if self.proc.poll() is None:
                        return True
            time.sleep(0.02)
        self.stop()
        return False

    def _log_tail(self) -> str:
        log = self.workdir / "mosquitto.log"
        return log.read_text()[-500:] if log.exists() else "(no log)"

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"
