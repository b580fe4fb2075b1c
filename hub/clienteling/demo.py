"""The demo store's clienteling: what an associate finds on her first morning.

The generator makes the book (deep profiles, associates, wish lists, appointments); this adds
the few facts that make a believable day of it: a client of Sophie's whose anniversary comes
in 12 days (who viewed a pendant on the web shop yesterday, one the Lyon store has), a
birthday this week in her book, her contact log with a call and a visit, and loyalty points
earned by the demo's sales (the loyalty rules run during the sales, as they do in the hub),
and tiers reviewed month by month along the demo's past.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import date, datetime, timedelta

from hub.clienteling.book import FollowUps
from hub.clienteling.loyalty import Loyalty, loyalty_rules_of
from hub.clienteling.rules import rules_of
from hub.clienteling.tiers import Tiers, tier_rules_of
from hub.store import Store

CALLS = (("called", "Anniversary next month: thinking of emerald earrings to match her"
                    " bracelet."),
         ("visited", "Came by with her daughter; tried the rose gold bangles."))


async def tiers_reviewed(store: Store) -> Callable[[date], Awaitable[None]]:
    """A month's review of every client's tier as of that day (what the running hub keeps
    up to date as she buys), so the demo's tiers moved along its past, not all today."""
    tiers = Tiers(store, tier_rules_of(store.config, await store.hq.settings("tiers")))

    async def review(day: date) -> None:
        await tiers.recompute_all(today=day)

    return review


@asynccontextmanager
async def earning_points(store: Store) -> AsyncIterator[None]:
    """Sales made inside earn loyalty points, as in the running hub."""
    loyalty = Loyalty(store.accounts, loyalty_rules_of(store.config), store.config.currency)
    store.sales.extensions.append(loyalty)
    try:
        yield
    finally:
        store.sales.extensions.remove(loyalty)


async def demo_day(store: Store, associate: str) -> None:
    """Dates coming up in `associate`'s book, and her contact log (see the module)."""
    book = store.clients.names.book_of(associate)
    if len(book) < 2:
        return
    today = datetime.now(store.words.tz).date()
    first, second = book[0], book[1]
    for client_id, kind, days in ((first, "anniversary", 12), (second, "birthday", 3)):
        profile = (await store.clients.get(client_id))["profile"] or {}
        dates = dict(profile.get("dates") or {})
        year = dates.get(kind, "")[:4]
        on = today + timedelta(days=days)
        dates[kind] = (f"{year}-{on:%m-%d}" if year.isdigit() and int(year) < on.year
                       else f"--{on:%m-%d}")
        await store.clients.update(client_id, {"dates": dates}, "demo")
    followups = FollowUps(store, rules_of(store.config))
    for outcome, note in CALLS:
        await followups.log_contact(first, outcome, note, actor=associate)
    # Yesterday she viewed a pendant on the web shop, and the Lyon store has one (as head
    # office would tell the store: its messages, applied as the sync layer applies them).
    pendant = await store.ledger.fetch_one(
        "SELECT sku FROM items WHERE category = 'pendant' ORDER BY tag_price DESC LIMIT 1")
    if pendant is not None:
        yesterday = (datetime.now(store.words.tz) - timedelta(days=1)).strftime(
            "%Y-%m-%dT10:30:00Z")
        for n, (kind, body) in enumerate((
                ("activity", {"client_id": first, "events": [
                    {"action": "viewed", "ref": pendant["sku"], "at": yesterday}]}),
                ("stock_elsewhere", {"sku": pendant["sku"], "stores": {"lyon": 1}}))):
            await store.hq.apply({"id": f"demo-{n}", "type": kind, "body": body}, "demo")
