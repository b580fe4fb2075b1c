"""What the clients report needs of the client book, kept by the writer in the entry's own
transaction, so the report never decrypts a profile nor reads the journal:

- `report_clients`: each active client's UTC hour of joining (her `client.created`), for
  the new clients of a range;
- `report_client_consent`: per client and channel, whether her latest answer to marketing
  is yes (1) or no (0); no row: never asked. From her sealed profile as the writer projects
  it (the only moment it is read in clear), so the consent coverage is a count;
- `report_client_moves`: each `client.tier_changed` (from, to, its UTC hour), for the tier
  movement of a range.

Opaque ids and yes/no only, as `client_tiers` keeps them: no name, no contact. A client
erased or merged away leaves all three (she never counts again); a rebuild from the journal
gives the same rows (an erased client's sealed entries read as nothing, and her
`client.forgotten` removes what her clear entries left).
"""

from __future__ import annotations

from typing import Any

from hub.core.clients import CHANNELS, consent_now
from hub.ledger.journal import Entry
from hub.ledger.ledger import Tx
from hub.ledger.schema import Migration, Schema

_V1 = """
CREATE TABLE report_clients (
    client_id TEXT PRIMARY KEY,
    joined    TEXT NOT NULL             -- UTC hour of her client.created, 'YYYY-MM-DDTHH'
);
CREATE INDEX report_clients_joined ON report_clients(joined);

CREATE TABLE report_client_consent (
    client_id TEXT NOT NULL,
    channel   TEXT NOT NULL,            -- email | sms | phone | post | messaging
    marketing INTEGER NOT NULL,         -- her latest answer: 1 yes, 0 no
    PRIMARY KEY (client_id, channel)
);

CREATE TABLE report_client_moves (
    seq       INTEGER PRIMARY KEY,      -- the client.tier_changed entry
    client_id TEXT NOT NULL,
    hour      TEXT NOT NULL,            -- UTC, 'YYYY-MM-DDTHH'
    from_tier TEXT NOT NULL,
    to_tier   TEXT NOT NULL
);
CREATE INDEX report_client_moves_hour ON report_client_moves(hour);
CREATE INDEX report_client_moves_client ON report_client_moves(client_id);
"""

SCHEMA = Schema("report_clients", (Migration(1, _V1),),
                projections=("report_clients", "report_client_consent",
                             "report_client_moves"))


def _client_id(entry: Entry) -> str:
    return entry.subject.split(":", 1)[1]


def _consent(tx: Tx, client_id: str, profile: dict[str, Any]) -> None:
    tx.execute("DELETE FROM report_client_consent WHERE client_id = ?", (client_id,))
    said = [(client_id, channel, int(answer)) for channel in CHANNELS
            if (answer := consent_now(profile, channel)) is not None]
    tx.conn.executemany("INSERT INTO report_client_consent (client_id, channel, marketing)"
                        " VALUES (?,?,?)", said)


def _on_created(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    client_id = _client_id(entry)
    tx.execute("INSERT OR IGNORE INTO report_clients (client_id, joined) VALUES (?, ?)",
               (client_id, entry.ts[:13]))
    if p is not None:  # None: her key is destroyed; her client.forgotten follows
        _consent(tx, client_id, p["profile"])


def _on_updated(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    if p is not None:
        _consent(tx, _client_id(entry), p["profile"])


def _gone(tx: Tx, client_id: str) -> None:
    for table in ("report_clients", "report_client_consent", "report_client_moves"):
        tx.execute(f"DELETE FROM {table} WHERE client_id = ?", (client_id,))


def _on_forgotten(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    _gone(tx, _client_id(entry))


def _on_merged(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None  # ids only: never sealed
    _gone(tx, p["merged_id"])  # the kept client's consent comes with her client.updated


def _on_tier_changed(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute("INSERT INTO report_client_moves (seq, client_id, hour, from_tier, to_tier)"
               " VALUES (?,?,?,?,?)", (entry.seq, p["client_id"], entry.ts[:13], p["from"],
                                       p["to"]))


PROJECTIONS = {"client.created": _on_created, "client.updated": _on_updated,
               "client.forgotten": _on_forgotten, "client.merged": _on_merged,
               "client.tier_changed": _on_tier_changed}
