"""Buying gold's screens and API through the real app with the layer's part running: a
purchase by an associate, its page in words (rate named, hold end, lots), the hold list, the
register for managers only and its export only encrypted, her purchases on her page, the
trade-in panel on the floor, and a release refused in words during the hold."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pyrage
import pytest
from web_helpers import sign_in

from hub.buying.part import part

CODE = re.compile(r"\b[a-z]+_[a-z_]+\b|\b(buyin|item|sale|client)\.[a-z_]+\b")
TAGS = re.compile(r"<script.*?</script>|<style.*?</style>|<template.*?</template>|<[^>]+>",
                  re.S)


def shown(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(TAGS.sub(" ", html)))


def rates() -> dict:
    now = datetime.now(UTC)
    stamp = lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    return {"id": "m-rates-0001", "type": "rates", "chain": "maison", "store": "test-01",
            "issued_at": stamp(now), "body": {"rates": [
                {"metal": "gold", "fineness": 1000, "per_gram": 6000, "currency": "EUR",
                 "valid_from": stamp(now - timedelta(hours=1)),
                 "valid_until": stamp(now + timedelta(hours=8))}]}}


@pytest.fixture
async def buying(runtime):
    async with part(runtime) as buying:
        yield buying


@pytest.fixture
async def her(store):
    await store.hq.apply(rates(), "ab")
    return (await store.clients.create({"first_name": "Camille", "last_name": "Durand",
                                        "identity_documents": [
                                            {"type": "identity_card", "number": "FR88231207",
                                             "expiry": "2032-02-01", "country": "FR"}]},
                                       "test"))["client_id"]


async def test_buying_through_the_screens(client, store, buying, her):
    h = {"X-CSRF-Token": await sign_in(client, "alex")}
    body = {"client_id": her, "payout": "cash", "register_id": "R1", "lots": [
        {"description": "Old signet ring", "metal": "gold", "fineness": 750,
         "weight_mg": 8_400, "test": "hallmark"}]}
    r = await client.post("/api/v1/buyins/quote", json={"lots": body["lots"]}, headers=h)
    quote = await r.json()
    assert r.status == 200 and quote["computed"] == 32_130  # 8.4 × .75 × 60 × .85
    r = await client.post("/api/v1/buyins", json={**body, "offered": 40_000}, headers=h)
    assert r.status == 403 and (await r.json())["error"] == "approval_needed"
    r = await client.post("/api/v1/buyins", json=body, headers=h)
    assert r.status == 201, await r.text()
    done = await r.json()
    page = await client.get(f"/buying/{done['buyin_id']}")
    text = shown(await page.text())
    assert page.status == 200 and "Identity card …1207" in text and "FR88231207" not in text
    assert "€60.00 a gram" in text and "€321.30" in text and "Hallmark only" in text
    assert not CODE.search(text), CODE.search(text)
    for path in ("/buying", "/buying/holds", f"/clients/{her}", "/floor"):
        page = await client.get(path)
        assert page.status == 200, path
        assert not CODE.search(shown(await page.text())), (path, CODE.search(shown(await page.text())))
    assert "Gold bought and trade-ins" in await (await client.get(f"/clients/{her}")).text()
    assert 'id="trade-in-floor"' in await (await client.get("/floor")).text()
    r = await client.get("/buying/report")
    assert r.status == 403
    r = await client.post(f"/api/v1/buyins/{done['buyin_id']}/lots/1/release",
                          json={"to": "melt"}, headers=h)
    assert r.status == 403  # an associate may not release

    h = {"X-CSRF-Token": await sign_in(client, "mona")}
    r = await client.post(f"/api/v1/buyins/{done['buyin_id']}/lots/1/release",
                          json={"to": "melt"}, headers=h)
    answer = await r.json()
    assert r.status == 409, r.status
    assert answer["error"] == "on_hold" and "hold period until" in answer["detail"]
    report = shown(await (await client.get("/buying/report")).text())
    assert done["buyin_id"] in report and "…1207" in report and not CODE.search(report)
    r = await client.post("/api/v1/buyins/report/export",
                          json={"passphrase": "a long enough phrase"}, headers=h)
    assert r.status == 200
    csv = pyrage.passphrase.decrypt(await r.read(), "a long enough phrase").decode()
    assert done["buyin_id"] in csv and "FR88231207" not in csv
