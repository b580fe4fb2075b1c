"""The associate's day: signed in, she starts on her own page (her book's follow-ups of the
day, her appointments), the store-wide lists filter by associate, and a manager's `/` is the
first screen of her menu too."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from web_helpers import sign_in

from hub.clienteling.appointments import Appointments
from hub.clienteling.book import FollowUps
from hub.clienteling.rules import Rules


@pytest.fixture
async def followups(runtime, store):
    runtime.followups = FollowUps(store, Rules())  # what the layer's part does at start
    runtime.appointments = Appointments(store)
    return runtime.followups


def _in(days: int, followups: FollowUps) -> str:
    return (followups.today() + timedelta(days=days)).strftime("--%m-%d")


async def test_her_day_is_her_book_and_her_appointments(client, store, runtime, followups):
    mine = await store.clients.create({"first_name": "Hélène", "last_name": "Fontaine",
                                       "primary_associate": "alex",
                                       "dates": {"anniversary": _in(12, followups)}}, "test")
    theirs = await store.clients.create({"first_name": "Inès", "last_name": "Roux",
                                         "primary_associate": "mona",
                                         "dates": {"birthday": _in(10, followups)}}, "test")
    await store.clients.create({"first_name": "Zoé", "last_name": "Marchand",
                                "dates": {"birthday": _in(11, followups)}}, "test")
    start = (datetime.now(store.words.tz) + timedelta(hours=1)).replace(
        minute=0, second=0, microsecond=0)
    if start.date() != followups.today():
        pytest.skip("an hour from now is tomorrow: no appointment left today")
    await runtime.appointments.book({
        "kind": "private_viewing", "client_id": mine["client_id"], "associate": "alex",
        "salon": runtime.appointments.settings.salons[0], "start": start.isoformat(),
        "end": (start + timedelta(hours=1)).isoformat()}, actor="alex")

    await sign_in(client, "alex")
    r = await client.get("/", allow_redirects=False)
    assert r.status == 303 and r.headers["Location"] == "/today"
    page = await (await client.get("/today")).text()
    today = page[page.index('id="today-today"'):page.index('id="today-overdue"')]
    assert "Hélène Fontaine" in today and "Anniversary" in today
    assert "Inès Roux" not in page and "Zoé Marchand" not in page  # not in her book
    visits = page[page.index('id="today-appointments"'):page.index('id="today-today"')]
    assert "Hélène Fontaine" in visits and "Private viewing" in visits
    assert "1 client in your book." in page

    store_wide = await (await client.get("/api/v1/followups")).json()
    assert len(store_wide["today"]) == 3
    hers = await (await client.get("/api/v1/followups?associate=mona")).json()
    assert [f["client_id"] for f in hers["today"]] == [theirs["client_id"]]
    r = await client.get("/api/v1/followups?associate=nobody")
    assert r.status == 400 and (await r.json())["field"] == "associate"
    page = await (await client.get("/followups?associate=alex")).text()
    assert "Hélène Fontaine" in page and "Inès Roux" not in page
