"""The clienteling area: the follow-ups' outcomes and snoozes.

`followup.done` names the follow-up, its client and how it went (called, message left...);
`followup.snoozed` puts one off until a day (the latest snooze of a follow-up holds);
`contact.logged` is a call, visit or message outside the follow-ups, its note sealed under
the client's key (the projection keeps only how and when); `client.exported` records that
her own data was exported for her, and in which format (`hub.clienteling.privacy`).
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
"""), Migration(2, """
CREATE TABLE followup_snoozes (
    followup_id TEXT PRIMARY KEY,
    client_id   TEXT NOT NULL,
    until       TEXT NOT NULL,             -- the day it is listed again
    seq         INTEGER NOT NULL,
    actor       TEXT NOT NULL
);
CREATE INDEX followup_snoozes_until ON followup_snoozes(until);
CREATE TABLE contacts (
    seq         INTEGER PRIMARY KEY,       -- the contact.logged entry (its note sealed)
    client_id   TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    ts          TEXT NOT NULL,
    actor       TEXT NOT NULL
);
CREATE INDEX contacts_client ON contacts(client_id, seq);
CREATE TABLE client_exports (
    seq         INTEGER PRIMARY KEY,       -- the client.exported entry
    client_id   TEXT NOT NULL,
    format      TEXT NOT NULL,             -- pdf | json
    ts          TEXT NOT NULL,
    actor       TEXT NOT NULL
);
CREATE INDEX client_exports_client ON client_exports(client_id, seq);
""")), projections=("followup_outcomes", "followup_snoozes", "contacts",
                              "client_exports"))


def _on_done(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute("INSERT INTO followup_outcomes (followup_id, client_id, outcome, seq, ts, actor)"
               " VALUES (?, ?, ?, ?, ?, ?)", (p["followup_id"], p["client_id"], p["outcome"],
                                             entry.seq, entry.ts, entry.actor))


def _on_snoozed(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute("INSERT OR REPLACE INTO followup_snoozes (followup_id, client_id, until, seq,"
               " actor) VALUES (?, ?, ?, ?, ?)",
               (p["followup_id"], p["client_id"], p["until"], entry.seq, entry.actor))


def _on_contact(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    if p is None:  # her key was shredded before a rebuild: the contact stays, unreadable
        return
    tx.execute("INSERT INTO contacts (seq, client_id, outcome, ts, actor) VALUES (?, ?, ?, ?, ?)",
               (entry.seq, p["client_id"], p["outcome"], entry.ts, entry.actor))


def _on_exported(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute("INSERT INTO client_exports (seq, client_id, format, ts, actor)"
               " VALUES (?, ?, ?, ?, ?)",
               (entry.seq, p["client_id"], p["format"], entry.ts, entry.actor))


def _on_merged(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    """A merged client's contact log, put-off follow-ups and exports are the kept one's."""
    assert p is not None
    for table in ("followup_outcomes", "followup_snoozes", "contacts", "client_exports"):
        tx.execute(f"UPDATE {table} SET client_id = ? WHERE client_id = ?",
                   (p["client_id"], p["merged_id"]))


PROJECTIONS = {"client.merged": _on_merged, "followup.done": _on_done, "followup.snoozed": _on_snoozed,
               "contact.logged": _on_contact, "client.exported": _on_exported}
