"""Transfers between the chain's stores (a boutique, or the warehouse: a store of its own
kind, below): a piece is asked for, packed and shipped by scan, and received by scan at the
other end.

- Asked for: by this store's staff (send one of ours to another store, or ask another store
  for one of theirs: HQ forwards that wish to the sender) or by HQ (`transfer_request`).
  A `transfer.requested` entry; the piece stays in stock until it is scanned out.
- Shipped: the sender scans each piece (`transfer.shipped`, carrying the piece's record):
  its status becomes `in_transit`, so it is out of this store's stock and out of every count
  (a count never expects it, so it is never missing). HQ then tells the chain what is on its
  way (`transfer_expected`, to every store: a misdelivered piece can be booked wherever it
  lands); each store keeps the rows, the destination shows them as expected.
- Received: the receiver scans it (`transfer.received`): the piece enters its books through
  the core's receive path (`item.received`, in stock; a piece that was here before and left
  by transfer comes back to its old record). A piece scanned at a store that was not its
  destination is received there all the same, with a conflict (misdelivered) on both
  screens and at HQ. A scan of a piece not on its way here is refused in words: nothing
  changes.
- Settled: HQ's word on how it ended (`transfer_settled`: received, misdelivered, or overdue
  when not received within `[transfers] overdue_days`); the sender's record of the piece
  becomes `transferred` once it arrived.

The warehouse is a store of the chain like the boutiques (its own hub, its own store id),
marked `[transfers] warehouse = true` in its loupe.toml: the same screen and entries serve
it; only its words differ ("the warehouse"). HQ knows it by its store id.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from hub.config import Config
from hub.core import fields
from hub.core.errors import Invalid, NotFound, Refused
from hub.core.fields import Form
from hub.core.items import (
    ITEM_FIELDS,
    STONE_FIELDS,
    load_piece_tx,
    row_dicts,
    set_piece_statuses,
)
from hub.epc import EpcError, normalise_epc
from hub.ledger.journal import Entry
from hub.ledger.ledger import Tx
from hub.ledger.schema import Migration, Schema
from hub.words import N_, Term

if TYPE_CHECKING:  # the store is built from the layers: no import at run time
    from hub.store import Store

SEND = "transfers.send"  # ask for, ship and receive pieces
PERMISSIONS = {SEND: N_("Send pieces to other stores and receive theirs")}
GRANTS = {"associate": (SEND,), "manager": (SEND,)}

# A store's view of a transfer: asked for, on its way (shipped, or expected here), arrived,
# arrived at the wrong store, late, or called off.
STATUSES = ("requested", "shipped", "received", "misdelivered", "overdue", "cancelled")
ON_THE_WAY = ("shipped", "overdue")
# What of a piece travels with it: its record, never its place in the sender's showcases.
TRAVELS = tuple(f for f in ITEM_FIELDS if f != "location")

SCHEMA = Schema("transfers", (Migration(1, """
CREATE TABLE transfers (
    transfer_id  TEXT PRIMARY KEY,
    item_id      TEXT NOT NULL,
    from_store   TEXT NOT NULL,
    to_store     TEXT NOT NULL,
    status       TEXT NOT NULL,          -- requested | shipped | received | misdelivered |
                                         -- overdue | cancelled
    sku          TEXT,
    description  TEXT,
    category     TEXT,
    tag_price    INTEGER,
    currency     TEXT,
    piece        TEXT,                   -- JSON: the record that travels (set once shipped)
    asked_by     TEXT,                   -- this store's staff, or hq
    requested_seq INTEGER,
    shipped_seq  INTEGER,
    shipped_at   TEXT,
    received_seq INTEGER,
    received_at  TEXT,
    received_by_store TEXT,
    conflict     TEXT,                   -- misdelivered | overdue: what both sides must settle
    updated_seq  INTEGER NOT NULL
);
CREATE INDEX transfers_item ON transfers(item_id, status);
CREATE INDEX transfers_status ON transfers(status, to_store);
"""),), projections=("transfers",))


@dataclass(frozen=True)
class TransferSettings:
    overdue_days: int = 5  # a piece shipped longer ago than this is late (HQ's conflict)
    warehouse: bool = False  # this store is the chain's warehouse


def settings_of(config: Config) -> TransferSettings:
    """`[transfers]` of loupe.toml; a wrong key stops the hub with the key named."""
    section = config.section("transfers")
    d = TransferSettings()
    settings = TransferSettings(
        overdue_days=section.whole("overdue_days", d.overdue_days, 1, 365),
        warehouse=section.flag("warehouse", d.warehouse))
    section.done()
    return settings


# -- projections ------------------------------------------------------------------------------

def _on_requested(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute("INSERT INTO transfers (transfer_id, item_id, from_store, to_store, status, sku,"
               " description, category, tag_price, currency, asked_by, requested_seq,"
               " updated_seq) VALUES (?,?,?,?, 'requested', ?,?,?,?,?,?,?,?)"
               " ON CONFLICT(transfer_id) DO NOTHING",
               (p["transfer_id"], p["item_id"], p["from_store"], p["to_store"], p.get("sku"),
                p.get("description"), p.get("category"), p.get("tag_price"),
                p.get("currency"), entry.actor, entry.seq, entry.seq))


def _travelling(tx: Tx, entry: Entry, p: dict[str, Any]) -> None:
    """A transfer on its way (shipped here, or HQ's word that it is shipped elsewhere)."""
    piece = p["piece"]
    tx.execute(
        "INSERT INTO transfers (transfer_id, item_id, from_store, to_store, status, sku,"
        " description, category, tag_price, currency, piece, shipped_seq, shipped_at,"
        " updated_seq) VALUES (?,?,?,?, 'shipped', ?,?,?,?,?,?,?,?,?)"
        " ON CONFLICT(transfer_id) DO UPDATE SET status = 'shipped', sku = excluded.sku,"
        " description = excluded.description, category = excluded.category,"
        " tag_price = excluded.tag_price, currency = excluded.currency,"
        " piece = excluded.piece, shipped_seq = excluded.shipped_seq,"
        " shipped_at = excluded.shipped_at, updated_seq = excluded.updated_seq",
        (p["transfer_id"], p["item_id"], p["from_store"], p["to_store"], piece.get("sku"),
         piece.get("description"), piece.get("category"), piece.get("tag_price"),
         p.get("currency"), json.dumps(piece, sort_keys=True), entry.seq,
         p.get("shipped_at") or entry.ts, entry.seq))


def _on_shipped(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    _travelling(tx, entry, p)


def _on_expected(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    row = tx.one("SELECT status FROM transfers WHERE transfer_id = ?", (p["transfer_id"],))
    if row is None or row["status"] == "requested":  # never undoes an arrival seen here
        _travelling(tx, entry, p)


def _on_received(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    status = "misdelivered" if p["misdelivered"] else "received"
    tx.execute("UPDATE transfers SET status = ?, received_seq = ?, received_at = ?,"
               " received_by_store = ?, conflict = ?, updated_seq = ? WHERE transfer_id = ?",
               (status, entry.seq, entry.ts, p["at_store"],
                "misdelivered" if p["misdelivered"] else None, entry.seq, p["transfer_id"]))


def _on_settled(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    status = p["status"]
    if status == "overdue":  # late: still receivable, a conflict until it arrives
        tx.execute("UPDATE transfers SET status = CASE WHEN status IN ('shipped', 'overdue')"
                   " THEN 'overdue' ELSE status END, conflict = COALESCE(conflict, 'overdue'),"
                   " updated_seq = ? WHERE transfer_id = ?", (entry.seq, p["transfer_id"]))
        return
    tx.execute("UPDATE transfers SET status = ?, received_by_store = ?, conflict = ?,"
               " updated_seq = ? WHERE transfer_id = ?",
               (status, p.get("at_store"), "misdelivered" if status == "misdelivered" else None,
                entry.seq, p["transfer_id"]))


def _on_cancelled(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute("UPDATE transfers SET status = 'cancelled', updated_seq = ? WHERE transfer_id = ?",
               (entry.seq, p["transfer_id"]))


def _statuses_too(handler: Any) -> Any:
    """The projection of an entry that also moves a piece: the piece's status as
    `piece_changes` says (in transit, in stock, transferred), then the transfer's row."""
    def both(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
        set_piece_statuses(tx, entry, p)
        handler(tx, entry, p)
    return both


PROJECTIONS = {
    "transfer.requested": _on_requested,
    "transfer.shipped": _statuses_too(_on_shipped),
    "transfer.expected": _on_expected,
    "transfer.received": _statuses_too(_on_received),
    "transfer.settled": _statuses_too(_on_settled),
    "transfer.cancelled": _on_cancelled,
}


# -- checking what comes in -------------------------------------------------------------------

def _store_id(value: Any, field: str) -> str:
    return fields.identifier(value, field, what="a store id")


def _check_piece(raw: Any) -> dict[str, Any]:
    """The record of a piece as HQ relays it (written by another hub: moved, not refused,
    beyond the fields a receiving store needs)."""
    f = Form(raw, "piece")
    piece = {k: f.get(k) for k in TRAVELS if f.has(k)}
    f.text("item_id", required=True, max_len=40)
    f.text("sku", required=True, max_len=60)
    f.text("description", required=True)
    f.text("category", required=True, max_len=40)
    f.amount("tag_price", required=True)
    f.done()
    stones = raw.get("stones") if isinstance(raw, dict) else None
    if isinstance(stones, list):
        piece["stones"] = [{k: s.get(k) for k in STONE_FIELDS if k in s}
                           for s in stones if isinstance(s, dict)]
    return piece


def _message_ids(body: dict[str, Any]) -> dict[str, str]:
    f = Form(body, allowed=None)
    out = {"transfer_id": f.text("transfer_id", required=True, max_len=60),
           "item_id": f.text("item_id", required=True, max_len=40),
           "from_store": f.text("from_store", required=True, max_len=40),
           "to_store": f.text("to_store", required=True, max_len=40)}
    f.done()
    return out


class Transfers:
    """`runtime.transfers`: ask for, ship and receive pieces; what is on its way."""

    def __init__(self, store: Store, settings: TransferSettings | None = None) -> None:
        self.store, self.ledger, self.items = store, store.ledger, store.items
        self.settings = settings or TransferSettings()
        self.store_id = store.config.store_id
        self.now = lambda: datetime.now(UTC)

    # -- asking -----------------------------------------------------------------------------

    async def request(self, item_id: Any, *, to_store: Any = None, from_store: Any = None,
                      actor: str) -> dict[str, Any]:
        """Ask for a transfer: one of this store's pieces to `to_store`, or a piece of
        `from_store` to here (HQ forwards the wish to that store)."""
        f = Form({"item_id": item_id, "to_store": to_store, "from_store": from_store})
        item_id = f.text("item_id", required=True, max_len=40)
        to_store = f.text("to_store", max_len=40)
        from_store = f.text("from_store", max_len=40)
        if bool(to_store) == bool(from_store):
            f.problem("to_store", "name the store the piece goes to, or the store it comes from")
        f.done()
        to_store = to_store or self.store_id
        from_store = from_store or self.store_id
        if to_store == from_store:
            raise Invalid("a piece is sent to another store than its own", "to_store")
        _store_id(to_store, "to_store")
        _store_id(from_store, "from_store")

        def command(tx: Tx) -> Entry:
            record: dict[str, Any] = {}
            if from_store == self.store_id:
                record = self._sendable_in(tx, item_id)
            return self._request_in(tx, item_id, from_store, to_store, record, actor)

        entry = await self.ledger.transact(command)
        return await self.get(self.ledger.decrypt(entry)["transfer_id"])

    def _sendable_in(self, tx: Tx, item_id: str) -> dict[str, Any]:
        piece = load_piece_tx(tx, item_id)
        if piece["status"] != "in_stock":
            raise Refused("not_in_stock", "piece {item_id} is {status}: only a piece in stock"
                          " is sent to another store", item_id=item_id,
                          status=Term("status", piece["status"]))
        busy = tx.one("SELECT transfer_id, to_store FROM transfers WHERE item_id = ? AND"
                      " from_store = ? AND status = 'requested'", (item_id, self.store_id))
        if busy is not None:
            raise Refused("already_asked", "piece {item_id} is already to be sent to"
                          " {to_store} (transfer {transfer_id})", item_id=item_id,
                          to_store=busy["to_store"], transfer_id=busy["transfer_id"])
        return {k: piece[k] for k in ("sku", "description", "category", "tag_price")}

    def _request_in(self, tx: Tx, item_id: str, from_store: str, to_store: str,
                    record: dict[str, Any], actor: str,
                    transfer_id: str | None = None) -> Entry:
        transfer_id = transfer_id or f"{self.store_id}-T{tx.seq + 1}"
        return tx.append("transfer.requested", f"item:{item_id}", {
            "transfer_id": transfer_id, "item_id": item_id, "from_store": from_store,
            "to_store": to_store, "currency": self.items.currency if record else None,
            **record}, actor=actor)

    async def cancel(self, transfer_id: Any, *, actor: str) -> dict[str, Any]:
        """Call off a transfer not shipped yet (the piece never left its showcase)."""
        transfer_id = fields.text(transfer_id, "transfer_id", required=True, max_len=60)

        def command(tx: Tx) -> None:
            row = self._row_in(tx, transfer_id)
            if row["status"] != "requested":
                raise Refused("not_requested", "transfer {transfer_id} is {status}: only a"
                              " transfer not yet shipped is called off",
                              transfer_id=transfer_id,
                              status=Term("transfer_status", row["status"]))
            tx.append("transfer.cancelled", f"item:{row['item_id']}",
                      {"transfer_id": transfer_id, "item_id": row["item_id"]}, actor=actor)

        await self.ledger.transact(command)
        return await self.get(transfer_id)

    # -- scanning ---------------------------------------------------------------------------

    async def scan(self, code: Any, *, actor: str) -> dict[str, Any]:
        """A piece scanned on the Transfers screen: shipped when it is to be sent from
        here, received when it is on its way; anything else refused, nothing changed."""
        code = fields.text(code, "code", required=True, max_len=100)

        def command(tx: Tx) -> tuple[str, Entry]:
            item_id = self._item_of_in(tx, code)
            if item_id is not None:
                out = tx.one("SELECT transfer_id FROM transfers WHERE item_id = ? AND"
                             " from_store = ? AND status = 'requested' ORDER BY requested_seq",
                             (item_id, self.store_id))
                if out is not None:
                    return "shipped", self._ship_in(tx, out["transfer_id"], actor)
                coming = tx.one("SELECT * FROM transfers WHERE item_id = ? AND status IN"
                                " ('shipped', 'overdue') ORDER BY shipped_seq DESC",
                                (item_id,))
                if coming is not None:
                    return "received", self._receive_in(tx, dict(coming), actor)
            raise self._why_not(tx, item_id or code)

        what, entry = await self.ledger.transact(command)
        done = await self.get(self.ledger.decrypt(entry)["transfer_id"])
        return {"done": what, "transfer": done}

    def _item_of_in(self, tx: Tx, code: str) -> str | None:
        """The serial a scanned code means: a piece here, or one on its way (by serial or
        by the EPC of its tag, which travels with it)."""
        code = code.strip()
        row = tx.one("SELECT item_id FROM items WHERE item_id = ?", (code,))
        if row is None:
            row = tx.one("SELECT item_id FROM transfers WHERE item_id = ?", (code,))
        if row is None:
            try:
                epc = normalise_epc(code)
            except EpcError:
                return None
            row = tx.one("SELECT item_id FROM items WHERE epc = ?", (epc,))
            if row is None:
                for t in tx.all("SELECT item_id, piece FROM transfers WHERE status IN"
                                " ('shipped', 'overdue') AND piece IS NOT NULL"):
                    if json.loads(t["piece"]).get("epc") == epc:
                        return t["item_id"]
        return row["item_id"] if row else None

    def _why_not(self, tx: Tx, item_id: str) -> Refused:
        """A scan that neither ships nor receives: why, in words."""
        row = tx.one("SELECT * FROM transfers WHERE item_id = ? ORDER BY updated_seq DESC",
                     (item_id,))
        here = tx.one("SELECT status FROM items WHERE item_id = ?", (item_id,))
        if row is not None and row["status"] in ON_THE_WAY and row["from_store"] == self.store_id:
            return Refused("sent_from_here", "piece {item_id} was sent from this store to"
                           " {to_store}: it is received there", item_id=item_id,
                           to_store=row["to_store"])
        if (row is not None and row["status"] in ("received", "misdelivered")
                and row["received_by_store"] == self.store_id):
            return Refused("already_received", "piece {item_id} was already received here"
                           " (transfer {transfer_id}): nothing was changed", item_id=item_id,
                           transfer_id=row["transfer_id"])
        if here is not None and here["status"] == "in_stock":
            return Refused("not_to_send", "piece {item_id} is in stock here and no transfer"
                           " asks for it: ask for one first (To send)", item_id=item_id)
        if here is not None:
            return Refused("not_in_transit", "piece {item_id} is {status} here and not on its"
                           " way to this store: nothing was changed", item_id=item_id,
                           status=Term("status", here["status"]))
        return Refused("not_in_transit", "piece “{item_id}” is not on its way to this store:"
                       " nothing was changed", item_id=item_id)

    def _ship_in(self, tx: Tx, transfer_id: str, actor: str) -> Entry:
        row = self._row_in(tx, transfer_id)
        piece = load_piece_tx(tx, row["item_id"])
        if piece["status"] != "in_stock":
            raise Refused("not_in_stock", "piece {item_id} is {status}: only a piece in stock"
                          " is shipped", item_id=row["item_id"],
                          status=Term("status", piece["status"]))
        record = {k: piece[k] for k in TRAVELS if piece.get(k) is not None}
        stones = tx.all("SELECT type, carat_cents, shape, colour, clarity, lab, certificate"
                        " FROM item_stones WHERE item_id = ? ORDER BY pos", (row["item_id"],))
        record["stones"] = [{k: v for k, v in dict(s).items() if v is not None}
                            for s in stones]
        return tx.append("transfer.shipped", f"item:{row['item_id']}", {
            "transfer_id": transfer_id, "item_id": row["item_id"],
            "from_store": row["from_store"], "to_store": row["to_store"],
            "currency": self.items.currency, "piece": record,
            "shipped_at": self.now().isoformat()}, actor=actor)

    def _receive_in(self, tx: Tx, row: dict[str, Any], actor: str) -> Entry:
        item_id = row["item_id"]
        if row["from_store"] == self.store_id:
            raise Refused("sent_from_here", "piece {item_id} was sent from this store to"
                          " {to_store}: it is received there", item_id=item_id,
                          to_store=row["to_store"])
        here = tx.one("SELECT status FROM items WHERE item_id = ?", (item_id,))
        if here is None:
            piece = json.loads(row["piece"] or "{}")
            if piece.get("tax_code") not in self.items.tax_codes:
                piece.pop("tax_code", None)  # another store's rate: this store's default
            piece.setdefault("cost", 0)
            try:
                checked = self.items.validate({k: v for k, v in piece.items()
                                               if k in (*TRAVELS, "stones")})
            except Invalid as exc:
                raise Refused("record_unreadable", "piece {item_id} arrived with a record this"
                              " store cannot book ({why}): ask head office",
                              item_id=item_id, why=str(exc)) from exc
            self.items.receive_in(tx, checked, actor)
        elif here["status"] != "transferred":  # it left by transfer once: its record returns
            raise Refused("already_here", "piece {item_id} is already in this store's books"
                          " ({status})", item_id=item_id, status=Term("status", here["status"]))
        return tx.append("transfer.received", f"item:{item_id}", {
            "transfer_id": row["transfer_id"], "item_id": item_id,
            "from_store": row["from_store"], "to_store": row["to_store"],
            "at_store": self.store_id, "misdelivered": row["to_store"] != self.store_id},
            actor=actor)

    # -- HQ's messages ----------------------------------------------------------------------

    def request_message(self, tx: Tx, checked: dict[str, Any]) -> None:
        """HQ asks this store to send a piece: the request is on its To send list."""
        if checked["from_store"] != self.store_id:
            raise Invalid("transfer {transfer_id} is sent from {from_store}, not from this"
                          " store", "from_store", transfer_id=checked["transfer_id"],
                          from_store=checked["from_store"])
        if tx.one("SELECT 1 FROM transfers WHERE transfer_id = ?", (checked["transfer_id"],)):
            return  # this store asked for it itself: HQ's relay changes nothing
        record = self._sendable_in(tx, checked["item_id"])
        self._request_in(tx, checked["item_id"], checked["from_store"], checked["to_store"],
                         record, "hq", transfer_id=checked["transfer_id"])

    def expected_message(self, tx: Tx, checked: dict[str, Any]) -> None:
        """HQ's word that a piece is on its way (to here, or elsewhere in the chain)."""
        if checked["from_store"] == self.store_id:
            return  # our own shipment: its entry is here already
        tx.append("transfer.expected", f"item:{checked['item_id']}", checked, actor="hq")

    def settled_message(self, tx: Tx, checked: dict[str, Any]) -> None:
        """HQ's word on how a transfer ended: the sender's piece is gone once it arrived."""
        row = tx.one("SELECT status FROM transfers WHERE transfer_id = ?",
                     (checked["transfer_id"],))
        if row is None:
            return  # never on this store's screens
        body = dict(checked)
        piece = tx.one("SELECT status FROM items WHERE item_id = ?", (checked["item_id"],))
        if (checked["status"] in ("received", "misdelivered")
                and checked["from_store"] == self.store_id
                and piece is not None and piece["status"] == "in_transit"):
            body["piece_status"] = "transferred"
        tx.append("transfer.settled", f"item:{checked['item_id']}", body, actor="hq")

    # -- reads ------------------------------------------------------------------------------

    def _row_in(self, tx: Tx, transfer_id: str) -> dict[str, Any]:
        row = tx.one("SELECT * FROM transfers WHERE transfer_id = ?", (transfer_id,))
        if row is None:
            raise NotFound("no transfer {transfer_id}", transfer_id=transfer_id)
        return dict(row)

    async def get(self, transfer_id: str) -> dict[str, Any]:
        row = await self.ledger.fetch_one("SELECT * FROM transfers WHERE transfer_id = ?",
                                          (transfer_id,))
        if row is None:
            raise NotFound("no transfer {transfer_id}", transfer_id=transfer_id)
        return self._view(dict(row))

    def _view(self, row: dict[str, Any]) -> dict[str, Any]:
        row.pop("piece", None)
        late = False
        if row["status"] in ON_THE_WAY and row.get("shipped_at"):
            try:
                shipped = datetime.fromisoformat(row["shipped_at"])
                late = self.now() - shipped > timedelta(days=self.settings.overdue_days)
            except ValueError:
                late = False
        row["late"] = late or row["status"] == "overdue"
        return row

    async def board(self) -> dict[str, list[dict[str, Any]]]:
        """The Transfers screen: to send from here, on their way from here, expected here,
        received here (the last 50), and the conflicts to settle."""
        me = self.store_id
        rows = row_dicts(await self.ledger.fetch(
            "SELECT * FROM transfers WHERE from_store = ? OR to_store = ? OR"
            " received_by_store = ? ORDER BY updated_seq DESC LIMIT 500", (me, me, me)))
        views = [self._view(r) for r in rows]
        return {
            "to_send": [r for r in views if r["status"] == "requested" and r["from_store"] == me],
            "asked": [r for r in views if r["status"] == "requested" and r["to_store"] == me],
            "in_transit": [r for r in views
                           if r["status"] in ON_THE_WAY and r["from_store"] == me],
            "expected": [r for r in views if r["status"] in ON_THE_WAY and r["to_store"] == me],
            "received": [r for r in views if r["status"] in ("received", "misdelivered")
                         and r["received_by_store"] == me][:50],
            "conflicts": [r for r in views if r["conflict"]][:50],
        }

    async def in_transit(self) -> list[dict[str, Any]]:
        """Every transfer on its way that this store knows of (its own, and the chain's
        as HQ announced them)."""
        rows = row_dicts(await self.ledger.fetch(
            "SELECT * FROM transfers WHERE status IN ('shipped', 'overdue')"
            " ORDER BY shipped_seq"))
        return [self._view(r) for r in rows]


class TransferMessage:
    """One of HQ's transfer messages, as the HQ book takes a layer's types."""

    def __init__(self, apply: Any, piece: bool = False) -> None:
        self._apply, self._piece = apply, piece

    def validate(self, body: dict[str, Any]) -> dict[str, Any]:
        checked: dict[str, Any] = _message_ids(body)
        if self._piece:
            checked["piece"] = _check_piece(body.get("piece"))
            checked["currency"] = body.get("currency")
            checked["shipped_at"] = body.get("shipped_at")
        if "status" in body:
            checked["status"] = fields.choice(body.get("status"), "status",
                                              ("received", "misdelivered", "overdue"),
                                              required=True, lower=False)
            checked["at_store"] = body.get("at_store")
            checked["detail"] = fields.text(body.get("detail"), "detail", max_len=500)
        return checked

    def apply_in(self, tx: Tx, checked: dict[str, Any]) -> None:
        self._apply(tx, checked)


def messages_of(transfers: Transfers) -> dict[str, TransferMessage]:
    return {"transfer_request": TransferMessage(transfers.request_message),
            "transfer_expected": TransferMessage(transfers.expected_message, piece=True),
            "transfer_settled": TransferMessage(transfers.settled_message)}
