"""One open count in memory: its reads, deduplicated, and a live tally kept as reads arrive.

The tally is incremental (each new tag/location pair costs a few set operations) so progress
can be published several times a second on a store of 100,000 pieces; the exact answer is
`reconcile()` at closing time, from the same reads.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from hub.counts.reconcile import IN_STORE, Piece, in_scope


class ReaderState(StrEnum):
    """A reader as the count sees it: a dropped one keeps its reads, and reads again."""

    READING = "reading"
    DROPPED = "dropped"  # its device went retrying or failed (unplugged, out of range)


@dataclass
class Reader:
    reads: int = 0
    last: float = 0.0
    state: ReaderState = ReaderState.READING


@dataclass
class CountSession:
    count_id: str
    kind: str
    scope: frozenset[str] | None
    day: str
    started_ts: str
    started_at: float = field(default_factory=time.time)
    # epc -> {location or None: reads}: everything the count has read, deduplicated
    seen: dict[str, dict[str | None, int]] = field(default_factory=dict)
    sweeps: dict[str, str] = field(default_factory=dict)  # device -> location swept
    readers: dict[str, Reader] = field(default_factory=dict)
    dirty: set[tuple[str, str | None]] = field(default_factory=set)
    reads: int = 0
    unlocated_reads: int = 0
    # live tally
    expected_by_loc: Counter[str] = field(default_factory=Counter)
    found_by_loc: Counter[str] = field(default_factory=Counter)
    found: set[str] = field(default_factory=set)
    in_place: set[str] = field(default_factory=set)
    misplaced: set[str] = field(default_factory=set)
    unknown: set[str] = field(default_factory=set)
    away: set[str] = field(default_factory=set)
    recovered: set[str] = field(default_factory=set)
    changed: bool = True

    @property
    def scope_list(self) -> list[str] | None:
        return sorted(self.scope) if self.scope is not None else None

    def overlaps(self, scope: frozenset[str] | None) -> bool:
        return self.scope is None or scope is None or bool(self.scope & scope)

    def expects(self, piece: Piece) -> bool:
        return piece.status in IN_STORE and in_scope(self.scope, piece.location)

    def note(self, epc: str, location: str | None, piece: Piece | None) -> None:
        """Fold a tag/location pair seen for the first time into the live tally."""
        self.changed = True
        if piece is not None and self.expects(piece):
            if epc not in self.found:
                self.found.add(epc)
                self.found_by_loc[piece.location] += 1
            if location == piece.location:
                self.in_place.add(epc)
                self.misplaced.discard(epc)
            elif location is not None and epc not in self.in_place:
                self.misplaced.add(epc)
            return
        if not in_scope(self.scope, location):
            return
        if piece is None:
            self.unknown.add(epc)
        elif piece.status in IN_STORE:
            if location is not None:
                self.misplaced.add(epc)
        elif piece.status == "missing":
            self.recovered.add(epc)
        else:
            self.away.add(epc)

    def retally(self, index: dict[str, Piece]) -> None:
        """Start the live tally over (the books changed under the count: a sale, a move)."""
        self.changed = True
        self.expected_by_loc = Counter(p.location for p in index.values() if self.expects(p))
        self.found_by_loc = Counter()
        for s in (self.found, self.in_place, self.misplaced, self.unknown, self.away,
                  self.recovered):
            s.clear()
        for epc, locations in self.seen.items():
            piece = index.get(epc)
            for location in locations:
                self.note(epc, location, piece)

    def repiece(self, epc: str, old: Piece | None, new: Piece | None) -> None:
        """Move one tag's share of the tally from its old piece to its new one (a sale, a
        move). Exact: a tag's part of the tally depends only on its own piece and the
        places it was read, whatever their order — so a sale during a count costs a few
        set operations, not a retally of the whole store."""
        self.changed = True
        if old is not None and self.expects(old):
            _decrement(self.expected_by_loc, old.location)
            if epc in self.found:
                _decrement(self.found_by_loc, old.location)
        for s in (self.found, self.in_place, self.misplaced, self.unknown, self.away,
                  self.recovered):
            s.discard(epc)
        if new is not None and self.expects(new):
            self.expected_by_loc[new.location] += 1
        for location in self.seen.get(epc, ()):
            self.note(epc, location, new)

    def progress(self) -> dict[str, Any]:
        expected = sum(self.expected_by_loc.values())
        locations = {loc: {"expected": n, "found": self.found_by_loc.get(loc, 0)}
                     for loc, n in sorted(self.expected_by_loc.items())}
        return {
            "count_id": self.count_id, "kind": self.kind, "scope": self.scope_list,
            "day": self.day, "started_ts": self.started_ts,
            "elapsed_s": round(time.time() - self.started_at, 1),
            "expected": expected, "found": len(self.found), "in_place": len(self.in_place),
            "missing": expected - len(self.found), "misplaced": len(self.misplaced),
            "unknown": len(self.unknown), "away": len(self.away),
            "recovered": len(self.recovered), "tags": len(self.seen), "reads": self.reads,
            "unlocated_reads": self.unlocated_reads, "locations": locations,
            "sweeps": dict(self.sweeps),
            "readers": {d: {"reads": r.reads, "last": r.last, "state": r.state}
                        for d, r in sorted(self.readers.items())},
        }


def _decrement(counter: Counter[str], key: str) -> None:
    counter[key] -= 1
    if counter[key] <= 0:
        del counter[key]
