"""Crash loop: the running hub (`python -m hub run`, its own process) selling to several
tills over its HTTP API, killed with SIGKILL at random moments and started again, N times.

Each till is an aiohttp client signed in at its own register, ringing up sales the way the
POS screen does (cart lines, a cash tender, complete), of pieces of its own and of pieces
every till wants at once (they walk the same list: two carts hold one piece, the second
to complete is refused). Now and then a manager voids a sale just made (her PIN approves
it), so its pieces go back to stock and are sold again. Every sale and void the API
acknowledged (a 201 with its document) is recorded here, outside the hub.

After the last kill the books are read directly, and must show:
- every acknowledged sale and void, with the register and document number it was given;
- no piece in two sales unless a void or return came in between (walked in journal order);
- document numbers gapless per register (sales, returns and voids share a series);
- the chain verifies (`verify_database`).

Figures: kills, acknowledged sales, sales/s while serving, restart-to-serving time (median,
p99) against two baselines from the same run: the first start of the fresh store, and a
clean restart (SIGTERM, start) of the store the crashes left.

    python -m bench crash [--quick]
    python -m bench.crash --kills 500 --clients 4 [--seed 7] [--keep DIR]
    python -m bench.crash --check DIR      (the books a kept run left, checked again)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from tests.builders import piece
from tests.reliability.hub_process import HubProcess, add_registers

PIN = "480917"
MANAGER = "manon"
TIMEOUT = aiohttp.ClientTimeout(total=20)  # a bound on a hang; a dead hub resets at once


class HubGone(Exception):
    """The connection to the hub broke: it was killed (or crashed)."""


@dataclass
class Ack:
    """A document the API acknowledged: a sale (`kind` "sale") or a void."""

    kind: str
    doc_id: str
    register_id: str
    receipt_no: int
    items: tuple[str, ...]
    sale_id: str = ""  # a void's sale


@dataclass
class Run:
    acks: list[Ack] = field(default_factory=list)
    refused: dict[str, int] = field(default_factory=dict)  # refusals by error code
    failures: list[str] = field(default_factory=list)  # 5xx or unreadable answers
    ran_dry: set[str] = field(default_factory=set)  # tills that had no piece left

    def refusal(self, code: str) -> None:
        self.refused[code] = self.refused.get(code, 0) + 1


# -- the store ---------------------------------------------------------------------------------

async def make_store(folder: Path, tills: int, own: int, contested: int):
    """A new store: `own` pieces for each till, `contested` every till wants, one associate
    per till and a manager. Returns (config, {till: [its pieces]}, [contested pieces])."""
    from hub.store import Store, init_store

    config = init_store(folder, "crash-01", "Maison Crash", "EUR")
    registers = add_registers(folder, tills)
    mine = {f"till{n}": [f"T{n}-{i:05d}" for i in range(own)] for n in range(1, tills + 1)}
    wanted = [f"C-{i:05d}" for i in range(contested)]
    ids = [i for pieces in mine.values() for i in pieces] + wanted
    async with await Store.open(config) as store:
        for start in range(0, len(ids), 2000):
            await store.items.receive_many(
                [piece(i, stones=[], tag_price=100_000 + 100 * (n % 50), cost=40_000)
                 for n, i in enumerate(ids[start:start + 2000], start)], actor="bench")
        for n, _ in enumerate(registers, 1):
            await store.staff.enroll(f"till{n}", f"Till {n}", "associate", PIN, actor="bench")
        await store.staff.enroll(MANAGER, "Manon Manager", "manager", PIN, actor="bench")
    return config, mine, wanted


# -- a till ------------------------------------------------------------------------------------

class Till:
    """One register's screen: signs in, then sells until the hub goes away."""

    def __init__(self, n: int, pieces: list[str], contested: list[str], rng: random.Random,
                 run: Run, *, contest_rate: float = 0.3, void_rate: float = 0.05) -> None:
        self.staff_id, self.register_id = f"till{n}", f"R{n}"
        self.own: deque[str] = deque(pieces)
        self.contested = contested
        self.next_contested = 0  # every till walks the same list: they collide on purpose
        self.rng, self.run = rng, run
        self.contest_rate, self.void_rate = contest_rate, void_rate
        self.cart = f"/api/v1/registers/{self.register_id}/cart"

    async def _call(self, http: aiohttp.ClientSession, method: str, path: str,
                    body: dict[str, Any] | None = None,
                    csrf: str | None = None) -> tuple[int, dict[str, Any]]:
        headers = {"X-CSRF-Token": csrf} if csrf else {}
        try:
            async with http.request(method, path, json=body, headers=headers) as r:
                status = r.status
                try:
                    data = await r.json()
                except (aiohttp.ContentTypeError, ValueError):
                    data = {"text": (await r.text())[:200]}
        except (TimeoutError, aiohttp.ClientError, ConnectionError) as exc:
            raise HubGone(str(exc)) from None
        if status >= 500:
            self.run.failures.append(f"{method} {path}: {status} {data}")
        return status, data

    async def life(self, base: str) -> None:
        """Sign in and sell until the connection breaks (the hub was killed)."""
        jar = aiohttp.CookieJar(unsafe=True)  # the hub is 127.0.0.1: keep its cookie
        async with aiohttp.ClientSession(base, cookie_jar=jar, timeout=TIMEOUT) as http:
            try:
                status, me = await self._call(http, "POST", "/api/v1/session", {
                    "staff_id": self.staff_id, "pin": PIN, "register_id": self.register_id})
                if status != 200:
                    self.run.failures.append(f"sign-in {self.staff_id}: {status} {me}")
                    return
                csrf = me["csrf"]
                while True:
                    await self._sell(http, csrf)
            except HubGone:
                return

    def _pick(self) -> list[str]:
        lines = []
        if self.own:
            lines.append(self.own.popleft())
        if self.next_contested < len(self.contested) and \
                (self.rng.random() < self.contest_rate or not lines):
            lines.append(self.contested[self.next_contested])
            self.next_contested += 1
        return lines

    async def _sell(self, http: aiohttp.ClientSession, csrf: str) -> None:
        # What a crash left in this register's cart (it outlives restarts) goes first.
        await self._call(http, "DELETE", self.cart, csrf=csrf)
        lines = self._pick()
        if not lines:
            self.run.ran_dry.add(self.staff_id)
            await asyncio.sleep(0.05)  # nothing left to sell: wait for the kill
            return
        cart: dict[str, Any] = {}
        for item_id in lines:
            status, answer = await self._call(http, "POST", self.cart + "/lines",
                                              {"item_id": item_id}, csrf)
            if status == 200:
                cart = answer
            else:  # another till sold it first, or a sale whose answer a kill swallowed
                self.run.refusal(answer.get("error", str(status)))
        if not cart.get("lines"):
            return
        status, answer = await self._call(http, "POST", self.cart + "/tenders",
                                          {"type": "cash", "amount": cart["total"]}, csrf)
        if status != 200:
            self.run.refusal(answer.get("error", str(status)))
            return
        status, answer = await self._call(http, "POST", self.cart + "/complete", {}, csrf)
        if status != 201:
            # A contested piece sold at another register meanwhile: this till's own piece
            # goes back on its shelf for the next sale.
            self.run.refusal(answer.get("error", str(status)))
            self.own.extendleft(i for i in lines if not i.startswith("C-"))
            return
        sale = answer["sale"]
        items = tuple(ln["item_id"] for ln in sale["lines"])
        self.run.acks.append(Ack("sale", sale["sale_id"], sale["register_id"],
                                 sale["receipt_no"], items))
        if self.rng.random() < self.void_rate:
            await self._void(http, csrf, sale["sale_id"], items)

    async def _void(self, http: aiohttp.ClientSession, csrf: str, sale_id: str,
                    items: tuple[str, ...]) -> None:
        """The manager voids the sale just made (keyed twice): her PIN approves exactly it."""
        path = f"/api/v1/sales/{sale_id}/void"
        body = {"register_id": self.register_id, "reason": "keyed twice"}
        status, asked = await self._call(http, "POST", path, body, csrf)
        if status != 403 or "action" not in asked:
            self.run.refusal(asked.get("error", str(status)))
            return
        status, approval = await self._call(http, "POST", "/api/v1/approvals", {
            "action": asked["action"], "manager_id": MANAGER, "pin": PIN}, csrf)
        if status != 201:
            self.run.refusal(approval.get("error", str(status)))
            return
        status, void = await self._call(http, "POST", path,
                                        {**body, "approval_id": approval["approval_id"]}, csrf)
        if status != 201:
            self.run.refusal(void.get("error", str(status)))
            return
        self.run.acks.append(Ack("void", void["return_id"], void["register_id"],
                                 void["receipt_no"], items, sale_id))
        self.own.extend(items)  # back in stock: sold again later


# -- the books after the crashes ---------------------------------------------------------------

async def check_books(config, acks: list[Ack]) -> dict[str, Any]:
    """Read the books the kills left and say what is wrong with them (`problems`), with the
    counts found. Walks the journal itself, in order, decrypting each document."""
    from hub.ledger.ledger import verify_database
    from hub.store import Store

    problems: list[str] = []
    verdict = await asyncio.to_thread(verify_database, config.db_path)
    if not verdict.ok:
        problems.append(f"the chain does not verify: {verdict}")
    documents: dict[str, dict[str, Any]] = {}  # by document id
    numbers: dict[str, list[int]] = {}
    sold: dict[str, str] = {}  # piece -> the sale that holds it now
    sales = voids = 0
    async with await Store.open(config) as store:
        after = 0
        while batch := await store.ledger.entries(after, 5000):
            for entry in batch:
                after = entry.seq
                if entry.kind not in ("sale.completed", "sale.voided", "sale.returned"):
                    continue
                p = store.ledger.decrypt(entry) or {}
                numbers.setdefault(p["register_id"], []).append(p["receipt_no"])
                items = [ln["item_id"] for ln in p.get("lines", []) if ln.get("item_id")]
                if entry.kind == "sale.completed":
                    sales += 1
                    documents[p["sale_id"]] = p
                    for item in items:
                        if item in sold:
                            problems.append(f"piece {item} sold twice: in {sold[item]} and in"
                                            f" {p['sale_id']} (seq {entry.seq}) with no"
                                            " return between")
                        sold[item] = p["sale_id"]
                else:
                    voids += 1
                    documents[p["return_id"]] = p
                    for item in items:
                        sold.pop(item, None)
        counters = {r["register_id"]: r["last_receipt_no"] for r in await store.ledger.fetch(
            "SELECT register_id, last_receipt_no FROM register_counters")}
    for register_id, nos in sorted(numbers.items()):
        if sorted(nos) != list(range(1, len(nos) + 1)):
            missing = sorted(set(range(1, max(nos) + 1)) - set(nos))
            doubled = sorted({n for n in nos if nos.count(n) > 1})
            problems.append(f"register {register_id}: document numbers not gapless"
                            f" (missing {missing[:10]}, twice {doubled[:10]})")
        if counters.get(register_id) != max(nos):
            problems.append(f"register {register_id}: its counter says"
                            f" {counters.get(register_id)}, its last document {max(nos)}")
    for ack in acks:
        doc = documents.get(ack.doc_id)
        if doc is None:
            problems.append(f"acknowledged {ack.kind} {ack.doc_id} is not in the books")
            continue
        items = tuple(ln["item_id"] for ln in doc.get("lines", []) if ln.get("item_id"))
        if (doc["register_id"], doc["receipt_no"], items) != (ack.register_id,
                                                              ack.receipt_no, ack.items):
            problems.append(f"acknowledged {ack.kind} {ack.doc_id} differs in the books")
    acked = {a.doc_id for a in acks}
    return {"problems": problems, "entries": after, "sales": sales, "voids": voids,
            "unacknowledged": sum(1 for d in documents if d not in acked),
            "verdict": str(verdict)}


# -- the loop ----------------------------------------------------------------------------------

ACKS = "acknowledged.jsonl"  # beside the store: a kept run can be checked again (--check)


def _keep(folder: Path, acks: list[Ack], after: int) -> None:
    with open(folder / ACKS, "a", encoding="utf-8") as f:
        f.writelines(json.dumps(asdict(a)) + "\n" for a in acks[after:])


def _kept(folder: Path) -> list[Ack]:
    rows = [json.loads(line) for line in (folder / ACKS).read_text("utf-8").splitlines()]
    return [Ack(**{**row, "items": tuple(row["items"])}) for row in rows]


async def _first_sale(run: Run, lives: list[asyncio.Task[None]], timeout: float = 60) -> None:
    had, deadline = len(run.acks), time.perf_counter() + timeout
    while len(run.acks) == had and time.perf_counter() < deadline and \
            not all(life.done() for life in lives):
        await asyncio.sleep(0.005)


def _p99(values: list[float]) -> float:
    values = sorted(values)
    return values[max(0, int(len(values) * 0.99 + 0.5) - 1)]


async def crash_loop(kills: int = 5, clients: int = 3, *, seed: int | None = None,
                     folder: Path | None = None, window: tuple[float, float] = (0.2, 1.5),
                     clean_restart: bool = True, out: Any = sys.stdout) -> dict[str, Any]:
    """Make a store, run the hub, sell, SIGKILL at a random moment, restart: `kills` times;
    then check the books. Returns the figures and `problems` (empty when all is well).
    `window`: how long the hub sells before each kill (seconds, drawn at random between);
    `clean_restart`: also time a clean restart at the end (a baseline)."""
    seed = random.randrange(1 << 30) if seed is None else seed
    rng = random.Random(seed)
    own_dir = folder is None
    folder = Path(tempfile.mkdtemp(prefix="loupe-crash-")) if folder is None else folder
    print(f"  crash loop: {kills} kills, {clients} tills, seed {seed}, in {folder}", file=out)
    per_till = 60 + int(kills * window[1] * 25)  # more than a till sells between kills
    config, mine, wanted = await make_store(folder / "store", clients, per_till,
                                            20 + kills * 8)
    run = Run()
    tills = [Till(n, mine[f"till{n}"], wanted, random.Random(rng.random()), run)
             for n in range(1, clients + 1)]
    hub = HubProcess(config.data_dir)
    found: dict[str, Any] = {}
    try:
        fresh = await hub.start_serving()
        restarts: list[float] = []
        serving_s = 0.0
        kept = 0
        for k in range(kills):
            if k:
                try:
                    restarts.append(await hub.start_serving())
                except RuntimeError as exc:  # it would not start again: that is the finding
                    run.failures.append(f"after kill {k} the hub did not serve again: {exc}")
                    break
            lives = [asyncio.create_task(t.life(hub.base)) for t in tills]
            began = time.perf_counter()
            # The kill comes at a random moment once the tills are selling (on a loaded
            # machine signing in alone can take a window): after this life's first sale.
            await _first_sale(run, lives)
            await asyncio.sleep(rng.uniform(*window))
            hub.kill()
            serving_s += time.perf_counter() - began
            await asyncio.gather(*lives)
            _keep(folder, run.acks, kept)
            kept = len(run.acks)
            if kills >= 20 and (k + 1) % max(1, kills // 10) == 0:
                print(f"  … {k + 1} kills, {sum(a.kind == 'sale' for a in run.acks)} sales"
                      " acknowledged", file=out)
        # A clean restart of the same books: the baseline of what a crash adds.
        clean = await hub.start_serving() if clean_restart and not run.failures else 0.0
        hub.stop()
        found = await check_books(config, run.acks)
    finally:
        hub.kill()
        if own_dir and found and not (run.failures or found["problems"]):
            shutil.rmtree(folder, ignore_errors=True)
    sales = sum(a.kind == "sale" for a in run.acks)
    figures = {
        "kills": kills, "clients": clients, "seed": seed,
        "acknowledged_sales": sales,
        "acknowledged_voids": sum(a.kind == "void" for a in run.acks),
        "sales_per_s": sales / serving_s if serving_s else 0.0,
        "restart_median_s": statistics.median(restarts) if restarts else fresh,
        "restart_p99_s": _p99(restarts) if restarts else fresh,
        "fresh_start_s": fresh, "clean_restart_s": clean,
        "refused": dict(sorted(run.refused.items())),
        "failures": run.failures, "ran_dry": sorted(run.ran_dry),
        **found, "folder": str(folder),
    }
    figures["problems"] = run.failures + found["problems"]
    print(f"  {sales} sales and {figures['acknowledged_voids']} voids acknowledged over"
          f" {kills} kills ({figures['sales_per_s']:.1f} sales/s while serving);"
          f" {found['unacknowledged']} more sales were in the books unanswered (a kill"
          " between commit and reply)", file=out)
    print(f"  refusals: {figures['refused']}", file=out)
    print(f"  restart to serving after SIGKILL: median {figures['restart_median_s']:.2f} s,"
          f" p99 {figures['restart_p99_s']:.2f} s; baselines: fresh store {fresh:.2f} s,"
          f" clean restart {clean:.2f} s", file=out)
    if run.ran_dry:
        print(f"  note: {', '.join(sorted(run.ran_dry))} ran out of pieces", file=out)
    print(f"  books: {found['entries']} entries, {found['verdict']};"
          f" {len(figures['problems'])} problems", file=out)
    for problem in figures["problems"][:20]:
        print(f"  PROBLEM: {problem}", file=out)
    return figures


async def run(quick: bool, out: Any = sys.stdout) -> dict[str, float]:
    f = await crash_loop(5 if quick else 50, 3 if quick else 4, seed=7, out=out)
    if f["problems"]:
        raise SystemExit(f"crash: {len(f['problems'])} problems (see above)")
    return {f"crash.{k}": float(f[k]) for k in (
        "kills", "acknowledged_sales", "sales_per_s", "restart_median_s", "restart_p99_s",
        "fresh_start_s", "clean_restart_s")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.crash", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=50, help="SIGKILLs (default 50)")
    parser.add_argument("--clients", type=int, default=4, help="tills selling at once")
    parser.add_argument("--seed", type=int, help="repeat a run (printed at the start)")
    parser.add_argument("--keep", type=Path, help="make the store here and keep it")
    parser.add_argument("--check", type=Path, metavar="DIR",
                        help="only check the books a kept run left in DIR, again")
    args = parser.parse_args(argv)
    if args.check:
        from hub.config import load_config

        found = asyncio.run(check_books(load_config(args.check / "store"), _kept(args.check)))
        print(f"  books: {found['entries']} entries, {found['verdict']}; {found['sales']}"
              f" sales, {found['voids']} voids; {len(found['problems'])} problems")
        for problem in found["problems"][:20]:
            print(f"  PROBLEM: {problem}")
        return 1 if found["problems"] else 0
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    figures = asyncio.run(crash_loop(args.kills, args.clients, seed=args.seed,
                                     folder=args.keep))
    return 1 if figures["problems"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
