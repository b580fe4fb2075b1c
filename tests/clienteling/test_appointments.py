"""Appointments through their service on a real store: booking and its refusals (nothing
written), no double booking of an associate or a salon (a property test), trays of held
pieces in one transaction, a held piece's sale asking first, a count that knows a piece on a
tray is not missing, sealed notes, and a rebuild that gives the same books."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.clienteling.appointments import Appointments, AppointmentSettings, settings_of
from hub.clienteling.rules import Due, Rules
from hub.config import ConfigError, parse_config
from hub.core.errors import Invalid, NotFound, Refused
from hub.counts.service import Counts
from hub.counts.settings import CountSettings
from hub.ledger.ledger import dump_projections
from hub.store import Store, init_store
from tests.builders import cash, client, piece

STAFF = (("sophie", "Sophie Martin", "associate"), ("alex", "Alex Roy", "associate"),
         ("mona", "Mona Laurent", "manager"))


async def open_shop(path) -> tuple[Store, Appointments, str]:
    config = init_store(path / "s", "paris-01", "Maison", "EUR", "Europe/Paris")
    store = await Store.open(config)
    for staff_id, name, role in STAFF:
        await store.staff.enroll(staff_id, name, role, "135790", actor="test")
    await store.items.receive_many(
        [piece(f"P-{n}", location="showcase-1" if n <= 4 else "showcase-2",
               description=f"Emerald ring {n}") for n in range(1, 9)], "test")
    her = (await store.clients.create(client("Hélène", "Fontaine"), "test"))["client_id"]
    return store, Appointments(store), her


@pytest.fixture
async def shop(tmp_path):
    store, appointments, her = await open_shop(tmp_path)
    yield store, appointments, her
    await store.close()


def at(days: int, hour: int, minute: int = 0) -> str:
    """A moment `days` from now at `hour`:`minute`, in the store's time (Paris)."""
    day = (datetime.now(UTC) + timedelta(days=days)).date()
    return f"{day.isoformat()}T{hour:02d}:{minute:02d}"


def booking(her: str, start: str, **over) -> dict:
    return {"kind": "private_viewing", "client_id": her, "associate": "sophie",
            "salon": "Salon 2", "start": start, "duration_min": 60, **over}


def books(store: Store) -> tuple[int, dict]:
    return store.ledger.seq, dump_projections(store.ledger.db_path, store.ledger.schemas)


# -- booking ------------------------------------------------------------------------------------

async def test_a_booking_in_the_store_s_time(shop):
    store, appointments, her = shop
    a = await appointments.book(booking(her, at(2, 15), note="Her 40th: emeralds"),
                                actor="sophie")
    assert (a["kind"], a["status"], a["salon"], a["associate_name"]) == \
        ("private_viewing", "booked", "Salon 2", "Sophie Martin")
    assert (a["starts"], a["ends"], a["minutes"]) == ("15:00", "16:00", 60)
    local = datetime.fromisoformat(a["start"].replace("Z", "+00:00")).astimezone(store.words.tz)
    assert local.hour == 15 and a["day"] == local.date().isoformat()
    assert a["client_name"] == "Hélène Fontaine" and a["note"] == "Her 40th: emeralds"
    assert a["moves"] == ["confirm", "arrive", "no_show", "cancel"]
    by_end = await appointments.book(booking(her, at(2, 17), end=at(2, 17, 45)), actor="sophie")
    assert by_end["minutes"] == 45


@pytest.mark.parametrize("change, field", [
    ({"start": "2020-03-01T10:00"}, "start"),
    ({"end": "__before__"}, "end"),
    ({"client_id": "CNOBODY0000"}, "client_id"),
    ({"associate": "zed"}, "associate"),
    ({"salon": "Salon 9"}, "salon"),
    ({"kind": "tea party"}, "kind"),
    ({"start": "next friday"}, "start"),
    ({"duration_min": 2}, "duration_min"),
    ({"note": "x" * 501}, "note"),
])
async def test_a_bad_booking_is_refused_in_words_and_writes_nothing(shop, change, field):
    store, appointments, her = shop
    raw = booking(her, at(3, 11))
    if change.get("end") == "__before__":
        change = {"end": at(3, 10)}
    raw.update(change)
    before = books(store)
    with pytest.raises(Invalid) as exc:
        await appointments.book(raw, actor="sophie")
    assert field in [p.field for p in exc.value.problems]
    assert books(store) == before


async def test_every_problem_of_a_booking_at_once(shop):
    store, appointments, _ = shop
    with pytest.raises(Invalid) as exc:
        await appointments.book({"kind": "x", "client_id": "CNOPE000000", "associate": "zed",
                                 "salon": "Nowhere", "start": "2020-01-01T10:00",
                                 "end": "2019-01-01T10:00"}, actor="sophie")
    assert {p.field for p in exc.value.problems} == {"kind", "client_id", "associate",
                                                     "salon", "start", "end"}


async def test_the_refusal_names_who_holds_the_slot_never_the_client(shop):
    store, appointments, her = shop
    await appointments.book(booking(her, at(4, 14)), actor="sophie")
    before = books(store)
    with pytest.raises(Refused) as exc:  # Sophie again, in the other salon
        await appointments.book(booking(her, at(4, 14, 30), salon="Salon 1",
                                        kind="consultation"), actor="alex")
    assert exc.value.code == "associate_busy" and exc.value.field == "start"
    assert str(exc.value) == "Sophie Martin has a private viewing from 14:00 to 15:00"
    with pytest.raises(Refused) as exc:  # Alex, but in Sophie's salon
        await appointments.book(booking(her, at(4, 13, 30), associate="alex"), actor="alex")
    assert exc.value.code == "salon_busy"
    assert "Salon 2 is taken from 14:00 to 15:00: Sophie Martin has a private viewing" \
        in str(exc.value)
    assert "Hélène" not in str(exc.value) and "Fontaine" not in str(exc.value)
    assert books(store) == before
    # touching is fine: one ends at 15:00, the next starts at 15:00
    await appointments.book(booking(her, at(4, 15)), actor="sophie")


# -- no double booking, as a property -------------------------------------------------------------

ASKS = st.lists(st.tuples(st.integers(0, 40), st.integers(1, 8),  # quarter hours: start, length
                          st.sampled_from(["sophie", "alex"]),
                          st.sampled_from(["Salon 1", "Salon 2"]),
                          st.sampled_from([None, "cancel", "no_show"])),
                min_size=1, max_size=10)


def test_two_appointments_of_an_associate_or_a_salon_never_overlap(tmp_path):
    """Accepted exactly when no live appointment of the same associate or in the same salon
    overlaps it (touching is not overlapping); one cancelled or marked no-show frees its
    slot. Each example books on a day of its own."""
    runner = asyncio.Runner()
    store, appointments, her = runner.run(open_shop(tmp_path))
    examples = {"n": 0}
    try:
        @settings(max_examples=60, deadline=None,
                  suppress_health_check=[HealthCheck.function_scoped_fixture])
        @given(ASKS)
        def check(asks):
            examples["n"] += 1
            day = (datetime.now(UTC) + timedelta(days=2 + examples["n"])).date()
            live: list[tuple[int, int, str, str]] = []
            for q_start, q_len, who, salon, then in asks:
                start, end = 9 * 4 + q_start, 9 * 4 + q_start + q_len
                clash = any(s < end and start < e and (w == who or r == salon)
                            for s, e, w, r in live)
                seq = store.ledger.seq
                moment = f"{day.isoformat()}T{start // 4:02d}:{start % 4 * 15:02d}"
                try:
                    made = runner.run(appointments.book(
                        {"kind": "consultation", "client_id": her, "associate": who,
                         "salon": salon, "start": moment, "duration_min": q_len * 15},
                        actor="mona"))
                except Refused as exc:
                    assert clash, exc
                    assert exc.code in ("associate_busy", "salon_busy")
                    assert store.ledger.seq == seq
                    continue
                assert not clash
                if then is not None:  # freed again at once: its slot is anyone's
                    runner.run(appointments.move(made["appointment_id"], then,
                                                 "changed plans", actor="mona"))
                else:
                    live.append((start, end, who, salon))
            # what the books say agrees with the model: no two live ones overlap
            listed = runner.run(appointments.between(day, day))
            kept = [a for a in listed if a["status"] == "booked"]
            assert len(kept) == len(live)
            for i, a in enumerate(kept):
                for b in kept[i + 1:]:
                    if a["associate"] == b["associate"] or a["salon"] == b["salon"]:
                        assert a["end"] <= b["start"] or b["end"] <= a["start"]

        check()
    finally:
        runner.run(store.close())
        runner.close()


# -- stages ---------------------------------------------------------------------------------------

async def test_moves_are_journaled_with_who_when_and_a_sealed_note(shop):
    store, appointments, her = shop
    a = await appointments.book(booking(her, at(5, 10), note="Bring the Colombian one"),
                                actor="sophie")
    aid = a["appointment_id"]
    await appointments.move(aid, "confirm", actor="sophie")
    with pytest.raises(Invalid) as exc:  # a cancellation says why
        await appointments.move(aid, "cancel", actor="sophie")
    assert exc.value.field == "note"
    with pytest.raises(Refused):
        await appointments.move(aid, "finish", actor="sophie")  # she has not arrived
    gone = await appointments.move(aid, "cancel", "Her flight was cancelled", actor="sophie")
    assert gone["status"] == "cancelled" and gone["moves"] == ["reopen"]
    assert [(m["move"], m["actor"], m["note"]) for m in gone["history"]] == [
        ("confirm", "sophie", None), ("cancel", "sophie", "Her flight was cancelled")]
    with pytest.raises(Refused) as exc:  # reopening is a manager's
        await appointments.move(aid, "reopen", "by mistake", actor="sophie")
    assert exc.value.code == "move_not_permitted"
    again = await appointments.move(aid, "reopen", "She can come after all", actor="mona")
    assert again["status"] == "booked"
    # the notes are hers: sealed under her key, nowhere in clear, unreadable once erased
    wal = store.ledger.db_path.with_suffix(".db-wal")
    raw = store.ledger.db_path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    for text in ("Colombian", "flight was cancelled", "after all"):
        assert text.encode() not in raw
    await store.clients.forget(her, "mona")
    erased = await appointments.get(aid)
    assert erased["note"] is None and erased["client_name"] is None
    assert [m["note"] for m in erased["history"]] == [None, None, None]
    assert [m["move"] for m in erased["history"]] == ["confirm", "cancel", "reopen"]
    before = dump_projections(store.ledger.db_path, store.ledger.schemas)
    await store.rebuild()  # the appointment outlives her profile, the same after a replay
    assert dump_projections(store.ledger.db_path, store.ledger.schemas) == before


async def test_a_reopened_appointment_needs_its_slot_free_again(shop):
    store, appointments, her = shop
    first = await appointments.book(booking(her, at(6, 10)), actor="sophie")
    await appointments.move(first["appointment_id"], "no_show", actor="sophie")
    await appointments.book(booking(her, at(6, 10, 30)), actor="sophie")  # the slot is free
    with pytest.raises(Refused) as exc:
        await appointments.move(first["appointment_id"], "reopen", "she came", actor="mona")
    assert exc.value.code == "associate_busy"


# -- trays ----------------------------------------------------------------------------------------

async def test_a_tray_holds_its_pieces_in_one_transaction(shop):
    store, appointments, her = shop
    a = await appointments.book(booking(her, at(2, 15)), actor="sophie")
    other = await appointments.book(booking(her, at(2, 15), associate="alex",
                                            salon="Salon 1"), actor="alex")
    await store.sales.complete(register_id="R1", actor="alex", lines=[{"item_id": "P-8"}],
                               tenders=cash(950_000))
    await store.items.change_status("P-7", "in_repair", "mona")
    tray = await appointments.pull(a["appointment_id"], {"item_ids": ["P-1", "P-2", "P-5"]},
                                   actor="sophie")
    assert tray["tray"] == "T1" and tray["open"]
    assert [(p["item_id"], p["from_location"], p["state"]) for p in tray["pieces"]] == [
        ("P-1", "showcase-1", "open"), ("P-2", "showcase-1", "open"),
        ("P-5", "showcase-2", "open")]
    hold = await store.holds.of("P-1")
    assert (hold["purpose"], hold["ref"], hold["detail"]["tray"], hold["detail"]["place"]) == \
        ("appointment", f"appointment:{a['appointment_id']}", "T1", "Salon 2")
    assert store.holds.where(hold) == "on tray T1, Salon 2"
    assert (await store.items.get("P-1"))["status"] == "in_stock"  # still in stock
    # a sold piece, one in repair, one on another tray, an unknown one: each refuses the lot
    for bad, code in (("P-8", "item_sold"), ("P-7", "item_in_repair"), ("P-2", "held"),
                      ("P-404", "not_found")):
        before = books(store)
        with pytest.raises(Refused) as exc:
            await appointments.pull(other["appointment_id"], {"item_ids": ["P-3", bad]},
                                    actor="alex")
        assert exc.value.code == code and bad in str(exc.value)
        assert books(store) == before
    assert "is on tray T1 in Salon 2 for an appointment at" in str(exc_of_held(store))
    second = await appointments.pull(other["appointment_id"], {"item_ids": ["P-3"]},
                                     actor="alex")
    assert second["tray"] == "T2"  # the lowest tray not out
    with pytest.raises(Refused) as exc:
        await appointments.pull(a["appointment_id"], {"item_ids": ["P-4"], "tray": "T2"},
                                actor="sophie")
    assert exc.value.code == "tray_differs"
    more = await appointments.pull(a["appointment_id"], {"item_ids": ["P-4"]}, actor="sophie")
    assert [p["item_id"] for p in more["pieces"]] == ["P-1", "P-2", "P-5", "P-4"]
    with pytest.raises(Invalid):
        await appointments.pull(a["appointment_id"], {"item_ids": ["P-6", "P-6"]},
                                actor="sophie")


def exc_of_held(store: Store) -> Refused:
    return store.holds.refusal({"item_id": "P-2", "purpose": "appointment", "ref": "x",
                                "detail": {"tray": "T1", "place": "Salon 2",
                                           "at": "2030-01-01T14:00:00Z"}})


async def test_closing_the_tray_says_which_showcase_each_piece_goes_back_to(shop):
    store, appointments, her = shop
    a = await appointments.book(booking(her, at(2, 11)), actor="sophie")
    aid = a["appointment_id"]
    await appointments.pull(aid, {"item_ids": ["P-1", "P-5", "P-6"], "tray": "T4"},
                            actor="sophie")
    prep = await appointments.prep(aid)
    assert [(p["item_id"], p["from_location"], p["tag_price"]) for p in prep["pieces"]] == [
        ("P-1", "showcase-1", 950_000), ("P-5", "showcase-2", 950_000),
        ("P-6", "showcase-2", 950_000)]
    text = appointments.prep_document(prep)
    assert text.blocks[0].text == "Tray T4 · Salon 2"
    assert "Hélène" not in str(text.blocks)  # the paper names no client
    # one piece sold from the tray, confirmed: its hold goes with it
    await store.sales.complete(register_id="R1", actor="sophie",
                               lines=[{"item_id": "P-5", "confirm_held": True}],
                               tenders=cash(950_000))
    closed = await appointments.close_tray(aid, actor="sophie")
    assert closed["closed_tray"] == "T4" and not closed["open"]
    assert [(p["item_id"], p["back_to"]) for p in closed["back"]] == [
        ("P-1", "showcase-1"), ("P-6", "showcase-2")]
    assert [p["state"] for p in closed["pieces"]] == ["closed", "sold", "closed"]
    assert await store.holds.held_among(["P-1", "P-5", "P-6"]) == {}
    with pytest.raises(Refused) as exc:
        await appointments.close_tray(aid, actor="sophie")
    assert exc.value.code == "no_tray"
    # the piece's history tells it: held, back
    kinds = [h["kind"] for h in await store.items.history("P-1")]
    assert kinds[-2:] == ["item.held", "item.released"]


async def test_an_appointment_done_with_its_tray_out_closes_the_tray(shop):
    """The decision: done, no-show or cancelled with the tray out closes it in the same
    transaction (its pieces would otherwise stay held after the client left)."""
    store, appointments, her = shop
    a = await appointments.book(booking(her, at(2, 16)), actor="sophie")
    aid = a["appointment_id"]
    await appointments.pull(aid, {"item_ids": ["P-2", "P-3"]}, actor="sophie")
    await appointments.move(aid, "arrive", actor="sophie")
    seq = store.ledger.seq
    done = await appointments.move(aid, "finish", actor="sophie")
    assert done["status"] == "done" and done["tray"] is None
    assert [(p["item_id"], p["back_to"]) for p in done["tray_closed"]["back"]] == [
        ("P-2", "showcase-1"), ("P-3", "showcase-1")]
    rows = await store.ledger.fetch("SELECT kind FROM journal WHERE seq > ? ORDER BY seq",
                                    (seq,))
    assert [r["kind"] for r in rows] == ["appointment.moved", "appointment.tray_closed",
                                         "item.released", "item.released"]
    assert await store.holds.held_among(["P-2", "P-3"]) == {}
    with pytest.raises(Refused) as exc:  # and a finished appointment takes no more pieces
        await appointments.pull(aid, {"item_ids": ["P-4"]}, actor="sophie")
    assert exc.value.code == "appointment_over"
    assert await appointments.done_between(done["day"], done["day"]) == [
        {"appointment_id": aid, "client_id": her, "associate": "sophie",
         "kind": "private_viewing", "day": done["day"], "start": done["start"]}]


# -- a held piece at the register ---------------------------------------------------------------

async def test_a_held_piece_sells_only_when_confirmed_and_the_sale_ends_its_hold(shop):
    store, appointments, her = shop
    a = await appointments.book(booking(her, at(1, 10)), actor="sophie")
    await appointments.pull(a["appointment_id"], {"item_ids": ["P-1"]}, actor="sophie")
    seq = store.ledger.seq
    with pytest.raises(Refused) as exc:
        await store.carts.add("R1", item_id="P-1", by="alex")
    assert exc.value.code == "held"
    assert str(exc.value).startswith("piece P-1 is on tray T1 in Salon 2 for an appointment at")
    with pytest.raises(Refused) as exc:
        await store.sales.complete(register_id="R1", actor="alex", lines=[{"item_id": "P-1"}],
                                   tenders=cash(950_000))
    assert exc.value.code == "held" and store.ledger.seq == seq
    cart = await store.carts.add("R1", item_id="P-1", by="alex", confirm_held=True)
    assert cart["problem"] is None and cart["total"] == 950_000
    await store.carts.add_tender("R1", {"type": "cash", "amount": 950_000}, by="alex")
    sale_id = await store.carts.complete("R1", actor="alex")
    rows = await store.ledger.fetch("SELECT kind FROM journal WHERE seq > ? ORDER BY seq",
                                    (seq,))
    assert [r["kind"] for r in rows] == ["item.released", "sale.completed"]
    assert await store.holds.of("P-1") is None
    assert (await store.items.get("P-1"))["status"] == "sold"
    tray = await appointments.tray(a["appointment_id"])
    assert tray["pieces"][0]["state"] == "sold"
    history = await store.items.history("P-1")
    assert history[-2]["payload"]["sale_id"] == sale_id


# -- a count --------------------------------------------------------------------------------------

async def test_a_count_reports_a_piece_on_a_tray_where_it_is_not_missing(shop):
    store, appointments, her = shop
    a = await appointments.book(booking(her, at(1, 10)), actor="sophie")
    await appointments.pull(a["appointment_id"], {"item_ids": ["P-2"], "tray": "T3"},
                            actor="sophie")
    epcs = {r["item_id"]: r["epc"] for r in await store.ledger.fetch(
        "SELECT item_id, epc FROM items")}
    counts = Counts(store, store.bus, CountSettings(flush_interval_s=0.05,
                                                    progress_interval_s=0.02))
    await counts.start()
    try:
        await counts.start_count("closing", ["showcase-1"], "mona")
        count_id = next(iter(counts.sessions))
        for item_id in ("P-1", "P-4"):  # P-3 is not read either: that one is missing
            counts.ingest(epcs[item_id], "showcase-1", "fx-1")
        result = (await counts.close(count_id, "mona"))["result"]
    finally:
        await counts.stop()
    assert [m["item_id"] for m in result["missing"]] == ["P-3"]
    assert result["held"] == [{"item_id": "P-2", "location": "showcase-1",
                               "category": "ring", "where": "on tray T3, Salon 2"}]
    assert result["misplaced"] == [] and result["accuracy_bp"] == 7500
    assert result["locations"]["showcase-1"]["held"] == 1


# -- settings -------------------------------------------------------------------------------------

def test_the_salons_come_from_the_store_s_settings(tmp_path):
    def config(section):
        return parse_config({"store": {"id": "s", "name": "S", "currency": "EUR"},
                             "registers": [{"id": "R1"}], "appointments": section}, tmp_path)
    assert settings_of(config({})) == AppointmentSettings()
    mine = settings_of(config({"salons": ["Le Grand Salon", "Cabinet"], "trays": 4}))
    assert mine.salons == ("Le Grand Salon", "Cabinet") and mine.trays == 4
    for bad in ({"salons": []}, {"salons": ["A", "A"]}, {"trays": 0}, {"colour": "blue"}):
        with pytest.raises(ConfigError, match="appointments."):
            settings_of(config(bad))


async def test_an_unknown_appointment_is_not_found(shop):
    _, appointments, _ = shop
    with pytest.raises(NotFound):
        await appointments.get("A999")
    with pytest.raises(NotFound):
        await appointments.move("A999", "confirm", actor="sophie")


async def test_a_thank_you_call_follows_an_appointment_done(shop):
    """The follow-ups' source: an appointment done comes up `after_appointment_days` later
    (booked in the past only by moving the service's clock back)."""
    store, appointments, her = shop
    real = appointments.now
    appointments.now = lambda: real() - timedelta(days=3)
    when = (real() - timedelta(days=2)).astimezone(store.words.tz).replace(hour=11, minute=0)
    a = await appointments.book(booking(her, when.strftime("%Y-%m-%dT%H:%M")), actor="sophie")
    appointments.now = real
    await appointments.move(a["appointment_id"], "arrive", actor="sophie")
    await appointments.move(a["appointment_id"], "finish", actor="sophie")
    today = appointments.today()
    rules = Rules(after_appointment_days=2)
    [due] = await appointments.followups(today, rules)
    assert (due.kind, due.client_id, due.about, due.due) == (
        "appointment", her, a["appointment_id"], when.date() + timedelta(days=2))
    assert due.stands(today, rules) == Due.TODAY
    assert await appointments.followups(today, rules, "COTHER00000") == []
    assert await appointments.followups(today, Rules(after_appointment_days=0)) == []
    # and her data's export lists it, in words, with its note
    _, rows = await appointments.export_section(her)
    assert rows[0]["kind"] == "private viewing" and rows[0]["status"] == "Done"
