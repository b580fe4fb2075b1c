"""The demo's backups: a "USB stick" beside the demo's data dir, a passphrase, the nightly
backup set up, and the first one written, so `loupe doctor` and `loupe restore` have one."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from hub.backup import archive
from hub.backup.archive import WORK_DIR
from hub.config import CONFIG_NAME, Config

DEMO_PASSPHRASE = "loupe demo backup"  # generated data only: printed on purpose


async def demo_backup(config: Config) -> list[str]:
    stick = config.data_dir.parent / f"{config.data_dir.name}-usb"
    secret = config.data_dir / WORK_DIR / "demo.pass"  # never in a backup (WORK_DIR)
    secret.parent.mkdir(mode=0o700, exist_ok=True)
    fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(DEMO_PASSPHRASE + "\n")
    with open(config.data_dir / CONFIG_NAME, "a", encoding="utf-8") as f:
        f.write(f'\n[backup]\npath = "{_toml(stick)}"\npassphrase_file = "{_toml(secret)}"\n')
    made = await asyncio.to_thread(archive.make_backup, config, stick, hq_box_key=None,
                                   passphrase=DEMO_PASSPHRASE, keep=14)
    return [f"  backup: {made.path} (passphrase \"{DEMO_PASSPHRASE}\"; nightly at 03:00)"]


def _toml(path: Path) -> str:
    return str(path).replace("\\", "\\\\").replace('"', '\\"')
