"""Pieces (serialized items) and stock lines (quantity items): receipt, edits, moves, status.

A piece has one identity from the day it is received: its serial (the store-unique item id),
an EPC for its RFID tag, and a history that is every journal entry that touched it.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Collection
from typing import Any

from hub.core import fields, prices
from hub.core.entries import piece_changes
from hub.core.errors import Invalid, NotFound, Refused
from hub.core.fields import Form
from hub.core.projector import touch_item
from hub.core.search import PAGES_KEPT, PageCache, SearchPage, index_piece, reindex_piece
from hub.core.search import search as search_pieces
from hub.epc import EpcError, gid96_encode, normalise_epc
from hub.ledger.journal import ENTRY_COLUMNS, Entry
from hub.ledger.ledger import Ledger, Tx
from hub.words import N_, Term

CATEGORIES = ("ring", "necklace", "bracelet", "earrings", "pendant", "brooch", "watch",
              "cufflinks", "charm", "loose stone", "set", "other")
METALS = ("platinum", "gold", "silver", "palladium", "titanium", "steel", "other")
COLOURS = ("yellow", "white", "rose", "black", "two-tone", "tri-colour")
OWNERSHIP = ("owned", "memo", "consignment")
STATUSES = ("in_stock", "reserved", "sold", "returned", "memo_out", "in_repair", "in_transfer",
            "missing", "written_off", "returned_to_vendor", "in_transit", "transferred")
# Where a piece may go from each status by a plain status change (sales have their own rules).
TRANSITIONS = {
    "in_stock": {"reserved", "memo_out", "in_repair", "in_transfer", "missing",
                 "returned_to_vendor"},
    "reserved": {"in_stock", "missing"},
    "returned": {"in_stock", "in_repair", "memo_out", "missing", "returned_to_vendor"},
    "memo_out": {"in_stock", "missing"},
    "in_repair": {"in_stock", "missing"},
    "in_transfer": {"in_stock", "missing"},
    "missing": {"in_stock"},
    "sold": set(),
    "written_off": set(),
    "returned_to_vendor": set(),  # a memo or consigned piece given back: its memo is closed
    # Shipped to another store by scan (hub/transfers): only its reception moves it on, to
    # in stock there and `transferred` here; never a plain status change, never missing.
    "in_transit": set(),
    "transferred": set(),
}
# What a manager may decide when a returned piece is inspected.
INSPECTION_OUTCOMES = ("in_stock", "in_repair", "written_off")
# Why a piece cannot be sold, by its status; {ref} is the sale, return or hold behind it.
WHY_NOT_SELLABLE = {
    "sold": N_("piece {item_id} was already sold (sale {ref})"),
    "reserved": N_("piece {item_id} is reserved ({ref})"),
    "returned": N_("piece {item_id} was returned ({ref}) and awaits inspection: a manager"
                   " inspects it on its page before it is sold again"),
    "memo_out": N_("piece {item_id} is out on memo ({ref})"),
    "in_repair": N_("piece {item_id} is in repair"),
    "in_transfer": N_("piece {item_id} is in transfer to another store"),
    "missing": N_("piece {item_id} is marked missing"),
    "written_off": N_("piece {item_id} was written off"),
    "returned_to_vendor": N_("piece {item_id} was given back to its owner ({ref})"),
    "in_transit": N_("piece {item_id} is on its way to another store ({ref})"),
    "transferred": N_("piece {item_id} was sent to another store ({ref})"),
}

_SERIAL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,39}$")

# Fields a piece carries; the projection has one column for each scalar here.
ITEM_FIELDS = ("item_id", "sku", "epc", "description", "category", "metal", "fineness", "karat",
               "metal_colour", "metal_weight_mg", "designer", "collection", "cost", "tag_price",
               "tax_code", "ownership", "vendor", "location")
STONE_FIELDS = ("type", "carat_cents", "shape", "colour", "clarity", "lab", "certificate")


def group_stones(stones: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    """Identical stones side by side as one (count, stone): a pavé of 22 diamonds or a
    strand of pearls reads as one line, the centre stone stays first and alone."""
    groups: list[tuple[int, dict[str, Any]]] = []
    for i, stone in enumerate(stones):
        if i >= 2 and groups[-1][1] == stone:  # never merged into the centre stone (i = 0)
            groups[-1] = (groups[-1][0] + 1, stone)
        else:
            groups.append((1, stone))
    return groups


def money_field(value: Any, field: str) -> int:
    """An amount in minor units from outside (a form, a CSV, HQ), refused with its field."""
    return fields.amount(value, field, required=True)


def validate_stones(stones: Any, form: Form | None = None) -> list[dict[str, Any]]:
    """The stones of a piece, centre stone first; problems go to `form` when given."""
    if stones is None:
        return []
    if not isinstance(stones, list):
        raise Invalid("this must be a list (centre stone first)", "stones")
    if len(stones) > 200:
        raise Invalid("a piece holds at most {max} stones", "stones", max=200)
    out, problems = [], []
    for i, raw in enumerate(stones):
        try:
            f = Form(raw, f"stones[{i}]", allowed=STONE_FIELDS)
        except Invalid as exc:
            problems += exc.problems
            continue
        stone = {"type": f.text("type", required=True, max_len=60),
                 "carat_cents": f.whole("carat_cents", lo=1, hi=100_000_00, required=True)}
        for key, max_len in (("shape", 60), ("colour", 40), ("clarity", 40), ("lab", 40),
                             ("certificate", 60)):
            stone[key] = f.text(key, max_len=max_len)
        problems += f.problems
        if stone["type"]:
            stone["type"] = stone["type"].lower()
        out.append(stone)
    if problems:
        if form is None:
            raise Invalid.many(problems)
        form.problems += problems
    return out


def validate_piece(raw: dict[str, Any], tax_codes: set[str], default_tax: str,
                   *, partial: bool = False,
                   pricing: prices.PricingSettings | None = None) -> dict[str, Any]:
    """Check a piece's fields, all at once; with `partial`, only those present (an edit).
    `pricing` (a rule, or None for a fixed price) prices it by the gram (hub/core/prices.py)."""
    f = Form(raw, allowed=(*ITEM_FIELDS, "stones", "pricing"))
    out: dict[str, Any] = {}

    def want(field: str) -> bool:
        return not partial or f.has(field)

    if want("item_id"):
        out["item_id"] = f.identifier("item_id", pattern=_SERIAL,
                                      what="a serial (1-40 letters, digits, . _ / -)")
    if want("sku"):
        out["sku"] = f.text("sku", required=True, max_len=60)
    if want("epc") and f.get("epc"):
        try:
            out["epc"] = normalise_epc(f.get("epc"))
        except EpcError:
            f.problem("epc", "this is not an EPC (24 hexadecimal digits or a tag URI)")
    if want("description"):
        out["description"] = f.text("description", required=True)
    if want("category"):
        out["category"] = f.choice("category", CATEGORIES, required=True,
                                   vocabulary="category")
    if want("metal"):
        out["metal"] = f.choice("metal", METALS, vocabulary="metal")
    if want("fineness"):
        out["fineness"] = f.whole("fineness", lo=1, hi=1000)
    if want("karat"):
        out["karat"] = f.whole("karat", lo=1, hi=24)
    if want("metal_colour"):
        out["metal_colour"] = f.choice("metal_colour", COLOURS, vocabulary="colour")
    if want("metal_weight_mg"):
        out["metal_weight_mg"] = f.whole("metal_weight_mg", lo=0, hi=100_000_000)
    for field in ("designer", "collection", "vendor"):
        if want(field):
            out[field] = f.text(field, max_len=120)
    for field in ("cost", "tag_price"):
        if want(field):
            out[field] = f.amount(field, required=True)
    if want("tax_code"):
        code = f.get("tax_code") or default_tax
        if code not in tax_codes:
            f.problem("tax_code", "“{code}” is not a tax rate of this store", code=str(code))
        out["tax_code"] = code
    if want("ownership"):
        out["ownership"] = f.choice("ownership", OWNERSHIP, vocabulary="ownership") or "owned"
    if want("location"):
        out["location"] = f.text("location", max_len=80) or "store"
    if want("stones"):
        out["stones"] = validate_stones(f.get("stones"), f)
    if f.has("pricing"):
        out["pricing"] = f.check(prices.validate_pricing, f.get("pricing"),
                                 pricing or prices.PricingSettings())
    if not partial:
        prices.check_rate_priced(out, f)
        if out.get("ownership") in ("memo", "consignment") and not out.get("vendor"):
            f.problem("vendor", "a piece on memo or consignment needs its vendor")
        if out.get("metal") is None and (out.get("fineness") or out.get("metal_weight_mg")):
            f.problem("metal", "fineness or metal weight given without a metal")
    f.done()
    return out


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
    if piece.get("pricing"):  # priced by the gram: today's rate decides its tag price
        tx.execute("UPDATE items SET pricing = ? WHERE item_id = ?",
                   (json.dumps(piece["pricing"], sort_keys=True), piece["item_id"]))
        prices.price_piece_in(tx, piece["item_id"], entry.seq)
    # The tag printed at receipt shows this price (the batch reprint lists those that moved).
    tx.execute("UPDATE items SET tag_printed_price = tag_price WHERE item_id = ?",
               (piece["item_id"],))
    index_piece(tx, entry.seq, piece, (s["type"] for s in piece.get("stones", [])))
    touch_item(tx, piece["item_id"], entry.seq)


# Edits of these fields leave the search text as it was.
_UNINDEXED = frozenset({"metal_weight_mg", "cost", "tag_price", "tax_code", "ownership", "vendor",
                        "pricing"})
# Edits of these fields re-price a piece priced by the gram.
_REPRICED = frozenset({"pricing", "metal", "fineness", "metal_weight_mg"})


def _on_updated(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    changes = dict(p["changes"])
    stones = changes.pop("stones", None)
    if changes.get("pricing") is not None:
        changes["pricing"] = json.dumps(changes["pricing"], sort_keys=True)
    if changes:
        sets = ", ".join(f"{c} = ?" for c in changes)
        tx.execute(f"UPDATE items SET {sets}, updated_seq = ? WHERE item_id = ?",
                   (*changes.values(), entry.seq, p["item_id"]))
    else:
        tx.execute("UPDATE items SET updated_seq = ? WHERE item_id = ?", (entry.seq, p["item_id"]))
    if stones is not None:
        _write_stones(tx, p["item_id"], stones)
    if not _REPRICED.isdisjoint(changes):
        prices.price_piece_in(tx, p["item_id"], entry.seq)
    if stones is not None or not _UNINDEXED.issuperset(changes):
        reindex_piece(tx, p["item_id"])
    touch_item(tx, p["item_id"], entry.seq)


def _on_moved(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute("UPDATE items SET location = ?, updated_seq = ? WHERE item_id = ?",
               (p["location"], entry.seq, p["item_id"]))
    touch_item(tx, p["item_id"], entry.seq)


def set_piece_statuses(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    """The statuses an entry gives its pieces (`hub.core.entries.piece_changes`)."""
    for change in piece_changes(entry.kind, p):
        if change.status is not None:
            set_status(tx, change.item_id, change.status, change.ref, entry.seq)


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
    "item.status": set_piece_statuses,
    "item.inspected": set_piece_statuses,
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
        raise NotFound("no piece with serial “{item_id}”", item_id=item_id)
    return row_dict(row)


# -- a search from a query string -------------------------------------------------------------

ITEM_QUERY = ("q", "category", "metal", "fineness", "stone", "designer", "price_min",
              "price_max", "location", "status", "limit", "offset")


def _search_text(value: Any) -> str | None:
    """The search box's words: any text (control characters become spaces), 100 at most."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise Invalid("this must be text", "q")
    if len(value) > 100:
        raise Invalid("this is longer than {max} characters", "q", max=100)
    return value


def search_filters(query: Any, prices: dict[str, int | None] | None = None) -> dict[str, Any]:
    """`Items.search`'s filters from a query string (the API's or the stock page's), every
    problem at once. `prices` are the price bounds already read (the stock page reads what
    a person typed; the API takes minor units)."""
    f = Form(query, query=True)
    filters = {
        "text": f.check(_search_text, f.get("q")),
        "category": f.choice("category", CATEGORIES, vocabulary="category", lower=False),
        "metal": f.choice("metal", METALS, vocabulary="metal", lower=False),
        "fineness": f.whole("fineness", lo=1, hi=1000),
        "stone": f.text("stone", max_len=60),
        "designer": f.text("designer", max_len=120),
        "location": f.text("location", max_len=80),
        "status": f.choice("status", STATUSES, vocabulary="status", lower=False),
        "limit": f.whole("limit", lo=1, hi=500) or 50,
        "offset": f.whole("offset", lo=0, hi=10**7) or 0,
    }
    if prices is None:
        prices = {k: f.amount(k) for k in ("price_min", "price_max")}
    f.done()
    return {**filters, **prices}



class Items:
    """Receiving, editing, moving and changing the status of pieces and stock lines."""

    def __init__(self, ledger: Ledger, *, currency: str, tax_codes: set[str], default_tax: str,
                 epc_manager: int, epc_class: int = 1) -> None:
        self.ledger = ledger
        self.currency = currency
        self.tax_codes = tax_codes
        self.default_tax = default_tax
        self.epc_manager = epc_manager
        self.epc_class = epc_class  # this store's: its serials (journal seqs) are its own
        # Words of the store's language for categories, metals, colours and stones (folded),
        # to the index's English ones: the Store sets them from its locale.
        self.search_synonyms: dict[str, str] = {}
        self.pages: PageCache | None = None  # see `start`
        self.pricing = prices.PricingSettings()  # the store's rounding for new rules

    async def start(self, cache_capacity: int = PAGES_KEPT) -> None:
        """For the books' writer, once open: the planner's statistics of the pieces' indexes
        (a search filtered by a rare category walks that category, not the common metal:
        30 ms down to 8 ms at 100,000 pieces), and a cache of the last `cache_capacity`
        search pages, emptied by the writer in each commit that changes a piece (so never
        stale)."""
        if await self._statistics_stale():
            await self.ledger.analyze("items")
        pages = PageCache(cache_capacity)
        await self.ledger.watch("items", pages.clear)
        self.pages = pages

    def validate(self, raw: dict[str, Any], partial: bool = False) -> dict[str, Any]:
        return validate_piece(raw, self.tax_codes, self.default_tax, partial=partial,
                              pricing=self.pricing)

    def receive_in(self, tx: Tx, piece: dict[str, Any], actor: str) -> Entry:
        """Receive one validated piece inside a transaction (imports batch many)."""
        piece_in = piece
        if tx.one("SELECT 1 FROM items WHERE item_id = ?", (piece["item_id"],)):
            raise Refused("duplicate", "serial “{item_id}” is already in the books",
                          item_id=piece["item_id"])
        if not piece.get("epc"):
            # GID-96 serial = the journal seq of the receipt: unique and never reused here;
            # the store's object class keeps it unique across the chain.
            piece = {**piece, "epc": gid96_encode(self.epc_manager, self.epc_class,
                                                  tx.seq + 1)}
        elif tx.one("SELECT 1 FROM items WHERE epc = ?", (piece["epc"],)):
            raise Refused("duplicate", "EPC {epc} is already on another piece", epc=piece["epc"])
        piece = {f: piece.get(f) for f in ITEM_FIELDS} | {"stones": piece.get("stones", [])}
        if piece_rule := piece_in.get("pricing"):
            piece["pricing"] = piece_rule
        return tx.append("item.received", f"item:{piece['item_id']}",
                         {"piece": piece, "currency": self.currency}, actor=actor)

    async def _statistics_stale(self) -> bool:
        """No statistics yet, or the pieces have grown or shrunk by a quarter since (they
        describe the shape of the stock, which changes slowly: 0.1 s at 100,000 pieces)."""
        stat = None
        if await self.ledger.fetch_one("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'"):
            stat = await self.ledger.fetch_one(
                "SELECT stat FROM sqlite_stat1 WHERE tbl = 'items' AND idx = 'items_received'")
        rows = (await self.ledger.fetch_one("SELECT count(*) FROM items"))[0]
        if stat is None:
            return rows > 0
        then = int(stat[0].split()[0])
        return not 0.75 * then <= rows <= 1.25 * then

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
            raise Invalid("the EPC of a piece is fixed; re-tag it by receiving it anew", "epc")
        if not changes:
            raise Invalid("there is nothing to change")

        def command(tx: Tx) -> None:
            current = load_piece_tx(tx, item_id)
            if current["status"] == "sold":
                raise Refused("item_sold", "piece {item_id} was sold; its record is closed",
                              item_id=item_id)
            if changes.get("pricing"):  # by the gram: the edited piece must say its metal
                problems = Form({})
                prices.check_rate_priced({**prices.piece_view(current), **changes}, problems)
                problems.done()
            before = {k: current[k] for k in changes if k in current}
            if "pricing" in before and isinstance(before["pricing"], str):
                before["pricing"] = json.loads(before["pricing"])
            tx.append("item.updated", f"item:{item_id}",
                      {"item_id": item_id, "changes": changes, "before": before,
                       "reason": reason}, actor=actor)

        await self.ledger.transact(command)
        return await self.get(item_id)

    async def move(self, item_id: str, location: str, actor: str) -> dict[str, Any]:
        location = fields.text(location, "location", required=True, max_len=80)

        def command(tx: Tx) -> None:
            current = load_piece_tx(tx, item_id)
            if current["status"] == "sold":
                raise Refused("item_sold", "piece {item_id} was sold and is not in the store",
                              item_id=item_id)
            if current["location"] == location:
                raise Refused("no_change", "piece {item_id} is already in {location}",
                              item_id=item_id, location=location)
            tx.append("item.moved", f"item:{item_id}",
                      {"item_id": item_id, "location": location, "from": current["location"]},
                      actor=actor)

        await self.ledger.transact(command)
        return await self.get(item_id)

    def change_status_in(self, tx: Tx, item_id: str, status: str, actor: str,
                         ref: str | None = None, reason: str = "") -> Entry:
        fields.choice(status, "status", STATUSES, vocabulary="status", lower=False)
        current = load_piece_tx(tx, item_id)
        if status not in TRANSITIONS.get(current["status"], set()):
            raise Refused("bad_status", "piece {item_id} is {current}: it cannot become {wanted}",
                          item_id=item_id, current=Term("status", current["status"]),
                          wanted=Term("status", status))
        return tx.append("item.status", f"item:{item_id}",
                         {"item_id": item_id, "status": status, "from": current["status"],
                          "ref": ref, "reason": reason}, actor=actor)

    async def change_status(self, item_id: str, status: str, actor: str, ref: str | None = None,
                            reason: str = "") -> dict[str, Any]:
        await self.ledger.transact(
            lambda tx: self.change_status_in(tx, item_id, status, actor, ref, reason))
        return await self.get(item_id)

    def inspect_in(self, tx: Tx, item_id: str, outcome: Any, note: Any, actor: str) -> Entry:
        """A manager's verdict on a returned piece: back to stock, to repair, or written off.

        The entry keeps the return it settles and the note, so the piece's history says who
        looked at it, what they found and where it went."""
        f = Form({"outcome": outcome, "note": note})
        outcome = f.choice("outcome", INSPECTION_OUTCOMES, required=True, lower=False,
                           vocabulary="inspection")
        note = f.text("note", max_len=500, multiline=True,
                      required=outcome in ("in_repair", "written_off"))
        f.done()
        current = load_piece_tx(tx, item_id)
        if current["status"] != "returned":
            raise Refused("not_returned", "piece {item_id} is {status}: only a returned piece"
                          " awaits inspection", item_id=item_id,
                          status=Term("status", current["status"]))
        return tx.append("item.inspected", f"item:{item_id}",
                         {"item_id": item_id, "outcome": outcome, "note": note,
                          "return_id": current["status_ref"],
                          "ref": None if outcome == "in_stock" else current["status_ref"]},
                         actor=actor)

    async def inspect(self, item_id: str, outcome: Any, note: Any, actor: str) -> dict[str, Any]:
        await self.ledger.transact(lambda tx: self.inspect_in(tx, item_id, outcome, note, actor))
        return await self.get(item_id)

    async def receive_stock(self, raw: dict[str, Any], actor: str) -> dict[str, Any]:
        f = Form(raw, allowed=("sku", "description", "category", "unit_price", "tax_code",
                               "quantity"))
        line = {
            "sku": f.text("sku", required=True, max_len=60),
            "description": f.text("description", required=True),
            "category": f.choice("category", CATEGORIES, vocabulary="category") or "other",
            "unit_price": f.amount("unit_price", required=True),
            "tax_code": f.get("tax_code") or self.default_tax,
            "quantity": f.whole("quantity", lo=1, hi=1_000_000, required=True),
        }
        if line["tax_code"] not in self.tax_codes:
            f.problem("tax_code", "“{code}” is not a tax rate of this store",
                      code=str(line["tax_code"]))
        f.done()
        await self.ledger.transact(
            lambda tx: tx.append("stock.received", f"stock:{line['sku']}", line, actor=actor))
        row = await self.ledger.fetch_one("SELECT * FROM stock_lines WHERE sku = ?", (line["sku"],))
        return row_dict(row)

    # -- reads ----------------------------------------------------------------------------

    async def get(self, item_id: str) -> dict[str, Any]:
        row = await self.ledger.fetch_one("SELECT * FROM items WHERE item_id = ?", (item_id,))
        if row is None:
            raise NotFound("no piece with serial “{item_id}”", item_id=item_id)
        stones = await self.ledger.fetch(
            "SELECT type, carat_cents, shape, colour, clarity, lab, certificate FROM item_stones"
            " WHERE item_id = ? ORDER BY pos", (item_id,))
        return {**prices.piece_view(row), "stones": [row_dict(s) for s in stones]}

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
            raise NotFound("no piece with serial “{item_id}”", item_id=item_id)
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
        """A page of pieces and how many matched: see `hub.core.search` for the order.
        From the page cache when it holds the same question; a cached page is shared."""
        pages = self.pages
        if pages is not None:
            key = (text, category, metal, fineness, stone, designer, price_min, price_max,
                   location, status, limit, offset)
            page = pages.get(key)
            if page is not None:
                return page
            generation = pages.generation
        page = await search_pieces(
            self.ledger, text=text, category=category, metal=metal, fineness=fineness,
            stone=stone, designer=designer, price_min=price_min, price_max=price_max,
            location=location, status=status, limit=limit, offset=offset,
            synonyms=self.search_synonyms)
        if pages is not None:
            pages.keep(key, generation, page)
        return page

    async def by_sku(self, sku: str) -> dict[str, Any] | None:
        """The piece a scanned SKU means: one in stock, else the last one to change (a sold
        or reserved piece, so the register can say why it cannot be sold), else None."""
        row = await self.ledger.fetch_one(
            "SELECT item_id FROM items WHERE sku = ? ORDER BY status != 'in_stock',"
            " CASE WHEN status = 'in_stock' THEN item_id END, updated_seq DESC LIMIT 1", (sku,))
        return await self.get(row["item_id"]) if row else None

    async def lookup(self, code: Any) -> dict[str, Any]:
        """`find`, or NotFound in words: what a register says to a code it cannot place."""
        code = fields.text(code, "code", required=True, max_len=100) or ""
        piece = await self.find(code)
        if piece is None:
            raise NotFound("no piece with serial, tag or SKU “{typed}”", typed=code)
        return piece

    async def find(self, code: str) -> dict[str, Any] | None:
        """A scanned or typed code: a serial, an EPC or a SKU, in that order (a SKU of a
        sold piece finds it, so the register can say it was sold rather than "no piece")."""
        code = code.strip()
        if not code or len(code) > 100:
            return None
        try:
            return await self.get(code)
        except Refused:  # not a serial: try the next form
            pass
        try:
            piece = await self.by_epc(normalise_epc(code))
            if piece is not None:
                return piece
        except EpcError:
            pass
        return await self.by_sku(code)

    async def counts_by_status(self) -> dict[str, int]:
        rows = await self.ledger.fetch("SELECT status, COUNT(*) AS n FROM items GROUP BY status")
        return {r["status"]: r["n"] for r in rows}

    async def designers(self) -> list[str]:
        """The designers and houses the store's pieces name (a client's preferences offer
        them first)."""
        rows = await self.ledger.fetch("SELECT DISTINCT designer FROM items"
                                       " WHERE designer IS NOT NULL AND designer != ''")
        return sorted((r["designer"] for r in rows), key=str.casefold)

    # -- reads for stock counts (hub/counts): pieces by their tag, where they are now ---------

    _READABLE = frozenset((*ITEM_FIELDS, "status", "status_ref", "received_seq", "updated_seq"))
    _CHUNK = 900  # ids per IN (...) list, well under SQLite's limit on bound values

    def _select(self, columns: Collection[str]) -> str:
        unknown = sorted(set(columns) - self._READABLE)
        if unknown or not columns:
            raise ValueError(f"items: no column {unknown[0] if unknown else '(none asked)'!r}")
        return f"SELECT {', '.join(columns)} FROM items"

    async def tagged(self, columns: Collection[str],
                     item_ids: Collection[str] | None = None) -> list[Any]:
        """The pieces carrying an RFID tag (every one, or those of `item_ids`), as rows of
        `columns` in that order, in no particular row order."""
        sql = self._select(columns) + " WHERE epc IS NOT NULL"
        if item_ids is None:
            return await self.ledger.fetch(sql)
        ids, rows = tuple(item_ids), []
        for i in range(0, len(ids), self._CHUNK):
            part = ids[i:i + self._CHUNK]
            rows += await self.ledger.fetch(
                f"{sql} AND item_id IN ({','.join('?' * len(part))})", part)
        return rows

    async def tagged_pages(self, columns: Collection[str], size: int = 5_000
                           ) -> AsyncIterator[list[tuple[Any, ...]]]:
        """`tagged(columns)` a page of `size` rows at a time: a start reading 100,000 tagged
        pieces at once held every row at the same moment (tens of MB of a small box's peak)."""
        sql = (self._select(columns).replace("SELECT ", "SELECT rowid, ", 1)
               + " WHERE epc IS NOT NULL AND rowid > ? ORDER BY rowid LIMIT ?")
        after = 0
        while rows := await self.ledger.fetch(sql, (after, size)):
            after = rows[-1][0]
            yield [tuple(row)[1:] for row in rows]

    def tagged_in(self, tx: Tx, columns: Collection[str]) -> list[Any]:
        """`tagged(columns)` inside a transaction: the books as of that transaction."""
        return tx.all(self._select(columns) + " WHERE epc IS NOT NULL")

    async def columns_of(self, item_ids: Collection[str],
                         columns: Collection[str]) -> dict[str, Any]:
        """item_id -> a row of `columns` (and item_id) for those of `item_ids` in the books."""
        ids, out = tuple(item_ids), {}
        sql = self._select(("item_id", *columns))
        for i in range(0, len(ids), self._CHUNK):
            part = ids[i:i + self._CHUNK]
            for row in await self.ledger.fetch(
                    f"{sql} WHERE item_id IN ({','.join('?' * len(part))})", part):
                out[row["item_id"]] = row
        return out

    async def stone_types_of(self, item_ids: Collection[str]) -> dict[str, tuple[str, ...]]:
        """item_id -> the types of its stones, centre first, for those of `item_ids` that
        hold any (what the recommendations weigh against her preferred stones)."""
        ids, out = tuple(item_ids), {}
        for i in range(0, len(ids), self._CHUNK):
            part = ids[i:i + self._CHUNK]
            for row in await self.ledger.fetch(
                    "SELECT item_id, type FROM item_stones WHERE item_id IN"
                    f" ({','.join('?' * len(part))}) ORDER BY item_id, pos", part):
                out.setdefault(row["item_id"], []).append(row["type"])
        return {k: tuple(v) for k, v in out.items()}

    def status_in(self, tx: Tx, item_id: str) -> str | None:
        """A piece's status inside a transaction; None when no piece has that serial."""
        row = tx.one("SELECT status FROM items WHERE item_id = ?", (item_id,))
        return row["status"] if row else None

    async def missing_since(self) -> dict[str, int]:
        """The pieces marked missing, each with the seq of its last change (the entry that
        marked it missing, unless a later one touched its record)."""
        rows = await self.ledger.fetch(
            "SELECT item_id, updated_seq FROM items WHERE status = 'missing'")
        return {r["item_id"]: r["updated_seq"] for r in rows}
