"""Sales figures kept as running totals by the writer, so a report reads a few hundred rows
and never the journal.

`report_sales` holds, per UTC hour and dimension value, what the sales, returns and voids of
that hour did: sales, units, discounts, net (sold less refunded, money held for gift cards
left out as the Z report leaves it out), refunds, the cost of the pieces behind the net (and
the net of lines whose cost is known, for the margin), and the sales of two pieces or more
(`attached`, for the attachment rate). An hour, not a day: a local day (any time zone,
summer time included) is the 24 hours it spans, so the store's time zone is applied when a
report is read and a rebuild from the journal gives exactly the same rows.

Dimensions: `store` (one value, ""), `associate`, `register`, `tier` (per sale); `category`,
`metal`, `designer`, `collection` (per line, from the piece sold; a stock line's category, or
`service`). A return takes back, per line, the share of the line it returns; the store row
takes back the refund itself, so the store figures equal the Z reports of the same sales.

The tier is the client's tier when she bought ("" for a sale without a client): the
`client_tiers` row as the sale's projection finds it. Her tier changes only by
`client.tier_changed` entries, journaled after the sales that move it and replayed in seq
order, so the same sale finds the same tier live and in a rebuild; `report_sale_tiers` keeps
it per sale, so her returns take back from the tier the sale counted in.

`entry_figures` is what one entry adds to each row: the projection adds it up, and the
"show entries" list (hub/reports/trace.py) lists it entry by entry, so the two agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from hub.clienteling.tiers import TIERS
from hub.ledger.journal import Entry
from hub.ledger.ledger import Tx
from hub.ledger.schema import Migration, Schema

_V1 = """
CREATE TABLE report_sales (
    hour      TEXT NOT NULL,            -- UTC, 'YYYY-MM-DDTHH'
    dimension TEXT NOT NULL,            -- store | associate | register | category | metal | designer
    value     TEXT NOT NULL,
    sales     INTEGER NOT NULL,         -- sales made (returns do not take them back)
    units     INTEGER NOT NULL,         -- units sold less units returned
    discounts INTEGER NOT NULL,
    net       INTEGER NOT NULL,         -- minor units: sold less refunded
    refunds   INTEGER NOT NULL,         -- minor units refunded (returns and voids)
    cost      INTEGER NOT NULL,         -- the cost of the pieces in `costed`
    costed    INTEGER NOT NULL,         -- the net of lines whose cost is known
    PRIMARY KEY (dimension, hour, value)  -- a report reads one dimension over a range
);
"""

# Version 2: the collection and tier dimensions, and the sales of two pieces or more. Rows
# already there lack them, so the area is rebuilt from the journal on upgrade.
_V2 = """
ALTER TABLE report_sales ADD COLUMN attached INTEGER NOT NULL DEFAULT 0;  -- sales of 2+ pieces
CREATE TABLE report_sale_tiers (
    sale_id TEXT PRIMARY KEY,
    tier    TEXT NOT NULL                -- the client's tier when she bought
);
"""

SCHEMA = Schema("reports", (Migration(1, _V1), Migration(2, _V2, rebuild=True)),
                projections=("report_sales", "report_sale_tiers"))

SALE_DIMENSIONS = ("store", "associate", "register", "tier")
LINE_DIMENSIONS = ("category", "metal", "designer", "collection")
DIMENSIONS = SALE_DIMENSIONS + LINE_DIMENSIONS
FIGURES = ("sales", "units", "discounts", "net", "refunds", "cost", "costed", "attached")
ZERO = dict.fromkeys(FIGURES, 0)
KINDS = ("sale.completed", "sale.returned", "sale.voided")

Added = tuple[str, str, dict[str, int]]  # (dimension, value, figures it adds)

_ADD = (f"INSERT INTO report_sales (hour, dimension, value, {', '.join(FIGURES)}) VALUES"
        f" ({', '.join('?' * (3 + len(FIGURES)))}) ON CONFLICT(hour, dimension, value) DO"
        f" UPDATE SET {', '.join(f'{f} = {f} + excluded.{f}' for f in FIGURES)}")


def _hour(entry: Entry) -> str:
    return entry.ts[:13]  # '2026-12-03T14' of '2026-12-03T14:05:09.123456Z'


def _line_facts(tx: Tx, line: Any) -> tuple[dict[str, str], int | None]:
    """A line's category, metal, designer and collection, and its piece's unit cost (None:
    unknown)."""
    if line["item_id"]:
        piece = tx.one("SELECT category, metal, designer, collection, cost FROM items"
                       " WHERE item_id = ?", (line["item_id"],))
        if piece is not None:
            return ({"category": piece["category"], "metal": piece["metal"] or "",
                     "designer": piece["designer"] or "",
                     "collection": piece["collection"] or ""}, piece["cost"])
    stock = tx.one("SELECT category FROM stock_lines WHERE sku = ?", (line["sku"],)) \
        if line["sku"] else None
    return ({"category": stock["category"] if stock else "service", "metal": "",
             "designer": "", "collection": ""}, None)


def _held(line: Any) -> bool:
    # A line of no tax (a gift card sold) is money held, not a sale (as the Z report says).
    return not line["tax_code"]


def _sale_tier(tx: Tx, sale_id: str) -> str:
    row = tx.one("SELECT tier FROM report_sale_tiers WHERE sale_id = ?", (sale_id,))
    return row["tier"] if row else ""


def _sold(tx: Tx, entry: Entry, p: dict[str, Any]) -> list[Added]:
    lines = tx.all("SELECT * FROM sale_lines WHERE sale_id = ? ORDER BY line_no",
                   (p["sale_id"],))
    sold = [line for line in lines if not _held(line)]
    units = sum(line["quantity"] for line in sold)
    attached = 1 if units >= 2 else 0
    out: list[Added] = []
    cost = costed = 0
    for line in sold:
        facts, unit_cost = _line_facts(tx, line)
        known = {} if unit_cost is None else {"cost": unit_cost * line["quantity"],
                                              "costed": line["total"]}
        cost += known.get("cost", 0)
        costed += known.get("costed", 0)
        out += [(dimension, facts[dimension], {
            "sales": 1, "units": line["quantity"], "discounts": line["discount"],
            "net": line["total"], "attached": attached, **known})
            for dimension in LINE_DIMENSIONS]
    net = p["total"] - sum(line["total"] for line in lines if _held(line))
    figures = {"sales": 1, "units": units, "discounts": p["discount"], "net": net,
               "cost": cost, "costed": costed, "attached": attached}
    values = ("", entry.actor, p["register_id"], _sale_tier(tx, p["sale_id"]))
    return out + [(d, v, figures) for d, v in zip(SALE_DIMENSIONS, values, strict=True)]


def _taken_back(tx: Tx, entry: Entry, p: dict[str, Any]) -> list[Added]:
    sale = tx.one("SELECT associate, register_id FROM sales WHERE sale_id = ?", (p["sale_id"],))
    by_no = {line["line_no"]: line for line in tx.all(
        "SELECT * FROM sale_lines WHERE sale_id = ?", (p["sale_id"],))}
    out: list[Added] = []
    units = cost = costed = 0
    for back in p["lines"]:
        line = by_no[back["line_no"]]
        if _held(line):
            continue
        share = line["total"] * back["quantity"] // line["quantity"]
        facts, unit_cost = _line_facts(tx, line)
        known = {} if unit_cost is None else {"cost": -unit_cost * back["quantity"],
                                              "costed": -share}
        units += back["quantity"]
        cost += known.get("cost", 0)
        costed += known.get("costed", 0)
        out += [(dimension, facts[dimension], {"units": -back["quantity"], "net": -share,
                                               "refunds": share, **known})
                for dimension in LINE_DIMENSIONS]
    held_back = sum(line["total"] for line in by_no.values() if _held(line)) \
        if entry.kind == "sale.voided" else 0
    refunded = p["refund"] - held_back
    figures = {"units": -units, "net": -refunded, "refunds": refunded, "cost": cost,
               "costed": costed}
    # The refund counts where the sale was made: its associate, register and tier.
    values = ("", sale["associate"], sale["register_id"], _sale_tier(tx, p["sale_id"]))
    return out + [(d, v, figures) for d, v in zip(SALE_DIMENSIONS, values, strict=True)]


def entry_figures(tx: Tx, entry: Entry, p: dict[str, Any]) -> list[Added]:
    """What a sale, return or void adds to each (dimension, value), as the books stand once
    it is projected (a line's piece as it is, the sale's tier as it was kept)."""
    return (_sold if entry.kind == "sale.completed" else _taken_back)(tx, entry, p)


def _add(tx: Tx, hour: str, added: list[Added]) -> None:
    for dimension, value, figures in added:
        row = {**ZERO, **figures}
        tx.execute(_ADD, (hour, dimension, value, *(row[f] for f in FIGURES)))


def tier_now(tx: Tx, client_id: str | None) -> str:
    """The client's tier in the books now ("": no client; a client with no row: the
    lowest tier, as the clienteling layer reads it)."""
    if not client_id:
        return ""
    row = tx.one("SELECT tier FROM client_tiers WHERE client_id = ?", (client_id,))
    return row["tier"] if row else TIERS[0]


def _on_sale(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    if p.get("client_id"):
        tx.execute("INSERT INTO report_sale_tiers (sale_id, tier) VALUES (?, ?)",
                   (p["sale_id"], tier_now(tx, p["client_id"])))
    _add(tx, _hour(entry), _sold(tx, entry, p))


def _on_return(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    _add(tx, _hour(entry), _taken_back(tx, entry, p))


PROJECTIONS = {"sale.completed": _on_sale, "sale.returned": _on_return,
               "sale.voided": _on_return}


def hours_rows(tx: Tx, dimension: str, first_hour: str, last_hour: str
               ) -> Iterable[Any]:
    """The rows of one dimension from `first_hour` to `last_hour` (UTC, both included)."""
    return tx.all("SELECT * FROM report_sales WHERE dimension = ? AND hour >= ? AND hour <= ?"
                  " ORDER BY hour, value", (dimension, first_hour, last_hour))
