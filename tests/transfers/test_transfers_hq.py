"""Transfers over the wire: a real Mosquitto, HQ's real receiver (its storage on SQLite and on
PostgreSQL: `hq_keys`), and real stores (Paris, Lyon, Nice) enrolled with their replicators
and taking HQ's transfer messages as the daemon's part does. HQ asks Paris for a piece for
Lyon; Paris ships it by scan; HQ shows it in transit and tells the chain it is on its way;
Lyon receives it by scan; HQ records it received and tells Paris, whose piece becomes
`transferred`. A piece scanned at the wrong store is a conflict at HQ and on the stores'
screens; a piece not received in time is HQ's overdue conflict. Afterwards HQ holds each
store's journal entry by entry. (The stores' side alone: tests/transfers/test_transfers.py.)"""

from __future__ import annotations

import asyncio
import contextlib
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hub.core.errors import Refused
from hub.epc import gid96_decode
from hub.hq import transfers as hq_transfers
from hub.sync.broker import Mosquitto
from hub.sync.enroll import HQKeys
from hub.sync.hq import publish_signed
from hub.sync.replicator import Replicator, load_enrollment
from hub.sync.settings import Broker
from hub.sync.wire import topic
from hub.transfers.book import Transfers
from hub.transfers.part import transfers_of
from tests.sync.sync_helpers import (
    FAST,
    HQRunner,
    Hub,
    caught_up,
    enroll,
    hq_entries,
    journal,
    make_bundle,
    new_store,
    until,
)

STORES = ("paris", "lyon", "nice")


class Chain:
    """HQ, the broker, and each store's hub with its transfers (as `runtime.transfers`)."""

    def __init__(self, hq: HQRunner, broker: Mosquitto) -> None:
        self.hq, self.broker = hq, broker
        self.hubs: dict[str, Hub] = {}
        self.transfers: dict[str, Transfers] = {}

    async def publish(self, messages: list[tuple[str, bytes]]) -> None:
        """What HQ's own acts return, published as its CLI does."""
        await publish_signed(Broker.parse(self.broker.url, "t"), None, "test-hq-cli", messages)

    async def ask(self, item_id: str, from_store: str, to_store: str) -> dict[str, Any]:
        """HQ asks `from_store` to send `item_id` to `to_store`; the request on the wire."""
        row, messages = await self.hq.call(hq_transfers.request, self.hq.hq, item_id,
                                           from_store, to_store, "olga")
        assert [name for name, _ in messages] == [topic("maison", from_store, "inbox")]
        await self.publish(messages)
        return row

    async def row(self, transfer_id: str) -> dict[str, Any] | None:
        """HQ's row of a transfer."""
        rows = await self.hq.call(self.hq.hq.storage.query, "SELECT * FROM transfers WHERE"
                                  " transfer_id = ?", (transfer_id,))
        return rows[0] if rows else None

    async def status_at_hq(self, transfer_id: str) -> str | None:
        row = await self.row(transfer_id)
        return row["status"] if row else None

    async def piece_at_hq(self, store_id: str, item_id: str) -> str | None:
        """HQ's stock projection: the piece's status at a store."""
        rows = await self.hq.call(self.hq.hq.storage.query, "SELECT status FROM items WHERE"
                                  " store_id = ? AND item_id = ?", (store_id, item_id))
        return rows[0]["status"] if rows else None

    async def conflicts_at_hq(self) -> list[dict[str, Any]]:
        return await self.hq.call(self.hq.hq.storage.conflicts)

    async def status_at(self, store_id: str, transfer_id: str) -> str | None:
        """The transfer's row at a store (None: the store never heard of it)."""
        row = await self.hubs[store_id].store.ledger.fetch_one(
            "SELECT status FROM transfers WHERE transfer_id = ?", (transfer_id,))
        return row["status"] if row else None

    async def item_at(self, store_id: str, item_id: str) -> str | None:
        row = await self.hubs[store_id].store.ledger.fetch_one(
            "SELECT status FROM items WHERE item_id = ?", (item_id,))
        return row["status"] if row else None

    async def all_caught_up(self) -> None:
        for store_id, hub in self.hubs.items():
            await until(lambda h=hub: caught_up(self.hq, h), f"{store_id}'s journal at HQ")

    async def hq_holds_every_journal(self) -> None:
        """Once quiet, HQ holds each store's journal entry by entry, and checks its chain."""
        await self.all_caught_up()
        for store_id, hub in self.hubs.items():
            assert await hq_entries(self.hq, store_id) == await journal(hub.store), store_id
            assert (await self.hq.call(self.hq.hq.verify_store, store_id)).startswith("ok")


@contextlib.asynccontextmanager
async def open_chain(tmp_path: Path, hq_keys: HQKeys, hq: HQRunner, broker: Mosquitto
                     ) -> AsyncIterator[Chain]:
    """Paris, Lyon and Nice enrolled and replicating, each taking HQ's transfer messages;
    all three tag under loupe init's one manager number, as a chain's stores do."""
    made = Chain(hq, broker)
    with contextlib.ExitStack() as parts:
        try:
            for store_id in STORES:
                store = await new_store(tmp_path, store_id, pieces=3)
                await enroll(store, make_bundle(hq_keys, store_id, broker.url))
                # The transfers part takes HQ's messages before the first one can arrive.
                made.transfers[store_id] = parts.enter_context(transfers_of(store))
                rep = Replicator(store, FAST, await load_enrollment(store.ledger))
                made.hubs[store_id] = Hub(store, rep)
                await rep.start()
            await made.all_caught_up()  # HQ knows every store's stock
            yield made
        finally:
            for hub in made.hubs.values():
                with contextlib.suppress(Exception):
                    await hub.close()


@pytest.fixture
async def chain(tmp_path: Path, hq_keys: HQKeys, hq: HQRunner,
                broker: Mosquitto) -> AsyncIterator[Chain]:
    async with open_chain(tmp_path, hq_keys, hq, broker) as made:
        yield made


async def ship(chain: Chain, item_id: str, from_store: str, to_store: str) -> dict[str, Any]:
    """HQ asks, the sender sees the request and scans the piece out; HQ sees it shipped."""
    asked = await chain.ask(item_id, from_store, to_store)
    tid = asked["transfer_id"]
    sender = chain.transfers[from_store]
    await until(lambda: chain.status_at(from_store, tid), f"{from_store} got HQ's request")
    shipped = await sender.scan(item_id, actor="sophie")
    assert shipped["done"] == "shipped" and shipped["transfer"]["transfer_id"] == tid
    await until(lambda: is_(chain.status_at_hq(tid), "shipped"), f"HQ saw {tid} shipped")
    return shipped["transfer"]


async def is_(value: Any, want: Any) -> bool:
    """For `until`: an awaited read equals what is waited for."""
    return (await value) == want


async def test_hq_asks_paris_for_a_piece_for_lyon_and_it_arrives(chain):
    paris, lyon = chain.transfers["paris"], chain.transfers["lyon"]
    assert await chain.piece_at_hq("paris", "paris-0") == "in_stock"
    asked = await chain.ask("paris-0", "paris", "lyon")
    tid = asked["transfer_id"]
    assert (asked["status"], asked["requested_by"]) == ("requested", "hq:olga")
    assert await chain.status_at_hq(tid) == "requested"

    # Paris hears HQ's request: the piece is on its To send list, still in stock.
    await until(lambda: chain.status_at("paris", tid), "Paris got HQ's request")
    board = await paris.board()
    assert [(t["transfer_id"], t["item_id"], t["to_store"], t["asked_by"])
            for t in board["to_send"]] == [(tid, "paris-0", "lyon", "hq")]
    assert await chain.item_at("paris", "paris-0") == "in_stock"
    assert await chain.status_at("lyon", tid) is None  # nobody told Lyon before it ships

    shipped = await paris.scan("paris-0", actor="sophie")
    assert shipped["done"] == "shipped" and shipped["transfer"]["transfer_id"] == tid
    assert await chain.item_at("paris", "paris-0") == "in_transit"

    # HQ: in transit, out of Paris's stock; the chain is told it is on its way.
    async def in_transit_at_hq() -> bool:
        rows = await chain.hq.call(hq_transfers.in_transit, chain.hq.hq.storage)
        return [(r["transfer_id"], r["status"]) for r in rows] == [(tid, "shipped")]

    await until(in_transit_at_hq, "HQ shows the piece in transit")
    row = await chain.row(tid)
    assert (row["from_store"], row["to_store"], row["sku"], row["requested_by"]) == (
        "paris", "lyon", "RING-SOL-1", "hq:olga")
    assert row["shipped_at"] is not None and row["received_at"] is None
    assert await chain.piece_at_hq("paris", "paris-0") == "in_transit"
    await until(lambda: is_(chain.status_at("lyon", tid), "shipped"), "Lyon told it is coming")
    expected = (await lyon.board())["expected"]
    assert [(e["transfer_id"], e["item_id"], e["from_store"]) for e in expected] == [
        (tid, "paris-0", "paris")]
    assert expected[0]["description"] == "Solitaire ring, 18k white gold"
    # Every store hears it (a misdelivered piece is booked wherever it lands); only Lyon
    # expects it.
    await until(lambda: is_(chain.status_at("nice", tid), "shipped"), "Nice told too")
    assert (await chain.transfers["nice"].board())["expected"] == []

    got = await lyon.scan("paris-0", actor="marc")
    assert got["done"] == "received" and got["transfer"]["status"] == "received"
    arrived = await lyon.items.get("paris-0")
    assert arrived["status"] == "in_stock" and arrived["tag_price"] == 250_000

    # HQ records it received at Lyon, and tells Paris: Paris's piece is transferred.
    await until(lambda: is_(chain.status_at_hq(tid), "received"), "HQ saw it received")
    row = await chain.row(tid)
    assert (row["received_by_store"], row["received_at"] is not None) == ("lyon", True)
    assert await chain.hq.call(hq_transfers.in_transit, chain.hq.hq.storage) == []
    await until(lambda: is_(chain.item_at("paris", "paris-0"), "transferred"),
                "Paris's piece transferred")
    assert await chain.status_at("paris", tid) == "received"
    assert (await paris.board())["in_transit"] == []
    assert [t["transfer_id"] for t in (await lyon.board())["received"]] == [tid]
    assert (await lyon.board())["expected"] == []
    await until(lambda: is_(chain.piece_at_hq("paris", "paris-0"), "transferred"),
                "HQ's stock: gone from Paris")
    assert await chain.piece_at_hq("lyon", "paris-0") == "in_stock"
    assert await chain.conflicts_at_hq() == []
    for store_id in STORES:
        assert (await chain.transfers[store_id].board())["conflicts"] == []
    await chain.hq_holds_every_journal()


async def test_a_piece_scanned_at_the_wrong_store_is_a_conflict_at_hq_and_the_stores(chain):
    lyon, nice = chain.transfers["lyon"], chain.transfers["nice"]
    t = await ship(chain, "paris-1", "paris", "lyon")
    tid = t["transfer_id"]
    # HQ told the whole chain: the parcel opened at Nice is booked there.
    await until(lambda: is_(chain.status_at("nice", tid), "shipped"), "Nice told it is coming")
    got = await nice.scan("paris-1", actor="marc")
    assert got["done"] == "received" and got["transfer"]["status"] == "misdelivered"
    assert await chain.item_at("nice", "paris-1") == "in_stock"

    await until(lambda: is_(chain.status_at_hq(tid), "misdelivered"), "HQ saw it land at Nice")
    row = await chain.row(tid)
    assert (row["to_store"], row["received_by_store"]) == ("lyon", "nice")
    [conflict] = await chain.conflicts_at_hq()
    assert (conflict["source"], conflict["store_id"], conflict["kind"], conflict["item_id"],
            conflict["ref"]) == ("nice", "nice", "transfer_misdelivered", "paris-1",
                                 f"transfer:{tid}")
    assert "sent from paris to lyon was received at nice" in conflict["detail"]

    # HQ tells both ends: Paris's piece is gone, Lyon no longer waits for it.
    await until(lambda: is_(chain.item_at("paris", "paris-1"), "transferred"),
                "Paris's piece transferred")
    await until(lambda: is_(chain.status_at("lyon", tid), "misdelivered"), "Lyon told")
    assert (await lyon.board())["expected"] == []
    for store_id in STORES:  # the conflict on all three screens, until someone settles it
        conflicts = (await chain.transfers[store_id].board())["conflicts"]
        assert [(c["transfer_id"], c["conflict"], c["received_by_store"])
                for c in conflicts] == [(tid, "misdelivered", "nice")], store_id
    seq = lyon.store.ledger.seq
    with pytest.raises(Refused) as exc:  # Lyon cannot book a piece that is at Nice
        await lyon.scan("paris-1", actor="marc")
    assert exc.value.code == "not_in_transit" and lyon.store.ledger.seq == seq
    await until(lambda: is_(chain.piece_at_hq("paris", "paris-1"), "transferred"),
                "HQ's stock: gone from Paris")
    assert await chain.piece_at_hq("nice", "paris-1") == "in_stock"
    assert await chain.piece_at_hq("lyon", "paris-1") is None
    await chain.hq_holds_every_journal()
    assert len(await chain.conflicts_at_hq()) == 1  # once, though three stores hold it


async def test_a_piece_not_received_in_time_is_an_overdue_conflict_at_hq(chain):
    paris, lyon = chain.transfers["paris"], chain.transfers["lyon"]
    t = await ship(chain, "paris-2", "paris", "lyon")
    tid = t["transfer_id"]
    await until(lambda: is_(chain.status_at("lyon", tid), "shipped"), "Lyon told it is coming")
    shipped_at = datetime.fromisoformat((await chain.row(tid))["shipped_at"])
    days = hq_transfers.OVERDUE_DAYS

    # Within the days HQ allows, nothing is late (HQ's check takes the time it runs at).
    early = shipped_at + timedelta(days=days - 1)
    assert await chain.hq.call(hq_transfers.overdue, chain.hq.hq, days, early) == []
    assert await chain.status_at_hq(tid) == "shipped"
    assert await chain.conflicts_at_hq() == []
    # Lyon's own screen counts the days too (its clock set ahead), before HQ says a word.
    clock = lyon.now
    assert not (await lyon.board())["expected"][0]["late"]
    lyon.now = lambda: shipped_at + timedelta(days=days + 1)
    [coming] = (await lyon.board())["expected"]
    assert (coming["status"], coming["late"]) == ("shipped", True)
    lyon.now = clock

    later = shipped_at + timedelta(days=days + 1)
    messages = await chain.hq.call(hq_transfers.overdue, chain.hq.hq, days, later)
    assert sorted(name for name, _ in messages) == sorted(
        topic("maison", s, "inbox") for s in ("paris", "lyon"))
    assert await chain.status_at_hq(tid) == "overdue"
    [conflict] = await chain.conflicts_at_hq()
    assert (conflict["source"], conflict["store_id"], conflict["kind"], conflict["item_id"],
            conflict["ref"]) == ("hq", "paris", "transfer_overdue", "paris-2", f"transfer:{tid}")
    assert f"was not received within {days} days" in conflict["detail"]
    assert [r["transfer_id"] for r in await chain.hq.call(
        hq_transfers.in_transit, chain.hq.hq.storage)] == [tid]  # late, still on its way
    # Told once: the next check finds nothing new.
    assert await chain.hq.call(hq_transfers.overdue, chain.hq.hq, days,
                               later + timedelta(days=3)) == []
    assert len(await chain.conflicts_at_hq()) == 1

    await chain.publish(messages)
    for store_id in ("paris", "lyon"):
        await until(lambda s=store_id: is_(chain.status_at(s, tid), "overdue"),
                    f"{store_id} told it is overdue")
    [out] = (await paris.board())["in_transit"]
    [coming] = (await lyon.board())["expected"]
    for view in (out, coming):
        assert (view["transfer_id"], view["conflict"], view["late"]) == (tid, "overdue", True)
    assert await chain.status_at("nice", tid) == "shipped"  # not Nice's business

    # Late is still receivable: Lyon scans it, HQ records it, Paris's piece is transferred.
    got = await lyon.scan("paris-2", actor="marc")
    assert got["done"] == "received" and got["transfer"]["status"] == "received"
    await until(lambda: is_(chain.status_at_hq(tid), "received"), "HQ saw it received")
    await until(lambda: is_(chain.item_at("paris", "paris-2"), "transferred"),
                "Paris's piece transferred")
    for store_id in ("paris", "lyon"):
        assert (await chain.transfers[store_id].board())["conflicts"] == [], store_id
    assert len(await chain.conflicts_at_hq()) == 1  # HQ keeps what happened
    await chain.hq_holds_every_journal()


async def test_a_store_asks_another_for_a_piece_and_hq_relays_the_wish(chain):
    paris, lyon = chain.transfers["paris"], chain.transfers["lyon"]
    wish = await lyon.request("paris-1", from_store="paris", actor="marc")
    tid = wish["transfer_id"]
    assert [t["transfer_id"] for t in (await lyon.board())["asked"]] == [tid]
    # Lyon's entry reaches HQ, which asks Paris to send it.
    await until(lambda: is_(chain.status_at("paris", tid), "requested"), "Paris asked")
    assert [t["transfer_id"] for t in (await paris.board())["to_send"]] == [tid]
    row = await chain.row(tid)
    assert (row["status"], row["from_store"], row["to_store"], row["requested_by"]) == (
        "requested", "paris", "lyon", "lyon:marc")
    assert await chain.status_at("nice", tid) is None  # the wish goes to the sender only

    shipped = await paris.scan("paris-1", actor="sophie")
    assert shipped["transfer"]["transfer_id"] == tid
    await until(lambda: is_(chain.status_at("lyon", tid), "shipped"), "Lyon told it is coming")
    await lyon.scan("paris-1", actor="marc")
    await until(lambda: is_(chain.item_at("paris", "paris-1"), "transferred"),
                "Paris's piece transferred")
    assert await chain.status_at_hq(tid) == "received"
    await chain.hq_holds_every_journal()


@pytest.mark.parametrize("hq_keys", ["sqlite"], indirect=True)  # the stores' tags, not HQ's
async def test_stores_sharing_a_manager_number_mint_different_tags_and_a_piece_arrives(
        tmp_path, hq_keys, hq, broker):
    # Each store's new tags carry its own object class (hub/config.py store_object_class):
    # the serial is the store's journal seq, the same numbers at every store.
    async with open_chain(tmp_path, hq_keys, hq, broker) as chain:
        paris0 = (await chain.hubs["paris"].store.items.get("paris-0"))["epc"]
        lyon0 = (await chain.hubs["lyon"].store.items.get("lyon-0"))["epc"]
        assert paris0 != lyon0 and gid96_decode(paris0)[2] == gid96_decode(lyon0)[2]
        t = await ship(chain, "paris-0", "paris", "lyon")
        await until(lambda: is_(chain.status_at("lyon", t["transfer_id"]), "shipped"),
                    "Lyon told it is coming")
        got = await chain.transfers["lyon"].scan("paris-0", actor="marc")
        assert got["transfer"]["status"] == "received"
        assert await chain.item_at("lyon", "paris-0") == "in_stock"


@pytest.mark.parametrize("hq_keys", ["sqlite"], indirect=True)  # the receiver's round
async def test_the_receivers_slow_round_finds_a_late_transfer_and_tells_both_stores(chain):
    t = await ship(chain, "paris-1", "paris", "lyon")
    tid = t["transfer_id"]
    # The time it was shipped, put back past the days HQ allows (HQ's clock is the wall's).
    late = (datetime.now(UTC) - timedelta(days=hq_transfers.OVERDUE_DAYS + 1)).isoformat()
    await chain.hq.call(chain.hq.hq.storage.execute,
                        "UPDATE transfers SET shipped_at = ? WHERE transfer_id = ?", (late, tid))
    chain.hq.receiver.round_due.set()  # the slow round now, not in five minutes
    await until(lambda: is_(chain.status_at_hq(tid), "overdue"), "HQ's round marked it")
    for store_id in ("paris", "lyon"):
        await until(lambda s=store_id: is_(chain.status_at(s, tid), "overdue"),
                    f"{store_id} told it is late")
    assert len(await chain.conflicts_at_hq()) == 1


@pytest.mark.parametrize("hq_keys", ["sqlite"], indirect=True)  # the operator's command
async def test_head_office_asks_for_a_transfer_on_the_command_line(chain, hq_keys, broker):
    def loupe(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "hub", "hq", *args, "--data-dir",
                               str(hq_keys.data_dir), "--broker", broker.url], text=True,
                              capture_output=True, timeout=60)

    done = await asyncio.to_thread(loupe, "transfer", "--item", "paris-0", "--from", "paris",
                                   "--to", "nice")
    assert done.returncode == 0, done.stderr
    tid = re.search(r"transfer (hq-[0-9a-f]+)", done.stdout).group(1)
    await until(lambda: is_(chain.status_at("paris", tid), "requested"), "Paris was asked")
    refused = await asyncio.to_thread(loupe, "transfer", "--item", "paris-0", "--from",
                                      "paris", "--to", "nice")
    assert refused.returncode != 0 and "already in transfer" in refused.stderr
    assert "Traceback" not in refused.stderr
