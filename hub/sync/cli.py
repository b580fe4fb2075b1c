"""`loupe enroll` (a hub joins its chain) and `loupe hq ...` (the reference HQ)."""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
from pathlib import Path
from typing import Any

from hub.config import ConfigError
from hub.control import Books, CommandError, book_command, data_dir_arg, file_content, write_books
from hub.hq import clients_cli as hq_clients
from hub.hq import demo as hq_demo
from hub.hq import ops, shop
from hub.hq import reports as hq_reports
from hub.hq import transfers as hq_transfers
from hub.hq.console import cli as console_cli
from hub.ledger.keys import public_key_fingerprint
from hub.logs import setup_logging
from hub.sync.enroll import EnrollError, HQKeys, enroll_store, read_bundle
from hub.sync.escrow import EscrowError, open_escrow, write_master_key
from hub.sync.hq import Receiver, open_hq, publish_signed
from hub.sync.pgstore import PostgresError
from hub.sync.settings import Broker
from hub.sync.tls import write_secret
from hub.sync.wire import WireError


def _hq(args: argparse.Namespace):
    try:
        return HQKeys.load(Path(args.data_dir).resolve())
    except EnrollError as exc:
        raise CommandError(str(exc)) from None


def _broker(url: str):
    try:
        return Broker.parse(url, "--broker")
    except ConfigError as exc:
        raise CommandError(str(exc), 2) from None


@book_command("enroll")
async def enroll(books: Books, bundle: str, content: str) -> dict[str, Any]:
    store = books.store
    try:
        doc = read_bundle(base64.b64decode(content), store.config.store_id)
        enrollment, fingerprint = await enroll_store(store.ledger, store.config.data_dir, doc)
    except EnrollError as exc:
        raise CommandError(f"{bundle}: {exc}") from None
    sync = "sync starts with `loupe run`"
    if books.runtime is not None:  # the running hub: its sync part takes the new enrollment
        part = books.runtime.sync
        sync = (await part.restart() if part is not None
                else "this hub runs without its sync part: sync starts when it is restarted")
    return {"store_id": enrollment.store_id, "chain_id": enrollment.chain_id,
            "fingerprint": fingerprint, "broker": enrollment.broker, "sync": sync}


def cmd_enroll(args: argparse.Namespace) -> int:
    done = write_books(args, "enroll", bundle=args.bundle, content=file_content(args.bundle))
    print(f"enrolled store {done['store_id']} in chain {done['chain_id']}")
    print(f"HQ key fingerprint: {done['fingerprint']} (compare with the one HQ printed)")
    print(f"broker: {done['broker']}; {done['sync']}")
    return 0


def cmd_hq_init(args: argparse.Namespace) -> int:
    try:
        if args.db and not args.db.startswith(("postgresql://", "postgres://")):
            raise EnrollError(f"--db must be a postgresql:// URL, not {args.db!r}: leave it"
                              " out for SQLite")
        keys = HQKeys.create(Path(args.data_dir).resolve(), args.chain_id)
        if args.db:
            keys.use_db(args.db)
        open_hq(keys).storage.close()
    except (EnrollError, WireError, PostgresError) as exc:
        raise CommandError(str(exc)) from None
    pub = keys.signing.public_key().public_bytes_raw()
    print(f"created HQ for chain {keys.chain_id} in {keys.data_dir}")
    print(f"HQ signing key fingerprint: {public_key_fingerprint(pub)}")
    print(f"broker CA: {keys.data_dir / 'ca.pem'} (make the broker's certificate with"
          " `loupe hq broker-cert`)")
    return 0


def cmd_hq_enroll(args: argparse.Namespace) -> int:
    keys = _hq(args)
    try:
        bundle, secret = keys.make_bundle(args.store_id, _broker(args.broker))
    except (WireError, ValueError) as exc:
        raise CommandError(str(exc)) from None
    hq = open_hq(keys)
    try:
        hq.storage.add_store(args.store_id, secret)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    finally:
        hq.storage.close()
    write_secret(Path(args.out), bundle)  # it holds the store's TLS key and one-time secret
    print(f"wrote enrollment bundle for store {args.store_id} to {args.out} (keep it secret;"
          " import it with `loupe enroll`)")
    print(f"HQ signing key fingerprint: "
          f"{public_key_fingerprint(keys.signing.public_key().public_bytes_raw())}")
    return 0


def cmd_hq_broker_cert(args: argparse.Namespace) -> int:
    keys = _hq(args)
    cert, key = keys.server_cert(tuple(args.names))
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "ca.pem").write_bytes((keys.data_dir / "ca.pem").read_bytes())
    (out / "server.pem").write_bytes(cert)
    write_secret(out / "server.key", key)
    print(f"wrote ca.pem, server.pem and server.key for {', '.join(args.names)} to {out}")
    return 0


def _worker_name(text: str) -> str:
    # It becomes part of an MQTT client id: keep it short and plain.
    if not text or len(text) > 32 or not all(c.isalnum() or c in "-_" for c in text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a worker name: 1 to 32 letters, digits, '-' or '_'")
    return text


def cmd_hq_run(args: argparse.Namespace) -> int:
    setup_logging(args.log_level)
    keys = _hq(args)
    broker = _broker(args.broker)
    hq = open_hq(keys)

    async def go() -> None:
        receiver = Receiver(hq, broker, keys.tls, worker=args.worker)
        web = await console_cli.start_web(receiver, keys, args) if args.web else None
        try:
            await receiver.run()
        finally:
            if web is not None:
                await web.cleanup()
            await receiver.close()

    try:
        asyncio.run(go())
    except KeyboardInterrupt:
        pass
    finally:
        hq.storage.close()
    return 0


def _send(args: argparse.Namespace, store_id: str, mtype: str, body: dict[str, Any]) -> int:
    keys = _hq(args)
    broker = _broker(args.broker)
    hq = open_hq(keys)
    try:
        name, payload = hq.message(store_id, mtype, body)
    except (WireError, KeyError) as exc:
        raise CommandError(str(exc)) from None
    finally:
        hq.storage.close()
    asyncio.run(publish_signed(broker, keys.tls, f"loupe-hq-cli-{keys.chain_id}",
                               [(name, payload)]))
    print(f"sent {mtype} to {store_id} ({json.loads(payload)['doc']['id']})")
    return 0


def _json_arg(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CommandError(f"{what}: not JSON: {exc}", 2) from None


def cmd_hq_send(args: argparse.Namespace) -> int:
    return _send(args, args.store, args.type, _json_arg(args.body, "--body"))


def cmd_hq_price(args: argparse.Namespace) -> int:
    return _send(args, args.store, "price", {"item_id": args.item, "tag_price": args.price,
                                             "currency": args.currency})


def cmd_hq_rates(args: argparse.Namespace) -> int:
    rates = []
    for spec in args.rate:
        try:
            metal, fineness, per_gram = spec.split(":")
            rates.append({"metal": metal, "fineness": int(fineness), "per_gram": int(per_gram),
                          "currency": args.currency, "valid_from": args.valid_from,
                          "valid_until": args.valid_until})
        except ValueError:
            raise CommandError(f"--rate {spec!r}: expected METAL:FINENESS:PER_GRAM, e.g."
                               " gold:750:4210", 2) from None
    return _send(args, args.store, "rates", {"rates": rates})


def cmd_hq_exchange_rates(args: argparse.Namespace) -> int:
    """Exchange rates for foreign currency tenders (hub/travel): home currency per unit, as
    an exact decimal string."""
    rates = []
    for spec in args.rate:
        currency, sep, rate = spec.partition(":")
        if not sep or not currency or not rate:
            raise CommandError(f"--rate {spec!r}: expected CURRENCY:RATE, e.g. USD:0.9215", 2)
        rates.append({"currency": currency.upper(), "rate": rate,
                      "valid_from": args.valid_from, "valid_until": args.valid_until})
    return _send(args, args.store, "exchange_rates", {"rates": rates})


def cmd_hq_reserve(args: argparse.Namespace) -> int:
    return _send(args, args.store, "reservation", {
        "reservation_id": args.reservation_id, "item_id": args.item, "client_id": args.client,
        "pickup_by": args.pickup_by})


def cmd_hq_cancel(args: argparse.Namespace) -> int:
    return _send(args, args.store, "reservation_cancelled",
                 {"reservation_id": args.reservation_id, "reason": args.reason})


def cmd_hq_transfer(args: argparse.Namespace) -> int:
    keys = _hq(args)
    broker = _broker(args.broker)
    hq = open_hq(keys)
    try:
        row, messages = hq_transfers.request(hq, args.item, args.from_store, args.to_store,
                                             os.environ.get("USER") or "cli")
    except WireError as exc:
        raise CommandError(str(exc)) from None
    finally:
        hq.storage.close()
    asyncio.run(publish_signed(broker, keys.tls, f"loupe-hq-cli-{keys.chain_id}", messages))
    print(f"asked {args.from_store} to send {args.item} to {args.to_store}"
          f" (transfer {row['transfer_id']})")
    return 0


def cmd_hq_reports_rebuild(args: argparse.Namespace) -> int:
    hq = open_hq(_hq(args))
    try:
        read = hq_reports.rebuild(hq, args.store)
    finally:
        hq.storage.close()
    print(f"the chain's sales figures made again from {read} entries"
          + (f" of {args.store}" if args.store else ""))
    return 0


def _print_rows(rows: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        print(json.dumps(rows, indent=2, default=str))
        return
    if not rows:
        print("(none)")
        return
    cols = list(rows[0])
    print("\t".join(cols))
    for row in rows:
        print("\t".join("" if row[c] is None else str(row[c]) for c in cols))


def _query(args: argparse.Namespace, fn) -> int:
    hq = open_hq(_hq(args))
    try:
        _print_rows(fn(hq), args.json)
    finally:
        hq.storage.close()
    return 0


def cmd_hq_stores(args: argparse.Namespace) -> int:
    hq = open_hq(_hq(args))
    try:
        return ops.stores_command(hq, as_json=args.json, check=args.verify)
    except WireError as exc:
        raise CommandError(str(exc)) from None
    finally:
        hq.storage.close()


def cmd_hq_stock(args: argparse.Namespace) -> int:
    return _query(args, lambda hq: hq.storage.stock(args.store))


def cmd_hq_conflicts(args: argparse.Namespace) -> int:
    return _query(args, lambda hq: hq.storage.conflicts())


def cmd_hq_verify(args: argparse.Namespace) -> int:
    hq = open_hq(_hq(args))
    try:
        verdict = hq.verify_store(args.store)
    finally:
        hq.storage.close()
    print(verdict)
    return 0 if verdict.startswith("ok") else 1


def cmd_hq_escrow(args: argparse.Namespace) -> int:
    """A store's master key file from its escrow (kept from its hellos, or a file it wrote
    with `loupe keys escrow`), written 0600 and never over an existing file."""

    keys = _hq(args)
    if args.from_file:
        try:
            sealed = Path(args.from_file).read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {args.from_file}: {exc}") from None
    else:
        hq = open_hq(keys)
        try:
            sealed = hq.storage.escrow(args.store)
        finally:
            hq.storage.close()
        if sealed is None:
            raise CommandError(f"HQ holds no escrow of store {args.store!r}: its hub has not"
                               " said hello since it was enrolled, or runs a Loupe from"
                               " before escrow")
    try:
        write_master_key(Path(args.out), open_escrow(keys.box, sealed))
    except EscrowError as exc:
        raise CommandError(str(exc)) from None
    print(f"wrote {args.out}: store {args.store}'s master key (0600). Carry it to the store"
          " by hand and put it in place of its master.key (docs/operations.md, \"What to do"
          " when\")")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("enroll", help="join this hub to its chain with HQ's enrollment bundle")
    data_dir_arg(p)
    p.add_argument("bundle", help="the file made by `loupe hq enroll`")
    p.set_defaults(func=cmd_enroll)

    hq = sub.add_parser("hq", help="the reference HQ receiver and its tools").add_subparsers(
        dest="hq_command", metavar="ACTION", required=True)
    hq_demo.add_command(hq)  # `loupe hq demo`: a local chain in one command

    def hq_parser(name: str, help_: str, broker: bool = False) -> argparse.ArgumentParser:
        p = hq.add_parser(name, help=help_)
        p.add_argument("--data-dir", required=True, help="HQ's data dir")
        if broker:
            p.add_argument("--broker", required=True, help="mqtt://host:1883 or mqtts://host:8883")
        return p

    p = hq_parser("init", "create HQ's keys and the broker CA")
    p.add_argument("--chain-id", required=True)
    p.add_argument("--db", help="postgresql://user@host/db: HQ's storage for a chain at"
                                " scale and several workers (default: SQLite in the data dir)")
    p.set_defaults(func=cmd_hq_init)
    p = hq_parser("enroll", "make a store's enrollment bundle", broker=True)
    p.add_argument("--store-id", required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_hq_enroll)
    p = hq_parser("broker-cert", "make the broker's TLS certificate from HQ's CA")
    p.add_argument("--out-dir", required=True)
    p.add_argument("names", nargs="+", help="host names / IPs stores use to reach the broker")
    p.set_defaults(func=cmd_hq_broker_cert)
    p = hq_parser("run", "receive every store's journal until interrupted", broker=True)
    p.add_argument("--log-level", default="info")
    p.add_argument("--worker", type=_worker_name, default=None,
                   help="run as one of several receivers sharing the chain's stores (a name"
                   " unique among them: letters, digits, '-', '_')")
    console_cli.add_run_options(p)  # --web: HQ's console in the same process
    p.set_defaults(func=cmd_hq_run)
    p = hq_parser("escrow", "write a store's master key file from HQ's escrow of it")
    p.add_argument("--store", required=True, help="the store id")
    p.add_argument("--out", required=True, help="the key file to write (0600, never"
                                                " overwritten)")
    p.add_argument("--from-file", help="open this escrow file (`loupe keys escrow`) instead"
                                       " of the one HQ keeps")
    p.set_defaults(func=cmd_hq_escrow)
    console_cli.add_commands(hq_parser, lambda args: open_hq(_hq(args)))  # `hq staff`
    shop.add_command(hq_parser)  # `loupe hq shop-secret`

    p = hq_parser("send", "send any signed HQ message", broker=True)
    p.add_argument("--store", required=True, help="a store id, or `all`")
    p.add_argument("--type", required=True)
    p.add_argument("--body", required=True, help="the message body as JSON")
    p.set_defaults(func=cmd_hq_send)
    p = hq_parser("price", "change a piece's tag price at a store", broker=True)
    p.add_argument("--store", required=True)
    p.add_argument("--item", required=True)
    p.add_argument("--price", type=int, required=True, help="minor units")
    p.add_argument("--currency", required=True)
    p.set_defaults(func=cmd_hq_price)
    p = hq_parser("rates", "push metal rates (per gram, minor units)", broker=True)
    p.add_argument("--store", default="all")
    p.add_argument("--rate", action="append", required=True, help="METAL:FINENESS:PER_GRAM")
    p.add_argument("--currency", required=True)
    p.add_argument("--valid-from", required=True)
    p.add_argument("--valid-until", required=True)
    p.set_defaults(func=cmd_hq_rates)
    p = hq_parser("exchange-rates", "push exchange rates (home currency for one unit of"
                                    " each foreign one)", broker=True)
    p.add_argument("--store", default="all")
    p.add_argument("--rate", action="append", required=True, help="CURRENCY:RATE, e.g."
                                                                   " USD:0.9215")
    p.add_argument("--valid-from", required=True, help="a moment with its offset")
    p.add_argument("--valid-until", required=True)
    p.set_defaults(func=cmd_hq_exchange_rates)
    p = hq_parser("reserve", "hold a piece at a store for an online client", broker=True)
    p.add_argument("--store", required=True)
    p.add_argument("--item", required=True)
    p.add_argument("--client", required=True)
    p.add_argument("--reservation-id", required=True)
    p.add_argument("--pickup-by", required=True)
    p.set_defaults(func=cmd_hq_reserve)
    p = hq_parser("cancel", "cancel a reservation", broker=True)
    p.add_argument("--store", required=True)
    p.add_argument("--reservation-id", required=True)
    p.add_argument("--reason", default="cancelled online")
    p.set_defaults(func=cmd_hq_cancel)

    p = hq_parser("transfer", "ask a store to send one of its pieces to another store",
                  broker=True)
    p.add_argument("--item", required=True)
    p.add_argument("--from", dest="from_store", required=True)
    p.add_argument("--to", dest="to_store", required=True)
    p.set_defaults(func=cmd_hq_transfer)

    p = hq_parser("reports-rebuild", "make the chain's sales figures again from HQ's copy of"
                                     " the journal (once, after an upgrade that adds them)")
    p.add_argument("--store", help="one store (default: every store)")
    p.set_defaults(func=cmd_hq_reports_rebuild)

    for name, fn, help_ in (("stores", cmd_hq_stores, "each store's sync position"),
                            ("stock", cmd_hq_stock, "pieces by store"),
                            ("conflicts", cmd_hq_conflicts, "conflicts seen at HQ")):
        p = hq_parser(name, help_)
        p.add_argument("--json", action="store_true")
        if name == "stock":
            p.add_argument("--store")
        if name == "stores":
            p.add_argument("--verify", action="store_true",
                           help="check every store's chain now (else: the last verdict)")
        p.set_defaults(func=fn)
    hq_clients.add_commands(hq)  # `loupe hq clients matches | merge | dismiss`
    p = hq_parser("verify", "check every hash and signature of HQ's copy of a store")
    p.add_argument("--store", required=True)
    p.set_defaults(func=cmd_hq_verify)

