"""The store's own commands: `loupe status`, `items`, `clients`, `generate`, `ledger` and
`day`. The ones that write are named commands (`@book_command`): through the running hub when
there is one, on books opened here under the store's lock when there is none — one function
either way. The ones that only read open the books read-only beside a running hub."""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from hub import doctor, keys_cli, layers  # keys_cli: `loupe keys ...` and its named command
from hub.config import load_config, resolve_data_dir
from hub.control import (
    HUB_COMMANDS,
    Books,
    BooksHeld,
    BooksLock,
    CommandError,
    book_command,
    data_dir_arg,
    file_content,
    holder,
    read_books,
    write_books,
)
from hub.generate import generate
from hub.imports import ImportError_, import_clients, import_items
from hub.ledger import upgrade
from hub.ledger.audit import verify_on_cores
from hub.ledger.export import export_journal
from hub.ledger.journal import read_export, verify_chain
from hub.ledger.keys import public_key_fingerprint
from hub.ledger.schema import LEDGER
from hub.words import ENGLISH, words_for

# -- data in ------------------------------------------------------------------------------------

@book_command("items.import")
async def import_pieces(books: Books, file: str, content: str, actor: str) -> int:
    return await import_items(books.store, Path(file), actor, data=base64.b64decode(content))


@book_command("clients.import")
async def import_client_book(books: Books, file: str, content: str, actor: str) -> int:
    return await import_clients(books.store, Path(file), actor, data=base64.b64decode(content))


@book_command("items.inspect")
async def inspect_piece(books: Books, item_id: str, outcome: str, note: str | None,
                        actor: str) -> dict[str, Any]:
    return await books.store.items.inspect(item_id, outcome, note, actor)


# What a person types for an inspection's outcome, and the status it gives the piece.
INSPECTIONS = {"stock": "in_stock", "repair": "in_repair", "write-off": "written_off"}


def cmd_items_inspect(args: argparse.Namespace) -> int:
    piece = write_books(args, "items.inspect", item_id=args.item_id,
                        outcome=INSPECTIONS[args.outcome], note=args.note, actor=args.actor)
    print(f"{piece['item_id']}: {ENGLISH.term('status', piece['status']).lower()}")
    return 0


@book_command("clients.forget")
async def forget_client(books: Books, client_id: str, actor: str, reason: str) -> int:
    return await books.store.clients.forget(client_id, actor=actor, reason=reason)


@book_command("generate")
async def generate_data(books: Books, items: int, clients: int, sales: int,
                        seed: int | None) -> dict[str, int]:
    return await generate(books.store, items=items, clients=clients, sales=sales, seed=seed)


def _import_error(message: str) -> Exception:
    return ImportError_(message)


def cmd_items_import(args: argparse.Namespace) -> int:
    count = write_books(args, "items.import", file=args.file, actor=args.actor,
                        content=file_content(args.file, _import_error))
    print(f"imported {count} pieces from {args.file}")
    return 0


def cmd_clients_import(args: argparse.Namespace) -> int:
    count = write_books(args, "clients.import", file=args.file, actor=args.actor,
                        content=file_content(args.file, _import_error))
    print(f"imported {count} clients from {args.file}")
    return 0


def cmd_clients_forget(args: argparse.Namespace) -> int:
    seq = write_books(args, "clients.forget", client_id=args.client_id, actor=args.actor,
                      reason=args.reason)
    print(f"forgot client {args.client_id} (journal seq {seq}): their key is destroyed and"
          " their entries can no longer be read")
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    made = write_books(args, "generate", items=args.items, clients=args.clients,
                       sales=args.sales, seed=args.seed)
    print(", ".join(f"{n} {what}" for what, n in made.items()))
    return 0


# -- the ledger ---------------------------------------------------------------------------------

def cmd_ledger_verify(args: argparse.Namespace) -> int:
    signatures = "all" if args.all_signatures else "anchors"
    pinned = None
    if args.public_key:
        try:
            pinned = Ed25519PublicKey.from_public_bytes(bytes.fromhex(args.public_key))
        except ValueError:
            raise CommandError("--public-key must be 64 hexadecimal characters", 2) from None
    if args.export:
        try:
            with open(args.export, encoding="utf-8") as f:
                head, entries = read_export(f)
                key_hex = head.get("public_key", "")
                try:
                    key = pinned or Ed25519PublicKey.from_public_bytes(bytes.fromhex(key_hex))
                except ValueError:
                    raise CommandError(f"{args.export}: bad public key in header", 1) from None
                verdict = verify_chain(entries, str(head.get("store_id")), key,
                                       signatures=signatures)
        except ValueError as exc:
            raise CommandError(f"{args.export}: {exc}", 1) from None
        where = f"store {head.get('store_id')}, key {public_key_fingerprint(bytes.fromhex(key_hex))}"
    else:
        config = load_config(resolve_data_dir(args.data_dir))
        schemas = (LEDGER, *layers.schemas(layers.areas()))
        upgrade.refuse_newer_file(config.db_path, schemas)  # a downgrade: said, not guessed at
        # Held while no hub runs, so the tip verified is the tip recorded (what `loupe run`
        # asks of books an upgrade will migrate); a running hub's books are migrated already.
        try:
            lock: Any = BooksLock.acquire(config.data_dir, "loupe ledger verify")
        except (BooksHeld, OSError):
            lock = contextlib.nullcontext()
        with lock:
            verdict = verify_on_cores(config.db_path, config.store_id, pinned,
                                      signatures=signatures, processes=args.processes)
            if verdict.ok and isinstance(lock, BooksLock):
                try:
                    upgrade.record_verified_file(config.db_path, schemas, verdict.count)
                except sqlite3.Error as exc:  # e.g. an auditor's read-only copy
                    print(f"(not recorded as verified: {exc})", file=sys.stderr)
        where = f"store {config.store_id}"
    print(verdict)
    if not args.quiet:
        checked = ("every signature" if signatures == "all" else
                   "every hash; the signatures of the tip and of each Z report")
        print(f"({where}; {checked})", file=sys.stderr)
    return 0 if verdict.ok else 1


def cmd_ledger_export(args: argparse.Namespace) -> int:
    config = load_config(resolve_data_dir(args.data_dir))
    count = export_journal(config.db_path, Path(args.out))
    print(f"exported {count} entries to {args.out}")
    return 0


@book_command("ledger.rebuild")
async def rebuild_ledger(books: Books) -> int:
    return await books.store.rebuild()


def cmd_ledger_rebuild(args: argparse.Namespace) -> int:
    count = write_books(args, "ledger.rebuild")
    print(f"rebuilt projections from {count} journal entries")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    data_dir = resolve_data_dir(args.data_dir)
    money = _store_money(data_dir)
    summary = read_books(args, lambda store: store.summary())
    held = holder(data_dir)
    if args.json:
        summary["hub_pid"] = held[0] if held and held[1] in HUB_COMMANDS else None
        print(json.dumps(summary, indent=2))
        return 0
    cur = summary["currency"]
    by_status = summary["pieces_by_status"]
    words = ", ".join(f"{by_status[s]} {ENGLISH.term('status', s).lower()}"
                      for s in sorted(by_status, key=lambda s: (-by_status[s], s)))
    if held is None:
        hub = "not running"
    elif held[1] in HUB_COMMANDS:
        hub = f"running (pid {held[0]})"
    else:
        hub = f"not running; `{held[1]}` (pid {held[0]}) has the books open"
    rows = [
        ("pieces", f"{summary['pieces']}" + (f" ({words})" if words else "")),
        ("stock value", f"{money(summary['stock_value'], cur)} at tag price, in stock"),
        *[("not owned", f"{n['pieces']} {kind}, {money(n['tag_price'], cur)} at tag price,"
                        f" {money(n['cost'], cur)} at cost")
          for kind, n in sorted(summary.get("not_owned", {}).items())],
        ("clients", f"{summary['clients']}"),
        ("sales", f"{summary['sales']}, net {money(summary['sales_total'], cur)}"),
        ("journal", f"{summary['journal_entries']} entries"),
        ("hub", hub),
    ]
    print(f"{summary['store_name']} ({summary['store_id']}), {cur}, in {data_dir}")
    for label, value in rows:
        print(f"  {label:<12} {value}")
    return 0


@book_command("day.close")
async def close_day(books: Books, actor: str) -> dict[str, Any]:
    return await books.store.closures.close_day(actor)


def _store_money(data_dir: Path) -> Callable[[int, str], str]:
    """Amounts as the store writes them (its locale), in the CLI's English lines."""
    config = load_config(data_dir)
    return words_for(config.locale, config.timezone).money


def cmd_day(args: argparse.Namespace) -> int:
    format_amount = _store_money(resolve_data_dir(args.data_dir))
    if args.day_command == "close":
        report = write_books(args, "day.close", actor=args.actor)
        title = f"Z{report['z_no']} (journal seq {report['seq']}, code {report['short_code']})"
    else:
        report = read_books(args, lambda store: store.closures.report())
        title = f"X report since Z{report['since_z']}"
    if args.json:
        print(json.dumps(report, indent=2, sort_keys=True))
        return 0
    t, cur = report["totals"], report["currency"]
    print(f"{title}: entries {report['from_seq'] + 1}..{report['through_seq']}")
    print(f"  sales {t['sales']}  total {format_amount(t['sales_total'], cur)}"
          f"  tax {format_amount(t['tax'], cur)}  refunds {format_amount(t['refund_total'], cur)}"
          f"  net {format_amount(t['net'], cur)}")
    for tender, amount in t["tenders"].items():
        print(f"  {tender:<14} {format_amount(amount, cur)}")
    _print_apart(t, cur, format_amount)
    return 0


def _print_apart(t: dict[str, Any], cur: str, format_amount: Callable[[int, str], str]) -> None:
    """What the day moved that is not sales: money held for others (gift cards sold), and
    every balance the store owes at the close, by kind (deposits, gift cards, store credit,
    memo vendors, consignors, points); each layer's own figures are in `--json`."""
    held = t.get("held_sold") or {}
    if held.get("lines"):
        print(f"  held for others (gift cards sold, not sales) {format_amount(held['total'], cur)}"
              + (f", voided {format_amount(held['voided'], cur)}" if held.get("voided") else ""))
    liabilities = (t.get("accounts") or {}).get("liabilities") or []
    if liabilities:
        print("  owed or held at the close:")
    for row in liabilities:
        kind = ENGLISH.term("account_kind", row["kind"])
        amount = (f"{row['balance']} points" if row["unit"] == "points"
                  else format_amount(row["balance"], row["unit"]))
        print(f"    {kind:<22} {amount}  ({row['accounts']} accounts)")


def cmd_doctor(args: argparse.Namespace) -> int:
    config = load_config(resolve_data_dir(args.data_dir))
    findings = doctor.examine(config)
    if args.json:
        print(json.dumps([{"level": doctor.WORDS[f.level].lower(), "what": f.what,
                           "said": f.said, "fix": f.fix} for f in findings], indent=2))
    else:
        print("\n".join(doctor.shown(findings)))
    return doctor.worst(findings)


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("status", help="a summary of the store, and whether its hub runs")
    data_dir_arg(p)
    p.add_argument("--json", action="store_true", help="the summary as JSON")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("doctor", help="check the box and say what to do: keys, books, disk,"
                                      " memory, certificates, HQ (exit 0 well, 1 warning,"
                                      " 2 problem)")
    data_dir_arg(p)
    p.add_argument("--json", action="store_true", help="the findings as JSON")
    p.set_defaults(func=cmd_doctor)

    keys_cli.add_commands(sub)

    items = sub.add_parser("items", help="pieces and stock").add_subparsers(
        dest="items_command", metavar="ACTION", required=True)
    p = items.add_parser("inspect", help="a manager's verdict on a returned piece",
                         description="Back to stock, to repair, or written off (a note is"
                                     " needed for a repair or a write-off).")
    data_dir_arg(p)
    p.add_argument("item_id", help="the piece's serial")
    p.add_argument("outcome", choices=tuple(INSPECTIONS))
    p.add_argument("--note", help="what the inspection found")
    p.add_argument("--actor", required=True, help="the manager's staff id")
    p.set_defaults(func=cmd_items_inspect)
    p = items.add_parser("import", help="receive pieces from a CSV file (all or nothing)",
                         description="Columns: see docs/sample-items.csv and docs/operations.md.")
    data_dir_arg(p)
    p.add_argument("file")
    p.add_argument("--actor", default="import", help="staff id recorded as the actor")
    p.set_defaults(func=cmd_items_import)

    clients = sub.add_parser("clients", help="the client book").add_subparsers(
        dest="clients_command", metavar="ACTION", required=True)
    p = clients.add_parser("import", help="import clients from a CSV file (all or nothing)",
                           description="Columns: see docs/sample-clients.csv.")
    data_dir_arg(p)
    p.add_argument("file")
    p.add_argument("--actor", default="import")
    p.set_defaults(func=cmd_clients_import)
    p = clients.add_parser("forget", help="erase a client: destroy their key (GDPR)")
    data_dir_arg(p)
    p.add_argument("client_id")
    p.add_argument("--actor", default="admin")
    p.add_argument("--reason", default="erasure request")
    p.set_defaults(func=cmd_clients_forget)

    p = sub.add_parser("generate", help="synthetic jewelry data through the real services")
    data_dir_arg(p)
    p.add_argument("--items", type=int, default=0)
    p.add_argument("--clients", type=int, default=0)
    p.add_argument("--sales", type=int, default=0)
    p.add_argument("--seed", type=int, default=None, help="repeatable data")
    p.set_defaults(func=cmd_generate)

    ledger = sub.add_parser("ledger", help="verify, export and rebuild the books").add_subparsers(
        dest="ledger_command", metavar="ACTION", required=True)
    p = ledger.add_parser("verify", help="check the hash chain, the signatures of the tip and"
                                         " of each Z report (or every signature)")
    data_dir_arg(p)
    p.add_argument("--all-signatures", action="store_true",
                   help="check each entry's signature too, on every core (minutes for years)")
    p.add_argument("--processes", type=int, default=None,
                   help="how many cores to use (default: all, for a journal of 50,000"
                        " entries or more)")
    p.add_argument("--export", help="verify an export file instead of the database")
    p.add_argument("--public-key", help="the store's public key (hex) to pin, as an auditor")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_ledger_verify)
    p = ledger.add_parser("export", help="write the journal as JSON lines (no secrets needed)")
    data_dir_arg(p)
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_ledger_export)
    p = ledger.add_parser("rebuild", help="rebuild every projection from the journal")
    data_dir_arg(p)
    p.set_defaults(func=cmd_ledger_rebuild)

    day = sub.add_parser("day", help="daily closure (Z report) and X report").add_subparsers(
        dest="day_command", metavar="ACTION", required=True)
    for action, text in (("close", "close the day: a signed, numbered Z report"),
                         ("report", "the figures since the last closure (X report)")):
        p = day.add_parser(action, help=text)
        data_dir_arg(p)
        p.add_argument("--actor", default="manager")
        p.add_argument("--json", action="store_true")
        p.set_defaults(func=cmd_day)

