"""The day's follow-ups over the API: a date coming up is on Today, done with an outcome it
leaves Today for Done (once: a second time is refused), bad input is refused in words and
writes nothing; a fine purchase comes up months later; an erased client has none."""

from __future__ import annotations

from dataclasses import replace
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
    six, eleven = Rules().after_purchase_days
    later = await followups.day(today + timedelta(days=six + 1))
    [due] = later["today"]
    assert (due["client_id"], due["kind"], due["amount"]) == (buyer["client_id"], "purchase",
                                                              900_000)
    [again] = (await followups.day(today + timedelta(days=eleven)))["today"]
    assert again["client_id"] == buyer["client_id"] and again["followup_id"] != due["followup_id"]


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


async def _journal_and_books(store):
    return (store.ledger.seq, dump_projections(store.ledger.db_path, store.ledger.schemas))


async def test_a_follow_up_put_off_comes_back_on_its_day(client, store, followups):
    made = await store.clients.create({"first_name": "Hélène", "last_name": "Fontaine",
                                       "dates": {"birthday": _in(12, followups)}}, "test")
    h = {"X-CSRF-Token": await sign_in(client, "alex")}
    [due] = (await (await client.get("/api/v1/followups")).json())["today"]
    path = f"/api/v1/followups/{due['followup_id']}/snooze"
    today = followups.today()
    before = await _journal_and_books(store)
    for until, why in ((None, "which day"), (today.isoformat(), "from tomorrow"),
                       ((today + timedelta(days=90)).isoformat(), "from tomorrow"),
                       ("soon", "not a date")):
        r = await client.post(path, json={"until": until}, headers=h)
        body = await r.json()
        assert r.status == 400 and body["field"] == "until" and why in body["detail"], body
    assert await _journal_and_books(store) == before  # nothing written

    back = (today + timedelta(days=3)).isoformat()
    r = await client.post(path, json={"until": back}, headers=h)
    assert r.status == 200 and (await r.json())["until"] == back
    day = await (await client.get("/api/v1/followups")).json()
    assert day["today"] == [] and [f["client_id"] for f in day["snoozed"]] == [made["client_id"]]
    page = await (await client.get("/followups")).text()
    assert 'id="followups-snoozed"' in page and "Hélène Fontaine" in page
    on_the_day = await followups.day(today + timedelta(days=3))
    assert [f["followup_id"] for f in on_the_day["today"]] == [due["followup_id"]]
    assert on_the_day["snoozed"] == []


async def test_marketing_waits_out_the_cooling_off_but_care_does_not(store, followups):
    her = await store.clients.create({"first_name": "Inès", "last_name": "Roux",
                                      "dates": {"anniversary": _in(20, followups)}}, "test")
    await store.items.receive_many([piece("CO-1", tag_price=900_000)], "test")
    today = followups.today()
    assert [f["client_id"] for f in (await followups.day())["upcoming"]] == [her["client_id"]]
    await store.sales.complete(register_id="R1", actor="alex", lines=[{"item_id": "CO-1"}],
                               tenders=cash(900_000), client_id=her["client_id"])
    cool = followups.rules.cooling_off_days
    for n in range(cool):  # no anniversary call while she has just bought
        listed = await followups.day(today + timedelta(days=n))
        assert not any(f["kind"] == "date" for key in ("today", "upcoming", "overdue")
                       for f in listed[key]), n
    after = await followups.day(today + timedelta(days=cool))
    assert [(f["kind"], f["about"]) for f in after["today"]] == [("date", "anniversary")]
    care = await followups.day(today + timedelta(days=followups.rules.after_purchase_days[0]))
    assert [f["kind"] for f in care["today"]] == ["purchase"]  # care is never held back


async def test_a_bridal_purchase_and_a_lapsed_client_come_up(store, followups):
    from hub.clienteling.rules import add_months

    bride = await store.clients.create({"first_name": "Amara", "last_name": "Bernard"}, "test")
    await store.items.receive_many([
        piece("BR-1", tag_price=300_000, collection="Bridal Solitaire"),
        piece("BR-2", tag_price=300_000, collection="Everyday"),
        piece("BR-3", tag_price=100_000, collection="Everyday")], "test")
    await store.sales.complete(register_id="R1", actor="alex", lines=[{"item_id": "BR-1"}],
                               tenders=cash(300_000), client_id=bride["client_id"])
    other = await store.clients.create({"first_name": "Léa", "last_name": "Petit"}, "test")
    await store.sales.complete(register_id="R1", actor="alex", lines=[{"item_id": "BR-2"}],
                               tenders=cash(300_000), client_id=other["client_id"])
    today = followups.today()
    for lag in followups.rules.bridal_days:
        listed = (await followups.day(today + timedelta(days=lag)))["today"]
        assert [(f["kind"], f["client_id"]) for f in listed] == [("bridal", bride["client_id"])]
    lapsed_on = add_months(today, followups.rules.lapsed_months)
    lapsed = (await followups.day(lapsed_on))["today"]
    assert sorted(f["client_id"] for f in lapsed if f["kind"] == "lapsed") == sorted(
        [bride["client_id"], other["client_id"]])
    # Léa buys again: her lapsed follow-up is about her latest purchase, and only that one.
    again = await store.sales.complete(register_id="R1", actor="alex",
                                       lines=[{"item_id": "BR-3"}], tenders=cash(100_000),
                                       client_id=other["client_id"])
    lapsed = (await followups.day(lapsed_on))["today"]
    about = {f["client_id"]: f["about"] for f in lapsed if f["kind"] == "lapsed"}
    assert len(lapsed) == 2 and about[other["client_id"]] == again["sale_id"]
    assert bride["client_id"] in about


async def test_a_contact_logged_is_on_her_page_and_sealed(client, store, followups):
    her = await store.clients.create({"first_name": "Zoé", "last_name": "Marchand"}, "test")
    h = {"X-CSRF-Token": await sign_in(client, "alex")}
    path = f"/api/v1/clients/{her['client_id']}/contacts"
    before = await _journal_and_books(store)
    r = await client.post(path, json={"note": "no outcome"}, headers=h)
    assert r.status == 400 and (await r.json())["field"] == "outcome"
    r = await client.post("/api/v1/clients/CAAAAAAAAAA/contacts", json={"outcome": "called"},
                          headers=h)
    assert r.status == 404
    assert await _journal_and_books(store) == before
    note = "Wants the emerald pendant for her daughter's graduation"
    r = await client.post(path, json={"outcome": "visited", "note": note}, headers=h)
    assert r.status == 201
    page = await (await client.get(f"/clients/{her['client_id']}")).text()
    log = page[page.index('id="client-contacts"'):]
    assert "daughter" in log and "Visited" in log
    await store.close()
    for f in store.ledger.db_path.parent.glob(store.ledger.db_path.name + "*"):
        assert b"graduation" not in f.read_bytes()  # her note is sealed under her key


async def test_the_call_sheet_prints_the_week_with_prompts_for_blanks(client, store, followups):
    import io

    from pypdf import PdfReader

    her = await store.clients.create({
        "first_name": "Hélène", "last_name": "Fontaine", "phones": ["+33 6 11 22 33 44"],
        "ring_sizes": {"left ring": "52"}, "dates": {"anniversary": _in(12, followups)},
        "preferences": {"designers": ["Maison Vernier"]}}, "test")
    await store.items.receive_many([piece("CS-1", tag_price=120_000,
                                          description="Emerald drop earrings")], "test")
    await store.sales.complete(register_id="R1", actor="alex", lines=[{"item_id": "CS-1"}],
                               tenders=cash(120_000), client_id=her["client_id"])
    await store.clients.create({"first_name": "Nobody", "last_name": "Tocall"}, "test")
    await sign_in(client, "alex")
    sheet = await followups.call_sheet(today=followups.today() + timedelta(days=1))
    # She has just bought: the anniversary call waits out the cooling-off (none this week).
    assert not any(b.kind == "heading" for b in sheet.blocks)
    followups.rules = replace(followups.rules, cooling_off_days=0)
    sheet = await followups.call_sheet()
    r = await client.get("/followups/callsheet.pdf")
    assert r.status == 200 and r.content_type == "application/pdf"
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(await r.read())).pages)
    assert "Hélène Fontaine" in text and "Anniversary" in text and "+33 6 11 22 33 44" in text
    assert "Nobody" not in text  # only those with a follow-up this week
    # Her section: what she bought, what is known, and a prompt for what is blank.
    kinds = [(b.kind, b.text) for b in sheet.blocks]
    assert ("heading", "Hélène Fontaine") in kinds
    assert ("prompt", "Ring size, right ring") in kinds  # a blank is a prompt
    assert ("prompt", "Ring size, left ring") not in kinds  # known: printed, not asked
    assert ("prompt", "Birthday") in kinds
    assert any(k == "pair" and "Emerald drop earrings" in t for k, t in kinds)


async def test_no_follow_up_while_she_asked_not_to_be_contacted(store, followups):
    today = followups.today()
    quiet = {"from": (today - timedelta(days=1)).isoformat(),
             "to": (today + timedelta(days=5)).isoformat(), "reason": "travelling"}
    her = await store.clients.create({"first_name": "Hélène", "last_name": "Fontaine",
                                      "dates": {"anniversary": _in(10, followups)},
                                      "do_not_contact": [quiet]}, "test")
    assert (await followups.day())["today"] == []
    later = await followups.day(today + timedelta(days=6))  # the period is over
    assert [f["client_id"] for f in later["today"]] == [her["client_id"]]
    await store.clients.update(her["client_id"], {"do_not_contact": []}, "test")
    assert [f["client_id"] for f in (await followups.day())["today"]] == [her["client_id"]]
