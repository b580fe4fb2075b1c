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
from dataclasses import dataclass
from pathlib import Path

from hub.sync.settings import TlsFiles

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def available() -> bool:
    return os.path.exists(MOSQUITTO)


class Mosquitto:
    def __init__(self, workdir: Path, extra: str = "", port: int | None = None,
                 bridge_to: Bridge | None = None) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.conf = workdir / "mosquitto.conf"
        self.extra = extra  # listener and security lines; plain anonymous loopback by default
        self.proc: subprocess.Popen[bytes] | None = None
        self.bridge_to = bridge_to  # a regional broker: its link to the central one
        workdir.mkdir(parents=True, exist_ok=True)

    def write_conf(self) -> None:
        listener = self.extra or f"listener {self.port} 127.0.0.1\nallow_anonymous true\n"
        # Run as root (CI containers), Mosquitto would drop to user "mosquitto", which
        # cannot read our temp files: stay as whoever runs us.
        me = "user root\n" if os.getuid() == 0 else ""
        self.conf.write_text(me + f"persistence true\npersistence_location {self.workdir}/\n"
                             f"log_dest file {self.workdir}/mosquitto.log\n"
                             "max_queued_messages 200000\nset_tcp_nodelay true\n" + listener
                             # Last: every line after `connection` belongs to the bridge.
                             + (self.bridge_to.section() if self.bridge_to else ""))

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


# What a regional broker passes up to the central one (the stores' side) and down (HQ's side),
# as in deploy/mosquitto/bridge.conf (tests/sync/test_sync_bridge.py keeps the two the same).
BRIDGE_OUT = ("journal", "hello", "status", "backup")
BRIDGE_IN = ("ack", "inbox", "restore")


@dataclass(frozen=True)
class Bridge:
    """A regional broker's link to the central one where HQ connects, in the shape of
    deploy/mosquitto/bridge.conf. `cleansession false` keeps the link's sessions on both sides,
    so what is published while the link is down waits in a queue instead of being dropped."""

    central: Mosquitto | str  # the central broker, or its host:port (a relay's, in tests)
    chain: str
    region: str = "region"
    tls: TlsFiles | None = None  # the link's client certificate (CN bridge-<region>)
    restart_s: int = 1  # a test or a demo wants the link back soon after a cut

    @property
    def address(self) -> str:
        return self.central if isinstance(self.central, str) else f"127.0.0.1:{self.central.port}"

    def section(self) -> str:
        lines = ["connection central", f"address {self.address}",
                 "bridge_protocol_version mqttv311", "cleansession false",
                 f"remote_clientid bridge-{self.region}", f"local_clientid bridge-{self.region}-local",
                 f"restart_timeout {self.restart_s}", "keepalive_interval 30",
                 "notifications_local_only true"]
        if self.tls is not None:
            lines += [f"bridge_cafile {self.tls.ca}", f"bridge_certfile {self.tls.cert}",
                      f"bridge_keyfile {self.tls.key}", "bridge_tls_version tlsv1.2"]
        lines += [f"topic loupe/{self.chain}/+/{leaf} out 1" for leaf in BRIDGE_OUT]
        lines += [f"topic loupe/{self.chain}/+/{leaf} in 1" for leaf in BRIDGE_IN]
        lines.append(f"topic loupe/{self.chain}/all/inbox in 1")
        return "\n".join(lines) + "\n"
