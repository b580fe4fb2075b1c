"""The depth of a client's profile: sizes and lengths, preferences from the vocabularies,
budget, partner and household linked on both sides, conversation notes, her associates and
their books, consent per channel with its history, do-not-contact periods, and the rules of
who may be contacted how. Old profiles read in today's shape."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.core.clients import (
    BUDGET_BANDS,
    CHANNELS,
    CONSENT_HOW,
    CONVERSATION_TOPICS,
    LENGTHS,
    PREFERENCE_CHOICES,
    PROFILE_FIELDS,
    RELATIONS,
    NameIndex,
    budget_amounts,
    consent_now,
    may_contact,
    upgrade_profile,
    validate_profile,
)
from hub.core.errors import Invalid, NotFound
from hub.store import Store
from hub.words import labels

# -- strategies ---------------------------------------------------------------------------------

CLIENT_IDS = st.from_regex(r"C[A-Z2-7]{10}", fullmatch=True)
STAFF = st.sampled_from(["sophie", "marc", "lea"])
DAYS = st.dates(date(2020, 1, 1), date(2030, 12, 31))
WORDS = st.text(st.characters(codec="utf-8", categories=("L", "N", "Zs")), min_size=1,
                max_size=30).map(str.strip).filter(bool)


@st.composite
def lengths(draw: Any) -> dict[str, Any]:
    out = {}
    for kind in draw(st.lists(st.sampled_from(sorted(LENGTHS)), unique=True)):
        low, high = LENGTHS[kind]
        out[kind] = {"mm": draw(st.integers(low, high)), "unit": draw(st.sampled_from(
            ("cm", "mm")))}
    return out


@st.composite
def preferences(draw: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for topic, (_, keys) in PREFERENCE_CHOICES.items():
        chosen = draw(st.lists(st.sampled_from(keys), unique=True, max_size=4))
        if chosen:
            out[topic] = chosen
    designers = draw(st.lists(WORDS, unique=True, max_size=3))
    if designers:
        out["designers"] = designers
    if draw(st.booleans()):
        out["note"] = draw(WORDS)
    return out


@st.composite
def consent(draw: Any) -> dict[str, list[dict[str, Any]]]:
    out = {}
    for channel in draw(st.lists(st.sampled_from(CHANNELS), unique=True)):
        out[channel] = draw(st.lists(st.fixed_dictionaries({
            "marketing": st.booleans(),
            "at": st.sampled_from(["2026-01-02T10:00:00Z", "2026-03-04T11:05:09.123456Z", None]),
            "by": st.one_of(STAFF, st.none()),
            "how": st.one_of(st.sampled_from(CONSENT_HOW), st.none())}), min_size=1,
            max_size=4))
    return out


@st.composite
def do_not_contact(draw: Any) -> list[dict[str, Any]]:
    out = []
    for _ in range(draw(st.integers(0, 3))):
        start = draw(DAYS)
        end = draw(st.one_of(st.none(), st.integers(0, 400).map(
            lambda n, start=start: start + timedelta(days=n))))
        out.append({"from": start.isoformat(), "to": end.isoformat() if end else None,
                    "reason": draw(st.one_of(st.none(), WORDS))})
    return out


@st.composite
def profiles(draw: Any) -> dict[str, Any]:
    """A valid deep profile as a form or HQ may send it (links to made-up ids)."""
    primary = draw(st.one_of(st.none(), STAFF))
    secondary = draw(st.one_of(st.none(), STAFF.filter(lambda s: s != primary)))
    household = draw(st.lists(st.fixed_dictionaries({
        "client_id": CLIENT_IDS, "relation": st.sampled_from(sorted(RELATIONS))}),
        unique_by=lambda m: m["client_id"], max_size=3))
    return {
        "first_name": draw(WORDS), "last_name": draw(st.one_of(st.none(), WORDS)),
        "emails": draw(st.lists(st.sampled_from(["a@example.com", "b@example.org"]),
                                unique=True)),
        "phones": draw(st.lists(st.sampled_from(["+33 6 12 34 56 78"]), max_size=1)),
        "ring_sizes": draw(st.dictionaries(st.sampled_from(["left ring", "right ring"]),
                                           st.sampled_from(["52", "6½", "M"]))),
        "lengths": draw(lengths()), "preferences": draw(preferences()),
        "budget": draw(st.one_of(st.none(), st.sampled_from(sorted(BUDGET_BANDS)))),
        "partner_id": draw(st.one_of(st.none(), CLIENT_IDS)), "household": household,
        "conversation": draw(st.dictionaries(st.sampled_from(CONVERSATION_TOPICS), WORDS)),
        "primary_associate": primary, "secondary_associate": secondary,
        "consent": draw(consent()), "do_not_contact": draw(do_not_contact()),
    }


# -- validation ---------------------------------------------------------------------------------

@settings(max_examples=150, deadline=None)
@given(profiles())
def test_a_valid_profile_is_kept_as_it_is_and_stays_valid(raw):
    profile = validate_profile(raw)
    assert set(profile) == set(PROFILE_FIELDS)
    assert validate_profile(profile) == profile  # what the book keeps reads back the same
    assert upgrade_profile(profile) == profile  # and needs no upgrade
    for kind, measure in raw["lengths"].items():
        assert profile["lengths"][kind] == measure
    assert profile["preferences"] == raw["preferences"]
    assert profile["consent"] == raw["consent"]


def _refused(raw: dict[str, Any]) -> set[str]:
    with pytest.raises(Invalid) as caught:
        validate_profile({"first_name": "Ines", **raw})
    return {p.field for p in caught.value.problems}


@settings(max_examples=100, deadline=None)
@given(topic=st.sampled_from(sorted(PREFERENCE_CHOICES)),
       word=st.text(min_size=1, max_size=12).map(str.strip).filter(bool))
def test_a_preference_outside_the_vocabulary_is_refused_by_name(topic, word):
    _, keys = PREFERENCE_CHOICES[topic]
    if word in keys or any(ord(c) < 32 or ord(c) == 127 for c in word):
        return
    assert _refused({"preferences": {topic: [keys[0], word]}}) == {f"preferences.{topic}[1]"}


def test_designers_are_free_a_house_she_loves_that_the_store_does_not_carry():
    profile = validate_profile({"first_name": "Ines",
                                "preferences": {"designers": ["Maison Nouvelle"]}})
    assert profile["preferences"]["designers"] == ["Maison Nouvelle"]


@settings(max_examples=100, deadline=None)
@given(kind=st.sampled_from(sorted(LENGTHS)), mm=st.integers(-10, 5000),
       unit=st.sampled_from(("cm", "mm")))
def test_a_length_outside_what_a_body_or_a_chain_measures_is_refused(kind, mm, unit):
    low, high = LENGTHS[kind]
    raw = {"lengths": {kind: {"mm": mm, "unit": unit}}}
    if low <= mm <= high:
        assert validate_profile({"first_name": "I", **raw})["lengths"][kind]["mm"] == mm
    else:
        assert _refused(raw) == {f"lengths.{kind}"}


@pytest.mark.parametrize("raw, field", [
    ({"lengths": {"ankle": {"mm": 200, "unit": "cm"}}}, "lengths"),
    ({"lengths": {"wrist": {"mm": 160, "unit": "inch"}}}, "lengths.wrist"),
    ({"lengths": {"wrist": {"mm": 16.5, "unit": "cm"}}}, "lengths.wrist"),
    ({"preferences": {"shoes": ["red"]}}, "preferences"),
    ({"budget": "a lot"}, "budget"),
    ({"budget": 5000}, "budget"),
    ({"household": [{"client_id": "CAAAAAAAAAA", "relation": "cousin"}]},
     "household[0].relation"),
    ({"household": [{"client_id": "CAAAAAAAAAA", "relation": "child"},
                    {"client_id": "CAAAAAAAAAA", "relation": "parent"}]},
     "household[1].client_id"),
    ({"household": [{"client_id": "nobody", "relation": "child"}]}, "household[0].client_id"),
    ({"conversation": {"politics": "no"}}, "conversation"),
    ({"conversation": {"work": "x" * 301}}, "conversation.work"),
    ({"primary_associate": "sophie", "secondary_associate": "sophie"}, "secondary_associate"),
    ({"primary_associate": "not a staff id!"}, "primary_associate"),
    ({"do_not_contact": [{"from": "2026-03-01", "to": "2026-02-28"}]}, "do_not_contact[0].to"),
    ({"do_not_contact": [{"to": "2026-02-28"}]}, "do_not_contact[0].from"),
    ({"do_not_contact": [{"from": "2026-02-30"}]}, "do_not_contact[0].from"),
    ({"consent": {"fax": [{"marketing": True}]}}, "consent"),
    ({"consent": {"email": [{"marketing": "yes"}]}}, "consent.email[0].marketing"),
    ({"consent": {"email": [{"marketing": True, "how": "telepathy"}]}},
     "consent.email[0].how"),
])
def test_each_bad_value_is_refused_naming_its_field(raw, field):
    assert _refused(raw) == {field}


def test_every_field_of_the_profile_has_words():
    for name in ("lengths", "wrist", "bracelet", "neck", "necklace", "metals", "stones",
                 "colours", "styles", "budget", "household", "household[]", "relation",
                 "conversation", "work", "children", "pets", "hobbies", "primary_associate",
                 "secondary_associate", "do_not_contact", "do_not_contact[]", "from", "to",
                 "channel", "marketing", "how", *CHANNELS):
        assert name in labels.FIELDS, name
    assert set(labels.STYLE) == set(PREFERENCE_CHOICES["styles"][1])
    assert set(labels.RELATION) == set(RELATIONS) and set(labels.LENGTH) == set(LENGTHS)
    assert set(labels.CHANNEL) == set(CHANNELS) and set(labels.CONSENT_HOW) == set(CONSENT_HOW)


def test_a_budget_band_is_money_in_the_stores_currency():
    assert budget_amounts("1000-5000", "EUR") == (100_000, 500_000)
    assert budget_amounts("50000-", "JPY") == (50_000, None)


# -- old profiles ---------------------------------------------------------------------------

OLD_WORDS = st.sampled_from(["rose gold", "white gold", "Platinum", "Diamonds", "pearl",
                             "Art Deco", "jade", "black titanium", "Verdier", "two tone"])


@settings(max_examples=150, deadline=None)
@given(st.fixed_dictionaries({
    "first_name": WORDS,
    "preferences": st.dictionaries(st.sampled_from(["designers", "metals", "stones", "styles",
                                                    "colors", "occasions"]),
                                   st.lists(OLD_WORDS, max_size=4), max_size=4),
    "consent": st.dictionaries(st.sampled_from(["marketing", "events"]), st.booleans()),
    "ring_sizes": st.dictionaries(st.sampled_from(["ring", "left ring"]), st.just("52")),
    "partner_id": st.one_of(st.none(), CLIENT_IDS)}))
def test_an_old_profile_reads_in_todays_shape_and_stays_valid(old):
    profile = upgrade_profile(old)
    assert validate_profile(profile) == validate_profile(upgrade_profile(profile))
    assert upgrade_profile(profile) == profile  # once is enough
    assert profile["ring_sizes"] == old["ring_sizes"]
    assert profile["partner_id"] == old["partner_id"]
    if "marketing" in old["consent"]:  # the old one yes or no is e-mail marketing
        assert consent_now(profile, "email") is old["consent"]["marketing"]
        assert consent_now(old, "email") is old["consent"]["marketing"]
    else:
        assert profile["consent"] == {}
    # Nothing she said is lost: a word the vocabularies do not know is in the note.
    kept = " ".join([profile["preferences"].get("note", ""),
                     *profile["preferences"].get("designers", [])])
    for topic, words in old["preferences"].items():
        for word in words:
            if word in ("jade", "black titanium") or topic == "occasions":
                assert word in kept


def test_old_words_mean_todays_keys():
    profile = upgrade_profile({"first_name": "A", "preferences": {
        "metals": ["rose gold", "Platinum"], "stones": ["Diamonds"], "styles": ["Art Deco"]}})
    assert profile["preferences"] == {"metals": ["gold", "platinum"], "colours": ["rose"],
                                      "stones": ["diamond"], "styles": ["art_deco"]}


# -- who may be contacted how -------------------------------------------------------------

@st.composite
def contactable(draw: Any) -> dict[str, Any]:
    return {"emails": draw(st.lists(st.just("a@example.com"), max_size=1)),
            "phones": draw(st.lists(st.just("+33 6 12 34 56 78"), max_size=1)),
            "addresses": draw(st.lists(st.just({"line1": "1 rue de la Paix"}), max_size=1)),
            "consent": draw(consent()), "do_not_contact": draw(do_not_contact())}


def _address(profile: dict[str, Any], channel: str) -> bool:
    return bool({"email": profile["emails"], "post": profile["addresses"]}.get(
        channel, profile["phones"]))


def _quiet(profile: dict[str, Any], today: date) -> bool:
    return any(date.fromisoformat(p["from"]) <= today
               and (p["to"] is None or today <= date.fromisoformat(p["to"]))
               for p in profile["do_not_contact"])


@settings(max_examples=300, deadline=None)
@given(profile=contactable(), channel=st.sampled_from(CHANNELS), today=DAYS)
def test_who_may_be_contacted_on_which_channel_for_what(profile, channel, today):
    history = profile["consent"].get(channel)
    said = history[-1]["marketing"] if history else None  # the newest change holds
    reachable, quiet = _address(profile, channel), _quiet(profile, today)
    assert may_contact(profile, channel, "transactional", today) is reachable
    assert may_contact(profile, channel, "marketing", today) is (
        reachable and not quiet and said is True)
    assert may_contact(profile, channel, "one_to_one", today) is (
        reachable and not quiet and said is not False)


@settings(max_examples=100, deadline=None)
@given(profile=contactable(), channel=st.sampled_from(CHANNELS), today=DAYS)
def test_saying_no_on_one_channel_leaves_the_others(profile, channel, today):
    before = {c: may_contact(profile, c, "marketing", today) for c in CHANNELS}
    consent = dict(profile["consent"])
    consent[channel] = [*consent.get(channel, []), {"marketing": False, "at": None, "by": None,
                                                    "how": "phone"}]
    after = {c: may_contact({**profile, "consent": consent}, c, "marketing", today)
             for c in CHANNELS}
    assert after[channel] is False
    assert {c: v for c, v in after.items() if c != channel} == \
        {c: v for c, v in before.items() if c != channel}


def test_the_old_yes_is_an_email_opt_in_and_a_period_holds_marketing_back():
    old = {"emails": ["a@example.com"], "phones": ["+33 6 12 34 56 78"],
           "consent": {"marketing": True}}
    today = date(2026, 5, 1)
    assert may_contact(old, "email", "marketing", today)
    assert not may_contact(old, "sms", "marketing", today)  # never asked on that channel
    assert may_contact(old, "sms", "one_to_one", today)
    quiet = {**old, "do_not_contact": [{"from": "2026-04-01", "to": "2026-05-01",
                                        "reason": "bereavement"}]}
    assert not may_contact(quiet, "email", "marketing", today)
    assert not may_contact(quiet, "email", "one_to_one", today)
    assert may_contact(quiet, "email", "transactional", today)  # her repair is ready
    assert may_contact(quiet, "email", "marketing", today + timedelta(days=1))
    with pytest.raises(Invalid) as caught:
        may_contact(old, "fax", "marketing", today)
    assert caught.value.field == "channel"


# -- through the books --------------------------------------------------------------------------

async def _staff(store) -> None:
    for staff_id, role in (("sophie", "associate"), ("marc", "manager"), ("lea", "associate")):
        await store.staff.enroll(staff_id, staff_id.title(), role, "1234", actor="test")


async def _profile(store, client_id: str) -> dict[str, Any]:
    return (await store.clients.get(client_id))["profile"]


async def test_a_partner_is_linked_on_both_sides_and_unlinked_on_both(store):
    a = (await store.clients.create({"first_name": "Hélène", "last_name": "Fontaine"},
                                    "anna"))["client_id"]
    b = (await store.clients.create({"first_name": "Louis", "last_name": "Fontaine"},
                                    "anna"))["client_id"]
    seq, batches = store.ledger.seq, store.ledger.batches
    await store.clients.update(a, {"partner_id": b}, "anna")
    assert (await _profile(store, b))["partner_id"] == a
    entries = await store.ledger.entries(seq)
    assert [(e.kind, e.subject) for e in entries] == [("client.updated", f"client:{a}"),
                                                       ("client.updated", f"client:{b}")]
    assert store.ledger.batches == batches + 1  # one transaction
    assert store.ledger.decrypt(entries[1])["linked_from"] == a
    # A third client cannot take a partner who has one.
    c = (await store.clients.create({"first_name": "Other"}, "anna"))["client_id"]
    with pytest.raises(Invalid) as caught:
        await store.clients.update(c, {"partner_id": a}, "anna")
    assert caught.value.field == "partner_id" and "already has a partner" in str(caught.value)
    # Unlinking from either side unlinks both.
    await store.clients.update(b, {"partner_id": None}, "anna")
    assert (await _profile(store, a))["partner_id"] is None
    await store.clients.update(c, {"partner_id": a}, "anna")
    assert (await _profile(store, a))["partner_id"] == c


async def test_links_to_herself_an_unknown_or_an_erased_client_are_refused(store):
    a = (await store.clients.create({"first_name": "A"}, "anna"))["client_id"]
    gone = (await store.clients.create({"first_name": "Gone"}, "anna"))["client_id"]
    await store.clients.forget(gone, "manager")
    seq = store.ledger.seq
    for change, field, words in [
            ({"partner_id": a}, "partner_id", "their own"),
            ({"partner_id": "CAAAAAAAAAA"}, "partner_id", "no client"),
            ({"partner_id": gone}, "partner_id", "was erased"),
            ({"household": [{"client_id": a, "relation": "child"}]}, "household[0].client_id",
             "their own"),
            ({"household": [{"client_id": gone, "relation": "child"}]},
             "household[0].client_id", "was erased")]:
        with pytest.raises(Invalid) as caught:
            await store.clients.update(a, change, "anna")
        assert caught.value.field == field and words in str(caught.value), change
    with pytest.raises(Invalid):
        await store.clients.create({"first_name": "B", "partner_id": gone}, "anna")
    assert store.ledger.seq == seq  # nothing written


async def test_a_household_is_mirrored_and_forgetting_unlinks_her(store):
    mother = (await store.clients.create({"first_name": "Claire"}, "anna"))["client_id"]
    son = (await store.clients.create({"first_name": "Hugo"}, "anna"))["client_id"]
    daughter = (await store.clients.create({
        "first_name": "Léa", "household": [{"client_id": mother, "relation": "parent"},
                                           {"client_id": son, "relation": "sibling"}]},
        "anna"))["client_id"]
    assert (await _profile(store, mother))["household"] == [
        {"client_id": daughter, "relation": "child"}]
    assert (await _profile(store, son))["household"] == [
        {"client_id": daughter, "relation": "sibling"}]
    await store.clients.update(mother, {"household": [
        {"client_id": daughter, "relation": "child"}, {"client_id": son, "relation": "child"}]},
        "anna")
    assert (await _profile(store, son))["household"] == [
        {"client_id": daughter, "relation": "sibling"}, {"client_id": mother,
                                                         "relation": "parent"}]
    await store.clients.update(son, {"household": [{"client_id": mother, "relation": "parent"}]},
                               "anna")
    assert (await _profile(store, daughter))["household"] == [
        {"client_id": mother, "relation": "parent"}]
    # Her erasure takes her out of the others' profiles too.
    await store.clients.forget(daughter, "manager")
    assert (await _profile(store, mother))["household"] == [
        {"client_id": son, "relation": "child"}]
    partner = (await store.clients.create({"first_name": "Paul", "partner_id": mother},
                                          "anna"))["client_id"]
    await store.clients.forget(partner, "manager")
    assert (await _profile(store, mother))["partner_id"] is None
    await store.clients.update(mother, {"notes": "still editable"}, "anna")


async def test_a_new_associate_works_here_one_who_left_may_stay(store):
    await _staff(store)
    made = await store.clients.create({"first_name": "A", "primary_associate": "sophie",
                                       "secondary_associate": "lea"}, "marc")
    cid = made["client_id"]
    assert store.clients.book_of("sophie") == [cid] and store.clients.book_of("lea") == [cid]
    await store.staff.change("lea", actor="marc", status="left")
    await store.clients.update(cid, {"notes": "edited after Léa left"}, "marc")  # she stays
    seq = store.ledger.seq
    other = (await store.clients.create({"first_name": "B"}, "marc"))["client_id"]
    for slot, staff_id, words in [("primary_associate", "lea", "has left"),
                                  ("secondary_associate", "nobody", "no staff member")]:
        with pytest.raises(Invalid) as caught:
            await store.clients.update(other, {slot: staff_id}, "marc")
        assert caught.value.field == slot and words in str(caught.value)
    assert store.ledger.seq == seq + 1  # only the creation
    await store.clients.update(cid, {"secondary_associate": None}, "marc")
    assert store.clients.book_of("lea") == []


async def test_a_book_is_reassigned_in_one_transaction(store):
    await _staff(store)
    ids = []
    for n, (primary, secondary) in enumerate([("sophie", None), ("sophie", "lea"),
                                              ("lea", "sophie"), ("marc", "sophie"),
                                              ("lea", None)]):
        ids.append((await store.clients.create({"first_name": f"C{n}",
                                                "primary_associate": primary,
                                                "secondary_associate": secondary},
                                               "marc"))["client_id"])
    assert store.clients.book_of("sophie") == sorted(ids[:4])
    await store.staff.change("sophie", actor="marc", status="left")
    seq, batches = store.ledger.seq, store.ledger.batches
    moved = await store.clients.reassign("sophie", "lea", "marc")
    assert sorted(moved["clients"]) == sorted(ids[:4])
    assert store.ledger.seq == seq + 4 and store.ledger.batches == batches + 1
    assert store.clients.book_of("sophie") == []
    assert store.clients.book_of("lea") == sorted(ids)
    pairs = [((p := await _profile(store, c))["primary_associate"], p["secondary_associate"])
             for c in ids]
    assert pairs == [("lea", None), ("lea", None), ("lea", None), ("marc", "lea"), ("lea", None)]
    entries = await store.ledger.entries(seq)
    assert all(store.ledger.decrypt(e)["reassigned"] == {"from": "sophie", "to": "lea"}
               for e in entries)
    # To someone who left, to oneself, or from an empty book.
    with pytest.raises(Invalid) as caught:
        await store.clients.reassign("lea", "sophie", "marc")
    assert caught.value.field == "to_staff"
    with pytest.raises(Invalid):
        await store.clients.reassign("lea", "lea", "marc")
    assert (await store.clients.reassign("nobody", "marc", "marc"))["clients"] == []
    assert store.ledger.seq == seq + 4


async def test_consent_per_channel_keeps_its_history(store):
    await _staff(store)
    made = await store.clients.create({
        "first_name": "A", "emails": ["a@example.com"], "phones": ["+33 6 12 34 56 78"],
        "consent": {"email": {"marketing": True, "how": "in_store"},
                    "sms": {"marketing": True, "how": "signed_form"}}}, "sophie")
    cid = made["client_id"]
    email = made["profile"]["consent"]["email"]
    assert [(c["marketing"], c["by"], c["how"]) for c in email] == [(True, "sophie", "in_store")]
    assert email[0]["at"]
    await store.clients.set_consent(cid, "sms", False, "phone", "marc")
    profile = await _profile(store, cid)
    assert [c["marketing"] for c in profile["consent"]["sms"]] == [True, False]
    assert profile["consent"]["sms"][-1]["by"] == "marc"
    assert profile["consent"]["email"] == email  # the other channels stay
    today = date.today()
    assert may_contact(profile, "email", "marketing", today)
    assert not may_contact(profile, "sms", "marketing", today)
    assert not may_contact(profile, "sms", "one_to_one", today)  # she said no there
    # A form saying the same again adds nothing; saying otherwise adds a change.
    await store.clients.update(cid, {"consent": {"email": {"marketing": True,
                                                            "how": "web"}}}, "lea")
    assert (await _profile(store, cid))["consent"]["email"] == email
    await store.clients.update(cid, {"consent": {"email": {"marketing": False,
                                                            "how": "email_reply"}}}, "lea")
    assert [c["marketing"] for c in (await _profile(store, cid))["consent"]["email"]] == [
        True, False]
    # A history cannot be written from outside, and a change names its channel and how.
    seq = store.ledger.seq
    for call, field in [
            (store.clients.update(cid, {"consent": {"email": [{"marketing": True}]}}, "lea"),
             "consent.email"),
            (store.clients.set_consent(cid, None, True, "in_store", "lea"), "channel"),
            (store.clients.set_consent(cid, "fax", True, "in_store", "lea"), "channel"),
            (store.clients.set_consent(cid, "email", True, "by pigeon", "lea"), "how"),
            (store.clients.set_consent(cid, "email", "yes", "in_store", "lea"), "marketing")]:
        with pytest.raises(Invalid) as caught:
            await call
        assert caught.value.field == field
    with pytest.raises(NotFound):
        await store.clients.set_consent("CAAAAAAAAAA", "email", True, "in_store", "lea")
    assert store.ledger.seq == seq


async def test_an_old_store_reads_and_edits_as_before(store):
    """A profile an earlier hub wrote (free preferences, one marketing yes or no) reads in
    today's shape, is edited, and its e-mail consent counts."""
    old = {"first_name": "Zoë", "last_name": "Marchand", "emails": ["zoe@example.fr"],
           "phones": [], "addresses": [], "ring_sizes": {"ring": "52"},
           "preferences": {"designers": ["Verdier"], "metals": ["rose gold"],
                           "occasions": ["anniversaries"]},
           "dates": {}, "partner_id": None, "notes": None, "consent": {"marketing": True,
                                                                        "events": False},
           "language": None, "tier": None, "title": None}
    cid = "CAAAAAAAAAA"

    def write(tx):
        tx.create_key(f"client:{cid}")
        tx.append("client.created", f"client:{cid}", {"profile": old}, actor="anna",
                  key_id=f"client:{cid}")

    await store.ledger.transact(write)
    profile = await _profile(store, cid)
    assert profile["preferences"] == {"designers": ["Verdier"], "metals": ["gold"],
                                      "colours": ["rose"], "note": "occasions: anniversaries"}
    assert consent_now(profile, "email") is True and profile["household"] == []
    await store.clients.update(cid, {"notes": "edited"}, "anna")
    assert (await _profile(store, cid))["ring_sizes"] == {"ring": "52"}
    await store.rebuild()
    assert (await store.clients.search("Zoë"))[0]["client_id"] == cid


async def test_the_demo_book_is_deep_and_its_links_hold_both_ways(store):
    from hub.generate import generate

    await _staff(store)
    await generate(store, items=80, clients=60, sales=0, seed=11)
    rows = await store.ledger.fetch("SELECT client_id FROM clients WHERE status = 'active'")
    profiles = {r["client_id"]: await _profile(store, r["client_id"]) for r in rows}
    partners = households = 0
    for cid, p in profiles.items():
        assert validate_profile(p) == p
        if p["partner_id"]:
            partners += 1
            assert profiles[p["partner_id"]]["partner_id"] == cid
        for m in p["household"]:
            households += 1
            assert {"client_id": cid, "relation": RELATIONS[m["relation"]]} in \
                profiles[m["client_id"]]["household"]
        assert p["primary_associate"] in ("sophie", "marc", "lea")
        assert cid in store.clients.book_of(p["primary_associate"])
    assert partners and households
    assert sum(bool(p["lengths"]) for p in profiles.values()) > 10
    assert sum(bool(p["consent"]) for p in profiles.values()) > 40
    assert all(p["budget"] in BUDGET_BANDS for p in profiles.values())


def _what_is_indexed(names: NameIndex) -> tuple[Any, ...]:
    ids = sorted(names.names())
    return (names.names(), [names.dates_of(c) for c in ids],
            [names.associates_of(c) for c in ids], names.book_of("sophie"),
            names.book_of("lea"), [names.quiet_on(c, date(2027, 1, 10)) for c in ids],
            names.search("zoe"), names.dated_on([(5, 2)]))


async def test_a_restarted_store_indexes_its_clients_from_their_sealed_cards(make_config):
    """The start reads each active client's index card, sealed with her key: the index it
    makes is the one her whole profile made, and a forgotten or merged client has none."""
    config = make_config()
    async with await Store.open(config) as store:
        await _staff(store)
        kept = (await store.clients.create({
            "first_name": "Hélène", "last_name": "Fontaine", "notes": "Loves Art Deco",
            "dates": {"birthday": "1980-05-02"}, "primary_associate": "sophie",
            "secondary_associate": "lea",
            "do_not_contact": [{"from": "2027-01-01", "to": "2027-01-31"}]},
            "marc"))["client_id"]
        await store.clients.create({"first_name": "Zoë", "last_name": "Durand",
                                    "dates": {"anniversary": "--05-02"},
                                    "primary_associate": "lea"}, "marc")
        gone = (await store.clients.create({"first_name": "Inès"}, "marc"))["client_id"]
        await store.clients.forget(gone, "marc")
        twin = (await store.clients.create({"first_name": "Helene", "last_name": "Fontaine"},
                                           "marc"))["client_id"]
        await store.clients.merge(kept, twin, "marc")
        await store.clients.update(kept, {"last_name": "Fontaine-Roy"}, "marc")
        indexed = _what_is_indexed(store.clients.names)
        cards = {r["client_id"]: (r["status"], r["card"]) for r in await store.ledger.fetch(
            "SELECT client_id, status, card FROM clients")}
    assert cards[gone] == ("forgotten", None) and cards[twin] == ("merged", None)
    assert all(b"Fontaine" not in card and b"Durand" not in card
               for status, card in cards.values() if card is not None)
    assert len(indexed[0]) == 2 and indexed[0][kept][0] == "Hélène Fontaine-Roy"
    async with await Store.open(config) as store:
        assert _what_is_indexed(store.clients.names) == indexed


async def test_a_card_that_does_not_open_is_read_from_her_profile_and_rebuilt(make_config,
                                                                              caplog):
    """A damaged or missing index card costs a slower start, never a client: the index reads
    her profile from the journal instead, says so, and a rebuild writes the card again."""
    config = make_config()
    async with await Store.open(config) as store:
        ids = [(await store.clients.create({"first_name": name, "last_name": "Marchand"},
                                           "anna"))["client_id"] for name in ("Anaïs", "Jeanne")]
        whole = store.clients.names.names()
    with sqlite3.connect(config.db_path) as db:  # the damage: one card flipped, one gone
        (card,) = db.execute("SELECT card FROM clients WHERE client_id = ?", (ids[0],)).fetchone()
        db.execute("UPDATE clients SET card = ? WHERE client_id = ?",
                   (card[:10] + bytes([card[10] ^ 1]) + card[11:], ids[0]))
        db.execute("UPDATE clients SET card = NULL WHERE client_id = ?", (ids[1],))
    async with await Store.open(config) as store:
        assert store.clients.names.names() == whole
        assert "2 client index cards did not open" in caplog.text
        await store.rebuild()
        cards = [r["card"] for r in await store.ledger.fetch("SELECT card FROM clients")]
    caplog.clear()
    async with await Store.open(config) as store:
        assert store.clients.names.names() == whole and None not in cards
    assert "did not open" not in caplog.text
