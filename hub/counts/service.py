"""Stock counts: sessions fed by RFID reads and barcode scans, closed into the journal.

Reads arrive on the bus by the thousand per second; they are decoded, deduplicated and
tallied in memory by a synchronous bus listener (no task, no queue per read), flushed to the
`count_reads` table in batches, and summarised on the bus as `count.progress` a few times a
second. Only what a person decides becomes a journal entry: starting a count, saying where a
handheld sweeps, closing the count (one entry with the reconciliation), confirming missing
pieces, moving misplaced ones. A read of a piece marked missing is the exception: it is
recorded (`count.piece_found`) and announced (`count.found`) once.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import re
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from hub.bus import Event, EventBus
from hub.core import fields
from hub.core.entries import piece_changes
from hub.core.errors import Invalid, NotFound, Refused
from hub.counts import reports
from hub.counts.model import KINDS, CountStatus
from hub.counts.reconcile import IN_STORE, Piece, Result, reconcile
from hub.counts.session import CountSession, Reader, ReaderState
from hub.counts.settings import CountSettings
from hub.devices.base import State as DeviceState
from hub.epc import EpcError, normalise_epc
from hub.ledger.ledger import Tx
from hub.store import Store
from hub.words import N_, Listing, Term

log = logging.getLogger(__name__)

_EPC = re.compile(r"[0-9A-F]{24}")
_NAME = re.compile(r"^[^\x00-\x1f]{1,80}$")
# What a count asks the books of each tagged piece: the fields of `Piece`, in order.
PIECE_COLUMNS = Piece._fields
HEARTBEAT_S = 1.0  # an open count's progress goes out at least this often, changed or not
EXPIRY_CHECK_S = 60.0  # how often the loop looks for counts left open past midnight
# A device in these states reads nothing: its count readers show as dropped.
_NOT_READING = frozenset({DeviceState.RETRYING, DeviceState.FAILED})
# Per read, a module constant: looking a member up on its enum class costs ~100 ns.
_READING = ReaderState.READING


def business_day(now: float, timezone: str) -> str:
    """The store's calendar day at `now` (a count left open past midnight is overnight)."""
    return datetime.fromtimestamp(now, ZoneInfo(timezone)).date().isoformat()


def _name(value: Any, what: str) -> str:
    if not isinstance(value, str) or not _NAME.match(value.strip()):
        raise Invalid("this must be 1 to 80 characters of text", what)
    return value.strip()


Held = list[tuple[Callable[[Event], None], Event]]


def _hold(held: Held, handler: Callable[[Event], None], event: Event) -> None:
    held.append((handler, event))


def _log_failed_load(loading: asyncio.Future[None]) -> None:
    if not loading.cancelled() and loading.exception() is not None:
        log.error("the counts could not load the books: counts and RFID reads are not"
                  " taken until the hub restarts", exc_info=loading.exception())


Method = TypeVar("Method", bound=Callable[..., Coroutine[Any, Any, Any]])


def _after_load(method: Method) -> Method:
    """A method of `Counts` that reads the sessions or the pieces: it waits for the load
    that `Counts.begin` started."""
    @functools.wraps(method)
    async def waiting(self: Counts, *args: Any, **kwargs: Any) -> Any:
        await self.ready()
        return await method(self, *args, **kwargs)
    return waiting  # type: ignore[return-value]


class Counts:
    """The counts of one store: open sessions, ingestion, closing, and what follows."""

    def __init__(self, store: Store, bus: EventBus, settings: CountSettings | None = None,
                 *, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.ledger = store.ledger
        self.items = store.items
        self.bus = bus
        self.timezone: str = store.config.timezone
        self.currency: str = store.config.currency
        self.settings = settings or CountSettings()
        self.clock = clock
        self.index: dict[str, Piece] = {}       # epc -> piece, every piece with an EPC
        self.by_item: dict[str, str] = {}       # item_id -> epc
        self.sessions: dict[str, CountSession] = {}
        self._active: tuple[CountSession, ...] = ()
        self._sweeps: dict[str, str] = {}       # device -> location the operator sweeps
        self._valid: set[str] = set()           # EPCs already checked well-formed
        self._missing: set[str] = set()         # EPCs of pieces marked missing
        self._found_reported: set[str] = set()
        self._finding: dict[str, float] = {}    # epc -> last gauge update (monotonic)
        self._stale_items: set[str] = set()
        self._retally_due = False
        self._last_progress: dict[str, float] = {}
        self.rejected: Counter[str] = Counter()
        self.last_rejection: str | None = None
        self._start_lock = asyncio.Lock()
        self._unlisten: list[Callable[[], None]] = []
        self._loop_task: asyncio.Task[None] | None = None
        self._loading: asyncio.Future[None] | None = None
        self._pending: set[asyncio.Task[Any]] = set()
        self._reindex_due = False  # `books.rebuilt`: the loop reads the tagged pieces again

    # -- life cycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Load the books and every open count (with its reads), then listen to the bus."""
        self.begin()
        await self.ready()

    def begin(self) -> None:
        """Listen to the bus at once and load the books on a task (`ready` waits for it).

        The hub's start does not wait for the load (100,000 tagged pieces are most of a
        second): what the bus says meanwhile is held, in order, and taken once the pieces
        and the open counts are in memory, so no read of a resumed count is lost."""
        held: Held = []
        listeners = self._listeners()
        self._unlisten = [self.bus.listen(topic, functools.partial(_hold, held, handler))
                          for topic, handler in listeners]
        self._loading = asyncio.ensure_future(self._load(held, listeners))
        self._loading.add_done_callback(_log_failed_load)

    @property
    def loaded(self) -> asyncio.Future[None]:
        """The load `begin` started (done once the books are in memory)."""
        assert self._loading is not None, "begin() first"
        return self._loading

    async def ready(self) -> None:
        """Return once the books are loaded (at once after the first time)."""
        if self._loading is not None:
            await asyncio.shield(self._loading)

    def _listeners(self) -> list[tuple[str, Callable[[Event], None]]]:
        return [("device.rfid.read", self._on_rfid), ("device.scan", self._on_scan),
                ("device.state", self._on_device_state), ("journal.*", self._on_journal),
                ("books.rebuilt", self._on_rebuilt)]

    async def _load(self, held: Held,
                    listeners: list[tuple[str, Callable[[Event], None]]]) -> None:
        try:
            await self._load_index()
            await self._load_open_counts()
        except BaseException:  # failed or stopped: hold nothing more (`_log_failed_load`)
            for unlisten in self._unlisten:
                unlisten()
            self._unlisten, held[:] = [], []
            raise
        # No await from here to the listeners' swap: nothing arrives in between.
        for handler, event in held:
            handler(event)
        held.clear()
        for unlisten in self._unlisten:
            unlisten()
        self._unlisten = [self.bus.listen(topic, handler) for topic, handler in listeners]
        self._loop_task = asyncio.create_task(self._run(), name="counts")
        await self.expire_overnight()

    async def stop(self) -> None:
        if self._loading is not None:
            self._loading.cancel()  # a stop during the start's load: what it read goes
            await asyncio.gather(self._loading, return_exceptions=True)
        for unlisten in self._unlisten:
            unlisten()
        self._unlisten = []
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
            self._loop_task = None
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
        await self.flush()

    async def _load_index(self) -> None:
        # One string object for each location, status and category, not one a piece:
        # at 100,000 tagged pieces the copies were ~16 MB of a small box's memory. Read a
        # page at a time, so the rows read are not all held at once beside the pieces; the
        # index changes only once all are read (readers never see half of it).
        shared: dict[Any, Any] = {}
        pieces = []
        async for rows in self.items.tagged_pages(PIECE_COLUMNS):
            pieces += [Piece(item_id, epc, shared.setdefault(location, location),
                             shared.setdefault(status, status),
                             shared.setdefault(category, category), *rest)
                       for item_id, epc, location, status, category, *rest in rows]
        self.index.clear()
        self.by_item.clear()
        self._missing.clear()
        for piece in pieces:
            self._index_piece(piece)
        # A missing piece found again since it was marked missing was announced already.
        missing = await self.items.missing_since()
        found = await self.ledger.fetch("SELECT item_id, MAX(seq) AS seq FROM count_found"
                                        " GROUP BY item_id")
        self._found_reported = {self.by_item[r["item_id"]] for r in found
                                if r["item_id"] in self.by_item
                                and r["seq"] > missing.get(r["item_id"], r["seq"])}

    def _index_piece(self, piece: Piece) -> None:
        old = self.by_item.get(piece.item_id)
        if old is not None and old != piece.epc:
            self.index.pop(old, None)
        self.index[piece.epc] = piece
        self.by_item[piece.item_id] = piece.epc
        if piece.status == "missing":
            self._missing.add(piece.epc)
        else:
            self._missing.discard(piece.epc)
            self._found_reported.discard(piece.epc)

    async def _load_open_counts(self) -> None:
        rows = await self.ledger.fetch("SELECT count_id, kind, scope, day, started_ts"
                                       " FROM counts WHERE status = ?", (CountStatus.OPEN,))
        for row in rows:
            scope = json.loads(row["scope"]) if row["scope"] is not None else None
            session = CountSession(row["count_id"], row["kind"],
                                   frozenset(scope) if scope is not None else None,
                                   row["day"], row["started_ts"],
                                   started_at=_parse_ts(row["started_ts"]))
            for r in await self.ledger.fetch("SELECT device, location FROM count_sweeps"
                                             " WHERE count_id = ? ORDER BY seq",
                                             (session.count_id,)):
                session.sweeps[r["device"]] = r["location"]
                self._sweep(r["device"], r["location"])
            for r in await self.ledger.fetch("SELECT epc, location, reads FROM count_reads"
                                             " WHERE count_id = ?", (session.count_id,)):
                session.seen.setdefault(r["epc"], {})[r["location"] or None] = r["reads"]
                session.reads += r["reads"]
            for r in await self.ledger.fetch("SELECT device, reads, last_ts FROM count_readers"
                                             " WHERE count_id = ?", (session.count_id,)):
                session.readers[r["device"]] = Reader(r["reads"], r["last_ts"] or 0.0)
            session.retally(self.index)
            self.sessions[session.count_id] = session
            log.info("count resumed", extra={"count_id": session.count_id,
                                             "tags": len(session.seen)})
        self._set_active()

    def _set_active(self) -> None:
        self._active = tuple(self.sessions.values())
        if not self._active:
            self._valid.clear()

    # -- ingestion (synchronous bus listeners: the hot path) -------------------------------

    def _on_rfid(self, event: Event) -> None:
        d = event.data
        self.ingest(d.get("epc"), d.get("location"), d.get("device"), d.get("rssi_cdbm"),
                    d.get("antenna"))

    def ingest(self, epc: Any, location: str | None, device: str | None,
               rssi: int | None = None, antenna: int | None = None) -> bool:
        """Take one tag read; False when it was refused (and counted as such)."""
        if epc not in self._valid:
            if not (isinstance(epc, str) and _EPC.fullmatch(epc)):
                try:  # tolerate lower case or a 0x prefix; refuse anything else
                    epc = normalise_epc(epc)
                except EpcError as exc:
                    self._reject("corrupt_epc", f"reader {device}: {str(exc)[:120]}")
                    return False
            elif self._active:
                self._valid.add(self._own(epc))
        if self._finding and epc in self._finding:
            self._gauge(epc, rssi, device, antenna, location)
        if epc in self._missing and epc not in self._found_reported:
            self._found(epc, location or self._sweeps.get(device), device)
        if not self._active:
            return True
        if not location:
            location = self._sweeps.get(device)
        now = self.clock()
        for session in self._active:
            session.reads += 1
            reader = session.readers.get(device or "?")
            if reader is None:
                reader = session.readers[device or "?"] = Reader()
            reader.reads += 1
            reader.last = now
            if reader.state is not _READING:
                reader.state = _READING
                session.changed = True
            if location is None:
                session.unlocated_reads += 1
            seen = session.seen.get(epc)
            if seen is None:
                epc = self._own(epc)
                session.seen[epc] = {location: 1}
            elif location in seen:
                seen[location] += 1
                session.dirty.add(epc)
                continue
            else:
                seen[location] = 1
            session.dirty.add(epc)
            session.note(epc, location, self.index.get(epc))
        return True

    def _own(self, epc: str) -> str:
        # A read's EPC is a new string each time; a count keeps every tag it read once, so
        # it keeps the piece's own copy (measured: ~60 bytes a tag, 6 MB on 100,000 tags).
        piece = self.index.get(epc)
        return epc if piece is None else piece.epc

    def _sweep(self, device: str, location: str) -> None:
        # A register's scanner lent to a count counts pieces; it no longer rings them up.
        self._sweeps[device] = location
        self.store.registers.lend(device)

    def _on_scan(self, event: Event) -> None:
        """Barcode fallback: a scanner the operator assigned to a sweep counts like a reader;
        any other scanner (a register's) is none of the count's business."""
        d = event.data
        device = d.get("device")
        if device not in self._sweeps:
            return
        code = d.get("code")
        if not isinstance(code, str) or not code.strip():
            self._reject("bad_barcode", f"scanner {device}: empty barcode")
            return
        code = code.strip()
        epc = self.by_item.get(code)
        if epc is None and _EPC.fullmatch(code.upper()):
            epc = code.upper()
        if epc is None:
            self._reject("unknown_barcode",
                         f"scanner {device}: {code[:40]!r} is neither a piece's serial nor an EPC")
            return
        self.ingest(epc, None, device)

    def _on_device_state(self, event: Event) -> None:
        """A reader dropping (unplugged, out of Bluetooth range) keeps every read it gave;
        the count shows it as dropped until it reads again."""
        d = event.data
        device, state = d.get("device"), str(d.get("state", "")).lower()
        if state in _NOT_READING:
            for session in self._active:
                reader = session.readers.get(device)
                if reader is not None:
                    reader.state = ReaderState.DROPPED
                    session.changed = True

    def _reject(self, reason: str, message: str) -> None:
        if self.rejected[reason] % 1000 == 0:  # log the first, then one in a thousand
            log.warning("read refused: %s", message, extra={"reason": reason})
        self.rejected[reason] += 1
        self.last_rejection = message
        for session in self._active:
            session.changed = True

    def _gauge(self, epc: str, rssi: int | None, device: str | None, antenna: int | None,
               location: str | None) -> None:
        now = time.monotonic()
        if now - self._finding[epc] < self.settings.find_interval_s:
            return
        self._finding[epc] = now
        piece = self.index.get(epc)
        self.bus.publish("count.find", epc=epc, item_id=piece.item_id if piece else None,
                         rssi_cdbm=rssi, device=device, antenna=antenna, location=location)

    def _found(self, epc: str, location: str | None, device: str | None) -> None:
        self._found_reported.add(epc)
        piece = self.index[epc]
        count_id = next((s.count_id for s in self._active), None)
        payload = {"item_id": piece.item_id, "epc": epc, "location": location,
                   "device": device, "count_id": count_id}
        self._spawn(self._record_found(piece, payload))

    async def _record_found(self, piece: Piece, payload: dict[str, Any]) -> None:
        def command(tx: Tx) -> int:
            if self.items.status_in(tx, piece.item_id) != "missing":
                return 0
            return tx.append("count.piece_found", f"item:{piece.item_id}", payload,
                             actor="counts").seq

        try:
            seq = await self.ledger.transact(command)
        except Exception:
            self._found_reported.discard(piece.epc)  # try again at its next read
            log.exception("could not record a found piece", extra={"item_id": piece.item_id})
            return
        if seq:
            self.bus.publish("count.found", seq=seq, description=piece.description,
                             tag_price=piece.tag_price, **payload)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    def _on_journal(self, event: Event) -> None:
        """Keep the index where the books are: a status or a move exactly and at once (a
        read right after must see it), anything else by reading the piece again."""
        for change in piece_changes(event.data.get("kind", ""), event.data.get("payload")):
            epc = self.by_item.get(change.item_id)
            if epc is None or change.fields:
                self._stale_items.add(change.item_id)
                continue
            piece = self.index[epc]
            if change.status is not None:
                piece = piece._replace(status=change.status)
            if change.location is not None:
                piece = piece._replace(location=change.location)
            self._reindex_piece(piece)

    def _reindex_piece(self, piece: Piece) -> None:
        """Index one changed piece and move its tag's share of each open count's tally. A
        piece given a new tag is rare: the loop retallies then."""
        old_epc = self.by_item.get(piece.item_id)
        old = self.index.get(piece.epc)
        self._index_piece(piece)
        if (old_epc is not None and old_epc != piece.epc) or (
                old is not None and old.item_id != piece.item_id):
            self._retally_due = True
            return
        for session in self._active:
            session.repiece(piece.epc, old, piece)

    def _on_rebuilt(self, event: Event) -> None:
        """The pieces' projection was replayed: read every tagged piece again (the loop
        does it, so a read arriving meanwhile still finds the index)."""
        self._reindex_due = True

    # -- the background loop: progress, flushes, refreshes, overnight ----------------------

    async def _run(self) -> None:
        last_flush = last_expiry = time.monotonic()
        while True:
            await asyncio.sleep(self.settings.progress_interval_s)
            try:
                if self._reindex_due:
                    self._reindex_due = False
                    await self._load_index()
                    self._retally_due = True
                if self._stale_items:
                    await self._refresh_items()
                if self._retally_due:
                    self._retally_due = False
                    for session in self._active:
                        session.retally(self.index)
                self.publish_progress()
                now = time.monotonic()
                if now - last_flush >= self.settings.flush_interval_s:
                    last_flush = now
                    await self.flush()
                if now - last_expiry >= EXPIRY_CHECK_S:
                    last_expiry = now
                    await self.expire_overnight()
            except asyncio.CancelledError:
                raise
            except Exception:  # the loop must survive a bad moment (disk full, a bug)
                log.exception("counts loop failed; retrying")

    async def _refresh_items(self) -> None:
        ids, self._stale_items = self._stale_items, set()
        for row in await self.items.tagged(PIECE_COLUMNS, ids):
            self._reindex_piece(Piece(*row))

    def publish_progress(self, force: bool = False) -> None:
        now = time.monotonic()
        for session in self._active:
            last = self._last_progress.get(session.count_id, 0.0)
            if not (force or session.changed or now - last >= HEARTBEAT_S):
                continue
            session.changed = False
            self._last_progress[session.count_id] = now
            self.bus.publish("count.progress", **self.progress(session))

    def progress(self, session: CountSession) -> dict[str, Any]:
        return {**session.progress(), "rejected": dict(self.rejected),
                "last_rejection": self.last_rejection}

    async def flush(self) -> int:
        """Write the reads taken since the last flush; on failure they stay queued."""
        rows: list[tuple[str, str, str, int]] = []
        readers: list[tuple[str, str, int, float]] = []
        taken: list[tuple[CountSession, set[str]]] = []
        for session in self.sessions.values():
            if not session.dirty:
                continue
            dirty, session.dirty = session.dirty, set()
            taken.append((session, dirty))
            for epc in dirty:
                rows.extend((session.count_id, epc, loc or "", n)
                            for loc, n in session.seen[epc].items())
            readers.extend((session.count_id, d, r.reads, r.last)
                           for d, r in session.readers.items())
        if not rows:
            return 0

        def command(tx: Tx) -> None:
            tx.conn.executemany(
                "INSERT INTO count_reads (count_id, epc, location, reads) VALUES (?,?,?,?)"
                " ON CONFLICT DO UPDATE SET reads = excluded.reads", rows)
            tx.conn.executemany(
                "INSERT INTO count_readers (count_id, device, reads, last_ts) VALUES (?,?,?,?)"
                " ON CONFLICT DO UPDATE SET reads = excluded.reads, last_ts = excluded.last_ts",
                readers)

        try:
            await self.ledger.transact(command)
        except Exception:
            for session, dirty in taken:
                session.dirty |= dirty
            raise
        return len(rows)

    # -- commands --------------------------------------------------------------------------

    def get_session(self, count_id: str) -> CountSession:
        session = self.sessions.get(count_id)
        if session is None:
            raise NotFound("no open count {count_id}", count_id=count_id)
        return session

    @_after_load
    async def start_count(self, kind: str, scope: list[str] | None, actor: str,
                          *, now: float | None = None) -> dict[str, Any]:
        """Start a count of `kind` over `scope` (locations; None for the whole store)."""
        fields.choice(kind, "kind", KINDS, required=True, lower=False, vocabulary="count_kind")
        if scope is not None:
            if not isinstance(scope, list) or not scope:
                raise Invalid("give the locations to count, or none for the whole store",
                              "scope")
            scope = sorted({_name(loc, "scope") for loc in scope})
        if kind == "full" and scope is not None:
            raise Invalid("a full count covers the whole store: give no locations", "scope")
        scope_set = frozenset(scope) if scope is not None else None
        now = self.clock() if now is None else now
        day = business_day(now, self.timezone)
        async with self._start_lock:
            for other in self.sessions.values():
                if other.overlaps(scope_set):
                    if scope_set is not None and other.scope is not None:
                        raise Refused("count_overlap", "count {count_id} ({kind}, started"
                                      " {started}) is already counting {where}: close it first,"
                                      " or count other locations", count_id=other.count_id,
                                      kind=Term("count_kind", other.kind),
                                      started=other.started_ts,
                                      where=Listing(tuple(sorted(scope_set & other.scope))))
                    raise Refused("count_overlap", "count {count_id} ({kind}, started {started})"
                                  " is already counting the whole store: close it first",
                                  count_id=other.count_id, kind=Term("count_kind", other.kind),
                                  started=other.started_ts)

            def command(tx: Tx) -> tuple[str, str]:
                n = tx.one("SELECT COUNT(*) FROM counts WHERE day = ?", (day,))[0]
                count_id = f"C{day.replace('-', '')}-{n + 1:02d}"
                entry = tx.append("count.started", f"count:{count_id}",
                                  {"count_id": count_id, "kind": kind, "scope": scope,
                                   "day": day}, actor=actor)
                return count_id, entry.ts

            count_id, ts = await self.ledger.transact(command)
            session = CountSession(count_id, kind, scope_set, day, ts, started_at=now)
            session.retally(self.index)
            self.sessions[count_id] = session
            self._set_active()
        self.publish_progress(force=True)
        return self.progress(session)

    @_after_load
    async def sweep(self, count_id: str, device: str, location: str, actor: str) -> None:
        """A handheld or scanner (no location of its own) now sweeps `location`."""
        session = self.get_session(count_id)
        device = _name(device, "device")
        location = _name(location, "location")
        if session.scope is not None and location not in session.scope:
            raise Refused("out_of_scope", "{location} is not counted by {count_id} (it counts"
                          " {scope})", location=location, count_id=count_id,
                          scope=Listing(tuple(sorted(session.scope))))
        await self.ledger.transact(lambda tx: tx.append(
            "count.sweep", f"count:{count_id}",
            {"count_id": count_id, "device": device, "location": location}, actor=actor))
        session.sweeps[device] = location
        self._sweep(device, location)
        session.changed = True

    @_after_load
    async def close(self, count_id: str, actor: str, *,
                    outcome: CountStatus = CountStatus.CLOSED, note: str = "") -> dict[str, Any]:
        """End a count with ONE journal entry holding its reconciliation."""
        outcome = CountStatus(outcome)
        if outcome == CountStatus.OPEN:
            raise ValueError("a count closes as closed, expired or cancelled")
        session = self.get_session(count_id)
        self.sessions.pop(count_id)
        self._set_active()  # no more reads into it from here
        try:
            await self.flush()
            payload = await self.ledger.transact(
                lambda tx: self._close_in(tx, session, actor, outcome, note))
        except BaseException:
            self.sessions[count_id] = session
            self._set_active()
            raise
        for device in session.sweeps:
            if not any(device in s.sweeps for s in self.sessions.values()):
                self._sweeps.pop(device, None)
                self.store.registers.give_back(device)
        self._last_progress.pop(count_id, None)
        self.bus.publish("count.closed", **{k: v for k, v in payload.items() if k != "result"},
                         summary={k: v for k, v in payload["result"].items()
                                  if not isinstance(v, list | dict)})
        return payload

    def _close_in(self, tx: Tx, session: CountSession, actor: str, outcome: CountStatus,
                  note: str) -> dict[str, Any]:
        # Runs on the ledger's writer thread: the books as of this transaction, and the
        # session's reads (no longer changing), reconciled off the event loop.
        pieces = [Piece(*r) for r in self.items.tagged_in(tx, PIECE_COLUMNS)]
        holds = self.store.holds  # a piece out on a tray is not missing: say where it is
        held = {h["item_id"]: holds.where(h) for h in holds.all_in(tx)}
        result: Result = reconcile(pieces, session.seen, session.scope, held)
        payload = {
            "count_id": session.count_id, "kind": session.kind, "scope": session.scope_list,
            "day": session.day, "outcome": outcome, "note": note,
            "started_ts": session.started_ts,
            "duration_s": max(0, round(self.clock() - session.started_at)),
            "readers": sorted(session.readers), "sweeps": dict(session.sweeps),
            "reads": session.reads, "tags": len(session.seen), "currency": self.currency,
            "result": result.payload(),
        }
        tx.append("count.closed", f"count:{session.count_id}", payload, actor=actor)
        tx.execute("DELETE FROM count_reads WHERE count_id = ?", (session.count_id,))
        tx.execute("DELETE FROM count_readers WHERE count_id = ?", (session.count_id,))
        return payload

    async def expire_overnight(self, now: float | None = None) -> list[str]:
        """Close, as `expired`, every count started on an earlier day than today: its reads
        are kept in its result, but a partial count is not the morning's count."""
        today = business_day(self.clock() if now is None else now, self.timezone)
        expired = []
        for session in list(self.sessions.values()):
            if session.day < today:
                await self.close(session.count_id, "system", outcome=CountStatus.EXPIRED,
                                 note=f"left open overnight: started on {session.day},"
                                      f" expired on {today}")
                expired.append(session.count_id)
                log.warning("count left open overnight expired",
                            extra={"count_id": session.count_id, "day": session.day})
        return expired

    async def _closed_count(self, count_id: str) -> Any:
        row = await self.ledger.fetch_one("SELECT * FROM counts WHERE count_id = ?", (count_id,))
        if row is None:
            raise NotFound("no count {count_id}", count_id=count_id)
        if row["status"] != CountStatus.CLOSED:
            why = {CountStatus.OPEN: N_("count {count_id} is still open: close it first"),
                   CountStatus.EXPIRED: N_("count {count_id} expired after being left open"
                                           " overnight: its result is partial; run a new"
                                           " count"),
                   CountStatus.CANCELLED: N_("count {count_id} was cancelled")}
            raise Refused("count_not_closed", why.get(row["status"], why[CountStatus.CANCELLED]),
                          count_id=count_id)
        return row

    async def _discrepancies(self, count_id: str, kind: str,
                             item_ids: list[str] | None) -> list[Any]:
        rows = await self.ledger.fetch(
            "SELECT * FROM count_discrepancies WHERE count_id = ? AND kind = ?"
            " AND resolved_seq IS NULL ORDER BY item_id", (count_id, kind))
        if item_ids is None:
            return rows
        have = {r["item_id"]: r for r in rows}
        unknown = [i for i in item_ids if i not in have]
        if unknown:
            message = (N_("“{item_id}” is not an open missing piece of count {count_id}")
                       if kind == "missing" else
                       N_("“{item_id}” is not an open misplaced piece of count {count_id}"))
            raise Invalid(message, "item_ids", item_id=unknown[0], count_id=count_id)
        return [have[i] for i in item_ids]

    @_after_load
    async def confirm_missing(self, count_id: str, actor: str,
                              item_ids: list[str] | None = None) -> dict[str, Any]:
        """A manager confirms the count's missing pieces: each becomes `missing` (one
        `item.status` entry each, ref `count:<id>`), all in one transaction."""
        await self._closed_count(count_id)
        rows = await self._discrepancies(count_id, "missing", item_ids)
        items = self.store.items

        def command(tx: Tx) -> dict[str, Any]:
            confirmed, skipped = [], []
            for row in rows:
                status = items.status_in(tx, row["item_id"])
                if status not in IN_STORE:
                    skipped.append({"item_id": row["item_id"],
                                    "reason": f"is {status or 'gone'} since the count"})
                    continue
                items.change_status_in(tx, row["item_id"], "missing", actor,
                                       ref=f"count:{count_id}",
                                       reason=f"not read by count {count_id}")
                confirmed.append(row["item_id"])
            return {"confirmed": confirmed, "skipped": skipped}

        return await self.ledger.transact(command)

    @_after_load
    async def move_misplaced(self, count_id: str, actor: str,
                             item_ids: list[str] | None = None) -> dict[str, Any]:
        """Move misplaced pieces to where the count found them, in one action."""
        await self._closed_count(count_id)
        rows = await self._discrepancies(count_id, "misplaced", item_ids)
        outcomes = await asyncio.gather(
            *(self.store.items.move(r["item_id"], r["found_location"], actor) for r in rows),
            return_exceptions=True)
        moved, skipped = [], []
        for row, outcome in zip(rows, outcomes, strict=True):
            if isinstance(outcome, Refused):
                skipped.append({"item_id": row["item_id"], "reason": str(outcome)})
            elif isinstance(outcome, BaseException):
                raise outcome
            else:
                moved.append({"item_id": row["item_id"], "location": row["found_location"]})
        return {"moved": moved, "skipped": skipped}

    # -- what the screens read --------------------------------------------------------------

    @_after_load
    async def overview(self) -> dict[str, Any]:
        """Open counts with their live progress, and the recent ones."""
        return {"open": [self.progress(s) for s in self.sessions.values()],
                "recent": await reports.counts_list(self.ledger, limit=30)}

    @_after_load
    async def detail(self, count_id: str) -> dict[str, Any]:
        """A count: live progress while open, its result and discrepancies once closed."""
        session = self.sessions.get(count_id)
        if session is not None:
            return {**self.progress(session), "status": CountStatus.OPEN}
        return await reports.count_detail(self.ledger, self.items, count_id)

    def not_yet_read(self, count_id: str, limit: int = 500) -> dict[str, Any]:
        """The pieces an open count has not read yet, by location (the first `limit`)."""
        session = self.get_session(count_id)
        pieces = sorted((p for p in self.index.values()
                         if session.expects(p) and p.epc not in session.found),
                        key=lambda p: (p.location, p.item_id))
        return {"count_id": session.count_id, "total": len(pieces), "missing": [
            {"item_id": p.item_id, "description": p.description, "location": p.location,
             "category": p.category, "tag_price": p.tag_price} for p in pieces[:limit]]}

    @_after_load
    async def report(self, since: str | None, until: str | None) -> dict[str, Any]:
        """Accuracy over time, shrinkage and the locations with most discrepancies."""
        return {"currency": self.currency,
                "accuracy": await reports.accuracy(self.ledger, since=since, until=until),
                "shrinkage": await reports.shrinkage(self.ledger, since=since, until=until),
                "locations": await reports.hot_locations(self.ledger, since=since, until=until)}

    @_after_load
    async def day(self, day: str) -> dict[str, Any]:
        return await reports.day_record(self.ledger, day)

    # -- find a piece ----------------------------------------------------------------------

    def find(self, what: str) -> dict[str, Any]:
        """Follow one tag's signal strength (`count.find` events) until `stop_finding`."""
        epc = self.by_item.get(what)
        if epc is None:
            try:
                epc = normalise_epc(what)
            except EpcError:
                raise Invalid("“{value}” is neither a piece's serial nor an RFID tag", "piece",
                              value=what) from None
        self._finding[epc] = 0.0
        piece = self.index.get(epc)
        return {"epc": epc, "item_id": piece.item_id if piece else None,
                "description": piece.description if piece else None,
                "location": piece.location if piece else None}

    def stop_finding(self, epc: str) -> None:
        self._finding.pop(epc, None)


def _parse_ts(ts: str) -> float:
    try:
        return datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
            tzinfo=ZoneInfo("UTC")).timestamp()
    except ValueError:
        return time.time()
