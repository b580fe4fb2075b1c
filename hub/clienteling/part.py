"""The clienteling part of the daemon: its rules read from `[clienteling]` at start (a wrong
key stops the hub with the key named) and its services on the runtime: the follow-ups and
the exports of a client's own data, each told what the other parts of the layer add."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from hub.bus import Event
from hub.clienteling.appointments import Appointments, settings_of
from hub.clienteling.book import FollowUps
from hub.clienteling.loyalty import Loyalty, loyalty_rules_of
from hub.clienteling.privacy import Privacy
from hub.clienteling.recommend import Recommendations
from hub.clienteling.rules import rules_of
from hub.clienteling.tiers import Tiers, tier_rules_of
from hub.clienteling.wishlists import Wishlists
from hub.runtime import Runtime
from hub.words import N_


@contextlib.asynccontextmanager
async def part(runtime: Runtime) -> AsyncIterator[FollowUps]:
    hq, config = runtime.store.hq, runtime.config
    # Head office may set the follow-up rules and the tier thresholds for the chain: checked
    # as the file's are, standing over them (`[clienteling]`, `[tiers]`).
    hq.setting_checks["clienteling"] = lambda values: rules_of(config, values)
    hq.setting_checks["tiers"] = lambda values: tier_rules_of(config, values)
    followups = FollowUps(runtime.store, rules_of(config, await hq.settings("clienteling")))
    privacy = Privacy(runtime.store)
    privacy.sections[N_("Contact log")] = followups.log_section
    runtime.followups, runtime.privacy = followups, privacy
    appointments = Appointments(runtime.store, settings_of(runtime.config))
    followups.sources.append(appointments.followups)  # a thank-you call after one
    privacy.sections[N_("Appointments")] = appointments.export_section
    runtime.appointments = appointments
    # Her wishes, her tier, what to show her: the wish lists raise follow-ups and fill the
    # call sheet; the tiers follow every sale, return and void of a client.
    wishlists = Wishlists(runtime.store)
    tiers = Tiers(runtime.store, tier_rules_of(config, await hq.settings("tiers")))
    followups.sources.append(wishlists.followups)
    followups.wishes_of = wishlists.in_words
    hq.layer_messages["wishlist"] = wishlists  # wishes made on the web shop
    privacy.sections[N_("Wish list")] = wishlists.export_section
    privacy.sections[N_("Tier")] = tiers.export_section
    await tiers.start()
    runtime.wishlists, runtime.tiers = wishlists, tiers
    # Points are earned, spent and taken back inside each sale's own transaction.
    loyalty = Loyalty(runtime.store.accounts, loyalty_rules_of(runtime.config),
                      runtime.config.currency, tier_in=tiers.tier_in)
    runtime.store.sales.extensions.append(loyalty)
    runtime.store.sales.tier_of = tiers.tier_in  # HQ's promotions for her tier (prices)
    runtime.store.clients.merge_hooks.append(loyalty.merged_in)
    runtime.loyalty = loyalty
    runtime.recommendations = Recommendations(runtime.store, wishlists)

    async def follow_hq(event: Event) -> None:
        followups.rules = rules_of(config, await hq.settings("clienteling"))
        tiers.set_rules(tier_rules_of(config, await hq.settings("tiers")))

    def on_hq(event: Event) -> None:
        message = (event.data.get("payload") or {}).get("message") or {}
        if message.get("type") == "settings":
            spawn(follow_hq(event))

    tasks: set[asyncio.Task[None]] = set()

    def spawn(coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    unlisten = runtime.bus.listen("journal.hq.message", on_hq)
    try:
        yield followups
    finally:
        unlisten()
        hq.layer_messages.pop("wishlist", None)
        for section in ("clienteling", "tiers"):
            hq.setting_checks.pop(section, None)
        for task in tasks:
            task.cancel()
        runtime.store.sales.extensions.remove(loyalty)
        runtime.store.sales.tier_of = None
        runtime.store.clients.merge_hooks.remove(loyalty.merged_in)
        runtime.loyalty = None
        runtime.wishlists = runtime.tiers = runtime.recommendations = None
        await tiers.stop()
        runtime.followups = runtime.privacy = None
        runtime.appointments = None
