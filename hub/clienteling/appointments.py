"""Appointments: a client booked with an associate in a salon, moved through the stage
machine (booked, confirmed, arrived, done; no-show, cancelled), and the tray of pieces pulled
for her (area `appointments`).

- **Booking** refuses, with a sentence and nothing written: a start in the past, an end
  before the start, an unknown client, associate or salon, and a slot that overlaps another
  appointment of the same associate or in the same salon (the refusal names who holds the
  slot: "Sophie Martin has a private viewing from 14:00 to 15:00"; never the client). A
  cancelled or no-show appointment frees its slot; touching (one ends at 15:00, the next
  starts at 15:00) is fine. The check runs inside the writer's transaction, so two tablets
  booking the same slot at once cannot both win.
- **Stages** are `MACHINE` (`hub.core.stages`): each move one `appointment.moved` entry
  with who, when and its note.
- **Notes** are personal (an appointment note is about the client: "looking for her 40th"),
  so a booking's note and a move's note are each an `appointment.note` entry sealed under
  the client's key, and the appointment keeps only that entry's seq: erasing her makes the
  notes unreadable and leaves the appointment (opaque ids, times) as it was, and a rebuild
  replays it the same.
- **Trays**: `pull` puts pieces on the appointment's tray (labelled T1..Tn, the lowest free
  one unless a label is given) and holds each (`hub.core.holds`) in one transaction: a sold,
  an away or an already held piece refuses the whole tray. `close_tray` releases every piece
  still held and says which showcase each goes back to. An appointment that ends (done,
  no-show, cancelled) with its tray out closes the tray in the same transaction: a tray left
  out after the client has gone would keep its pieces held (a sale asking for confirmation,
  a count reporting them on a tray) when they are back in their showcases.

Times are kept in UTC (`YYYY-MM-DDTHH:MM:SSZ`, so text order is time order) and read and
shown in the store's time zone.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from hub.clienteling.rules import FollowUp, Rules, appointment_followups
from hub.config import Config, ConfigError
from hub.core import fields
from hub.core.errors import Invalid, NotFound, Refused
from hub.core.fields import Form
from hub.core.holds import clock
from hub.core.items import row_dict, row_dicts
from hub.core.stages import Move, StageMachine, record_move
from hub.documents import Document
from hub.ledger.journal import Entry
from hub.ledger.ledger import Tx
from hub.ledger.schema import Migration, Schema
from hub.words import N_, Term

if TYPE_CHECKING:  # the layer declares this area: no import of the store at load
    from hub.store import Store

BOOK, MANAGE = "appointments.book", "appointments.manage"
PERMISSIONS = {
    BOOK: N_("Book appointments, move them along and prepare their trays"),
    MANAGE: N_("Reopen an appointment marked cancelled or no-show"),
}
GRANTS = {"associate": (BOOK,), "manager": (BOOK, MANAGE)}

KINDS = ("private_viewing", "consultation", "bridal", "repair_pickup", "custom_order")
MACHINE = StageMachine(
    "appointment",
    stages=("booked", "confirmed", "arrived", "done", "no_show", "cancelled"),
    initial="booked",
    moves=(
        Move("confirm", ("booked",), "confirmed", BOOK),
        Move("arrive", ("booked", "confirmed"), "arrived", BOOK),
        Move("finish", ("arrived",), "done", BOOK),
        Move("no_show", ("booked", "confirmed"), "no_show", BOOK),
        Move("cancel", ("booked", "confirmed"), "cancelled", BOOK, needs_note=True),
        Move("reopen", ("cancelled", "no_show"), "booked", MANAGE, needs_note=True),
    ),
    vocabulary="appointment_status", move_vocabulary="appointment_move")
FREE = ("cancelled", "no_show")  # stages that leave the slot to others
OVER = ("done", "cancelled", "no_show")  # the tray goes back with these
MAX_MINUTES = 12 * 60
MAX_PIECES = 30
_TRAY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 .-]{0,11}$")
_STAMP = "%Y-%m-%dT%H:%M:%SZ"

SCHEMA = Schema("appointments", (Migration(1, """
CREATE TABLE appointments (
    appointment_id TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,             -- private_viewing | consultation | bridal ...
    client_id   TEXT NOT NULL,             -- opaque: her name lives in her profile only
    associate   TEXT NOT NULL,             -- staff id on the roster
    salon       TEXT NOT NULL,
    start_ts    TEXT NOT NULL,             -- UTC, YYYY-MM-DDTHH:MM:SSZ
    end_ts      TEXT NOT NULL,
    status      TEXT NOT NULL,             -- a stage of the appointment machine
    note_seq    INTEGER,                   -- the note's entry, sealed under her key
    booked_seq  INTEGER NOT NULL,
    booked_by   TEXT NOT NULL,
    updated_seq INTEGER NOT NULL
);
CREATE INDEX appointments_start ON appointments(start_ts);
CREATE INDEX appointments_associate ON appointments(associate, start_ts);
CREATE INDEX appointments_salon ON appointments(salon, start_ts);
CREATE INDEX appointments_client ON appointments(client_id, start_ts);

CREATE TABLE appointment_moves (
    seq        INTEGER PRIMARY KEY,
    thing_id   TEXT NOT NULL,
    move       TEXT NOT NULL,
    from_stage TEXT NOT NULL,
    to_stage   TEXT NOT NULL,
    ts         TEXT NOT NULL,
    actor      TEXT NOT NULL,
    note       TEXT,
    note_seq   INTEGER
);
CREATE INDEX appointment_moves_of ON appointment_moves(thing_id, seq);

CREATE TABLE appointment_trays (
    appointment_id TEXT PRIMARY KEY,
    tray       TEXT NOT NULL,              -- T1..Tn, the physical tray
    status     TEXT NOT NULL,              -- open | closed
    opened_seq INTEGER NOT NULL,
    closed_seq INTEGER
);
CREATE UNIQUE INDEX appointment_trays_out ON appointment_trays(tray) WHERE status = 'open';

CREATE TABLE appointment_tray_pieces (
    appointment_id TEXT NOT NULL,
    item_id       TEXT NOT NULL,
    from_location TEXT NOT NULL,           -- the showcase it came from, and goes back to
    pulled_seq    INTEGER NOT NULL,
    returned_seq  INTEGER,                 -- the tray closed with it back in its showcase
    PRIMARY KEY (appointment_id, item_id)
);
"""),), projections=("appointments", "appointment_moves", "appointment_trays",
                     "appointment_tray_pieces"))


# -- settings -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class AppointmentSettings:
    """`[appointments]` in loupe.toml (every key optional)."""

    salons: tuple[str, ...] = ("Salon 1", "Salon 2")
    trays: int = 8              # the store's trays, T1 to T8
    default_minutes: int = 60   # a booking's length when none is given


def settings_of(config: Config) -> AppointmentSettings:
    """From the store config; a problem names `appointments.<key>`, an unknown key is
    refused."""
    section = config.section("appointments")
    d = AppointmentSettings()
    salons = tuple(s.strip() for s in section.texts("salons", d.salons))
    if not salons or any(not s or len(s) > 40 or not s.isprintable() for s in salons) \
            or len(set(salons)) != len(salons):
        raise ConfigError("appointments.salons: must be a list of distinct salon names"
                          f" (1-40 characters each), got {list(salons)!r}")
    settings = AppointmentSettings(
        salons=salons, trays=section.whole("trays", d.trays, 1, 99),
        default_minutes=section.whole("default_minutes", d.default_minutes, 5, MAX_MINUTES))
    section.done()
    return settings


# -- times --------------------------------------------------------------------------------------

def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(_STAMP)


def moment_of(ts: str) -> datetime:
    return datetime.strptime(ts, _STAMP).replace(tzinfo=UTC)


def parse_moment(value: Any, field: str, tz: Any) -> datetime:
    """A moment as a form or the API sends it: `2026-12-04T15:00` in the store's time (or
    with its offset); seconds are dropped (appointments are by the minute)."""
    raw = fields.text(value, field, required=True, max_len=40) or ""
    try:
        moment = datetime.fromisoformat(raw)
        if not 2000 <= moment.year <= 2200:
            raise ValueError
    except ValueError:
        raise Invalid("“{value}” is not a date and time (YYYY-MM-DDTHH:MM)", field,
                      value=raw) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.replace(second=0, microsecond=0).astimezone(UTC)


# -- projections --------------------------------------------------------------------------------

def _on_booked(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute("INSERT INTO appointments (appointment_id, kind, client_id, associate, salon,"
               " start_ts, end_ts, status, note_seq, booked_seq, booked_by, updated_seq)"
               " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
               (p["appointment_id"], p["kind"], p["client_id"], p["associate"], p["salon"],
                p["start"], p["end"], MACHINE.initial, p.get("note_seq"), entry.seq,
                entry.actor, entry.seq))


def _on_moved(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute("UPDATE appointments SET status = ?, updated_seq = ? WHERE appointment_id = ?",
               (p["to"], entry.seq, p["id"]))
    record_move(tx, "appointment_moves", entry, p)


def _on_tray_pulled(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute("INSERT INTO appointment_trays (appointment_id, tray, status, opened_seq)"
               " VALUES (?, ?, 'open', ?) ON CONFLICT(appointment_id) DO UPDATE SET"
               " tray = excluded.tray, closed_seq = NULL, opened_seq = CASE WHEN status ="
               " 'open' THEN opened_seq ELSE excluded.opened_seq END, status = 'open'",
               (p["appointment_id"], p["tray"], entry.seq))
    tx.conn.executemany(
        "INSERT INTO appointment_tray_pieces (appointment_id, item_id, from_location,"
        " pulled_seq) VALUES (?,?,?,?) ON CONFLICT(appointment_id, item_id) DO UPDATE SET"
        " from_location = excluded.from_location, pulled_seq = excluded.pulled_seq,"
        " returned_seq = NULL",
        [(p["appointment_id"], piece["item_id"], piece["location"], entry.seq)
         for piece in p["pieces"]])


def _on_tray_closed(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute("UPDATE appointment_trays SET status = 'closed', closed_seq = ?"
               " WHERE appointment_id = ?", (entry.seq, p["appointment_id"]))
    tx.conn.executemany(
        "UPDATE appointment_tray_pieces SET returned_seq = ? WHERE appointment_id = ?"
        " AND item_id = ?", [(entry.seq, p["appointment_id"], piece["item_id"])
                             for piece in p["pieces"]])


def _on_merged(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None  # a merged client's appointments are the kept client's
    tx.execute("UPDATE appointments SET client_id = ? WHERE client_id = ?",
               (p["client_id"], p["merged_id"]))


PROJECTIONS = {
    "client.merged": _on_merged,
    "appointment.booked": _on_booked,
    MACHINE.moved_kind: _on_moved,
    "appointment.tray_pulled": _on_tray_pulled,
    "appointment.tray_closed": _on_tray_closed,
}


def _serials(value: Any, field: str) -> list[str]:
    if not isinstance(value, list) or not value:
        raise Invalid("give the serials of the pieces to pull, as a list", field)
    if len(value) > MAX_PIECES:
        raise Invalid("a tray holds at most {max} pieces", field, max=MAX_PIECES)
    out, problems = [], []
    for i, raw in enumerate(value):
        try:
            serial = fields.identifier(raw, f"{field}[{i}]", what="a serial") or ""
        except Invalid as exc:
            problems += exc.problems
            continue
        if serial in out:
            where = f"{field}[{i}]"
            problems.append(Invalid("piece {item_id} is twice in the list", where,
                                    item_id=serial))
        out.append(serial)
    if problems:
        raise Invalid.many(problems)
    return out


# -- the service --------------------------------------------------------------------------------

class Appointments:
    """The store's appointments and their trays."""

    def __init__(self, store: Store, settings: AppointmentSettings | None = None) -> None:
        self.store, self.ledger = store, store.ledger
        self.settings = settings or AppointmentSettings()
        self.words = store.words
        self.now: Callable[[], datetime] = lambda: datetime.now(UTC)  # tests move it

    @property
    def tz(self) -> Any:
        return self.words.tz

    def today(self) -> date:
        return self.now().astimezone(self.tz).date()

    def _may(self, actor: str) -> Callable[[str], bool]:
        return self.store.staff.may(actor)

    def _name(self, staff_id: str) -> str:
        member = self.store.staff.get(staff_id)
        return member.name if member and member.name else staff_id

    # -- booking ----------------------------------------------------------------------------

    async def book(self, raw: Any, *, actor: str) -> dict[str, Any]:
        """Book an appointment: `kind`, `client_id`, `associate`, `salon`, `start` and
        `end` or `duration_min`, and a `note`. Every problem of the form at once."""
        f = Form(raw, allowed=("kind", "client_id", "associate", "salon", "start", "end",
                               "duration_min", "note"))
        kind = f.choice("kind", KINDS, required=True, vocabulary="appointment_kind",
                        lower=False)
        client_id = f.identifier("client_id", what="a client id")
        associate = f.identifier("associate", what="a staff id")
        salon = f.choice("salon", self.settings.salons, required=True, lower=False)
        start = f.check(parse_moment, f.get("start"), "start", self.tz)
        end = None
        if f.get("end") not in (None, ""):
            end = f.check(parse_moment, f.get("end"), "end", self.tz)
        else:
            minutes = f.whole("duration_min", lo=5, hi=MAX_MINUTES)
            if start is not None:
                end = start + timedelta(minutes=minutes or self.settings.default_minutes)
        note = f.text("note", max_len=500, multiline=True)
        if start is not None and end is not None:
            if end <= start:
                f.problem("end", "the end must come after the start")
            elif end - start > timedelta(minutes=MAX_MINUTES):
                f.problem("end", "an appointment lasts at most {hours} hours",
                          hours=MAX_MINUTES // 60)
        if start is not None and start < self.now().replace(second=0, microsecond=0):
            f.problem("start", "this is in the past: appointments are booked from now on")
        if associate:
            member = self.store.staff.get(associate)
            if member is None or member.status != "active":
                f.problem("associate", "“{staff_id}” is not on the staff roster",
                          staff_id=associate)
        if client_id and not await self._active_client(client_id):
            f.problem("client_id", "no client {client_id}", client_id=client_id)
        f.done()
        assert kind and client_id and associate and salon and start and end
        booked = {"kind": kind, "client_id": client_id, "associate": associate,
                  "salon": salon, "start": stamp(start), "end": stamp(end)}

        def command(tx: Tx) -> Entry:
            self._check_free(tx, booked)
            appointment_id = f"A{tx.seq + 1}"  # the seq of its first entry: never reused
            subject = f"appointment:{appointment_id}"
            note_seq = None
            if note:
                note_seq = MACHINE.note_in(tx, subject, appointment_id, note, actor=actor,
                                           key_id=f"client:{client_id}").seq
            return tx.append("appointment.booked", subject,
                             {"appointment_id": appointment_id, **booked,
                              "note_seq": note_seq}, actor=actor)

        entry = await self.ledger.transact(command)
        return await self.get(entry.subject.split(":", 1)[1])

    async def _active_client(self, client_id: str) -> bool:
        try:
            return (await self.store.clients.get(client_id))["status"] == "active"
        except NotFound:
            return False

    def _check_free(self, tx: Tx, booked: dict[str, Any], but: str = "") -> None:
        """Refuse a slot that overlaps another live appointment of the same associate or in
        the same salon, naming the associate who holds it and what for (not the client)."""
        rows = tx.all(
            "SELECT * FROM appointments WHERE start_ts < ? AND end_ts > ? AND (associate = ?"
            " OR salon = ?) AND status NOT IN ('cancelled', 'no_show') AND appointment_id != ?"
            " ORDER BY associate != ?, start_ts",
            (booked["end"], booked["start"], booked["associate"], booked["salon"], but,
             booked["associate"]))
        if not rows:
            return
        other = rows[0]
        params = {"name": self._name(other["associate"]),
                  "kind": Term("appointment_kind", other["kind"]),
                  "start": clock(self.words, moment_of(other["start_ts"])),
                  "end": clock(self.words, moment_of(other["end_ts"]))}
        if other["associate"] == booked["associate"]:
            raise Refused("associate_busy", "{name} has a {kind} from {start} to {end}",
                          field="start", **params)
        raise Refused("salon_busy", "{salon} is taken from {start} to {end}: {name} has a"
                      " {kind} there", field="salon", salon=other["salon"], **params)

    # -- stages -----------------------------------------------------------------------------

    async def move(self, appointment_id: Any, move: Any, note: Any = None, *,
                   actor: str) -> dict[str, Any]:
        """Move an appointment on (confirm, arrived, done, no-show, cancel, reopen). One that
        ends with its tray out closes the tray in the same transaction."""
        current = await self._row(appointment_id)
        client_id = current["client_id"]
        may = self._may(actor)
        checked, note = MACHINE.check(current["status"], move, note, may=may)
        if note and not await self._active_client(client_id):
            raise Invalid("this client was erased: no note about her can be kept", "note")
        now = stamp(self.now())

        def command(tx: Tx) -> dict[str, Any] | None:
            row = row_dict(self._row_in(tx, current["appointment_id"]))
            if checked.target not in FREE and row["status"] in FREE:  # a reopened slot
                if row["start_ts"] < now:
                    raise Refused("in_the_past", "this appointment was due {when}: book a new"
                                  " one instead", when=self.words.when(row["start_ts"]))
                self._check_free(tx, {"associate": row["associate"], "salon": row["salon"],
                                      "start": row["start_ts"], "end": row["end_ts"]},
                                 but=row["appointment_id"])
            MACHINE.move_in(tx, subject=f"appointment:{row['appointment_id']}",
                            thing_id=row["appointment_id"], stage=row["status"],
                            name=checked.name, note=note, actor=actor, may=may,
                            note_key=f"client:{client_id}")
            if checked.target in OVER and self._open_tray_in(tx, row["appointment_id"]):
                return self._close_tray_in(tx, row, actor)
            return None

        closed = await self.ledger.transact(command)
        shown = await self.get(current["appointment_id"])
        if closed is not None:
            shown["tray_closed"] = await self._back(closed)
        return shown

    # -- trays ------------------------------------------------------------------------------

    def _open_tray_in(self, tx: Tx, appointment_id: str) -> Any:
        return tx.one("SELECT * FROM appointment_trays WHERE appointment_id = ?"
                      " AND status = 'open'", (appointment_id,))

    def _free_tray_in(self, tx: Tx) -> str:
        out = {r["tray"] for r in tx.all(
            "SELECT tray FROM appointment_trays WHERE status = 'open'")}
        for n in range(1, self.settings.trays + 1):
            if f"T{n}" not in out:
                return f"T{n}"
        raise Refused("no_tray_free", "every tray (T1 to T{last}) is out: close one first",
                      last=self.settings.trays)

    async def pull(self, appointment_id: Any, raw: Any, *, actor: str) -> dict[str, Any]:
        """Pull pieces onto the appointment's tray (`item_ids`; `tray`, its label, or the
        lowest free one): each is held for the appointment, all in one transaction, or none
        when one cannot be (sold, away, held already: named, and why)."""
        f = Form(raw, allowed=("item_ids", "tray"))
        item_ids = f.check(_serials, f.get("item_ids"), "item_ids")
        label = f.text("tray", max_len=12)
        if label and not _TRAY.match(label):
            f.problem("tray", "a tray is named by a short label such as T3")
        f.done()
        current = await self._row(appointment_id)

        def command(tx: Tx) -> str:
            row = row_dict(self._row_in(tx, current["appointment_id"]))
            ref = f"appointment:{row['appointment_id']}"
            if row["status"] in OVER:
                raise Refused("appointment_over", "this appointment is {status}: its tray"
                              " takes no more pieces",
                              status=Term("appointment_status", row["status"]))
            tray = self._open_tray_in(tx, row["appointment_id"])
            if tray is not None:
                if label and label != tray["tray"]:
                    raise Refused("tray_differs", "this appointment's tray is {tray}",
                                  field="tray", tray=tray["tray"])
                name = tray["tray"]
            elif label:
                taken = tx.one("SELECT appointment_id FROM appointment_trays WHERE tray = ?"
                               " AND status = 'open'", (label,))
                if taken is not None:
                    raise Refused("tray_taken", "tray {tray} is out for another appointment"
                                  " ({other})", field="tray", tray=label,
                                  other=taken["appointment_id"])
                name = label
            else:
                name = self._free_tray_in(tx)
            holds = self.store.holds
            pieces = [holds.holdable_in(tx, item_id) for item_id in item_ids or ()]
            tx.append("appointment.tray_pulled", ref,
                      {"appointment_id": row["appointment_id"], "tray": name,
                       "pieces": [{"item_id": p["item_id"], "location": p["location"]}
                                  for p in pieces]}, actor=actor)
            detail = {"tray": name, "place": row["salon"], "at": row["start_ts"]}
            for p in pieces:
                holds.hold_in(tx, p["item_id"], purpose="appointment", ref=ref,
                              detail=detail, actor=actor)
            return name

        await self.ledger.transact(command)
        return await self.tray(current["appointment_id"])

    async def close_tray(self, appointment_id: Any, *, actor: str) -> dict[str, Any]:
        """Close the appointment's tray: every piece still on it is released and goes back
        to the showcase it came from (said, piece by piece); a piece sold from the tray has
        gone with its client."""
        current = await self._row(appointment_id)

        def command(tx: Tx) -> dict[str, Any]:
            row = row_dict(self._row_in(tx, current["appointment_id"]))
            if self._open_tray_in(tx, row["appointment_id"]) is None:
                raise Refused("no_tray", "this appointment has no tray out")
            return self._close_tray_in(tx, row, actor)

        closed = await self.ledger.transact(command)
        return {**await self.tray(current["appointment_id"]), **await self._back(closed)}

    def _close_tray_in(self, tx: Tx, row: dict[str, Any], actor: str) -> dict[str, Any]:
        ref = f"appointment:{row['appointment_id']}"
        tray = self._open_tray_in(tx, row["appointment_id"])
        on_tray = tx.all("SELECT item_id, from_location FROM appointment_tray_pieces"
                         " WHERE appointment_id = ? AND returned_seq IS NULL ORDER BY pulled_seq,"
                         " item_id", (row["appointment_id"],))
        held = self.store.holds.among_in(tx, [r["item_id"] for r in on_tray])
        back = [{"item_id": r["item_id"], "back_to": r["from_location"]} for r in on_tray
                if held.get(r["item_id"], {}).get("ref") == ref]
        tx.append("appointment.tray_closed", ref,
                  {"appointment_id": row["appointment_id"], "tray": tray["tray"],
                   "pieces": back}, actor=actor)
        for piece in back:
            self.store.holds.release_in(tx, piece["item_id"], actor=actor, reason="returned",
                                        ref=ref, extra={"back_to": piece["back_to"]})
        return {"tray": tray["tray"], "back": back}

    async def _back(self, closed: dict[str, Any]) -> dict[str, Any]:
        """What went back where, with each piece's description (for the person putting
        them back)."""
        found = await self.store.items.columns_of([p["item_id"] for p in closed["back"]],
                                                  ("description",))
        return {"closed_tray": closed["tray"], "back": [
            {**p, "description": found[p["item_id"]]["description"]
             if p["item_id"] in found else ""} for p in closed["back"]]}

    async def tray(self, appointment_id: str) -> dict[str, Any]:
        """The appointment's tray: its label, whether it is out, and each piece with where
        it comes from, its price and where it stands (on the tray, back, sold)."""
        row = await self._row(appointment_id)
        tray = await self.ledger.fetch_one("SELECT * FROM appointment_trays"
                                           " WHERE appointment_id = ?", (row["appointment_id"],))
        rows = row_dicts(await self.ledger.fetch(
            "SELECT * FROM appointment_tray_pieces WHERE appointment_id = ?"
            " ORDER BY pulled_seq, item_id", (row["appointment_id"],)))
        ids = [r["item_id"] for r in rows]
        pieces = await self.store.items.columns_of(ids, ("description", "tag_price", "status",
                                                         "category"))
        held = await self.store.holds.held_among(ids)
        ref = f"appointment:{row['appointment_id']}"
        out = []
        for r in rows:
            piece = pieces.get(r["item_id"])
            if r["returned_seq"] is not None:
                state = "closed"
            elif held.get(r["item_id"], {}).get("ref") == ref:
                state = "open"
            else:  # its hold ended without the tray: a sale ended it
                state = "sold" if piece and piece["status"] == "sold" else "closed"
            out.append({"item_id": r["item_id"], "from_location": r["from_location"],
                        "description": piece["description"] if piece else "",
                        "category": piece["category"] if piece else "",
                        "tag_price": piece["tag_price"] if piece else None,
                        "status": piece["status"] if piece else None, "state": state})
        return {"appointment_id": row["appointment_id"],
                "tray": tray["tray"] if tray else None,
                "open": bool(tray and tray["status"] == "open"), "pieces": out,
                "currency": self.store.config.currency}

    async def prep(self, appointment_id: Any) -> dict[str, Any]:
        """The tray's preparation list: the appointment and the pieces to bring, each with
        the showcase it comes from and its price."""
        shown = await self.get(appointment_id)
        tray = await self.tray(shown["appointment_id"])
        return {"appointment": shown, **tray,
                "pieces": [p for p in tray["pieces"] if p["state"] != "closed"]}

    def prep_document(self, prep: dict[str, Any]) -> Document:
        """The preparation list as a document (receipt printer, screen). It names no
        client: paper leaves the screen behind its sign-in."""
        w, a = self.words, prep["appointment"]
        doc = Document(w.render("Tray {tray}", {"tray": prep["tray"] or "—"}))
        doc.add("title", w.render("Tray {tray} · {salon}", {"tray": prep["tray"] or "—",
                                                             "salon": a["salon"]}),
                center=True, bold=True)
        when = w.render("{kind}, {day} from {start} to {end}", {
            "kind": Term("appointment_kind", a["kind"]), "day": w.day(a["day"]),
            "start": a["starts"], "end": a["ends"]})
        doc.add("text", when[:1].upper() + when[1:], center=True)
        doc.add("text", w.render("With {name}", {"name": a["associate_name"]}), center=True)
        doc.add("rule")
        currency = prep["currency"]
        for p in prep["pieces"]:
            doc.add("pair", p["description"] or p["item_id"],
                    w.money(p["tag_price"], currency) if p["tag_price"] is not None else "",
                    bold=True)
            doc.add("small", w.render("Serial {serial} · from {place}",
                                      {"serial": p["item_id"], "place": p["from_location"]}))
            if p["state"] == "sold":
                doc.add("small", w.term("tray_status", "sold"))
        if not prep["pieces"]:
            doc.add("text", w.render("No piece on the tray yet."))
        doc.add("rule")
        doc.add("small", w.render("Appointment {appointment_id}",
                                  {"appointment_id": a["appointment_id"]}))
        return doc

    # -- reads ------------------------------------------------------------------------------

    async def _row(self, appointment_id: Any) -> dict[str, Any]:
        appointment_id = fields.text(appointment_id, "appointment_id", max_len=40) or ""
        row = await self.ledger.fetch_one("SELECT * FROM appointments WHERE appointment_id = ?",
                                          (appointment_id,))
        if row is None:
            raise NotFound("no appointment {appointment_id}", appointment_id=appointment_id)
        return row_dict(row)

    def _row_in(self, tx: Tx, appointment_id: str) -> Any:
        row = tx.one("SELECT * FROM appointments WHERE appointment_id = ?", (appointment_id,))
        if row is None:
            raise NotFound("no appointment {appointment_id}", appointment_id=appointment_id)
        return row

    def _shown(self, row: dict[str, Any], tray: str | None = None) -> dict[str, Any]:
        start, end = moment_of(row["start_ts"]), moment_of(row["end_ts"])
        local = start.astimezone(self.tz)
        return {"appointment_id": row["appointment_id"], "kind": row["kind"],
                "client_id": row["client_id"],
                "client_name": self.store.clients.names.name_of(row["client_id"]),
                "associate": row["associate"], "associate_name": self._name(row["associate"]),
                "salon": row["salon"], "start": row["start_ts"], "end": row["end_ts"],
                "day": local.date().isoformat(), "starts": clock(self.words, start),
                "ends": clock(self.words, end),
                "minutes": int((end - start).total_seconds() // 60),
                "status": row["status"], "booked_by": row["booked_by"], "tray": tray,
                "moves": [m.name for m in MACHINE.moves_from(row["status"])]}

    async def get(self, appointment_id: Any) -> dict[str, Any]:
        """An appointment with her name, the associate's, the times in the store's, its
        tray, its note (when still readable), the moves made and those possible now."""
        row = await self._row(appointment_id)
        tray = await self.ledger.fetch_one("SELECT tray FROM appointment_trays WHERE"
                                           " appointment_id = ? AND status = 'open'",
                                           (row["appointment_id"],))
        out = self._shown(row, tray["tray"] if tray else None)
        out["note"] = await self._note(row["note_seq"])
        booked = await self.ledger.fetch_one("SELECT ts FROM journal WHERE seq = ?",
                                             (row["booked_seq"],))
        out["booked_ts"] = booked["ts"] if booked else None
        moves = row_dicts(await self.ledger.fetch(
            "SELECT * FROM appointment_moves WHERE thing_id = ? ORDER BY seq",
            (row["appointment_id"],)))
        out["history"] = [{"seq": m["seq"], "move": m["move"], "from": m["from_stage"],
                           "to": m["to_stage"], "ts": m["ts"], "actor": m["actor"],
                           "note": m["note"] or await self._note(m["note_seq"])}
                          for m in moves]
        out["needs_note"] = [m.name for m in MACHINE.moves if m.needs_note]
        return out

    async def _note(self, seq: int | None) -> str | None:
        if seq is None:
            return None
        payload = await self.ledger.payload_at(seq)  # None once her key is destroyed
        return (payload or {}).get("note")

    async def _list(self, where: str, params: tuple[Any, ...],
                    limit: int = 500) -> list[dict[str, Any]]:
        rows = row_dicts(await self.ledger.fetch(
            "SELECT a.*, t.tray AS open_tray FROM appointments a LEFT JOIN appointment_trays t"
            " ON t.appointment_id = a.appointment_id AND t.status = 'open'"
            f" WHERE {where} ORDER BY a.start_ts, a.appointment_id LIMIT ?", (*params, limit)))
        return [self._shown(r, r["open_tray"]) for r in rows]

    def _bounds(self, first: date, last: date) -> tuple[str, str]:
        """The UTC moments from the start of `first` to the end of `last`, store's days."""
        start = datetime.combine(first, datetime.min.time(), self.tz)
        end = datetime.combine(last + timedelta(days=1), datetime.min.time(), self.tz)
        return stamp(start), stamp(end)

    async def between(self, first: date, last: date, *, associate: str | None = None,
                      salon: str | None = None) -> list[dict[str, Any]]:
        """The appointments starting on the days from `first` to `last` (the store's days),
        soonest first; one associate's or one salon's when asked."""
        start, end = self._bounds(first, last)
        where, params = "a.start_ts >= ? AND a.start_ts < ?", [start, end]
        if associate:
            where += " AND a.associate = ?"
            params.append(associate)
        if salon:
            where += " AND a.salon = ?"
            params.append(salon)
        return await self._list(where, tuple(params))

    async def day_of(self, staff_id: str, day: date | None = None) -> list[dict[str, Any]]:
        """An associate's appointments of a day (today by default), soonest first: her
        home page's list."""
        day = day or self.today()
        return await self.between(day, day, associate=staff_id)

    async def done_between(self, first: str, last: str,
                           client_id: str | None = None) -> list[dict[str, Any]]:
        """Appointments done that started on the days from `first` to `last` (ISO days of
        the store, both included): `appointment_id`, `client_id`, `associate`, `kind`,
        `day` (a thank-you call follows some days after)."""
        start, end = self._bounds(date.fromisoformat(first), date.fromisoformat(last))
        where, params = "a.start_ts >= ? AND a.start_ts < ? AND a.status = 'done'", [start, end]
        if client_id:
            where += " AND a.client_id = ?"
            params.append(client_id)
        return [{k: a[k] for k in ("appointment_id", "client_id", "associate", "kind", "day",
                                   "start")}
                for a in await self._list(where, tuple(params), limit=100_000)]

    async def followups(self, today: date, rules: Rules,
                        client_id: str | None = None) -> list[FollowUp]:
        """The thank-you calls due within the follow-ups' horizon: appointments done
        `after_appointment_days` before (a source of `FollowUps`)."""
        lag = rules.after_appointment_days
        if not lag:
            return []
        back, ahead = rules.horizon
        done = await self.done_between((today - timedelta(days=back + lag)).isoformat(),
                                       (today + timedelta(days=ahead - lag)).isoformat(),
                                       client_id)
        return appointment_followups(done, today, rules)

    async def export_section(self, client_id: str) -> tuple[str, list[dict[str, Any]]]:
        """Her appointments, for the export of her data (in words, with their notes)."""
        w, rows = self.words, []
        for a in await self._list("a.client_id = ?", (client_id,), 1000):
            full = await self.get(a["appointment_id"])
            rows.append({"day": a["day"], "time": f"{a['starts']}–{a['ends']}",
                         "kind": w.term("appointment_kind", a["kind"]), "salon": a["salon"],
                         "associate": a["associate_name"],
                         "status": w.term("appointment_status", a["status"]),
                         "note": full["note"] or ""})
        return "", rows

    async def of_client(self, client_id: str) -> dict[str, Any]:
        """A client's appointments: those to come (soonest first) and those past (the most
        recent first)."""
        now = stamp(self.now())
        upcoming = await self._list("a.client_id = ? AND a.end_ts > ?", (client_id, now), 50)
        past = await self._list("a.client_id = ? AND a.end_ts <= ?", (client_id, now), 1000)
        return {"upcoming": upcoming, "past": list(reversed(past))[:50]}
