"""Transfers on real stores, HQ's messages handed over as the sync layer would (the wire and
the broker are tested in tests/transfers/test_transfers_hq.py): a piece asked for, shipped
by scan (in transit: out of stock, not sellable, in no count as missing), received by scan
at the other end through the core's receive path; a piece scanned at the wrong store is
received there with a conflict; a piece not on its way is refused and nothing changes; HQ's
word that it arrived makes the sender's record `transferred`; a rebuild gives the same."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hub.bus import EventBus
from hub.core.errors import Invalid, Refused
from hub.counts.service import Counts
from hub.store import Store, init_store
from hub.transfers.book import TransferSettings, settings_of
from hub.transfers.part import transfers_of
from tests.builders import cash, piece


async def open_store(tmp_path: Path, store_id: str) -> Store:
    init_store(tmp_path / store_id, store_id, f"Maison {store_id}", "EUR")
    return await Store.open(tmp_path / store_id, EventBus())


@pytest.fixture
async def chain(tmp_path: Path) -> AsyncIterator[dict]:
    stores = {s: await open_store(tmp_path, s) for s in ("paris-01", "lyon-01", "nice-01")}
    await stores["paris-01"].items.receive_many(
        [piece(f"PA-{i}", epc=None) for i in range(3)], actor="admin")
    with transfers_of(stores["paris-01"]) as pa, transfers_of(stores["lyon-01"]) as ly, \
            transfers_of(stores["nice-01"]) as ni:
        yield {"stores": stores, "paris-01": pa, "lyon-01": ly, "nice-01": ni}
    for s in stores.values():
        await s.close()


async def hq_says(store: Store, mtype: str, body: dict) -> None:
    """A message as HQ signs it; the sync layer checked the signature before this call."""
    doc = {"id": uuid.uuid4().hex, "type": mtype, "chain": "maison",
           "store": store.config.store_id, "issued_at": "2026-12-02T10:00:00Z", "body": body}
    await store.hq.apply(doc, "signature-checked-by-the-sync-layer")


async def announce(chain: dict, shipped: dict) -> None:
    """HQ's `transfer_expected` to every store, from the sender's entry."""
    entry = (await chain["stores"][shipped["from_store"]].items.history(shipped["item_id"]))[-1]
    assert entry["kind"] == "transfer.shipped"
    p = entry["payload"]
    for s in chain["stores"].values():
        await hq_says(s, "transfer_expected", {k: p[k] for k in (
            "transfer_id", "item_id", "from_store", "to_store", "piece", "currency",
            "shipped_at")})


async def settle(chain: dict, t: dict, status: str, at_store: str) -> None:
    await hq_says(chain["stores"][t["from_store"]], "transfer_settled", {
        "transfer_id": t["transfer_id"], "item_id": t["item_id"], "from_store": t["from_store"],
        "to_store": t["to_store"], "status": status, "at_store": at_store, "detail": None})


async def test_a_piece_travels_from_paris_to_lyon(chain):
    paris, lyon = chain["paris-01"], chain["lyon-01"]
    asked = await paris.request("PA-0", to_store="lyon-01", actor="sophie")
    assert asked["status"] == "requested" and asked["to_store"] == "lyon-01"
    assert [t["item_id"] for t in (await paris.board())["to_send"]] == ["PA-0"]

    shipped = await paris.scan("PA-0", actor="sophie")
    assert shipped["done"] == "shipped"
    t = shipped["transfer"]
    sent = await paris.items.get("PA-0")
    assert sent["status"] == "in_transit"  # out of the sender's stock
    assert (await paris.board())["in_transit"][0]["transfer_id"] == t["transfer_id"]
    with pytest.raises(Refused) as sale:  # nobody sells a piece on its way
        await paris.store.sales.complete(register_id="R1", actor="sophie",
                                         lines=[{"item_id": "PA-0"}], tenders=cash(950_000))
    assert "on its way" in str(sale.value)

    await announce(chain, t)
    expected = (await lyon.board())["expected"]
    assert [(e["item_id"], e["from_store"]) for e in expected] == [("PA-0", "paris-01")]
    assert expected[0]["description"] == "Platinum solitaire ring"

    got = await lyon.scan("PA-0", actor="marc")
    assert got["done"] == "received" and got["transfer"]["status"] == "received"
    arrived = await lyon.items.get("PA-0")
    assert arrived["status"] == "in_stock" and arrived["tag_price"] == 950_000
    assert arrived["stones"][0]["certificate"] == "2141234567"  # the record travelled whole
    assert arrived["epc"] == sent["epc"]  # the same tag on the same piece
    assert [h["kind"] for h in await lyon.items.history("PA-0")][-2:] == [
        "item.received", "transfer.received"]

    await settle(chain, t, "received", "lyon-01")
    assert (await paris.items.get("PA-0"))["status"] == "transferred"
    assert (await paris.get(t["transfer_id"]))["status"] == "received"
    # The books rebuild to the same from the journals.
    for s in (paris, lyon):
        before = await s.board()
        await s.store.ledger.rebuild()
        assert await s.board() == before


async def test_scan_at_the_wrong_store_is_received_there_with_a_conflict(chain):
    paris, lyon, nice = chain["paris-01"], chain["lyon-01"], chain["nice-01"]
    await paris.request("PA-1", to_store="lyon-01", actor="sophie")
    t = (await paris.scan("PA-1", actor="sophie"))["transfer"]
    await announce(chain, t)
    got = await nice.scan("PA-1", actor="marc")
    assert got["transfer"]["status"] == "misdelivered"
    assert (await nice.items.get("PA-1"))["status"] == "in_stock"
    conflicts = (await nice.board())["conflicts"]
    assert [(c["item_id"], c["conflict"]) for c in conflicts] == [("PA-1", "misdelivered")]
    # Lyon no longer waits for it once HQ says where it went; Paris's copy is gone.
    await settle(chain, t, "misdelivered", "nice-01")
    await hq_says(lyon.store, "transfer_settled", {
        "transfer_id": t["transfer_id"], "item_id": "PA-1", "from_store": "paris-01",
        "to_store": "lyon-01", "status": "misdelivered", "at_store": "nice-01",
        "detail": None})
    assert (await lyon.board())["expected"] == []
    assert [c["conflict"] for c in (await lyon.board())["conflicts"]] == ["misdelivered"]
    assert (await paris.items.get("PA-1"))["status"] == "transferred"


async def test_scans_that_neither_ship_nor_receive_change_nothing(chain):
    paris, lyon = chain["paris-01"], chain["lyon-01"]
    seq = paris.store.ledger.seq
    with pytest.raises(Refused) as exc:  # in stock, but nobody asked for it
        await paris.scan("PA-2", actor="sophie")
    assert exc.value.code == "not_to_send"
    with pytest.raises(Refused) as exc:
        await lyon.scan("NOWHERE-9", actor="marc")
    assert exc.value.code == "not_in_transit" and "not on its way" in str(exc.value)
    await paris.request("PA-2", to_store="lyon-01", actor="sophie")
    t = (await paris.scan("PA-2", actor="sophie"))["transfer"]
    with pytest.raises(Refused) as exc:  # scanned twice at the sender
        await paris.scan("PA-2", actor="sophie")
    assert exc.value.code == "sent_from_here"
    with pytest.raises(Refused) as exc:  # Lyon has not heard of it yet: no silent booking
        await lyon.scan("PA-2", actor="marc")
    assert exc.value.code == "not_in_transit"
    await announce(chain, t)
    await lyon.scan("PA-2", actor="marc")
    with pytest.raises(Refused) as exc:  # received once only
        await lyon.scan("PA-2", actor="marc")
    assert exc.value.code == "already_received"
    assert paris.store.ledger.seq == seq + 3  # request, shipment, HQ's announcement


async def test_requests_are_checked(chain):
    paris = chain["paris-01"]
    with pytest.raises(Invalid):
        await paris.request("PA-0", to_store="paris-01", actor="sophie")
    with pytest.raises(Invalid):
        await paris.request("PA-0", actor="sophie")  # to where?
    with pytest.raises(Refused):
        await paris.request("NOPE", to_store="lyon-01", actor="sophie")
    await paris.request("PA-0", to_store="lyon-01", actor="sophie")
    with pytest.raises(Refused) as exc:
        await paris.request("PA-0", to_store="nice-01", actor="sophie")
    assert exc.value.code == "already_asked"
    # A store asks another for one of its pieces: HQ relays it to the sender.
    wish = await chain["lyon-01"].request("PA-1", from_store="paris-01", actor="marc")
    assert (await chain["lyon-01"].board())["asked"][0]["transfer_id"] == wish["transfer_id"]
    await hq_says(paris.store, "transfer_request", {k: wish[k] for k in (
        "transfer_id", "item_id", "from_store", "to_store")})
    assert {t["item_id"] for t in (await paris.board())["to_send"]} == {"PA-0", "PA-1"}
    cancelled = await paris.cancel(wish["transfer_id"], actor="sophie")
    assert cancelled["status"] == "cancelled"


async def count_of(store: Store, read_ids: list[str]) -> dict:
    """A full count of `store` whose reader answers for the pieces of `read_ids`."""
    epcs = {r["item_id"]: r["epc"] for r in await store.ledger.fetch(
        "SELECT item_id, epc FROM items")}
    counts = Counts(store, store.bus)
    await counts.start()
    try:
        started = await counts.start_count("full", None, "marc")
        for item_id in read_ids:
            store.bus.publish("device.rfid.read", device="fx-1", epc=epcs[item_id], antenna=1,
                              rssi_cdbm=-5200, location="store", ts="2026-12-02T18:00:00Z")
        return (await counts.close(started["count_id"], "marc"))["result"]
    finally:
        await counts.stop()


async def test_in_transit_pieces_are_in_no_count_as_missing(chain):
    paris, lyon = chain["paris-01"], chain["lyon-01"]
    await paris.request("PA-0", to_store="lyon-01", actor="sophie")
    t = (await paris.scan("PA-0", actor="sophie"))["transfer"]
    with pytest.raises(Refused):  # nor can a manager mark it missing by hand
        await paris.items.change_status("PA-0", "missing", actor="marc")
    # Paris counts with the parcel still at the door: expected 2, none missing; its tag
    # answering is a piece away, never a find.
    result = await count_of(paris.store, ["PA-0", "PA-1", "PA-2"])
    assert (result["expected"], result["found"], result["missing"]) == (2, 2, [])
    assert [a["item_id"] for a in result["away"]] == ["PA-0"]
    await announce(chain, t)
    await lyon.scan("PA-0", actor="marc")
    result = await count_of(lyon.store, ["PA-0"])
    assert (result["expected"], result["found"], result["missing"]) == (1, 1, [])


def test_settings_refuse_a_wrong_key(tmp_path):
    config = init_store(tmp_path / "s", "paris-01", "Maison", "EUR")
    assert settings_of(config) == TransferSettings()
