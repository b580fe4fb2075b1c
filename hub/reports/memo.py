"""Memo exposure: what the boutique holds that is not its own, by vendor, and when it falls
due; the pieces held on consignment for clients; and the pieces out on approval with
clients.

Read from the memo layer's own service (`Memo.aging`, `consignments`, `outs`, `vendors`:
the memo area's projections, with each piece's tag price and cost asked of the core's
`Items`). Nothing here names a client: consignments and approvals are summed, never listed,
so the JSON and the CSV carry vendors' names only. Values at cost (the memo price a vendor
is owed once a piece sells, a consigned piece's cost) and vendors' payables only for a
reader who may see cost; pieces and retail for everyone."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hub.memo.service import Memo

# When a piece falls due, from the store's today: past its day, within 7 days, within 30
# days, later. A memo's due day, a consignment's last day of term, an approval's day back.
BUCKETS = ("overdue", "week", "month", "later")


def due_bucket(due: str, today: date) -> str:
    """Which of `BUCKETS` a due day (YYYY-MM-DD) falls in, seen from `today`."""
    days = (date.fromisoformat(due) - today).days
    if days < 0:
        return "overdue"
    if days <= 7:
        return "week"
    if days <= 30:
        return "month"
    return "later"


def _line(**head: Any) -> dict[str, Any]:
    return {**head, "pieces": 0, "retail": 0, "cost": 0,
            "due": {name: {"pieces": 0, "retail": 0, "cost": 0} for name in BUCKETS}}


def _add(line: dict[str, Any], bucket: str, retail: int, cost: int) -> None:
    for target in (line, line["due"][bucket]):
        target["pieces"] += 1
        target["retail"] += retail
        target["cost"] += cost


def _hide_cost(line: dict[str, Any]) -> None:
    line.pop("cost", None)
    line.pop("payable", None)
    for bucket in line["due"].values():
        bucket.pop("cost", None)


async def memo_report(memo: Memo, *, cost: bool) -> dict[str, Any]:
    """Per vendor, the pieces on memo from it (`pieces`, `retail`, `cost`: the memo price
    owed once sold; `payable`: what its sold pieces are owed now), each split by when its
    memo falls due (`due`: overdue, week, month, later, each with pieces, retail, cost);
    `consignment`: the pieces clients left to sell, the same way (due: the term's end);
    `approval`: pieces out on approval with clients, the same way (due: the day back);
    `totals`: vendors' memo pieces summed. No cost nor payable without `cost`."""
    today = memo.today()
    vendors: dict[str, dict[str, Any]] = {}
    for v in await memo.vendors():  # every vendor, with its payable (the core's account)
        vendors[v["vendor_id"]] = {**_line(vendor_id=v["vendor_id"], name=v["name"]),
                                   "payable": v["payable"], "first_due": None}
    for p in await memo.aging():
        line = vendors.setdefault(p["vendor_id"], {  # a vendor added since the read above
            **_line(vendor_id=p["vendor_id"], name=p["vendor_name"]), "payable": 0,
            "first_due": None})
        _add(line, due_bucket(p["due"], today), p["tag_price"] or 0, p["owed"])
        line["first_due"] = min(line["first_due"] or p["due"], p["due"])
    consignment = _line()
    for c in await memo.consignments():
        _add(consignment, due_bucket(c["until"], today), c["tag_price"] or 0, c["cost"] or 0)
    approval = _line()
    for o in await memo.outs():
        _add(approval, due_bucket(o["due"], today), o["tag_price"] or 0, o["cost"] or 0)
    # A vendor with nothing here is listed only for what it is owed, to who may see it.
    rows = sorted((v for v in vendors.values() if v["pieces"] or (cost and v["payable"])),
                  key=lambda v: (-v["retail"], v["name"]))
    totals = {**_line(), "payable": 0}
    for row in rows:
        for f in ("pieces", "retail", "cost", "payable"):
            totals[f] += row[f]
        for name in BUCKETS:
            for f in ("pieces", "retail", "cost"):
                totals["due"][name][f] += row["due"][name][f]
    if not cost:
        for line in (*rows, consignment, approval, totals):
            _hide_cost(line)
    return {"currency": memo.currency, "today": today.isoformat(), "cost": cost,
            "vendors": rows, "consignment": consignment, "approval": approval,
            "totals": totals}


async def memo_glance(memo: Memo, *, cost: bool) -> dict[str, Any]:
    """For the dashboard: {currency, pieces, retail, cost (only with `cost`), overdue,
    due_within_7, approval_overdue}. `pieces`, `retail` and `cost` are the pieces on memo
    from vendors (cost: the memo price owed once sold); `overdue` those whose memo is past
    its day, `due_within_7` those due from today to 7 days on; `approval_overdue` the pieces
    out on approval with clients past their day back. The same figures as `memo_report`'s
    totals (a test holds them equal)."""
    today = memo.today()
    week = (today + timedelta(days=7)).isoformat()

    def read(tx: Any) -> dict[str, Any]:
        # The dashboard's budget is a tenth of a second: `Memo.aging` asks each piece's
        # columns of `Items` (150 ms at 2,000 pieces on memo), so the memo area's tables
        # are summed here in one query of one snapshot, as hub/reports/stock.py reads items.
        held = tx.one("SELECT COUNT(*) AS pieces, COALESCE(SUM(i.tag_price), 0) AS retail,"
                      " COALESCE(SUM(p.owed), 0) AS cost,"
                      " COALESCE(SUM(p.due < ?), 0) AS overdue,"
                      " COALESCE(SUM(p.due >= ? AND p.due <= ?), 0) AS week"
                      " FROM memo_pieces p JOIN items i USING (item_id)"
                      " WHERE p.state = 'on_memo'", (today.isoformat(), today.isoformat(), week))
        late = tx.one("SELECT COUNT(*) AS n FROM memo_outs o JOIN items i USING (item_id)"
                      " WHERE o.state = 'out' AND o.due < ?", (today.isoformat(),))
        return {"currency": memo.currency, "pieces": held["pieces"], "retail": held["retail"],
                **({"cost": held["cost"]} if cost else {}), "overdue": held["overdue"],
                "due_within_7": held["week"], "approval_overdue": late["n"]}

    return await memo.ledger.read(read)
