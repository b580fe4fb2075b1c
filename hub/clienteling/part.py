"""The clienteling part of the daemon: its rules read from `[clienteling]` at start (a wrong
key stops the hub with the key named) and its services on the runtime: the follow-ups and
the exports of a client's own data, each told what the other parts of the layer add."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

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
    followups = FollowUps(runtime.store, rules_of(runtime.config))
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
    tiers = Tiers(runtime.store, tier_rules_of(runtime.config))
    followups.sources.append(wishlists.followups)
    followups.wishes_of = wishlists.in_words
    privacy.sections[N_("Wish list")] = wishlists.export_section
    privacy.sections[N_("Tier")] = tiers.export_section
    await tiers.start()
    runtime.wishlists, runtime.tiers = wishlists, tiers
    # Points are earned, spent and taken back inside each sale's own transaction.
    loyalty = Loyalty(runtime.store.accounts, loyalty_rules_of(runtime.config),
                      runtime.config.currency, tier_in=tiers.tier_in)
    runtime.store.sales.extensions.append(loyalty)
    runtime.store.clients.merge_hooks.append(loyalty.merged_in)
    runtime.loyalty = loyalty
    runtime.recommendations = Recommendations(runtime.store, wishlists)
    try:
        yield followups
    finally:
        runtime.store.sales.extensions.remove(loyalty)
        runtime.store.clients.merge_hooks.remove(loyalty.merged_in)
        runtime.loyalty = None
        runtime.wishlists = runtime.tiers = runtime.recommendations = None
        await tiers.stop()
        runtime.followups = runtime.privacy = None
        runtime.appointments = None
