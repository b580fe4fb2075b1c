"""An audit of the whole journal on every core.

Each entry's hash depends only on its own row (its header, its payload and the previous hash
it stores), so the journal can be cut into one seq range per core: each worker process reads
its range from the database (read-only) and runs `verify_rows` on it, from the range's first
stored `prev_hash`; this process then checks that each range begins where the one before
ends. The signatures checked are the same as on one core (`signatures="anchors"`: the
tip's, each Z report's, one every `ANCHOR_EVERY`, and each range's last; or every one), and
the verdict names the first bad seq either way finds.
"""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from hub.ledger.journal import ENTRY_COLUMNS, GENESIS_HASH, Verdict, raw_public_key, verify_rows

BATCH = 5000
PARALLEL_FROM = 50_000  # fewer entries: one process is quicker than starting others


def journal_rows(conn: sqlite3.Connection, first: int = 1,
                 last: int | None = None) -> Iterator[tuple]:
    """The journal's rows in seq order (from `first` to `last`), as SQLite gives them."""
    cursor = conn.execute(f"SELECT {ENTRY_COLUMNS} FROM journal WHERE seq >= ? AND seq <= ?"
                          " ORDER BY seq", (first, last if last is not None else 2**62))
    while rows := cursor.fetchmany(BATCH):
        yield from rows


def check_range(db_path: str, store_id: str, public_key: bytes, first: int, last: int,
                signatures: str) -> tuple[Verdict, bytes | None, bytes | None]:
    """A worker's part: its range verified from the `prev_hash` its first row stores; with
    that hash and the range's last hash, for the joins."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        head = conn.execute("SELECT prev_hash FROM journal WHERE seq = ?", (first,)).fetchone()
        tail = conn.execute("SELECT hash FROM journal WHERE seq = ?", (last,)).fetchone()
        start = bytes(head[0]) if head else GENESIS_HASH
        verdict = verify_rows(journal_rows(conn, first, last), store_id, public_key,
                              start_seq=first, start_hash=start, signatures=signatures)
        if verdict.ok and verdict.count != last - first + 1:
            verdict = Verdict(False, verdict.count, first + verdict.count,
                              f"missing (the journal ends at seq {first + verdict.count - 1})")
        return verdict, start, bytes(tail[0]) if tail else None
    finally:
        conn.close()


def ranges(last_seq: int, parts: int) -> list[tuple[int, int]]:
    """1..last_seq cut into `parts` contiguous ranges of near-equal size."""
    parts = max(1, min(parts, last_seq))
    size, extra = divmod(last_seq, parts)
    out, start = [], 1
    for i in range(parts):
        end = start + size - 1 + (1 if i < extra else 0)
        out.append((start, end))
        start = end + 1
    return [r for r in out if r[0] <= r[1]]


def verify_on_cores(db_path: Path, store_id: str | None = None,
                    public_key: Ed25519PublicKey | bytes | None = None, *,
                    signatures: str = "anchors", processes: int | None = None) -> Verdict:
    """The journal verified in `processes` workers (default: every core; one when the
    journal is small); the store's id and key from the database unless given (an auditor
    pins the key)."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        meta = dict(conn.execute("SELECT key, value FROM store_meta").fetchall())
        last = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM journal").fetchone()[0]
        store_id = store_id or meta["store_id"]
        key = raw_public_key(public_key) if public_key is not None \
            else bytes.fromhex(meta["public_key"])
        workers = processes or os.cpu_count() or 1
        if workers == 1 or (processes is None and last < PARALLEL_FROM):
            return verify_rows(journal_rows(conn), store_id, key, signatures=signatures)
    finally:
        conn.close()
    parts = ranges(last, workers)
    # spawn: a fresh interpreter per worker, never a fork of a process with threads
    with ProcessPoolExecutor(len(parts), mp_context=multiprocessing.get_context("spawn")) as pool:
        done = [pool.submit(check_range, str(db_path), store_id, key, a, b, signatures)
                for a, b in parts]
        results = [f.result() for f in done]
    count, prev = 0, GENESIS_HASH
    for (first, _), (verdict, start, end) in zip(parts, results, strict=True):
        if start != prev:
            return Verdict(False, count, first, "prev_hash does not match the previous entry")
        if not verdict.ok:
            return Verdict(False, count + verdict.count, verdict.bad_seq, verdict.reason)
        count += verdict.count
        prev = end
    return Verdict(True, count, mode=signatures)


def verify_every_signature(db_path: Path, store_id: str | None = None,
                           public_key: Ed25519PublicKey | bytes | None = None, *,
                           processes: int | None = None) -> Verdict:
    """Every entry's own signature too, on every core."""
    return verify_on_cores(db_path, store_id, public_key, signatures="all",
                           processes=processes)
