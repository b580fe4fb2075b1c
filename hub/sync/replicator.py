"""The store's side of sync: the journal out to HQ, HQ's acks and signed messages in.

The cursor is HQ's word: `acked` moves only when HQ acknowledges the highest contiguous seq
it stored, and is kept in the books (the sync area, `hub.sync.model`), so after an outage, a
crash or a broker restart the hub resends from there and HQ drops what it already has. Between
acks the hub keeps publishing ahead (`sent`), up to a window, so a backlog drains at the
broker's pace rather than one round trip per batch. New commits wake the pump through the bus.
The connection is retried with `hub.backoff.Backoff`, reset by every good connection.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import time
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import aiomqtt
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from hub import __version__
from hub.backoff import Backoff
from hub.bus import Event
from hub.core.errors import Refused
from hub.ledger.journal import Entry
from hub.ledger.ledger import Ledger, utc_now
from hub.store import Store
from hub.sync.enroll import BOX_KEY_ID, hello_proof
from hub.sync.model import Enrollment, SyncBook
from hub.sync.mqtt import make_client
from hub.sync.settings import Broker, SyncSettings
from hub.sync.wire import (
    SEALED,
    EntryTooLarge,
    WireError,
    WrappedKey,
    check_message,
    encode_batches,
    key_aad,
    load_ed25519_public,
    load_x25519_public,
    open_sealed,
    public_hex,
    seal_to,
    sign_doc,
    split_topic,
    topic,
    verify_doc,
)

log = logging.getLogger(__name__)
MAX_INFLIGHT_PUBLISHES = 16


class SyncState(StrEnum):
    """Where the hub stands with HQ (on the bus as `sync.state`, in the API and the UI)."""

    IDLE = "idle"                    # not replicating: not enrolled, or sync.enabled false
    STARTING = "starting"
    CONNECTING = "connecting"
    OFFLINE = "offline"              # the broker is unreachable: retrying with backoff
    SYNCING = "syncing"              # connected, entries not yet acknowledged by HQ
    IN_SYNC = "in_sync"              # HQ acknowledged every entry
    BLOCKED = "blocked"              # an entry cannot be sent (too big for a message)
    HQ_AHEAD = "hq_ahead"            # HQ holds more than this journal: an old backup?
    REFUSED_BY_HQ = "refused_by_hq"  # HQ refused entries (its ack says why)


# States only an operator (or HQ's next good ack) clears: an ack does not overwrite them.
_STUCK = (SyncState.BLOCKED, SyncState.HQ_AHEAD, SyncState.REFUSED_BY_HQ)


async def load_enrollment(ledger: Ledger) -> Enrollment | None:
    return await SyncBook(ledger).enrollment()


class Replicator:
    def __init__(self, store: Store, settings: SyncSettings, enrollment: Enrollment) -> None:
        self.store = store
        self.ledger = store.ledger
        self.bus = store.bus
        self.settings = settings
        self.enrollment = enrollment
        self.chain = enrollment.chain_id
        self.store_id = enrollment.store_id
        self.broker = settings.broker or Broker.parse(enrollment.broker, "enrollment broker")
        self.hq_key = load_ed25519_public(enrollment.hq_signing_key, "HQ signing key")
        self.hq_box = load_x25519_public(enrollment.hq_box_key, "HQ box key")
        self.book = store.hq
        self.sync_book = SyncBook(store.ledger)
        self.backoff = Backoff(0.2, 10.0)  # reset once connected
        self.acked = 0
        self.sent = 0
        self.connected = False
        self.state = SyncState.STARTING
        self.problem: str | None = None
        self.refused = 0
        self._hello_wanted = False
        self._hello_at = 0.0
        self._gen = 0  # bumped on every go-back, so a batch read before it is not counted
        self._progress_at = time.monotonic()
        self._wake = asyncio.Event()
        self._ack_dirty = asyncio.Event()
        self.hq_clock: dict[str, Any] | None = None  # this clock less HQ's, when last told
        self._hq_keys: dict[tuple[str, int], WrappedKey] = {}  # by (key id, version)
        self._escrow_blob: bytes | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._unlisten: Any = None
        self._state_at = 0.0
        self._state_timer: asyncio.TimerHandle | None = None

    # -- life cycle -------------------------------------------------------------------------

    async def start(self) -> None:
        self.acked = self.sent = await self.sync_book.cursor()
        self._hq_keys = await self.sync_book.sealed_keys()
        self._unlisten = self.bus.listen("journal.*", self._on_commit)
        self._tasks = [asyncio.create_task(self._run(), name="sync-replicator"),
                       asyncio.create_task(self._persist_acks(), name="sync-cursor")]
        self._set_state(SyncState.CONNECTING)

    async def stop(self) -> None:
        if self._unlisten:
            self._unlisten()
        # A broker that never answers our DISCONNECT must not hold up the daemon's exit:
        # cancel, wait 5 s, cancel again (out of aiomqtt's wait), then go on regardless.
        # (`asyncio.wait`, not `wait_for`: on 3.11 wait_for waits for a cancelled task to
        # finish, forever if it swallows the cancellation.)
        pending = {t for t in self._tasks if not t.done()}
        for _ in range(2):
            if not pending:
                break
            for task in pending:
                task.cancel()
            _, pending = await asyncio.wait(pending, timeout=5)
        if pending:
            log.warning("sync tasks did not stop", extra={"tasks": len(pending)})
        if self._state_timer is not None:
            self._state_timer.cancel()
            self._state_timer = None
        await self.sync_book.save_cursor(self.acked)

    def _on_commit(self, event: Event) -> None:
        self._wake.set()
        self._publish_state()

    @property
    def backlog(self) -> int:
        return max(0, self.ledger.seq - self.acked)

    def status(self) -> dict[str, Any]:
        return {"state": self.state, "connected": self.connected, "broker": self.broker.url,
                "chain": self.chain, "store_id": self.store_id, "seq": self.ledger.seq,
                "acked": self.acked, "backlog": self.backlog, "problem": self.problem,
                "refused": self.refused}

    def _set_state(self, state: SyncState, problem: str | None = None) -> None:
        self.state, self.problem = state, problem
        self._publish_state(force=True)

    def _publish_state(self, force: bool = False) -> None:
        # A draining backlog changes state thousands of times a second: a few events a
        # second are enough for a progress bar.
        now = time.monotonic()
        if force or now - self._state_at >= 0.25:
            self._state_at = now
            self.bus.publish("sync.state", **self.status())
        elif self._state_timer is None:
            def fire() -> None:
                self._state_timer = None
                self._publish_state(force=True)
            self._state_timer = asyncio.get_running_loop().call_later(0.25, fire)

    # -- the session ------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            try:
                await self._session()
                reason = "the session ended"
            except* (aiomqtt.MqttError, OSError) as group:
                reason = "; ".join(str(e) for e in group.exceptions)
            self.connected = False
            delay = self.backoff.next()  # after the session: a good one reset it
            self._set_state(SyncState.OFFLINE, f"broker {self.broker.url}: {reason}")
            log.warning("sync: broker unreachable; retrying",
                        extra={"broker": self.broker.url, "error": reason,
                               "retry_in_s": round(delay, 2)})
            await asyncio.sleep(delay)

    async def _session(self) -> None:
        status_topic = topic(self.chain, self.store_id, "status")
        will = aiomqtt.Will(status_topic, json.dumps({"state": "offline"}), qos=1, retain=True)
        client = make_client(self.broker, f"loupe-{self.chain}-{self.store_id}",
                             tls=self.enrollment.tls(), will=will,
                             session_expiry_s=self.settings.session_expiry_s,
                             keepalive_s=self.settings.keepalive_s, inflight=64)
        async with client:
            await client.subscribe([(topic(self.chain, self.store_id, "ack"), 1),
                                    (topic(self.chain, self.store_id, "inbox"), 1),
                                    (topic(self.chain, "all", "inbox"), 1)])
            await client.publish(status_topic, json.dumps({"state": "online", "at": utc_now()}),
                                 qos=1, retain=True)
            await client.publish(topic(self.chain, self.store_id, "hello"), self.hello(), qos=1)
            self.connected = True
            self.backoff.reset()  # a good connection: the next outage starts from a short wait
            self._go_back("connected")
            self._set_state(SyncState.SYNCING if self.backlog else SyncState.IN_SYNC)
            log.info("sync: connected", extra={"broker": self.broker.url, "acked": self.acked,
                                               "seq": self.ledger.seq})
            try:
                async with asyncio.TaskGroup() as tg:
                    tg.create_task(self._pump(client))
                    tg.create_task(self._receive(client))
            except asyncio.CancelledError:
                # A clean stop (a lost connection ends the group with MqttError instead):
                # the broker is still there, so say so before leaving rather than leave it to
                # the last will.
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(client.publish(
                        status_topic, json.dumps({"state": "offline", "at": utc_now()}),
                        qos=1, retain=True), 2)
                raise
            finally:
                self.connected = False

    def hello(self, catch_up_after: int | None = None) -> bytes:
        """The signed hello; `catch_up_after` asks HQ for its copy of the journal after
        that seq (a restored store: hub/sync/catchup.py)."""
        signing = self.ledger.keyring.signing_key
        assert signing is not None
        box = self._box()
        public_key, box_key = self.ledger.public_key_hex, public_hex(box.public_key())
        doc = {"store": self.store_id, "chain": self.chain, "public_key": public_key,
               "box_key": box_key, "seq": self.ledger.seq,
               "proof": hello_proof(self.enrollment.secret, self.chain, self.store_id,
                                    public_key, box_key),
               "keys": [self._wrapped("store").to_json()],
               "escrow": self._escrow(),
               "hub_version": __version__}  # optional: HQ's console shows it
        if catch_up_after is not None:
            doc["catch_up_after"] = catch_up_after
        return sign_doc(signing, doc)

    def _escrow(self) -> str:
        """The master key age-encrypted to HQ's box key, for HQ to keep (hub/sync/escrow.py):
        made once a run (age is randomised: the same bytes on every hello of it)."""
        if self._escrow_blob is None:
            self._escrow_blob = self.ledger.keyring.escrow(bytes.fromhex(
                self.enrollment.hq_box_key))
        return base64.b64encode(self._escrow_blob).decode()

    def _box(self) -> X25519PrivateKey:
        return X25519PrivateKey.from_private_bytes(self.ledger.keyring.get(BOX_KEY_ID)[1])

    def _go_back(self, why: str) -> None:
        """Resend from the cursor: HQ drops whatever it already holds."""
        if self.sent != self.acked:
            log.info("sync: resending from the cursor", extra={"from_seq": self.acked + 1,
                                                               "why": why})
        self.sent = self.acked
        self._gen += 1
        self._progress_at = time.monotonic()
        self._wake.set()

    # -- out: journal batches ---------------------------------------------------------------

    async def _pump(self, client: aiomqtt.Client) -> None:
        journal_topic = topic(self.chain, self.store_id, "journal")
        inflight: set[asyncio.Task[None]] = set()
        while True:
            if self._hello_wanted and time.monotonic() - self._hello_at > 1.0:
                self._hello_wanted = False
                self._hello_at = time.monotonic()
                await client.publish(topic(self.chain, self.store_id, "hello"), self.hello(),
                                     qos=1)
                self._go_back("HQ asked for a hello")
            if (self.problem is None or self.state != SyncState.BLOCKED) and \
                    self.sent < self.ledger.seq and \
                    self.sent - self.acked < self.settings.window_entries:
                gen = self._gen
                entries = await self.ledger.entries(self.sent, self.settings.batch_entries)
                if gen != self._gen or not entries or entries[0].seq != self.sent + 1:
                    continue
                try:
                    chunks = await self.batches(entries)
                except EntryTooLarge as exc:
                    limit = self.settings.max_message_bytes
                    problem = (f"journal entry seq {exc.seq} needs {exc.size} bytes, more than"
                               f" sync.max_message_bytes ({limit}): raise it here and the"
                               " broker's message_size_limit")
                    self._set_state(SyncState.BLOCKED, problem)
                    log.error("sync: cannot send", extra={"reason": problem})
                    continue
                for payload, last in chunks:
                    while len(inflight) >= MAX_INFLIGHT_PUBLISHES:
                        done, inflight = await asyncio.wait(inflight,
                                                            return_when=asyncio.FIRST_COMPLETED)
                        for task in done:
                            task.result()  # a lost connection ends the session here
                    if gen != self._gen:
                        break
                    inflight.add(asyncio.create_task(client.publish(journal_topic, payload,
                                                                    qos=1)))
                    if self.sent == self.acked:
                        self._progress_at = time.monotonic()
                    self.sent = last
                continue
            for task in [t for t in inflight if t.done()]:
                inflight.discard(task)
                task.result()
            outstanding = self.sent > self.acked
            try:
                await asyncio.wait_for(self._wake.wait(),
                                       self.settings.resend_after_s / 2 if outstanding else None)
            except TimeoutError:
                pass
            self._wake.clear()
            if self.sent > self.acked and \
                    time.monotonic() - self._progress_at > self.settings.resend_after_s:
                self._go_back(f"no ack for {self.settings.resend_after_s:g} s")

    async def batches(self, entries: list[Entry]) -> list[tuple[bytes, int]]:
        """The messages these entries go out as (under the size limit, each with the sealed
        keys it needs), with the last seq of each."""
        await self._ensure_keys({(e.key_id, e.key_version) for e in entries})
        return encode_batches(self.store_id, entries, self._hq_keys,
                              self.settings.max_message_bytes)

    def _wrapped(self, key_id: str, version: int | None = None) -> WrappedKey:
        """A data key (its newest version unless told) sealed to HQ's box key: only HQ can
        open it, never the broker."""
        version, secret = self.ledger.keyring.get(key_id, version)
        if (key_id, version) not in self._hq_keys:
            self._hq_keys[key_id, version] = WrappedKey(
                key_id, version,
                seal_to(self.hq_box, secret, key_aad(self.chain, self.store_id, key_id, version)))
        return self._hq_keys[key_id, version]

    async def _ensure_keys(self, wanted: set[tuple[str, int]]) -> None:
        keyring = self.ledger.keyring
        new, gone = [], []
        for key_id, version in wanted:
            if keyring.is_destroyed(key_id):
                # A forgotten client: their key is not sent, and our sealed copies go too.
                held = [k for k in self._hq_keys if k[0] == key_id]
                for k in held:
                    del self._hq_keys[k]
                if held:
                    gone.append(key_id)
                continue
            if (key_id, version) not in self._hq_keys and keyring.has(key_id, version):
                new.append(self._wrapped(key_id, version))
        if new or gone:
            await self.sync_book.keep_sealed_keys(new, gone)

    # -- in: acks and HQ messages -----------------------------------------------------------

    async def _receive(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            name = str(message.topic)
            payload = message.payload if isinstance(message.payload, bytes) else b""
            try:
                _, store, leaf = split_topic(name)
                if leaf == "ack":
                    self._on_ack(payload)
                elif leaf == "inbox":
                    await self._on_inbox(name, payload)
                else:
                    raise WireError(f"unexpected topic {name}")
            except (WireError, Refused) as exc:
                await self._refuse(name, str(exc))

    def _on_ack(self, payload: bytes) -> None:
        doc, _ = verify_doc(self.hq_key, payload, "ack")
        if doc.get("type") != "ack" or doc.get("store") != self.store_id or \
                doc.get("chain") != self.chain or not isinstance(doc.get("seq"), int):
            raise WireError(f"ack for {doc.get('chain')}/{doc.get('store')} is not for this store")
        seq = doc["seq"]
        self._hq_clock(doc.get("at"))
        if seq > self.ledger.seq:
            self._set_state(SyncState.HQ_AHEAD,
                            f"HQ holds seq {seq} but this journal ends at {self.ledger.seq}: was"
                            " the store restored from an old backup? Nothing is sent until this"
                            " is resolved")
            log.error("sync: HQ is ahead of this store", extra={"hq_seq": seq,
                                                                 "seq": self.ledger.seq})
            return
        if doc.get("hello"):
            # HQ missed our hello (it was away when we connected): say it again, then resend.
            self._hello_wanted = True
            self._wake.set()
            return
        if doc.get("problem"):
            self._set_state(SyncState.REFUSED_BY_HQ, f"HQ refused entries: {doc['problem']}")
            log.error("sync: HQ refused entries", extra={"reason": doc["problem"]})
        if seq > self.acked:
            self.acked = seq
            self._progress_at = time.monotonic()
            self._ack_dirty.set()
            if self.problem and self.state == SyncState.REFUSED_BY_HQ:
                self.problem = None
        if doc.get("gap") and self.sent > seq:
            self._go_back("HQ reported a gap")
        if self.sent < self.acked:
            self.sent = self.acked
        if self.state not in _STUCK:
            self.state = SyncState.SYNCING if self.backlog else SyncState.IN_SYNC
        self._wake.set()
        self._publish_state(force=self.backlog == 0)

    async def _on_inbox(self, name: str, payload: bytes) -> None:
        doc, sig = verify_doc(self.hq_key, payload, f"HQ message on {name}")
        check_message(doc, self.chain, self.store_id)
        profile = None
        sealed = SEALED.get(doc["type"])
        if sealed is not None:  # a profile, an address: opened in memory, for its entry only
            try:
                data = bytes.fromhex(doc["body"][sealed.field])
            except (ValueError, TypeError):
                raise WireError(f"HQ message {doc['id']}: {sealed.field} is not hex") from None
            profile = json.loads(open_sealed(self._box(), data, sealed.aad(
                self.chain, self.store_id, doc["body"])))
        applied = await self.book.apply(doc, sig, profile=profile)
        log.info("sync: applied HQ message", extra={"id": doc["id"], "type": doc["type"],
                                                    "outcome": applied.outcome,
                                                    "seq": applied.seq})
        if applied.conflict:
            self.bus.publish("sync.conflict", message_id=doc["id"], kind=applied.conflict,
                             seq=applied.seq)

    async def _refuse(self, source: str, reason: str) -> None:
        """Refused input is logged, kept in the books' state and shown: never dropped silently."""
        self.refused += 1
        log.warning("sync: refused", extra={"source": source, "reason": reason})
        self.bus.publish("sync.refused", source=source, reason=reason)
        await self.sync_book.refuse(source, reason)

    async def _persist_acks(self) -> None:
        while True:
            await self._ack_dirty.wait()
            self._ack_dirty.clear()
            await self.sync_book.save_cursor(self.acked, self.hq_clock)

    def _hq_clock(self, at: object) -> None:
        """How far this box's clock is from HQ's, by the time on HQ's ack (the ack's trip
        adds milliseconds): `loupe doctor` warns past two minutes."""
        if not isinstance(at, str):
            return  # an HQ from before it said its time
        try:
            hq = datetime.fromisoformat(at)
        except ValueError:
            return
        offset = (datetime.now(UTC) - hq).total_seconds()
        self.hq_clock = {"offset_s": round(offset, 1), "at": utc_now()}

