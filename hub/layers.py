"""Optional layers: devices, counts, sync and web plug into the daemon, the CLI and the web
app by module name, so a layer that is not installed is simply absent."""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from types import ModuleType


def optional_modules(names: Iterable[str]) -> list[ModuleType]:
    """Import each module that exists; a missing module is skipped, a broken one raises."""
    found = []
    for name in names:
        try:
            found.append(importlib.import_module(name))
        except ModuleNotFoundError as exc:
            if exc.name is not None and name.startswith(exc.name):
                continue  # that layer (or that part of it) is not installed
            raise
    return found
