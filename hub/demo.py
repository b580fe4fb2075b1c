"""`loupe demo`: a demo store, made once, filled with generated pieces, clients and sales."""

from __future__ import annotations

from pathlib import Path

from hub.backup.demo import demo_backup
from hub.buying.demo import demo_buying
from hub.clienteling.demo import demo_day, earning_points, tiers_reviewed
from hub.config import Config, load_config
from hub.generate import generate, history, later
from hub.giftcards.demo import demo_giftcards
from hub.memo.demo import demo_memo
from hub.prices_demo import demo_prices
from hub.reports.demo import demo_reports
from hub.store import Store, init_store
from hub.travel.demo import demo_travel
from hub.workshop.demo import demo_workshop


async def prepare_demo(data_dir: Path, *, items: int, clients: int, sales: int,
                       locale: str = "en-GB") -> tuple[Config, list[str]]:
    """Create and fill the demo store unless it exists; return its config and what to print.
    `locale` is the new store's language and formats (an existing store keeps its own)."""
    fresh = not (data_dir / "loupe.toml").exists()
    if fresh:
        config = init_store(data_dir, "demo-paris", "Maison Loupe — Paris", "EUR",
                            "Europe/Paris", locale)
    config = load_config(data_dir)
    async with await Store.open(config) as store:
        if fresh:
            with history(store, 730, seed=1) as past:  # two years of sales for the reports
                staff_lines = await seed_demo_staff(store)  # first: the staff ring them up
                past.monthly.append(await tiers_reviewed(store))  # tiers move as she buys
                async with earning_points(store):  # the demo's sales earn loyalty points
                    await generate(store, items=items, clients=clients, sales=sales, seed=1,
                                   past=past)
            await later(store, appointments=8,  # this week's, one with a tray
                        wishlists=12, seed=1)  # a partner's gift list among them
            await demo_day(store, "sophie")  # her first morning: dates coming, calls made
            await demo_workshop(store, "sophie", "hugo", "marc")  # a job in every stage
            await demo_prices(store)  # gold by the gram at HQ's rates, a promotion running
            await demo_memo(store, "sophie")  # a vendor's sapphire sold, approvals, a watch
            await demo_giftcards(store, "sophie", "marc")  # cards sold, store credit, exchange
            await demo_travel(store, "sophie")  # HQ's exchange rates, a tourist's tax-free form
            await demo_buying(store, "sophie", "marc")  # a trade-in, scrap on hold, a melt
            await demo_reports(store, "marc")  # this month's target on the dashboard
            staff_lines += await demo_backup(config)  # the stick beside it, and a first one
        else:
            staff_lines = await seed_demo_staff(store)
        summary = await store.summary()
    lines = [
        f"demo store {summary['store_name']} in {data_dir}" + ("" if fresh else " (existing)"),
        f"  {summary['pieces']} pieces, stock value"
        f" {store.words.money(summary['stock_value'], summary['currency'])},"
        f" {summary['clients']} clients, {summary['sales']} sales,"
        f" {summary['journal_entries']} journal entries",
    ]
    return config, lines + staff_lines


# Demo PINs are printed on purpose: this store holds generated data only.
DEMO_STAFF = (("sophie", "Sophie Laurent", "associate", "1111"),
              ("marc", "Marc Delcourt", "manager", "2222"),
              ("hugo", "Hugo Petit", "associate", "4444"),  # the bench jeweler
              ("admin", "Administrator", "admin", "9999"),
              ("lea", "Léa Martin", "trainee", "3333"))
# A role of the store's own: a trainee sells and looks things up, and asks for nothing a
# manager approves (Settings shows it beside the three shipped roles).
DEMO_ROLES = {"trainee": ["sell", "stock.view", "clients.view", "devices.view", "sync.view",
                          "counts.run"]}


async def seed_demo_staff(store: Store) -> list[str]:
    """Enroll the demo staff (once) and return the lines that show their PINs."""
    staff = store.staff
    for role, permissions in DEMO_ROLES.items():
        if staff.roles.get(role) is None:
            await staff.roles.define(role, permissions, actor="demo")
    for staff_id, name, role, pin in DEMO_STAFF:
        if staff.get(staff_id) is None:
            await staff.enroll(staff_id, name, role, pin, actor="demo")
    return ["  sign in as:"] + [f"    {staff_id:<8} PIN {pin}  ({role})"
                                for staff_id, _, role, pin in DEMO_STAFF]

