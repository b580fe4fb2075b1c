"""The demo's reports: this month's target, set by the manager at a tenth above the same
month last year (rounded to the thousand), so the dashboard shows the month against it."""

from __future__ import annotations

from calendar import monthrange

from hub.money import minor_units
from hub.reports.sales import Asked, SalesReport, store_today
from hub.reports.targets import set_target
from hub.store import Store


async def demo_reports(store: Store, manager: str) -> None:
    today = store_today(store)
    year_ago = today.replace(year=today.year - 1, day=1)
    last_day = year_ago.replace(day=monthrange(year_ago.year, year_ago.month)[1])
    sales = SalesReport.of(store)
    out = await sales.report(Asked(year_ago, last_day, "month", False), margin=False)
    thousand = 1000 * 10 ** minor_units(store.config.currency)
    aim = max(thousand, (out["totals"]["net"] * 11 // 10) // thousand * thousand)
    await set_target(store.ledger, today.strftime("%Y-%m"), aim, store.config.currency,
                     actor=manager)
