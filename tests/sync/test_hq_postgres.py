"""HQ on a real PostgreSQL: restarted mid-drain, its constraints, and a store's batch carrying
another store's entries. (The rest of tests/sync runs on PostgreSQL too: `hq_keys`.)"""

from __future__ import annotations

import asyncio
import json

import psycopg
import pytest
from sync_helpers import (
    FAST,
    HQRunner,
    Hub,
    enroll,
    hq_entries,
    journal,
    make_bundle,
    new_store,
    until,
)

from bench.sync import simulated_store
from hub.sync.hq import open_hq
from hub.sync.replicator import Replicator, load_enrollment
from hub.sync.settings import SyncSettings
from hub.sync.wire import WireError

# These are PostgreSQL's own faults: HQ's keys on PostgreSQL only (tests/conftest.py).
pytestmark = pytest.mark.parametrize("hq_keys", ["postgresql"], indirect=True)


async def test_postgresql_restarted_mid_drain_loses_and_doubles_nothing(tmp_path, hq_keys,
                                                                       pg_cluster, broker):
    store = await new_store(tmp_path, "paris", pieces=600)  # a backlog of 600 entries
    await enroll(store, make_bundle(hq_keys, "paris", broker.url))
    hq = HQRunner(open_hq(hq_keys), broker)
    hub = Hub(store, Replicator(store, FAST, await load_enrollment(store.ledger)))
    try:
        await hub.rep.start()
        await until(lambda: hq.head("paris"), "the drain under way")
        # Every connection HQ holds is cut while batches keep coming.
        await asyncio.to_thread(pg_cluster.restart)
        await until(lambda: hub.rep.acked == store.ledger.seq, "the whole backlog at HQ", 90)
        mine, theirs = await journal(store), await hq_entries(hq, "paris")
        assert [e.seq for e in theirs] == list(range(1, len(mine) + 1))
        assert theirs == mine  # entry by entry, once, in order
        assert (await hq.call(hq.hq.verify_store, "paris")).startswith("ok")
        counted = await hq.call(hq.hq.storage.query, "SELECT COUNT(*) AS n FROM items"
                                " WHERE store_id = 'paris'")
        assert counted == [{"n": 600}]
    finally:
        await hub.close()
        await hq.close()
        hq.hq.storage.close()


def test_the_database_refuses_a_second_copy_of_an_entry(hq_keys):
    hq = open_hq(hq_keys)
    try:
        s = simulated_store(hq_keys, "lyon", 3, SyncSettings())
        hq.storage.add_store("lyon", "00" * 32)
        hq.storage.register("lyon", s.public_key, s.box_key)
        assert hq.ingest("lyon", s.payloads[0]).head == 3
        assert hq.ingest("lyon", s.payloads[0]).stored == 0  # a resend: dropped, acked again
        row = hq.storage.entries("lyon", 0, 1)[0]
        with pytest.raises(psycopg.errors.UniqueViolation):  # the key, not a read first
            hq.storage.append("lyon", [row], [])
        with pytest.raises(psycopg.errors.RaiseException, match="never changed"):
            hq.storage.execute("UPDATE entries SET kind = 'sale.voided' WHERE seq = 1")
        assert [e.seq for e in hq.storage.entries("lyon")] == [1, 2, 3]
    finally:
        hq.storage.close()


def test_a_store_publishing_another_stores_entries_is_refused(hq_keys):
    hq = open_hq(hq_keys)
    try:
        made = {"a": simulated_store(hq_keys, "a", 4, SyncSettings()),
                "b": simulated_store(hq_keys, "b", 8, SyncSettings())}
        for sid, s in made.items():
            hq.storage.add_store(sid, "00" * 32)
            hq.storage.register(sid, s.public_key, s.box_key)
        assert hq.ingest("a", made["a"].payloads[0]).head == 4
        with pytest.raises(WireError, match="store"):  # b's batch on a's topic
            hq.ingest("a", made["b"].payloads[0])
        # b's entries 5 to 8 relabelled as a's (without b's keys): they do not continue a's
        # chain, and a's key did not sign them.
        doc = json.loads(made["b"].payloads[0])
        doc |= {"store": "a", "keys": []}
        refused = hq.ingest("a", json.dumps(doc).encode())
        assert refused.problem and "seq 5" in refused.problem and refused.head == 4
        assert [e.seq for e in hq.storage.entries("a")] == [1, 2, 3, 4]
        assert hq.storage.store("a").problem == refused.problem  # recorded, for the operator
        assert hq.storage.held("a") == 0
    finally:
        hq.storage.close()
