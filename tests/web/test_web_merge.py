"""Two records of one client: found as possible duplicates (a shared e-mail, alike names),
merged by a manager into the one she keeps (the profile completed, her sales, contact log,
wish list, appointments and points following, the old id leading to the kept page), refused
in words for herself, an erased or an already merged client, with nothing written."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from web_helpers import sign_in

from hub.clienteling.book import FollowUps
from hub.clienteling.loyalty import Loyalty, LoyaltyRules, account_of
from hub.clienteling.rules import Rules
from hub.core.merge import merge_profiles
from hub.ledger.ledger import dump_projections
from tests.builders import cash, piece


def _books(store):
    return store.ledger.seq, dump_projections(store.ledger.db_path, store.ledger.schemas)


@pytest.fixture
async def pair(store, runtime):
    runtime.followups = FollowUps(store, Rules())
    loyalty = Loyalty(store.accounts, LoyaltyRules(), "EUR")
    store.sales.extensions.append(loyalty)
    store.clients.merge_hooks.append(loyalty.merged_in)
    keep = await store.clients.create({
        "first_name": "Hélène", "last_name": "Fontaine", "emails": ["helene@example.fr"],
        "ring_sizes": {"left ring": "52"}, "notes": "Loves emeralds."}, "test")
    gone = await store.clients.create({
        "first_name": "Helene", "last_name": "Fontaine", "emails": ["helene@example.fr"],
        "phones": ["+33 6 11 22 33 44"], "ring_sizes": {"right ring": "51"},
        "dates": {"anniversary": "2009-12-14"}, "notes": "Husband Paul."}, "test")
    await store.items.receive_many([piece("M-1", tag_price=300_000)], "test")
    await store.sales.complete(register_id="R1", actor="alex", lines=[{"item_id": "M-1"}],
                               tenders=cash(300_000), client_id=gone["client_id"])
    await runtime.followups.log_contact(gone["client_id"], "called", "About the ring",
                                        actor="alex")
    return keep["client_id"], gone["client_id"]


async def test_duplicates_are_found_and_merged_into_one(client, store, pair):
    keep, gone = pair
    h = {"X-CSRF-Token": await sign_in(client, "mona")}
    found = (await (await client.get("/api/v1/clients/duplicates")).json())["duplicates"]
    [dup] = [d for d in found if set(d["client_ids"]) == {keep, gone}]
    assert "same_contact" in dup["why"] and "same_name" in dup["why"]
    page = await (await client.get("/clients/duplicates")).text()
    main = page[page.index('<main'):]
    assert "the same e-mail or phone" in main and "same_contact" not in main

    r = await client.post("/api/v1/clients/merge", json={"keep": keep, "merge": gone},
                          headers=h)
    assert r.status == 200, await r.text()
    profile = (await store.clients.get(keep))["profile"]
    assert profile["ring_sizes"] == {"left ring": "52", "right ring": "51"}
    assert profile["phones"] == ["+33 6 11 22 33 44"] and profile["dates"]["anniversary"]
    assert "Loves emeralds." in profile["notes"] and "Husband Paul." in profile["notes"]
    assert [s["client_id"] for s in await store.sales.for_client(keep)] == [keep]
    assert await store.accounts.balance(account_of(keep)) == 3_000  # her points followed
    assert await store.accounts.balance(account_of(gone)) == 0
    log = await (await client.get(f"/clients/{keep}")).text()
    assert "About the ring" in log
    r = await client.get(f"/clients/{gone}", allow_redirects=False)
    assert r.status == 303 and r.headers["Location"] == f"/clients/{keep}"
    assert (await store.clients.get(gone))["merged_into"] == keep
    assert await store.clients.search("Helene") == [{"client_id": keep,
                                                     "name": "Hélène Fontaine"}]
    before = _books(store)
    await store.rebuild()
    assert _books(store) == before  # a merge replays the same

    for body, status, word in (({"keep": keep, "merge": gone}, 409, "already merged"),
                               ({"keep": keep, "merge": keep}, 400, "herself"),
                               ({"keep": keep, "merge": "CAAAAAAAAAA"}, 404, "no client")):
        before = _books(store)
        r = await client.post("/api/v1/clients/merge", json=body, headers=h)
        assert r.status == status and word in (await r.json())["detail"]
        assert _books(store) == before


async def test_an_erased_client_is_merged_with_no_one_and_erasure_takes_both(client, store,
                                                                           pair):
    keep, gone = pair
    other = await store.clients.create({"first_name": "Zoé", "last_name": "Roux"}, "test")
    await store.clients.forget(other["client_id"], "mona")
    h = {"X-CSRF-Token": await sign_in(client, "mona")}
    before = _books(store)
    r = await client.post("/api/v1/clients/merge",
                          json={"keep": keep, "merge": other["client_id"]}, headers=h)
    assert r.status == 409 and "erased" in (await r.json())["detail"]
    assert _books(store) == before
    r = await client.post("/api/v1/clients/merge", json={"keep": keep, "merge": gone},
                          headers=h)
    assert r.status == 200
    await store.clients.forget(keep, "mona")
    for cid in (keep, gone):  # her older record's entries are shredded with her
        assert store.ledger.keyring.is_destroyed(f"client:{cid}")


async def test_an_associate_may_not_merge(client, pair):
    keep, gone = pair
    h = {"X-CSRF-Token": await sign_in(client, "alex")}
    r = await client.post("/api/v1/clients/merge", json={"keep": keep, "merge": gone},
                          headers=h)
    assert r.status == 403


profiles = st.fixed_dictionaries({
    "emails": st.lists(st.sampled_from(["a@x.fr", "b@x.fr", "c@x.fr"]), unique=True),
    "ring_sizes": st.dictionaries(st.sampled_from(["left ring", "right ring"]),
                                  st.sampled_from(["50", "52"])),
    "preferences": st.dictionaries(st.sampled_from(["metals", "stones"]),
                                   st.lists(st.sampled_from(["gold", "ruby", "pearl"]),
                                            unique=True)),
    "notes": st.sampled_from(["", "one", "two"]),
})


@given(keep=profiles, gone=profiles)
def test_a_merge_loses_nothing_either_knew_and_keeps_hers_first(keep, gone):
    merged = merge_profiles(keep, gone, keep_id="CKEEP", gone_id="CGONE")
    assert set(merged["emails"]) == set(keep["emails"]) | set(gone["emails"])
    assert merged["emails"][:len(keep["emails"])] == keep["emails"]
    assert merged["ring_sizes"] == {**gone["ring_sizes"], **keep["ring_sizes"]}
    for topic in set(keep["preferences"]) | set(gone["preferences"]):
        assert set(merged["preferences"][topic]) == set(
            keep["preferences"].get(topic, [])) | set(gone["preferences"].get(topic, []))
    for note in (keep["notes"], gone["notes"]):
        assert note in (merged["notes"] or "")


async def test_a_manager_reassigns_a_book_from_the_books_page(client, store):
    for n in range(3):
        await store.clients.create({"first_name": f"Cliente{n}", "last_name": "Durand",
                                    "primary_associate": "alex"}, "test")
    h = {"X-CSRF-Token": await sign_in(client, "mona")}
    page = await (await client.get("/clients/books?associate=alex")).text()
    assert page.count('href="/clients/C') >= 3 and 'id="reassign-form"' in page
    r = await client.get("/clients/books?associate=nobody")
    assert r.status == 400
    before = _books(store)
    r = await client.post("/api/v1/clients/reassign", json={"from_staff": "alex",
                                                            "to_staff": "alex"}, headers=h)
    assert r.status == 400 and _books(store) == before
    r = await client.post("/api/v1/clients/reassign", json={"from_staff": "alex",
                                                            "to_staff": "mona"}, headers=h)
    assert r.status == 200
    assert len(store.clients.book_of("mona")) == 3 and store.clients.book_of("alex") == []
    h = {"X-CSRF-Token": await sign_in(client, "alex")}
    r = await client.post("/api/v1/clients/reassign", json={"from_staff": "mona",
                                                            "to_staff": "alex"}, headers=h)
    assert r.status == 403
