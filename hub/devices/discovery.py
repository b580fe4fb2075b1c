"""Finding devices without probing: USB vendor:product ids from sysfs, matched to profiles.

Unknown serial ports are never opened to "see what answers": a probe can reset a scale or
scramble a scanner's settings. A recognised USB device is pinned by its /dev/serial/by-id
link (stable across reboots and ports) when it is a serial device, by vid:pid otherwise.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SYSFS_USB = Path("/sys/bus/usb/devices")
BY_ID = Path("/dev/serial/by-id")


@dataclass(frozen=True)
class UsbDevice:
    vid_pid: str
    serial: str
    sysfs: Path
    ttys: tuple[str, ...]  # tty names under the device (ttyACM0...)


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""


def usb_devices(root: Path = SYSFS_USB) -> list[UsbDevice]:
    out = []
    if not root.is_dir():
        return out
    for dev in sorted(root.iterdir()):
        vid, pid = _read(dev / "idVendor"), _read(dev / "idProduct")
        if not vid or not pid:
            continue  # an interface, not a device
        ttys = tuple(sorted(p.name for p in dev.glob("*/tty/tty*")) +
                     sorted(p.name for p in dev.glob("*/tty*") if p.name.startswith("tty")
                            and p.is_dir() and not (p / "tty").exists()))
        out.append(UsbDevice(f"{vid.lower()}:{pid.lower()}", _read(dev / "serial"), dev, ttys))
    return out


def by_id_link(tty: str, by_id: Path = BY_ID) -> str | None:
    """The /dev/serial/by-id path that points at /dev/<tty>, if udev made one."""
    if not by_id.is_dir():
        return None
    for link in sorted(by_id.iterdir()):
        if os.path.basename(os.path.realpath(link)) == tty:
            return str(link)
    return None


def discover(profiles: dict[str, dict[str, Any]], configured: list[dict[str, Any]],
             root: Path = SYSFS_USB, by_id: Path = BY_ID) -> dict[str, dict[str, Any]]:
    """Config tables (as in `[devices.<id>]`) for recognised USB devices the store's config
    does not already name. No register binding: a technician binds them in loupe.toml."""
    taken = {str(t.get("usb", "")).lower() for t in configured} | \
            {str(t.get("path", "")) for t in configured}
    found: dict[str, dict[str, Any]] = {}
    for dev in usb_devices(root):
        for model, profile in profiles.items():
            if dev.vid_pid not in profile.get("usb", []):
                continue
            device_id = f"{model}-{(dev.serial or dev.sysfs.name).lower()}"[:40]
            device_id = "".join(c if c.isalnum() or c in "-_" else "-" for c in device_id)
            if profile["driver"] in ("escpos", "zpl"):
                if dev.vid_pid in taken:
                    continue
                found[device_id] = {"model": model, "usb": dev.vid_pid}
            elif dev.ttys:
                path = by_id_link(dev.ttys[0], by_id) or f"/dev/{dev.ttys[0]}"
                if path in taken:
                    continue
                found[device_id] = {"model": model, "path": path}
    return found
