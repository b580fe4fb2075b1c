"""The dashboard: what a manager reads first, on one screen (`/reports`), and the same as
JSON (`/api/v1/reports/dashboard`). Each part is the glance of its own report (sales, stock,
memo, counts, clients, the workshop, clienteling outcomes), so a figure here never differs
from the report it links to; a part whose layer is not running is left out, not shown empty.

The month against its target: net sales so far, the target a manager set
(hub/reports/targets.py), the share reached, and where the month ends at the pace of its
days so far (today counted as a day)."""

from __future__ import annotations

import asyncio
import time
import weakref
from calendar import monthrange
from dataclasses import dataclass
from datetime import date
from typing import Any

from hub.ledger.ledger import utc_now
from hub.reports.clients import clients_glance
from hub.reports.counts import counts_glance
from hub.reports.memo import memo_glance
from hub.reports.outcomes import outcomes_glance
from hub.reports.sales import Asked, SalesReport
from hub.reports.stock import stock_report
from hub.reports.targets import target_of
from hub.runtime import Runtime
from hub.store import Store

TOPS = ("associate", "category", "metal", "designer")  # this month's net sales, by each
TOP_ROWS = 5
CLIENTS_FRESH_S = 600.0


@dataclass
class _Read:
    day: date
    at: float  # monotonic
    value: dict[str, Any]
    again: asyncio.Task[None] | None = None


_CLIENTS: weakref.WeakKeyDictionary[Store, _Read] = weakref.WeakKeyDictionary()


async def clients_now(store: Store, today: date) -> dict[str, Any]:
    """The clients' glance, read at most `CLIENTS_FRESH_S` ago. Its figures (VIPs not seen
    in six months, rising clients, the book by tier) move by the day, and reading them is a
    pass over every client's sales (0.3 to 0.5 s at 300,000 sales, see docs/performance.md):
    more than a dashboard may wait. So the last reading is shown, with when it was made
    (`as_of`), and an older one is read again beside it; a new day is read at once."""
    held = _CLIENTS.get(store)
    if held is None or held.day != today:
        value = {**await clients_glance(store, today), "as_of": utc_now()}
        _CLIENTS[store] = _Read(today, time.monotonic(), value)
        return value
    if time.monotonic() - held.at > CLIENTS_FRESH_S and (held.again is None
                                                        or held.again.done()):
        async def again() -> None:
            value = {**await clients_glance(store, today), "as_of": utc_now()}
            held.value, held.at = value, time.monotonic()

        held.again = asyncio.get_running_loop().create_task(again())
    return held.value


def month_pace(net: int, today: date) -> int:
    """Where the month ends if the rest of its days sell as its days so far did."""
    return net * monthrange(today.year, today.month)[1] // today.day


async def dashboard(runtime: Runtime, *, margin: bool) -> dict[str, Any]:
    store = runtime.store
    sales = SalesReport.of(store)
    today = sales.today()
    first = today.replace(day=1)
    month_key = f"{today.year}-{today.month:02d}"
    glance = await sales.glance(margin=margin)
    tops = {}
    for by in TOPS:
        out = await sales.report(Asked(first, today, by, False), margin=margin)
        tops[by] = out["rows"][:TOP_ROWS]
    currency = store.config.currency

    def read(tx: Any) -> dict[str, Any]:
        held = stock_report(tx, store.hq, currency, "category", cost=margin)
        return {"target": target_of(tx, month_key),
                "stock": {"totals": held["totals"], "cost": held["cost"]},
                "outcomes": outcomes_glance(tx, store.config.timezone, today)}

    books = await store.ledger.read(read)
    net = glance["month"]["totals"]["net"]
    target = books["target"]
    month = {"month": month_key, "from": first.isoformat(), "to": today.isoformat(),
             "totals": glance["month"]["totals"], "before": glance["month"]["before"],
             "pace": month_pace(net, today), "target": target["amount"] if target else None,
             "reached_bp": net * 10_000 // target["amount"] if target else None}
    out: dict[str, Any] = {"currency": currency, "today": today.isoformat(),
                           "margin": margin, "yesterday": glance["yesterday"],
                           "month": month, "tops": tops, "stock": books["stock"],
                           "outcomes": books["outcomes"]}
    if runtime.jobs is not None:
        out["workshop"] = await runtime.jobs.figures()
    if runtime.memo is not None:
        out["memo"] = await memo_glance(runtime.memo, cost=margin)
    out["counts"] = await counts_glance(store.ledger, today)
    out["clients"] = await clients_now(store, today)
    return out
