"""The ledger writer's CPU per sale, against the cost of its parts, in the same run.

`ledger.append_ratio` divides two rates whose denominator is fsync, which is nearly free on
the development VM, so it swings between runs. What a sale costs the one writer thread does
not: this measures it.

- `writer.sale_cpu_us`: CPU time of the writer thread (`time.thread_time`, read on the
  writer itself) per sale completed through `store.sales.complete`, 100 concurrent callers
  (group commit, as `ledger.append_ratio` runs them); `writer.sale_cpu_serial_us` with one
  caller (one commit per sale); `writer.process_cpu_us`: the whole process's CPU per sale
  (the event loop, the readers answering each sale's document, the writer).
- A cProfile of the writer thread over the same kind of sales: its top functions, µs per sale.
- Parts, measured here: one Ed25519 signature (libsodium `crypto_sign`, as the keyring
  signs), one AES-GCM seal of this run's sale payload, the whole `seal` (encrypt, header,
  SHA-256 chain, sign), the payload's canonical JSON, the SQL statements one sale runs
  (captured from the writer's connection, replayed on a copy of the same books in a
  transaction rolled back: reads and writes apart), the projection (`projector.apply` on the
  sale's entry, same copy) and one durable empty commit (BEGIN IMMEDIATE, a row, COMMIT with
  synchronous=FULL), which a batch shares among its sales.
- Instructions (`writer.sale_instructions`): `perf stat -e instructions` is not available on
  this VM, so valgrind's callgrind counts a child process selling S and then 2S sales with
  the same set-up; the difference over S is a sale's instructions, all threads, by shared
  object (libsodium, cryptography's Rust/OpenSSL for AES-GCM, SQLite, the interpreter).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.ledger import _piece

CALLERS = 100


async def _open_store(root: Path, pieces: int):
    from hub.store import Store, init_store

    config = init_store(root, "bench-cpu", "Bench", "EUR")
    store = await Store.open(config)
    for i in range(0, pieces, 1000):
        await store.items.receive_many([_piece(n) for n in range(i, min(i + 1000, pieces))],
                                       "b")
    return store


class Seller:
    """Sales of fresh pieces through `store.sales.complete`, as the ledger bench makes them."""

    def __init__(self, store) -> None:
        self.store = store
        self.next = 0

    async def sell(self, sales: int, callers: int) -> None:
        queue = list(range(self.next, self.next + sales))[::-1]
        self.next += sales

        async def caller() -> None:
            while queue:
                n = queue.pop()
                await self.store.sales.complete(register_id="R1", actor="b",
                                                lines=[{"item_id": f"B-{n}"}],
                                                tenders=[{"type": "cash", "amount": 350_000}])

        await asyncio.gather(*(caller() for _ in range(callers)))


async def _writer_time(store) -> float:
    # The command runs on the writer thread, so thread_time is the writer's own clock.
    return await store.ledger.transact(lambda tx: time.thread_time())


async def _measure(store, seller: Seller, sales: int, callers: int) -> tuple[float, float, float]:
    """(writer CPU µs, process CPU µs, sales per commit) per sale."""
    batches = store.ledger.batches
    writer0, process0 = await _writer_time(store), time.process_time()
    await seller.sell(sales, callers)
    writer1, process1 = await _writer_time(store), time.process_time()
    per_commit = sales / max(1, store.ledger.batches - batches - 1)
    return (writer1 - writer0) / sales * 1e6, (process1 - process0) / sales * 1e6, per_commit


async def _profile(store, seller: Seller, sales: int, out) -> list[tuple[str, float, float]]:
    """The writer thread's top functions over `sales` sales: (name, own µs, cumulative µs)
    per sale. cProfile is enabled and disabled on the writer thread itself."""
    profile = cProfile.Profile()
    await store.ledger.transact(lambda tx: profile.enable())
    await seller.sell(sales, CALLERS)
    await store.ledger.transact(lambda tx: profile.disable())
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    rows = []
    for (file, line, name), (_, calls, own, cumulative, _) in stats.items():
        where = re.sub(r".*/(hub|site-packages|python3\.\d+)/", r"\1/", file)
        rows.append((f"{where}:{line} {name}" if line else name, own / sales * 1e6,
                     cumulative / sales * 1e6, calls / sales))
    rows.sort(key=lambda r: -r[1])
    print(f"  writer thread profile ({sales} sales, cProfile, µs per sale; cProfile adds its"
          " own overhead):", file=out)
    print(f"    {'own':>7} {'cumul.':>7} {'calls':>6}  function", file=out)
    for name, own, cumulative, calls in rows[:18]:
        print(f"    {own:7.1f} {cumulative:7.1f} {calls:6.1f}  {name}", file=out)
    return [(name, own, cumulative) for name, own, cumulative, _ in rows]


def _timeit(fn, repeat: int) -> float:
    """The fastest of five rounds of `repeat` calls, µs per call (the machine is shared:
    the fastest round is the one least disturbed)."""
    rounds = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(repeat):
            fn()
        rounds.append((time.perf_counter() - started) / repeat * 1e6)
    return min(rounds)


async def _one_sale_statements(store, seller: Seller) -> list[str]:
    """The SQL one sale runs on the writer's connection (values expanded), from BEGIN to
    COMMIT of its own batch; triggers' bodies left out (they come with their statement)."""
    seen: list[str] = []
    await store.ledger.transact(lambda tx: tx.conn.set_trace_callback(seen.append))
    await seller.sell(1, 1)
    await store.ledger.transact(lambda tx: tx.conn.set_trace_callback(None))
    begins = [i for i, s in enumerate(seen) if s.startswith("BEGIN")]
    body = seen[begins[0] + 1:begins[1]] if len(begins) > 1 else seen
    return [s for s in body if not s.startswith(("--", "COMMIT", "BEGIN", "ROLLBACK"))]


def _parts(store, root: Path, statements: list[str], entry, payload: dict[str, Any],
           scratch: Path) -> dict[str, float]:
    from hub.ledger.journal import associated_data, canonical_json, encrypt, header_bytes, seal
    from hub.ledger.ledger import Ledger, Tx

    keyring = store.ledger.keyring
    version, data_key = keyring.get("store")
    plaintext = canonical_json(payload)
    aad = associated_data(store.config.store_id, entry.seq, entry.kind)
    digest = entry.hash
    parts = {
        "payload_bytes": float(len(plaintext)),
        "sign_us": _timeit(lambda: keyring.sign(digest), 2000),
        "aes_gcm_us": _timeit(lambda: encrypt(data_key, plaintext, aad), 2000),
        "canonical_json_us": _timeit(lambda: canonical_json(payload), 2000),
        "header_hash_us": _timeit(lambda: header_bytes(
            store.config.store_id, entry.seq, entry.ts, entry.kind, entry.actor, entry.subject,
            "store", version), 2000),
        "seal_us": _timeit(lambda: seal(
            store_id=store.config.store_id, seq=entry.seq, ts=entry.ts, kind=entry.kind,
            actor=entry.actor, subject=entry.subject, key_id="store", key_version=version,
            data_key=data_key, plaintext=plaintext, prev_hash=entry.prev_hash,
            sign=keyring.sign), 2000),
    }
    conn = Ledger._connect(scratch)
    try:
        # One write transaction held open, each sale undone to a savepoint: the pages it
        # wrote stay in the cache, as they do for the writer between its commits.
        conn.execute("BEGIN IMMEDIATE")

        def replay(which: tuple[str, ...] | None) -> None:
            conn.execute("SAVEPOINT sale")
            for sql in statements:
                if which is None or sql.lstrip().upper().startswith(which):
                    conn.execute(sql).fetchall()
            conn.execute("ROLLBACK TO sale")
            conn.execute("RELEASE sale")

        writes = ("INSERT", "UPDATE", "DELETE", "REPLACE")
        undo = _timeit(lambda: replay(("-",)), 300)  # the savepoint alone
        parts["sql_all_us"] = _timeit(lambda: replay(None), 300) - undo
        parts["sql_writes_us"] = _timeit(lambda: replay(writes), 300) - undo
        parts["sql_reads_us"] = _timeit(lambda: replay(("SELECT", "WITH")), 300) - undo

        def project() -> None:
            conn.execute("SAVEPOINT sale")
            tx = Tx(store.ledger, conn, entry.seq - 1, entry.prev_hash)
            store.ledger.projector.apply(tx, entry, payload)
            conn.execute("ROLLBACK TO sale")
            conn.execute("RELEASE sale")

        parts["projection_us"] = _timeit(project, 300) - undo
        conn.execute("ROLLBACK")
        conn.execute("CREATE TABLE IF NOT EXISTS bench_commit (n INTEGER)")

        def commit() -> None:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO bench_commit VALUES (1)")
            conn.execute("COMMIT")

        parts["durable_commit_us"] = _timeit(commit, 200)
    finally:
        conn.close()
    return parts


# -- instructions (callgrind) -------------------------------------------------------------

def _callgrind_child(sales: int, pieces: int, callers: int) -> None:
    """What callgrind counts: the same set-up, then `sales` sales."""
    async def main() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            store = await _open_store(Path(tmp) / "books", pieces)
            try:
                await Seller(store).sell(sales, callers)
            finally:
                await store.close()

    asyncio.run(main())


def _self_cost_by_object(path: Path) -> tuple[int, dict[str, int]]:
    """(total Ir, Ir by shared object, own cost only) of a callgrind output file."""
    names: dict[str, str] = {}
    by_object: dict[str, int] = {}
    current = "?"
    skip = False
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith(("ob=", "cob=")):
            # Names are compressed: "(3) /path" the first time, "(3)" after, on either.
            ident, _, name = line.split("=", 1)[1].partition(" ")
            if name:
                names[ident] = name
            if line.startswith("ob="):
                current = names.get(ident, ident)
        elif line.startswith("calls="):
            skip = True  # the next cost line is the call's inclusive cost
        elif line[:1].isdigit() or line[:1] in "+-*":
            if skip:
                skip = False
                continue
            fields = line.split()
            if len(fields) >= 2:
                by_object[current] = by_object.get(current, 0) + int(fields[1])
        elif line.startswith(("summary:", "totals:")):
            total = int(line.split()[1])
    return total, by_object


def _object_group(name: str) -> str:
    base = os.path.basename(name)
    for pattern, group in (("_sodium", "libsodium (Ed25519)"),
                           ("_rust", "cryptography/OpenSSL (AES-GCM)"),
                           ("sqlite", "SQLite"), ("libpython", "Python interpreter"),
                           ("python3", "Python interpreter"), ("libcrypto", "libcrypto (SHA-256)"),
                           ("_hashlib", "libcrypto (SHA-256)"), ("libc.so", "libc"),
                           ("libc-", "libc"), ("ld-linux", "libc")):
        if pattern in base:
            return group
    return "other"


def _instructions(sales: int, out) -> dict[str, float] | None:
    if shutil.which("valgrind") is None:
        print("  instructions: neither perf counters nor valgrind here; not counted", file=out)
        return None
    pieces = 2 * sales + 10  # the same set-up for both runs
    with tempfile.TemporaryDirectory() as tmp:
        results = []
        for n in (sales, 2 * sales):
            target = Path(tmp) / f"callgrind.{n}"
            subprocess.run(["valgrind", "--tool=callgrind", "--dump-instr=no",
                            f"--callgrind-out-file={target}", sys.executable, "-m",
                            "bench.writer_cpu", "--callgrind-child", str(n), str(pieces),
                            str(CALLERS)], check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, cwd=Path(__file__).parent.parent)
            results.append(_self_cost_by_object(target))
    (small_total, small), (big_total, big) = results
    per_sale = (big_total - small_total) / sales
    groups: dict[str, float] = {}
    for name in set(small) | set(big):
        group = _object_group(name)
        groups[group] = groups.get(group, 0) + (big.get(name, 0) - small.get(name, 0)) / sales
    print(f"  instructions per sale (callgrind, {sales} then {2 * sales} sales, {CALLERS}"
          f" callers, all threads): {per_sale / 1e6:.2f} M", file=out)
    for group, value in sorted(groups.items(), key=lambda kv: -kv[1]):
        print(f"    {value / 1e3:9.0f} k  {group}", file=out)
    return {"writer.sale_instructions": per_sale,
            **{f"writer.sale_instructions_{_slug(g)}": v for g, v in groups.items()}}


def _slug(group: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", group.split(" (")[0].lower()).strip("_")


async def run(quick: bool, out) -> dict[str, float]:
    from hub.ledger.journal import ENTRY_COLUMNS, Entry

    sales = 1_000 if quick else 5_000
    serial = 200 if quick else 1_000
    profiled = 500 if quick else 2_000
    pieces = sales * 2 + serial + profiled + 10
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(dir=os.environ.get("LOUPE_BENCH_DIR")) as tmp:
        root = Path(tmp)
        store = await _open_store(root / "books", pieces)
        try:
            seller = Seller(store)
            await seller.sell(200, CALLERS)  # warm: caches, statements, the first keys
            rounds = [await _measure(store, seller, sales // 2, CALLERS) for _ in range(2)]
            writer_us = min(r[0] for r in rounds)
            process_us = min(r[1] for r in rounds)
            per_commit = statistics.mean(r[2] for r in rounds)
            serial_us, serial_process_us, _ = await _measure(store, seller, serial, 1)
            print(f"  writer CPU per sale: {writer_us:.0f} µs with {CALLERS} callers"
                  f" ({per_commit:.0f} sales per commit; whole process {process_us:.0f} µs);"
                  f" {serial_us:.0f} µs with one caller (a commit each; whole process"
                  f" {serial_process_us:.0f} µs)", file=out, flush=True)
            top = await _profile(store, seller, profiled, out)
            # The parts, on a copy of these books taken before one more sale whose SQL is
            # captured (so its piece is still in stock in the copy).
            scratch = root / "scratch.db"
            await asyncio.to_thread(_backup, store.ledger.db_path, scratch)
            statements = await _one_sale_statements(store, seller)
            row = await store.ledger.fetch_one(
                f"SELECT {ENTRY_COLUMNS} FROM journal WHERE kind = 'sale.completed'"
                " ORDER BY seq DESC LIMIT 1")
            entry = Entry.from_row(tuple(row))
            payload = store.ledger.decrypt(entry)
            parts = await asyncio.to_thread(_parts, store, root, statements, entry, payload,
                                            scratch)
        finally:
            await store.close()
    commit_share = parts["durable_commit_us"] / per_commit
    known = parts["seal_us"] + parts["sql_all_us"] + commit_share
    print(f"  parts (same run, µs): Ed25519 signature {parts['sign_us']:.1f}; AES-GCM seal of"
          f" the {parts['payload_bytes']:.0f}-byte payload {parts['aes_gcm_us']:.1f};"
          f" canonical JSON {parts['canonical_json_us']:.1f}; header {parts['header_hash_us']:.1f};"
          f" the whole seal {parts['seal_us']:.1f}", file=out)
    print(f"    the sale's {len(statements)} SQL statements {parts['sql_all_us']:.0f}"
          f" (reads {parts['sql_reads_us']:.0f}, writes {parts['sql_writes_us']:.0f}; replayed,"
          " undone to a savepoint); the projection (Python and its"
          f" SQL) {parts['projection_us']:.0f}; a durable commit {parts['durable_commit_us']:.0f}"
          f" = {commit_share:.1f} a sale at {per_commit:.0f} a commit", file=out)
    print(f"    seal + SQL + commit share = {known:.0f} of {writer_us:.0f} µs; the rest"
          f" ({writer_us - known:.0f} µs) is the services' Python: checks, totals, payload,"
          " projection handlers, settling futures", file=out)
    figures.update({"writer.sale_cpu_us": writer_us, "writer.sale_cpu_serial_us": serial_us,
                    "writer.process_cpu_us": process_us, "writer.sales_per_commit": per_commit,
                    "writer.sql_statements": float(len(statements)),
                    **{f"writer.{k}": v for k, v in parts.items()}})
    figures["writer.profile_top_own_us"] = top[0][1]
    counted = await asyncio.to_thread(_instructions, 30 if quick else 100, out)
    if counted:
        figures.update(counted)
    return figures


def _backup(source: Path, target: Path) -> None:
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--callgrind-child", nargs=3, type=int, metavar=("SALES", "PIECES",
                                                                          "CALLERS"))
    args = parser.parse_args()
    if args.callgrind_child:
        _callgrind_child(*args.callgrind_child)
    else:
        sys.exit("run it as `python -m bench writer_cpu`")
