"""The store's side of sync: the journal out to HQ, HQ's acks and signed messages in.

The cursor is HQ's word: `acked` moves only when HQ acknowledges the highest contiguous seq
it stored, and is kept in the books (`sync_state`), so after an outage, a crash or a broker
restart the hub resends from there and HQ drops what it already has. Between acks the hub
keeps publishing ahead (`sent`), up to a window, so a backlog drains at the broker's pace
rather than one round trip per batch. New commits wake the pump through the bus.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any

import aiomqtt
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from hub.bus import Event
from hub.core.errors import Refused
from hub.ledger.journal import Entry
from hub.ledger.ledger import Tx, utc_now
from hub.store import Store
from hub.sync.enroll import BOX_KEY_ID, Enrollment, hello_proof
from hub.sync.mqtt import make_client
from hub.sync.settings import Broker, SyncSettings
from hub.sync.wire import (
    BATCH_FORMAT,
    WireError,
    WrappedKey,
    check_message,
    key_aad,
    load_ed25519_public,
    load_x25519_public,
    open_sealed,
    profile_aad,
    public_hex,
    seal_to,
    sign_doc,
    split_topic,
    topic,
    verify_doc,
)

log = logging.getLogger(__name__)
MAX_INFLIGHT_PUBLISHES = 16
REFUSALS_KEPT = 1000


async def load_enrollment(store: Store) -> Enrollment | None:
    row = await store.ledger.fetch_one("SELECT value FROM sync_state WHERE key = 'enrollment'")
    return None if row is None else Enrollment.from_json(row["value"])


def record_refusal_in(tx: Tx, source: str, reason: str) -> None:
    tx.execute("INSERT INTO sync_refusals (at, source, reason) VALUES (?,?,?)",
               (utc_now(), source, reason))
    tx.execute("DELETE FROM sync_refusals WHERE id <= (SELECT MAX(id) FROM sync_refusals) - ?",
               (REFUSALS_KEPT,))


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
        self.acked = 0
        self.sent = 0
        self.connected = False
        self.state = "starting"
        self.problem: str | None = None
        self.refused = 0
        self._hello_wanted = False
        self._hello_at = 0.0
        self._gen = 0  # bumped on every go-back, so a batch read before it is not counted
        self._progress_at = time.monotonic()
        self._wake = asyncio.Event()
        self._ack_dirty = asyncio.Event()
        self._hq_keys: dict[str, WrappedKey] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._unlisten: Any = None
        self._state_at = 0.0
        self._state_timer: asyncio.TimerHandle | None = None

    # -- life cycle -------------------------------------------------------------------------

    async def start(self) -> None:
        row = await self.ledger.fetch_one("SELECT value FROM sync_state WHERE key = 'acked_seq'")
        self.acked = self.sent = int(row["value"]) if row else 0
        for r in await self.ledger.fetch("SELECT key_id, version, wrapped FROM sync_hq_keys"):
            self._hq_keys[r["key_id"]] = WrappedKey(r["key_id"], r["version"], bytes(r["wrapped"]))
        self._unlisten = self.bus.listen("journal.*", self._on_commit)
        self._tasks = [asyncio.create_task(self._run(), name="sync-replicator"),
                       asyncio.create_task(self._persist_acks(), name="sync-cursor")]
        self._set_state("connecting")

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
        await self._save_acked()

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

    def _set_state(self, state: str, problem: str | None = None) -> None:
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
        backoff = 0.2
        while True:
            try:
                await self._session()
            except* (aiomqtt.MqttError, OSError) as group:
                reason = "; ".join(str(e) for e in group.exceptions)
                self.connected = False
                self._set_state("offline", f"broker {self.broker.url}: {reason}")
                log.warning("sync: broker unreachable; retrying",
                            extra={"broker": self.broker.url, "error": reason,
                                   "retry_in_s": backoff})
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 10.0)
            if self.connected:
                backoff = 0.2

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
            await client.publish(topic(self.chain, self.store_id, "hello"), self._hello(), qos=1)
            self.connected = True
            self._go_back("connected")
            self._set_state("syncing" if self.backlog else "in_sync")
            log.info("sync: connected", extra={"broker": self.broker.url, "acked": self.acked,
                                               "seq": self.ledger.seq})
            try:
                async with asyncio.TaskGroup() as tg:
                    tg.create_task(self._pump(client))
                    tg.create_task(self._receive(client))
            finally:
                self.connected = False
                if not client._disconnected.done():  # clean stop: say so before leaving
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(client.publish(
                            status_topic, json.dumps({"state": "offline", "at": utc_now()}),
                            qos=1, retain=True), 2)

    def _hello(self) -> bytes:
        signing = self.ledger.keyring.signing_key
        assert signing is not None
        box = self._box()
        public_key, box_key = self.ledger.public_key_hex, public_hex(box.public_key())
        doc = {"store": self.store_id, "chain": self.chain, "public_key": public_key,
               "box_key": box_key, "seq": self.ledger.seq,
               "proof": hello_proof(self.enrollment.secret, self.chain, self.store_id,
                                    public_key, box_key),
               "keys": [self._wrapped("store").to_json()]}
        return sign_doc(signing, doc)

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
                await client.publish(topic(self.chain, self.store_id, "hello"), self._hello(),
                                     qos=1)
                self._go_back("HQ asked for a hello")
            if (self.problem is None or self.state != "blocked") and \
                    self.sent < self.ledger.seq and \
                    self.sent - self.acked < self.settings.window_entries:
                gen = self._gen
                entries = await self.ledger.entries(self.sent, self.settings.batch_entries)
                if gen != self._gen or not entries or entries[0].seq != self.sent + 1:
                    continue
                try:
                    chunks = await self._encode(entries)
                except WireError as exc:
                    self._set_state("blocked", str(exc))
                    log.error("sync: cannot send", extra={"reason": str(exc)})
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

    async def _encode(self, entries: list[Entry]) -> list[tuple[bytes, int]]:
        """Split entries into messages under the size limit, each with the keys it needs."""
        await self._ensure_keys({e.key_id for e in entries})
        limit = self.settings.max_message_bytes
        head = f'{{"format":"{BATCH_FORMAT}","store":{json.dumps(self.store_id)},"entries":['
        chunks: list[tuple[bytes, int]] = []
        parts: list[str] = []
        key_ids: set[str] = set()
        size = len(head) + 64
        for entry in entries:
            part = json.dumps(entry.to_export(), separators=(",", ":"))
            key_size = 0 if entry.key_id in key_ids else 200
            if parts and size + len(part) + 1 + key_size > limit:
                chunks.append(self._chunk(head, parts, key_ids, entry.seq - 1))
                parts, key_ids, size, key_size = [], set(), len(head) + 64, 200
            size += len(part) + 1 + key_size
            if size > limit:
                raise WireError(f"journal entry seq {entry.seq} needs {size} bytes, more than"
                                f" sync.max_message_bytes ({limit}): raise it here and the"
                                " broker's message_size_limit")
            parts.append(part)
            key_ids.add(entry.key_id)
        chunks.append(self._chunk(head, parts, key_ids, entries[-1].seq))
        return chunks

    def _chunk(self, head: str, parts: list[str], key_ids: set[str],
               last: int) -> tuple[bytes, int]:
        keys = [self._hq_keys[k].to_json() for k in sorted(key_ids) if k in self._hq_keys]
        return (head + ",".join(parts) + '],"keys":' + json.dumps(keys) + "}").encode(), last

    def _wrapped(self, key_id: str) -> WrappedKey:
        """The data key sealed to HQ's box key: only HQ can open it, never the broker."""
        if key_id not in self._hq_keys:
            version, secret = self.ledger.keyring.get(key_id)
            self._hq_keys[key_id] = WrappedKey(
                key_id, version,
                seal_to(self.hq_box, secret, key_aad(self.chain, self.store_id, key_id, version)))
        return self._hq_keys[key_id]

    async def _ensure_keys(self, key_ids: set[str]) -> None:
        keyring = self.ledger.keyring
        new, gone = [], []
        for key_id in key_ids:
            if keyring.is_destroyed(key_id):
                # A forgotten client: their key is not sent, and our sealed copy goes too.
                if self._hq_keys.pop(key_id, None) is not None:
                    gone.append(key_id)
                continue
            if key_id not in self._hq_keys and keyring.has(key_id):
                new.append(self._wrapped(key_id))
        if new or gone:
            def command(tx: Tx) -> None:
                tx.conn.executemany("INSERT OR IGNORE INTO sync_hq_keys (key_id, version, wrapped)"
                                    " VALUES (?,?,?)", [(k.key_id, k.version, k.wrapped)
                                                        for k in new])
                tx.conn.executemany("DELETE FROM sync_hq_keys WHERE key_id = ?",
                                    [(k,) for k in gone])
            await self.ledger.transact(command)

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
        if seq > self.ledger.seq:
            self._set_state("hq_ahead", f"HQ holds seq {seq} but this journal ends at"
                                        f" {self.ledger.seq}: was the store restored from an"
                                        " old backup? Nothing is sent until this is resolved")
            log.error("sync: HQ is ahead of this store", extra={"hq_seq": seq,
                                                                 "seq": self.ledger.seq})
            return
        if doc.get("hello"):
            # HQ missed our hello (it was away when we connected): say it again, then resend.
            self._hello_wanted = True
            self._wake.set()
            return
        if doc.get("problem"):
            self._set_state("refused_by_hq", f"HQ refused entries: {doc['problem']}")
            log.error("sync: HQ refused entries", extra={"reason": doc["problem"]})
        if seq > self.acked:
            self.acked = seq
            self._progress_at = time.monotonic()
            self._ack_dirty.set()
            if self.problem and self.state == "refused_by_hq":
                self.problem = None
        if doc.get("gap") and self.sent > seq:
            self._go_back("HQ reported a gap")
        if self.sent < self.acked:
            self.sent = self.acked
        if self.state not in ("blocked", "hq_ahead", "refused_by_hq"):
            self.state = "syncing" if self.backlog else "in_sync"
        self._wake.set()
        self._publish_state(force=self.backlog == 0)

    async def _on_inbox(self, name: str, payload: bytes) -> None:
        doc, sig = verify_doc(self.hq_key, payload, f"HQ message on {name}")
        check_message(doc, self.chain, self.store_id)
        profile = None
        if doc["type"] == "client":
            box = self._box()
            try:
                sealed = bytes.fromhex(doc["body"]["sealed_profile"])
            except (ValueError, TypeError):
                raise WireError(f"HQ message {doc['id']}: sealed_profile is not hex") from None
            profile = json.loads(open_sealed(box, sealed, profile_aad(
                self.chain, self.store_id, doc["body"]["client_id"])))
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
        await self.ledger.transact(lambda tx: record_refusal_in(tx, source, reason))

    async def _persist_acks(self) -> None:
        while True:
            await self._ack_dirty.wait()
            self._ack_dirty.clear()
            await self._save_acked()

    async def _save_acked(self) -> None:
        acked = self.acked
        await self.ledger.transact(lambda tx: tx.execute(
            "INSERT INTO sync_state (key, value) VALUES ('acked_seq', ?) ON CONFLICT(key)"
            " DO UPDATE SET value = excluded.value WHERE CAST(value AS INTEGER) < ?",
            (str(acked), acked)))

