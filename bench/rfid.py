"""RFID count figures: ingestion rate into an open count, reconciliation of 100,000 pieces.

- `rfid.ingest_reads_per_s`: tag reads published on the real bus (`device.rfid.read`) and
  taken by an open count of a real store: checked, deduplicated, located, tallied for live
  progress; the count's background loop flushes reads to SQLite and publishes progress
  between reader-sized bursts. The stream reads every tag many times (as a fixed reader
  does), from 4 locations, with 1 % foreign tags and 0.1 % corrupt EPCs.
  Target >= 50,000/s on one core (a fixed reader produces about 1,100 tag reads/s).
- `rfid.baseline_set_insert_per_s`: a bare loop adding the same reads' EPCs to a set: the
  least any deduplicating ingestion can do. `rfid.ingest_vs_baseline` = ingest / baseline.
- `rfid.reconcile_100k_s`: reconciling a count over 100,000 pieces (20 hidden, 5 moved).
  Target < 1 s. `rfid.baseline_setdiff_100k_s`: the bare set difference of expected EPCs
  minus read EPCs, and `rfid.reconcile_vs_setdiff` their ratio.
- `rfid.close_count_s`: closing the ingest store's count for real (flush, reconciliation in
  the ledger's writer, one journal entry).
- `rfid.sale_mid_count_us`: what a sale during a count of 100,000 pieces costs the live
  tally (the sold piece's share moved), against `rfid.baseline_retally_100k_ms`: the whole
  tally started over, as every sale did before the 30-minute soak showed it.
- `rfid.peak_rss_mb`: the process's peak resident memory over the whole run.
"""

from __future__ import annotations

import asyncio
import random
import resource
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, TextIO

from hub.counts.reconcile import Piece, reconcile
from hub.counts.service import Counts
from hub.counts.session import CountSession
from hub.epc import gid96_encode
from hub.store import Store, init_store

LOCATIONS = ("showcase-1", "showcase-2", "safe", "window")
BURST = 1_100  # a fixed reader's reads per second


def _piece(n: int) -> dict[str, Any]:
    return {"item_id": f"R-{n:06d}", "sku": "BENCH", "description": "18k gold ring",
            "category": "ring", "cost": 120_000, "tag_price": 350_000,
            "location": LOCATIONS[n % len(LOCATIONS)]}


def _stream(epcs: list[tuple[str, str]], reads: int, rng: random.Random) -> list[dict[str, Any]]:
    out = []
    for i in range(reads):
        roll = rng.random()
        if roll < 0.01:
            epc, location = gid96_encode(4242, 9, rng.randrange(1 << 36)), rng.choice(LOCATIONS)
        elif roll < 0.011:
            epc, location = "E280116060000209" + "ZZ", LOCATIONS[0]
        else:
            epc, location = epcs[rng.randrange(len(epcs))]
        out.append({"device": f"fx-{i % 2}", "epc": epc, "antenna": 1 + i % 4,
                    "rssi_cdbm": -4000 - (i % 3000), "location": location, "ts": ""})
    return out


async def _ingest(root: Path, pieces: int, reads: int, out: TextIO) -> dict[str, float]:
    config = init_store(root / "store", "bench-rfid", "Bench", "EUR")
    async with await Store.open(config) as store:
        for i in range(0, pieces, 2_000):
            await store.items.receive_many([_piece(n) for n in range(i, min(i + 2_000, pieces))],
                                           "bench")
        rows = await store.items.tagged(("epc", "location"))
        stream = _stream([(r["epc"], r["location"]) for r in rows], reads, random.Random(5))
        counts = Counts(store, store.bus)
        await counts.start()
        try:
            await counts.start_count("full", None, "bench")
            publish = store.bus.publish
            started = time.perf_counter()
            for i in range(0, len(stream), BURST):
                for d in stream[i:i + BURST]:
                    publish("device.rfid.read", **d)
                await asyncio.sleep(0)  # let the count's loop flush and publish progress
            await counts.flush()
            elapsed = time.perf_counter() - started
            session = next(iter(counts.sessions.values()))
            found = len(session.found)
            started = time.perf_counter()
            await counts.close(session.count_id, "bench")
            close_s = time.perf_counter() - started
        finally:
            await counts.stop()

    started = time.perf_counter()
    tags: set[str] = set()
    for d in stream:
        tags.add(d["epc"])
    baseline = time.perf_counter() - started
    rate, base_rate = reads / elapsed, reads / baseline
    print(f"ingest: {reads:,} reads of {pieces:,} pieces ({found:,} found) in {elapsed:.2f} s"
          f" = {rate:,.0f} reads/s; bare set insert {base_rate:,.0f}/s;"
          f" close {close_s:.2f} s", file=out)
    return {"rfid.ingest_reads_per_s": rate, "rfid.baseline_set_insert_per_s": base_rate,
            "rfid.ingest_vs_baseline": rate / base_rate, "rfid.close_count_s": close_s}


def _counted_store(pieces: int) -> tuple[list[Piece], dict[str, dict[str | None, int]]]:
    """A store's pieces and a count's reads of it: 20 hidden, 5 moved, 200 foreign tags."""
    rng = random.Random(7)
    store = [Piece(f"R-{n:06d}", gid96_encode(1, 1, n), LOCATIONS[n % 4], "in_stock", "ring",
                   350_000, 120_000) for n in range(pieces)]
    hidden = set(rng.sample(range(pieces), 20))
    moved = set(rng.sample(sorted(set(range(pieces)) - hidden), 5))
    seen: dict[str, dict[str | None, int]] = {}
    for n, p in enumerate(store):
        if n not in hidden:
            seen[p.epc] = {LOCATIONS[(n + 1) % 4] if n in moved else p.location: 40}
    for i in range(200):
        seen[gid96_encode(4242, 9, i)] = {"window": 3}
    return store, seen


def _sale_mid_count(pieces: int, out: TextIO) -> dict[str, float]:
    """What a sale during a count costs the live tally: the piece's own share moved
    (`rfid.sale_mid_count_us`), against the whole tally started over, as it was done before
    (`rfid.baseline_retally_100k_ms`) — on the event loop, at every sale."""
    store, seen = _counted_store(pieces)
    index = {p.epc: p for p in store}
    session = CountSession("C-bench", "full", None, "2026-12-04", "2026-12-04T08:00:00Z",
                           seen=seen)
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        session.retally(index)
        timings.append(time.perf_counter() - started)
    retally = statistics.median(timings)
    before = session.progress()["expected"]
    sales = store[::max(1, pieces // 1_000)][:1_000]
    started = time.perf_counter()
    for piece in sales:
        sold = piece._replace(status="sold")
        index[piece.epc] = sold
        session.repiece(piece.epc, piece, sold)
    per_sale = (time.perf_counter() - started) / len(sales)
    assert session.progress()["expected"] == before - len(sales)
    print(f"sale during a count of {pieces:,} pieces: {per_sale * 1e6:.1f} µs a sale"
          f" (the tally started over: {retally * 1e3:.1f} ms)", file=out)
    scale = 100_000 / pieces
    return {"rfid.sale_mid_count_us": per_sale * 1e6,
            "rfid.baseline_retally_100k_ms": retally * 1e3 * scale,
            "rfid.retally_vs_sale": retally / per_sale}


def _reconcile(pieces: int, out: TextIO) -> dict[str, float]:
    store, seen = _counted_store(pieces)
    timings, result = [], None
    for _ in range(3):
        started = time.perf_counter()
        result = reconcile(store, seen, None)
        timings.append(time.perf_counter() - started)
    assert result is not None and len(result.missing) == 20 and len(result.misplaced) == 5
    elapsed = statistics.median(timings)
    started = time.perf_counter()
    missing = {p.epc for p in store} - seen.keys()
    setdiff = time.perf_counter() - started
    assert len(missing) == 20
    print(f"reconcile: {pieces:,} pieces in {elapsed:.3f} s (median of 3);"
          f" bare set difference {setdiff:.3f} s", file=out)
    scale = 100_000 / pieces
    return {"rfid.reconcile_100k_s": elapsed * scale,
            "rfid.baseline_setdiff_100k_s": setdiff * scale,
            "rfid.reconcile_vs_setdiff": elapsed / setdiff}


async def run(quick: bool, out: TextIO) -> dict[str, float]:
    pieces, reads = (5_000, 100_000) if quick else (20_000, 1_000_000)
    with tempfile.TemporaryDirectory(prefix="loupe-bench-rfid-") as tmp:
        figures = await _ingest(Path(tmp), pieces, reads, out)
    figures.update(_reconcile(100_000, out))
    figures.update(_sale_mid_count(100_000, out))
    figures["rfid.peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {figures['rfid.peak_rss_mb']:.0f} MB", file=out)
    return figures
