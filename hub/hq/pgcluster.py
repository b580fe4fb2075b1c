"""A private PostgreSQL cluster in a directory: for the tests' HQ and for a demo.

`initdb -A trust` makes the cluster in `dir`; it listens on a free loopback port with its
Unix socket in the same dir, so it never meets the machine's own server. PostgreSQL refuses to
run as root: as root, the dir is given to the `postgres` user and every command runs as it
(`runuser -u postgres`).

    cluster = PgCluster(tmp / "pg")
    cluster.start()                      # initdb on first use, then pg_ctl start
    url = cluster.createdb("hq")         # postgresql://postgres@127.0.0.1:PORT/hq
    cluster.restart()                    # pg_ctl restart (a fault in a test)
    cluster.stop()
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
from pathlib import Path


class PgClusterError(RuntimeError):
    """PostgreSQL's binaries are missing or a cluster command failed (its output included)."""


def bin_dir() -> Path | None:
    """Where initdb and pg_ctl are: `pg_config --bindir`, else Debian's versioned dir."""
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        found = Path(out.stdout.strip())
        if out.returncode == 0 and (found / "pg_ctl").exists():
            return found
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    return None


def available() -> bool:
    return bin_dir() is not None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgCluster:
    """One PostgreSQL cluster owned by this process: start, databases, restart, stop."""

    USER = "postgres"  # the cluster's superuser (initdb -U), whoever runs it

    def __init__(self, directory: Path, port: int | None = None) -> None:
        found = bin_dir()
        if found is None:
            raise PgClusterError("PostgreSQL is not installed (Debian package `postgresql`)")
        self.bin = found
        self.dir = Path(directory).resolve()
        self.data = self.dir / "data"
        self.port = port or _free_port()
        self.as_root = os.getuid() == 0

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bin / args[0]), *args[1:]]
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, cwd="/")
        if check and done.returncode != 0:
            raise PgClusterError(f"{args[0]} failed: {(done.stderr or done.stdout).strip()}")
        return done

    def init(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        if self.as_root:
            shutil.chown(self.dir, "postgres", "postgres")
            # postgres must reach its dir: a private temp dir (0700, root's) above it lets
            # it pass (o+x), without letting anyone list it.
            for parent in self.dir.parents:
                mode = parent.stat().st_mode
                if not mode & 0o001:
                    parent.chmod(mode | 0o001)
        if not (self.data / "PG_VERSION").exists():
            self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", self.USER,
                      "-E", "UTF8", "--no-sync")

    def start(self) -> None:
        """Initialise on first use, then start on the loopback port (waits until ready)."""
        self.init()
        # fsync off: a test cluster trades durability for speed; a restart stays clean.
        opts = (f"-p {self.port} -k {self.dir} -h 127.0.0.1 -c fsync=off"
                " -c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        self._run("pg_ctl", "-D", str(self.data), "-o", opts, "-l",
                  str(self.dir / "postgres.log"), "-w", "start")

    def restart(self) -> None:
        """Stop (-m fast: every open connection is cut) and start again, as a server's
        restart. (Not `pg_ctl restart`: without `-l` the new server would keep our pipe.)"""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        self.start()

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop", check=False)

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{self.USER}@127.0.0.1:{self.port}/{dbname}"

    def createdb(self, name: str, template: str | None = None) -> str:
        """A new database (from `template` when given: a copy, fast); returns its URL."""
        args = ["createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", self.USER]
        if template:
            args += ["-T", template]
        self._run(*args, name)
        return self.url(name)

    def dropdb(self, name: str) -> None:
        self._run("dropdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", self.USER,
                  "--if-exists", "--force", name, check=False)

    def __enter__(self) -> PgCluster:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
