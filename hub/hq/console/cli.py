"""`loupe hq run --web` (the console beside the receiver) and `loupe hq staff ...`."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hub.control import CommandError
from hub.hq import shop_web
from hub.hq.console import part, reports_web
from hub.hq.console.app import Console, create_app, serve, server_context
from hub.words import words_for


def add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--web", action="store_true", help="also serve HQ's console (HTTPS)")
    p.add_argument("--web-host", default="0.0.0.0", help="address the console listens on")
    p.add_argument("--web-port", type=int, default=8443)
    p.add_argument("--web-name", action="append", default=None,
                   help="a host name or IP people open the console at (its certificate"
                   " names them; default: localhost and 127.0.0.1)")
    p.add_argument("--web-locale", default="en-GB", help="the console's language, e.g. fr-FR")
    p.add_argument("--web-timezone", default="UTC")


SETUPS = (shop_web.setup, reports_web.setup)  # the web shop's API and the chain's reports


async def start_web(receiver: Any, keys: Any, args: argparse.Namespace) -> Any:
    """Serve the console on the receiver's HQ, its storage thread and its MQTT client;
    returns the runner (call `cleanup()` to stop)."""
    console = Console.of_receiver(receiver, words_for(args.web_locale, args.web_timezone))
    names = tuple(args.web_name or ("localhost", "127.0.0.1"))
    app = create_app(console, list(SETUPS))
    runner = await serve(app, args.web_host, args.web_port, server_context(keys, names))
    print(f"HQ console at https://{names[0]}:{args.web_port}/ (certificate from HQ's CA:"
          f" {keys.data_dir / 'ca.pem'})", flush=True)
    return runner


def _password(args: argparse.Namespace) -> str:
    if args.password_file == "-":
        return sys.stdin.readline().rstrip("\n")
    if args.password_file:
        try:
            return Path(args.password_file).read_text().splitlines()[0]
        except (OSError, IndexError) as exc:
            raise CommandError(f"{args.password_file}: cannot read a password from it"
                               f" ({exc})") from None
    first = getpass.getpass("Password: ")
    if getpass.getpass("Same password again: ") != first:
        raise CommandError("the two passwords differ: nothing was changed")
    return first


def add_commands(hq_parser: Callable[..., argparse.ArgumentParser],
                 open_hq: Callable[[argparse.Namespace], Any]) -> None:
    p = hq_parser("staff", "the console's staff: add, list, disable")
    staff = p.add_subparsers(dest="staff_command", metavar="ACTION", required=True)
    add = staff.add_parser("add", help="add a member of the console's staff")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=part.ROLES)
    add.add_argument("--password-file", help="a file whose first line is the password, or"
                     " `-` for standard input (default: asked)")
    listing = staff.add_parser("list", help="the console's staff")
    disable = staff.add_parser("disable", help="stop someone signing in (signed out at once)")
    disable.add_argument("name")
    # HQ's data dir before or after the action (`staff --data-dir D add` or `staff add ...
    # --data-dir D`): argparse lets a sub-parser's default overwrite the parent's value, so
    # neither has one and `_staff` asks for it.
    for action in p._actions:
        if action.dest == "data_dir":
            action.required, action.default = False, argparse.SUPPRESS
    for q in (add, listing, disable):
        q.add_argument("--data-dir", default=argparse.SUPPRESS, help="HQ's data dir")
        q.set_defaults(func=lambda args: _staff(args, open_hq))


def _staff(args: argparse.Namespace, open_hq: Callable[[argparse.Namespace], Any]) -> int:
    if not getattr(args, "data_dir", None):
        raise CommandError("say where HQ is: --data-dir", 2)
    hq = open_hq(args)
    try:
        if args.staff_command == "add":
            part.add_staff(hq.storage, args.name, args.role, _password(args))
            print(f"added {args.name} ({args.role}) to the console's staff")
        elif args.staff_command == "disable":
            part.disable_staff(hq.storage, args.name)
            print(f"{args.name} can no longer sign in to the console")
        else:
            for row in part.list_staff(hq.storage):
                state = "disabled" if row["disabled"] else "active"
                print(f"{row['name']}\t{row['role']}\t{state}\tsince {row['created_at']}")
    except part.StaffError as exc:
        raise CommandError(f"{exc}: nothing was changed") from None
    finally:
        hq.storage.close()
    return 0
