"""The `loupe` command. Every command documents itself (`loupe COMMAND --help`); errors go to
stderr as one line naming what is wrong, with a non-zero exit code.

Here are the commands that start things (`init`, `run`, `demo`) and the assembly: every layer
of `hub/layers.py` adds its own commands (the store's own are in `hub/commands.py`). Commands
that write the books are *named commands* (`@book_command`, `hub.control`): through the
running hub when there is one, on books opened here under the store's lock when there is
none. Commands that only read open the books read-only beside a running hub.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from hub import layers
from hub.config import load_config, resolve_data_dir
from hub.control import CommandError, ControlError, data_dir_arg, known_errors
from hub.daemon import hold_books, run
from hub.layers import LAYERS
from hub.logs import setup_logging
from hub.runtime import Options
from hub.store import init_store
from hub.web.tls import ca_cert_path, ensure_certificates

# -- init, run, demo ----------------------------------------------------------------------------

def cmd_init(args: argparse.Namespace) -> int:
    data_dir = resolve_data_dir(args.data_dir)
    config = init_store(data_dir, args.store_id, args.store_name, args.currency, args.timezone,
                        args.locale)
    print(f"created store {config.store_id} ({config.store_name}) in {data_dir}")
    # The store's own CA and HTTPS certificate, so tablets can trust the hub once.
    ensure_certificates(config.data_dir, config.store_id, config.store_name)
    print(f"HTTPS certificate issued by the store CA: {ca_cert_path(config.data_dir)}")
    print(f"master key: {config.master_key_file} (keep a copy offline: without it the books"
          " cannot be read)")
    return 0


def _options(args: argparse.Namespace, **overrides: Any) -> Options:
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
    setup_logging(args.log_level)
    config = load_config(resolve_data_dir(args.data_dir))
    asyncio.run(run(config, _options(args)))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Create (once) and run a demo store with generated data and simulated devices."""
    setup_logging(args.log_level)
    data_dir = Path(args.data_dir or os.environ.get("LOUPE_DATA_DIR")
                    or Path(tempfile.gettempdir()) / "loupe-demo").resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    options = _options(args, demo=True)
    # Held from before the demo store is filled until the hub stops: one writer throughout.
    lock = hold_books(data_dir, options)
    try:
        # The demo's generator loads for a demo only (not at every `loupe run`).
        demo = importlib.import_module("hub.demo")
        config, lines = asyncio.run(demo.prepare_demo(
            data_dir, items=args.items, clients=args.clients, sales=args.sales,
            locale=args.locale))
        for line in lines:
            print(line, flush=True)
        if args.no_serve:
            return 0
        asyncio.run(run(config, options, lock))
    finally:
        lock.release()
    return 0


# The commands this module defines: they parse without every layer's CLI module, whose
# imports (HQ's console, the web shop, the PostgreSQL client...) were most of a second of the
# hub's start; the running hub's control channel loads them when a command first asks.
OWN_COMMANDS = ("init", "run", "demo")


def build_parser(with_layers: bool = True) -> argparse.ArgumentParser:
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
    p.add_argument("--items", type=int, default=1600)
    p.add_argument("--clients", type=int, default=300)
    p.add_argument("--sales", type=int, default=1000, help="over the past two years")
    p.add_argument("--locale", default="en-GB",
                   help="a new demo store's language and formats, e.g. fr-FR (default en-GB)")
    p.add_argument("--no-serve", action="store_true", help="prepare the store and exit")
    p.add_argument("--log-level", default="info")
    p.set_defaults(func=cmd_demo)

    for layer in LAYERS if with_layers else ():
        if layer.cli is not None:
            layers.load(layer.cli).add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(with_layers=not argv or argv[0] not in OWN_COMMANDS)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except CommandError as exc:
        print(f"loupe: error: {exc}", file=sys.stderr)
        return exc.code
    except known_errors() as exc:
        print(f"loupe: error: {exc}", file=sys.stderr)
        return exc.code if isinstance(exc, ControlError) else 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
