"""A gift card of another store of the chain, through real Mosquitto and the reference HQ:
taken online against HQ's balance and reconciled; offline up to `[gift_cards]
offline_limit`, and a card spent twice across the chain becomes a conflict both sides see."""

from __future__ import annotations

import contextlib

import pytest
from sync_helpers import FAST, caught_up, until

from hub.core.errors import Refused
from hub.giftcards.cards import GiftCardSettings, account_of
from hub.giftcards.part import follow_sync, giftcards_of
from hub.sync.replicator import Replicator, load_enrollment

SETTINGS = GiftCardSettings(min_amount=1_000, max_amount=500_000, offline_limit=20_000)


@pytest.fixture
async def chain(hubs, hq):
    with contextlib.ExitStack() as stack:
        made = {}
        for store_id in ("paris-01", "lyon-01"):
            hub = await hubs(store_id)
            cards = stack.enter_context(giftcards_of(hub.store, SETTINGS))
            stack.callback(hub.store.bus.listen("sync.state",
                                                lambda e, c=cards: follow_sync(c, e)))
            cards.online = hub.rep.connected
            made[store_id] = (hub, cards)
        # Both stores known at HQ and listening before a card is sold: a message to `all`
        # reaches the stores HQ has enrolled and that are subscribed.
        for store_id, (hub, _) in made.items():
            await until(lambda h=hub: h.rep.connected, f"{store_id} connected")
            await until(lambda h=hub: caught_up(hq, h), f"{store_id} known at HQ")
        yield made


async def known(cards, code):
    rows = await cards.ledger.fetch("SELECT balance FROM gift_card_known WHERE code = ?",
                                    (code,))
    return rows[0]["balance"] if rows else None


async def status(cards, ref):
    return {r["ref"]: r["status"] for r in await cards.foreign()}.get(ref)


async def test_foreign_card_online_offline_and_conflict(chain, hq):
    (paris, paris_cards), (lyon, lyon_cards) = chain["paris-01"], chain["lyon-01"]
    code = paris_cards.new_code()
    await paris.store.sales.complete(
        register_id="R1", actor="admin", tenders=[{"type": "cash", "amount": 50_000}],
        lines=[{"service": f"giftcard:{code}", "unit_price": 50_000}])
    # HQ tells every store the card's chain-wide balance.
    await until(lambda: known(lyon_cards, code), "Lyon knows the Paris card")
    assert await known(lyon_cards, code) == 50_000
    await until(lambda: lyon_cards.online, "Lyon online")

    # Online: up to HQ's balance; the redemption is journaled and HQ reconciles it.
    too_much = lyon.store.sales.complete(
        register_id="R1", actor="admin", lines=[{"item_id": "lyon-01-0"}],
        tenders=[{"type": "gift_card", "amount": 60_000, "number": code},
                 {"type": "cash", "amount": 190_000}])
    with pytest.raises(Refused) as exc:
        await too_much
    assert exc.value.code == "card_short"
    sale = await lyon.store.sales.complete(
        register_id="R1", actor="admin", lines=[{"item_id": "lyon-01-0"}],
        tenders=[{"type": "gift_card", "amount": 30_000, "number": code},
                 {"type": "cash", "amount": 220_000}])
    ref = f"{sale['sale_id']}/0"
    await until(lambda: _is(status(lyon_cards, ref), "reconciled"), "HQ reconciles Lyon")
    # Paris's own books follow: what was spent in Lyon is off its liability.
    await until(lambda: _is(paris.store.accounts.balance(account_of(code)), 20_000),
                "Paris mirrors the Lyon redemption")

    # Offline: Lyon takes at most the offline limit, and the redemption waits for HQ.
    await lyon.rep.stop()
    lyon_cards.online = False
    with pytest.raises(Refused) as exc:
        await lyon.store.sales.complete(
            register_id="R1", actor="admin", lines=[{"item_id": "lyon-01-1"}],
            tenders=[{"type": "gift_card", "amount": 25_000, "number": code},
                     {"type": "cash", "amount": 225_000}])
    assert exc.value.code == "card_offline_limit"
    offline = await lyon.store.sales.complete(
        register_id="R1", actor="admin", lines=[{"item_id": "lyon-01-1"}],
        tenders=[{"type": "gift_card", "amount": 20_000, "number": code},
                 {"type": "cash", "amount": 230_000}])
    # Meanwhile Paris spends the same 20,000 at home.
    await paris.store.sales.complete(
        register_id="R1", actor="admin", lines=[{"item_id": "paris-01-0"}],
        tenders=[{"type": "gift_card", "amount": 20_000, "number": code},
                 {"type": "cash", "amount": 230_000}])
    await until(lambda: _is(hq.head("paris-01"), paris.store.ledger.seq), "Paris at HQ")
    # Lyon comes back: HQ finds the card spent twice and says so; Lyon journals a conflict.
    lyon.rep = Replicator(lyon.store, FAST, await load_enrollment(lyon.store.ledger))
    await lyon.rep.start()
    offline_ref = f"{offline['sale_id']}/0"
    await until(lambda: _is(status(lyon_cards, offline_ref), "conflict"), "the conflict")
    conflicts = await lyon.store.hq.conflicts()
    assert any(c["kind"] == "gift_card_overspent" and code in c["detail"] for c in conflicts)
    assert await status(lyon_cards, ref) == "reconciled"  # the earlier one stands
    await until(lambda: _is(known(lyon_cards, code), -20_000), "HQ's balance says it")
    await until(lambda: hq.call(hq.hq.storage.conflicts), "HQ holds Lyon's conflict")
    assert {c["kind"] for c in await hq.call(hq.hq.storage.conflicts)} == {
        "gift_card_overspent"}


async def _is(value, expected) -> bool:
    return (await value) == expected
