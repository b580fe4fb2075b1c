"""Daily closure (Z report): the day's totals, signed and chained like every entry, numbered
without gaps, as cash-register rules ask (NF525, KassenSichV, RKSV).

A closure covers every entry after the previous closure, up to the closure itself, and names
the hash of the last entry it covers: once HQ or an auditor holds a Z report, the journal up
to that point cannot be truncated or rewritten unseen. An X report is the same figures
without closing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from hub.core.items import row_dict
from hub.ledger.journal import Entry
from hub.ledger.ledger import Ledger, Tx


def _on_closed(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute("INSERT INTO closures (z_no, seq, ts, actor, from_seq, through_seq, report)"
               " VALUES (?,?,?,?,?,?,?)",
               (p["z_no"], entry.seq, entry.ts, entry.actor, p["from_seq"], p["through_seq"],
                json.dumps(p["totals"], sort_keys=True, separators=(",", ":"))))


PROJECTIONS = {"day.closed": _on_closed}


def day_totals(tx: Tx, from_seq: int, through_seq: int) -> dict[str, Any]:
    """Totals of the sales, returns and voids recorded in (from_seq, through_seq]."""
    rng = (from_seq, through_seq)
    sales = tx.one("SELECT COUNT(*) AS n, COALESCE(SUM(subtotal), 0) AS gross,"
                   " COALESCE(SUM(discount), 0) AS discount, COALESCE(SUM(tax), 0) AS tax,"
                   " COALESCE(SUM(total), 0) AS total FROM sales WHERE seq > ? AND seq <= ?",
                   rng)
    refunds = tx.one("SELECT COUNT(*) AS n, COALESCE(SUM(refund), 0) AS refund FROM returns"
                     " WHERE seq > ? AND seq <= ?", rng)
    tax = {r["tax_code"]: {"tax": r["tax"], "base": r["base"]} for r in tx.all(
        "SELECT l.tax_code, SUM(l.tax) AS tax, SUM(l.total) AS base FROM sale_lines l"
        " JOIN sales s USING (sale_id) WHERE s.seq > ? AND s.seq <= ? AND l.tax_code != ''"
        " GROUP BY l.tax_code ORDER BY l.tax_code", rng)}
    # Lines of no tax (a gift card sold) are money held, not sales: left out of the sales
    # figures and shown apart (`held_sold`); a void gives them back apart too.
    held = tx.one("SELECT COUNT(*) AS n, COALESCE(SUM(l.total), 0) AS total FROM sale_lines l"
                  " JOIN sales s USING (sale_id) WHERE s.seq > ? AND s.seq <= ? AND"
                  " l.tax_code = ''", rng)
    held_back = tx.one("SELECT COALESCE(SUM(l.total), 0) AS total FROM returns r JOIN"
                       " sale_lines l ON l.sale_id = r.sale_id WHERE r.seq > ? AND r.seq <= ?"
                       " AND r.kind = 'void' AND l.tax_code = ''", rng)["total"]
    tenders: dict[str, int] = {}
    for r in tx.all("SELECT t.type, SUM(t.amount) AS amount FROM sale_tenders t"
                    " JOIN sales s USING (sale_id) WHERE s.seq > ? AND s.seq <= ?"
                    " GROUP BY t.type ORDER BY t.type", rng):
        tenders[r["type"]] = r["amount"]
    # Change handed back comes out of the cash drawer.
    change = tx.one("SELECT COALESCE(SUM(paid - total), 0) AS change FROM (SELECT s.total,"
                    " (SELECT SUM(amount) FROM sale_tenders t WHERE t.sale_id = s.sale_id)"
                    " AS paid FROM sales s WHERE s.seq > ? AND s.seq <= ?)", rng)["change"]
    if change:
        tenders["cash"] = tenders.get("cash", 0) - change
    staff = {r["associate"]: {"sales": r["n"], "total": r["total"]} for r in tx.all(
        "SELECT associate, COUNT(*) AS n, SUM(total) AS total FROM sales WHERE seq > ? AND"
        " seq <= ? GROUP BY associate ORDER BY associate", rng)}
    registers = {}
    for r in tx.all(
            "SELECT register_id, MIN(receipt_no) AS first, MAX(receipt_no) AS last FROM"
            " (SELECT register_id, receipt_no FROM sales WHERE seq > ? AND seq <= ? UNION ALL"
            " SELECT register_id, receipt_no FROM returns WHERE seq > ? AND seq <= ?)"
            " GROUP BY register_id ORDER BY register_id", rng + rng):
        registers[r["register_id"]] = {"first_document": r["first"], "last_document": r["last"]}
    sold, refunded = sales["total"] - held["total"], refunds["refund"] - held_back
    return {"sales": sales["n"], "gross": sales["gross"] - held["total"],
            "discounts": sales["discount"], "tax": sales["tax"], "sales_total": sold,
            "refunds": refunds["n"], "refund_total": refunded, "net": sold - refunded,
            "held_sold": {"lines": held["n"], "total": held["total"], "voided": held_back},
            "tax_by_code": tax, "tenders": tenders, "staff": staff, "registers": registers}


Section = Callable[[Tx, int, int], dict[str, Any]]


class Closures:
    def __init__(self, ledger: Ledger, currency: str,
                 sections: dict[str, Section] | None = None) -> None:
        self.ledger = ledger
        self.currency = currency
        # Other areas' parts of the day's record (the closing stock count), by area name.
        self.sections = sections or {}

    def _figures(self, tx: Tx, from_seq: int, through_seq: int) -> dict[str, Any]:
        totals = day_totals(tx, from_seq, through_seq)
        for name, section in sorted(self.sections.items()):
            totals[name] = section(tx, from_seq, through_seq)
        return totals

    @staticmethod
    def _last(tx: Tx) -> tuple[int, int]:
        # The next closure starts after the previous closure's own entry.
        row = tx.one("SELECT z_no, seq FROM closures ORDER BY z_no DESC LIMIT 1")
        return (row["z_no"], row["seq"]) if row else (0, 0)

    async def report(self) -> dict[str, Any]:
        """X report: the figures since the last closure, without closing."""

        def command(tx: Tx) -> dict[str, Any]:
            z_no, through = self._last(tx)
            return {"since_z": z_no, "from_seq": through, "through_seq": tx.seq,
                    "currency": self.currency, "totals": self._figures(tx, through, tx.seq)}

        return await self.ledger.read(command)  # a snapshot: no need to queue for the writer

    async def close_day(self, actor: str) -> dict[str, Any]:
        """Z report: append the closure; the next one starts where this one ends."""

        def command(tx: Tx) -> Entry:
            z_no, through = self._last(tx)
            anchor = tx.one("SELECT hash FROM journal WHERE seq = ?", (tx.seq,))
            payload = {"z_no": z_no + 1, "from_seq": through, "through_seq": tx.seq,
                       "through_hash": bytes(anchor["hash"]).hex() if anchor else None,
                       "currency": self.currency, "totals": self._figures(tx, through, tx.seq)}
            return tx.append("day.closed", f"day:Z{z_no + 1}", payload, actor=actor)

        entry = await self.ledger.transact(command)
        return {**(self.ledger.decrypt(entry) or {}), "seq": entry.seq, "ts": entry.ts,
                "short_code": entry.short_code()}

    async def list(self, limit: int = 60) -> list[dict[str, Any]]:
        rows = await self.ledger.fetch("SELECT * FROM closures ORDER BY z_no DESC LIMIT ?",
                                       (limit,))
        return [{**row_dict(r), "report": json.loads(r["report"])} for r in rows]
