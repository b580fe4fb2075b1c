"""`loupe devices`: the running hub's devices and how each one is (the doctor asks the same)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from hub.config import load_config, resolve_data_dir
from hub.control import (
    Books,
    BooksHeld,
    BooksLock,
    CommandError,
    ask_hub,
    book_command,
    data_dir_arg,
)


@book_command("devices.states")
async def states(books: Books) -> list[dict[str, Any]] | None:
    """The devices' states; None off the control channel (devices run only in the hub)."""
    runtime = books.runtime
    if runtime is None or runtime.devices is None:
        return None
    return runtime.devices.states()


def running_states(data_dir: Any) -> list[dict[str, Any]] | None:
    """The running hub's devices, or None when no hub runs on these books."""
    try:
        lock = BooksLock.acquire(data_dir, "loupe devices")
    except BooksHeld as held:
        return ask_hub(held, "devices.states", {})
    lock.release()
    return None


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("devices", help="the running hub's devices and their states")
    data_dir_arg(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_devices)


def cmd_devices(args: argparse.Namespace) -> int:
    config = load_config(resolve_data_dir(args.data_dir))
    found = running_states(config.data_dir)
    if found is None:
        raise CommandError("the hub is not running: devices run only inside it (loupe run)")
    if args.json:
        print(json.dumps(found, indent=2))
        return 0
    for d in found:
        print(f"{d['device']:<16} {d['kind']:<10} {d['state']:<12}"
              f" {d.get('register') or '':<6} {d.get('error') or ''}")
    return 0 if all(d["state"] == "connected" for d in found) else 1
