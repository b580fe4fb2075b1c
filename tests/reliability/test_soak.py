"""The soak, short (bench/soak.py runs it for a minute or half an hour): `loupe run` with
browser sessions holding their WebSocket open, sales through the HTTP API, the RFID reader
simulator streaming into a running count and a scanner whose scans reach every browser.
What must hold however slow the machine: every sale goes through, the reads and the scans
arrive, and the hub's memory and open files do not grow with the load (bounds loose enough
to be no timing; the latency figures are the bench's)."""

from __future__ import annotations

import io

from bench.soak import soak


async def test_a_minute_of_soak_keeps_memory_and_files_flat():
    """CI's run of the soak: a minute (the documented run is half an hour)."""
    out = io.StringIO()
    figures = await soak(seconds=60, sessions=10, sales_per_s=10, reads_per_s=1_000,
                         scans_per_s=10, out=out, idle_s=1)
    report = out.getvalue()
    assert figures["soak.sales"] >= 20 and figures["soak.sales_refused"] == 0, report
    assert figures["soak.reads"] >= 1_000, report
    assert figures["soak.scans_delivered"] >= 10 * 11, report  # each scan, every browser
    # Flat: no leak that load makes visible in seconds (a leak per request or per frame).
    assert figures["soak.rss_end_mb"] <= figures["soak.rss_warm_mb"] * 1.25 + 5, report
    assert figures["soak.fds_end"] <= figures["soak.fds_warm"] + 8, report
