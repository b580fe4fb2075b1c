"""Sales figures kept as running totals by the writer, so a report reads a few hundred rows
and never the journal.

`report_sales` holds, per UTC hour and dimension value, what the sales, returns and voids of
that hour did: sales, units, discounts, net (sold less refunded, money held for gift cards
left out as the Z report leaves it out), refunds, and the cost of the pieces behind the net
(and the net of lines whose cost is known, for the margin). An hour, not a day: a local day
(any time zone, summer time included) is the 24 hours it spans, so the store's time zone is
applied when a report is read and a rebuild from the journal gives exactly the same rows.

Dimensions: `store` (one value, ""), `associate`, `register` (per sale); `category`,
`metal`, `designer` (per line, from the piece sold; a stock line's category, or `service`).
A return takes back, per line, the share of the line it returns; the store row takes back
the refund itself, so the store figures equal the Z reports of the same sales.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

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

SCHEMA = Schema("reports", (Migration(1, _V1),), projections=("report_sales",))

SALE_DIMENSIONS = ("store", "associate", "register")
LINE_DIMENSIONS = ("category", "metal", "designer")
DIMENSIONS = SALE_DIMENSIONS + LINE_DIMENSIONS
FIGURES = ("sales", "units", "discounts", "net", "refunds", "cost", "costed")
ZERO = dict.fromkeys(FIGURES, 0)


def _add(tx: Tx, hour: str, dimension: str, value: str, **figures: int) -> None:
    row = {**ZERO, **figures}
    tx.execute("INSERT INTO report_sales (hour, dimension, value, sales, units, discounts, net,"
               " refunds, cost, costed) VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT(hour,"
               " dimension, value) DO UPDATE SET sales = sales + excluded.sales,"
               " units = units + excluded.units, discounts = discounts + excluded.discounts,"
               " net = net + excluded.net, refunds = refunds + excluded.refunds,"
               " cost = cost + excluded.cost, costed = costed + excluded.costed",
               (hour, dimension, value, *(row[f] for f in FIGURES)))


def _hour(entry: Entry) -> str:
    return entry.ts[:13]  # '2026-12-03T14' of '2026-12-03T14:05:09.123456Z'


def _line_facts(tx: Tx, line: Any) -> tuple[dict[str, str], int | None]:
    """A line's category, metal and designer, and its piece's unit cost (None: unknown)."""
    if line["item_id"]:
        piece = tx.one("SELECT category, metal, designer, cost FROM items WHERE item_id = ?",
                       (line["item_id"],))
        if piece is not None:
            return ({"category": piece["category"], "metal": piece["metal"] or "",
                     "designer": piece["designer"] or ""}, piece["cost"])
    stock = tx.one("SELECT category FROM stock_lines WHERE sku = ?", (line["sku"],)) \
        if line["sku"] else None
    return ({"category": stock["category"] if stock else "service", "metal": "",
             "designer": ""}, None)


def _held(line: Any) -> bool:
    # A line of no tax (a gift card sold) is money held, not a sale (as the Z report says).
    return not line["tax_code"]


def _on_sale(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    hour = _hour(entry)
    lines = tx.all("SELECT * FROM sale_lines WHERE sale_id = ? ORDER BY line_no",
                   (p["sale_id"],))
    sold = [line for line in lines if not _held(line)]
    cost = costed = 0
    for line in sold:
        facts, unit_cost = _line_facts(tx, line)
        known = {} if unit_cost is None else {"cost": unit_cost * line["quantity"],
                                              "costed": line["total"]}
        cost += known.get("cost", 0)
        costed += known.get("costed", 0)
        for dimension in LINE_DIMENSIONS:
            _add(tx, hour, dimension, facts[dimension], sales=1, units=line["quantity"],
                 discounts=line["discount"], net=line["total"], **known)
    net = p["total"] - sum(line["total"] for line in lines if _held(line))
    figures = {"sales": 1, "units": sum(line["quantity"] for line in sold),
               "discounts": p["discount"], "net": net, "cost": cost, "costed": costed}
    for dimension, value in zip(SALE_DIMENSIONS, ("", entry.actor, p["register_id"]),
                                strict=True):
        _add(tx, hour, dimension, value, **figures)


def _on_return(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    hour = _hour(entry)
    sale = tx.one("SELECT associate, register_id FROM sales WHERE sale_id = ?", (p["sale_id"],))
    by_no = {line["line_no"]: line for line in tx.all(
        "SELECT * FROM sale_lines WHERE sale_id = ?", (p["sale_id"],))}
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
        for dimension in LINE_DIMENSIONS:
            _add(tx, hour, dimension, facts[dimension], units=-back["quantity"], net=-share,
                 refunds=share, **known)
    held_back = sum(line["total"] for line in by_no.values() if _held(line)) \
        if entry.kind == "sale.voided" else 0
    refunded = p["refund"] - held_back
    figures = {"units": -units, "net": -refunded, "refunds": refunded, "cost": cost,
               "costed": costed}
    # The refund counts where the sale was made: its associate and register.
    for dimension, value in zip(SALE_DIMENSIONS, ("", sale["associate"], sale["register_id"]),
                                strict=True):
        _add(tx, hour, dimension, value, **figures)


PROJECTIONS = {"sale.completed": _on_sale, "sale.returned": _on_return,
               "sale.voided": _on_return}


def hours_rows(tx: Tx, dimension: str, first_hour: str, last_hour: str
               ) -> Iterable[Any]:
    """The rows of one dimension from `first_hour` to `last_hour` (UTC, both included)."""
    return tx.all("SELECT * FROM report_sales WHERE dimension = ? AND hour >= ? AND hour <= ?"
                  " ORDER BY hour, value", (dimension, first_hour, last_hour))
