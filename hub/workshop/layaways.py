"""Layaways: a piece in stock set aside for a client who pays for it over a schedule (area
`layaways`).

- **Opening** (`layaway.opened` {layaway_id, client_id, item_id, description, price,
  schedule [{due, amount}], currency}) holds the piece (`hub.core.holds`, purpose `layaway`,
  ref L12) in the same transaction: only a piece in stock and held by nothing else, at its
  tag price of that day, locked. The schedule's amounts add up to the price, its days from
  today on, each after the one before; given as a count of monthly instalments, the price
  (less a first payment made then) is split by the largest remainder. Nothing in the entry is
  about her but her opaque id: the books stay whole when she is erased.
- **Payments** are deposits (`hub.workshop.deposits`, liabilities until the piece is hers):
  each at most what is still due. A held piece is sold to no one else: the cart and the sale
  refuse it (code `held`) unless confirmed, and a confirmed sale to another client is
  refused here too.
- **Delivery** is the sale of the piece to her at the locked price with everything she paid
  applied as the `deposit` tender, and tenders for what is left (`complete`, or the register
  with `confirm_held`): this module, a `SaleExtension` with no tender of its own, then
  moves the layaway to `completed` in the sale's transaction (the sale ends the hold).
  Voiding that sale opens the layaway again and holds the piece again (what she had paid is
  held again by the deposits); a return leaves it completed, and what the return put back
  on its account is paid back with `refund`.
- **Cancelling** (a manager, with a note) ends the hold and settles the money by the store's
  policy (`[layaway]`): the store keeps `cancel_fee_pct` of what she paid (at most
  `cancel_fee_max`, when set) and pays the rest back. The fee is taken off the deposit
  account as an `expired` movement, so the liability ends at zero and the fee shows among the
  day's account movements as what the store kept, apart from the refund.
- **Overdue**: an instalment whose day has passed with less paid than everything due by then.
  It raises a `payment_due` follow-up for her associate (care, not marketing: never held
  back by the cooling-off period).

Stages are data (`MACHINE`): open → completed | cancelled; completed → open only when its sale
is voided. Overdue is computed from the schedule and the payments, never a stage.
"""

from __future__ import annotations

import calendar
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from hub.clienteling.rules import FollowUp, Rules
from hub.config import Config
from hub.core import fields
from hub.core.accounts import Movement
from hub.core.errors import Invalid, NotFound, Refused
from hub.core.fields import Form
from hub.core.holds import HELD_BECAUSE
from hub.core.items import row_dict
from hub.core.sales import validate_tenders
from hub.core.stages import Move, StageMachine, record_move
from hub.ledger.journal import Entry
from hub.ledger.ledger import Tx
from hub.ledger.schema import Migration, Schema
from hub.money import Money, allocate, round_half_up_div
from hub.words import N_, Term
from hub.workshop.deposits import KIND as DEPOSIT_KIND
from hub.workshop.deposits import TENDER, Deposits, account_of
from hub.workshop.jobs import INTAKE, MANAGE

if TYPE_CHECKING:  # the layer declares this area: no import of the store at load
    from hub.store import Store

# The workshop's own permissions: taking a layaway, its payments and its delivery are the
# counter's (`workshop.intake`); cancelling one and paying money back a manager's.
PERMISSIONS: dict[str, str] = {}
GRANTS: dict[str, tuple[str, ...]] = {}

LETTER = "L"  # layaway numbers: L and the seq of their first entry
LAYAWAY_NUMBER = re.compile(r"^L[1-9][0-9]{0,11}$")
MAX_INSTALMENTS = 24
LIST_LIMIT = 500
FOLLOWUP_KIND = "payment_due"

MACHINE = StageMachine(
    "layaway", stages=("open", "completed", "cancelled"), initial="open",
    moves=(
        Move("complete", ("open",), "completed", INTAKE),
        Move("cancel", ("open",), "cancelled", MANAGE, needs_note=True),
        # Only a voided sale makes it (the void was a manager's): never asked for directly.
        Move("reopen", ("completed",), "open", MANAGE, needs_note=True),
    ),
    vocabulary="layaway_stage", move_vocabulary="layaway_move")

SCHEMA = Schema("layaways", (Migration(1, """
CREATE TABLE layaways (
    layaway_id  TEXT PRIMARY KEY,           -- L and the seq of its first entry
    client_id   TEXT NOT NULL,              -- opaque: her name is in her profile only
    item_id     TEXT NOT NULL,
    description TEXT NOT NULL,              -- the piece as it was described that day
    price       INTEGER NOT NULL,           -- its tag price that day, locked
    currency    TEXT NOT NULL,
    schedule    TEXT NOT NULL,              -- JSON [{due: YYYY-MM-DD, amount}]
    last_due    TEXT NOT NULL,
    stage       TEXT NOT NULL,              -- open | completed | cancelled
    stage_seq   INTEGER NOT NULL,
    stage_ts    TEXT NOT NULL,
    opened_seq  INTEGER NOT NULL,
    opened_ts   TEXT NOT NULL,
    opened_by   TEXT NOT NULL,
    sale_id     TEXT,                       -- the sale that delivered it
    paid        INTEGER,                    -- at cancellation: what she had paid,
    fee         INTEGER,                    -- what the store kept by its policy,
    refunded    INTEGER,                    -- and what it paid back
    updated_seq INTEGER NOT NULL
);
CREATE INDEX layaways_stage ON layaways(stage, opened_seq);
CREATE INDEX layaways_client ON layaways(client_id, opened_seq);
CREATE INDEX layaways_item ON layaways(item_id, stage);
CREATE INDEX layaways_sale ON layaways(sale_id) WHERE sale_id IS NOT NULL;

CREATE TABLE layaway_moves (
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
CREATE INDEX layaway_moves_of ON layaway_moves(thing_id, seq);
"""),), projections=("layaways", "layaway_moves"))


# -- settings -------------------------------------------------------------------------------

@dataclass(frozen=True)
class LayawaySettings:
    """`[layaway]` in loupe.toml (every key optional)."""

    cancel_fee_pct: int = 10   # of what she paid, kept when a layaway is given up
    cancel_fee_max: int = 0    # minor units: the most kept (0: no maximum)
    max_days: int = 365        # the last instalment at most this many days from opening


def layaway_settings_of(config: Config) -> LayawaySettings:
    section = config.section("layaway")
    d = LayawaySettings()
    settings = LayawaySettings(
        cancel_fee_pct=section.whole("cancel_fee_pct", d.cancel_fee_pct, 0, 100),
        cancel_fee_max=section.whole("cancel_fee_max", d.cancel_fee_max, 0, 10**12),
        max_days=section.whole("max_days", d.max_days, 7, 1096))
    section.done()
    return settings


def cancel_fee(paid: int, settings: LayawaySettings) -> int:
    """What the store keeps of `paid` when the layaway is given up."""
    fee = round_half_up_div(paid * settings.cancel_fee_pct, 100)
    if settings.cancel_fee_max:
        fee = min(fee, settings.cancel_fee_max)
    return min(fee, paid)


# -- the schedule ---------------------------------------------------------------------------

def add_months(day: date, months: int) -> date:
    """The same day `months` later; the month's last day when it is shorter (31 → 30)."""
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def split_schedule(price: int, first: int, count: int, first_due: date,
                   today: date) -> list[dict[str, Any]]:
    """`count` monthly instalments from `first_due` of what a first payment of `first`
    (due today) leaves of `price`, split by the largest remainder."""
    rest = price - first
    out = [{"due": today.isoformat(), "amount": first}] if first else []
    if rest > 0:
        for i, amount in enumerate(allocate(rest, [1] * count)):
            if amount:
                out.append({"due": add_months(first_due, i).isoformat(), "amount": amount})
    return out


def check_schedule(value: Any, key: str, *, price: int, first: int, today: date,
                   max_days: int, currency: str) -> list[dict[str, Any]]:
    """The schedule as asked: {instalments, first_due} (monthly), or the list of
    [{due, amount}] adding up to the price, from today on, each day after the one before."""
    last_day = today + timedelta(days=max_days)
    if isinstance(value, dict):
        f = Form(value, key, allowed=("instalments", "first_due"))
        count = f.whole("instalments", lo=1, hi=MAX_INSTALMENTS, required=True)
        raw_first = f.day("first_due")
        f.done()
        assert count is not None
        first_due = date.fromisoformat(raw_first) if raw_first else add_months(today, 1)
        if first_due <= today:
            raise Invalid("the first instalment is due after today", f"{key}.first_due")
        schedule = split_schedule(price, first, count, first_due, today)
    elif isinstance(value, list):
        if not value or len(value) > MAX_INSTALMENTS:
            raise Invalid("a schedule has 1 to {max} instalments", key, max=MAX_INSTALMENTS)
        schedule, problems = [], []
        for i, raw in enumerate(value):
            f = Form(raw, f"{key}[{i}]", allowed=("due", "amount"))
            due = f.day("due")
            amount = f.amount("amount", required=True)
            if due is None and not f.get("due"):
                f.problem("due", "say the day it is due")
            if amount == 0:
                f.problem("amount", "an instalment is more than zero")
            if due is not None and date.fromisoformat(due) < today:
                f.problem("due", "this day has passed")
            if due is not None and schedule and schedule[-1]["due"] and due <= schedule[-1]["due"]:
                f.problem("due", "each instalment is due after the one before")
            problems += f.problems
            schedule.append({"due": due, "amount": amount or 0})
        if problems:
            raise Invalid.many(problems)
        total = sum(s["amount"] for s in schedule)
        if total != price:
            raise Invalid("the instalments add up to {total}, the price is {price}", key,
                          total=Money(total, currency), price=Money(price, currency))
    else:
        raise Invalid("a schedule is a number of instalments and a first due day, or the"
                      " list of instalments", key)
    if date.fromisoformat(schedule[-1]["due"]) > last_day:
        raise Invalid("the last instalment is at most {days} days away", key, days=max_days)
    return schedule


def standing(schedule: list[dict[str, Any]], paid: int, today: date) -> dict[str, Any]:
    """Where a schedule stands with `paid` received: each instalment paid, partly paid or
    not (what was paid goes to the earliest first), what is overdue (due before today and
    not paid) since when, and the next instalment to pay."""
    left, rows = paid, []
    overdue, since, upcoming = 0, None, None
    for s in schedule:
        covered = min(left, s["amount"])
        left -= covered
        owed = s["amount"] - covered
        late = owed > 0 and s["due"] < today.isoformat()
        status = "paid" if owed == 0 else "overdue" if late else "due"
        rows.append({"due": s["due"], "amount": s["amount"], "paid": covered,
                     "status": status})
        if late:
            overdue += owed
            since = since or s["due"]
        elif owed and upcoming is None:
            upcoming = {"due": s["due"], "amount": owed}
    return {"instalments": rows, "overdue": overdue > 0, "overdue_amount": overdue,
            "overdue_since": since, "next_due": upcoming}


def as_given(checked: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Checked tenders as a register gives them, for a service that checks them itself."""
    return [{"type": t["type"], "amount": t["amount"], **t["detail"]} for t in checked]


def layaway_number(value: Any, key: str = "layaway_id") -> str:
    raw = (fields.text(value, key, required=True, max_len=16) or "").strip().upper()
    if not LAYAWAY_NUMBER.match(raw):
        raise Invalid("“{value}” is not a layaway number (such as L1042)", key, value=raw)
    return raw


# -- projections ----------------------------------------------------------------------------

def _on_opened(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute(
        "INSERT INTO layaways (layaway_id, client_id, item_id, description, price, currency,"
        " schedule, last_due, stage, stage_seq, stage_ts, opened_seq, opened_ts, opened_by,"
        " updated_seq) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (p["layaway_id"], p["client_id"], p["item_id"], p["description"], p["price"],
         p["currency"], json.dumps(p["schedule"], sort_keys=True), p["schedule"][-1]["due"],
         MACHINE.initial, entry.seq, entry.ts, entry.seq, entry.ts, entry.actor, entry.seq))


def _on_moved(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute("UPDATE layaways SET stage = ?, stage_seq = ?, stage_ts = ?, updated_seq = ?"
               " WHERE layaway_id = ?", (p["to"], entry.seq, entry.ts, entry.seq, p["id"]))
    if p["move"] == "reopen":
        tx.execute("UPDATE layaways SET sale_id = NULL WHERE layaway_id = ?", (p["id"],))
    record_move(tx, "layaway_moves", entry, p)


def _on_delivered(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute("UPDATE layaways SET sale_id = ?, updated_seq = ? WHERE layaway_id = ?",
               (p["sale_id"], entry.seq, p["layaway_id"]))


def _on_cancelled(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute("UPDATE layaways SET paid = ?, fee = ?, refunded = ?, updated_seq = ?"
               " WHERE layaway_id = ?",
               (p["paid"], p["fee"], p["refunded"], entry.seq, p["layaway_id"]))


def _on_merged(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None  # a merged client's layaways are the kept client's
    tx.execute("UPDATE layaways SET client_id = ? WHERE client_id = ?",
               (p["client_id"], p["merged_id"]))


PROJECTIONS = {
    "client.merged": _on_merged,
    "layaway.opened": _on_opened,
    MACHINE.moved_kind: _on_moved,
    "layaway.delivered": _on_delivered,
    "layaway.cancelled": _on_cancelled,
}


# -- the service ----------------------------------------------------------------------------

def _everyone(permission: str) -> bool:
    """What follows from a sale or a void the person was allowed to make."""
    return True


class Layaways:
    """The store's layaways: opening, payments, delivery through a sale, cancelling by
    policy, and the overdue instalments; the holder of deposits numbered L (`Holder`) and a
    `SaleExtension` with no tender (a sale of a piece on layaway)."""

    tenders: frozenset[str] = frozenset()

    def __init__(self, store: Store, deposits: Deposits,
                 settings: LayawaySettings | None = None) -> None:
        self.store, self.ledger, self.words = store, store.ledger, store.words
        self.deposits = deposits
        self.settings = settings or LayawaySettings()
        self.currency = store.config.currency
        self.now: Callable[[], datetime] = lambda: datetime.now(UTC)  # tests move it

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
            raise Invalid("no client {client_id}: a layaway is always for a client",
                          "client_id", client_id=client_id) from None
        if client["status"] != "active":
            raise Invalid("client {client_id} is no longer in the book: no layaway can be"
                          " opened for her", "client_id", client_id=client_id)
        return client_id

    # -- opening --------------------------------------------------------------------------

    async def open(self, raw: Any, *, actor: str) -> dict[str, Any]:
        """Set a piece aside for her: `client_id`, `item_id`, `schedule` and, optionally, a
        `first_payment` {register_id, tenders} taken in the same transaction."""
        f = Form(raw, allowed=("client_id", "item_id", "schedule", "first_payment"))
        item_id = f.identifier("item_id", what="a serial")
        first = f.get("first_payment")
        tenders: list[dict[str, Any]] = []
        register_id = None
        if first is not None:
            if not isinstance(first, dict):
                f.problem("first_payment", "a first payment is a register and its tenders")
            else:
                pay = Form(first, "first_payment", allowed=("register_id", "tenders"))
                register_id = pay.check(self.store.sales.check_register,
                                        pay.get("register_id"), "first_payment.register_id")
                tenders = pay.check(self._money_tenders, pay.get("tenders")) or []
                if not tenders and not pay.problems:
                    pay.problem("tenders", "at least one tender is needed")
                f.problems += pay.problems
        client_id = None
        try:
            client_id = await self._active_client(f.get("client_id"))
        except Invalid as exc:
            f.problems.extend(exc.problems)
        if f.get("schedule") is None:
            f.problem("schedule", "say how she pays: a number of instalments, or each one")
        f.done()
        assert client_id and item_id
        schedule_raw, today = f.get("schedule"), self.today()
        paid_now = sum(t["amount"] for t in tenders)

        def command(tx: Tx) -> Entry:
            piece = self.store.holds.holdable_in(tx, item_id)
            price = piece["tag_price"]
            if not price:
                raise Refused("no_price", "piece {item_id} has no price to pay towards",
                              item_id=piece["item_id"])
            if paid_now > price:
                raise Refused("over_balance", "{amount} is more than the {due} still to pay",
                              amount=self.money(paid_now), due=self.money(price),
                              field="first_payment.tenders")
            schedule = check_schedule(schedule_raw, "schedule", price=price, first=paid_now,
                                      today=today, max_days=self.settings.max_days,
                                      currency=self.currency)
            layaway_id = f"{LETTER}{tx.seq + 1}"  # the seq of its first entry: never reused
            opened = tx.append("layaway.opened", f"layaway:{layaway_id}", {
                "layaway_id": layaway_id, "client_id": client_id, "item_id": piece["item_id"],
                "description": piece["description"], "price": price, "schedule": schedule,
                "currency": self.currency}, actor=actor)
            self.store.holds.hold_in(tx, piece["item_id"], purpose="layaway", ref=layaway_id,
                                     detail={}, actor=actor)
            if tenders:
                assert register_id is not None
                self.deposits.take_in(tx, layaway_id, register_id=register_id,
                                      tenders=as_given(tenders), actor=actor)
            return opened

        entry = await self.ledger.transact(command)
        return await self.get(entry.subject.split(":", 1)[1])

    @staticmethod
    def _money_tenders(raw: Any, key: str = "tenders") -> list[dict[str, Any]]:
        if raw in (None, []):
            return []
        checked = validate_tenders(raw)
        if any(t["type"] in (TENDER, "loyalty") for t in checked):
            raise Invalid("a layaway is paid in money: cash, card, transfer...", key)
        return checked

    # -- reads ----------------------------------------------------------------------------

    def _row_in(self, tx: Tx, layaway_id: Any) -> dict[str, Any]:
        number = layaway_number(layaway_id)
        row = tx.one("SELECT * FROM layaways WHERE layaway_id = ?", (number,))
        if row is None:
            raise NotFound("no layaway {layaway_id}", layaway_id=number)
        return row_dict(row)

    async def _row(self, layaway_id: Any) -> dict[str, Any]:
        return await self.ledger.read(lambda tx: self._row_in(tx, layaway_id))

    @staticmethod
    def _held_of(tx: Tx, ids: list[str]) -> dict[str, int]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        return {r["account_id"].split(":", 1)[1]: r["balance"] for r in tx.all(
            f"SELECT account_id, balance FROM accounts WHERE account_id IN ({marks})",
            [account_of(i) for i in ids])}

    def _shape(self, row: dict[str, Any], held: int, today: date) -> dict[str, Any]:
        schedule = json.loads(row["schedule"])
        is_open = row["stage"] == "open"
        paid = {"open": held, "completed": row["price"]}.get(row["stage"], row["paid"] or 0)
        stands = standing(schedule, paid, today)
        out = {
            **row, "schedule": stands["instalments"], "held": held,
            "balance": max(row["price"] - held, 0) if is_open else 0,
            "overdue": stands["overdue"] if is_open else False,
            "overdue_amount": stands["overdue_amount"] if is_open else 0,
            "overdue_since": stands["overdue_since"] if is_open else None,
            "next_due": stands["next_due"] if is_open else None,
            "client_name": self.store.clients.names.name_of(row["client_id"]),
        }
        if row["stage"] == "cancelled":
            for s in out["schedule"]:
                if s["status"] != "paid":
                    s["status"] = "cancelled"
        if is_open:
            fee = cancel_fee(held, self.settings)
            out["if_cancelled"] = {"fee": fee, "refund": held - fee}
        return out

    async def get(self, layaway_id: Any) -> dict[str, Any]:
        """A layaway: the piece, the schedule with what is paid of each instalment, the
        balance, whether it is overdue, its payments and its timeline."""
        today = self.today()

        def read(tx: Tx) -> dict[str, Any]:
            row = self._row_in(tx, layaway_id)
            moves = [row_dict(r) for r in tx.all(
                "SELECT * FROM layaway_moves WHERE thing_id = ? ORDER BY seq",
                (row["layaway_id"],))]
            return {"row": row, "moves": moves,
                    "held": self.deposits.held_in(tx, row["layaway_id"])}

        got = await self.ledger.read(read)
        layaway = self._shape(got["row"], got["held"], today)
        for m in got["moves"]:
            if m.get("note_seq"):
                note = await self.ledger.payload_at(m["note_seq"])
                m["note"] = (note or {}).get("note")
        layaway["timeline"] = got["moves"]
        layaway["payments"] = await self.deposits.payments(layaway["layaway_id"])
        return layaway

    async def _list(self, where: str, params: tuple[Any, ...], order: str = "opened_seq",
                    today: date | None = None) -> list[dict[str, Any]]:
        today = today or self.today()

        def read(tx: Tx) -> list[dict[str, Any]]:
            rows = [row_dict(r) for r in tx.all(
                f"SELECT * FROM layaways WHERE {where} ORDER BY {order} LIMIT ?",
                (*params, LIST_LIMIT))]
            held = self._held_of(tx, [r["layaway_id"] for r in rows])
            return [self._shape(r, held.get(r["layaway_id"], 0), today) for r in rows]

        return await self.ledger.read(read)

    async def open_ones(self) -> list[dict[str, Any]]:
        """The layaways open now, the soonest to end first, each saying if it is overdue."""
        return await self._list("stage = 'open'", (), "last_due, opened_seq")

    async def overdue(self, today: date | None = None) -> list[dict[str, Any]]:
        """The open layaways with an instalment past its day and not paid."""
        listed = await self._list("stage = 'open'", (), "last_due, opened_seq", today)
        return [layaway for layaway in listed if layaway["overdue"]]

    async def of_client(self, client_id: str) -> list[dict[str, Any]]:
        """Her layaways, the newest first."""
        return await self._list("client_id = ?", (client_id,), "opened_seq DESC")

    # -- payments -------------------------------------------------------------------------

    def deposit_check_in(self, tx: Tx, ref: str, *, refund: bool) -> dict[str, Any]:
        row = self._row_in(tx, ref)
        if not refund and row["stage"] != "open":
            raise Refused("layaway_closed", "layaway {layaway_id} is {stage}: it takes no more"
                          " payments", layaway_id=row["layaway_id"],
                          stage=Term("layaway_stage", row["stage"]), field="tenders")
        due = row["price"] - self.deposits.held_in(tx, ref)
        if not refund and due <= 0:
            raise Refused("nothing_due", "nothing is due on layaway {layaway_id}: it is paid,"
                          " the piece is hers to take", layaway_id=row["layaway_id"],
                          field="tenders")
        return {"client_id": row["client_id"], "due": max(due, 0)}

    def delivered_by(self, tx: Tx, ref: str, sale: dict[str, Any]) -> bool:
        """A sale to her of the piece set aside."""
        row = self._row_in(tx, ref)
        return sale.get("client_id") == row["client_id"] and any(
            line.get("item_id") == row["item_id"] for line in sale.get("lines") or [])

    async def pay(self, layaway_id: Any, raw: Any, *, actor: str) -> dict[str, Any]:
        """An instalment: `register_id` and `tenders`, at most what is still due."""
        f = Form(raw, allowed=("register_id", "tenders"))
        register_id = f.check(self.store.sales.check_register, f.get("register_id"))
        tenders = f.check(self._money_tenders, f.get("tenders"))
        if not tenders and not f.problems:
            f.problem("tenders", "at least one tender is needed")
        f.done()
        number = layaway_number(layaway_id)
        await self.ledger.transact(lambda tx: self.deposits.take_in(
            tx, number, register_id=register_id, tenders=as_given(tenders), actor=actor))
        return await self.get(number)

    # -- delivery -------------------------------------------------------------------------

    async def complete(self, layaway_id: Any, raw: Any, *, actor: str) -> dict[str, Any]:
        """Sell her the piece: at the locked price, everything she paid applied as the
        deposit tender, `tenders` for what is left (refused while anything is left
        unpaid). The sale ends the hold; the layaway is completed in its transaction."""
        f = Form(raw, allowed=("register_id", "tenders"))
        register_id = f.check(self.store.sales.check_register, f.get("register_id"))
        tenders = f.check(self._money_tenders, f.get("tenders")) or []
        f.done()
        assert register_id is not None
        number = layaway_number(layaway_id)
        may = self._may(actor)

        def command(tx: Tx) -> Entry:
            row = self._row_in(tx, number)
            if row["stage"] != "open":
                raise Refused("layaway_closed", "layaway {layaway_id} is {stage}: there is"
                              " nothing more to hand over", layaway_id=number,
                              stage=Term("layaway_stage", row["stage"]))
            MACHINE.check(row["stage"], "complete", None, may=may)  # the role's permission
            held = self.deposits.held_in(tx, number)
            line = {"item_id": row["item_id"], "quantity": 1, "unit_price": row["price"],
                    "discount": 0, "confirm_held": True}
            paying = [{"type": TENDER, "amount": held,
                       "detail": {"reference": number}}] if held else []
            return self.store.sales.complete_in(
                tx, register_id=register_id, actor=actor, lines=[line],
                tenders=paying + tenders, client_id=row["client_id"], discount=0)

        await self.ledger.transact(command)
        return await self.get(number)

    # -- a sale, return or void of a piece on layaway (a SaleExtension) ------------------

    def sold_in(self, tx: Tx, sale: dict[str, Any], actor: str) -> None:
        """A piece on an open layaway is sold to her only, at its locked price, with all she
        paid applied: then the layaway is completed by this sale. To anyone else it is
        refused, even confirmed at the register."""
        for line in sale["lines"]:
            if not line.get("item_id"):
                continue
            found = tx.one("SELECT * FROM layaways WHERE item_id = ? AND stage = 'open'",
                           (line["item_id"],))
            if found is None:
                continue
            row = row_dict(found)
            number = row["layaway_id"]
            if sale.get("client_id") != row["client_id"]:
                raise Refused("held", HELD_BECAUSE["layaway"], item_id=row["item_id"],
                              ref=number)
            if line["unit_price"] != row["price"]:
                raise Refused("layaway_price", "layaway {layaway_id} keeps piece {item_id} at"
                              " {price}: it is sold at that price", layaway_id=number,
                              item_id=row["item_id"], price=self.money(row["price"]))
            left = self.deposits.held_in(tx, number)
            if not self.store.accounts.done_in(tx, account_of(number), "applied",
                                               sale["sale_id"]):
                # the deposits' part of this sale comes after ours: count what it will apply
                left -= sum(t["amount"] for t in sale["tenders"] if t["type"] == TENDER
                            and t["detail"].get("reference") == number)
            if left != 0:
                raise Refused("layaway_unapplied", "layaway {layaway_id} holds {held} she"
                              " paid: it all goes to this sale (the deposit tender)",
                              layaway_id=number, held=self.money(
                                  self.deposits.held_in(tx, number)), field="tenders")
            MACHINE.move_in(tx, subject=f"layaway:{number}", thing_id=number, stage="open",
                            name="complete", note=None, actor=actor, may=_everyone)
            tx.append("layaway.delivered", f"layaway:{number}",
                      {"layaway_id": number, "sale_id": sale["sale_id"],
                       "item_id": row["item_id"]}, actor=actor)

    def returned_in(self, tx: Tx, sale: dict[str, Any], back: dict[str, Any],
                    actor: str) -> None:
        """A piece she had and brought back stays a completed layaway: the return is the
        returns policy's, and what it put back on the layaway's account is paid back with
        `refund`."""

    def voided_in(self, tx: Tx, sale: dict[str, Any], back: dict[str, Any],
                  actor: str) -> None:
        """The sale that delivered a layaway, voided: the piece never left, so it is set
        aside for her again and the layaway is open again (what she had paid is held again
        by the deposits)."""
        for found in tx.all("SELECT * FROM layaways WHERE sale_id = ? AND stage = 'completed'",
                            (sale["sale_id"],)):
            row = row_dict(found)
            MACHINE.move_in(tx, subject=f"layaway:{row['layaway_id']}",
                            thing_id=row["layaway_id"], stage=row["stage"], name="reopen",
                            note=self.words.render(N_("sale {sale_id} was voided"),
                                                   {"sale_id": sale["sale_id"]}),
                            actor=actor, may=_everyone)
            self.store.holds.hold_in(tx, row["item_id"], purpose="layaway",
                                     ref=row["layaway_id"], detail={}, actor=actor)

    # -- giving it up ---------------------------------------------------------------------

    async def cancel(self, layaway_id: Any, raw: Any, *, actor: str) -> dict[str, Any]:
        """She gives it up (a manager, with a note): the piece goes back to its showcase,
        the store keeps its fee by policy (an `expired` movement on the deposit account) and
        pays the rest back at `register_id` in `tenders` (cash by default) — one
        transaction, the liability at zero after it."""
        f = Form(raw, allowed=("note", "register_id", "tenders"))
        note = f.get("note")
        register_id = None
        if f.get("register_id") is not None:
            register_id = f.check(self.store.sales.check_register, f.get("register_id"))
        tenders = f.check(self._money_tenders, f.get("tenders"))
        f.done()
        current = await self._row(layaway_id)
        if current["stage"] != "open":
            raise Refused("layaway_closed", "layaway {layaway_id} is {stage}: it cannot be"
                          " given up", layaway_id=current["layaway_id"],
                          stage=Term("layaway_stage", current["stage"]))
        may = self._may(actor)
        checked, note = MACHINE.check(current["stage"], "cancel", note, may=may)
        number = current["layaway_id"]

        def command(tx: Tx) -> Entry:
            row = self._row_in(tx, number)
            held = self.deposits.held_in(tx, number)
            fee = cancel_fee(held, self.settings)
            refund = held - fee
            paying = tenders or ([{"type": "cash", "amount": refund, "detail": {}}]
                                 if refund else [])
            if sum(t["amount"] for t in paying) != refund:
                raise Refused("refund_mismatch", "the refund tenders add up to {paid}, the"
                              " refund is {refund}",
                              paid=self.money(sum(t["amount"] for t in paying)),
                              refund=self.money(refund), field="tenders")
            if refund and register_id is None:
                raise Invalid("say at which register she is paid back", "register_id")
            active = tx.one("SELECT status FROM clients WHERE client_id = ?",
                            (row["client_id"],))
            key = f"client:{row['client_id']}" if active and active["status"] != "forgotten" \
                else None
            moved = MACHINE.move_in(tx, subject=f"layaway:{number}", thing_id=number,
                                    stage=row["stage"], name=checked.name, note=note,
                                    actor=actor, may=may, note_key=key)
            entry = tx.append("layaway.cancelled", f"layaway:{number}",
                              {"layaway_id": number, "paid": held, "fee": fee,
                               "refunded": refund}, actor=actor)
            hold = self.store.holds.of_in(tx, row["item_id"])
            if hold is not None and hold["ref"] == number:
                self.store.holds.release_in(tx, row["item_id"], actor=actor,
                                            reason="layaway_cancelled", ref=number)
            if refund:
                assert register_id is not None
                self.deposits.refund_in(tx, number, register_id=register_id,
                                        tenders=as_given(paying), actor=actor,
                                        approved_by=actor)
            if fee:
                self.store.accounts.move_in(tx, Movement(
                    account_of(number), DEPOSIT_KIND, f"client:{row['client_id']}",
                    self.currency, "expired", fee, f"seq:{moved.seq}"), actor=actor)
            return entry

        await self.ledger.transact(command)
        return await self.get(number)

    async def refund(self, layaway_id: Any, raw: Any, *, actor: str) -> dict[str, Any]:
        """Pay back what a return put back on a completed layaway's account (a manager):
        `register_id`, `tenders`, at most what it holds."""
        f = Form(raw, allowed=("register_id", "tenders"))
        register_id = f.check(self.store.sales.check_register, f.get("register_id"))
        tenders = f.check(self._money_tenders, f.get("tenders"))
        if not tenders and not f.problems:
            f.problem("tenders", "at least one tender is needed")
        f.done()
        current = await self._row(layaway_id)
        if not self._may(actor)(MANAGE):
            raise Refused("move_not_permitted", "your role may not make this move: {what}",
                          what=Term("permission", MANAGE))
        if current["stage"] != "completed":
            raise Refused("refund_open_layaway", "layaway {layaway_id} is {stage}: what she"
                          " paid goes to the piece, or back by the store's policy if she"
                          " gives it up", layaway_id=current["layaway_id"],
                          stage=Term("layaway_stage", current["stage"]))
        await self.ledger.transact(lambda tx: self.deposits.refund_in(
            tx, current["layaway_id"], register_id=register_id, tenders=as_given(tenders),
            actor=actor, approved_by=actor))
        return await self.get(current["layaway_id"])

    # -- follow-ups -----------------------------------------------------------------------

    async def followups(self, today: date, rules: Rules,
                        client_id: str | None = None) -> list[FollowUp]:
        """An instalment past its day and not paid: a call from her associate the day after
        it was due (a source of `FollowUps`; care, never held back as marketing)."""
        where, params = "stage = 'open'", ()
        if client_id is not None:
            where, params = "stage = 'open' AND client_id = ?", (client_id,)

        def read(tx: Tx) -> list[tuple[dict[str, Any], int]]:
            rows = [row_dict(r) for r in tx.all(
                f"SELECT layaway_id, client_id, schedule FROM layaways WHERE {where}", params)]
            held = self._held_of(tx, [r["layaway_id"] for r in rows])
            return [(r, held.get(r["layaway_id"], 0)) for r in rows]

        out = []
        for row, held in await self.ledger.read(read):
            stands = standing(json.loads(row["schedule"]), held, today)
            if not stands["overdue"]:
                continue
            on = date.fromisoformat(stands["overdue_since"])
            f = FollowUp(f"{FOLLOWUP_KIND}:{row['client_id']}:{row['layaway_id']}:"
                         f"{on.isoformat()}", FOLLOWUP_KIND, row["client_id"],
                         row["layaway_id"], on, on + timedelta(days=1),
                         stands["overdue_amount"])
            if f.stands(today, rules) is not None:
                out.append(f)
        return out
