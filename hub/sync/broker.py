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
        self.write_conf()
        self.proc = subprocess.Popen([MOSQUITTO, "-c", str(self.conf)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), \
                    socket.create_connection(("127.0.0.1", self.port), 0.2):
                return
            if self.proc.poll() is not None:
                log = self.workdir / "mosquitto.log"
                raise RuntimeError("mosquitto exited: "
                                   + (log.read_text() if log.exists() else "(no log)"))
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"mosquitto did not listen on 127.0.0.1:{self.port} within 10 s")

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
