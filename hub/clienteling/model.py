"""The clienteling area: the follow-ups' outcomes.

`followup.done` names the follow-up, its client and how it went (called, message left...).
Nothing in it is personal (opaque ids, an outcome word), so it is not sealed under the
client's key, and a client's erasure leaves the record that she was called."""

from __future__ import annotations

from typing import Any

from hub.ledger.journal import Entry
from hub.ledger.ledger import Tx
from hub.ledger.schema import Migration, Schema

SCHEMA = Schema("clienteling", (Migration(1, """
CREATE TABLE followup_outcomes (
    followup_id TEXT PRIMARY KEY,
    client_id   TEXT NOT NULL,
    outcome     TEXT NOT NULL,             -- called | message_left | emailed | visited
    seq         INTEGER NOT NULL,
    ts          TEXT NOT NULL,
    actor       TEXT NOT NULL
);
CREATE INDEX followup_outcomes_client ON followup_outcomes(client_id, seq);
CREATE INDEX followup_outcomes_ts ON followup_outcomes(ts);
"""),), projections=("followup_outcomes",))


def _on_done(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute("INSERT INTO followup_outcomes (followup_id, client_id, outcome, seq, ts, actor)"
               " VALUES (?, ?, ?, ?, ?, ?)", (p["followup_id"], p["client_id"], p["outcome"],
                                             entry.seq, entry.ts, entry.actor))


PROJECTIONS = {"followup.done": _on_done}
