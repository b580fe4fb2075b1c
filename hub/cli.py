"""The `loupe` command. Every command documents itself (`loupe COMMAND --help`); errors go to
stderr as one line naming what is wrong, with a non-zero exit code."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from hub.config import ConfigError, load_config, resolve_data_dir
from hub.layers import optional_modules

# Layers add their own commands: a module with `add_commands(subparsers)`.
COMMAND_MODULES = ("hub.counts.cli", "hub.devices.cli", "hub.sync.cli", "hub.web.cli")


class CommandError(Exception):
    """A failure to report as one line, with an exit code."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def known_errors() -> tuple[type[BaseException], ...]:
    from hub.core.errors import Refused
    from hub.imports import ImportError_
    from hub.ledger.keys import KeyError_
    from hub.ledger.ledger import LedgerError
    from hub.ledger.schema import SchemaError
    from hub.money import MoneyError

    return (ConfigError, LedgerError, KeyError_, Refused, MoneyError, SchemaError, ImportError_,
            OSError)


def data_dir_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", help="the store's data dir (default: $LOUPE_DATA_DIR)")


async def open_store(args: argparse.Namespace):
    from hub.store import Store

    return await Store.open(load_config(resolve_data_dir(args.data_dir)))


def run_async(fn: Callable[..., Awaitable[int | None]], *args: Any) -> int:
    return asyncio.run(fn(*args)) or 0


def with_store(args: argparse.Namespace, action: Callable[[Any], Awaitable[Any]]) -> Any:
    """Open the store named by `--data-dir`, run `action(store)`, always close it."""

    async def go() -> Any:
        store = await open_store(args)
        try:
            return await action(store)
        finally:
            await store.close()

    return asyncio.run(go())


# -- init, run, demo ----------------------------------------------------------------------------

def cmd_init(args: argparse.Namespace) -> int:
    from hub.store import init_store

    data_dir = resolve_data_dir(args.data_dir)
    config = init_store(data_dir, args.store_id, args.store_name, args.currency, args.timezone)
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
    from hub.daemon import run
    from hub.demo import prepare_demo
    from hub.logs import setup_logging

    setup_logging(args.log_level)
    data_dir = Path(args.data_dir or os.environ.get("LOUPE_DATA_DIR")
                    or Path(tempfile.gettempdir()) / "loupe-demo").resolve()
    config, lines = asyncio.run(prepare_demo(data_dir, items=args.items, clients=args.clients,
                                             sales=args.sales))
    for line in lines:
        print(line, flush=True)
    if args.no_serve:
        return 0
    asyncio.run(run(config, _options(args, demo=True)))
    return 0


# -- data in ------------------------------------------------------------------------------------

def cmd_items_import(args: argparse.Namespace) -> int:
    from hub.imports import import_items

    count = with_store(args, lambda store: import_items(store, Path(args.file), args.actor))
    print(f"imported {count} pieces from {args.file}")
    return 0


def cmd_clients_import(args: argparse.Namespace) -> int:
    from hub.imports import import_clients

    count = with_store(args, lambda store: import_clients(store, Path(args.file), args.actor))
    print(f"imported {count} clients from {args.file}")
    return 0


def cmd_clients_forget(args: argparse.Namespace) -> int:
    seq = with_store(args, lambda store: store.clients.forget(args.client_id, actor=args.actor,
                                                              reason=args.reason))
    print(f"forgot client {args.client_id} (journal seq {seq}): their key is destroyed and"
          " their entries can no longer be read")
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    from hub.generate import generate

    made = with_store(args, lambda store: generate(store, items=args.items, clients=args.clients,
                                                   sales=args.sales, seed=args.seed))
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


def cmd_ledger_rebuild(args: argparse.Namespace) -> int:
    count = with_store(args, lambda store: store.ledger.rebuild())
    print(f"rebuilt projections from {count} journal entries")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    print(json.dumps(with_store(args, lambda store: store.summary()), indent=2))
    return 0


def cmd_day(args: argparse.Namespace) -> int:
    from hub.words import ENGLISH

    format_amount = ENGLISH.money  # TODO(merge): the store's words

    if args.day_command == "close":
        report = with_store(args, lambda store: store.closures.close_day(args.actor))
        title = f"Z{report['z_no']} (journal seq {report['seq']}, code {report['short_code']})"
    else:
        report = with_store(args, lambda store: store.closures.report())
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
    p.add_argument("--no-serve", action="store_true", help="prepare the store and exit")
    p.add_argument("--log-level", default="info")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("status", help="print a summary of the store")
    data_dir_arg(p)
    p.set_defaults(func=cmd_status)

    items = sub.add_parser("items", help="pieces and stock").add_subparsers(
        dest="items_command", metavar="ACTION", required=True)
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
        print(f"loupe: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
