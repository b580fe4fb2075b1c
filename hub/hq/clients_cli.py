"""`loupe hq clients matches | merge ID | dismiss ID` (hub/hq/clients.py is the part; this
module opens HQ, which the part cannot import: HQ is made of its parts)."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any

from hub.config import ConfigError
from hub.control import CommandError
from hub.hq.clients import dismiss, matches, matches_table, merge, proposals
from hub.sync.enroll import EnrollError, HQKeys
from hub.sync.hq import open_hq, publish_signed
from hub.sync.settings import Broker
from hub.sync.wire import WireError


def _open(args: argparse.Namespace) -> Any:
    try:
        return open_hq(HQKeys.load(Path(args.data_dir).resolve()))
    except EnrollError as exc:
        raise CommandError(str(exc)) from None


def cmd_matches(args: argparse.Namespace) -> int:
    hq = _open(args)
    try:
        rows = matches(hq.storage) if args.all else proposals(hq.storage)
    finally:
        hq.storage.close()
    print(json.dumps(rows, indent=2) if args.json else matches_table(rows))
    return 0


def cmd_merge(args: argparse.Namespace) -> int:
    try:
        broker = Broker.parse(args.broker, "--broker")
    except ConfigError as exc:
        raise CommandError(str(exc), 2) from None
    hq = _open(args)
    try:
        messages = merge(hq, args.match_id, args.actor)
    except (LookupError, ValueError, WireError) as exc:
        raise CommandError(str(exc)) from None
    finally:
        hq.storage.close()
    asyncio.run(publish_signed(broker, hq.keys.tls, f"loupe-hq-cli-{hq.chain}", messages))
    print(f"merged client match {args.match_id}: both stores are sent the link")
    return 0


def cmd_dismiss(args: argparse.Namespace) -> int:
    hq = _open(args)
    try:
        dismiss(hq.storage, args.match_id, args.actor)
    except (LookupError, ValueError) as exc:
        raise CommandError(str(exc)) from None
    finally:
        hq.storage.close()
    print(f"dismissed client match {args.match_id}: they stay two clients")
    return 0


def add_commands(hq: argparse._SubParsersAction) -> None:
    """`loupe hq clients matches | merge ID | dismiss ID` under `loupe hq`."""
    sub = hq.add_parser("clients", help="clients at several stores: proposals to merge"
                        ).add_subparsers(dest="clients_command", metavar="ACTION", required=True)

    def leaf(name: str, help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_)
        p.add_argument("--data-dir", required=True, help="HQ's data dir")
        return p

    p = leaf("matches", "clients proposed for merging (the same e-mail or phone)")
    p.add_argument("--all", action="store_true", help="merged and dismissed ones too")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_matches)
    for name, fn, help_ in (("merge", cmd_merge, "one client: link both stores' clients"),
                            ("dismiss", cmd_dismiss, "two clients: close the proposal")):
        p = leaf(name, help_)
        p.add_argument("match_id", metavar="ID")
        p.add_argument("--actor", default="hq", help="who decides (kept with the match)")
        if name == "merge":
            p.add_argument("--broker", required=True,
                           help="mqtt://host:1883 or mqtts://host:8883")
        p.set_defaults(func=fn)
