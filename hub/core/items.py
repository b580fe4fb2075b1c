"""Pieces (serialized items) and stock lines (quantity items): receipt, edits, moves, status.

A piece has one identity from the day it is received: its serial (the store-unique item id),
an EPC for its RFID tag, and a history that is every journal entry that touched it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from hub.core.errors import Invalid, NotFound, Refused
from hub.core.projector import touch_item
from hub.core.search import SearchPage, index_piece, reindex_piece
from hub.core.search import search as search_pieces
from hub.epc import EpcError, gid96_encode, normalise_epc
from hub.ledger.journal import ENTRY_COLUMNS, Entry
from hub.ledger.ledger import Ledger, Tx
from hub.money import MoneyError, check_amount

CATEGORIES = ("ring", "necklace", "bracelet", "earrings", "pendant", "brooch", "watch",
              "cufflinks", "charm", "loose stone", "set", "other")
METALS = ("platinum", "gold", "silver", "palladium", "titanium", "steel", "other")
COLOURS = ("yellow", "white", "rose", "black", "two-tone", "tri-colour")
OWNERSHIP = ("owned", "memo", "consignment")
STATUSES = ("in_stock", "reserved", "sold", "returned", "memo_out", "in_repair", "in_transfer",
            "missing")
# Where a piece may go from each status by a plain status change (sales have their own rules).
TRANSITIONS = {
    "in_stock": {"reserved", "memo_out", "in_repair", "in_transfer", "missing"},
    "reserved": {"in_stock", "missing"},
    "returned": {"in_stock", "in_repair", "memo_out", "missing"},
    "memo_out": {"in_stock", "missing"},
    "in_repair": {"in_stock", "missing"},
    "in_transfer": {"in_stock", "missing"},
    "missing": {"in_stock"},
    "sold": set(),
}
WHY_NOT_SELLABLE = {
    "sold": "was already sold",
    "reserved": "is reserved",
    "returned": "was returned and awaits inspection: restock it first",
    "memo_out": "is out on memo",
    "in_repair": "is in repair",
    "in_transfer": "is in transfer to another store",
    "missing": "is marked missing",
}

_SERIAL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,39}$")
_TEXT_MAX = 500

# Fields a piece carries; the projection has one column for each scalar here.
ITEM_FIELDS = ("item_id", "sku", "epc", "description", "category", "metal", "fineness", "karat",
               "metal_colour", "metal_weight_mg", "designer", "collection", "cost", "tag_price",
               "tax_code", "ownership", "vendor", "location")
EDITABLE = ("sku", "description", "category", "metal", "fineness", "karat", "metal_colour",
            "metal_weight_mg", "designer", "collection", "cost", "tag_price", "tax_code",
            "ownership", "vendor", "stones")
STONE_FIELDS = ("type", "carat_cents", "shape", "colour", "clarity", "lab", "certificate")


def _text(value: Any, field: str, *, required: bool = False, max_len: int = _TEXT_MAX) -> str | None:
    if value is None or value == "":
        if required:
            raise Invalid("is required", field)
        return None
    if not isinstance(value, str):
        raise Invalid(f"must be text, got {type(value).__name__}", field)
    value = value.strip()
    if len(value) > max_len:
        raise Invalid(f"is longer than {max_len} characters", field)
    if any(ord(ch) < 32 and ch not in "\t" for ch in value):
        raise Invalid("must not contain control characters", field)
    if required and not value:
        raise Invalid("is required", field)
    return value or None


def _int(value: Any, field: str, *, lo: int | None = None, hi: int | None = None,
         required: bool = False) -> int | None:
    if value is None or value == "":
        if required:
            raise Invalid("is required", field)
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(f"must be a whole number, got {value!r}", field)
    if lo is not None and value < lo:
        raise Invalid(f"must be at least {lo}, got {value}", field)
    if hi is not None and value > hi:
        raise Invalid(f"must be at most {hi}, got {value}", field)
    return value


def _choice(value: Any, field: str, choices: tuple[str, ...], *, required: bool = False) -> str | None:
    value = _text(value, field, required=required)
    if value is None:
        return None
    value = value.lower()
    if value not in choices:
        raise Invalid(f"{value!r} is not one of: {', '.join(choices)}", field)
    return value


def money_field(value: Any, field: str) -> int:
    """An amount in minor units from outside (a form, a CSV, HQ), refused with its field."""
    try:
        return check_amount(value, field)
    except MoneyError as exc:
        raise Invalid(str(exc)) from None


def validate_stones(stones: Any) -> list[dict[str, Any]]:
    if stones is None:
        return []
    if not isinstance(stones, list):
        raise Invalid("must be a list (centre stone first)", "stones")
    if len(stones) > 200:
        raise Invalid("more than 200 stones", "stones")
    out = []
    for i, stone in enumerate(stones):
        where = f"stones[{i}]"
        if not isinstance(stone, dict):
            raise Invalid("must be an object", where)
        extra = set(stone) - set(STONE_FIELDS)
        if extra:
            raise Invalid(f"unknown field {sorted(extra)[0]!r}", where)
        out.append({
            "type": _text(stone.get("type"), f"{where}.type", required=True, max_len=60).lower(),
            "carat_cents": _int(stone.get("carat_cents"), f"{where}.carat_cents", lo=1,
                                hi=100_000_00, required=True),
            "shape": _text(stone.get("shape"), f"{where}.shape", max_len=60),
            "colour": _text(stone.get("colour"), f"{where}.colour", max_len=40),
            "clarity": _text(stone.get("clarity"), f"{where}.clarity", max_len=40),
            "lab": _text(stone.get("lab"), f"{where}.lab", max_len=40),
            "certificate": _text(stone.get("certificate"), f"{where}.certificate", max_len=60),
        })
    return out


def validate_piece(raw: dict[str, Any], tax_codes: set[str], default_tax: str,
                   *, partial: bool = False) -> dict[str, Any]:
    """Check a piece's fields; with `partial`, only those present (an edit)."""
    if not isinstance(raw, dict):
        raise Invalid("a piece must be an object")
    allowed = set(ITEM_FIELDS) | {"stones"}
    extra = set(raw) - allowed
    if extra:
        raise Invalid(f"unknown field {sorted(extra)[0]!r}")
    out: dict[str, Any] = {}

    def want(field: str) -> bool:
        return not partial or field in raw

    if want("item_id"):
        serial = _text(raw.get("item_id"), "item_id", required=True, max_len=40)
        if not _SERIAL.match(serial):
            raise Invalid("must be 1-40 letters, digits, '.', '_', '/' or '-'", "item_id")
        out["item_id"] = serial
    if want("sku"):
        out["sku"] = _text(raw.get("sku"), "sku", required=True, max_len=60)
    if want("epc") and raw.get("epc"):
        try:
            out["epc"] = normalise_epc(raw["epc"])
        except EpcError as exc:
            raise Invalid(str(exc), "epc") from None
    if want("description"):
        out["description"] = _text(raw.get("description"), "description", required=True)
    if want("category"):
        out["category"] = _choice(raw.get("category"), "category", CATEGORIES, required=True)
    if want("metal"):
        out["metal"] = _choice(raw.get("metal"), "metal", METALS)
    if want("fineness"):
        out["fineness"] = _int(raw.get("fineness"), "fineness", lo=1, hi=1000)
    if want("karat"):
        out["karat"] = _int(raw.get("karat"), "karat", lo=1, hi=24)
    if want("metal_colour"):
        out["metal_colour"] = _choice(raw.get("metal_colour"), "metal_colour", COLOURS)
    if want("metal_weight_mg"):
        out["metal_weight_mg"] = _int(raw.get("metal_weight_mg"), "metal_weight_mg", lo=0,
                                      hi=100_000_000)
    for field in ("designer", "collection", "vendor"):
        if want(field):
            out[field] = _text(raw.get(field), field, max_len=120)
    for field in ("cost", "tag_price"):
        if want(field):
            out[field] = money_field(raw.get(field), field)
    if want("tax_code"):
        code = raw.get("tax_code") or default_tax
        if code not in tax_codes:
            raise Invalid(f"{code!r} is not a configured tax rate", "tax_code")
        out["tax_code"] = code
    if want("ownership"):
        out["ownership"] = _choice(raw.get("ownership") or "owned", "ownership", OWNERSHIP)
    if want("location"):
        out["location"] = _text(raw.get("location") or "store", "location", max_len=80)
    if want("stones"):
        out["stones"] = validate_stones(raw.get("stones"))
    if not partial:
        if out.get("ownership") in ("memo", "consignment") and not out.get("vendor"):
            raise Invalid(f"a {out['ownership']} piece needs its vendor", "vendor")
        if out.get("metal") is None and (out.get("fineness") or out.get("metal_weight_mg")):
            raise Invalid("fineness or metal weight given without a metal", "metal")
    return out


@dataclass
class Piece:
    """A piece as the projection holds it, with its stones."""

    row: dict[str, Any]
    stones: list[dict[str, Any]]

    def __getitem__(self, key: str) -> Any:
        return self.row[key]

    def as_dict(self) -> dict[str, Any]:
        return {**self.row, "stones": self.stones}


# -- projections ------------------------------------------------------------------------------

def _write_stones(tx: Tx, item_id: str, stones: list[dict[str, Any]]) -> None:
    tx.execute("DELETE FROM item_stones WHERE item_id = ?", (item_id,))
    tx.conn.executemany(
        "INSERT INTO item_stones (item_id, pos, type, carat_cents, shape, colour, clarity, lab,"
        " certificate) VALUES (?,?,?,?,?,?,?,?,?)",
        [(item_id, i, s["type"], s["carat_cents"], s.get("shape"), s.get("colour"),
          s.get("clarity"), s.get("lab"), s.get("certificate")) for i, s in enumerate(stones)])


def _on_received(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    piece = p["piece"]
    cols = [f for f in ITEM_FIELDS]
    tx.execute(
        f"INSERT INTO items ({', '.join(cols)}, status, status_ref, received_seq, updated_seq)"
        f" VALUES ({', '.join('?' * len(cols))}, 'in_stock', NULL, ?, ?)",
        (*[piece.get(c) for c in cols], entry.seq, entry.seq))
    _write_stones(tx, piece["item_id"], piece.get("stones", []))
    index_piece(tx, entry.seq, piece, (s["type"] for s in piece.get("stones", [])))
    touch_item(tx, piece["item_id"], entry.seq)


# Edits of these fields leave the search text as it was.
_UNINDEXED = frozenset({"metal_weight_mg", "cost", "tag_price", "tax_code", "ownership", "vendor"})


def _on_updated(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    changes = dict(p["changes"])
    stones = changes.pop("stones", None)
    if changes:
        sets = ", ".join(f"{c} = ?" for c in changes)
        tx.execute(f"UPDATE items SET {sets}, updated_seq = ? WHERE item_id = ?",
                   (*changes.values(), entry.seq, p["item_id"]))
    else:
        tx.execute("UPDATE items SET updated_seq = ? WHERE item_id = ?", (entry.seq, p["item_id"]))
    if stones is not None:
        _write_stones(tx, p["item_id"], stones)
    if stones is not None or not _UNINDEXED.issuperset(changes):
        reindex_piece(tx, p["item_id"])
    touch_item(tx, p["item_id"], entry.seq)


def _on_moved(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute("UPDATE items SET location = ?, updated_seq = ? WHERE item_id = ?",
               (p["location"], entry.seq, p["item_id"]))
    touch_item(tx, p["item_id"], entry.seq)


def _on_status(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    set_status(tx, p["item_id"], p["status"], p.get("ref"), entry.seq)


def set_status(tx: Tx, item_id: str, status: str, ref: str | None, seq: int) -> None:
    tx.execute("UPDATE items SET status = ?, status_ref = ?, updated_seq = ? WHERE item_id = ?",
               (status, ref, seq, item_id))
    touch_item(tx, item_id, seq)


def _on_stock_received(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute(
        "INSERT INTO stock_lines (sku, description, category, unit_price, tax_code, quantity,"
        " updated_seq) VALUES (?,?,?,?,?,?,?) ON CONFLICT(sku) DO UPDATE SET"
        " description = excluded.description, category = excluded.category,"
        " unit_price = excluded.unit_price, tax_code = excluded.tax_code,"
        " quantity = quantity + excluded.quantity, updated_seq = excluded.updated_seq",
        (p["sku"], p["description"], p["category"], p["unit_price"], p["tax_code"],
         p["quantity"], entry.seq))


def _on_stock_adjusted(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    adjust_stock(tx, p["sku"], p["delta"], entry.seq)


def adjust_stock(tx: Tx, sku: str, delta: int, seq: int) -> None:
    tx.execute("UPDATE stock_lines SET quantity = quantity + ?, updated_seq = ? WHERE sku = ?",
               (delta, seq, sku))


PROJECTIONS = {
    "item.received": _on_received,
    "item.updated": _on_updated,
    "item.moved": _on_moved,
    "item.status": _on_status,
    "stock.received": _on_stock_received,
    "stock.adjusted": _on_stock_adjusted,
}


# -- the service ------------------------------------------------------------------------------

def row_dict(row: Any) -> dict[str, Any]:
    return {k: row[k] for k in row.keys()}


def row_dicts(rows: list[Any]) -> list[dict[str, Any]]:
    """Many rows of one query as dicts, reading the column names once."""
    if not rows:
        return []
    keys = rows[0].keys()
    return [dict(zip(keys, row, strict=True)) for row in rows]


def load_piece_tx(tx: Tx, item_id: str) -> dict[str, Any]:
    row = tx.one("SELECT * FROM items WHERE item_id = ?", (item_id,))
    if row is None:
        raise NotFound(f"no piece with serial {item_id!r}")
    return row_dict(row)


class Items:
    """Receiving, editing, moving and changing the status of pieces and stock lines."""

    def __init__(self, ledger: Ledger, *, currency: str, tax_codes: set[str], default_tax: str,
                 epc_manager: int) -> None:
        self.ledger = ledger
        self.currency = currency
        self.tax_codes = tax_codes
        self.default_tax = default_tax
        self.epc_manager = epc_manager

    def validate(self, raw: dict[str, Any], partial: bool = False) -> dict[str, Any]:
        return validate_piece(raw, self.tax_codes, self.default_tax, partial=partial)

    def receive_in(self, tx: Tx, piece: dict[str, Any], actor: str) -> Entry:
        """Receive one validated piece inside a transaction (imports batch many)."""
        if tx.one("SELECT 1 FROM items WHERE item_id = ?", (piece["item_id"],)):
            raise Refused("duplicate", f"serial {piece['item_id']!r} is already in the books")
        if not piece.get("epc"):
            # GID-96 serial = the journal seq of the receipt: unique and never reused.
            piece = {**piece, "epc": gid96_encode(self.epc_manager, 1, tx.seq + 1)}
        elif tx.one("SELECT 1 FROM items WHERE epc = ?", (piece["epc"],)):
            raise Refused("duplicate", f"EPC {piece['epc']} is already on another piece")
        piece = {f: piece.get(f) for f in ITEM_FIELDS} | {"stones": piece.get("stones", [])}
        return tx.append("item.received", f"item:{piece['item_id']}",
                         {"piece": piece, "currency": self.currency}, actor=actor)

    async def receive(self, raw: dict[str, Any], actor: str) -> dict[str, Any]:
        piece = self.validate(raw)
        await self.ledger.transact(lambda tx: self.receive_in(tx, piece, actor))
        return await self.get(piece["item_id"])

    async def receive_many(self, pieces: list[dict[str, Any]], actor: str) -> int:
        """All or nothing: one refused piece refuses the whole set (used by CSV import)."""
        checked = [self.validate(p) for p in pieces]

        def command(tx: Tx) -> int:
            for piece in checked:
                self.receive_in(tx, piece, actor)
            return len(checked)

        return await self.ledger.transact(command)

    async def update(self, item_id: str, raw: dict[str, Any], actor: str,
                     reason: str = "") -> dict[str, Any]:
        changes = self.validate(raw, partial=True)
        changes.pop("item_id", None)
        changes.pop("location", None)  # moves are their own entry
        if "epc" in changes:
            raise Invalid("the EPC of a piece is fixed; re-tag by receiving it anew", "epc")
        if not changes:
            raise Invalid("nothing to change")

        def command(tx: Tx) -> None:
            current = load_piece_tx(tx, item_id)
            if current["status"] == "sold":
                raise Refused("item_sold", f"piece {item_id} was sold; its record is closed")
            before = {k: current[k] for k in changes if k in current}
            tx.append("item.updated", f"item:{item_id}",
                      {"item_id": item_id, "changes": changes, "before": before,
                       "reason": reason}, actor=actor)

        await self.ledger.transact(command)
        return await self.get(item_id)

    async def move(self, item_id: str, location: str, actor: str) -> dict[str, Any]:
        location = _text(location, "location", required=True, max_len=80)

        def command(tx: Tx) -> None:
            current = load_piece_tx(tx, item_id)
            if current["status"] == "sold":
                raise Refused("item_sold", f"piece {item_id} was sold and is not in the store")
            if current["location"] == location:
                raise Refused("no_change", f"piece {item_id} is already in {location}")
            tx.append("item.moved", f"item:{item_id}",
                      {"item_id": item_id, "location": location, "from": current["location"]},
                      actor=actor)

        await self.ledger.transact(command)
        return await self.get(item_id)

    def change_status_in(self, tx: Tx, item_id: str, status: str, actor: str,
                         ref: str | None = None, reason: str = "") -> Entry:
        if status not in STATUSES:
            raise Invalid(f"{status!r} is not a status", "status")
        current = load_piece_tx(tx, item_id)
        if status not in TRANSITIONS.get(current["status"], set()):
            raise Refused("bad_status",
                          f"piece {item_id} is {current['status']}: it cannot become {status}")
        return tx.append("item.status", f"item:{item_id}",
                         {"item_id": item_id, "status": status, "from": current["status"],
                          "ref": ref, "reason": reason}, actor=actor)

    async def change_status(self, item_id: str, status: str, actor: str, ref: str | None = None,
                            reason: str = "") -> dict[str, Any]:
        await self.ledger.transact(
            lambda tx: self.change_status_in(tx, item_id, status, actor, ref, reason))
        return await self.get(item_id)

    async def receive_stock(self, raw: dict[str, Any], actor: str) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise Invalid("a stock line must be an object")
        line = {
            "sku": _text(raw.get("sku"), "sku", required=True, max_len=60),
            "description": _text(raw.get("description"), "description", required=True),
            "category": _choice(raw.get("category") or "other", "category", CATEGORIES),
            "unit_price": money_field(raw.get("unit_price"), "unit_price"),
            "tax_code": raw.get("tax_code") or self.default_tax,
            "quantity": _int(raw.get("quantity"), "quantity", lo=1, hi=1_000_000, required=True),
        }
        if line["tax_code"] not in self.tax_codes:
            raise Invalid(f"{line['tax_code']!r} is not a configured tax rate", "tax_code")
        await self.ledger.transact(
            lambda tx: tx.append("stock.received", f"stock:{line['sku']}", line, actor=actor))
        row = await self.ledger.fetch_one("SELECT * FROM stock_lines WHERE sku = ?", (line["sku"],))
        return row_dict(row)

    # -- reads ----------------------------------------------------------------------------

    async def get(self, item_id: str) -> dict[str, Any]:
        row = await self.ledger.fetch_one("SELECT * FROM items WHERE item_id = ?", (item_id,))
        if row is None:
            raise NotFound(f"no piece with serial {item_id!r}")
        stones = await self.ledger.fetch(
            "SELECT type, carat_cents, shape, colour, clarity, lab, certificate FROM item_stones"
            " WHERE item_id = ? ORDER BY pos", (item_id,))
        return {**row_dict(row), "stones": [row_dict(s) for s in stones]}

    async def by_epc(self, epc: str) -> dict[str, Any] | None:
        row = await self.ledger.fetch_one("SELECT item_id FROM items WHERE epc = ?",
                                          (normalise_epc(epc),))
        return await self.get(row["item_id"]) if row else None

    async def history(self, item_id: str) -> list[dict[str, Any]]:
        """Every journal entry that touched the piece, oldest first, decrypted."""
        rows = await self.ledger.fetch(
            f"SELECT {', '.join('j.' + c.strip() for c in ENTRY_COLUMNS.split(','))}"
            " FROM item_history h JOIN journal j ON j.seq = h.seq WHERE h.item_id = ?"
            " ORDER BY h.seq", (item_id,))
        if not rows:
            raise NotFound(f"no piece with serial {item_id!r}")
        out = []
        for row in rows:
            entry = Entry.from_row(tuple(row))
            out.append({"seq": entry.seq, "ts": entry.ts, "kind": entry.kind,
                        "actor": entry.actor, "subject": entry.subject,
                        "payload": self.ledger.decrypt(entry)})
        return out

    async def search(self, *, text: str | None = None, category: str | None = None,
                     metal: str | None = None, fineness: int | None = None,
                     stone: str | None = None, designer: str | None = None,
                     price_min: int | None = None, price_max: int | None = None,
                     location: str | None = None, status: str | None = None,
                     limit: int = 50, offset: int = 0) -> SearchPage:
        """A page of pieces and how many matched: see `hub.core.search` for the order."""
        return await search_pieces(
            self.ledger, text=text, category=category, metal=metal, fineness=fineness,
            stone=stone, designer=designer, price_min=price_min, price_max=price_max,
            location=location, status=status, limit=limit, offset=offset)

    async def by_sku(self, sku: str) -> dict[str, Any] | None:
        """The piece a scanned SKU means: one in stock, else the last one to change (a sold
        or reserved piece, so the register can say why it cannot be sold), else None."""
        row = await self.ledger.fetch_one(
            "SELECT item_id FROM items WHERE sku = ? ORDER BY status != 'in_stock',"
            " CASE WHEN status = 'in_stock' THEN item_id END, updated_seq DESC LIMIT 1", (sku,))
        return await self.get(row["item_id"]) if row else None

    async def get_stock(self, sku: str) -> dict[str, Any]:
        row = await self.ledger.fetch_one("SELECT * FROM stock_lines WHERE sku = ?", (sku,))
        if row is None:
            raise NotFound(f"no stock line {sku!r}")
        return row_dict(row)

    async def counts_by_status(self) -> dict[str, int]:
        rows = await self.ledger.fetch("SELECT status, COUNT(*) AS n FROM items GROUP BY status")
        return {r["status"]: r["n"] for r in rows}

