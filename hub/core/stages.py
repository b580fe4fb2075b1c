"""One stage machine for everything that moves through stages: appointments today; repairs,
custom orders, special orders and layaways when those layers land.

A `StageMachine` is data: its stages, the stage a thing starts in, and its moves. A `Move`
names the stages it leaves from, the stage it leads to, the permission a person needs to make
it and whether it needs a note (why it was cancelled...). Checking a move and journaling it is
the same code for every machine: `move_in(tx, ...)` refuses a move the machine does not allow
from the thing's stage, one the person's role may not make, or one without the note it needs,
and otherwise appends one `<machine>.moved` entry (who and when are the entry's own; the move,
from, to and the note are its payload). A note about a client is personal: with `note_key`
(`client:<id>`) it goes into an `<machine>.note` entry sealed under that key, and the move
names that entry's seq, so the move itself stays readable after the client is erased and a
rebuild replays it the same.

The area that owns the things keeps their current stage and the list of moves in its own
tables (`record_move` writes a move's row into a table of the shape below); nothing here
knows HTTP or any one layer.

    CREATE TABLE <thing>_moves (
        seq        INTEGER PRIMARY KEY,    -- the move's journal entry
        thing_id   TEXT NOT NULL,
        move       TEXT NOT NULL,
        from_stage TEXT NOT NULL,
        to_stage   TEXT NOT NULL,
        ts         TEXT NOT NULL,
        actor      TEXT NOT NULL,
        note       TEXT,                   -- a note that is not personal, in the entry itself
        note_seq   INTEGER                 -- else the sealed entry holding it
    );
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from hub.core import fields
from hub.core.errors import Invalid, Refused
from hub.ledger.journal import Entry
from hub.ledger.ledger import Tx
from hub.words import Listing, Term

NOTE_MAX = 500


@dataclass(frozen=True)
class Move:
    """One move: from any of `sources` to `target`, by whoever has `permission`."""

    name: str
    sources: tuple[str, ...]
    target: str
    permission: str
    needs_note: bool = False


@dataclass(frozen=True)
class StageMachine:
    """Stages and moves as data. `vocabulary` names the words for the stages and
    `move_vocabulary` those for the moves (`hub.words.labels`), so a refusal reads in words."""

    name: str
    stages: tuple[str, ...]
    initial: str
    moves: tuple[Move, ...]
    vocabulary: str
    move_vocabulary: str
    _by_name: dict[str, Move] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.initial not in self.stages:
            raise ValueError(f"{self.name}: the first stage {self.initial!r} is not a stage")
        by_name: dict[str, Move] = {}
        for move in self.moves:
            if move.name in by_name:
                raise ValueError(f"{self.name}: two moves are called {move.name!r}")
            unknown = [s for s in (*move.sources, move.target) if s not in self.stages]
            if unknown or not move.sources:
                raise ValueError(f"{self.name}: move {move.name!r} names no stage {unknown}")
            by_name[move.name] = move
        object.__setattr__(self, "_by_name", by_name)

    @property
    def moved_kind(self) -> str:
        return f"{self.name}.moved"

    @property
    def note_kind(self) -> str:
        return f"{self.name}.note"

    def move(self, name: str) -> Move | None:
        return self._by_name.get(name)

    def moves_from(self, stage: str) -> tuple[Move, ...]:
        """The moves a thing in `stage` may make, in the machine's order."""
        return tuple(m for m in self.moves if stage in m.sources)

    def is_final(self, stage: str) -> bool:
        return not self.moves_from(stage)

    def after(self, stage: str, name: str) -> str | None:
        """The stage a move leads to from `stage`, or None when it is not allowed there."""
        move = self._by_name.get(name)
        return move.target if move is not None and stage in move.sources else None

    def replay(self, names: Iterable[str]) -> str:
        """The stage a thing is in after these moves, each allowed where it was made."""
        stage = self.initial
        for name in names:
            target = self.after(stage, name)
            if target is None:
                raise ValueError(f"{self.name}: {name!r} is no move from {stage!r}")
            stage = target
        return stage

    def check(self, stage: str, name: Any, note: Any, *,
              may: Callable[[str], bool]) -> tuple[Move, str | None]:
        """The move asked for, and its note, if the machine allows it from `stage` and the
        person may make it (`may(permission)`); otherwise a refusal in words."""
        wanted = fields.choice(name, "move", self._by_name, required=True,
                               vocabulary=self.move_vocabulary, lower=False)
        move = self._by_name[wanted or ""]
        note = fields.text(note, "note", max_len=NOTE_MAX, multiline=True)
        if stage not in move.sources:
            from_here = self.moves_from(stage)
            if not from_here:
                raise Refused("stage_final", "nothing more can be done from {stage}",
                              stage=Term(self.vocabulary, stage))
            raise Refused("stage_move_refused", "{move} is not possible from {stage}"
                          " (possible: {allowed})", stage=Term(self.vocabulary, stage),
                          move=Term(self.move_vocabulary, move.name),
                          allowed=Listing(tuple(Term(self.move_vocabulary, m.name)
                                                for m in from_here), "or"))
        if not may(move.permission):
            raise Refused("move_not_permitted", "your role may not make this move: {what}",
                          what=Term("permission", move.permission))
        if move.needs_note and not note:
            raise Invalid("say why in a note: {move} needs one", "note",
                          move=Term(self.move_vocabulary, move.name))
        return move, note

    def note_in(self, tx: Tx, subject: str, thing_id: str, note: str, *, actor: str,
                key_id: str) -> Entry:
        """A note sealed under `key_id` (a client's key: it may be about her)."""
        return tx.append(self.note_kind, subject, {"id": thing_id, "note": note}, actor=actor,
                         key_id=key_id)

    def move_in(self, tx: Tx, *, subject: str, thing_id: str, stage: str, name: Any,
                note: Any, actor: str, may: Callable[[str], bool],
                note_key: str | None = None) -> Entry:
        """Check the move and journal it: one `<machine>.moved` entry (and the sealed note
        before it, with `note_key`). The owner's projection sets the thing's stage from it."""
        move, note = self.check(stage, name, note, may=may)
        payload: dict[str, Any] = {"id": thing_id, "move": move.name, "from": stage,
                                   "to": move.target, "note": None, "note_seq": None}
        if note and note_key is not None:
            payload["note_seq"] = self.note_in(tx, subject, thing_id, note, actor=actor,
                                               key_id=note_key).seq
        else:
            payload["note"] = note
        return tx.append(self.moved_kind, subject, payload, actor=actor)


def record_move(tx: Tx, table: str, entry: Entry, p: dict[str, Any]) -> None:
    """A move's row in its owner's moves table (the shape in this module's docstring)."""
    tx.execute(f"INSERT INTO {table} (seq, thing_id, move, from_stage, to_stage, ts, actor,"
               " note, note_seq) VALUES (?,?,?,?,?,?,?,?,?)",
               (entry.seq, p["id"], p["move"], p["from"], p["to"], entry.ts, entry.actor,
                p.get("note"), p.get("note_seq")))
