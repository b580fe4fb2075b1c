"""A full-store count of a generated store of 5,000 pieces with 20 pieces hidden and 5
misplaced: the count reports exactly those, through the real bus, store and journal."""

from __future__ import annotations

import pytest

from hub.counts.service import Counts
from tests.builders import piece
from tests.counts.conftest import FOREIGN, read, stock
from tests.counts.count_scenes import five_thousand_pieces


async def test_full_store_count_of_5000_pieces(store):
    scene = await five_thousand_pieces(store)
    counts = Counts(store, store.bus)
    await counts.start()
    try:
        started = await counts.start_count("full", None, "manager")
        await counts.sweep(started["count_id"], "tsl-1", "safe", "manager")
        for sweep in range(3):  # three passes: every tag answers again and again
            for n, row in enumerate(scene.rows):
                where = scene.where(n)
                if where is None:
                    continue
                if where == "safe":  # the safe is swept by the handheld, no location of its own
                    read(store.bus, row["epc"], None, device="tsl-1")
                else:
                    read(store.bus, row["epc"], where, device="fx-1", antenna=1 + sweep)
        read(store.bus, FOREIGN, "window")
        payload = await counts.close(started["count_id"], "manager")
    finally:
        await counts.stop()
    result = payload["result"]
    assert result["expected"] == 5_000 and result["found"] == 4_980
    assert {m["item_id"] for m in result["missing"]} == scene.missing()
    assert {m["item_id"] for m in result["misplaced"]} == scene.misplaced()
    assert result["unknown"] == [FOREIGN] and result["unlocated"] == []
    assert result["in_place"] == 4_975 and payload["readers"] == ["fx-1", "tsl-1"]


async def test_a_count_survives_the_daemon_restarting(make_config):
    from hub.daemon import running
    from hub.runtime import Options

    config = make_config()
    options = Options(host="127.0.0.1", port=0, insecure_http=True, zeroconf=False)
    async with running(config, options) as runtime:
        epcs = await stock(runtime.store)
        counts = runtime.counts
        started = await counts.start_count("closing", ["showcase-1", "showcase-2"], "manager")
        for item_id in ("P-1", "P-2", "P-4"):
            read(runtime.bus, epcs[item_id], "showcase-1" if item_id < "P-4" else "showcase-2")
    async with running(config, options) as runtime:  # SIGTERM, then the hub comes back
        counts = runtime.counts
        await counts.ready()  # the books load while the hub starts serving
        session = counts.get_session(started["count_id"])
        assert session.progress()["found"] == 3
        read(runtime.bus, epcs["P-5"], "showcase-2")
        result = (await counts.close(started["count_id"], "manager"))["result"]
    assert result["found"] == 4
    assert sorted(m["item_id"] for m in result["missing"]) == ["P-3", "P-6"]


async def test_the_closing_count_is_part_of_the_days_z_report(store):
    await store.items.receive_many([piece(f"Z-{n}", location="showcase-1") for n in range(3)],
                                   "manager")
    epcs = {r["item_id"]: r["epc"] for r in await store.ledger.fetch("SELECT * FROM items")}
    counts = Counts(store, store.bus)
    await counts.start()
    try:
        started = await counts.start_count("closing", ["showcase-1"], "manager")
        for item_id in ("Z-0", "Z-1"):
            read(store.bus, epcs[item_id], "showcase-1")
        await counts.close(started["count_id"], "manager")
    finally:
        await counts.stop()
    z = await store.closures.close_day("manager")
    closing = z["totals"]["counts"]["closing_count"]
    assert (closing["count_id"], closing["expected"], closing["missing"]) == (
        started["count_id"], 3, 1)
    # The next day's Z does not repeat it.
    assert (await store.closures.close_day("manager"))["totals"]["counts"]["closing_count"] is None


async def test_reads_while_the_counts_load_the_books_are_taken_once_loaded(store):
    """The hub serves before the counts have read the pieces: a read in that moment is held
    and taken in order once they have, not lost; a read after goes straight in."""
    epcs = await stock(store)
    first = Counts(store, store.bus)
    await first.start()
    started = await first.start_count("closing", ["showcase-1", "showcase-2"], "manager")
    await first.stop()

    again = Counts(store, store.bus)
    again.begin()
    assert again.sessions == {}  # still loading: the open count is not read yet
    for item_id in ("P-1", "P-2"):
        read(store.bus, epcs[item_id], "showcase-1")
    try:
        await again.ready()
        assert again.get_session(started["count_id"]).progress()["found"] == 2
        read(store.bus, epcs["P-4"], "showcase-2")
        assert again.get_session(started["count_id"]).progress()["found"] == 3
        assert (await again.overview())["open"][0]["count_id"] == started["count_id"]
    finally:
        await again.stop()


async def test_a_load_that_fails_says_so_and_holds_nothing_more(store, monkeypatch, caplog):
    """Books the counts cannot read: their methods say why, the log says what is lost, and
    the reads that follow are not piled up waiting for a load that will never end."""
    counts = Counts(store, store.bus)
    before = len(store.bus._listeners)

    async def broken() -> None:
        raise OSError("disk I/O error")

    monkeypatch.setattr(counts, "_load_index", broken)
    counts.begin()
    with pytest.raises(OSError, match="disk I/O error"):
        await counts.overview()
    assert len(store.bus._listeners) == before
    assert "the counts could not load the books" in caplog.text
    await counts.stop()
