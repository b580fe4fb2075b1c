"""The one stage machine (`hub.core.stages`), on its own and as the appointments use it: any
sequence of moves, by people who may or may not make them, with or without a note; only the
moves the machine allows succeed, and what the books hold equals a replay of the moves
journaled."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub import layers
from hub.clienteling.appointments import MACHINE, Appointments
from hub.core.errors import Invalid, Refused
from hub.core.stages import Move, StageMachine
from hub.ledger.journal import ENTRY_COLUMNS, Entry
from hub.ledger.ledger import dump_projections
from hub.store import Store, init_store
from tests.builders import client

NAMES = [m.name for m in MACHINE.moves] + ["teleport"]
STEPS = st.lists(st.tuples(st.sampled_from(NAMES), st.booleans(), st.booleans()),
                 max_size=12)


def test_a_machine_is_checked_when_it_is_defined():
    with pytest.raises(ValueError, match="first stage"):
        StageMachine("x", ("a",), "z", (), "v", "m")
    with pytest.raises(ValueError, match="names no stage"):
        StageMachine("x", ("a", "b"), "a", (Move("go", ("a",), "c", "p"),), "v", "m")
    with pytest.raises(ValueError, match="two moves"):
        StageMachine("x", ("a", "b"), "a", (Move("go", ("a",), "b", "p"),
                                            Move("go", ("b",), "a", "p")), "v", "m")


@settings(max_examples=300, deadline=None)
@given(STEPS)
def test_only_the_moves_the_machine_allows_succeed(steps):
    """Each step: a move (or a word that is none), whether the person may make it, whether
    a note comes with it. It succeeds exactly when it leaves from this stage, the person has
    its permission and it has the note it needs; the stage is then the replay of those."""
    stage, made = MACHINE.initial, []
    for name, allowed, with_note in steps:
        move = MACHINE.move(name)
        expected = (move is not None and stage in move.sources and allowed
                    and (with_note or not move.needs_note))
        try:
            checked, note = MACHINE.check(stage, name, "why" if with_note else None,
                                          may=lambda permission, allowed=allowed: allowed)
        except Refused as exc:
            assert not expected, exc
            if move is None:
                assert isinstance(exc, Invalid) and exc.field == "move"
            continue
        assert expected
        assert note == ("why" if with_note else None)
        stage = checked.target
        made.append(name)
        assert MACHINE.replay(made) == stage
    assert MACHINE.is_final(stage) == (not MACHINE.moves_from(stage))


def test_a_refused_move_says_why_in_words():
    layers.permissions()  # every layer's permissions in words (a store does it when it opens)
    with pytest.raises(Refused) as exc:
        MACHINE.check("booked", "finish", None, may=lambda p: True)
    assert str(exc.value) == ("Done is not possible from Booked (possible: Confirm, Arrived,"
                              " No-show or Cancel)")
    with pytest.raises(Refused) as exc:
        MACHINE.check("done", "cancel", "x", may=lambda p: True)
    assert str(exc.value) == "nothing more can be done from Done"
    with pytest.raises(Refused) as exc:
        MACHINE.check("cancelled", "reopen", "by mistake", may=lambda p: p != "appointments.manage")
    assert exc.value.code == "move_not_permitted" and "Reopen an appointment" in str(exc.value)
    with pytest.raises(Invalid) as exc:
        MACHINE.check("booked", "cancel", "  ", may=lambda p: True)
    assert exc.value.field == "note"


# -- the same, through the appointments' books ---------------------------------------------------

def _moves_journaled(store: Store, appointment_id: str) -> list[str]:
    async def read() -> list[str]:
        rows = await store.ledger.fetch(
            f"SELECT {ENTRY_COLUMNS} FROM journal WHERE subject = ? AND kind = ?"
            " ORDER BY seq", (f"appointment:{appointment_id}", MACHINE.moved_kind))
        return [store.ledger.decrypt(Entry.from_row(tuple(r)))["move"] for r in rows]
    return read()


def test_the_books_hold_a_replay_of_the_moves_journaled(tmp_path):
    runner = asyncio.Runner()
    config = init_store(tmp_path / "s", "paris-01", "Maison", "EUR", "Europe/Paris")
    store = runner.run(Store.open(config))
    try:
        for staff_id, role in (("alex", "associate"), ("mona", "manager")):
            runner.run(store.staff.enroll(staff_id, staff_id.title(), role, "135790",
                                          actor="test"))
        her = runner.run(store.clients.create(client(), "test"))["client_id"]
        appointments = Appointments(store)
        base = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=3)
        made = {"n": 0}

        @settings(max_examples=40, deadline=None,
                  suppress_health_check=[HealthCheck.function_scoped_fixture])
        @given(STEPS)
        def walk(steps):
            made["n"] += 1  # each example its own slot: two hours later than the last
            start = base + timedelta(hours=2 * made["n"])
            booked = runner.run(appointments.book(
                {"kind": "consultation", "client_id": her, "associate": "alex",
                 "salon": "Salon 1", "start": start.isoformat(), "duration_min": 60},
                actor="alex"))
            aid, stage, accepted = booked["appointment_id"], "booked", []
            for name, manager, with_note in steps:
                who = "mona" if manager else "alex"
                move = MACHINE.move(name)
                expected = (move is not None and stage in move.sources
                            and (manager or move.permission != "appointments.manage")
                            and (with_note or not move.needs_note))
                seq = store.ledger.seq
                try:
                    shown = runner.run(appointments.move(
                        aid, name, "as agreed" if with_note else None, actor=who))
                except Refused:
                    assert not expected and store.ledger.seq == seq  # nothing written
                    continue
                assert expected, (stage, name, who, with_note)
                stage = shown["status"]
                accepted.append(name)
            assert runner.run(_moves_journaled(store, aid)) == accepted
            assert runner.run(appointments.get(aid))["status"] == MACHINE.replay(accepted)

        walk()
        before = dump_projections(store.ledger.db_path, store.ledger.schemas)
        runner.run(store.rebuild())
        assert dump_projections(store.ledger.db_path, store.ledger.schemas) == before
        assert before["appointment_moves"]
    finally:
        runner.run(store.close())
        runner.close()
