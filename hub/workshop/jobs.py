"""Jobs: repairs, custom orders and special orders, one model with a stage machine per kind
(area `workshop`).

- **Intake** takes a client (never an anonymous job), what she left (in neutral words), the
  requested services each with a price, how to handle the estimate, the promised date and who
  does the work; a deposit may be taken in the same transaction. What is about her (the
  description, private condition notes, an engraving's text, sizes) is a `job.details` entry
  sealed under her key; `job.opened` keeps what is not (kinds, prices, weights, counts,
  dates, who) and names the details' seq, so the board is one query and erasing her leaves
  the books whole.
- **Stages** are data (`machine_of`); every move is a `job.moved` entry with who, when and a
  note (sealed under her key). A custom order's stages can be switched off by the store
  (`[workshop] custom_stages_off`). A custom order leaves `deposit` only with a deposit held
  and `approval` only with a quote she accepted.
- **Money**: deposits and instalments are `hub.workshop.deposits` (liabilities until
  delivery). At pick-up the job is sold through the normal sale flow: a repair's charge is a
  service line (`job:J12`), a custom or special order's piece a piece line, and what she paid
  before is the `deposit` tender, applied in the sale's transaction.
- **Pick-up** weighs and counts again: a difference from intake needs a manager's approval,
  spent in the same transaction and named on `job.collected`; her signature is an attachment.
- **Quotes** are versioned (`job.quoted`), valid N days, the metal rate of the day locked
  when HQ has one for the metal; accepting one (`job.quote_accepted`) makes its amount the
  order's price.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from hub.config import Config, ConfigError
from hub.core import fields
from hub.core.approvals import Approvals
from hub.core.errors import Invalid, NotFound, Refused
from hub.core.fields import Form
from hub.core.items import row_dict, validate_stones
from hub.core.sales import validate_tenders
from hub.core.stages import Move, StageMachine, record_move
from hub.ledger.journal import ENTRY_COLUMNS, Entry
from hub.ledger.ledger import Tx
from hub.ledger.schema import Migration, Schema
from hub.money import Money
from hub.words import N_, Term
from hub.words.labels import CATEGORY, METAL
from hub.workshop.deposits import Deposits

if TYPE_CHECKING:  # the layer declares this area: no import of the store at load
    from hub.store import Store

INTAKE, BENCH, MANAGE = "workshop.intake", "workshop.bench", "workshop.manage"
PERMISSIONS = {
    INTAKE: N_("Take in repairs and orders, take their deposits and hand them back to"
               " clients"),
    BENCH: N_("Move jobs through the workshop's stages"),
    MANAGE: N_("Cancel a job, refund its deposits, or reopen a collected one"),
}
GRANTS = {"associate": (INTAKE, BENCH), "manager": (INTAKE, BENCH, MANAGE)}

KINDS = ("repair", "custom", "special")
SERVICES = ("resize", "polish", "retip", "stone_replacement", "engraving", "clasp", "other")
FONTS = ("block", "script", "roman", "italic")
ESTIMATES = ("estimate_only", "call_first", "limit")
FILE_KINDS = ("photo", "sketch", "cad", "certificate", "document")  # and the signature
LETTER = "J"  # job numbers: J and the seq of their first entry
JOB_NUMBER = re.compile(r"^J[1-9][0-9]{0,11}$")
LANE_LIMIT = 40    # cards in a lane of the whole board (the most urgent: rush, then promised)
STAGE_LIMIT = 500  # cards of one lane shown alone
MAX_SERVICES = 12
MAX_WEIGHT_MG = 10_000_000  # 10 kg: anything more is a typing mistake

REPAIR_STAGES = ("received", "at_bench", "at_vendor", "quality_check", "ready", "collected",
                 "on_hold", "cancelled")
CUSTOM_STAGES = ("enquiry", "consultation", "deposit", "stone_sourcing", "cad", "approval",
                 "setting", "polish", "ready", "collected", "on_hold", "cancelled")
SPECIAL_STAGES = ("requested", "ordered", "arrived", "ready", "collected", "on_hold",
                  "cancelled")
CLOSED = ("collected", "cancelled")
JOB_STAGES = tuple(dict.fromkeys((*REPAIR_STAGES, *CUSTOM_STAGES, *SPECIAL_STAGES)))
SWITCHABLE = ("consultation", "deposit", "stone_sourcing", "cad", "approval", "polish")


def _common(work: tuple[str, ...]) -> tuple[Move, ...]:
    """On hold, back from hold, cancelled, the pick-up and its undoing: every kind has them."""
    return (
        Move("hold", work, "on_hold", BENCH, needs_note=True),
        Move("cancel", (*work, "on_hold", "ready"), "cancelled", MANAGE, needs_note=True),
        Move("collect", ("ready",), "collected", INTAKE),
        Move("uncollect", ("collected",), "ready", MANAGE, needs_note=True),
    )


REPAIR = StageMachine(
    "job", stages=REPAIR_STAGES, initial="received",
    moves=(
        Move("to_bench", ("received", "at_vendor", "quality_check", "on_hold"), "at_bench",
             BENCH),
        Move("to_vendor", ("received", "at_bench", "on_hold"), "at_vendor", BENCH),
        Move("to_quality_check", ("at_bench", "at_vendor"), "quality_check", BENCH),
        Move("to_ready", ("quality_check",), "ready", BENCH),
        *_common(("received", "at_bench", "at_vendor", "quality_check")),
    ),
    vocabulary="job_stage", move_vocabulary="job_move")

SPECIAL = StageMachine(
    "job", stages=SPECIAL_STAGES, initial="requested",
    moves=(
        Move("to_ordered", ("requested", "on_hold"), "ordered", INTAKE),
        Move("to_arrived", ("ordered",), "arrived", INTAKE),
        Move("to_ready", ("arrived",), "ready", INTAKE),
        *_common(("requested", "ordered", "arrived")),
    ),
    vocabulary="job_stage", move_vocabulary="job_move")


def custom_machine(off: tuple[str, ...] = ()) -> StageMachine:
    """The custom order's stages with the store's switched off: each stage leads to the next
    one kept; an approval refused goes back to the CAD (or the stage before it)."""
    kept = tuple(s for s in CUSTOM_STAGES[:9] if s not in off)
    moves = [Move(f"to_{b}", (a,), b, BENCH) for a, b in zip(kept, kept[1:], strict=False)]
    if "approval" in kept:
        i = kept.index("approval")
        if i > 0:
            moves.append(Move("revise", ("approval",), kept[i - 1], BENCH, needs_note=True))
    work = kept[:-1]  # every stage before ready
    resume = Move("resume", ("on_hold",), kept[1] if len(kept) > 1 else kept[0], BENCH)
    return StageMachine("job", stages=(*kept, "collected", "on_hold", "cancelled"),
                        initial=kept[0], moves=(*moves, resume, *_common(work)),
                        vocabulary="job_stage", move_vocabulary="job_move")


def next_move(machine: StageMachine, stage: str, skip: tuple[str, ...] = ()) -> Move | None:
    """The move a scan on the board makes: on to the nearest later stage of the work (never
    on hold, cancelled or collected: those are decisions, not a scan; nor a stage in
    `skip`: the outside workshop of a job that names none)."""
    here = machine.stages.index(stage)
    ahead = [m for m in machine.moves_from(stage) if m.name.startswith("to_")
             and m.target not in ("on_hold", *CLOSED, *skip)
             and machine.stages.index(m.target) > here]
    return min(ahead, key=lambda m: machine.stages.index(m.target), default=None)


SCHEMA = Schema("workshop", (Migration(1, """
CREATE TABLE jobs (
    job_id         TEXT PRIMARY KEY,        -- J and the seq of its first entry
    kind           TEXT NOT NULL,           -- repair | custom | special
    client_id      TEXT NOT NULL,           -- opaque: her name is in her profile only
    stage          TEXT NOT NULL,
    stage_seq      INTEGER NOT NULL,        -- the entry that moved it there
    stage_ts       TEXT NOT NULL,
    item_kind      TEXT NOT NULL,           -- ring, necklace... (the pieces' categories)
    services       TEXT NOT NULL,           -- JSON [{service, price}]: no engraving text
    specs          TEXT NOT NULL,           -- JSON: metal, fineness, stones (custom orders)
    estimate       TEXT,                    -- estimate_only | call_first | limit
    estimate_limit INTEGER,
    express        INTEGER NOT NULL,
    promised       TEXT,                    -- YYYY-MM-DD, the store's day
    assignee       TEXT,                    -- a bench jeweler (staff id)
    vendor         TEXT,                    -- or an outside workshop
    declared_value INTEGER,
    weight_in_mg   INTEGER,
    stones_in      INTEGER,
    price          INTEGER NOT NULL,        -- what she pays in all (services, accepted quote)
    currency       TEXT NOT NULL,
    item_id        TEXT,                    -- the piece it delivers (custom, special)
    details_seq    INTEGER NOT NULL,        -- the sealed entry with what is about her
    opened_seq     INTEGER NOT NULL,
    opened_ts      TEXT NOT NULL,
    opened_by      TEXT NOT NULL,
    sale_id        TEXT,                    -- the sale that handed it over
    collected_seq  INTEGER,
    updated_seq    INTEGER NOT NULL
);
CREATE INDEX jobs_stage ON jobs(stage, express DESC, promised);
CREATE INDEX jobs_client ON jobs(client_id, opened_seq);
CREATE INDEX jobs_promised ON jobs(promised) WHERE stage NOT IN ('collected', 'cancelled');

CREATE TABLE job_moves (
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
CREATE INDEX job_moves_of ON job_moves(thing_id, seq);

CREATE TABLE job_files (
    job_id       TEXT NOT NULL,
    hash         TEXT NOT NULL,
    size         INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    kind         TEXT NOT NULL,             -- photo | sketch | cad | signature | certificate
    seq          INTEGER NOT NULL,
    PRIMARY KEY (job_id, hash)
);

CREATE TABLE job_quotes (
    job_id       TEXT NOT NULL,
    version      INTEGER NOT NULL,
    amount       INTEGER NOT NULL,
    valid_until  TEXT NOT NULL,             -- the last day she may accept it
    rate         TEXT,                      -- JSON: the metal rate locked that day
    seq          INTEGER NOT NULL,
    accepted_seq INTEGER,
    PRIMARY KEY (job_id, version)
);
"""),), projections=("jobs", "job_moves", "job_files", "job_quotes"))


# -- settings -------------------------------------------------------------------------------

@dataclass(frozen=True)
class WorkshopSettings:
    """`[workshop]` in loupe.toml (every key optional)."""

    vendors: tuple[str, ...] = ("Atelier Sertis", "Maison Gravure")
    terms: tuple[str, ...] = (
        "Jobs not collected within 12 months may be sold to cover the cost of the work.",
        "The declared value is the client's own; the store's liability is limited to it.",
        "Estimates are free; work starts only once approved as agreed at intake.",
    )
    weight_tolerance_mg: int = 20     # what a scale's repeatability allows
    custom_stages_off: tuple[str, ...] = ()
    quote_valid_days: int = 30
    service_tax: str = ""             # the tax code of a repair's charge ("" = the store's)
    collect_overdue_days: int = 30    # ready and not collected after this many days

    _machines: dict[str, StageMachine] = field(default_factory=dict, compare=False)

    def machine(self, kind: str) -> StageMachine:
        if not self._machines:
            self._machines.update(repair=REPAIR, special=SPECIAL,
                                  custom=custom_machine(self.custom_stages_off))
        return self._machines[kind]


def settings_of(config: Config) -> WorkshopSettings:
    section = config.section("workshop")
    d = WorkshopSettings()
    vendors = tuple(v.strip() for v in section.texts("vendors", d.vendors))
    if any(not v or len(v) > 60 for v in vendors) or len(set(vendors)) != len(vendors):
        raise ConfigError("workshop.vendors: must be a list of distinct workshop names"
                          f" (1-60 characters each), got {list(vendors)!r}")
    terms = tuple(t.strip() for t in section.texts("terms", d.terms))
    off = tuple(section.texts("custom_stages_off", d.custom_stages_off))
    wrong = [s for s in off if s not in SWITCHABLE]
    if wrong:
        raise ConfigError(f"workshop.custom_stages_off: {wrong!r} cannot be switched off"
                          f" (these can: {', '.join(SWITCHABLE)})")
    tax = section.text("service_tax", d.service_tax)
    codes = sorted(r.code for r in config.tax_rates)
    if tax and tax not in codes:
        raise ConfigError(f"workshop.service_tax: {tax!r} is not one of the store's tax codes"
                          f" ({', '.join(codes)})")
    settings = WorkshopSettings(
        vendors=vendors, terms=terms, custom_stages_off=off, service_tax=tax,
        weight_tolerance_mg=section.whole("weight_tolerance_mg", d.weight_tolerance_mg, 0,
                                          10_000),
        quote_valid_days=section.whole("quote_valid_days", d.quote_valid_days, 1, 365),
        collect_overdue_days=section.whole("collect_overdue_days", d.collect_overdue_days, 1,
                                           3650))
    section.done()
    return settings


# -- projections ----------------------------------------------------------------------------

def _on_opened(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute(
        "INSERT INTO jobs (job_id, kind, client_id, stage, stage_seq, stage_ts, item_kind,"
        " services, specs, estimate, estimate_limit, express, promised, assignee, vendor,"
        " declared_value, weight_in_mg, stones_in, price, currency, item_id, details_seq,"
        " opened_seq, opened_ts, opened_by, updated_seq)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (p["job_id"], p["kind"], p["client_id"], p["stage"], entry.seq, entry.ts,
         p["item_kind"], json.dumps(p["services"], sort_keys=True),
         json.dumps(p["specs"], sort_keys=True),
         p.get("estimate"), p.get("estimate_limit"), int(p["express"]), p.get("promised"),
         p.get("assignee"), p.get("vendor"), p.get("declared_value"), p.get("weight_mg"),
         p.get("stone_count"), p["price"], p["currency"], p.get("item_id"), p["details_seq"],
         entry.seq, entry.ts, entry.actor, entry.seq))


def _on_moved(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute("UPDATE jobs SET stage = ?, stage_seq = ?, stage_ts = ?, updated_seq = ?"
               " WHERE job_id = ?", (p["to"], entry.seq, entry.ts, entry.seq, p["id"]))
    if p["move"] == "uncollect":
        tx.execute("UPDATE jobs SET sale_id = NULL, collected_seq = NULL WHERE job_id = ?",
                   (p["id"],))
    record_move(tx, "job_moves", entry, p)


def _on_revised(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    sets, values = ["updated_seq = ?"], [entry.seq]
    for key, column in (("services", "services"), ("price", "price"),
                        ("assignee", "assignee"), ("vendor", "vendor"),
                        ("promised", "promised"), ("item_id", "item_id")):
        if key in p:
            sets.append(f"{column} = ?")
            values.append(json.dumps(p[key], sort_keys=True) if key == "services" else p[key])
    if "details_seq" in p:
        sets.append("details_seq = ?")
        values.append(p["details_seq"])
    tx.execute(f"UPDATE jobs SET {', '.join(sets)} WHERE job_id = ?", (*values, p["job_id"]))


def _on_attached(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute("INSERT OR IGNORE INTO job_files (job_id, hash, size, content_type, kind, seq)"
               " VALUES (?,?,?,?,?,?)", (p["job_id"], p["hash"], p["size"],
                                         p["content_type"], p["kind"], entry.seq))


def _on_quoted(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute("INSERT INTO job_quotes (job_id, version, amount, valid_until, rate, seq)"
               " VALUES (?,?,?,?,?,?)", (p["job_id"], p["version"], p["amount"],
                                         p["valid_until"],
                                         json.dumps(p["rate"], sort_keys=True) if p.get("rate") else None,
                                         entry.seq))


def _on_accepted(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute("UPDATE job_quotes SET accepted_seq = ? WHERE job_id = ? AND version = ?",
               (entry.seq, p["job_id"], p["version"]))
    tx.execute("UPDATE jobs SET price = ?, updated_seq = ? WHERE job_id = ?",
               (p["amount"], entry.seq, p["job_id"]))


def _on_collected(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute("UPDATE jobs SET sale_id = ?, collected_seq = ?, item_id = COALESCE(?, item_id),"
               " updated_seq = ? WHERE job_id = ?",
               (p.get("sale_id"), entry.seq, p.get("item_id"), entry.seq, p["job_id"]))


def _on_merged(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None  # a merged client's jobs are the kept client's
    tx.execute("UPDATE jobs SET client_id = ? WHERE client_id = ?",
               (p["client_id"], p["merged_id"]))


PROJECTIONS = {
    "client.merged": _on_merged,
    "job.opened": _on_opened,
    REPAIR.moved_kind: _on_moved,
    "job.revised": _on_revised,
    "job.attached": _on_attached,
    "job.quoted": _on_quoted,
    "job.quote_accepted": _on_accepted,
    "job.collected": _on_collected,
}


# -- input ----------------------------------------------------------------------------------

def _services(value: Any, key: str, *, required: bool) -> tuple[list[dict[str, Any]],
                                                                   list[dict[str, Any]]]:
    """The requested services: what the board may show ({service, price}) and what is
    about her ({detail, font}: "to 54", an engraving's text), in the same order."""
    if value in (None, []):
        if required:
            raise Invalid("say what is to be done: at least one service", key)
        return [], []
    if not isinstance(value, list) or len(value) > MAX_SERVICES:
        raise Invalid("the services are a list of at most {max}", key, max=MAX_SERVICES)
    shown, private, problems = [], [], []
    for i, raw in enumerate(value):
        f = Form(raw, f"{key}[{i}]", allowed=("service", "detail", "font", "price"))
        service = f.choice("service", SERVICES, required=True, vocabulary="job_service",
                           lower=False)
        detail = f.text("detail", max_len=120)
        font = f.choice("font", FONTS, vocabulary="engraving_font", lower=False)
        price = f.amount("price")
        if service == "engraving" and not detail:
            f.problem("detail", "say what to engrave")
        if service in ("resize", "other") and not detail:
            f.problem("detail", "say what: the size to resize to, or what to do")
        problems += f.problems
        shown.append({"service": service, "price": price or 0})
        private.append({"detail": detail, "font": font})
    if problems:
        raise Invalid.many(problems)
    return shown, private


def parse_day(value: Any, key: str) -> date | None:
    raw = fields.text(value, key, max_len=10)
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise Invalid("“{value}” is not a date (YYYY-MM-DD)", key, value=raw) from None


def job_number(value: Any, key: str = "job_id") -> str:
    raw = fields.text(value, key, required=True, max_len=16) or ""
    raw = raw.strip().upper()
    if not JOB_NUMBER.match(raw):
        raise Invalid("“{value}” is not a job number (such as J1042)", key, value=raw)
    return raw


# -- the service ----------------------------------------------------------------------------

class Jobs:
    """The workshop's jobs: intake, stages, payments, quotes, attachments and pick-up."""

    def __init__(self, store: Store, deposits: Deposits,
                 settings: WorkshopSettings | None = None) -> None:
        self.store, self.ledger, self.words = store, store.ledger, store.words
        self.deposits = deposits
        self.settings = settings or WorkshopSettings()
        self.currency = store.config.currency
        self.now: Callable[[], datetime] = lambda: datetime.now(UTC)  # tests move it
        self.outbox = store.outbox  # "ready", "quote to approve", "overdue": through HQ

    def today(self) -> date:
        return self.now().astimezone(self.words.tz).date()

    def money(self, amount: int) -> Money:
        return Money(amount, self.currency)

    def _may(self, actor: str) -> Callable[[str], bool]:
        return self.store.staff.may(actor)

    async def _active_client(self, client_id: Any) -> str:
        client_id = fields.identifier(client_id, "client_id", what="a client id") or ""
        try:
            client = await self.store.clients.get(client_id)
        except NotFound:
            raise Invalid("no client {client_id}: a job is always for a client",
                          "client_id", client_id=client_id) from None
        if client["status"] == "forgotten":
            raise Invalid("client {client_id} was erased: no job can be taken for her",
                          "client_id", client_id=client_id)
        if client["status"] != "active":
            raise Invalid("client {client_id} was merged into another: take the job for"
                          " the kept record", "client_id", client_id=client_id)
        return client_id

    # -- intake -------------------------------------------------------------------------

    async def open(self, raw: Any, *, actor: str) -> dict[str, Any]:
        """Take in a job. Every problem of the form at once; with `deposit` ({register_id,
        tenders}) the first payment is taken in the same transaction."""
        f = Form(raw, allowed=("kind", "client_id", "item_kind", "description", "condition",
                               "declared_value", "weight_mg", "stone_count", "services",
                               "estimate", "estimate_limit", "express", "promised",
                               "assignee", "vendor", "specs", "price", "source", "deposit"))
        kind = f.choice("kind", KINDS, required=True, vocabulary="job_kind", lower=False)
        item_kind = f.choice("item_kind", CATEGORY, required=True, vocabulary="category",
                             lower=False)
        description = f.text("description", required=True, max_len=300, multiline=True)
        condition = f.text("condition", max_len=1000, multiline=True)
        declared = f.amount("declared_value")
        weight = f.whole("weight_mg", lo=0, hi=MAX_WEIGHT_MG)
        stones = f.whole("stone_count", lo=0, hi=999)
        shown, private = f.check(_services, f.get("services"), "services",
                                 required=kind == "repair") or ([], [])
        estimate = f.choice("estimate", ESTIMATES, vocabulary="job_estimate", lower=False)
        limit = f.amount("estimate_limit")
        if estimate == "limit" and not limit:
            f.problem("estimate_limit", "say the amount not to exceed")
        express = bool(f.boolean("express"))
        promised = f.check(parse_day, f.get("promised"), "promised")
        if promised is not None and promised < self.today():
            f.problem("promised", "the promised date is in the past")
        assignee = f.identifier("assignee", required=False, what="a staff id")
        if assignee:
            member = self.store.staff.get(assignee)
            if member is None or member.status != "active":
                f.problem("assignee", "“{staff_id}” is not on the staff roster",
                          staff_id=assignee)
        vendor = f.choice("vendor", self.settings.vendors, lower=False)
        specs, sizes = f.check(self._specs, f.get("specs"), "specs") or ({}, None)
        price = f.amount("price")  # a custom order's estimate, a special order's price
        source = f.text("source", max_len=120)  # where a special order comes from
        if kind == "special" and not price:
            f.problem("price", "say the price agreed with her")
        deposit = f.get("deposit")
        if deposit is not None and not isinstance(deposit, dict):
            f.problem("deposit", "a deposit is a register and its tenders")
        client_id = None
        try:
            client_id = await self._active_client(f.get("client_id"))
        except Invalid as exc:
            f.problems.extend(exc.problems)
        f.done()
        assert kind and item_kind and description and client_id
        if kind == "repair":
            total = sum(s["price"] for s in shown)
        else:
            total = price or 0
        register_id = None
        if deposit is not None:
            register_id = self.store.sales.check_register(deposit.get("register_id"),
                                                          "deposit.register_id")
        machine = self.settings.machine(kind)
        details = {"description": description, "condition": condition,
                   "services": private, "sizes": sizes, "source": source}

        def command(tx: Tx) -> Entry:
            job_id = f"{LETTER}{tx.seq + 1}"  # the seq of its first entry: never reused
            subject = f"job:{job_id}"
            sealed = tx.append("job.details", subject, {"job_id": job_id, **details},
                               actor=actor, key_id=f"client:{client_id}")
            opened = tx.append("job.opened", subject, {
                "job_id": job_id, "kind": kind, "client_id": client_id,
                "stage": machine.initial, "item_kind": item_kind, "services": shown,
                "specs": specs, "estimate": estimate, "estimate_limit": limit,
                "express": express, "promised": promised.isoformat() if promised else None,
                "assignee": assignee, "vendor": vendor, "declared_value": declared,
                "weight_mg": weight, "stone_count": stones, "price": total,
                "currency": self.currency, "details_seq": sealed.seq}, actor=actor)
            if deposit is not None:
                assert register_id is not None
                self.deposits.take_in(tx, job_id, register_id=register_id,
                                      tenders=deposit.get("tenders"), actor=actor)
            return opened

        entry = await self.ledger.transact(command)
        return await self.get(entry.subject.split(":", 1)[1])

    @staticmethod
    def _specs(value: Any, key: str) -> tuple[dict[str, Any], str | None]:
        """A custom order's specifications: metal, fineness and stones with their 4C are the
        piece's (kept in the open); a size is hers (sealed with the details)."""
        if value in (None, {}):
            return {}, None
        f = Form(value, key, allowed=("metal", "fineness", "stones", "size"))
        metal = f.choice("metal", METAL, vocabulary="metal", lower=False)
        fineness = f.whole("fineness", lo=1, hi=999)
        stones = []
        if f.get("stones") not in (None, []):
            stones = validate_stones(f.get("stones"), f)
        size = f.text("size", max_len=40)
        f.done()
        out: dict[str, Any] = {}
        if metal:
            out["metal"] = metal
        if fineness:
            out["fineness"] = fineness
        if stones:
            out["stones"] = stones
        return out, size

    # -- reads --------------------------------------------------------------------------

    def _row_in(self, tx: Tx, job_id: Any) -> dict[str, Any]:
        number = job_number(job_id)
        row = tx.one("SELECT * FROM jobs WHERE job_id = ?", (number,))
        if row is None:
            raise NotFound("no job {job_id}", job_id=number)
        return row_dict(row)

    async def _row(self, job_id: Any) -> dict[str, Any]:
        return await self.ledger.read(lambda tx: self._row_in(tx, job_id))

    _CARD = ("job_id", "kind", "client_id", "stage", "item_kind", "express", "promised",
             "assignee", "vendor", "price", "currency", "weight_in_mg", "stones_in",
             "opened_seq", "stage_seq")

    def _card(self, row: Any, held: int, now: datetime, today: str) -> dict[str, Any]:
        """A job as the board, the overdue list and her page show it: no more than a card
        holds (the board draws hundreds of them: `row` may be the database's own row)."""
        since = datetime.fromisoformat(row["stage_ts"][:19]).replace(tzinfo=UTC)
        promised, stage = row["promised"], row["stage"]
        return {
            **{k: row[k] for k in self._CARD}, "express": bool(row["express"]),
            "services": json.loads(row["services"]), "held": held,
            "balance": max(row["price"] - held, 0) if stage not in CLOSED else 0,
            "days_in_stage": max((now - since).days, 0),
            "late": bool(promised and promised < today and stage not in (*CLOSED, "ready")),
            "client_name": self.store.clients.names.name_of(row["client_id"]),
        }

    def _cards(self, tx: Tx, rows: list[Any]) -> list[dict[str, Any]]:
        now = self.now()
        today = now.astimezone(self.words.tz).date().isoformat()
        held = self._held_of(tx, [r["job_id"] for r in rows])
        return [self._card(r, held.get(r["job_id"], 0), now, today) for r in rows]

    def _shape(self, row: dict[str, Any], held: int) -> dict[str, Any]:
        """The whole job, for its page: the card, what it may do next, its stages."""
        machine = self.settings.machine(row["kind"])
        now = self.now()
        after = next_move(machine, row["stage"], () if row["vendor"] else ("at_vendor",))
        return {
            **row, **self._card(row, held, now, now.astimezone(self.words.tz).date().isoformat()),
            "services": json.loads(row["services"]), "specs": json.loads(row["specs"]),
            "moves": [m.name for m in machine.moves_from(row["stage"])
                      if m.name not in ("collect", "uncollect")],
            "next_move": after.name if after else None,
            "stages": [s for s in machine.stages if s not in ("on_hold", "cancelled")],
        }

    def _payload_in(self, tx: Tx, seq: int) -> dict[str, Any] | None:
        row = tx.one(f"SELECT {ENTRY_COLUMNS} FROM journal WHERE seq = ?", (seq,))
        return None if row is None else self.ledger.decrypt(Entry.from_row(tuple(row)))

    async def get(self, job_id: Any) -> dict[str, Any]:
        """A job with its timeline, payments, quotes and files; what is about her read from
        the sealed entries (nothing of it once she is erased)."""
        def read(tx: Tx) -> dict[str, Any]:
            row = self._row_in(tx, job_id)
            moves = [row_dict(r) for r in tx.all(
                "SELECT * FROM job_moves WHERE thing_id = ? ORDER BY seq", (row["job_id"],))]
            files = [row_dict(r) for r in tx.all(
                "SELECT * FROM job_files WHERE job_id = ? ORDER BY seq", (row["job_id"],))]
            quotes = [row_dict(r) for r in tx.all(
                "SELECT * FROM job_quotes WHERE job_id = ? ORDER BY version",
                (row["job_id"],))]
            return {"row": row, "moves": moves, "files": files, "quotes": quotes,
                    "held": self.deposits.held_in(tx, row["job_id"])}

        got = await self.ledger.read(read)
        job = self._shape(got["row"], got["held"])
        details = await self.ledger.payload_at(job["details_seq"])
        private = (details or {}).get("services") or []
        for i, s in enumerate(job["services"]):
            s.update(private[i] if i < len(private) else {})
        job.update({"description": (details or {}).get("description"),
                    "condition": (details or {}).get("condition"),
                    "sizes": (details or {}).get("sizes"),
                    "source": (details or {}).get("source"),
                    "erased": details is None})
        for m in got["moves"]:
            if m.get("note_seq"):
                note = await self.ledger.payload_at(m["note_seq"])
                m["note"] = (note or {}).get("note")
        job["timeline"] = got["moves"]
        job["files"] = got["files"]
        job["quotes"] = [{**q, "rate": json.loads(q["rate"]) if q["rate"] else None,
                          "accepted": q["accepted_seq"] is not None,
                          "expired": q["valid_until"] < self.today().isoformat()}
                         for q in got["quotes"]]
        job["payments"] = await self.deposits.payments(job["job_id"])
        job["messages"] = await self.outbox.of_ref(f"job:{job['job_id']}")
        return job

    def paper_view(self, job: dict[str, Any]) -> dict[str, Any]:
        """A job as its envelope and the client's copy print it (`hub.workshop.envelope`)."""
        member = self.store.staff.get(job["assignee"] or "")
        return {**job, "weight_mg": job["weight_in_mg"], "stone_count": job["stones_in"],
                "deposit": job["held"], "total": job["price"],
                "assignee": member.name if member else job["vendor"]}

    async def board(self, stage: Any = None) -> dict[str, Any]:
        """The open jobs by stage: how many in each lane and the most urgent of them (rush
        first, then by promised date), each with where the piece is and its days in the
        stage; with `stage`, that lane alone and more of it."""
        only = fields.choice(stage, "stage", [s for s in JOB_STAGES if s not in CLOSED],
                             vocabulary="job_stage", lower=False)
        limit = STAGE_LIMIT if only else LANE_LIMIT

        def read(tx: Tx) -> dict[str, Any]:
            counts = {r["stage"]: r["n"] for r in tx.all(
                "SELECT stage, COUNT(*) AS n FROM jobs WHERE stage NOT IN ('collected',"
                " 'cancelled') GROUP BY stage")}
            lanes: dict[str, list[dict[str, Any]]] = {}
            for lane in counts if only is None else [s for s in counts if s == only]:
                lanes[lane] = self._cards(tx, tx.all(
                    "SELECT * FROM jobs WHERE stage = ? ORDER BY express DESC, promised IS"
                    " NULL, promised, job_id LIMIT ?", (lane, limit)))
            return {"counts": counts, "lanes": lanes}

        got = await self.ledger.read(read)
        order = [*CUSTOM_STAGES[:1], *REPAIR_STAGES, *CUSTOM_STAGES, *SPECIAL_STAGES]
        stages = list(dict.fromkeys(s for s in order if s in got["counts"]))
        return {"lanes": [{"stage": s, "count": got["counts"][s], "jobs": got["lanes"][s]}
                          for s in stages if s in got["lanes"]],
                "open": sum(got["counts"].values()), "stage": only}

    @staticmethod
    def _held_of(tx: Tx, job_ids: list[str]) -> dict[str, int]:
        if not job_ids:
            return {}
        marks = ",".join("?" * len(job_ids))
        return {r["account_id"].split(":", 1)[1]: r["balance"] for r in tx.all(
            f"SELECT account_id, balance FROM accounts WHERE account_id IN ({marks})",
            [f"deposit:{j}" for j in job_ids])}

    _OVERDUE = ("FROM jobs WHERE stage NOT IN ('collected', 'cancelled') AND ((promised < ?"
                " AND stage != 'ready') OR (stage = 'ready' AND stage_ts < ?))")

    def _overdue_since(self) -> tuple[str, str]:
        waited = self.now() - timedelta(days=self.settings.collect_overdue_days)
        return self.today().isoformat(), waited.strftime("%Y-%m-%dT%H:%M:%S")

    async def overdue(self) -> list[dict[str, Any]]:
        """Jobs past their promised date still in the work, and jobs ready but not collected
        for `collect_overdue_days`."""
        since = self._overdue_since()
        return await self.ledger.read(lambda tx: self._cards(tx, tx.all(
            f"SELECT * {self._OVERDUE} ORDER BY promised LIMIT 500", since)))

    async def overdue_count(self) -> int:
        since = self._overdue_since()
        return await self.ledger.read(lambda tx: tx.one(
            f"SELECT COUNT(*) AS n {self._OVERDUE}", since)["n"])

    async def figures(self, days: int = 90) -> dict[str, Any]:
        """The workshop at a glance (the reports read it): open jobs by kind and stage, how
        many are overdue, the average turnaround of the jobs collected in the last `days`
        (opened to collected, in days), and the deposits held (a liability, per currency)."""
        since = self._overdue_since()
        start = (self.now() - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S")

        def read(tx: Tx) -> dict[str, Any]:
            stages = [dict(r) for r in tx.all(
                "SELECT kind, stage, COUNT(*) AS jobs, SUM(price) AS value, MIN(currency) AS"
                " currency FROM jobs WHERE stage NOT IN ('collected', 'cancelled')"
                " GROUP BY kind, stage ORDER BY kind, stage")]
            turned = tx.one(
                "SELECT COUNT(*) AS jobs, AVG(julianday(j.ts) - julianday(jobs.opened_ts))"
                " AS days FROM jobs JOIN journal j ON j.seq = jobs.collected_seq"
                " WHERE jobs.stage = 'collected' AND j.ts >= ?", (start,))
            held = {r["unit"]: r["held"] for r in tx.all(
                "SELECT unit, SUM(balance) AS held FROM accounts WHERE kind = 'deposit'"
                " AND balance > 0 GROUP BY unit ORDER BY unit")}
            return {"open": stages, "open_jobs": sum(r["jobs"] for r in stages),
                    "overdue": tx.one(f"SELECT COUNT(*) AS n {self._OVERDUE}", since)["n"],
                    "collected": turned["jobs"], "turnaround_days": None if not turned["jobs"]
                    else round(turned["days"], 1), "since_days": days, "deposits_held": held}

        return await self.ledger.read(read)

    async def of_client(self, client_id: str) -> list[dict[str, Any]]:
        def read(tx: Tx) -> list[dict[str, Any]]:
            return self._cards(tx, tx.all(
                "SELECT * FROM jobs WHERE client_id = ? ORDER BY opened_seq DESC LIMIT 100",
                (client_id,)))

        return await self.ledger.read(read)

    # -- stages -------------------------------------------------------------------------

    async def move(self, job_id: Any, move: Any, note: Any = None, *, actor: str,
                   expect: Any = None) -> dict[str, Any]:
        """Move a job on. `move` may be "next" (what a scan on the board does); `expect`,
        the stage the screen saw, makes a second board's scan of the same envelope a
        refusal rather than a second move."""
        current = await self._row(job_id)
        machine = self.settings.machine(current["kind"])
        if move == "next":
            after = next_move(machine, current["stage"],
                              () if current["vendor"] else ("at_vendor",))
            if after is None:
                raise Refused("no_next_stage", "{job_id} is {stage}: there is no next stage"
                              " to scan it to", job_id=current["job_id"],
                              stage=Term("job_stage", current["stage"]))
            move = after.name
        if move in ("collect", "uncollect"):
            raise Refused("collect_at_counter", "a job is handed back at the counter: weigh"
                          " it, take the balance and her signature")
        may = self._may(actor)
        checked, note = machine.check(current["stage"], move, note, may=may)
        client_id = current["client_id"]

        def command(tx: Tx) -> Entry:
            row = self._row_in(tx, current["job_id"])
            if expect is not None and row["stage"] != expect:
                raise Refused("stage_changed", "{job_id} was moved meanwhile: it is {stage}"
                              " now", job_id=row["job_id"],
                              stage=Term("job_stage", row["stage"]))
            self._guard_in(tx, row, checked)
            active = tx.one("SELECT status FROM clients WHERE client_id = ?", (client_id,))
            key = f"client:{client_id}" if active and active["status"] != "forgotten" \
                else None
            entry = machine.move_in(tx, subject=f"job:{row['job_id']}",
                                    thing_id=row["job_id"], stage=row["stage"],
                                    name=checked.name, note=note, actor=actor, may=may,
                                    note_key=key)
            if checked.target == "ready" and key:
                self.notify_in(tx, row, "ready", actor)
            hold = self.store.holds.of_in(tx, row["item_id"]) if row["item_id"] else None
            if checked.target == "cancelled" and hold and hold["ref"] == row["job_id"]:
                self.store.holds.release_in(tx, row["item_id"], actor=actor,
                                            reason="order cancelled", ref=row["job_id"])
            return entry

        await self.ledger.transact(command)
        return await self.get(current["job_id"])

    def _guard_in(self, tx: Tx, row: dict[str, Any], move: Move) -> None:
        """What a custom order needs before it goes on: a deposit held to leave `deposit`,
        a quote she accepted to leave `approval`."""
        if move.target in ("on_hold", "cancelled") or move.name == "revise":
            return
        if row["stage"] == "deposit" and self.deposits.held_in(tx, row["job_id"]) <= 0:
            raise Refused("deposit_missing", "{job_id} waits for her deposit: take it first",
                          job_id=row["job_id"])
        if row["stage"] == "approval" and tx.one(
                "SELECT 1 FROM job_quotes WHERE job_id = ? AND accepted_seq IS NOT NULL",
                (row["job_id"],)) is None:
            raise Refused("quote_not_accepted", "{job_id} waits for her approval of a quote",
                          job_id=row["job_id"])

    # -- messages to her ----------------------------------------------------------------

    def notify_in(self, tx: Tx, row: dict[str, Any], purpose: str, actor: str, *,
                  amount: int | None = None, day: str | None = None, once: str = "") -> None:
        """Ask HQ to tell her (the outbox: nothing is sent from here), in the store's words;
        nothing when she may not be reached on any channel (the job page says why)."""
        name = self.store.clients.names.name_of(row["client_id"]) or ""
        params = {"name": name, "job_id": row["job_id"], "store": self.store.config.store_name,
                  "kind": Term("job_kind", row["kind"]),
                  "piece": Term("category", row["item_kind"]),
                  "balance": self.money(max(row["price"] - self.deposits.held_in(
                      tx, row["job_id"]), 0)),
                  "amount": self.money(amount or 0), "day": self.words.day(day) if day else ""}
        subject, body = {
            "ready": (N_("Your {piece} is ready ({job_id})"),
                      N_("Dear {name}, your {piece} ({kind} {job_id}) is ready for you at"
                         " {store}. Still to pay: {balance}.")),
            "quote": (N_("Your quote for {job_id}"),
                      N_("Dear {name}, the quote for your {piece} ({job_id}) is {amount},"
                         " valid until {day}. We look forward to your answer.")),
            "overdue": (N_("Your {piece} is waiting for you ({job_id})"),
                        N_("Dear {name}, your {piece} ({job_id}) has been ready at {store}"
                           " for some time: we look forward to seeing you.")),
        }[purpose]
        self.outbox.request_in(
            tx, client_id=row["client_id"], purpose=purpose, ref=f"job:{row['job_id']}",
            text={"subject": self.words.render(subject, params),
                  "body": self.words.render(body, params)},
            actor=actor, today=self.today(), once=once)

    async def remind_overdue(self, *, actor: str = "workshop") -> int:
        """Jobs ready and not collected for `collect_overdue_days`: one reminder each a
        week (the week's Monday makes it once only)."""
        waiting = [j for j in await self.overdue() if j["stage"] == "ready"]
        week = (self.today() - timedelta(days=self.today().weekday())).isoformat()

        def command(tx: Tx) -> int:
            for job in waiting:
                self.notify_in(tx, self._row_in(tx, job["job_id"]), "overdue", actor,
                               once=week)
            return len(waiting)

        return await self.ledger.transact(command) if waiting else 0

    # -- money --------------------------------------------------------------------------

    def deposit_check_in(self, tx: Tx, ref: str, *, refund: bool) -> dict[str, Any]:
        row = self._row_in(tx, ref)
        if not refund and row["stage"] in CLOSED:
            raise Refused("job_closed", "{job_id} is {stage}: it takes no more payments",
                          job_id=row["job_id"], stage=Term("job_stage", row["stage"]),
                          field="tenders")
        due = row["price"] - self.deposits.held_in(tx, ref)
        if not refund and due <= 0:
            raise Refused("nothing_due", "nothing is due on {job_id}: its price is paid or"
                          " not set yet", job_id=row["job_id"], field="tenders")
        return {"client_id": row["client_id"], "due": max(due, 0)}

    def delivered_by(self, tx: Tx, ref: str, sale: dict[str, Any]) -> bool:
        row = self._row_in(tx, ref)
        for line in sale.get("lines") or []:
            if line.get("service") == f"job:{ref}":
                return True
            if row["item_id"] and line.get("item_id") == row["item_id"]:
                return True
        return False

    def service_line_in(self, tx: Tx, ref: str) -> dict[str, Any]:
        """A repair's charge as a sale line: its services' total, the service tax."""
        row = self._row_in(tx, ref.split(":", 1)[1])
        if row["kind"] != "repair":
            raise Refused("not_a_service", "{job_id} delivers a piece: sell the piece",
                          job_id=row["job_id"])
        names = [str(self.words.term("job_service", s["service"]))
                 for s in json.loads(row["services"])]
        description = self.words.render(N_("Repair {job_id}: {services}"),
                                        {"job_id": row["job_id"],
                                         "services": ", ".join(names)})
        return {"description": description, "unit_price": row["price"],
                "tax_code": self.settings.service_tax or self.store.config.default_tax}

    async def pay(self, job_id: Any, raw: Any, *, actor: str) -> dict[str, Any]:
        """A deposit or an instalment: `register_id` and `tenders`."""
        f = Form(raw, allowed=("register_id", "tenders"))
        register_id = f.get("register_id")
        f.done()
        register_id = self.store.sales.check_register(register_id)
        number = job_number(job_id)
        await self.ledger.transact(lambda tx: self.deposits.take_in(
            tx, number, register_id=register_id, tenders=f.get("tenders"), actor=actor))
        return await self.get(number)

    async def refund(self, job_id: Any, raw: Any, *, actor: str) -> dict[str, Any]:
        """Pay back what a cancelled job holds (a manager's approval, spent with it)."""
        f = Form(raw, allowed=("register_id", "tenders", "approval_id"))
        register_id = self.store.sales.check_register(f.get("register_id"))
        approval_id = f.get("approval_id")
        f.done()
        current = await self._row(job_id)
        if current["stage"] not in CLOSED:
            raise Refused("refund_open_job", "{job_id} is {stage}: deposits are paid back"
                          " once a job is cancelled (or what is left after its pick-up)", job_id=current["job_id"],
                          stage=Term("job_stage", current["stage"]))
        tenders = f.get("tenders")
        amount = sum(t.get("amount", 0) for t in tenders if isinstance(t, dict)
                     and isinstance(t.get("amount"), int)) if isinstance(tenders, list) else 0
        action = {"kind": "deposit_refund", "job_id": current["job_id"], "amount": amount,
                  "register_id": register_id}

        def command(tx: Tx) -> Entry:
            Approvals.spend_in(tx, approval_id, action, actor=actor)
            return self.deposits.refund_in(tx, current["job_id"], register_id=register_id,
                                           tenders=tenders, actor=actor,
                                           approved_by=Approvals.approver_in(tx, approval_id))

        await self.ledger.transact(command)
        return await self.get(current["job_id"])

    async def revise(self, job_id: Any, raw: Any, *, actor: str) -> dict[str, Any]:
        """The bench's estimate, or a change of who does the work or when: new services
        and prices (a repair), the jeweler or workshop, the promised date."""
        f = Form(raw, allowed=("services", "assignee", "vendor", "promised", "price"))
        current = await self._row(job_id)
        if current["stage"] in CLOSED:
            raise Refused("job_closed", "{job_id} is {stage}: it cannot be changed",
                          job_id=current["job_id"], stage=Term("job_stage", current["stage"]))
        change: dict[str, Any] = {}
        private = None
        if f.get("services") is not None:
            if current["kind"] != "repair":
                f.problem("services", "only a repair's services are priced one by one")
            else:
                shown, private = f.check(_services, f.get("services"), "services",
                                         required=True) or ([], [])
                change["services"] = shown
                change["price"] = sum(s["price"] for s in shown)
        if f.get("price") is not None and current["kind"] == "special":
            change["price"] = f.amount("price", required=True)
        if "assignee" in f.raw or "vendor" in f.raw:
            assignee = f.identifier("assignee", required=False, what="a staff id")
            vendor = f.choice("vendor", self.settings.vendors, lower=False)
            if assignee and (self.store.staff.get(assignee) is None):
                f.problem("assignee", "“{staff_id}” is not on the staff roster",
                          staff_id=assignee)
            change["assignee"], change["vendor"] = assignee, vendor
        if "promised" in f.raw:
            promised = f.check(parse_day, f.get("promised"), "promised")
            change["promised"] = promised.isoformat() if promised else None
        f.done()
        if not change:
            raise Invalid("nothing to change", None)

        def command(tx: Tx) -> Entry:
            row = self._row_in(tx, current["job_id"])
            payload = {"job_id": row["job_id"], **change}
            if "price" in change and change["price"] < self.deposits.held_in(tx, row["job_id"]):
                raise Refused("price_below_paid", "the new price is less than what she has"
                              " paid: refund the difference first")
            if private is not None:
                details = {**(self._payload_in(tx, row["details_seq"]) or {}), "job_id": row["job_id"], "services": private}
                payload["details_seq"] = tx.append(
                    "job.details", f"job:{row['job_id']}", details, actor=actor,
                    key_id=f"client:{row['client_id']}").seq
            return tx.append("job.revised", f"job:{row['job_id']}", payload, actor=actor)

        await self.ledger.transact(command)
        return await self.get(current["job_id"])

    async def set_piece(self, job_id: Any, raw: Any, *, actor: str) -> dict[str, Any]:
        """A special order's piece has come: received into stock (`piece`: its details) or
        named when it is already in the books (`item_id`, from another store), and set
        aside for her until she collects it, in one transaction."""
        f = Form(raw, allowed=("item_id", "piece"))
        item_id = f.identifier("item_id", required=False, what="a serial")
        current = await self._row(job_id)
        piece = None
        if isinstance(f.get("piece"), dict):
            try:
                piece = self.store.items.validate({"category": current["item_kind"],
                                                   "tag_price": current["price"], "cost": 0,
                                                   **f.get("piece")})
            except Invalid as exc:
                f.problems += exc.problems
        if bool(item_id) == bool(f.get("piece")):
            f.problem(None, "give the piece's serial, or its details to receive it")
        f.done()
        if current["kind"] != "special":
            raise Refused("piece_special_only", "only a special order waits for a piece to"
                          " come")
        if current["stage"] in CLOSED or current["item_id"]:
            raise Refused("piece_set", "{job_id} already has its piece, or is closed",
                          job_id=current["job_id"])

        def command(tx: Tx) -> Entry:
            row = self._row_in(tx, current["job_id"])
            serial = item_id
            if piece is not None:
                serial = self.store.items.receive_in(tx, piece, actor).subject.split(":", 1)[1]
            assert serial is not None
            self.store.holds.hold_in(tx, serial, purpose="order", ref=row["job_id"],
                                     detail={}, actor=actor)
            return tx.append("job.revised", f"job:{row['job_id']}",
                             {"job_id": row["job_id"], "item_id": serial}, actor=actor)

        await self.ledger.transact(command)
        return await self.get(current["job_id"])

    # -- quotes -------------------------------------------------------------------------

    async def quote(self, job_id: Any, raw: Any, *, actor: str) -> dict[str, Any]:
        """A quote for a custom order: an amount valid N days, with the metal rate of the
        day locked when HQ has one for its metal and fineness."""
        f = Form(raw, allowed=("amount", "valid_days"))
        amount = f.amount("amount", required=True)
        if amount == 0:
            f.problem("amount", "a quote is more than zero")
        days = f.whole("valid_days", lo=1, hi=365) or self.settings.quote_valid_days
        f.done()
        current = await self._row(job_id)
        if current["kind"] != "custom":
            raise Refused("quote_custom_only", "quotes are for custom orders")
        if current["stage"] in CLOSED:
            raise Refused("job_closed", "{job_id} is {stage}: it takes no quote",
                          job_id=current["job_id"], stage=Term("job_stage", current["stage"]))
        specs = json.loads(current["specs"])
        rate = None
        if specs.get("metal") and specs.get("fineness"):  # the one price function's rate
            rate = await self.store.prices.rate_for(specs["metal"], specs["fineness"],
                                                    specs.get("weight_mg"))
        valid_until = (self.today() + timedelta(days=days)).isoformat()

        def command(tx: Tx) -> Entry:
            row = self._row_in(tx, current["job_id"])
            last = tx.one("SELECT MAX(version) AS v FROM job_quotes WHERE job_id = ?",
                          (row["job_id"],))["v"] or 0
            entry = tx.append("job.quoted", f"job:{row['job_id']}",
                              {"job_id": row["job_id"], "version": last + 1, "amount": amount,
                               "valid_until": valid_until, "rate": rate}, actor=actor)
            self.notify_in(tx, row, "quote", actor, amount=amount, day=valid_until,
                           once=str(last + 1))
            return entry

        await self.ledger.transact(command)
        return await self.get(current["job_id"])

    async def accept_quote(self, job_id: Any, version: Any, *, actor: str) -> dict[str, Any]:
        """She accepts a quote: the latest, still valid, and at least what she has paid."""
        number = job_number(job_id)
        version = fields.whole(version, "version", lo=1, hi=1000, required=True)
        today = self.today().isoformat()

        def command(tx: Tx) -> Entry:
            row = self._row_in(tx, number)
            if row["stage"] in CLOSED:
                raise Refused("job_closed", "{job_id} is {stage}", job_id=number,
                              stage=Term("job_stage", row["stage"]))
            quote = tx.one("SELECT * FROM job_quotes WHERE job_id = ? AND version = ?",
                           (number, version))
            if quote is None:
                raise NotFound("{job_id} has no quote {version}", job_id=number,
                               version=version)
            latest = tx.one("SELECT MAX(version) AS v FROM job_quotes WHERE job_id = ?",
                            (number,))["v"]
            if version != latest:
                raise Refused("quote_superseded", "quote {version} was replaced by quote"
                              " {latest}", version=version, latest=latest)
            if quote["accepted_seq"] is not None:
                raise Refused("quote_accepted", "quote {version} was already accepted",
                              version=version)
            if quote["valid_until"] < today:
                raise Refused("quote_expired", "quote {version} was valid until {day}: make"
                              " a new one", version=version,
                              day=self.words.day(quote["valid_until"]))
            if quote["amount"] < self.deposits.held_in(tx, number):
                raise Refused("price_below_paid", "the quote is less than what she has paid")
            return tx.append("job.quote_accepted", f"job:{number}",
                             {"job_id": number, "version": version,
                              "amount": quote["amount"]}, actor=actor)

        await self.ledger.transact(command)
        return await self.get(number)

    # -- files --------------------------------------------------------------------------

    async def attach(self, job_id: Any, data: bytes, *, kind: Any, name: str | None,
                     declared_type: str | None, actor: str) -> dict[str, Any]:
        """A photo, a sketch, a CAD file or a certificate added to a job: kept encrypted
        under her key (the attachment store checks what it is), named by the job's entry,
        in one transaction."""
        kind = fields.choice(kind or "photo", "kind", FILE_KINDS, vocabulary="job_file",
                             lower=False)
        current = await self._row(job_id)
        if current["stage"] in CLOSED:
            raise Refused("job_closed", "{job_id} is {stage}: it takes no more files",
                          job_id=current["job_id"], stage=Term("job_stage", current["stage"]))
        attachments = self.store.attachments
        async with attachments.staged(data, owner=f"client:{current['client_id']}",
                                      kind=kind or "photo", name=name,
                                      declared_type=declared_type) as staged:
            def command(tx: Tx) -> dict[str, Any]:
                row = self._row_in(tx, current["job_id"])
                stored = attachments.stored_in(tx, staged, actor=actor)
                self.attach_in(tx, row, stored, kind or "photo", actor)
                return stored

            stored = await self.ledger.transact(command)
        return {**stored, "job": await self.get(current["job_id"])}

    def attach_in(self, tx: Tx, row: dict[str, Any], stored: dict[str, Any], kind: str,
                  actor: str) -> Entry:
        return tx.append("job.attached", f"job:{row['job_id']}",
                         {"job_id": row["job_id"], "hash": stored["hash"],
                          "size": stored["size"], "content_type": stored["content_type"],
                          "kind": kind}, actor=actor)

    # -- pick-up ------------------------------------------------------------------------

    def _checked_out(self, row: dict[str, Any], weight: int | None,
                     stones: int | None) -> list[str]:
        """What differs from intake (in words): a weight beyond the scale's tolerance, a
        different count of stones."""
        out = []
        if row["weight_in_mg"] is not None and weight is not None and abs(
                weight - row["weight_in_mg"]) > self.settings.weight_tolerance_mg:
            out.append(self.words.render(N_("weight {now} (at intake {then})"), {
                "now": self.words.grams(weight), "then": self.words.grams(row["weight_in_mg"])}))
        if row["stones_in"] is not None and stones is not None and stones != row["stones_in"]:
            out.append(self.words.render(N_("{now} stones (at intake {then})"),
                                         {"now": stones, "then": row["stones_in"]}))
        return out

    async def collect(self, job_id: Any, raw: Any, *, actor: str,
                      signature: bytes | None = None) -> dict[str, Any]:
        """Hand the job back: weighed and counted again (a difference needs a manager), the
        balance paid through a sale (what she paid before applied as the `deposit` tender),
        her signature kept, the job collected; one transaction. A custom order's piece is
        received into stock (`piece`) and sold to her in it."""
        f = Form(raw, allowed=("register_id", "weight_mg", "stone_count", "tenders",
                               "approval_id", "piece", "signature"))
        weight = f.whole("weight_mg", lo=0, hi=MAX_WEIGHT_MG)
        stones = f.whole("stone_count", lo=0, hi=999)
        approval_id = f.get("approval_id")
        tenders = f.get("tenders") or []
        if not isinstance(tenders, list):
            f.problem("tenders", "the tenders are a list")
        current = await self._row(job_id)
        if current["weight_in_mg"] is not None and weight is None:
            f.problem("weight_mg", "weigh the piece again: it was weighed at intake")
        if current["stones_in"] is not None and stones is None:
            f.problem("stone_count", "count the stones again: they were counted at intake")
        if signature is None:
            f.problem("signature", "she signs for what she takes back")
        piece = None
        if current["kind"] == "custom" and not current["item_id"]:  # not made into one yet
            raw_piece = f.get("piece")
            if not isinstance(raw_piece, dict):
                f.problem("piece", "describe the finished piece to receive it into stock")
            else:
                specs = json.loads(current["specs"])
                made = {"item_id": current["job_id"], "sku": f"BESPOKE-{current['job_id']}",
                        "category": current["item_kind"], "tag_price": current["price"],
                        "cost": 0, "metal": specs.get("metal"),
                        "fineness": specs.get("fineness"), "stones": specs.get("stones", [])}
                try:
                    piece = self.store.items.validate(
                        {**{k: v for k, v in made.items() if v is not None}, **raw_piece})
                except Invalid as exc:
                    f.problems += [Invalid(p.message, f"piece.{p.field}" if p.field
                                           else "piece", **p.params)
                                   for p in exc.problems]
        f.done()
        register_id = self.store.sales.check_register(f.get("register_id"))
        if current["stage"] != "ready":
            raise Refused("not_ready", "{job_id} is {stage}: it is handed back once ready",
                          job_id=current["job_id"], stage=Term("job_stage", current["stage"]))
        differences = self._checked_out(current, weight, stones)
        action = {"kind": "pickup_difference", "job_id": current["job_id"],
                  "weight_mg": weight, "stone_count": stones}
        machine = self.settings.machine(current["kind"])
        may = self._may(actor)

        def command(tx: Tx) -> Entry:
            row = self._row_in(tx, current["job_id"])
            approved_by = None
            if differences:
                Approvals.spend_in(tx, approval_id, action, actor=actor)
                approved_by = Approvals.approver_in(tx, approval_id)
            held = self.deposits.held_in(tx, row["job_id"])
            item_id = row["item_id"]
            if piece is not None:
                item_id = self.store.items.receive_in(tx, piece, actor).subject.split(":", 1)[1]
                tx.execute("UPDATE jobs SET item_id = ? WHERE job_id = ?",
                           (item_id, row["job_id"]))  # so the deposit finds what it pays
                row["item_id"] = item_id
            sale_id = None
            if row["kind"] == "repair" and row["price"] == 0 and held == 0:
                pass  # a repair under guarantee: nothing to sell
            else:
                line: dict[str, Any]
                if row["kind"] == "repair":
                    line = {"service": f"job:{row['job_id']}", "quantity": 1,
                            "unit_price": None, "discount": 0}
                elif item_id:
                    line = {"item_id": item_id, "quantity": 1, "unit_price": row["price"],
                            "discount": 0, "confirm_held": True}
                else:
                    raise Refused("no_piece", "{job_id} has no piece to hand over yet: receive"
                                  " it first", job_id=row["job_id"])
                priced = self.store.sales.price_in(tx, [line], 0)
                if held > priced["total"]:
                    raise Refused("paid_over", "{job_id} holds {held}, more than its {total}:"
                                  " refund the difference first", job_id=row["job_id"],
                                  held=self.money(held), total=self.money(priced["total"]))
                paying = [{"type": "deposit", "amount": held,
                           "detail": {"reference": row["job_id"]}}] if held else []
                paying += self._tenders(tenders)
                sale = self.store.sales.complete_in(
                    tx, register_id=register_id, actor=actor, lines=[line], tenders=paying,
                    client_id=row["client_id"], discount=0)
                sale_id = sale.subject.split(":", 1)[1]
            signed = self.store.attachments.stored_in(tx, staged, actor=actor)
            self.attach_in(tx, row, signed, "signature", actor)
            machine.move_in(tx, subject=f"job:{row['job_id']}", thing_id=row["job_id"],
                            stage=row["stage"], name="collect", note=None, actor=actor,
                            may=may)
            return tx.append("job.collected", f"job:{row['job_id']}", {
                "job_id": row["job_id"], "sale_id": sale_id, "item_id": item_id,
                "weight_mg": weight, "stone_count": stones, "differences": differences,
                "signature": {"hash": signed["hash"], "size": signed["size"]},
                "approved_by": approved_by}, actor=actor)

        assert signature is not None
        async with self.store.attachments.staged(
                signature, owner=f"client:{current['client_id']}", kind="signature",
                name="signature.png", declared_type="image/png") as staged:
            await self.ledger.transact(command)
        return await self.get(current["job_id"])

    # -- a sale that handed a job over, voided (a SaleExtension with no tender) ----------

    tenders: frozenset[str] = frozenset()

    def sold_in(self, tx: Tx, sale: dict[str, Any], actor: str) -> None:
        """Nothing: a job's pick-up sells through `collect`, which records it."""

    def returned_in(self, tx: Tx, sale: dict[str, Any], back: dict[str, Any],
                    actor: str) -> None:
        """A custom piece returned stays a collected job (the piece is back in the books)."""

    def voided_in(self, tx: Tx, sale: dict[str, Any], back: dict[str, Any],
                  actor: str) -> None:
        """The sale that handed a job over, voided: the job is ready again (what she paid
        before is held again, by the deposits), and its piece back in stock with the sale."""
        for row in tx.all("SELECT * FROM jobs WHERE sale_id = ?", (sale["sale_id"],)):
            job = row_dict(row)  # the void was a manager's: so is reopening the job
            self.settings.machine(job["kind"]).move_in(
                tx, subject=f"job:{job['job_id']}", thing_id=job["job_id"],
                stage=job["stage"], name="uncollect",
                note=self.words.render(N_("sale {sale_id} was voided"),
                                       {"sale_id": sale["sale_id"]}),
                actor=actor, may=lambda permission: True)

    @staticmethod
    def _tenders(raw: list[Any]) -> list[dict[str, Any]]:
        if not raw:
            return []
        checked = validate_tenders(raw)
        if any(t["type"] == "deposit" for t in checked):
            raise Invalid("what she paid before is applied by itself: no deposit tender here",
                          "tenders")
        return checked
