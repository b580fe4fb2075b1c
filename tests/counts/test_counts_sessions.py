"""Count sessions on a real store: reads on the bus in, one journal entry out, and the
manager's follow-ups (confirm missing, move misplaced) through the core services."""

from __future__ import annotations

import asyncio

import pytest

from hub.core.errors import Invalid, NotFound, Refused
from hub.counts import reports
from hub.counts.service import Counts
from hub.ledger.ledger import dump_projections
from hub.store import Store
from tests.builders import cash
from tests.counts.conftest import FOREIGN, next_event, read


async def kinds_since(store: Store, seq: int) -> list[str]:
    rows = await store.ledger.fetch("SELECT kind FROM journal WHERE seq > ? ORDER BY seq", (seq,))
    return [r["kind"] for r in rows]


async def test_closing_count_reconciles_showcases_into_one_entry(store, counts, epcs):
    await store.sales.complete(register_id="R1", actor="assoc", lines=[{"item_id": "P-3"}],
                               tenders=cash(950_000))
    before = store.ledger.seq
    await counts.start_count("closing", ["showcase-1", "showcase-2"], "manager")
    for _ in range(50):  # a flood: every tag read many times, by two antennas
        for item_id in ("P-1", "P-2", "P-4", "P-5"):
            read(store.bus, epcs[item_id], "showcase-1" if item_id < "P-4" else "showcase-2")
    read(store.bus, epcs["P-3"], "showcase-1")   # sold this afternoon, still answering
    read(store.bus, epcs["P-7"], "showcase-2")   # a safe piece left in showcase 2
    read(store.bus, epcs["P-8"], "safe")         # outside the scope: none of its business
    read(store.bus, FOREIGN, "showcase-2")       # a tag that is on no piece of ours
    payload = await counts.close(next(iter(counts.sessions)), "manager")
    r = payload["result"]
    assert (r["expected"], r["found"], r["in_place"]) == (5, 4, 4)
    assert [m["item_id"] for m in r["missing"]] == ["P-6"]
    assert r["misplaced"] == [{"item_id": "P-7", "location": "safe",
                               "found_location": "showcase-2", "category": "necklace"}]
    assert r["away"] == [{"item_id": "P-3", "status": "sold"}]
    assert r["unknown"] == [FOREIGN]
    assert r["accuracy_bp"] == 8000
    assert payload["reads"] == 204 and payload["readers"] == ["fx-1"]
    # 204 reads, yet only the start and the close are entries (reads are working state)
    assert await kinds_since(store, before) == ["count.started", "count.closed"]
    row = await store.ledger.fetch_one("SELECT * FROM counts WHERE count_id = ?",
                                       (payload["count_id"],))
    assert (row["status"], row["missing"], row["misplaced"], row["unknown"]) == \
        ("closed", 1, 1, 1)
    assert not await store.ledger.fetch("SELECT * FROM count_reads")


async def test_confirm_missing_then_a_later_read_is_found_once(store, counts, epcs):
    await counts.start_count("opening", ["safe"], "manager")
    read(store.bus, epcs["P-7"], "safe")
    closed = await counts.close(next(iter(counts.sessions)), "manager")
    count_id = closed["count_id"]
    out = await counts.confirm_missing(count_id, "manager")
    assert out == {"confirmed": ["P-8"], "skipped": []}
    p8 = await store.items.get("P-8")
    assert (p8["status"], p8["status_ref"]) == ("missing", f"count:{count_id}")
    history = await store.items.history("P-8")
    assert [h["kind"] for h in history][-2:] == ["count.closed", "item.status"]
    with pytest.raises(Invalid, match="not an open missing piece"):
        await counts.confirm_missing(count_id, "manager", ["P-8"])

    with store.bus.subscribe("count.found") as sub:
        for _ in range(20):  # no count open: any reader finding it is news
            read(store.bus, epcs["P-8"], "tray-A", device="tsl-9")
        event = await next_event(sub)
    assert event.data["item_id"] == "P-8" and event.data["location"] == "tray-A"
    await counts.stop()  # waits for the record to be written
    found = await store.ledger.fetch("SELECT * FROM count_found")
    assert [(f["item_id"], f["device"]) for f in found] == [("P-8", "tsl-9")]
    detail = await reports.count_detail(store.ledger, store.items, count_id)
    (d,) = [d for d in detail["discrepancies"] if d["item_id"] == "P-8"]
    assert d["resolved_seq"] and d["found_seq"] == found[0]["seq"]
    # Where the piece stands now, from the books (not from the count's record).
    assert (d["description"], d["status_now"], d["location_now"], d["location"]) == (
        "Platinum solitaire ring", "missing", "safe", "safe")

    # After a restart, the piece's next read is not news again: it was announced already.
    again = Counts(store, store.bus)
    await again.start()
    try:
        read(store.bus, epcs["P-8"], "tray-A", device="tsl-9")
    finally:
        await again.stop()  # waits for anything the read started
    assert len(await store.ledger.fetch("SELECT * FROM count_found")) == 1


async def test_move_misplaced_in_one_action(store, counts, epcs):
    await counts.start_count("spot", ["showcase-1", "showcase-2"], "manager")
    read(store.bus, epcs["P-1"], "showcase-2")
    read(store.bus, epcs["P-4"], "showcase-1")
    read(store.bus, epcs["P-2"], "showcase-1")
    count_id = (await counts.close(next(iter(counts.sessions)), "manager"))["count_id"]
    out = await counts.move_misplaced(count_id, "manager")
    assert sorted(m["item_id"] for m in out["moved"]) == ["P-1", "P-4"]
    assert (await store.items.get("P-1"))["location"] == "showcase-2"
    assert (await store.items.get("P-4"))["location"] == "showcase-1"
    again = await counts.move_misplaced(count_id, "manager")
    assert again == {"moved": [], "skipped": []}


async def test_two_counts_over_one_location_are_refused(counts):
    first = await counts.start_count("spot", ["showcase-1", "safe"], "manager")
    with pytest.raises(Refused, match=f"count {first['count_id']} .* already counting safe"):
        await counts.start_count("spot", ["safe", "tray-A"], "assoc")
    with pytest.raises(Refused, match="already counting the whole store"):
        await counts.start_count("full", None, "assoc")
    other = await counts.start_count("spot", ["showcase-2"], "assoc")
    assert other["count_id"] != first["count_id"] and len(counts.sessions) == 2


async def test_bad_commands_are_refused_clearly(counts):
    with pytest.raises(Invalid, match="“weekly” is not one of"):
        await counts.start_count("weekly", None, "manager")
    with pytest.raises(Invalid, match="full count covers the whole store"):
        await counts.start_count("full", ["safe"], "manager")
    with pytest.raises(Invalid, match="scope: give the locations to count"):
        await counts.start_count("spot", [], "manager")
    with pytest.raises(NotFound, match="no open count C1"):
        await counts.close("C1", "manager")
    started = await counts.start_count("spot", ["safe"], "manager")
    with pytest.raises(Refused, match="showcase-1 is not counted by"):
        await counts.sweep(started["count_id"], "tsl-1", "showcase-1", "manager")
    with pytest.raises(Refused, match="is still open"):
        await counts.confirm_missing(started["count_id"], "manager")


async def test_corrupt_epcs_are_refused_and_lose_no_reads(store, counts, epcs):
    await counts.start_count("full", None, "manager")
    read(store.bus, epcs["P-1"], "showcase-1")
    for junk in ("XYZ", epcs["P-2"][:23], "G" * 24, None, 12345, "", epcs["P-3"] + "00"):
        read(store.bus, junk, "showcase-1")
    read(store.bus, epcs["P-2"].lower(), "showcase-1")  # lower case is tolerated
    session = next(iter(counts.sessions.values()))
    assert counts.rejected["corrupt_epc"] == 7
    assert "24 hexadecimal digits" in counts.last_rejection
    assert set(session.seen) == {epcs["P-1"], epcs["P-2"]}
    result = (await counts.close(session.count_id, "manager"))["result"]
    assert result["found"] == 2 and result["unknown_total"] == 0


async def test_unmapped_reader_reads_count_as_found_but_unplaced(store, counts, epcs):
    await counts.start_count("full", None, "manager")
    read(store.bus, epcs["P-1"], None, device="fx-unmapped")
    read(store.bus, epcs["P-4"], "showcase-2")
    session = next(iter(counts.sessions.values()))
    assert session.unlocated_reads == 1
    result = (await counts.close(session.count_id, "manager"))["result"]
    assert result["found"] == 2 and result["unlocated"] == ["P-1"]
    assert result["in_place"] == 1 and result["misplaced"] == []


async def test_unmapped_reader_is_no_evidence_inside_a_scoped_count(store, counts, epcs):
    await counts.start_count("spot", ["showcase-1"], "manager")
    read(store.bus, epcs["P-1"], None, device="fx-unmapped")   # expected: found
    read(store.bus, epcs["P-7"], None, device="fx-unmapped")   # could be anywhere
    read(store.bus, FOREIGN, None, device="fx-unmapped")
    result = (await counts.close(next(iter(counts.sessions)), "manager"))["result"]
    assert result["found"] == 1 and result["misplaced"] == [] and result["unknown"] == []


async def test_handheld_sweeps_the_location_the_operator_picked(store, counts, epcs):
    started = await counts.start_count("full", None, "manager")
    await counts.sweep(started["count_id"], "tsl-1", "safe", "manager")
    read(store.bus, epcs["P-7"], None, device="tsl-1")
    read(store.bus, epcs["P-1"], None, device="tsl-1")  # a ring in the safe
    await counts.sweep(started["count_id"], "tsl-1", "showcase-1", "manager")
    read(store.bus, epcs["P-2"], None, device="tsl-1")
    result = (await counts.close(started["count_id"], "manager"))["result"]
    assert result["in_place"] == 2
    assert [(m["item_id"], m["found_location"]) for m in result["misplaced"]] == [("P-1", "safe")]
    sweeps = await store.ledger.fetch("SELECT device, location FROM count_sweeps")
    assert [tuple(r) for r in sweeps] == [("tsl-1", "showcase-1")]


async def test_barcode_fallback_counts_only_assigned_scanners(store, counts, epcs):
    started = await counts.start_count("spot", ["showcase-2"], "manager")
    store.bus.publish("device.scan", device="scan-R1", register="R1", code="P-4",
                      symbology="code128")  # a register's scanner: a sale, not a count
    await counts.sweep(started["count_id"], "scan-2", "showcase-2", "manager")
    store.bus.publish("device.scan", device="scan-2", register=None, code="P-4",
                      symbology="code128")
    store.bus.publish("device.scan", device="scan-2", register=None, code=epcs["P-5"],
                      symbology="datamatrix")
    store.bus.publish("device.scan", device="scan-2", register=None, code="4006381333931",
                      symbology="ean13")
    assert counts.rejected["unknown_barcode"] == 1
    assert "neither a piece's serial nor an EPC" in counts.last_rejection
    result = (await counts.close(started["count_id"], "manager"))["result"]
    assert [m["item_id"] for m in result["missing"]] == ["P-6"]


async def test_reader_dropping_mid_count_keeps_its_reads(store, counts, epcs):
    started = await counts.start_count("full", None, "manager")
    read(store.bus, epcs["P-1"], "showcase-1", device="fx-1")
    store.bus.publish("device.state", device="fx-1", kind="rfid", state="retrying",
                      error="connection reset")
    session = counts.get_session(started["count_id"])
    assert session.progress()["readers"]["fx-1"]["state"] == "dropped"
    read(store.bus, epcs["P-4"], "showcase-2", device="fx-2")
    read(store.bus, epcs["P-1"], "showcase-1", device="fx-1")  # back, reading again
    assert session.progress()["readers"]["fx-1"] == {
        "reads": 2, "last": session.readers["fx-1"].last, "state": "reading"}
    result = await counts.close(started["count_id"], "manager")
    assert result["readers"] == ["fx-1", "fx-2"] and result["result"]["found"] == 2


async def test_reads_survive_a_restart_mid_count(store, counts, epcs):
    started = await counts.start_count("closing", ["showcase-1", "safe"], "manager")
    await counts.sweep(started["count_id"], "tsl-1", "safe", "manager")
    for item_id in ("P-1", "P-2"):
        read(store.bus, epcs[item_id], "showcase-1")
    read(store.bus, epcs["P-7"], None, device="tsl-1")
    await counts.stop()  # the daemon stopping (SIGTERM) flushes what it holds

    again = Counts(store, store.bus)
    await again.start()
    try:
        session = again.get_session(started["count_id"])
        assert set(session.seen) == {epcs["P-1"], epcs["P-2"], epcs["P-7"]}
        assert session.progress()["found"] == 3 and session.sweeps == {"tsl-1": "safe"}
        read(store.bus, epcs["P-8"], None, device="tsl-1")  # the sweep goes on
        result = (await again.close(started["count_id"], "manager"))["result"]
    finally:
        await again.stop()
    assert result["found"] == 4 and [m["item_id"] for m in result["missing"]] == ["P-3"]


async def test_flushed_reads_are_in_the_database_before_any_stop(store, counts, epcs):
    started = await counts.start_count("full", None, "manager")
    read(store.bus, epcs["P-5"], "showcase-2")
    read(store.bus, epcs["P-5"], "showcase-2")
    assert await counts.flush() == 1
    rows = await store.ledger.fetch("SELECT count_id, epc, location, reads FROM count_reads")
    assert [tuple(r) for r in rows] == [(started["count_id"], epcs["P-5"], "showcase-2", 2)]


async def test_count_left_open_overnight_expires_with_its_reads(store, counts, epcs):
    day = 86_400
    now = counts.clock()
    started = await counts.start_count("closing", ["showcase-1"], "manager", now=now - day)
    read(store.bus, epcs["P-1"], "showcase-1")
    assert await counts.expire_overnight(now) == [started["count_id"]]
    row = await store.ledger.fetch_one("SELECT * FROM counts")
    assert (row["status"], row["found"], row["missing"]) == ("expired", 1, 2)
    with pytest.raises(Refused, match="left open overnight: its result is partial"):
        await counts.confirm_missing(started["count_id"], "manager")
    # the morning's count over the same showcase is not blocked by last night's
    morning = await counts.start_count("opening", ["showcase-1"], "manager")
    assert morning["count_id"].endswith("-01") and morning["day"] > started["day"]


async def test_progress_is_published_while_reads_flood_in(store, counts, epcs):
    with store.bus.subscribe("count.progress") as sub:
        started = await counts.start_count("full", None, "manager")
        for item_id, epc in epcs.items():
            if item_id != "P-8":
                read(store.bus, epc, "showcase-1" if item_id < "P-4" else "showcase-2")
        event = await next_event(sub, lambda e: e.data["found"] == 7)
    data = event.data
    assert data["count_id"] == started["count_id"] and data["expected"] == 8
    assert data["missing"] == 1 and data["misplaced"] == 1  # P-7 read in showcase-2, not safe
    assert data["locations"]["safe"] == {"expected": 2, "found": 1}


async def test_live_progress_follows_a_sale_during_the_count(store, counts, epcs):
    started = await counts.start_count("full", None, "manager")
    session = counts.get_session(started["count_id"])
    with store.bus.subscribe("count.progress") as sub:
        await store.sales.complete(register_id="R1", actor="assoc", lines=[{"item_id": "P-6"}],
                               tenders=cash(950_000))
        await next_event(sub, lambda e: e.data["expected"] == 7)
    assert session.expected_by_loc["showcase-2"] == 2


async def test_find_a_piece_publishes_its_signal(store, counts, epcs):
    target = counts.find("P-5")
    assert target["epc"] == epcs["P-5"] and target["location"] == "showcase-2"
    with store.bus.subscribe("count.find") as sub:
        read(store.bus, epcs["P-4"], None, device="tsl-1", rssi=-4000)
        read(store.bus, epcs["P-5"], None, device="tsl-1", rssi=-6100)
        event = await next_event(sub)
    assert (event.data["item_id"], event.data["rssi_cdbm"]) == ("P-5", -6100)
    with pytest.raises(Invalid, match="neither a piece's serial nor an RFID tag"):
        counts.find("no such thing")


async def test_reports_accuracy_shrinkage_locations_and_day(store, counts, epcs):
    first = await counts.start_count("closing", ["showcase-1", "safe"], "manager")
    for item_id in ("P-1", "P-2", "P-7"):
        read(store.bus, epcs[item_id], "showcase-1")
    closed = await counts.close(first["count_id"], "manager")
    await counts.confirm_missing(closed["count_id"], "manager", ["P-3"])
    second = await counts.start_count("full", None, "manager")
    for item_id in ("P-1", "P-2", "P-4", "P-5", "P-6", "P-7"):
        read(store.bus, epcs[item_id], "showcase-1" if item_id < "P-4" else "showcase-2")
    await counts.close(second["count_id"], "manager")

    acc = await reports.accuracy(store.ledger)
    assert [c["accuracy_bp"] for c in acc["counts"]] == [4000, 7142]
    assert (acc["expected"], acc["in_place"]) == (12, 7)
    shrink = await reports.shrinkage(store.ledger)
    assert shrink["pieces"] == 1 and shrink["lost_tag_value"] == 950_000
    assert shrink["by_category"][0]["category"] == "ring"
    hot = await reports.hot_locations(store.ledger)
    assert hot[0]["location"] == "safe" and hot[0]["discrepancies"] == 4
    day = await reports.day_record(store.ledger, first["day"])
    assert day["closing_count"]["count_id"] == first["count_id"]


async def test_rebuild_reproduces_the_counts_projections(store, counts, epcs):
    started = await counts.start_count("closing", None, "manager")
    await counts.sweep(started["count_id"], "tsl-1", "safe", "manager")
    read(store.bus, epcs["P-1"], "showcase-2")
    read(store.bus, epcs["P-7"], None, device="tsl-1")
    closed = await counts.close(started["count_id"], "manager")
    await counts.confirm_missing(closed["count_id"], "manager", ["P-2", "P-8"])
    await counts.move_misplaced(closed["count_id"], "manager")
    await counts.stop()
    schemas = store.ledger.schemas
    before = dump_projections(store.ledger.db_path, schemas)
    await store.ledger.rebuild()
    assert dump_projections(store.ledger.db_path, schemas) == before
    assert before["count_discrepancies"] and before["count_sweeps"]
    assert (await store.ledger.verify()).ok


async def test_a_rebuild_of_the_books_reindexes_the_tags(store, counts, epcs):
    # A projection the code got wrong once (here: bent by hand, as an old bug would have left
    # it) is what a rebuild puts right; the counts' index follows the rebuilt pieces.
    await store.ledger.transact(lambda tx: tx.execute(
        "UPDATE items SET location = 'window' WHERE item_id = 'P-1'"))
    await counts._load_index()  # as a hub started on those books would have read them
    assert counts.index[epcs["P-1"]].location == "window"
    sub = store.bus.subscribe("books.rebuilt")
    await store.rebuild()
    await next_event(sub)
    deadline = asyncio.get_running_loop().time() + 5
    while counts.index[epcs["P-1"]].location != "showcase-1":
        assert asyncio.get_running_loop().time() < deadline, "the index never followed"
        await asyncio.sleep(0.01)
    assert len(counts.index) == len(epcs)
