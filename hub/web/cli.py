"""`loupe staff ...` and `loupe web cert`: the roster and the store's certificates."""

from __future__ import annotations

import argparse
import getpass
from dataclasses import asdict
from typing import Any

from hub.config import load_config, resolve_data_dir
from hub.control import Books, CommandError, book_command, data_dir_arg, read_books, write_books
from hub.web.tls import ca_cert_path, ensure_certificates


def _pin(args: argparse.Namespace) -> str:
    if args.pin:
        return args.pin
    pin = getpass.getpass("PIN (4-12 digits): ")
    if getpass.getpass("Again: ") != pin:
        raise CommandError("the two PINs differ", 2)
    return pin


@book_command("staff.add")
async def enroll_staff(books: Books, staff_id: str, name: str, role: str, pin: str,
                       actor: str) -> dict[str, Any]:
    member = await books.store.staff.enroll(staff_id, name, role, pin, actor=actor)
    return asdict(member)


@book_command("staff.change")
async def change_staff(books: Books, staff_id: str, actor: str, pin: str | None = None,
                       role: str | None = None, status: str | None = None) -> dict[str, Any]:
    member = await books.store.staff.change(staff_id, actor=actor, pin=pin, role=role,
                                            status=status)
    return asdict(member)


def cmd_staff_add(args: argparse.Namespace) -> int:
    member = write_books(args, "staff.add", staff_id=args.staff_id, name=args.name,
                         role=args.role, pin=_pin(args), actor=args.actor)
    print(f"enrolled {member['staff_id']} ({member['role']})")
    return 0


def cmd_staff_pin(args: argparse.Namespace) -> int:
    write_books(args, "staff.change", staff_id=args.staff_id, actor=args.actor, pin=_pin(args))
    print(f"new PIN set for {args.staff_id}")
    return 0


def cmd_staff_set(args: argparse.Namespace) -> int:
    if args.role is None and args.status is None:
        raise CommandError("say what changes: --role and/or --status", 2)
    member = write_books(args, "staff.change", staff_id=args.staff_id, actor=args.actor,
                         role=args.role, status=args.status)
    print(f"{member['staff_id']}: {member['role']}, {member['status']}")
    return 0


def cmd_staff_list(args: argparse.Namespace) -> int:
    async def roster(store):
        return store.staff.all()

    for m in read_books(args, roster):
        print(f"{m.staff_id:<16} {m.role:<10} {m.status:<7} {m.name}")
    return 0


@book_command("role.define")
async def define_role(books: Books, role: str, permissions: list[str],
                      actor: str) -> dict[str, Any]:
    defined = await books.store.staff.roles.define(role, permissions, actor=actor)
    return {"role": defined.name, "permissions": sorted(defined.permissions)}


def cmd_staff_role(args: argparse.Namespace) -> int:
    done = write_books(args, "role.define", role=args.role, permissions=args.permissions,
                       actor=args.actor)
    print(f"{done['role']} may now: {', '.join(done['permissions']) or 'nothing'}")
    return 0


def cmd_staff_roles(args: argparse.Namespace) -> int:
    async def roles(store):
        return store.staff.roles.all(), store.staff.roles.permissions

    found, permissions = read_books(args, roles)
    for role in found:
        mark = " (changed by this store)" if role.custom else ""
        print(f"{role.name}{mark}: {', '.join(sorted(role.permissions)) or 'nothing'}")
    print(f"permissions: {', '.join(permissions)}")
    return 0


def cmd_web_cert(args: argparse.Namespace) -> int:
    config = load_config(resolve_data_dir(args.data_dir))
    cert, _ = ensure_certificates(config.data_dir, config.store_id, config.store_name)
    print(f"server certificate {cert}; CA {ca_cert_path(config.data_dir)} (served at /ca.crt)")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    staff = sub.add_parser("staff", help="the staff roster and PINs").add_subparsers(
        dest="staff_command", metavar="ACTION", required=True)
    p = staff.add_parser("add", help="enroll a staff member with a PIN")
    data_dir_arg(p)
    p.add_argument("staff_id")
    p.add_argument("--name", required=True)
    p.add_argument("--role", default="associate",
                   help="associate, manager, admin, or a role the store added")
    p.add_argument("--pin", help="the PIN (default: asked without echo)")
    p.add_argument("--actor", default="admin")
    p.set_defaults(func=cmd_staff_add)
    p = staff.add_parser("pin", help="set a new PIN for a staff member")
    data_dir_arg(p)
    p.add_argument("staff_id")
    p.add_argument("--pin", help="the PIN (default: asked without echo)")
    p.add_argument("--actor", default="admin")
    p.set_defaults(func=cmd_staff_pin)
    p = staff.add_parser("set", help="change a staff member's role, or mark them as left")
    data_dir_arg(p)
    p.add_argument("staff_id")
    p.add_argument("--role", help="associate, manager, admin, or a role the store added")
    p.add_argument("--status", choices=("active", "left"))
    p.add_argument("--actor", default="admin")
    p.set_defaults(func=cmd_staff_set)
    p = staff.add_parser("list", help="list the roster")
    data_dir_arg(p)
    p.set_defaults(func=cmd_staff_list)
    p = staff.add_parser("roles", help="the store's roles and what each may do")
    data_dir_arg(p)
    p.set_defaults(func=cmd_staff_roles)
    p = staff.add_parser("role", help="set what a role may do (a new role, or a change)")
    data_dir_arg(p)
    p.add_argument("role")
    p.add_argument("permissions", nargs="*", help="every permission the role has (see roles)")
    p.add_argument("--actor", default="admin")
    p.set_defaults(func=cmd_staff_role)

    web = sub.add_parser("web", help="the staff web app").add_subparsers(
        dest="web_command", metavar="ACTION", required=True)
    p = web.add_parser("cert", help="make the store's CA and server certificate (if missing)")
    data_dir_arg(p)
    p.set_defaults(func=cmd_web_cert)
