"""The held stock kept as running totals by the writer, so the stock report reads a few
hundred rows, not 100,000 pieces.

`stock_held` holds, per dimension value (`category`, `location`, `ownership`, `designer`,
`metal`), alloy (metal and fineness) and UTC day the piece was received, what is held there:
pieces, cost, retail (the tag) and metal weight; `stock_months` the same by month received. `stock_pieces` is what each piece last
counted for (its figures, and whether it is held), so an entry that changes a piece takes
back exactly what the piece counted before and adds what it counts now: no entry kind's
meaning is guessed, the piece's row in `items` (the core's projection, already written in
the same transaction: the reports layer comes after the core) says it.

Which entries change pieces is said once, by `hub.core.entries.piece_changes` (receipt,
edits, moves, statuses, sales, returns, voids, transfers, HQ's holds); HQ's metal rates
re-price the pieces priced by the gram (`hub.core.prices.rates_in`), so their entries
re-count those pieces. Held is what the stock report says it is (`HELD`). A rebuild replays
the same handlers and gives the same rows; `fresh_held` is what they must equal, read from
the pieces themselves.
"""

from __future__ import annotations

from typing import Any

from hub.core.entries import piece_changes
from hub.ledger.journal import Entry
from hub.ledger.ledger import Tx
from hub.ledger.schema import Migration, Schema

HELD = ("in_stock", "reserved", "returned", "memo_out", "in_repair")
DIMENSIONS = ("category", "location", "ownership", "designer", "metal")

_V1 = """
CREATE TABLE stock_held (
    dimension TEXT NOT NULL,            -- category | location | ownership | designer | metal
    value     TEXT NOT NULL,            -- '' when the piece does not say
    metal     TEXT NOT NULL,            -- the alloy, for its metal value at today's rate
    fineness  INTEGER NOT NULL,
    day       TEXT NOT NULL,            -- UTC 'YYYY-MM-DD' the piece was received
    pieces    INTEGER NOT NULL,
    cost      INTEGER NOT NULL,         -- minor units
    retail    INTEGER NOT NULL,         -- minor units: the tag prices
    weight    INTEGER NOT NULL,         -- milligrams of alloy
    PRIMARY KEY (dimension, value, metal, fineness, day)
);
CREATE INDEX stock_held_days ON stock_held(dimension, day);
-- The same by month received: a report reads whole months here, and the days of only the
-- three months its age buckets begin in (a row a month, not a day, of a long history).
CREATE TABLE stock_months (
    dimension TEXT NOT NULL,
    value     TEXT NOT NULL,
    metal     TEXT NOT NULL,
    fineness  INTEGER NOT NULL,
    month     TEXT NOT NULL,            -- UTC 'YYYY-MM'
    pieces    INTEGER NOT NULL,
    cost      INTEGER NOT NULL,
    retail    INTEGER NOT NULL,
    weight    INTEGER NOT NULL,
    PRIMARY KEY (dimension, value, metal, fineness, month)
);
CREATE TABLE stock_pieces (
    item_id      TEXT PRIMARY KEY,
    received_seq INTEGER NOT NULL,
    day          TEXT NOT NULL,
    held         INTEGER NOT NULL,      -- 1: counted in stock_held
    category     TEXT NOT NULL,
    location     TEXT NOT NULL,
    ownership    TEXT NOT NULL,
    designer     TEXT NOT NULL,
    metal        TEXT NOT NULL,
    fineness     INTEGER NOT NULL,
    cost         INTEGER NOT NULL,
    retail       INTEGER NOT NULL,
    weight       INTEGER NOT NULL
);
-- The slow movers: the held pieces, oldest first.
CREATE INDEX stock_pieces_oldest ON stock_pieces(received_seq) WHERE held = 1;
"""

# rebuild: a store opened before this area existed has its pieces counted from the journal.
SCHEMA = Schema("reports_stock", (Migration(1, _V1, rebuild=True),),
                projections=("stock_held", "stock_months", "stock_pieces"))

_FIGURES = ("category", "location", "ownership", "designer", "metal", "fineness", "cost",
            "retail", "weight")
_PIECE = ("SELECT i.item_id, i.received_seq, i.status, i.category, i.location, i.ownership,"
          " COALESCE(i.designer, '') AS designer, COALESCE(i.metal, '') AS metal,"
          " COALESCE(i.fineness, 0) AS fineness, i.cost, i.tag_price AS retail,"
          " COALESCE(i.metal_weight_mg, 0) AS weight, j.ts FROM items i"
          " JOIN journal j ON j.seq = i.received_seq")


def _count(tx: Tx, row: Any, sign: int) -> None:
    """Add (sign 1) or take back (sign -1) one piece's figures in every dimension, by the day
    and by the month it was received."""
    for table, period, when in (("stock_held", "day", row["day"]),
                                ("stock_months", "month", row["day"][:7])):
        for dimension in DIMENSIONS:
            key = (dimension, row[dimension], row["metal"], row["fineness"], when)
            tx.execute(f"INSERT INTO {table} (dimension, value, metal, fineness, {period},"
                       " pieces, cost, retail, weight) VALUES (?,?,?,?,?,?,?,?,?)"
                       f" ON CONFLICT(dimension, value, metal, fineness, {period}) DO UPDATE"
                       " SET pieces = pieces + excluded.pieces, cost = cost + excluded.cost,"
                       " retail = retail + excluded.retail, weight = weight + excluded.weight",
                       (*key, sign, sign * row["cost"], sign * row["retail"],
                        sign * row["weight"]))
            if sign < 0:  # an emptied row goes: the table holds only what is held
                tx.execute(f"DELETE FROM {table} WHERE dimension = ? AND value = ? AND"
                           f" metal = ? AND fineness = ? AND {period} = ? AND pieces = 0", key)


def recount(tx: Tx, item_id: str) -> None:
    """The piece counted as `items` says it is now, less what it counted before."""
    now = tx.one(_PIECE + " WHERE i.item_id = ?", (item_id,))
    was = tx.one("SELECT * FROM stock_pieces WHERE item_id = ?", (item_id,))
    if now is None:
        return
    fresh = {"day": now["ts"][:10], "held": int(now["status"] in HELD),
             **{f: now[f] for f in _FIGURES}}
    if was is not None and all(was[k] == v for k, v in fresh.items()) \
            and was["received_seq"] == now["received_seq"]:
        return  # a move between two held statuses, an edit of the description: no figure
    if was is not None and was["held"]:
        _count(tx, was, -1)
    if fresh["held"]:
        _count(tx, fresh, 1)
    tx.execute("INSERT OR REPLACE INTO stock_pieces (item_id, received_seq, day, held,"
               f" {', '.join(_FIGURES)}) VALUES (?,?,?,?,{', '.join('?' * len(_FIGURES))})",
               (item_id, now["received_seq"], fresh["day"], fresh["held"],
                *(fresh[f] for f in _FIGURES)))


def _on_pieces(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    for change in piece_changes(entry.kind, p):
        recount(tx, change.item_id)


def _repriced(tx: Tx) -> None:
    """After new metal rates: the pieces priced by the gram whose tag moved (held or not:
    each piece's row stays what `items` says of it)."""
    for row in tx.all("SELECT i.item_id FROM items i JOIN stock_pieces s USING (item_id)"
                      " WHERE i.pricing IS NOT NULL AND s.retail != i.tag_price"
                      " ORDER BY i.item_id"):
        recount(tx, row["item_id"])


def _on_hq_message(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    _on_pieces(tx, entry, p)
    if p and p.get("outcome") == "applied" and p["message"]["type"] == "rates":
        _repriced(tx)


def _on_rates_accepted(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    _repriced(tx)


# Every kind `piece_changes` knows, and the two that bring HQ's rates in.
PROJECTIONS = {kind: _on_pieces for kind in (
    "item.received", "item.updated", "item.moved", "item.status", "item.inspected",
    "sale.completed", "sale.returned", "sale.voided", "transfer.shipped", "transfer.received",
    "transfer.settled", "hq.reservation_collected", "hq.order_shipped", "hq.online_order")}
PROJECTIONS |= {"hq.message": _on_hq_message, "rates.accepted": _on_rates_accepted}


def fresh_held(tx: Tx) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """`stock_held` and `stock_months` as the pieces themselves add up now (what the running
    totals must equal; the tests compare them), in their keys' order."""
    days: dict[tuple[Any, ...], list[int]] = {}
    months: dict[tuple[Any, ...], list[int]] = {}
    marks = ",".join("?" * len(HELD))
    for r in tx.all(_PIECE + f" WHERE i.status IN ({marks})", HELD):
        for rows, when in ((days, r["ts"][:10]), (months, r["ts"][:7])):
            for dimension in DIMENSIONS:
                sums = rows.setdefault((dimension, r[dimension], r["metal"], r["fineness"],
                                        when), [0, 0, 0, 0])
                for i, f in enumerate((1, r["cost"], r["retail"], r["weight"])):
                    sums[i] += f
    return ([(*k, *v) for k, v in sorted(days.items())],
            [(*k, *v) for k, v in sorted(months.items())])


def held_rows(tx: Tx) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """`stock_held` and `stock_months` as they are, in their keys' order."""
    days = tx.all("SELECT * FROM stock_held ORDER BY dimension, value, metal, fineness, day")
    months = tx.all("SELECT * FROM stock_months ORDER BY dimension, value, metal, fineness,"
                    " month")
    return [tuple(r) for r in days], [tuple(r) for r in months]
