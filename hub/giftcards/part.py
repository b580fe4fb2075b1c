"""The gift cards' part of the daemon: `[gift_cards]` read at start (a wrong key stops the
hub with the key named), `runtime.giftcards`, and what it adds to the rest of the hub: the
`giftcard` service line, the `gift_card` and `store_credit` tenders (checked as the cart
takes them), HQ's two gift card messages, and whether HQ is reachable now (`sync.state`)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator

from hub.bus import Event
from hub.giftcards import credit
from hub.giftcards.cards import SERVICE, TENDER, GiftCards, GiftCardSettings, settings_of
from hub.runtime import Runtime
from hub.store import Store

MESSAGES = ("gift_card_balance", "gift_card_reconciliation")


@contextlib.contextmanager
def giftcards_of(store: Store, settings: GiftCardSettings | None = None
                 ) -> Iterator[GiftCards]:
    """The gift cards on a store's sales while inside (the part, the demo and the tests
    use the same)."""
    cards = GiftCards(store, settings or settings_of(store.config))
    store.sales.extensions.append(cards)
    store.sales.services[SERVICE] = cards
    store.sales.tender_checks[TENDER] = cards.check_card_in
    store.sales.tender_checks[credit.TENDER] = cards.check_credit_in
    takers = {MESSAGES[0]: cards.balance_message(), MESSAGES[1]: cards.reconciliation_message()}
    store.hq.layer_messages.update(takers)
    try:
        yield cards
    finally:
        for name in MESSAGES:
            store.hq.layer_messages.pop(name, None)
        store.sales.tender_checks.pop(TENDER, None)
        store.sales.tender_checks.pop(credit.TENDER, None)
        store.sales.services.pop(SERVICE, None)
        store.sales.extensions.remove(cards)


def follow_sync(cards: GiftCards, event: Event) -> None:
    """Online while the replicator is connected to the broker HQ answers on."""
    cards.online = bool(event.data.get("connected"))


@contextlib.asynccontextmanager
async def part(runtime: Runtime) -> AsyncIterator[GiftCards]:
    with giftcards_of(runtime.store) as cards:
        if runtime.sync is not None:  # the sync part starts first
            cards.online = bool(runtime.sync.status().get("connected"))
        unlisten = runtime.bus.listen("sync.state", lambda event: follow_sync(cards, event))
        runtime.giftcards = cards
        try:
            yield cards
        finally:
            runtime.giftcards = None
            unlisten()
