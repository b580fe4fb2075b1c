"""One outbox for messages to clients: "ready for pick-up", reminders, quotes to approve,
statements (DESIGN.md, "One outbox for messages to clients"). An area of the core's own
(`outbox`).

The hub never sends mail itself, and never needs the internet to take or finish a job: a
layer asks for a message inside its own transaction (`Outbox.request_in`), which journals a
`notification.requested` entry; the sync layer carries it to head office like any entry, HQ
sends it by e-mail or SMS (checking her consent again against its own copy of her profile)
and answers with a signed `notification_receipt` message (`hub/core/hq.py`), which turns the
row here into sent, refused or failed.

The channels come from her profile: an address for the channel, and `may_contact` for the
purpose's kind of message (`CONTACT_PURPOSE`: "ready", "quote" and "payment_due" are service
she waits for, so only a missing address holds them back; a reminder, a statement or her
associate's note go unless she said no on that channel or asked for quiet). When no channel
may be used nothing is journaled, and `why_not` says why in a sentence.

The entry is sealed under her key (the text and her addresses are hers: erased with her);
the `notifications` projection keeps ids, purposes, opaque references and statuses only. A
request is made once per (purpose, ref, `once`): a retried "ready" is not sent twice.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from hub.core import fields
from hub.core.clients import (
    Clients,
    consent_now,
    do_not_contact_on,
    may_contact,
    reachable,
)
from hub.core.errors import Invalid, NotFound, Refused
from hub.core.fields import Form
from hub.ledger.journal import ENTRY_COLUMNS, Entry
from hub.ledger.ledger import Ledger, Tx
from hub.ledger.schema import Migration, Schema
from hub.words import ENGLISH, N_, Listing, Term, Words

SCHEMA = Schema("outbox", (Migration(1, """
CREATE TABLE notifications (
    notification_id TEXT NOT NULL,          -- N<seq of its request>
    channel         TEXT NOT NULL,          -- email | sms
    client_id       TEXT NOT NULL,          -- an opaque id: her words and addresses stay sealed
    purpose         TEXT NOT NULL,          -- ready | overdue | quote | payment_due ...
    ref             TEXT NOT NULL,          -- what it is about: job:J12, layaway:L5
    once_key        TEXT NOT NULL,          -- with purpose and ref: asked once only
    status          TEXT NOT NULL,          -- requested | sent | refused | failed
    reason          TEXT,                   -- head office's reason (a code), once it answered
    requested_seq   INTEGER NOT NULL,
    updated_seq     INTEGER NOT NULL,
    ts              TEXT NOT NULL,          -- when it was asked
    updated_ts      TEXT NOT NULL,
    PRIMARY KEY (notification_id, channel)
);
CREATE INDEX notifications_ref ON notifications(ref, purpose, once_key);
CREATE INDEX notifications_client ON notifications(client_id, requested_seq);
CREATE INDEX notifications_waiting ON notifications(requested_seq) WHERE status = 'requested';
"""),), projections=("notifications",))

# What a message is for, and which rule of `may_contact` it follows.
CONTACT_PURPOSE = {
    "ready": "transactional",        # her repair or order is ready for pick-up
    "quote": "transactional",        # a quote waits for her approval
    "payment_due": "transactional",  # an instalment of her layaway falls due
    "overdue": "one_to_one",         # a reminder: her piece is still waiting for her
    "statement": "one_to_one",       # her statement of purchases
    "followup": "one_to_one",        # her associate's personal note
}
PURPOSES = tuple(CONTACT_PURPOSE)
CHANNELS = ("email", "sms")  # what head office sends
# The channels a purpose uses when the caller names none (a statement is a document).
DEFAULT_CHANNELS = {"statement": ("email",)}
STATUSES = ("requested", "sent", "refused", "failed")
RECEIPT_STATUSES = ("sent", "refused", "failed")
# Why head office did not send it: a code, named in words by `labels.NOTIFICATION_REASON`.
REASONS = ("no_consent", "do_not_contact", "no_address", "client_erased", "undeliverable",
           "sender_error")

REF = re.compile(r"^[a-z][a-z_]{0,29}:[A-Za-z0-9][A-Za-z0-9._/-]{0,59}$")
ONCE = re.compile(r"^[A-Za-z0-9._:/-]{0,60}$")
NOTIFICATION_ID = re.compile(r"^N[1-9][0-9]{0,15}$")
MAX_SUBJECT, MAX_BODY, MAX_SMS = 200, 4000, 480

_ROW = ("notification_id, channel, client_id, purpose, ref, once_key, status, reason,"
        " requested_seq, updated_seq, ts, updated_ts")


def _on_requested(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    # A payload that no longer opens (her key shredded, during a rebuild) loses nothing
    # here: the row was ids only, and it is gone with her.
    if p is None:
        return
    tx.conn.executemany(
        f"INSERT INTO notifications ({_ROW}) VALUES (?,?,?,?,?,?,'requested',NULL,?,?,?,?)",
        [(p["notification_id"], channel, p["client_id"], p["purpose"], p["ref"], p["once"],
          entry.seq, entry.seq, entry.ts, entry.ts) for channel in p["channels"]])


def _on_merged(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    """A merged client's messages are the kept one's."""
    assert p is not None
    tx.execute("UPDATE notifications SET client_id = ? WHERE client_id = ?",
               (p["client_id"], p["merged_id"]))


def _on_forgotten(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    """Her erasure drops her rows, as a rebuild would find them: her requests no longer
    open (head office's receipt for one then changes nothing)."""
    tx.execute("DELETE FROM notifications WHERE client_id = ?",
               (entry.subject.split(":", 1)[1],))


PROJECTIONS = {"notification.requested": _on_requested, "client.merged": _on_merged,
               "client.forgotten": _on_forgotten}


# -- head office's receipts (the `notification_receipt` message, hub/core/hq.py) ---------------

def check_receipt(body: dict[str, Any]) -> dict[str, Any]:
    """A receipt's body as HQ sends it: {notification_id, status: sent|refused|failed,
    channel (null: every channel of it), reason (a code, or null)}."""
    f = Form(body, allowed=("notification_id", "status", "channel", "reason"))
    f.identifier("notification_id", pattern=NOTIFICATION_ID, what="a notification id")
    f.choice("status", RECEIPT_STATUSES, required=True, lower=False,
             vocabulary="notification_status")
    f.choice("channel", CHANNELS, lower=False, vocabulary="channel")
    f.identifier("reason", required=False, what="a reason code")
    f.done()
    return body


def receipt_in(tx: Tx, body: dict[str, Any], seq: int) -> None:
    """HQ's word on a message (the projection of its `hq.message` entry `seq`): the latest
    receipt holds; one for a message no longer here (she was erased) changes nothing."""
    ts = tx.one("SELECT ts FROM journal WHERE seq = ?", (seq,))["ts"]
    sql = ("UPDATE notifications SET status = ?, reason = ?, updated_seq = ?, updated_ts = ?"
           " WHERE notification_id = ?")
    params: tuple[Any, ...] = (body["status"], body.get("reason"), seq, ts,
                               body["notification_id"])
    if body.get("channel") is not None:
        sql, params = sql + " AND channel = ?", (*params, body["channel"])
    tx.execute(sql, params)


# -- asking -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Plan:
    """What a message to her would do: the channels it may use and their addresses, or
    why it cannot go (`refusal`, not raised: the caller's transaction goes on)."""

    client_id: str
    channels: tuple[str, ...] = ()
    to: dict[str, str] = field(default_factory=dict)
    refusal: Refused | None = None


def _checked_text(text: Any) -> dict[str, str]:
    f = Form(text, "text", allowed=("subject", "body", "sms"))
    subject = f.text("subject", max_len=MAX_SUBJECT)
    body = f.text("body", required=True, max_len=MAX_BODY, multiline=True)
    sms = f.text("sms", max_len=MAX_SMS)
    f.done()
    out = {"body": body or ""}
    if subject:
        out["subject"] = subject
    if sms:
        out["sms"] = sms
    return out


def _channel_terms(channels: Sequence[str]) -> Listing:
    return Listing(tuple(Term("channel", c) for c in channels), "or")


class Outbox:
    """Messages to clients, asked inside a caller's transaction and carried to HQ; their
    states as head office reported them."""

    def __init__(self, ledger: Ledger, clients: Clients, words: Words = ENGLISH) -> None:
        self.ledger = ledger
        self.clients = clients
        self.words = words  # the store's: a refusal names a day the store's way

    def today(self) -> date:
        """Today in the store's time (what `request_in` and `why_not` want as `today`)."""
        return datetime.now(self.words.tz).date()

    # -- inside a transaction ---------------------------------------------------------------

    def plan_in(self, tx: Tx, client_id: str, purpose: str, today: date,
                channels: Sequence[str] | None = None) -> Plan:
        """The channels a message for `purpose` may use today, from her profile as this
        transaction has it; a merged record's messages go to the record kept. Raises
        NotFound for an unknown client and Invalid for an unknown purpose or channel."""
        fields.choice(purpose, "purpose", PURPOSES, required=True, lower=False,
                      vocabulary="notification_purpose")
        wanted = tuple(channels) if channels else DEFAULT_CHANNELS.get(purpose, CHANNELS)
        for channel in wanted:
            fields.choice(channel, "channels", CHANNELS, required=True, lower=False,
                          vocabulary="channel")
        row = tx.one("SELECT status, merged_into FROM clients WHERE client_id = ?",
                     (client_id,))
        if row is None:
            raise NotFound("no client {client_id}", client_id=client_id)
        if row["status"] == "merged" and row["merged_into"]:
            client_id = row["merged_into"]
            row = tx.one("SELECT status, merged_into FROM clients WHERE client_id = ?",
                         (client_id,))
        profile = self.clients._profile_in(tx, client_id) if row["status"] == "active" else None
        if profile is None:
            return Plan(client_id, refusal=Refused(
                "client_forgotten", N_("client {client_id} was erased: no message is sent to"
                                       " her"), client_id=client_id))
        kind = CONTACT_PURPOSE[purpose]
        allowed = tuple(c for c in wanted if may_contact(profile, c, kind, today))
        if allowed:
            to = {"email": (profile.get("emails") or [""])[0],
                  "sms": (profile.get("phones") or [""])[0]}
            return Plan(client_id, allowed, {c: to[c] for c in allowed})
        return Plan(client_id, refusal=self._why(profile, wanted, kind, today))

    def _why(self, profile: dict[str, Any], wanted: tuple[str, ...], kind: str,
             today: date) -> Refused:
        """Why none of `wanted` may be used: her quiet period first, then what she said,
        then the addresses the book lacks."""
        reached = tuple(c for c in wanted if reachable(profile, c))
        if not reached:
            return Refused("no_address", N_("the book has no address of hers for {channels}"),
                           channels=_channel_terms(wanted))
        quiet = do_not_contact_on(profile, today)
        if quiet is not None and kind != "transactional":
            if quiet.get("to"):
                return Refused("do_not_contact", N_("she asked not to be contacted until"
                                                    " {day}"), day=self.words.day(quiet["to"]))
            return Refused("do_not_contact", N_("she asked not to be contacted"))
        if kind == "marketing":
            return Refused("no_consent", N_("she has not agreed to hear from the store by"
                                            " {channels}"), channels=_channel_terms(reached))
        said_no = tuple(c for c in reached if consent_now(profile, c) is False)
        return Refused("no_consent", N_("she asked not to be contacted by {channels}"),
                       channels=_channel_terms(said_no or reached))

    def why_not_in(self, tx: Tx, client_id: str, purpose: str, today: date,
                   channels: Sequence[str] | None = None) -> Refused | None:
        """Why a message for `purpose` would not go to her today (None: it would)."""
        return self.plan_in(tx, client_id, purpose, today, channels).refusal

    def request_in(self, tx: Tx, *, client_id: str, purpose: str, ref: str,
                   text: dict[str, Any], actor: str, today: date, once: str = "",
                   channels: Sequence[str] | None = None) -> Entry | None:
        """Ask head office to send her a message, in the caller's transaction.

        `purpose`: one of `PURPOSES`; `ref`: what it is about, an opaque reference
        (`job:J12`, `layaway:L5`: nothing personal, it is kept in clear); `text`:
        {subject, body, sms?} in the store's words, written by the caller (`sms`: a short
        body for text messages; the body otherwise); `once`: with purpose and ref, what
        makes it once only (a second reminder passes its own, e.g. the day). `channels`:
        those the caller would use (default e-mail and SMS; a statement, e-mail).

        Returns the `notification.requested` entry; the earlier one when this (purpose,
        ref, once) was asked before (nothing new is journaled); None when no channel may
        be used (nothing journaled: `why_not_in` says why). Raises Invalid for a bad
        purpose, reference or text, NotFound for an unknown client."""
        fields.identifier(ref, "ref", pattern=REF, what="a reference such as job:J12")
        once = fields.text(once, "once", max_len=60) or ""
        if not ONCE.match(once):
            raise Invalid("this is not a key such as 2026-12-01", "once")
        checked = _checked_text(text)
        plan = self.plan_in(tx, client_id, purpose, today, channels)
        earlier = tx.one("SELECT requested_seq FROM notifications WHERE purpose = ? AND"
                         " ref = ? AND once_key = ? LIMIT 1", (purpose, ref, once))
        if earlier is not None:
            row = tx.one(f"SELECT {ENTRY_COLUMNS} FROM journal WHERE seq = ?",
                         (earlier["requested_seq"],))
            return Entry.from_row(tuple(row))
        if plan.refusal is not None:
            return None
        notification_id = f"N{tx.seq + 1}"  # the seq this entry takes: unique in the store
        return tx.append("notification.requested", f"notification:{notification_id}", {
            "notification_id": notification_id, "client_id": plan.client_id,
            "purpose": purpose, "contact": CONTACT_PURPOSE[purpose], "ref": ref,
            "once": once, "channels": list(plan.channels), "to": plan.to,
            "day": today.isoformat(), **checked}, actor=actor,
            key_id=f"client:{plan.client_id}")

    # -- on its own -------------------------------------------------------------------------

    async def request(self, **kw: Any) -> Entry | None:
        """`request_in` in a transaction of its own (`today` defaults to the store's)."""
        kw.setdefault("today", self.today())
        return await self.ledger.transact(lambda tx: self.request_in(tx, **kw))

    async def why_not(self, client_id: str, purpose: str, *, today: date | None = None,
                      channels: Sequence[str] | None = None) -> Refused | None:
        """Why a message for `purpose` would not go to her (None: it would), for the
        screen that shows "she asked not to be contacted"."""
        day = today or self.today()
        return await self.ledger.read(
            lambda tx: self.why_not_in(tx, client_id, purpose, day, channels))

    # -- reads ------------------------------------------------------------------------------

    async def _rows(self, where: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
        rows = await self.ledger.fetch(f"SELECT {_ROW} FROM notifications WHERE {where}"
                                       " ORDER BY requested_seq, channel", params)
        return [dict(r) for r in rows]

    async def of_ref(self, ref: str) -> list[dict[str, Any]]:
        """The messages about one thing (a job, a layaway), a row per channel, oldest first:
        notification_id, channel, client_id, purpose, ref, once_key, status, reason,
        requested_seq, updated_seq, ts, updated_ts."""
        return await self._rows("ref = ?", (ref,))

    async def of_client(self, client_id: str) -> list[dict[str, Any]]:
        return await self._rows("client_id = ?", (client_id,))

    async def pending(self) -> list[dict[str, Any]]:
        """Messages head office has not answered for yet."""
        return await self._rows("status = 'requested'", ())
