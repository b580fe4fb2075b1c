"""An auditor's check of every signature, on every core.

The default verification (`verify_rows`, signatures="anchors") recomputes every hash and
checks the signatures that prove the chain; an auditor who wants each entry's own signature
checked (Ed25519, ~90 µs each here: minutes for a million entries on one core) gets it here,
the journal cut into one seq range per core, each range checked by its own process reading
the database read-only, while this process walks the hash chain. The verdict names the first
bad seq either way finds.
"""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nacl.bindings
import nacl.exceptions
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from hub.ledger.journal import ENTRY_COLUMNS, Verdict, raw_public_key, verify_rows

BATCH = 5000


def first_bad_signature(db_path: str, public_key: bytes, first: int, last: int) -> int | None:
    """The first seq in [first, last] whose signature fails (None: all good). Runs in a
    worker process: its own read-only connection, nothing shared."""
    sign_open = nacl.bindings.crypto_sign_open
    bad = nacl.exceptions.BadSignatureError
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        cursor = conn.execute("SELECT seq, hash, signature FROM journal WHERE seq BETWEEN ? AND ?"
                              " ORDER BY seq", (first, last))
        while rows := cursor.fetchmany(BATCH):
            for seq, digest, signature in rows:
                try:
                    sign_open(signature + digest, public_key)
                except (bad, ValueError):
                    return seq
        return None
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


def verify_every_signature(db_path: Path, store_id: str | None = None,
                           public_key: Ed25519PublicKey | bytes | None = None, *,
                           processes: int | None = None) -> Verdict:
    """The hash chain here, every signature in `processes` workers (default: every core);
    the store's id and key from the database unless given (an auditor pins the key)."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        meta = dict(conn.execute("SELECT key, value FROM store_meta").fetchall())
        store_id = store_id or meta["store_id"]
        public_key = raw_public_key(public_key) if public_key is not None \
            else bytes.fromhex(meta["public_key"])
        last = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM journal").fetchone()[0]
        workers = processes or os.cpu_count() or 1
        # spawn: a fresh interpreter per worker, never a fork of a process with threads
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = [pool.submit(first_bad_signature, str(db_path), public_key, a, b)
                       for a, b in ranges(last, workers)]
            chain = verify_rows(journal_rows(conn), store_id, public_key)
            bad = [seq for f in futures if (seq := f.result()) is not None]
    finally:
        conn.close()
    if bad and (chain.ok or min(bad) < (chain.bad_seq or 0)):
        first = min(bad)
        return Verdict(False, first - 1, first, "signature does not verify with the store key")
    return chain if not chain.ok else Verdict(True, chain.count, mode="all")


def journal_rows(conn: sqlite3.Connection) -> Iterator[tuple]:
    """The journal's rows in seq order, as SQLite gives them (what `verify_rows` reads)."""
    cursor = conn.execute(f"SELECT {ENTRY_COLUMNS} FROM journal ORDER BY seq")
    while rows := cursor.fetchmany(BATCH):
        yield from rows
