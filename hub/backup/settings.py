"""The `[backup]` section of loupe.toml: where the nightly backup goes, when, and to whom."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time
from pathlib import Path

from hub.config import Config, ConfigError

_AT = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class BackupSettings:
    path: Path | None = None        # a mounted USB stick, a second disk; None: no nightly
    at: time = time(3, 0)           # store time, after the day is closed
    keep: int = 14                  # backups kept at `path`, the newest
    passphrase_file: Path | None = None  # also open to this passphrase (0600 file)
    to_hq: bool = True              # and sent to HQ (when enrolled)


def read_settings(config: Config) -> BackupSettings:
    section = config.section("backup")
    default = BackupSettings()
    path = Path(section.text("path")).expanduser() if section.has("path") else None
    if path is not None and not path.is_absolute():
        path = config.data_dir / path
    at = default.at
    if section.has("at"):
        match = _AT.match(section.text("at"))
        if not match:
            raise ConfigError("backup.at: a time of day like \"03:00\" (24-hour, store time)")
        at = time(int(match[1]), int(match[2]))
    passphrase = (Path(section.text("passphrase_file")).expanduser()
                  if section.has("passphrase_file") else None)
    settings = BackupSettings(path=path, at=at, keep=section.whole("keep", default.keep, 1, 366),
                              passphrase_file=passphrase,
                              to_hq=section.flag("to_hq", default.to_hq))
    section.done()
    return settings
