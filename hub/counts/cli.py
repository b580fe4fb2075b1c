"""`loupe epc ...` (a technician's tools for a misbehaving tag) and `loupe counts ...`
(count reports). Bad input gets one line saying what is wrong and exit code 2."""

from __future__ import annotations

import argparse
import json
import re
from typing import Any

from hub.config import load_config, resolve_data_dir
from hub.control import CommandError, data_dir_arg, read_books
from hub.core.errors import NotFound
from hub.counts import reports
from hub.epc import SGTIN_FILTERS, EpcError, decode, encode
from hub.store import Store
from hub.words import words_for

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def cmd_epc_decode(args: argparse.Namespace) -> int:
    try:
        identity = decode(args.hex)
    except EpcError as exc:
        raise CommandError(str(exc), 2) from None
    lines = [("hex", identity.hex), ("scheme", identity.scheme)]
    if identity.pure_uri:
        lines.append(("pure identity", identity.pure_uri))
    lines.append(("tag URI", identity.tag_uri))
    if identity.filter is not None:
        lines.append(("filter", f"{identity.filter} ({SGTIN_FILTERS[identity.filter]})"))
    if identity.gtin:
        lines.append(("GTIN", identity.gtin))
    if identity.note:
        lines.append(("note", identity.note))
    if args.data_dir:
        lines.append(("piece", read_books(args, lambda store: _piece_line(store, identity.hex))))
    for label, value in lines:
        print(f"{label + ':':<15}{value}")
    return 0


async def _piece_line(store: Store, epc: str) -> str:
    piece = await store.items.by_epc(epc)
    if piece is None:
        return f"none in store {store.config.store_id} (a foreign or unregistered tag)"
    price = store.words.money(piece["tag_price"], store.config.currency)
    return (f"{piece['item_id']}  {piece['description']}  ({piece['status']},"
            f" {piece['location']}, {price})")


def cmd_epc_encode(args: argparse.Namespace) -> int:
    try:
        print(encode(args.urn, filter=args.filter))
    except EpcError as exc:
        raise CommandError(str(exc), 2) from None
    return 0


def _filter_value(text: str) -> int:
    if not re.fullmatch(r"[0-7]", text):
        raise argparse.ArgumentTypeError(f"must be one digit 0 to 7, got {text!r}")
    return int(text)


def _day(text: str) -> str:
    if not _DAY.match(text):
        raise argparse.ArgumentTypeError(f"must be a day as YYYY-MM-DD, got {text!r}")
    return text


def _percent(bp: int | None) -> str:
    return "-" if bp is None else f"{bp / 100:.2f} %"


def cmd_counts_list(args: argparse.Namespace) -> int:
    rows = read_books(args, lambda store: reports.counts_list(
        store.ledger, since=args.since, until=args.until))
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for c in rows:
        where = ", ".join(c["scope"]) if c["scope"] else "whole store"
        figures = (f"expected {c['expected']}, found {c['found']}, missing {c['missing']},"
                   f" misplaced {c['misplaced']}, unknown {c['unknown']},"
                   f" accuracy {_percent(c['accuracy_bp'])}") if c["closed_seq"] else "open"
        print(f"{c['count_id']}  {c['kind']:<8} {c['status']:<9} {where}: {figures}")
    if not rows:
        print("no counts")
    return 0


def cmd_counts_show(args: argparse.Namespace) -> int:
    try:
        detail = read_books(args, lambda store: reports.count_detail(store.ledger, store.items,
                                                                       args.count_id))
    except NotFound as exc:
        raise CommandError(str(exc), 2) from None
    print(json.dumps(detail, indent=2))
    return 0


def cmd_counts_report(args: argparse.Namespace) -> int:
    async def gather(store: Store) -> dict[str, Any]:
        window = {"since": args.since, "until": args.until}
        return {"currency": store.config.currency,
                "accuracy": await reports.accuracy(store.ledger, **window),
                "shrinkage": await reports.shrinkage(store.ledger, **window),
                "locations": await reports.hot_locations(store.ledger, **window)}

    report = read_books(args, gather)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    config = load_config(resolve_data_dir(args.data_dir))
    format_amount = words_for(config.locale, config.timezone).money
    money = report["currency"]
    acc = report["accuracy"]
    print(f"Inventory accuracy: {_percent(acc['accuracy_bp'])} over {len(acc['counts'])}"
          f" closed counts ({acc['in_place']} of {acc['expected']} pieces where the books say)")
    for c in acc["counts"]:
        print(f"  {c['day']}  {c['count_id']}  {c['kind']:<8} {_percent(c['accuracy_bp'])}"
              f"  (missing {c['missing']}, misplaced {c['misplaced']})")
    shr = report["shrinkage"]
    print(f"Shrinkage: {shr['pieces']} pieces confirmed missing,"
          f" {format_amount(shr['lost_tag_value'], money)} at tag price,"
          f" {format_amount(shr['lost_cost'], money)} at cost")
    for r in shr["by_category"]:
        print(f"  {r['category']:<12} {r['pieces']:>4} pieces"
              f" {format_amount(r['lost_tag_value'], money):>14}"
              f"  ({r['found_again']} found again)")
    print("Locations with the most discrepancies:")
    for r in report["locations"]:
        print(f"  {r['location']:<14} {r['discrepancies']:>4}  (missing {r['missing']},"
              f" read elsewhere {r['misplaced_out']}, others' pieces {r['misplaced_in']})")
    return 0


def add_commands(sub: Any) -> None:
    epc = sub.add_parser("epc", help="decode and encode RFID tag EPCs (GS1 TDS)").add_subparsers(
        dest="epc_command", metavar="ACTION", required=True)
    p = epc.add_parser("decode", help="print a tag's pure-identity and tag URIs")
    p.add_argument("hex", help="the 96-bit EPC as 24 hexadecimal digits")
    p.add_argument("--data-dir", help="also name the piece carrying this tag in that store")
    p.set_defaults(func=cmd_epc_decode)
    p = epc.add_parser("encode", help="print the EPC (hex) of a tag or pure-identity URI")
    p.add_argument("urn", help="e.g. urn:epc:tag:sgtin-96:1.0614141.812345.12345")
    p.add_argument("--filter", type=_filter_value, default=1,
                   help="SGTIN filter value for a pure-identity URI (default 1: point of sale)")
    p.set_defaults(func=cmd_epc_encode)

    counts = sub.add_parser("counts", help="stock count reports").add_subparsers(
        dest="counts_command", metavar="ACTION", required=True)
    for name, func, text in (("list", cmd_counts_list, "counts, newest first"),
                             ("report", cmd_counts_report,
                              "accuracy, shrinkage and locations with most discrepancies")):
        p = counts.add_parser(name, help=text)
        data_dir_arg(p)
        p.add_argument("--since", type=_day, help="first business day (YYYY-MM-DD)")
        p.add_argument("--until", type=_day, help="last business day (YYYY-MM-DD)")
        p.add_argument("--json", action="store_true")
        p.set_defaults(func=func)
    p = counts.add_parser("show", help="one count with its missing and misplaced pieces")
    data_dir_arg(p)
    p.add_argument("count_id")
    p.set_defaults(func=cmd_counts_show)
