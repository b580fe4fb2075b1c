"""The reference HQ receiver: stores every store's journal, verified, exactly once.

It subscribes to all stores of the chain. A batch is checked before anything is stored:
entries must continue the store's chain from HQ's head (gapless seq, `prev_hash`, each
entry's hash recomputed), and the store's signature on the last entry of the run must verify
with the store's pinned key. Because every hash covers the one before it, that signature
vouches for the whole run, so HQ pays one Ed25519 check per batch rather than one per entry;
the per-entry signatures are stored as they came, and `loupe hq verify` checks every one.
Entries already held are dropped (idempotent by (store, seq)); entries ahead of a gap wait in
the database (`held`) until the gap is filled, by this worker or another: several receivers
(`--worker`, MQTT 5 shared subscriptions) can share a chain's stores. HQ then acknowledges
its head, signed, on the store's `ack`; it reports a gap only once held entries have waited
past GAP_PATIENCE_S (with several workers a batch overtaken by the next is normal).

A store's `notification.requested` entries are messages to its clients that HQ sends for it
(the hub never mails): HQ keeps ids, channel and status in `notifications`, opens the sealed
request in memory when sending, checks her consent again against its own copy of her profile,
hands the message to a `Sender`, and answers the store with a signed `notification_receipt`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import aiomqtt

from hub.backoff import Backoff
from hub.core.clients import do_not_contact_on, may_contact, reachable
from hub.core.entries import piece_changes
from hub.core.hq import MESSAGE_TYPES
from hub.core.outbox import CONTACT_PURPOSE
from hub.giftcards import chain as gift_card_chain
from hub.hq import backups, deliveries, transfers
from hub.hq.console.part import record_hub_version
from hub.hq.parts import HQ_PARTS
from hub.ledger.journal import Entry, entry_hash, open_payload, verify_chain
from hub.ledger.ledger import utc_now
from hub.sync.enroll import HQKeys, hello_proof
from hub.sync.escrow import EscrowError, open_escrow
from hub.sync.hqstore import Fact, HQPart, HQStorage, SqliteHQStorage, StoreRow
from hub.sync.mqtt import make_client
from hub.sync.pgstore import PostgresHQStorage
from hub.sync.settings import Broker, TlsFiles
from hub.sync.wire import (
    ALL,
    SEALED,
    Sealed,
    WireError,
    WrappedKey,
    decode_batch,
    encode_batches,
    key_aad,
    load_ed25519_public,
    load_x25519_public,
    open_sealed,
    parse_keys,
    seal_to,
    sign_doc,
    split_topic,
    topic,
    verify_doc,
)
from hub.sync.wire import check_id as check_wire_id

log = logging.getLogger(__name__)
DISPATCH_BATCH = 200  # messages to clients sent per round before the next is looked up
# With several workers one sends the messages to clients: the holder of this lease, renewed
# every third of it, so another takes over within LEASE_S of the holder's death.
DISPATCH_LEASE = "dispatch"
LEASE_S = 6.0
RESEND_EVERY_S = 300.0  # the slow timer resending what online stores have not applied


@dataclass
class Ingested:
    head: int
    gap: bool
    stored: int = 0
    problem: str | None = None
    hello: bool = False  # ask the store to say hello again (HQ missed its enrollment)
    notifications: int = 0  # messages to clients the batch asked HQ to send
    # HQ's answers the batch calls for (gift cards across the chain): (topic, payload).
    messages: list[tuple[str, bytes]] = field(default_factory=list)


# -- messages to clients ---------------------------------------------------------------------

@dataclass(frozen=True)
class Outgoing:
    """One message to a client, for HQ's mail or SMS gateway. In memory only: its text and
    her address are hers, never written to HQ's disk or logs."""

    store_id: str
    notification_id: str
    client_id: str
    channel: str  # email | sms
    to: str  # her e-mail address or phone number
    purpose: str  # ready | overdue | quote ... (hub.core.outbox.PURPOSES)
    ref: str  # what it is about, as the store named it (job:J12)
    subject: str | None
    body: str


@dataclass(frozen=True)
class Outcome:
    """What became of one message: sent, refused (consent, address, erased) or failed,
    with a reason code (`hub.core.outbox.REASONS`)."""

    status: str  # sent | refused | failed
    reason: str | None = None


class Sender(Protocol):
    """What hands a message to the world (an SMTP relay, an SMS gateway). It returns
    `Outcome("sent")` or `Outcome("failed", reason)`; an exception means "try again later":
    the message stays due and goes again at the next round (so a sender must be ready to
    see a message twice after HQ stopped between sending and recording it)."""

    async def send(self, message: Outgoing) -> Outcome: ...


class SpoolSender:
    """The reference HQ's sender: keeps what it would hand to the gateways in memory (the
    last `keep` messages, for a test or an operator's look), never on disk; logs ids only."""

    def __init__(self, keep: int = 1000) -> None:
        self.sent: deque[Outgoing] = deque(maxlen=keep)

    async def send(self, message: Outgoing) -> Outcome:
        self.sent.append(message)
        log.info("HQ sent a message to a client", extra={
            "store_id": message.store_id, "notification_id": message.notification_id,
            "client_id": message.client_id, "channel": message.channel})
        return Outcome("sent")


# A restored store's catch-up travels in messages of at most this size.
CATCH_UP_BYTES = 256 * 1024


@dataclass
class HQ:
    """HQ's logic, independent of the broker: ingest batches and hellos, make messages."""

    keys: HQKeys
    storage: HQStorage
    on_stored: Callable[[str, list[Entry]], None] | None = None
    known_keys: dict[str, set[str]] = field(default_factory=dict)
    sender: Sender = field(default_factory=SpoolSender)  # messages to clients go out here
    _readers: dict[str, tuple[HQPart, ...]] = field(default_factory=dict, repr=False)

    @property
    def chain(self) -> str:
        return self.keys.chain_id

    # -- store -> HQ ------------------------------------------------------------------------

    def hello(self, store_id: str, data: bytes) -> str:
        """Register a store's keys on its first hello; later hellos must match them."""
        row = self.storage.store(store_id)
        if row is None:
            raise WireError(f"hello from unknown store {store_id!r}: not enrolled at HQ")
        obj = json.loads(data)
        doc0 = obj.get("doc", {}) if isinstance(obj, dict) else {}
        claimed = doc0.get("public_key")
        key = load_ed25519_public(row.public_key or claimed, f"store {store_id} public key")
        doc, _ = verify_doc(key, data, f"hello from {store_id}")
        if doc.get("store") != store_id or doc.get("chain") != self.chain:
            raise WireError(f"hello names store {doc.get('store')!r} of chain"
                            f" {doc.get('chain')!r}: refused")
        if row.public_key is None:
            secret = self.storage.secret(store_id)
            proof = hello_proof(secret or "00" * 32, self.chain, store_id, doc["public_key"],
                                doc["box_key"])
            if secret is None or proof != doc.get("proof"):
                raise WireError(f"hello from {store_id}: enrollment proof does not match the"
                                " bundle HQ issued")
            load_x25519_public(doc["box_key"], "hello box_key")
            self.storage.register(store_id, doc["public_key"], doc["box_key"])
            log.info("store enrolled", extra={"store_id": store_id})
            outcome = "enrolled"
        elif doc.get("public_key") != row.public_key:
            raise WireError(f"hello from {store_id}: public key differs from the one pinned at"
                            " enrollment")
        else:
            outcome = "known"
        self._put_keys(store_id, parse_keys(doc.get("keys", []), f"hello from {store_id}"))
        self._keep_escrow(store_id, doc.get("escrow"))
        self.storage.contact(store_id)
        record_hub_version(self.storage, store_id, doc.get("hub_version"))  # console's
        return outcome

    def _keep_escrow(self, store_id: str, text: Any) -> None:
        """Keep the store's master key escrow (hub/sync/escrow.py) once it opens with HQ's
        box key; a hub from before escrow sends none."""
        if text is None:
            return
        try:
            sealed = base64.b64decode(text, validate=True)
            open_escrow(self.keys.box, sealed)
        except (EscrowError, ValueError, TypeError) as exc:
            log.warning("a store's master key escrow was refused",
                        extra={"store_id": store_id, "reason": str(exc)})
            return
        self.storage.put_escrow(store_id, sealed)

    def _put_keys(self, store_id: str, raw_keys: list[WrappedKey]) -> None:
        # Known: (key id, version) held, or a key id destroyed (every version of it).
        known = self.known_keys.get(store_id)
        if known is None:
            known = self.known_keys[store_id] = {
                k if wrapped is None else (k, v)
                for k, (v, wrapped) in self.storage.keys(store_id).items()}
        keys = []
        for raw in raw_keys:
            key_id, version = raw.key_id, raw.version
            if key_id in known or (key_id, version) in known:
                continue  # held already, or destroyed: a resend never brings a key back
            # Opening it proves it is a real key for this store and key id, sealed to us.
            open_sealed(self.keys.box, raw.wrapped, key_aad(self.chain, store_id, key_id, version))
            keys.append((key_id, version, raw.wrapped))
        if keys:
            self.storage.put_keys(store_id, keys)
            known.update((k, v) for k, v, _ in keys)

    def ingest(self, store_id: str, data: bytes) -> Ingested:
        """Check and store one batch; returns HQ's head for the ack."""
        row = self.storage.store(store_id)
        if row is None:
            raise WireError(f"journal from store {store_id!r}, which HQ never enrolled:"
                            " nothing stored")
        if row.public_key is None:
            # Enrolled but its hello never reached us (HQ was away): ask for it again.
            return Ingested(0, gap=True, problem=f"store {store_id} has not completed"
                            " enrollment (no hello received): nothing stored", hello=True)
        batch = decode_batch(data, store_id)
        self._put_keys(store_id, batch.keys)

        def settle(locked: StoreRow, run: list[Entry]) -> tuple[list[Fact], str | None]:
            problem = self._check_run(store_id, locked.public_key, locked.head_seq,
                                      locked.head_hash, run)
            return ([], problem) if problem else (self.project(store_id, run), None)

        # One transaction holding the store's row: whichever worker has this batch, the
        # run it completes (with what other workers held ahead of a gap) is stored once.
        taken = self.storage.ingest(store_id, batch.entries, settle)
        if taken.problem:
            log.error("refused a store's entries", extra={"store_id": store_id,
                                                           "problem": taken.problem})
            return Ingested(taken.head, gap=False, problem=taken.problem)
        if not taken.run:
            return Ingested(taken.head, gap=taken.gap)
        facts = taken.facts
        if self.on_stored is not None:
            self.on_stored(store_id, taken.run)
        return Ingested(taken.head, gap=taken.gap, stored=len(taken.run),
                        notifications=sum(f.what == "notification" for f in facts),
                        messages=self._gift_card_answers(
                            {f.data["code"] for f in facts if f.what == "gift_card"})
                        + [m for part in self.storage.parts if part.answers is not None
                           for m in part.answers(self, store_id, facts)])

    def _gift_card_answers(self, touched: set[str]) -> list[tuple[str, bytes]]:
        """Reconciliations of cards taken at another store than theirs, decided once, and
        the cards' chain-wide balances for every store (hub/giftcards/chain.py)."""
        if not touched:
            return []
        decided, balances = gift_card_chain.answers(self.storage.query, touched)
        out = []
        for d in decided:
            self.storage.append_facts(d["store_id"], [Fact("gift_card_outcome", {
                "redeemer": d["store_id"], "seq": d["seq"], "code": d["code"],
                "outcome": d["outcome"]})])
            out.append(self.message(d["store_id"], "gift_card_reconciliation", {
                k: d[k] for k in ("code", "ref", "outcome", "balance")}))
        out += [self.message(ALL, "gift_card_balance", b) for b in balances]
        return out

    def _check_run(self, store_id: str, public_key: str, head_seq: int, head_hash: bytes,
                   run: list[Entry]) -> str | None:
        prev = head_hash
        for entry in run:
            if entry.prev_hash != prev:
                return f"seq {entry.seq}: prev_hash does not continue HQ's copy of the chain"
            if entry_hash(prev, entry.header(store_id), entry.payload) != entry.hash:
                return f"seq {entry.seq}: hash does not match the entry's contents"
            prev = entry.hash
        # The chain ties every entry to the last one: its signature covers the run.
        verdict = verify_chain(run[-1:], store_id, load_ed25519_public(public_key, "store key"),
                               start_seq=run[-1].seq, start_hash=run[-1].prev_hash)
        return None if verdict.ok else f"seq {verdict.bad_seq}: {verdict.reason}"

    def _data_key(self, store_id: str, key_id: str, version: int,
                  cache: dict[Any, Any]) -> bytes | None:
        """One version of a store's data key (None: destroyed, or never sent). `cache`
        holds them by (key id, version), and a key id destroyed in this run as None."""
        if key_id in cache and cache[key_id] is None:
            return None
        if (key_id, version) not in cache:
            wrapped = self.storage.key(store_id, key_id, version)
            cache[key_id, version] = None if wrapped is None else open_sealed(
                self.keys.box, wrapped, key_aad(self.chain, store_id, key_id, version))
        return cache[key_id, version]

    def decrypt(self, store_id: str, entry: Entry, cache: dict[Any, Any]) -> dict[str, Any] | None:
        key = self._data_key(store_id, entry.key_id, entry.key_version, cache)
        return None if key is None else open_payload(entry, store_id, key)

    def project(self, store_id: str, run: list[Entry]) -> list[Fact]:
        """Chain-wide projections from a store's entries (decrypted in memory only)."""
        facts: list[Fact] = []
        cache: dict[str, Any] = {}
        closed: set[str] = set()  # reservations this run settles before its later entries
        for entry in run:
            kind = entry.kind
            if kind == "client.forgotten":
                self.known_keys.setdefault(store_id, set()).add(entry.subject)
                # Crypto-shredding reaches HQ too: its copy of the key goes.
                facts.append(Fact("destroy_key", {"key_id": entry.subject}))
                facts.append(Fact("client", {"client_id": entry.subject.split(":", 1)[1],
                                             "status": "forgotten", "seq": None}))
                cache[entry.subject] = None
                continue
            if kind in ("client.created", "client.updated"):
                facts.append(Fact("client", {"client_id": entry.subject.split(":", 1)[1],
                                             "status": "active", "seq": entry.seq}))
                continue
            if kind == "notification.requested":
                # Opened only for its channels: a row per channel, ids only. One that does
                # not open (her key already gone) is one row, refused when its turn comes.
                p = self.decrypt(store_id, entry, cache)
                facts.append(Fact("notification", {
                    "notification_id": entry.subject.split(":", 1)[1],
                    "client_id": entry.key_id.split(":", 1)[1], "seq": entry.seq,
                    "channels": [] if p is None else list(p["channels"])}))
                continue
            if kind == "account.moved" or kind.startswith("gift_card.foreign_"):
                p = self.decrypt(store_id, entry, cache)
                move = None if p is None else gift_card_chain.move_of(store_id, kind,
                                                                      entry.seq, p)
                if move is not None:
                    facts.append(Fact("gift_card", move))
                continue
            readers = self._readers.get(kind)
            if readers is None:  # the parts reading a kind, worked out once per kind
                readers = self._readers[kind] = tuple(
                    part for part in self.storage.parts
                    if part.project is not None and part.reads(kind))
            if not readers and not kind.startswith(("item.", "sale.", "hq.")):
                continue
            p = self.decrypt(store_id, entry, cache)
            if p is None:
                log.warning("no key for an entry", extra={"store_id": store_id,
                                                          "seq": entry.seq, "key": entry.key_id})
                continue
            if kind.startswith(("item.", "sale.", "hq.")):
                facts.extend(self._facts(store_id, entry, p, closed))
            for part in readers:
                facts.extend(part.project(store_id, entry, p))
        return facts

    def _facts(self, store_id: str, entry: Entry, p: dict[str, Any],
               closed: set[str]) -> list[Fact]:
        """What HQ learns from one entry: its own facts, then where its pieces now stand
        (`piece_changes`, the one reading of what an entry does to a piece)."""
        seq = entry.seq
        out = self._entry_facts(store_id, entry, p, closed)
        out += [Fact("item_status", {"item_id": c.item_id, "status": c.status, "seq": seq})
                for c in piece_changes(entry.kind, p)
                if c.status is not None and entry.kind != "item.received"]
        return out

    def _entry_facts(self, store_id: str, entry: Entry, p: dict[str, Any],
                     closed: set[str]) -> list[Fact]:
        seq, kind = entry.seq, entry.kind
        if kind == "item.received":  # a new piece: in stock from its first fact
            piece = p["piece"]
            return [Fact("item", {"item_id": piece["item_id"], "sku": piece["sku"],
                                  "description": piece["description"],
                                  "category": piece["category"], "tag_price": piece["tag_price"],
                                  "currency": p.get("currency"), "seq": seq})]
        if kind == "item.updated" and "tag_price" in p["changes"]:
            return [Fact("item_price", {"item_id": p["item_id"],
                                        "tag_price": p["changes"]["tag_price"], "seq": seq})]
        if kind == "sale.completed":
            out = [Fact("sale", {"sale_id": p["sale_id"], "seq": seq, "ts": entry.ts,
                                 "total": p["total"], "currency": p["currency"],
                                 "client_id": p.get("client_id")})]
            for line in p["lines"]:
                if not line.get("item_id"):
                    continue
                held = self.storage.active_reservation(store_id, line["item_id"])
                if held and held not in closed:
                    closed.add(held)
                    out.append(Fact("reservation", {"reservation_id": held,
                                                    "status": "conflict"}))
                    out.append(Fact("conflict", {
                        "source": "hq", "kind": "reserved_piece_sold", "item_id": line["item_id"],
                        "ref": p["sale_id"],
                        "detail": f"piece {line['item_id']} was reserved online ({held}) and"
                                  f" sold in store {store_id} ({p['sale_id']})"}))
            return out
        if kind in ("sale.returned", "sale.voided"):
            return [Fact("sale_status", {"sale_id": p["sale_id"], "status": p["sale_status"]})]
        if kind == "hq.reservation_collected":
            closed.add(p["reservation_id"])
            return [Fact("reservation", {"reservation_id": p["reservation_id"],
                                         "status": "collected"})]
        if kind == "hq.message" and p["message"]["type"] == "reservation_cancelled" and \
                p["outcome"] == "applied":
            return [Fact("reservation", {"reservation_id": p["message"]["body"]["reservation_id"],
                                         "status": "cancelled"})]
        if kind == "hq.message" and p["message"]["type"] == "reservation":
            body = p["message"]["body"]
            if p["outcome"] != "applied":
                closed.add(body["reservation_id"])
                return [Fact("reservation", {"reservation_id": body["reservation_id"],
                                             "status": "conflict"})]
            return []
        if kind == "hq.conflict":
            return [Fact("conflict", {"source": store_id, "kind": p["conflict"],
                                      "item_id": p.get("item_id"), "ref": p.get("ref"),
                                      "detail": p["detail"]})]
        return []

    def ack(self, store_id: str, result: Ingested) -> bytes:
        return sign_doc(self.keys.signing, {"type": "ack", "chain": self.chain,
                                            "store": store_id, "seq": result.head,
                                            "gap": result.gap, "problem": result.problem,
                                            "hello": result.hello,
                                            "at": utc_now()})  # the store's clock, checked

    def catch_up(self, store_id: str, after: int, limit: int = CATCH_UP_BYTES) -> list[bytes]:
        """A restored store's way back to every entry HQ acknowledged (`loupe restore`): a
        signed head (with the keys HQ destroyed, a forgotten client's), then HQ's copy of
        its journal after `after` in batches, their data keys sealed to the store's own box
        key. The store checks every entry continues its chain under its own signatures."""
        row = self.storage.store(store_id)
        if row is None or row.box_key is None:
            raise WireError(f"catch-up for {store_id!r}, which HQ never heard from")
        box = load_x25519_public(row.box_key, "store box key")
        held = self.storage.keys(store_id)
        out = [sign_doc(self.keys.signing, {
            "type": "catch_up", "chain": self.chain, "store": store_id, "after": after,
            "head": row.head_seq,
            "destroyed": sorted(k for k, (_, wrapped) in held.items() if wrapped is None)})]
        sealed: dict[tuple[str, int], WrappedKey] = {}
        opened: dict[Any, Any] = {}  # `_data_key`'s cache: each version read once
        while after < row.head_seq:
            entries = self.storage.entries(store_id, after, 2000)
            if not entries:
                break
            for entry in entries:
                which = (entry.key_id, entry.key_version)
                if which in sealed:
                    continue
                secret = self._data_key(store_id, *which, opened)
                if secret is not None:  # None: destroyed (said in the head), or never sent
                    sealed[which] = WrappedKey(entry.key_id, entry.key_version, seal_to(
                        box, secret, key_aad(self.chain, store_id, *which)))
            out.extend(batch for batch, _ in encode_batches(store_id, entries, sealed, limit))
            after = entries[-1].seq
        log.info("HQ sent a restored store its entries", extra={
            "store_id": store_id, "through": after, "head": row.head_seq})
        return out

    # -- HQ -> store ------------------------------------------------------------------------

    def message(self, store_id: str, mtype: str, body: dict[str, Any]) -> tuple[str, bytes]:
        """Sign a message for one store (or `all`); returns (topic, payload) and logs it."""
        if mtype not in MESSAGE_TYPES:
            raise WireError(f"unknown message type {mtype!r}")
        if store_id != ALL:
            check_wire_id(store_id, "store")
        if mtype in SEALED:
            body = self._seal(store_id, SEALED[mtype], body)
        msg_id = uuid.uuid4().hex
        if mtype == "reservation":
            if store_id == ALL:
                raise WireError("a reservation is for one store")
            self.storage.add_reservation({**{k: body[k] for k in ("reservation_id", "item_id",
                                                                   "client_id", "pickup_by")},
                                          "store_id": store_id, "created_at": utc_now()})
        doc = {"id": msg_id, "type": mtype, "chain": self.chain, "store": store_id,
               "issued_at": utc_now(), "body": body}
        signed = sign_doc(self.keys.signing, doc)
        self.storage.log_message(msg_id, store_id, mtype, signed)
        return topic(self.chain, store_id, "inbox"), signed

    def _seal(self, store_id: str, sealed: Sealed, body: dict[str, Any]) -> dict[str, Any]:
        """Personal data (a profile, an address) goes on the broker sealed to the store's own
        X25519 key only; HQ's log of the message keeps it sealed too."""
        if store_id == ALL:
            raise WireError(f"{sealed.clear} is sealed to one store: name the store")
        row = self.storage.store(store_id)
        if row is None or row.box_key is None:
            raise WireError(f"store {store_id!r} has not completed enrollment")
        clear = body.get(sealed.clear)
        if not isinstance(clear, dict):
            raise WireError(f"{sealed.clear} must be an object")
        out = {k: v for k, v in body.items() if k != sealed.clear}
        out[sealed.field] = seal_to(load_x25519_public(row.box_key, "store box key"),
                                    json.dumps(clear).encode(),
                                    sealed.aad(self.chain, store_id, body)).hex()
        return out

    def client_profile(self, store_id: str, client_id: str) -> dict[str, Any] | None:
        """A store's client profile, decrypted in memory for the caller; never stored."""
        rows = self.storage.query("SELECT profile_seq FROM clients WHERE store_id = ? AND"
                                  " client_id = ? AND status = 'active'", (store_id, client_id))
        if not rows:
            return None
        entries = self.storage.entries(store_id, rows[0]["profile_seq"] - 1, 1)
        payload = self.decrypt(store_id, entries[0], {})
        return None if payload is None else payload["profile"]

    def prepare_notification(self, due: dict[str, Any]) -> Outgoing | Outcome:
        """A due message (a row of `notifications_due`) made ready to send, in memory; or
        why it must not go: her key destroyed (she was erased: HQ never sends then), HQ's
        own copy of her profile without the address, in a quiet period, or saying no."""
        store_id, client_id, channel = due["store_id"], due["client_id"], due["channel"]
        held = self.storage.keys(store_id).get(f"client:{client_id}")
        if held is None or held[1] is None or not channel:
            return Outcome("refused", "client_erased")
        found = self.storage.entries(store_id, due["seq"] - 1, 1)
        p = self.decrypt(store_id, found[0], {}) if found else None
        if p is None:
            return Outcome("refused", "client_erased")
        purpose = CONTACT_PURPOSE.get(p["purpose"], p.get("contact", "marketing"))
        profile = self.client_profile(store_id, client_id)
        if profile is not None:  # HQ's copy is at least as new as the request
            today = datetime.now(UTC).date()
            if not reachable(profile, channel):
                return Outcome("refused", "no_address")
            if not may_contact(profile, channel, purpose, today):
                quiet = do_not_contact_on(profile, today) is not None
                return Outcome("refused", "do_not_contact" if quiet else "no_consent")
        to = (p.get("to") or {}).get(channel)
        if not to:
            return Outcome("refused", "no_address")
        return Outgoing(store_id, due["notification_id"], client_id, channel, to, p["purpose"],
                        p["ref"], p.get("subject") if channel == "email" else None,
                        (p.get("sms") or p["body"]) if channel == "sms" else p["body"])

    def receipt(self, due: dict[str, Any], outcome: Outcome) -> tuple[str, bytes]:
        """The store's signed `notification_receipt` for one message (ids and codes only)."""
        return self.message(due["store_id"], "notification_receipt", {
            "notification_id": due["notification_id"], "status": outcome.status,
            "channel": due["channel"] or None, "reason": outcome.reason})

    def verify_store(self, store_id: str) -> str:
        """Full audit of HQ's copy: every hash and every signature."""
        row = self.storage.store(store_id)
        if row is None or row.public_key is None:
            raise WireError(f"unknown store {store_id!r}")

        def all_entries():
            after = 0
            while batch := self.storage.entries(store_id, after, 5000):
                yield from batch
                after = batch[-1].seq

        return str(verify_chain(all_entries(), store_id,
                                load_ed25519_public(row.public_key, "store key")))


class Receiver:
    """HQ on the broker: one persistent MQTT session, storage on its own thread.

    A `worker` is one of several receivers sharing the chain's stores through MQTT 5 shared
    subscriptions (`$share/loupe-hq-<chain>/...`): the broker hands each batch to one of them
    and the database keeps each store's run contiguous, whoever stores it. A worker starts
    clean: a dead worker's session must not keep its share of the batches (the stores resend
    them to whoever is left)."""

    def __init__(self, hq: HQ, broker: Broker, tls: TlsFiles | None = None,
                 worker: str | None = None) -> None:
        self.hq = hq
        self.broker = broker
        self.tls = tls
        self.worker = worker
        chain = hq.chain
        self.client_id = f"loupe-hq-{chain}" + (f"-{worker}" if worker else "")
        share = f"$share/loupe-hq-{chain}/" if worker else ""
        # Every worker reads every status: a shared subscription gets no retained messages
        # (MQTT 5, 4.8.2), and a store's retained online/offline is what HQ must see when it
        # subscribes. Writing the same flag twice is harmless.
        self.topics = [(f"{share}loupe/{chain}/+/journal", 1),
                       (f"{share}loupe/{chain}/+/hello", 1), (f"loupe/{chain}/+/status", 1),
                       # Not shared: a backup's chunks stay in order on one worker's shelf.
                       (f"loupe/{chain}/+/backup", 1)]
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="hq-storage")
        self.connected = asyncio.Event()
        self._acks: set[asyncio.Task[None]] = set()
        self._due = asyncio.Event()  # messages to clients may wait: look
        # Messages still unapplied are resent past this grace, every resend_every_s.
        self.resend_grace_s = deliveries.RESEND_AFTER_S
        self.resend_every_s = RESEND_EVERY_S
        self.round_due = asyncio.Event()  # set: the slow round runs now, not at its time
        self.client: aiomqtt.Client | None = None  # while connected (the console publishes)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._acks.add(task)
        task.add_done_callback(self._ack_done)

    def _ack_done(self, task: asyncio.Task[None]) -> None:
        self._acks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # The store resends after its resend_after_s and gets a fresh ack.
            log.warning("HQ could not publish an ack", extra={"error": str(task.exception())})

    async def _call(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    async def run(self) -> None:
        backoff = Backoff(0.2, 5.0)
        while True:
            try:
                client = make_client(self.broker, self.client_id,
                                     tls=self.tls if self.broker.tls else None, inflight=200,
                                     persistent=self.worker is None)
                async with client:
                    await client.subscribe(self.topics)
                    self.client = client
                    log.info("HQ receiver connected", extra={"broker": self.broker.url,
                                                             "worker": self.worker})
                    self.connected.set()
                    backoff.reset()  # a good connection: the next outage starts short
                    # What was due when HQ stopped or lost the broker goes now.
                    self._due.set()
                    dispatcher = asyncio.create_task(self._dispatch_loop(client))
                    resender = asyncio.create_task(self._resend_loop(client))
                    try:
                        async for message in client.messages:
                            await self._handle(client, message)
                    finally:
                        dispatcher.cancel()
                        resender.cancel()
                        # never swallows our own cancel
                        await asyncio.wait({dispatcher, resender})
            except aiomqtt.MqttError as exc:
                self.connected.clear()
                self.client = None
                delay = backoff.next()
                log.warning("HQ receiver lost the broker; retrying",
                            extra={"error": str(exc), "retry_in_s": round(delay, 2)})
                await asyncio.sleep(delay)

    async def _handle(self, client: aiomqtt.Client, message: aiomqtt.Message) -> None:
        try:
            chain, store_id, leaf = split_topic(str(message.topic))
            check_wire_id(store_id, "topic store")
            data = bytes(message.payload) if isinstance(message.payload,
                                                       bytes | bytearray) else b""
            if leaf == "journal":
                result = await self._call(self.hq.ingest, store_id, data)
                # Not awaited: the next batch is stored while the broker takes the ack
                # (paho sends in order, so acks never overtake each other).
                self._spawn(client.publish(topic(chain, store_id, "ack"),
                                           self.hq.ack(store_id, result), qos=1))
                for name, payload in result.messages:  # HQ's answers (gift cards)
                    self._spawn(client.publish(name, payload, qos=1))
                if result.notifications:
                    self._due.set()
            elif leaf == "hello":
                await self._call(self.hq.hello, store_id, data)
                row = await self._call(self.hq.storage.store, store_id)
                await client.publish(topic(chain, store_id, "ack"),
                                     self.hq.ack(store_id, Ingested(row.head_seq, False)), qos=1)
                after = json.loads(data)["doc"].get("catch_up_after")  # signed: hello checked
                if isinstance(after, int) and not isinstance(after, bool) and after >= 0:
                    for payload in await self._call(self.hq.catch_up, store_id, after):
                        await client.publish(topic(chain, store_id, "restore"), payload, qos=1)
                await self._resend(client, store_id)  # what a lost broker may have dropped
            elif leaf == "backup":
                await self._call(backups.take_chunk, self.hq.keys.data_dir, store_id, data)
            elif leaf == "status":
                online = json.loads(data or b"{}").get("state") == "online"
                await self._call(lambda: self.hq.storage.contact(store_id, online=online))
                if online:
                    await self._resend(client, store_id)
        except (WireError, ValueError, KeyError, TypeError) as exc:
            # Refused, loudly; the store's resend (or its operator) fixes the cause.
            log.error("HQ refused a message", extra={"topic": str(message.topic),
                                                     "reason": str(exc)})
        except aiomqtt.MqttError:
            raise  # the broker is gone: reconnect
        except Exception as exc:  # the database away (restarted, locked): nothing was stored
            log.error("HQ could not store a message; the store sends it again", extra={
                "topic": str(message.topic), "error": f"{type(exc).__name__}: {exc}"})

    # -- HQ's messages a store has not applied (hub/hq/deliveries.py) -----------------------

    async def _resend(self, client: aiomqtt.Client, store_id: str) -> None:
        due = await self._call(deliveries.unapplied, self.hq.storage, store_id,
                               self.resend_grace_s)
        for name, payload in due:  # the exact signed bytes: a replay is refused there
            await client.publish(name, payload, qos=1)
        if due:  # counted once the broker has them
            await self._call(deliveries.mark_resent, self.hq.storage,
                             deliveries.message_ids(due), store_id)
            log.info("HQ resent messages a store has not applied",
                     extra={"store_id": store_id, "count": len(due)})

    async def _resend_loop(self, client: aiomqtt.Client) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.round_due.wait(), self.resend_every_s)
            self.round_due.clear()
            try:
                if self.worker is not None and not await self._call(
                        self.hq.storage.take_lease, "resend", self.client_id,
                        self.resend_every_s):
                    continue
                online = await self._call(self.hq.storage.query,
                                          "SELECT store_id FROM stores WHERE online = 1")
                for row in online:
                    await self._resend(client, row["store_id"])
                # Pieces on their way too long: a conflict, and both stores told (once).
                for name, payload in await self._call(transfers.overdue, self.hq):
                    await client.publish(name, payload, qos=1)
            except Exception as exc:  # the next round, or the store's next hello, retries
                log.warning("HQ could not resend messages or look for late transfers",
                            extra={"error": type(exc).__name__})

    # -- messages to clients ----------------------------------------------------------------

    async def _dispatch_loop(self, client: aiomqtt.Client) -> None:
        while True:
            if self.worker is None:
                await self._due.wait()
            else:
                # The lease holder also looks on each renewal: what other workers stored
                # set their own `_due`, not ours.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._due.wait(), LEASE_S / 3)
            self._due.clear()
            try:
                if self.worker is not None and not await self._call(
                        self.hq.storage.take_lease, DISPATCH_LEASE, self.client_id, LEASE_S):
                    continue
                if await self._dispatch(client):
                    self._due.set()  # a full round: there may be more
            except Exception as exc:  # still due: the next batch or connection looks again
                log.warning("HQ could not finish sending messages to clients",
                            extra={"error": type(exc).__name__})

    async def _dispatch(self, client: aiomqtt.Client) -> bool:
        """One round: send what is due, record each outcome, then publish its receipt to
        the store (QoS 1: the store's session keeps it while it is offline) and only then
        mark it receipted. Returns whether the round was full."""
        due = await self._call(self.hq.storage.notifications_due, DISPATCH_BATCH)
        retry = False
        for row in due:
            if row["status"] == "requested":
                outcome = await self._outcome(row)
                if outcome is None:
                    retry = True
                    continue
                await self._call(self.hq.storage.settle_notification, row["store_id"],
                                 row["notification_id"], row["channel"], outcome.status,
                                 outcome.reason)
            else:  # settled before HQ stopped; its receipt never reached the broker
                outcome = Outcome(row["status"], row["reason"])
            name, payload = await self._call(self.hq.receipt, row, outcome)
            await client.publish(name, payload, qos=1)
            await self._call(self.hq.storage.notification_receipted, row["store_id"],
                             row["notification_id"], row["channel"])
        return len(due) == DISPATCH_BATCH and not retry

    async def _outcome(self, row: dict[str, Any]) -> Outcome | None:
        """Send one message; None when the sender asks to try again later."""
        try:
            ready = await self._call(self.hq.prepare_notification, row)
        except (KeyError, TypeError, ValueError):  # a request HQ cannot read: never retried
            return Outcome("failed", "sender_error")
        if isinstance(ready, Outcome):
            return ready
        try:
            outcome = await self.hq.sender.send(ready)
        except Exception as exc:  # any sender's trouble: keep it due, never lose it
            log.warning("HQ's sender could not send a message; it stays due", extra={
                "store_id": row["store_id"], "notification_id": row["notification_id"],
                "channel": row["channel"], "error": type(exc).__name__})
            return None
        if outcome.status not in ("sent", "refused", "failed"):
            return Outcome("failed", "sender_error")
        return outcome

    async def close(self) -> None:
        self._pool.shutdown(wait=True)


async def publish_signed(broker: Broker, tls: TlsFiles | None, identifier: str,
                         messages: list[tuple[str, bytes]]) -> None:
    """Publish HQ messages at QoS 1 and return once the broker has them (PUBACK)."""
    client = make_client(broker, identifier, tls=tls if broker.tls else None, persistent=False)
    async with client:
        for name, payload in messages:
            await client.publish(name, payload, qos=1)


def open_hq(keys: HQKeys, sender: Sender | None = None) -> HQ:
    url = keys.db
    if url:
        storage: HQStorage = PostgresHQStorage(url, HQ_PARTS)
    else:
        storage = SqliteHQStorage(keys.db_path, HQ_PARTS)
    hq = HQ(keys, storage)
    if sender is not None:
        hq.sender = sender
    return hq

