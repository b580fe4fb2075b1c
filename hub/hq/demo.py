"""A local chain in one command (`loupe hq demo`, or scripts/hq-demo): HQ on a private
PostgreSQL with two receiver workers (MQTT 5 shared subscriptions), a central Mosquitto and
a regional one bridged to it, three demo stores (Paris on the central broker, Lyon and
Geneva on the regional one) each a real hub with simulated devices, and HQ's console.

Everything runs as the real programs would, each in its own process: `loupe hq run
--worker`, `loupe demo --data-dir` per store, `mosquitto`, `postgres`. Once the stores have
drained to HQ, the web shop (simulated: a signed request to HQ's shop API, as a platform's
webhook would make) reserves a piece at Lyon for click-and-collect; an associate collects
it on Lyon's floor (the demo says how, or `--collect` does it through Lyon's API).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub.bus import EventBus
from hub.demo import seed_demo_staff
from hub.generate import generate
from hub.hq import pgcluster, shop
from hub.store import Store, init_store
from hub.sync.broker import Bridge, Mosquitto
from hub.sync.enroll import HQKeys, enroll_store, read_bundle
from hub.sync.hq import open_hq
from hub.sync.settings import Broker
from hub.sync.tls import write_secret

CHAIN = "maison"


@dataclass(frozen=True)
class DemoStore:
    store_id: str
    name: str
    currency: str
    timezone: str
    regional: bool  # on the regional broker (bridged), or on the central one


STORES = (DemoStore("paris", "Maison Loupe — Paris", "EUR", "Europe/Paris", False),
          DemoStore("lyon", "Maison Loupe — Lyon", "EUR", "Europe/Paris", True),
          DemoStore("geneve", "Maison Loupe — Genève", "CHF", "Europe/Zurich", True))
OWNER, OWNER_PASSWORD_FILE = "claire", "owner-password"


@dataclass
class Chain:
    """What `prepare` made: where everything lives and how to reach it."""

    root: Path
    cluster: pgcluster.PgCluster
    central: Mosquitto
    regional: Mosquitto
    keys: HQKeys
    ports: dict[str, int]
    console_port: int
    password: str


def prepare(root: Path, *, items: int, clients: int, sales: int, first_port: int,
            console_port: int) -> Chain:
    """Make the chain's parts (cluster, brokers, HQ, the stores and their data, enrolled)."""
    if (root / "hq").exists():
        raise SystemExit(f"{root} already holds a demo chain: remove it or choose another"
                         " --dir (the demo always starts fresh)")
    root.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as started:  # a failure on the way stops what was started
        cluster = pgcluster.PgCluster(root / "pg")
        cluster.start()
        started.callback(cluster.stop)
        central = Mosquitto(root / "central")
        central.start()
        started.callback(central.stop)
        regional = Mosquitto(root / "regional", bridge_to=Bridge(central, CHAIN, "east"))
        regional.start()
        started.callback(regional.stop)
        chain = _prepare_chain(root, cluster, central, regional, items=items,
                               clients=clients, sales=sales, first_port=first_port,
                               console_port=console_port)
        started.pop_all()
    return chain


def _prepare_chain(root: Path, cluster: pgcluster.PgCluster, central: Mosquitto,
                   regional: Mosquitto, *, items: int, clients: int, sales: int,
                   first_port: int, console_port: int) -> Chain:
    url = cluster.createdb("hq")
    keys = HQKeys.create(root / "hq", CHAIN)
    keys.use_db(url)
    password = secrets.token_urlsafe(9)
    write_secret(root / OWNER_PASSWORD_FILE, password.encode())
    hq = open_hq(keys)
    try:
        bundles = {}
        for s in STORES:
            broker = regional if s.regional else central
            bundle, secret = keys.make_bundle(s.store_id, Broker.parse(broker.url, "demo"))
            hq.storage.add_store(s.store_id, secret)
            bundles[s.store_id] = bundle
    finally:
        hq.storage.close()
    for i, s in enumerate(STORES):
        asyncio.run(_make_store(root / "stores" / s.store_id, s, bundles[s.store_id],
                                items=items, clients=clients, sales=sales, seed=i + 1))
    # Chosen last, after the cluster and brokers took theirs, so none of them lands on a
    # store's port (a hub that cannot bind stops, and its store never reaches HQ).
    wanted = [first_port + i if first_port else 0 for i in range(len(STORES))]
    *store_ports, console_port = _ports([*wanted, console_port])
    ports = {s.store_id: port for s, port in zip(STORES, store_ports, strict=True)}
    return Chain(root, cluster, central, regional, keys, ports, console_port, password)


def _ports(wanted: list[int]) -> list[int]:
    """The ports asked for, each checked free, and a free one for each 0; all held open
    together while choosing, so no two are the same."""
    held: list[socket.socket] = []
    try:
        for port in wanted:
            sock = socket.socket()
            held.append(sock)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                raise SystemExit(f"port {port} is in use: choose other ports with --port and"
                                 " --console-port (0 lets the demo pick free ones)") from None
        return [sock.getsockname()[1] for sock in held]
    finally:
        for sock in held:
            sock.close()


async def _make_store(data_dir: Path, s: DemoStore, bundle: bytes, *, items: int,
                      clients: int, sales: int, seed: int) -> None:
    init_store(data_dir, s.store_id, s.name, s.currency, s.timezone, "en-GB")
    store = await Store.open(data_dir, EventBus())
    try:
        await seed_demo_staff(store)
        await generate(store, items=items, clients=clients, sales=sales, seed=seed)
        await enroll_store(store.ledger, data_dir, read_bundle(bundle, s.store_id))
    finally:
        await store.close()


def launch(chain: Chain, log_dir: Path) -> dict[str, subprocess.Popen[bytes]]:
    """The processes: two HQ workers (the first serves the console), three hubs."""
    py = [sys.executable, "-m", "hub"]
    hq_dir, central = str(chain.keys.data_dir), chain.central.url
    owner = subprocess.run(
        [*py, "hq", "staff", "add", OWNER, "--role", "owner", "--data-dir", hq_dir,
         "--password-file", str(chain.root / OWNER_PASSWORD_FILE)],
        capture_output=True, text=True)
    if owner.returncode != 0:
        raise SystemExit(f"could not add the console's owner: {owner.stderr.strip()}")
    commands = {
        "hq-w1": [*py, "hq", "run", "--data-dir", hq_dir, "--broker", central, "--worker",
                  "w1", "--web", "--web-host", "127.0.0.1", "--web-port",
                  str(chain.console_port), "--log-level", "warning"],
        "hq-w2": [*py, "hq", "run", "--data-dir", hq_dir, "--broker", central, "--worker",
                  "w2", "--log-level", "warning"],
        **{f"store-{sid}": [*py, "demo", "--data-dir", str(chain.root / "stores" / sid),
                            "--port", str(port), "--no-zeroconf", "--log-level", "warning"]
           for sid, port in chain.ports.items()},
    }
    log_dir.mkdir(parents=True, exist_ok=True)
    return {name: subprocess.Popen(cmd, stdout=open(log_dir / f"{name}.log", "ab"),
                                   stderr=subprocess.STDOUT, start_new_session=True)
            for name, cmd in commands.items()}


def synced(chain: Chain) -> dict[str, int]:
    """Entries HQ holds per store (read from HQ's database)."""
    hq = open_hq(chain.keys)
    try:
        return {s.store_id: s.entries for s in hq.storage.stores()}
    finally:
        hq.storage.close()


def wait_synced(chain: Chain, procs: dict[str, subprocess.Popen[bytes]],
                timeout: float = 180) -> dict[str, int]:
    deadline = time.monotonic() + timeout
    while True:
        _check_running(chain, procs)
        held = synced(chain)
        if all(held.get(s.store_id, 0) > 0 for s in STORES):
            return held
        if time.monotonic() > deadline:
            raise SystemExit(f"the stores did not reach HQ within {timeout:.0f} s: {held}")
        time.sleep(0.5)


def _check_running(chain: Chain, procs: dict[str, subprocess.Popen[bytes]]) -> None:
    """A part that stopped while the chain comes up is said at once, with its log's end."""
    for name, proc in procs.items():
        if proc.poll() is not None:
            log = (chain.root / "logs" / f"{name}.log").read_text(errors="replace")
            tail = "\n".join(log.strip().splitlines()[-15:])
            raise SystemExit(f"{name} stopped (exit code {proc.returncode}) before the chain"
                             f" was up; the end of its log:\n{tail}")


def _dearest(chain: Chain, store_id: str) -> dict[str, Any]:
    hq = open_hq(chain.keys)
    try:
        return hq.storage.query("SELECT item_id, sku, description, tag_price, currency FROM"
                                " items WHERE store_id = ? AND status = 'in_stock' ORDER BY"
                                " tag_price DESC LIMIT 1", (store_id,))[0]
    finally:
        hq.storage.close()


def reserve_online(chain: Chain, store_id: str = "lyon") -> dict[str, Any]:
    """The web shop reserves a piece in stock at `store_id` for collection: a signed request
    to HQ's shop API, as the platform would send it."""
    piece = _dearest(chain, store_id)
    return {"piece": piece, **shop.demo_reservation(chain.keys, chain.console_port, store_id,
                                                    piece["item_id"])}


def order_online(chain: Chain, store_id: str = "paris") -> dict[str, Any]:
    """The web shop sells a piece of `store_id` online, 5 % off its tag: Paris ships it."""
    piece = _dearest(chain, store_id)
    return {"piece": piece, **shop.demo_order(chain.keys, chain.console_port, store_id,
                                              piece["item_id"], piece["tag_price"] * 95 // 100,
                                              piece["currency"])}


def stop(procs: dict[str, subprocess.Popen[bytes]], chain: Chain | None) -> None:
    for proc in procs.values():
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs.values():
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
    if chain is not None:
        chain.regional.stop()
        chain.central.stop()
        chain.cluster.stop()


def main(args: Any) -> int:
    root = Path(args.dir or tempfile.mkdtemp(prefix="loupe-chain-")).resolve()
    procs: dict[str, subprocess.Popen[bytes]] = {}
    chain = None
    try:
        print(f"preparing a demo chain in {root} (PostgreSQL, two brokers bridged, three"
              " stores)...", flush=True)
        chain = prepare(root, items=args.items, clients=args.clients, sales=args.sales,
                        first_port=args.port, console_port=args.console_port)
        procs = launch(chain, root / "logs")
        held = wait_synced(chain, procs)
        print("HQ holds " + ", ".join(f"{sid}: {n} entries" for sid, n in held.items()),
              flush=True)
        reserved = reserve_online(chain)
        piece = reserved["piece"]
        ordered = order_online(chain)
        lines = [
            f"HQ console: https://127.0.0.1:{chain.console_port}/ (HQ's own certificate:"
            f" accept it) — sign in as {OWNER}, password {chain.password}",
            *(f"store {sid}: http://127.0.0.1:{port}/ (sophie 1111 associate, marc 2222"
              " manager)" for sid, port in chain.ports.items()),
            f"the web shop reserved {piece['description']} ({piece['item_id']}) at Lyon for"
            f" collection: reservation {reserved['reservation_id']}; collect it on Lyon's"
            " Sync page (Reservations), then see it collected in the console",
            f"the web shop sold {ordered['piece']['description']} ({ordered['piece']['item_id']})"
            f" online, to ship from Paris: order {ordered['order_id']}; pack it on Paris's Sync"
            " page (Online orders to ship), then see it shipped in the console (In transit)",
            f"logs: {root / 'logs'}; Ctrl-C stops the chain",
        ]
        for line in lines:
            print(line, flush=True)
        (root / "demo.json").write_text(json.dumps({
            "console_port": chain.console_port, "ports": chain.ports,
            "owner": OWNER, "reservation_id": reserved["reservation_id"],
            "item_id": piece["item_id"], "price": piece["tag_price"],
            "order_id": ordered["order_id"], "order_item_id": ordered["piece"]["item_id"]},
            indent=2))
        if args.ready_only:
            return 0
        while all(p.poll() is None for p in procs.values()):
            time.sleep(1)
        gone = [name for name, p in procs.items() if p.poll() is not None]
        print(f"a part of the chain stopped: {gone[0]}; see {root / 'logs'}", flush=True)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stop(procs, chain)


def add_command(hq_parser: Any) -> None:
    p = hq_parser.add_parser("demo", help="run a local chain: HQ on PostgreSQL with two"
                                          " workers, bridged brokers, three demo stores")
    p.add_argument("--dir", help="where the chain lives (default: a new temp dir)")
    p.add_argument("--port", type=int, default=8080,
                   help="the first store's port (then +1, +2); 0 picks free ones")
    p.add_argument("--console-port", type=int, default=8090, help="0 picks a free one")
    p.add_argument("--items", type=int, default=120)
    p.add_argument("--clients", type=int, default=40)
    p.add_argument("--sales", type=int, default=20)
    p.add_argument("--ready-only", action="store_true",
                   help="stop once the chain is up and the reservation made (tests)")
    p.set_defaults(func=main)
