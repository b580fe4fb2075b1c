"""The day's follow-ups over the API: a date coming up is on Today, done with an outcome it
leaves Today for Done (once: a second time is refused), bad input is refused in words and
writes nothing; a fine purchase comes up months later; an erased client has none."""

from __future__ import annotations

from datetime import timedelta

import pytest
from web_helpers import sign_in

from hub.clienteling.book import FollowUps
from hub.clienteling.rules import Rules
from hub.ledger.ledger import dump_projections
from tests.builders import cash, piece


@pytest.fixture
async def followups(runtime, store):
    runtime.followups = FollowUps(store, Rules())  # what the layer's part does at start
    return runtime.followups


def _in(days: int, followups: FollowUps) -> str:
    return (followups.today() + timedelta(days=days)).strftime("--%m-%d")


async def test_a_follow_up_done_leaves_today_for_done(client, store, followups):
    soon = await store.clients.create({"first_name": "Hélène", "last_name": "Fontaine",
                                       "dates": {"anniversary": _in(10, followups)}}, "test")
    later = await store.clients.create({"first_name": "Inès", "last_name": "Roux",
                                        "dates": {"birthday": _in(20, followups)}}, "test")
    await store.clients.create({"first_name": "Zoé", "last_name": "Marchand",
                                "dates": {"birthday": _in(40, followups)}}, "test")
    h = {"X-CSRF-Token": await sign_in(client, "alex")}
    day = await (await client.get("/api/v1/followups")).json()
    [due] = day["today"]
    assert (due["client_id"], due["about"], due["kind"]) == (soon["client_id"], "anniversary",
                                                              "date")
    assert due["client_name"].endswith("Hélène Fontaine") and due["days"] == -4
    assert [f["client_id"] for f in day["upcoming"]] == [later["client_id"]]
    assert day["overdue"] == [] and day["done"] == []

    path = f"/api/v1/followups/{due['followup_id']}/done"
    r = await client.post(path, json={"outcome": "phoned"}, headers=h)
    body = await r.json()
    assert r.status == 400 and body["field"] == "outcome" and "Called" in body["detail"]
    r = await client.post("/api/v1/followups/date:CNOBODY:birthday:2027-01-01/done",
                          json={"outcome": "called"}, headers=h)
    assert r.status == 404
    assert await store.ledger.fetch("SELECT 1 FROM journal WHERE kind = 'followup.done'") == []

    r = await client.post(path, json={"outcome": "called"}, headers=h)
    assert r.status == 200 and (await r.json())["outcome"] == "called"
    day = await (await client.get("/api/v1/followups")).json()
    assert day["today"] == []
    [done] = day["done"]
    assert (done["followup_id"], done["outcome"], done["actor"]) == (due["followup_id"],
                                                                       "called", "alex")
    r = await client.post(path, json={"outcome": "emailed"}, headers=h)
    assert r.status == 409 and "already" in (await r.json())["detail"]
    assert [x["outcome"] for x in await followups.log_of(soon["client_id"])] == ["called"]
    page = await (await client.get(f"/clients/{soon['client_id']}")).text()
    log = page[page.index('id="client-contacts"'):]
    assert "Anniversary" in log and "Called" in log and "called" not in log
    before = dump_projections(store.ledger.db_path, store.ledger.schemas)
    await store.rebuild()  # the outcomes are a projection like any other
    assert dump_projections(store.ledger.db_path, store.ledger.schemas) == before
    assert before["followup_outcomes"]

    await store.clients.forget(later["client_id"], "marc")  # erased: no follow-up of hers
    assert (await (await client.get("/api/v1/followups")).json())["upcoming"] == []


async def test_a_fine_purchase_comes_up_months_later(store, followups):
    buyer = await store.clients.create({"first_name": "Amara", "last_name": "Bernard"}, "test")
    small = await store.clients.create({"first_name": "Léa", "last_name": "Petit"}, "test")
    await store.items.receive_many([piece("F-1", tag_price=900_000),
                                    piece("F-2", tag_price=90_000)], "test")
    await store.sales.complete(register_id="R1", actor="alex", lines=[{"item_id": "F-1"}],
                               tenders=cash(900_000), client_id=buyer["client_id"])
    await store.sales.complete(register_id="R1", actor="alex", lines=[{"item_id": "F-2"}],
                               tenders=cash(90_000), client_id=small["client_id"])
    today = followups.today()
    assert (await followups.day(today))["today"] == []
    later = await followups.day(today + timedelta(days=Rules().after_purchase_days + 1))
    [due] = later["today"]
    assert (due["client_id"], due["kind"], due["amount"]) == (buyer["client_id"], "purchase",
                                                              900_000)


async def test_the_follow_ups_screen_reads_in_words(client, store, followups):
    made = await store.clients.create({"first_name": "Hélène", "last_name": "Fontaine",
                                       "dates": {"anniversary": _in(3, followups)}}, "test")
    await sign_in(client, "alex")
    r = await client.get("/followups")
    assert r.status == 200
    page = await r.text()
    today = page[page.index('id="followups-today"'):page.index('id="followups-overdue"')]
    assert "Hélène Fontaine" in today and f'/clients/{made["client_id"]}' in today
    assert "Anniversary" in today and "in 3 days" in today
    assert "Message left" in today and ">message_left<" not in page
    assert 'href="/followups"' in page  # in the menu
