"""Demo simulators beyond scanners and receipt printers."""

from __future__ import annotations

from typing import Any


async def start(rig: Any) -> None:
    pass


async def stop(rig: Any) -> None:
    pass


def config(rig: Any) -> dict[str, Any]:
    return {}
