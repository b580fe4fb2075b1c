"""`loupe doctor`: the box checked and explained on one screen, for a boutique with no IT
staff and for the monitoring that watches it. Each check says what it found in words, and
when something is wrong, the command or the step that fixes it. Nothing is written.

The exit code is the monitoring convention: 0 all well, 1 a warning (look soon), 2 a
problem (look now).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509

from hub import layers
from hub.backup.archive import last_backup
from hub.backup.settings import read_settings as backup_settings
from hub.config import Config, ConfigError
from hub.control import ControlError
from hub.devices.cli import running_states
from hub.ledger.keys import is_protected
from hub.ledger.ledger import verify_database
from hub.sync.model import Enrollment
from hub.sync.settings import Broker, read_settings
from hub.web.tls import ca_cert_path, web_dir

OK, WARNING, PROBLEM = 0, 1, 2
WORDS = {OK: "ok", WARNING: "warning", PROBLEM: "PROBLEM"}
DISK_WARN_FREE = 0.10  # of the data dir's file system
DISK_PROBLEM_BYTES = 256 * 1024 * 1024  # below this a busy day may not fit
MEMORY_WARN_BYTES = 128 * 1024 * 1024
CERT_WARN_DAYS = 30


@dataclass(frozen=True)
class Finding:
    level: int
    what: str     # the thing checked, in two or three words
    said: str     # what was found, a sentence
    fix: str = ""  # the command or the step that fixes it (when not ok)


def _key_file(config: Config) -> Iterator[Finding]:
    path = config.master_key_file
    try:
        st = path.stat()
    except FileNotFoundError:
        yield Finding(PROBLEM, "master key", f"{path} is missing: the books cannot be read",
                      "put the store's key back from its safe copy (docs/operations.md)")
        return
    mode = stat.S_IMODE(st.st_mode)
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        yield Finding(PROBLEM, "master key", f"{path} is readable by others (mode {mode:04o})",
                      f"chmod 600 {path}")
    elif st.st_uid != os.getuid():
        yield Finding(WARNING, "master key", f"{path} belongs to another user (uid {st.st_uid})",
                      f"chown $(id -u) {path}, or run as the hub's user")
    else:
        under = ", under a passphrase" if is_protected(path) else ""
        yield Finding(OK, "master key", f"{path}: only its owner may read it{under}")


def _disk(config: Config) -> Iterator[Finding]:
    usage = shutil.disk_usage(config.data_dir)
    free = usage.free / usage.total if usage.total else 1.0
    said = (f"{usage.free / 2**30:.1f} GB free of {usage.total / 2**30:.1f} GB"
            f" ({free:.0%}) where the books are")
    if usage.free < DISK_PROBLEM_BYTES:
        yield Finding(PROBLEM, "disk space", said, "free space on this disk now: the next sale"
                      " may not be recorded (old logs, exports, backups on the card)")
    elif free < DISK_WARN_FREE:
        yield Finding(WARNING, "disk space", said, "free space on this disk soon")
    else:
        yield Finding(OK, "disk space", said)
    yield from _wear(config.data_dir)


def _wear(data_dir: Path) -> Iterator[Finding]:
    """An SD card or eMMC's own wear estimate, where the kernel shows one
    (`life_time`: 0x01 = 0-10 % used ... 0x0b = past its life)."""
    for device in sorted(Path("/sys/block").glob("mmcblk*")):
        life = device / "device" / "life_time"
        if not life.exists():
            continue
        try:
            worst = max(int(v, 16) for v in life.read_text().split())
        except (OSError, ValueError):
            continue
        used = "past its rated life" if worst >= 0x0B else f"{(worst - 1) * 10}-{worst * 10} %"
        level = PROBLEM if worst >= 0x0A else WARNING if worst >= 0x08 else OK
        yield Finding(level, "card wear", f"{device.name}: {used} of its rated writes used",
                      "" if level == OK else "replace the card: make a backup and restore it"
                      " on a new one (docs/operations.md)")
        return
    yield Finding(OK, "card wear", "this storage reports no wear figure (not an SD card or"
                  " eMMC, or one that does not say)")


def _memory() -> Iterator[Finding]:
    try:
        info = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
        available = int(info["MemAvailable"].split()[0]) * 1024
        total = int(info["MemTotal"].split()[0]) * 1024
    except (OSError, KeyError, ValueError):
        yield Finding(OK, "memory", "this system does not say how much memory is free")
        return
    said = f"{available / 2**20:.0f} MB available of {total / 2**20:.0f} MB"
    if available < MEMORY_WARN_BYTES:
        yield Finding(WARNING, "memory", said, "stop what else runs on the box, or restart it")
    else:
        yield Finding(OK, "memory", said)


def _books(config: Config) -> Iterator[Finding]:
    if not config.db_path.exists():
        yield Finding(PROBLEM, "books", f"{config.db_path} is missing",
                      "restore the store's last backup (docs/operations.md)")
        return
    conn = sqlite3.connect(f"file:{config.db_path}?mode=ro", uri=True)
    try:
        versions = dict(conn.execute("SELECT area, version FROM schema_versions").fetchall())
    except sqlite3.Error as exc:
        yield Finding(PROBLEM, "books", f"{config.db_path} cannot be read: {exc}",
                      "restore the store's last backup (docs/operations.md)")
        return
    finally:
        conn.close()
    known = layers.schemas(layers.areas())
    newer = [s.area for s in known if versions.get(s.area, 0) > s.latest]
    older = [s.area for s in known if versions.get(s.area, 0) < s.latest]
    if newer:
        yield Finding(PROBLEM, "schema", "the books were written by a newer Loupe"
                      f" ({', '.join(newer)}): this one cannot open them",
                      "install the Loupe version that wrote them")
    elif older:
        yield Finding(WARNING, "schema", f"{len(older)} areas will be migrated at the next"
                      f" start ({', '.join(older[:4])}{'…' if len(older) > 4 else ''})",
                      "loupe run (it migrates, then serves)")
    else:
        yield Finding(OK, "schema", f"every area's tables are current ({len(known)} areas)")
    verdict = verify_database(config.db_path, config.store_id)
    if verdict.ok:
        yield Finding(OK, "journal", f"the chain verifies: {verdict.count} entries")
    else:
        yield Finding(PROBLEM, "journal", f"the chain does not verify: {verdict}",
                      "loupe ledger verify --data-dir … (names the entry), then call support")


def _certificate(what: str, path: Path, now: datetime) -> Iterator[Finding]:
    if not path.exists():
        return
    try:
        cert = x509.load_pem_x509_certificate(path.read_bytes())
    except ValueError:
        yield Finding(PROBLEM, what, f"{path} is not a certificate", "remove it and restart"
                      " the hub (it makes a new one)")
        return
    days = (cert.not_valid_after_utc - now).days
    if days < 0:
        yield Finding(PROBLEM, what, f"expired {-days} days ago ({path.name})",
                      f"remove {path} and restart the hub: it makes a new one")
    elif days < CERT_WARN_DAYS:
        yield Finding(WARNING, what, f"expires in {days} days ({path.name})",
                      f"remove {path} and restart the hub before then")
    else:
        yield Finding(OK, what, f"valid for {days} more days")


def _certificates(config: Config, hq: Hq, now: datetime) -> Iterator[Finding]:
    yield from _certificate("store CA", ca_cert_path(config.data_dir), now)
    yield from _certificate("server certificate", web_dir(config.data_dir) / "server.crt", now)
    if hq.client_cert is not None:
        yield from _certificate("HQ client certificate", hq.client_cert, now)


@dataclass(frozen=True)
class Hq:
    """Where HQ is, as the books and `[sync]` say (None: not enrolled)."""

    broker: Broker | None = None
    client_cert: Path | None = None
    clock: dict[str, Any] | None = None  # this box's clock less HQ's, as HQ's last ack said


def hq_of(config: Config) -> Hq:
    settings = read_settings(config.section("sync"))
    try:
        conn = sqlite3.connect(f"file:{config.db_path}?mode=ro", uri=True)
        try:
            state = dict(conn.execute("SELECT key, value FROM sync_state WHERE key IN"
                                      " ('enrollment', 'hq_clock')").fetchall())
        finally:
            conn.close()
    except sqlite3.Error:
        state = {}
    if "enrollment" not in state:
        return Hq(settings.broker)
    enrollment = Enrollment.from_json(state["enrollment"])
    tls = enrollment.tls()
    clock = json.loads(state["hq_clock"]) if "hq_clock" in state else None
    return Hq(settings.broker or Broker.parse(enrollment.broker, "enrollment broker"),
              tls.cert if tls else None, clock)


CLOCK_SKEW_S = 120  # a Z report's day, an appointment's hour: two minutes is already wrong


def _clock(hq: Hq) -> Iterator[Finding]:
    if hq.broker is None:
        return
    if hq.clock is None:
        yield Finding(OK, "clock", "HQ has not told its time yet (it does with each ack)")
        return
    offset = float(hq.clock["offset_s"])
    way = "ahead of" if offset > 0 else "behind"
    said = f"{abs(offset):.0f} s {way} HQ's (at {hq.clock['at'][:16].replace('T', ' ')} UTC)"
    if abs(offset) >= CLOCK_SKEW_S:
        yield Finding(WARNING, "clock", said, "sudo timedatectl set-ntp true, and check the box"
                      " reaches a time server (timedatectl timesync-status)")
    else:
        yield Finding(OK, "clock", said)


def _broker(broker: Broker | None,
            connect: Callable[[tuple[str, int], float], socket.socket]) -> Iterator[Finding]:
    if broker is None:
        yield Finding(OK, "HQ broker", "not enrolled with HQ: the store works on its own")
        return
    try:
        connect((broker.host, broker.port), 3.0).close()
    except OSError as exc:
        yield Finding(WARNING, "HQ broker", f"{broker.host}:{broker.port} does not answer"
                      f" ({exc.strerror or exc}); sales go on and wait to be sent",
                      "check the shop's internet; the backlog drains by itself once it is back")
        return
    yield Finding(OK, "HQ broker", f"{broker.host}:{broker.port} answers")


def _devices(config: Config) -> Iterator[Finding]:
    """The running hub's devices (asked over its control channel); none without a hub."""
    try:
        found = running_states(config.data_dir)
    except ControlError as exc:
        yield Finding(WARNING, "devices", f"the hub did not say: {exc}",
                      "systemctl status loupe")
        return
    if found is None:
        yield Finding(OK, "devices", "the hub is not running: its devices are checked while"
                      " it runs")
        return
    if not found:
        yield Finding(OK, "devices", "the hub runs with no device configured")
        return
    down = [d for d in found if d["state"] != "connected"]
    for d in down:
        yield Finding(WARNING, "devices", f"{d['device']} ({d['kind']}) is {d['state']}"
                      + (f": {d['error']}" if d.get("error") else ""),
                      "check its cable and power; `loupe devices` shows them all")
    if not down:
        yield Finding(OK, "devices", f"{len(found)} connected")


def _backup(config: Config, now: datetime) -> Iterator[Finding]:

    try:
        settings = backup_settings(config)
    except ConfigError as exc:
        yield Finding(PROBLEM, "backup", f"loupe.toml: {exc}", "correct the [backup] section")
        return
    last = last_backup(config.data_dir)
    fix = f"loupe backup --data-dir {config.data_dir}"
    if settings.path is None:
        yield Finding(WARNING, "backup", "no nightly backup is set up" + (
            f" (the last one by hand: {last['at']})" if last else ""),
            "set backup.path in loupe.toml (a USB stick, a second disk), then " + fix)
        return
    if last is None:
        yield Finding(WARNING, "backup", f"no backup has been written to {settings.path} yet",
                      fix)
        return
    hours = (now - datetime.fromisoformat(last["at"])).total_seconds() / 3600
    said = (f"the last backup is {hours:.0f} hours old, through entry {last['seq']}"
            f" ({Path(last['path']).name})")
    if hours > 72:
        yield Finding(PROBLEM, "backup", said, f"{fix} (and see why the nightly one failed:"
                      " journalctl -u loupe)")
    elif hours > 36:
        yield Finding(WARNING, "backup", said, f"{fix} (is the stick at {settings.path}?)")
    else:
        yield Finding(OK, "backup", said)


def examine(config: Config, hq: Hq | None = None, *, now: datetime | None = None,
            connect: Callable[[tuple[str, int], float], socket.socket] =
            socket.create_connection) -> list[Finding]:
    """Every check, in the order a person reads them."""
    now = now or datetime.now(UTC)
    hq = hq or hq_of(config)
    return [*_key_file(config), *_books(config), *_disk(config), *_memory(),
            *_certificates(config, hq, now), *_broker(hq.broker, connect), *_clock(hq),
            *_devices(config), *_backup(config, now)]


def worst(findings: list[Finding]) -> int:
    return max((f.level for f in findings), default=OK)


def shown(findings: list[Finding]) -> list[str]:
    """One screen: a line per check, and the fix under each one that is not ok."""
    lines = []
    for f in findings:
        lines.append(f"{WORDS[f.level]:<8} {f.what:<22} {f.said}")
        if f.fix and f.level != OK:
            lines.append(f"{'':<8} {'':<22} → {f.fix}")
    level = worst(findings)
    lines.append({OK: "All well.", WARNING: "Look at the warnings soon.",
                  PROBLEM: "Look at the problems now."}[level])
    return lines
