"""Head office sets the chain's follow-up rules and tier thresholds: a `settings` message,
checked as the store's own file is (a threshold that is not increasing, an unknown key, a
section no part takes: refused, nothing applied), then standing over the file's keys in the
running part, from the moment it is applied, and again after a restart."""

from __future__ import annotations

import asyncio

import pytest

from hub.clienteling.part import part
from hub.core.errors import Refused


def message(n: int, section: str, values: dict) -> dict:
    return {"id": f"m-settings-{n:04d}", "type": "settings",
            "body": {"section": section, "values": values}}


async def only_its_refusal(store, before: int, message_id: str) -> None:
    """Nothing applied: the one new entry records the message as refused (HQ reads it)."""
    assert store.ledger.seq == before + 1
    [entry] = await store.ledger.entries(before, 1)
    p = store.ledger.decrypt(entry)
    assert (entry.kind, p["outcome"], p["message"]["id"]) == ("hq.message", "refused",
                                                               message_id)


async def _until(condition, seconds: float = 5.0) -> None:
    async with asyncio.timeout(seconds):
        while not condition():
            await asyncio.sleep(0.01)


async def test_head_office_sets_the_rules_and_the_tiers(runtime, store):
    async with part(runtime):
        followups, tiers = runtime.followups, runtime.tiers
        assert followups.rules.date_lead_days == 14
        for n, (section, values) in enumerate((
                ("tiers", {"vip": {"lifetime": 10}}),  # below loyal's: not increasing
                ("clienteling", {"date_lead_days": 500}),
                ("clienteling", {"lead_days": 7}),
                ("payroll", {"x": 1}))):
            before = store.ledger.seq
            with pytest.raises(Refused) as refused:
                await store.hq.apply(message(n, section, values), "sig")
            assert refused.value.code == "invalid"
            await only_its_refusal(store, before, message(n, section, values)["id"])
        await store.hq.apply(message(10, "clienteling", {"date_lead_days": 21,
                                                         "cooling_off_days": 7}), "sig")
        await _until(lambda: followups.rules.date_lead_days == 21)
        assert followups.rules.cooling_off_days == 7
        await store.hq.apply(message(11, "tiers", {"vip": {"lifetime": 9_000_000,
                                                           "visits": 5}}), "sig")
        await _until(lambda: any(name == "vip" and t.lifetime == 9_000_000
                                 for name, t in tiers.rules.thresholds))
    async with part(runtime):  # a restart reads what head office set
        assert runtime.followups.rules.date_lead_days == 21
        assert any(name == "vip" and t.visits == 5 for name, t in runtime.tiers.rules.thresholds)


async def test_a_wish_made_on_the_web_shop_arrives_through_head_office(runtime, store):
    her = await store.clients.create({"first_name": "Hélène", "last_name": "Fontaine"}, "t")
    cid = her["client_id"]
    async with part(runtime):
        wish = {"id": "m-wish-0001", "type": "wishlist",
                "body": {"client_id": cid, "wish": {"item_id": "P001"}}}
        for n, body in enumerate(({"client_id": cid, "wish": {"style": "her words"}},
                                  {"client_id": cid, "wish": {"item_id": "NOPE-1"}},
                                  {"client_id": "CAAAAAAAAAA", "wish": {"item_id": "P001"}})):
            before = store.ledger.seq
            with pytest.raises(Refused):
                await store.hq.apply({"id": f"m-bad-{n}", "type": "wishlist", "body": body},
                                     "sig")
            await only_its_refusal(store, before, f"m-bad-{n}")
        await store.hq.apply(wish, "sig")
        [entry] = (await runtime.wishlists.of(cid))["entries"]
        assert (entry["item_id"], entry["source"]) == ("P001", "web_shop")
    before = store.ledger.seq
    with pytest.raises(Refused):  # the layer not running: the message is not taken, and
        await store.hq.apply({**wish, "id": "m-wish-0002"}, "sig")  # not journaled: a
    assert store.ledger.seq == before  # resend may find the layer running
