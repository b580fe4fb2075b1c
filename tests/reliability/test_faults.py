"""Faults the box meets on its own (the disk filling up is tests/core/test_ledger_integrity):
the wall clock stepped back an hour while selling, the broker gone for a day, a device
flapping. Real parts throughout: the clock is the input under test, set on the real
ledger, as the system clock would step."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bench.faults import flapping
from hub.reports.sales import Asked, SalesReport
from hub.store import Store, init_store
from hub.sync.replicator import Replicator, load_enrollment
from hub.sync.settings import SyncSettings
from tests.builders import cash, piece
from tests.sync.sync_helpers import Hub, enroll, hq_entries, journal, make_bundle, until

STAMP = "%Y-%m-%dT%H:%M:%S.%fZ"


# -- the clock stepped back an hour ------------------------------------------------------------

async def test_the_clock_stepped_back_an_hour_keeps_entries_in_order_and_each_sale_in_one_z(
        store: Store):
    """Day one ends with three sales and its Z report at 23:55. Past midnight the clock
    (NTP correcting it, or a box booting on a wrong time) steps back an hour, to 23:20 of
    day one, while the till keeps selling. No entry may say it was written before the one
    before it, so those sales stay on day two: day one's sales report still agrees with its
    Z report, and day two's with the next."""
    day_one = date(2026, 3, 14)
    wall = [datetime(2026, 3, 14, 23, 30, tzinfo=UTC)]
    store.ledger.clock = lambda: wall[0].strftime(STAMP)  # the wall clock, as the box reads it
    await store.items.receive_many([piece(n, tag_price=100_000 + n) for n in range(20)], "test")

    async def sell(n: int) -> dict:
        return await store.sales.complete(register_id="R1", actor="alex",
                                          lines=[{"item_id": f"P-{n}"}],
                                          tenders=cash(100_000 + n))

    sold, n = [], 0
    for minute in (40, 45, 50):
        wall[0] = wall[0].replace(minute=minute)
        sold.append(await sell(n))
        n += 1
    wall[0] = wall[0].replace(minute=55)
    z1 = await store.closures.close_day("mona")

    wall[0] = datetime(2026, 3, 15, 0, 10, tzinfo=UTC)
    for _ in range(2):
        sold.append(await sell(n))
        n += 1
        wall[0] += timedelta(minutes=5)
    wall[0] -= timedelta(hours=1)  # the step: 00:20 becomes 23:20 of day one
    stepped_at = len(sold)
    while wall[0] < datetime(2026, 3, 15, 0, 40, tzinfo=UTC):
        sold.append(await sell(n))
        n += 1
        wall[0] += timedelta(minutes=10)
    z2 = await store.closures.close_day("mona")

    # Every entry in order: never earlier than the one before it.
    stamps = [e.ts for e in await store.ledger.entries(0, 10_000)]
    assert stamps == sorted(stamps)
    assert all(s["ts"] >= "2026-03-15T00:15" for s in sold[stepped_at:])  # held, not stepped
    assert any(s["ts"] > "2026-03-15T00:20" for s in sold[stepped_at:])  # the clock caught up

    # Each sale in exactly one Z report, and each day's sales report agrees with its Z.
    assert z1["totals"]["sales"] == 3 and z2["totals"]["sales"] == len(sold) - 3
    covered = [s for s in sold if z1["from_seq"] < s["seq"] <= z1["through_seq"]] + \
              [s for s in sold if z2["from_seq"] < s["seq"] <= z2["through_seq"]]
    assert sorted(s["sale_id"] for s in covered) == sorted(s["sale_id"] for s in sold)
    report = SalesReport.of(store)
    for day, z in ((day_one, z1), (day_one + timedelta(days=1), z2)):
        totals = (await report.report(Asked(day, day, "day", False), margin=False))["totals"]
        assert (totals["sales"], totals["net"]) == (z["totals"]["sales"],
                                                    z["totals"]["sales_total"]), day


async def test_a_hub_opened_on_a_clock_behind_its_books_dates_nothing_before_them(
        make_config):
    """A box that boots on a wrong time (no real-time clock, no network yet) opens books
    whose last entry is later than its clock: the first new entries wait for it."""
    config = make_config()
    async with await Store.open(config) as store:
        await store.items.receive(piece(1), "test")
        last = (await store.ledger.entries(0, 10))[-1].ts
    behind = (datetime.strptime(last, STAMP) - timedelta(hours=1)).strftime(STAMP)

    async with await Store.open(config) as store:
        # The reopened books know their last entry's time before any clock is read.
        assert store.ledger.last_ts == last
        # The wall clock itself reads an hour behind (setting `clock` would start a new
        # order, as the demo's past does: this is the box's own clock being wrong).
        reading = store.ledger._clock
        store.ledger._clock = lambda: behind
        try:
            sale = await store.sales.complete(register_id="R1", actor="alex",
                                              lines=[{"item_id": "P-1"}], tenders=cash(950_000))
        finally:
            store.ledger._clock = reading
        assert sale["ts"] == last


# -- the broker gone for a day -----------------------------------------------------------------

@pytest.mark.parametrize("hq_keys", ["sqlite"], indirect=True)  # HQ's storage: tests/sync
async def test_a_day_without_the_broker_drains_to_hq_in_many_batches(tmp_path, hq, hq_keys,
                                                                    broker):
    """The broker (or the shop's internet) is gone from one morning to the next: the hub
    sells all day, is switched off and on overnight, and keeps every entry for HQ. When the
    broker returns, the backlog (many batches of `batch_entries`) drains: HQ holds the
    store's journal entry for entry, its chain verified.

    A day is not waited for: the ledger's clock walks the entries' times through the 24
    hours (the wall clock as it would have read), and the hub retries meanwhile as it does
    for any outage. tests/sync covers a short outage (test_sync_replication) and a broker
    bounced during a crash loop (test_sync_faults); this one is the long, big backlog."""
    settings = SyncSettings(resend_after_s=1.0, batch_entries=50)
    morning = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=25)
    wall = [morning]

    def clock() -> str:  # each reading a second later; the test moves it on through the day
        wall[0] += timedelta(seconds=1)
        return wall[0].strftime(STAMP)

    def at(hours: float) -> None:
        wall[0] = max(wall[0], morning + timedelta(hours=hours))

    config = init_store(tmp_path / "geneva", "geneva", "Maison Genève", "CHF")

    async def open_hub() -> Hub:
        store = await Store.open(config)
        store.ledger.clock = clock
        rep = Replicator(store, settings, await load_enrollment(store.ledger))
        await rep.start()
        return Hub(store, rep)

    store = await Store.open(config)
    store.ledger.clock = clock
    await store.items.receive_many([piece(n, tag_price=50_000) for n in range(5)], "test")
    await enroll(store, make_bundle(hq_keys, "geneva", broker.url))
    await store.close()
    hub = await open_hub()
    try:
        await until(lambda: hub.rep.connected and hub.rep.backlog == 0, "first entries at HQ")
        broker.stop()
        await until(lambda: not hub.rep.connected, "the hub sees the broker gone")

        # The day: the morning's delivery received, sales all day, the evening's Z report,
        # the hub switched off for the night (its backlog kept), the next morning's sales.
        at(1)
        await hub.store.items.receive_many(
            [piece(n, tag_price=50_000) for n in range(5, 605)], "test")
        for n in range(5, 205):
            at(2 + 10 * (n - 5) / 200)
            await hub.store.sales.complete(register_id="R1", actor="alex",
                                           lines=[{"item_id": f"P-{n}"}], tenders=cash(50_000))
        at(13)
        await hub.store.closures.close_day("mona")
        await hub.close()
        at(23)
        hub = await open_hub()
        for n in range(205, 305):
            at(24 + (n - 205) / 100)
            await hub.store.sales.complete(register_id="R2", actor="alex",
                                           lines=[{"item_id": f"P-{n}"}], tenders=cash(50_000))
        assert wall[0] - morning >= timedelta(hours=24)
        assert hub.rep.backlog > 15 * settings.batch_entries
        assert not hub.rep.connected and hub.rep.status()["state"] == "offline"
        assert await hq.head("geneva") < hub.store.ledger.seq

        broker.start()
        await until(lambda: hub.rep.backlog == 0, "the day's backlog drained", 60)
        await until(lambda: hq.head("geneva"), "HQ caught up")
        assert await hq.head("geneva") == hub.store.ledger.seq
        mine, theirs = await journal(hub.store), await hq_entries(hq, "geneva")
        assert [e.seq for e in theirs] == list(range(1, len(mine) + 1))  # once each, in order
        for a, b in zip(mine, theirs, strict=True):
            assert a == b, f"seq {a.seq} differs at HQ"
        assert (await hq.call(hq.hq.verify_store, "geneva")) == f"ok: {len(mine)} entries"
        at_hq = await hq.call(hq.hq.storage.query, "SELECT COUNT(*) AS n FROM sales WHERE"
                              " store_id = 'geneva'")
        assert at_hq[0]["n"] == 300
    finally:
        await hub.close()


# -- a device flapping -------------------------------------------------------------------------

async def test_a_flapping_scanner_and_printer_leak_nothing_and_work_after(tmp_path):
    """A scanner on a loose cable (its pty closed and opened again) and a printer on a
    flaky socket, every 0.2 s for 8 s (bench/faults.py: every second for a minute): the
    device part keeps running, its tasks, open files and bus listeners do not grow, and
    once the cable holds a scan gets through."""
    seen = await flapping(tmp_path, seconds=8, every=0.2)
    before, peak, after = seen["before"], seen["peak"], seen["after"]
    assert seen["state_changes"] >= seen["flaps"] >= 20  # the flaps were seen as such
    assert seen["states_after"] == {"scanner-r1": "connected", "printer-r1": "connected"}
    assert seen["scan_after"] == "RG-AFTER"
    for key in before:  # a flap's own task or socket may be in flight when counted
        assert after[key] <= before[key] + 2, (key, before, after)
        assert peak[key] <= before[key] + 8, (key, before, peak)
