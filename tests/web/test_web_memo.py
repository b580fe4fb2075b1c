"""The memo screens and API through the real app with the memo part running: a manager adds a
vendor and receives a memo, the piece sells at the register and its vendor's page shows the
payable, the manager pays it; an associate sends a piece on approval from a client's page and
she keeps it; a consignment taken in shows on her page; bad input answers a sentence beside
its field and writes nothing; an associate may not receive memos; every screen in words (no
codes, no cent amounts)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from html import unescape

import pytest
from web_helpers import piece, sign_in

from hub.memo.part import part

CODE = re.compile(r"\b[a-z]+_[a-z_]+\b|\b(memo|vendor|consignment|item|sale)\.[a-z_]+\b")
TAGS = re.compile(r"<script.*?</script>|<style.*?</style>|<template.*?</template>|<[^>]+>",
                  re.S)


def shown(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(TAGS.sub(" ", html)))


@pytest.fixture
async def memo(runtime):
    async with part(runtime) as memo:
        yield memo


@pytest.fixture
async def her(store):
    return (await store.clients.create({"first_name": "Camille", "last_name": "Durand"},
                                       "test"))["client_id"]


async def page_text(client, path):
    resp = await client.get(path)
    assert resp.status == 200, path
    text = shown(await resp.text())
    assert not CODE.search(text), (path, CODE.search(text).group(0))
    return text


async def test_memo_in_sold_paid_through_the_screens(client, store, memo, her):
    h = {"X-CSRF-Token": await sign_in(client, "mona")}
    resp = await client.post("/api/v1/memo/vendors", json={"name": "Atelier Vendôme",
                                                           "terms_days": 60}, headers=h)
    assert resp.status == 201
    vendor = (await resp.json())["vendor_id"]
    resp = await client.post("/api/v1/memo/receipts", headers=h, json={
        "vendor_id": vendor, "memo_ref": "AV-881",
        "pieces": [piece("SAPH-1", price=1_200_000, description="Sapphire ring")]})
    assert resp.status == 201, await resp.text()
    resp = await client.post("/api/v1/registers/R1/cart/lines", json={"item_id": "SAPH-1"},
                             headers=h)
    assert resp.status in (200, 201), await resp.text()
    resp = await client.post("/api/v1/registers/R1/cart/tenders",
                             json={"type": "cash", "amount": 1_200_000}, headers=h)
    assert resp.status in (200, 201), await resp.text()
    resp = await client.post("/api/v1/registers/R1/cart/complete", json={}, headers=h)
    assert resp.status in (200, 201), await resp.text()
    text = await page_text(client, f"/memo/vendors/{vendor}")
    assert "Atelier Vendôme" in text and "€6,000.00" in text  # the cost, owed
    assert "Sold" in text
    exposure = await page_text(client, "/memo")
    assert "Owed to vendors" in exposure and "€6,000.00" in exposure
    resp = await client.post(f"/api/v1/memo/vendors/{vendor}/payments", headers=h,
                             json={"amount": 600_000, "method": "bank_transfer",
                                   "reference": "VIR-0042"})
    assert resp.status == 200 and (await resp.json())["payable"] == 0
    await page_text(client, "/memo/aging")
    await page_text(client, "/memo/receive")


async def test_bad_memo_answers_beside_its_field(client, store, memo):
    h = {"X-CSRF-Token": await sign_in(client, "mona")}
    vendor = (await (await client.post("/api/v1/memo/vendors", headers=h, json={
        "name": "V", "terms_days": 30})).json())["vendor_id"]
    seq = store.ledger.seq
    resp = await client.post("/api/v1/memo/receipts", headers=h, json={
        "vendor_id": vendor, "memo_ref": "X", "terms_days": 45,
        "due": (date.today() - timedelta(days=3)).isoformat(), "pieces": [piece("Z-1")]})
    assert resp.status == 400
    body = await resp.json()
    assert {p["field"] for p in body["problems"]} == {"terms_days", "due"}
    assert all("_" not in p["message"] for p in body["problems"])
    resp = await client.post("/api/v1/memo/pieces/P001/return", json={}, headers=h)
    assert resp.status == 409 or resp.status == 400 or resp.status == 422
    assert "not on memo" in (await resp.json())["detail"]
    assert store.ledger.seq == seq


async def test_an_associate_sends_on_approval_and_may_not_receive(client, store, memo, her):
    h = {"X-CSRF-Token": await sign_in(client, "alex")}
    resp = await client.post("/api/v1/memo/receipts", headers=h, json={
        "vendor_id": "V1", "memo_ref": "X", "pieces": [piece("Z-1")]})
    assert resp.status == 403
    text = await page_text(client, f"/clients/{her}")
    assert "On approval and consignment" in text and "Send a piece on approval" in text
    due = (date.today() + timedelta(days=4)).isoformat()
    resp = await client.post("/api/v1/memo/approvals", headers=h,
                             json={"item_id": "P001", "client_id": her, "due": due})
    assert resp.status == 201, await resp.text()
    out = await resp.json()
    text = await page_text(client, "/memo/approvals")
    assert "Camille Durand" in text and "She keeps it" in text
    assert "Out on approval" in await page_text(client, f"/clients/{her}")
    resp = await client.post(f"/api/v1/memo/approvals/{out['memo_out_id']}/sale", headers=h,
                             json={"register_id": "R1",
                                   "tenders": [{"type": "cash", "amount": 250_000}]})
    assert resp.status == 201, await resp.text()
    assert (await resp.json())["client_id"] == her
    assert (await store.items.get("P001"))["status"] == "sold"


async def test_consignment_on_her_page(client, store, memo, her):
    h = {"X-CSRF-Token": await sign_in(client, "mona")}
    resp = await client.post("/api/v1/memo/consignments", headers=h, json={
        "client_id": her, "commission_bp": 2_500, "minimum": 400_000, "term_days": 120,
        "piece": piece("W-1", price=500_000, category="watch",
                       description="Steel chronograph")})
    assert resp.status == 201, await resp.text()
    text = await page_text(client, f"/clients/{her}")
    assert "Steel chronograph" in text and "25" in text and "€4,000.00" in text
    text = await page_text(client, "/memo/consignments")
    assert "Camille Durand" in text
