"""The `loupe` command. Every command documents itself (`loupe COMMAND --help`); errors go to
stderr as one line naming what is wrong, with a non-zero exit code.

Commands that write the books are *named commands* (`@book_command`, `hub.control`): they go
through the running hub when there is one, and open the books here (under the store's lock)
when there is none — one function either way. Commands that only read open the books
read-only (`read_books`), beside a running hub, without starting a writer.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from hub.config import ConfigError, load_config, resolve_data_dir
from hub.control import Books, book_command
from hub.layers import optional_modules
from hub.words import ENGLISH, words_for

# Layers add their own commands: a module with `add_commands(subparsers)`.
COMMAND_MODULES = ("hub.counts.cli", "hub.devices.cli", "hub.sync.cli", "hub.web.cli")


class CommandError(Exception):
    """A failure to report as one line, with an exit code."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def known_errors() -> tuple[type[BaseException], ...]:
    from hub.control import ControlError
    from hub.core.errors import Refused
    from hub.imports import ImportError_
    from hub.ledger.keys import KeyError_
    from hub.ledger.ledger import LedgerError
    from hub.ledger.schema import SchemaError
    from hub.money import MoneyError

    return (ConfigError, LedgerError, KeyError_, Refused, MoneyError, SchemaError, ImportError_,
            ControlError, OSError)


def data_dir_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", help="the store's data dir (default: $LOUPE_DATA_DIR)")


def run_async(fn: Callable[..., Awaitable[int | None]], *args: Any) -> int:
    return asyncio.run(fn(*args)) or 0


def write_books(args: argparse.Namespace, command: str, **params: Any) -> Any:
    """Run the named command on the books of `--data-dir`: through the running hub if there
    is one, else here under the store's lock. Its result (JSON values), or its refusal."""
    from hub.control import run_command

    return run_command(load_config(resolve_data_dir(args.data_dir)), command, params)


def read_books(args: argparse.Namespace, action: Callable[[Any], Awaitable[Any]]) -> Any:
    """Open the books of `--data-dir` read-only, run `action(store)`, always close them."""
    from hub.store import Store

    async def go() -> Any:
        store = await Store.open(load_config(resolve_data_dir(args.data_dir)), read_only=True)
        try:
            return await action(store)
        finally:
            await store.close()

    return asyncio.run(go())


def file_content(path: str, missing: Callable[[str], Exception] | None = None) -> str:
    """A file the CLI reads for a command, as base64: the hub may run as another user, and
    must get the exact bytes (a bad byte is reported where it is)."""
    try:
        return base64.b64encode(Path(path).read_bytes()).decode()
    except FileNotFoundError:
        if missing is None:
            raise
        raise missing(f"{path}: no such file") from None


# -- init, run, demo ----------------------------------------------------------------------------

def cmd_init(args: argparse.Namespace) -> int:
    from hub.store import init_store

    data_dir = resolve_data_dir(args.data_dir)
    config = init_store(data_dir, args.store_id, args.store_name, args.currency, args.timezone,
                        args.locale)
    print(f"created store {config.store_id} ({config.store_name}) in {data_dir}")
    for tls in optional_modules(["hub.web.tls"]):
        # The store's own CA and HTTPS certificate, so tablets can trust the hub once.
        tls.ensure_certificates(config.data_dir, config.store_id, config.store_name)
        print(f"HTTPS certificate issued by the store CA: {tls.ca_cert_path(config.data_dir)}")
    print(f"master key: {config.master_key_file} (keep a copy offline: without it the books"
          " cannot be read)")
    return 0


def _options(args: argparse.Namespace, **overrides: Any):
    from hub.daemon import Options

    opts = Options(host=args.host, port=args.port, insecure_http=args.insecure_http,
                   zeroconf=not args.no_zeroconf)
    for key, value in overrides.items():
        setattr(opts, key, value)
    return opts


def _serve_args(parser: argparse.ArgumentParser, port: int, host: str) -> None:
    parser.add_argument("--host", default=host, help=f"address to listen on (default {host})")
    parser.add_argument("--port", type=int, default=port, help=f"port (default {port})")
    parser.add_argument("--insecure-http", action="store_true",
                        help="serve plain HTTP instead of HTTPS (tests, local demos)")
    parser.add_argument("--no-zeroconf", action="store_true", help="do not advertise on the LAN")


def cmd_run(args: argparse.Namespace) -> int:
    from hub.daemon import run
    from hub.logs import setup_logging

    setup_logging(args.log_level)
    config = load_config(resolve_data_dir(args.data_dir))
    asyncio.run(run(config, _options(args)))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Create (once) and run a demo store with generated data and simulated devices."""
    from hub.daemon import hold_books, run
    from hub.demo import prepare_demo
    from hub.logs import setup_logging

    setup_logging(args.log_level)
    data_dir = Path(args.data_dir or os.environ.get("LOUPE_DATA_DIR")
                    or Path(tempfile.gettempdir()) / "loupe-demo").resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    options = _options(args, demo=True)
    # Held from before the demo store is filled until the hub stops: one writer throughout.
    lock = hold_books(data_dir, options)
    try:
        config, lines = asyncio.run(prepare_demo(data_dir, items=args.items,
                                                 clients=args.clients, sales=args.sales,
                                                 locale=args.locale))
        for line in lines:
            print(line, flush=True)
        if args.no_serve:
            return 0
        asyncio.run(run(config, options, lock))
    finally:
        lock.release()
    return 0


# -- data in ------------------------------------------------------------------------------------

@book_command("items.import")
async def import_items(books: Books, file: str, content: str, actor: str) -> int:
    from hub.imports import import_items

    return await import_items(books.store, Path(file), actor, data=base64.b64decode(content))


@book_command("clients.import")
async def import_clients(books: Books, file: str, content: str, actor: str) -> int:
    from hub.imports import import_clients

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
    from hub.generate import generate

    return await generate(books.store, items=items, clients=clients, sales=sales, seed=seed)


def _import_error(message: str) -> Exception:
    from hub.imports import ImportError_

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
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from hub.ledger.journal import read_export, verify_chain
    from hub.ledger.keys import public_key_fingerprint
    from hub.ledger.ledger import verify_database

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
                verdict = verify_chain(entries, str(head.get("store_id")), key)
        except ValueError as exc:
            raise CommandError(f"{args.export}: {exc}", 1) from None
        where = f"store {head.get('store_id')}, key {public_key_fingerprint(bytes.fromhex(key_hex))}"
    else:
        config = load_config(resolve_data_dir(args.data_dir))
        verdict = verify_database(config.db_path, config.store_id, pinned)
        where = f"store {config.store_id}"
    print(verdict)
    if not args.quiet:
        print(f"({where})", file=sys.stderr)
    return 0 if verdict.ok else 1


def cmd_ledger_export(args: argparse.Namespace) -> int:
    from hub.ledger.export import export_journal

    config = load_config(resolve_data_dir(args.data_dir))
    count = export_journal(config.db_path, Path(args.out))
    print(f"exported {count} entries to {args.out}")
    return 0


@book_command("ledger.rebuild")
async def rebuild_ledger(books: Books) -> int:
    count = await books.store.ledger.rebuild()
    await books.store.reload()  # the name index and the roster, from the rebuilt tables
    return count


def cmd_ledger_rebuild(args: argparse.Namespace) -> int:
    count = write_books(args, "ledger.rebuild")
    print(f"rebuilt projections from {count} journal entries")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from hub.control import holder

    data_dir = resolve_data_dir(args.data_dir)
    money = _store_money(data_dir)
    summary = read_books(args, lambda store: store.summary())
    held = holder(data_dir)
    if args.json:
        summary["hub_pid"] = held[0] if held and held[1] in ("loupe run", "loupe demo") else None
        print(json.dumps(summary, indent=2))
        return 0
    cur = summary["currency"]
    by_status = summary["pieces_by_status"]
    words = ", ".join(f"{by_status[s]} {ENGLISH.term('status', s).lower()}"
                      for s in sorted(by_status, key=lambda s: (-by_status[s], s)))
    if held is None:
        hub = "not running"
    elif held[1] in ("loupe run", "loupe demo"):
        hub = f"running (pid {held[0]})"
    else:
        hub = f"not running; `{held[1]}` (pid {held[0]}) has the books open"
    rows = [
        ("pieces", f"{summary['pieces']}" + (f" ({words})" if words else "")),
        ("stock value", f"{money(summary['stock_value'], cur)} at tag price, in stock"),
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
    return 0


# -- the parser ---------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="loupe", description="Loupe, the in-store hub for luxury jewelry stores.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("init", help="create a new store (keys, database, config)")
    data_dir_arg(p)
    p.add_argument("--store-id", required=True, help="short id, e.g. paris-01")
    p.add_argument("--store-name", required=True, help="the name on receipts")
    p.add_argument("--currency", required=True, help="ISO 4217 code, e.g. EUR")
    p.add_argument("--timezone", default="UTC", help="IANA zone, e.g. Europe/Paris")
    p.add_argument("--locale", default="en-GB",
                   help="language and number formats, e.g. fr-FR, de-DE (default en-GB)")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("run", help="run the hub until SIGTERM")
    data_dir_arg(p)
    _serve_args(p, 8443, "0.0.0.0")
    p.add_argument("--log-level", default="info")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("demo", help="run a demo store with generated data and simulated devices")
    p.add_argument("--data-dir", help="where the demo store lives (default: a temp dir)")
    _serve_args(p, 8080, "127.0.0.1")
    p.set_defaults(insecure_http=True)
    p.add_argument("--items", type=int, default=400)
    p.add_argument("--clients", type=int, default=120)
    p.add_argument("--sales", type=int, default=60)
    p.add_argument("--locale", default="en-GB",
                   help="a new demo store's language and formats, e.g. fr-FR (default en-GB)")
    p.add_argument("--no-serve", action="store_true", help="prepare the store and exit")
    p.add_argument("--log-level", default="info")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("status", help="a summary of the store, and whether its hub runs")
    data_dir_arg(p)
    p.add_argument("--json", action="store_true", help="the summary as JSON")
    p.set_defaults(func=cmd_status)

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
    p = ledger.add_parser("verify", help="check the hash chain and every signature")
    data_dir_arg(p)
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

    for module in optional_modules(COMMAND_MODULES):
        module.add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except CommandError as exc:
        print(f"loupe: error: {exc}", file=sys.stderr)
        return exc.code
    except known_errors() as exc:
        from hub.control import ControlError

        print(f"loupe: error: {exc}", file=sys.stderr)
        return exc.code if isinstance(exc, ControlError) else 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
