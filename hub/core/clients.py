"""The client book: profiles encrypted under each client's own key.

Nothing personal reaches the disk in clear. The projection holds only an opaque client id,
a status and a pointer to the journal entry with the current profile; exact look-up by phone
or e-mail goes through HMAC blind indexes, and name search through an in-memory index built
at start. Forgetting a client destroys their key: their entries stay in the chain, unreadable.

A profile is one sealed payload: names and contacts, sizes and lengths, preferences from the
store's vocabularies, a budget band, partner and household (linked on both sides: the other
profile gets its own entry in the same transaction), conversation notes, her associates,
consent per channel with its history, do-not-contact periods. Profiles written by earlier
hubs are read in today's shape (`upgrade_profile`); the journal keeps them as they were.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import os
import re
import sys
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCMSIV

from hub.core import fields
from hub.core.errors import Invalid, NotFound, Refused
from hub.core.fields import Form
from hub.core.merge import merge_profiles, similar_names
from hub.ledger.journal import ENTRY_COLUMNS, Entry, canonical_json
from hub.ledger.keys import KeyDestroyed, Keyring, normalise_email, normalise_phone
from hub.ledger.ledger import Ledger, Tx, utc_now
from hub.money import minor_units
from hub.words import Listing, Term, labels

log = logging.getLogger(__name__)

PROFILE_FIELDS = ("title", "first_name", "last_name", "emails", "phones", "addresses",
                  "ring_sizes", "lengths", "preferences", "budget", "dates", "partner_id",
                  "household", "conversation", "primary_associate", "secondary_associate",
                  "notes", "consent", "do_not_contact", "language", "tier",
                  "identity_documents")
DATE_KINDS = ("birthday", "anniversary", "engagement", "wedding", "other")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CLIENT_ID = re.compile(r"^C[A-Z2-7]{10}$")
_STAFF_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")  # as hub.core.staff checks them
_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$")

# Lengths a jeweler keeps, each with the range a real one falls in, in millimetres (kept in
# mm whatever the unit she was measured in; the unit is how it is shown again).
LENGTHS = {"wrist": (100, 300), "bracelet": (100, 350), "neck": (250, 600),
           "necklace": (300, 2000)}
LENGTH_UNITS = ("cm", "mm")
# What a client's preferences are chosen from. Metals, stones and colours are the words the
# pieces themselves use (`hub.words.labels`); designers are free, see `validate_profile`.
PREFERENCE_CHOICES: dict[str, tuple[str, tuple[str, ...]]] = {
    "metals": ("metal", tuple(labels.METAL)), "stones": ("stone", tuple(labels.STONE)),
    "colours": ("colour", tuple(labels.COLOUR)), "styles": ("style", tuple(labels.STYLE))}
PREFERENCE_TOPICS = ("metals", "stones", "colours", "styles", "designers")
# Budget bands in whole units of the store's currency: (from, up to), None = no upper end.
BUDGET_BANDS: dict[str, tuple[int, int | None]] = {
    "0-1000": (0, 1_000), "1000-5000": (1_000, 5_000), "5000-15000": (5_000, 15_000),
    "15000-50000": (15_000, 50_000), "50000-": (50_000, None)}
# A household link and how it reads from the other side.
RELATIONS = {"child": "parent", "parent": "child", "sibling": "sibling", "other": "other"}
CONVERSATION_TOPICS = tuple(labels.CONVERSATION)
CHANNELS = tuple(labels.CHANNEL)
CONSENT_HOW = tuple(labels.CONSENT_HOW)
PURPOSES = ("marketing", "transactional", "one_to_one")
MAX_HOUSEHOLD = 20
MAX_DO_NOT_CONTACT = 20
MAX_CONSENT_CHANGES = 200  # per channel: years of changes of mind


def new_client_id() -> str:
    return "C" + base64.b32encode(os.urandom(7)).decode()[:10]


# -- profiles of earlier hubs -----------------------------------------------------------------

def upgrade_profile(profile: Mapping[str, Any], *, stored: bool = True) -> dict[str, Any]:
    """A profile in today's shape, from any earlier one. Old entries stay as they were in the
    journal; they are read through this (`stored`: what an earlier hub validated and kept:
    never refused, a value the vocabularies do not know moves into the preferences' note).
    For input (`stored=False`) only the forms that have one meaning today are rewritten, and
    an unknown value is left for `validate_profile` to refuse.

    - `consent: {"marketing": true}` (one yes or no) is the e-mail channel's marketing
      consent, with no record of when, by whom or how;
    - preferences were free lists by topic: "rose gold" is the metal gold in the colour rose,
      "Diamonds" the stone diamond; topics other than today's go to the note."""
    p = dict(profile)
    consent = p.get("consent")
    if isinstance(consent, dict) and (isinstance(consent.get("marketing"), bool) or stored):
        # Old purposes other than marketing ("events") had no channel: they are not kept.
        upgraded = {k: v for k, v in consent.items()
                    if k != "marketing" and not (stored and isinstance(v, bool))}
        if isinstance(consent.get("marketing"), bool):
            upgraded.setdefault("email", [{"marketing": consent["marketing"], "at": None,
                                           "by": None, "how": None}])
        p["consent"] = upgraded
    prefs = p.get("preferences")
    if isinstance(prefs, dict) and _old_preferences(prefs):
        p["preferences"] = _upgrade_preferences(prefs, stored)
    if stored:  # what an earlier hub did not keep reads as blank
        for key, blank in _BLANKS.items():
            if p.get(key) is None:
                p[key] = blank() if callable(blank) else blank
    return p


_BLANKS: dict[str, Any] = {
    "emails": list, "phones": list, "addresses": list, "ring_sizes": dict, "lengths": dict,
    "preferences": dict, "budget": None, "dates": dict, "partner_id": None, "household": list,
    "conversation": dict, "primary_associate": None, "secondary_associate": None,
    "notes": None, "consent": dict, "do_not_contact": list}


def _old_preferences(prefs: Mapping[str, Any]) -> bool:
    for topic, values in prefs.items():
        if topic == "note":
            continue
        if topic not in PREFERENCE_TOPICS or not isinstance(values, list):
            return True
        if topic in PREFERENCE_CHOICES and any(
                not isinstance(v, str) or v not in PREFERENCE_CHOICES[topic][1]
                for v in values):
            return True
    return False


def _vocabulary_word(topic: str, value: str) -> list[tuple[str, str]]:
    """(topic, key) pairs that an old free word means, or [] when it means none."""
    word = " ".join(value.casefold().replace("-", " ").split())
    keyed = word.replace(" ", "_")
    for candidate in (word, keyed, word.removesuffix("s"), word.replace(" ", "-")):
        if topic in PREFERENCE_CHOICES and candidate in PREFERENCE_CHOICES[topic][1]:
            return [(topic, candidate)]
    if topic == "metals" and word.endswith(" gold"):  # "rose gold": a metal and its colour
        colour = word.removesuffix(" gold").replace(" ", "-")
        if colour in labels.COLOUR:
            return [("metals", "gold"), ("colours", colour)]
    return []


def _upgrade_preferences(prefs: Mapping[str, Any], stored: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    leftovers: list[str] = []

    def add(topic: str, value: Any) -> None:
        if value not in out.setdefault(topic, []):
            out[topic].append(value)

    for topic, values in prefs.items():
        if topic == "note":
            out["note"] = values
            continue
        topic_key = {"colors": "colours", "metal": "metals", "stone": "stones",
                     "style": "styles", "designer": "designers"}.get(topic, topic) \
            if stored else topic
        if not isinstance(values, list):
            if stored and isinstance(values, str) and values.strip():
                leftovers.append(f"{topic}: {values.strip()}")
            elif not stored:
                out[topic] = values
            continue
        for value in values:
            if topic_key == "designers" or not isinstance(value, str):
                if topic_key in PREFERENCE_TOPICS or not stored:
                    add(topic_key, value)
                continue
            meant = _vocabulary_word(topic_key, value)
            for t, key in meant:
                add(t, key)
            if not meant:
                if stored:
                    leftovers.append(value if topic_key in PREFERENCE_TOPICS
                                     else f"{topic}: {value}")
                else:
                    add(topic_key, value)
    if leftovers:
        note = out.get("note") if isinstance(out.get("note"), str) else ""
        out["note"] = "\n".join(x for x in (note, ", ".join(leftovers)) if x)[:2000]
    return out


# -- validation -------------------------------------------------------------------------------

def validate_profile(raw: Any, *, stored: bool = False) -> dict[str, Any]:
    """A whole client profile, every field checked at once (all problems together).

    Preferences are chosen from the vocabularies, except designers: a client may love a
    house the store does not carry (yet), and that is worth knowing, so any name is kept.
    `stored`: a profile some hub kept (head office's copy of another store's client), whose
    old values are read as the book reads its own rather than refused."""
    if isinstance(raw, Mapping):
        raw = upgrade_profile(raw, stored=stored)
    f = Form(raw, allowed=PROFILE_FIELDS)
    p: dict[str, Any] = {}
    for field in ("title", "first_name", "last_name", "language", "tier"):
        p[field] = f.text(field, max_len=100)
    if not (p["first_name"] or p["last_name"]) and not any(
            pr.field in ("first_name", "last_name") for pr in f.problems):
        f.problem("last_name", "a client needs a first or last name")
    p["emails"] = [normalise_email(e) for e in f.texts("emails")]
    for i, email in enumerate(p["emails"]):
        if not _EMAIL.match(email):
            f.problem(f"emails[{i}]", "“{value}” is not an e-mail address", value=email)
    p["phones"] = f.texts("phones", max_len=40)
    for i, phone in enumerate(p["phones"]):
        if len(normalise_phone(phone).lstrip("+")) < 6:
            f.problem(f"phones[{i}]", "“{value}” is not a phone number", value=phone)
    addresses = f.get("addresses") or []
    p["addresses"] = []
    if not isinstance(addresses, list) or len(addresses) > 5:
        f.problem("addresses", "this must be a list of at most {max} addresses", max=5)
        addresses = []
    for i, addr in enumerate(addresses):
        allowed = ("label", "line1", "line2", "city", "postcode", "region", "country")
        a = f.check(Form, addr, f"addresses[{i}]", allowed=allowed)
        if a is None:
            continue
        clean = {k: a.text(k) for k in sorted(allowed)}
        f.problems += a.problems
        p["addresses"].append({k: v for k, v in clean.items() if v})
    sizes = f.get("ring_sizes") or {}
    p["ring_sizes"] = {}
    if not isinstance(sizes, dict) or len(sizes) > 20:
        f.problem("ring_sizes", "this maps a finger to a size, e.g. left ring: 52")
        sizes = {}
    for finger, size in sizes.items():
        finger = f.check(fields.text, finger, "ring_sizes", max_len=40)
        size = f.check(fields.text, size, f"ring_sizes.{finger}", max_len=10)
        if finger and size:
            p["ring_sizes"][finger] = size
    p["lengths"] = _lengths(f)
    p["preferences"] = _preferences(f)
    budget = f.get("budget")
    p["budget"] = None
    if budget not in (None, ""):
        if isinstance(budget, str) and budget in BUDGET_BANDS:
            p["budget"] = budget
        else:
            f.problem("budget", "this is not one of the store's budget bands")
    dates = f.get("dates") or {}
    p["dates"] = {}
    if not isinstance(dates, dict):
        f.problem("dates", "this maps a kind of date (birthday, anniversary...) to a date")
        dates = {}
    for kind, value in dates.items():
        if kind not in DATE_KINDS:
            f.problem("dates", "“{kind}” is not a kind of date this book keeps", kind=str(kind))
            continue
        chosen = f.check(fields.day, value, f"dates.{kind}", year_optional=True)
        if chosen:
            p["dates"][kind] = chosen
    p["partner_id"] = f.identifier("partner_id", required=False, pattern=_CLIENT_ID,
                                   what="a client id")
    p["household"] = _household(f)
    conversation = f.get("conversation") or {}
    p["conversation"] = {}
    if not isinstance(conversation, dict):
        f.problem("conversation", "this maps a topic (work, children, pets, hobbies) to a note")
        conversation = {}
    for topic, said in conversation.items():
        if topic not in CONVERSATION_TOPICS:
            f.problem("conversation", "“{topic}” is not a topic this book keeps",
                      topic=str(topic))
            continue
        said = f.check(fields.text, said, f"conversation.{topic}", max_len=300)
        if said:
            p["conversation"][topic] = said
    for slot in ("primary_associate", "secondary_associate"):
        p[slot] = f.identifier(slot, required=False, pattern=_STAFF_ID, what="a staff id")
    if p["secondary_associate"] and p["secondary_associate"] == p["primary_associate"]:
        f.problem("secondary_associate", "the second associate must be someone else")
    p["notes"] = f.text("notes", max_len=5000, multiline=True)
    p["consent"] = _consent_history(f)
    p["do_not_contact"] = _do_not_contact(f)
    p["identity_documents"] = _identity_documents(f)
    f.done()
    return p


# An identity document she showed (buying gold from her needs one): kept only here, in her
# sealed profile. Types are the ones a buyer of precious metals may accept.
IDENTITY_DOCUMENTS = ("passport", "identity_card", "driving_licence", "residence_permit")
_DOCUMENT_NUMBER = re.compile(r"^[A-Z0-9][A-Z0-9 -]{2,29}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")


def _identity_documents(f: Form) -> list[dict[str, str]]:
    docs = f.get("identity_documents") or []
    out: list[dict[str, str]] = []
    if not isinstance(docs, list) or len(docs) > 5:
        f.problem("identity_documents", "this must be a list of at most {max} documents", max=5)
        return out
    for i, doc in enumerate(docs):
        d = f.check(Form, doc, f"identity_documents[{i}]",
                    allowed=("type", "number", "expiry", "country"))
        if d is None:
            continue
        kind = d.choice("type", IDENTITY_DOCUMENTS, required=True, lower=False,
                        vocabulary="identity_document")
        number = (d.text("number", required=True, max_len=30) or "").upper()
        if number and not _DOCUMENT_NUMBER.match(number):
            d.problem("number", "a document number is letters and digits")
        expiry = d.day("expiry")
        if expiry is None and not d.problems:
            d.problem("expiry", "say the day the document expires")
        country = (d.text("country", required=True, max_len=2) or "").upper()
        if country and not _COUNTRY.match(country):
            d.problem("country", "the issuing country is its two-letter code, such as FR")
        f.problems += d.problems
        if kind and number and expiry and country and not d.problems:
            out.append({"type": kind, "number": number, "expiry": expiry, "country": country})
    return out


def _lengths(f: Form) -> dict[str, dict[str, Any]]:
    lengths = f.get("lengths") or {}
    out: dict[str, dict[str, Any]] = {}
    if not isinstance(lengths, dict):
        f.problem("lengths", "this maps a length (wrist, bracelet, neck, necklace) to a"
                             " measure")
        return out
    for kind, measure in lengths.items():
        if kind not in LENGTHS:
            f.problem("lengths", "“{kind}” is not a length this book keeps", kind=str(kind))
            continue
        path = f"lengths.{kind}"
        if not isinstance(measure, dict) or set(measure) - {"mm", "unit"}:
            f.problem(path, "a length is a number of millimetres and the unit it is shown in")
            continue
        unit = measure.get("unit") or "cm"
        if unit not in LENGTH_UNITS:
            f.problem(path, "“{unit}” is not a unit of length here: cm or mm", unit=str(unit))
            continue
        mm = measure.get("mm")
        if isinstance(mm, bool) or not isinstance(mm, int):
            f.problem(path, "this must be a length in whole millimetres")
            continue
        low, high = LENGTHS[kind]
        if not low <= mm <= high:
            scale = 10 if unit == "cm" else 1
            f.problem(path, "this must be between {low} and {high} {unit}", low=low // scale,
                      high=high // scale, unit=unit)
            continue
        out[kind] = {"mm": mm, "unit": unit}
    return out


def _preferences(f: Form) -> dict[str, Any]:
    prefs = f.get("preferences") or {}
    out: dict[str, Any] = {}
    if not isinstance(prefs, dict):
        f.problem("preferences", "this maps a topic to a list, e.g. designers: ...")
        return out
    for topic, values in prefs.items():
        if topic == "note":
            note = f.check(fields.text, values, "preferences.note", max_len=2000,
                           multiline=True)
            if note:
                out["note"] = note
            continue
        if topic not in PREFERENCE_TOPICS:
            f.problem("preferences", "“{topic}” is not a kind of preference this book keeps",
                      topic=str(topic))
            continue
        chosen = f.check(fields.texts, values, f"preferences.{topic}", max_items=30,
                         max_len=100) or []
        if topic in PREFERENCE_CHOICES:
            vocabulary, keys = PREFERENCE_CHOICES[topic]
            for i, value in enumerate(chosen):
                if value not in keys:
                    f.problem(f"preferences.{topic}[{i}]", "“{value}” is not one of: {choices}",
                              value=value, choices=Listing(
                                  tuple(Term(vocabulary, k) for k in keys), "or"))
        unique = list(dict.fromkeys(chosen))
        if unique:
            out[topic] = unique
    return out


def _household(f: Form) -> list[dict[str, str]]:
    members = f.get("household") or []
    out: list[dict[str, str]] = []
    if not isinstance(members, list) or len(members) > MAX_HOUSEHOLD:
        f.problem("household", "this must be a list of at most {max} people", max=MAX_HOUSEHOLD)
        return out
    seen: set[str] = set()
    for i, member in enumerate(members):
        m = f.check(Form, member, f"household[{i}]", allowed=("client_id", "relation"))
        if m is None:
            continue
        client_id = m.identifier("client_id", pattern=_CLIENT_ID, what="a client id")
        relation = m.choice("relation", tuple(RELATIONS), required=True, vocabulary="relation",
                            lower=False)
        f.problems += m.problems
        if client_id and client_id in seen:
            f.problem(f"household[{i}].client_id", "this client is already in the household")
        elif client_id and relation:
            seen.add(client_id)
            out.append({"client_id": client_id, "relation": relation})
    return out


def _consent_history(f: Form) -> dict[str, list[dict[str, Any]]]:
    """Consent as the book keeps it: per channel, every change (yes or no to marketing, when,
    by whom and how), oldest first; the last one is what holds."""
    consent = f.get("consent") or {}
    out: dict[str, list[dict[str, Any]]] = {}
    if not isinstance(consent, dict):
        f.problem("consent", "this maps a channel to its history of consent")
        return out
    for channel, changes in consent.items():
        if channel not in CHANNELS:
            f.problem("consent", "“{channel}” is not a channel this book keeps",
                      channel=str(channel))
            continue
        if not isinstance(changes, list) or len(changes) > MAX_CONSENT_CHANGES:
            f.problem(f"consent.{channel}", "this must be a list of at most {max} changes",
                      max=MAX_CONSENT_CHANGES)
            continue
        kept = []
        for i, change in enumerate(changes):
            c = f.check(Form, change, f"consent.{channel}[{i}]",
                        allowed=("marketing", "at", "by", "how"))
            if c is None:
                continue
            marketing = c.get("marketing")
            if not isinstance(marketing, bool):
                c.problem("marketing", "say yes or no")
            at = c.text("at", max_len=40)
            if at and not _MOMENT.match(at):
                c.problem("at", "“{value}” is not a moment (an ISO 8601 time)", value=at)
            by = c.identifier("by", required=False, pattern=_STAFF_ID, what="a staff id")
            how = c.choice("how", CONSENT_HOW, vocabulary="consent_how", lower=False)
            f.problems += c.problems
            kept.append({"marketing": marketing, "at": at, "by": by, "how": how})
        if kept:
            out[channel] = kept
    return out


def _do_not_contact(f: Form) -> list[dict[str, Any]]:
    periods = f.get("do_not_contact") or []
    out: list[dict[str, Any]] = []
    if not isinstance(periods, list) or len(periods) > MAX_DO_NOT_CONTACT:
        f.problem("do_not_contact", "this must be a list of at most {max} periods",
                  max=MAX_DO_NOT_CONTACT)
        return out
    for i, period in enumerate(periods):
        d = f.check(Form, period, f"do_not_contact[{i}]", allowed=("from", "to", "reason"))
        if d is None:
            continue
        if d.get("from") in (None, ""):
            d.problem("from", "say from which day")
        start = d.day("from")
        end = d.day("to")
        if start and end and end < start:
            d.problem("to", "this must not be before the first day of the period")
        reason = d.text("reason", max_len=200)
        f.problems += d.problems
        if start and not d.problems:
            out.append({"from": start, "to": end, "reason": reason})
    return out


def consent_change(current: Mapping[str, list[dict[str, Any]]] | None, said: Any, *,
                   by: str, at: str, history_ok: bool = False
                   ) -> tuple[dict[str, list[dict[str, Any]]], list[Invalid]]:
    """The consent history after what a form or an import said of some channels: per
    channel, yes or no to marketing and how it was given (`{"email": {"marketing": true,
    "how": "in_store"}}`; the old single `{"marketing": true}` speaks of e-mail). A change
    is added only where the answer differs from the one that holds; the history itself is
    never taken from a person's input. `history_ok`: an import's rows, checked by the
    importer, come as histories already; their changes without a time or an author were
    recorded now, by the import. Returns the history and the problems found."""
    out = {channel: list(changes) for channel, changes in (current or {}).items()}
    problems: list[Invalid] = []
    if said is None:
        return out, problems
    if not isinstance(said, dict):
        return out, [Invalid("this maps a channel to yes or no and how it was given",
                             "consent")]
    for channel, answer in said.items():
        if channel == "marketing" and isinstance(answer, bool):  # an earlier hub's form
            channel, answer, how_needed = "email", {"marketing": answer}, False
        else:
            how_needed = True
        if channel not in CHANNELS:
            problems.append(Invalid("“{channel}” is not a channel this book keeps", "consent",
                                    channel=str(channel)))
            continue
        path = f"consent.{channel}"
        if history_ok and isinstance(answer, list):
            out[channel] = [{**c, "at": c.get("at") or at, "by": c.get("by") or by}
                            if isinstance(c, dict) else c for c in answer]
            continue
        if not isinstance(answer, dict):
            problems.append(Invalid("say yes or no, and how it was given", path))
            continue
        c = Form(answer, path, allowed=("marketing", "how"))
        marketing = answer.get("marketing")
        if not isinstance(marketing, bool):
            c.problem("marketing", "say yes or no")
        how = c.choice("how", CONSENT_HOW, vocabulary="consent_how", lower=False,
                       required=how_needed)
        if c.problems:
            problems += c.problems
            continue
        history = out.get(channel, [])
        if not history or history[-1].get("marketing") is not marketing:
            out[channel] = [*history, {"marketing": marketing, "at": at, "by": by, "how": how}]
    return out, problems


# -- contact rules ----------------------------------------------------------------------------

def consent_now(profile: Mapping[str, Any], channel: str) -> bool | None:
    """Whether she said yes (True) or no (False) to marketing on a channel; None: never
    asked. The latest change holds."""
    consent = upgrade_profile({"consent": profile.get("consent") or {}})["consent"]
    changes = consent.get(channel) if isinstance(consent, dict) else None
    if not changes or not isinstance(changes, list):
        return None
    last = changes[-1]
    return last.get("marketing") if isinstance(last, dict) else None


def do_not_contact_on(profile: Mapping[str, Any], today: date) -> dict[str, Any] | None:
    """The do-not-contact period `today` falls in (first and last days included), if any."""
    for period in profile.get("do_not_contact") or ():
        try:
            start = date.fromisoformat(period["from"])
            end = date.fromisoformat(period["to"]) if period.get("to") else None
        except (KeyError, TypeError, ValueError):
            continue
        if start <= today and (end is None or today <= end):
            return period
    return None


def reachable(profile: Mapping[str, Any], channel: str) -> bool:
    """Whether the book has an address for that channel: an e-mail, a phone, a postal
    address."""
    if channel == "email":
        return bool(profile.get("emails"))
    if channel in ("sms", "phone", "messaging"):
        return bool(profile.get("phones"))
    return any(a.get("line1") or a.get("city") for a in profile.get("addresses") or ())


def may_contact(profile: Mapping[str, Any], channel: str, purpose: str, today: date) -> bool:
    """Whether the store may write to or call her on `channel` for `purpose` today.

    Every purpose needs an address for the channel. Then:
    - "transactional" (her repair is ready, her order arrived): nothing more; it is service
      she is waiting for, so neither an opt-out nor a do-not-contact period holds it back;
    - "marketing": her yes to marketing on that very channel (an opt-in: never asked is no),
      and no do-not-contact period today;
    - "one_to_one" (her associate's personal message): no do-not-contact period today, and
      no explicit no on that channel (never asked is fine)."""
    if channel not in CHANNELS:
        raise Invalid("“{value}” is not a channel this book keeps", "channel", value=channel)
    if purpose not in PURPOSES:
        raise Invalid("“{value}” is not a purpose of a message", "purpose", value=purpose)
    if not reachable(profile, channel):
        return False
    if purpose == "transactional":
        return True
    if do_not_contact_on(profile, today) is not None:
        return False
    said = consent_now(profile, channel)
    return said is True if purpose == "marketing" else said is not False


def budget_amounts(band: str, currency: str) -> tuple[int, int | None]:
    """A budget band in minor units of `currency`: (from, up to; None: no upper end)."""
    low, high = BUDGET_BANDS[band]
    scale = 10 ** minor_units(currency)
    return low * scale, None if high is None else high * scale


@dataclass(frozen=True)
class Milestone:
    """A client's next date to remember: its kind (birthday, anniversary...), the day it
    falls on, in how many days, and how many years it marks when the year is known."""

    kind: str
    day: date
    days: int
    years: int | None


def next_milestone(dates: Mapping[str, str], today: date) -> Milestone | None:
    """The soonest of a profile's dates from `today` on (today itself included). A date
    kept as --MM-DD has no year to count; 29 February falls on the 28th in other years."""
    best: Milestone | None = None
    for kind, kept in dates.items():
        try:
            year = None if kept.startswith("--") else int(kept[:4])
            month, day_ = int(kept[-5:-3]), int(kept[-2:])
        except (ValueError, AttributeError):
            continue  # the profile's validation keeps only days; an old one may hold less
        for when in (today.year, today.year + 1):
            try:
                on = date(when, month, day_)
            except ValueError:  # 29 February in a year without one
                on = date(when, month, 28)
            if on >= today:
                break
        years = on.year - year if year is not None and on.year > year else None
        found = Milestone(kind, on, (on - today).days, years)
        if best is None or (found.day, found.kind) < (best.day, best.kind):
            best = found
    return best


def _month_day(kept: str) -> tuple[int, int]:
    """(month, day) of a date kept as YYYY-MM-DD or --MM-DD."""
    try:
        return int(kept[-5:-3]), int(kept[-2:])
    except (TypeError, ValueError):
        return 0, 0


def display_name(profile: dict[str, Any]) -> str:
    return " ".join(x for x in (profile.get("first_name"), profile.get("last_name")) if x)


def _fold(text: str) -> str:
    """Case- and accent-insensitive form for name search (Zoë -> zoe)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


_INDEX_READ = 2000  # cards a read while the name index is built

# What `NameIndex.put` reads of a profile: her index card holds these and nothing else.
INDEX_FIELDS = ("first_name", "last_name", "dates", "primary_associate",
                "secondary_associate", "do_not_contact")
_CARD_VERSION = 2  # bytes of the key version in front of a sealed card


def index_card(profile: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a profile the name index keeps (as stored: `put` reads it as is)."""
    return {k: profile[k] for k in INDEX_FIELDS if k in profile}


def _card_aad(store_id: str, client_id: str, version: int) -> bytes:
    # A card cannot be moved to another client or store. (Ids hold no NUL: one reading.)
    return f"loupe-card\0{store_id}\0{client_id}\0{version}".encode()


def seal_card(keyring: Keyring, client_id: str, version: int,
              profile: Mapping[str, Any]) -> bytes:
    """Her index card sealed with her own key (the version her profile's entry names), so
    destroying her key shreds it with the profile; the version goes in front.

    A projection, so the same every time it is made (a rebuild gives the same bytes):
    AES-GCM-SIV, whose one nonce per card gives away only whether two cards are equal."""
    _, key = keyring.get(f"client:{client_id}", version)
    aad = _card_aad(keyring.store_id, client_id, version)
    return version.to_bytes(_CARD_VERSION, "big") + AESGCMSIV(key).encrypt(
        _card_nonce(aad), canonical_json(index_card(profile)), aad)


def open_card(keyring: Keyring, client_id: str, card: bytes) -> dict[str, Any] | None:
    """Her index card (None: her key was destroyed: she is forgotten)."""
    version = int.from_bytes(card[:_CARD_VERSION], "big")
    try:
        _, key = keyring.get(f"client:{client_id}", version)
    except KeyDestroyed:
        return None
    aad = _card_aad(keyring.store_id, client_id, version)
    return json.loads(AESGCMSIV(key).decrypt(_card_nonce(aad), card[_CARD_VERSION:], aad))


def _card_nonce(aad: bytes) -> bytes:
    return hashlib.sha256(aad).digest()[:12]


class NameIndex:
    """What the client book keeps in memory of each active client: the name, for search,
    and the dates to remember (birthday, anniversary...), for the day's follow-ups. Built
    at start by the one pass that opens the clients' index cards (`INDEX_FIELDS` of each
    profile, sealed with her key); persisted nowhere else."""

    def __init__(self) -> None:
        self._names: dict[str, tuple[str, tuple[str, ...]]] = {}
        self._dates: dict[str, tuple[tuple[str, str], ...]] = {}  # (kind, day) pairs
        # Her primary and second associate (staff ids), and each associate's book.
        self._associates: dict[str, tuple[str | None, str | None]] = {}
        self._books: dict[str, set[str]] = {}
        self._quiet: dict[str, tuple[dict[str, Any], ...]] = {}
        # (month, day) -> the clients with a date that day: the day's follow-ups look up the
        # days of their window instead of walking every client's dates.
        self._by_day: dict[tuple[int, int], set[str]] = {}

    def put(self, client_id: str, profile: dict[str, Any]) -> None:
        """Index her profile, or her index card: only `INDEX_FIELDS` are read."""
        name = display_name(profile)
        tokens = tuple(_fold(t) for t in re.split(r"[\s\-']+", name) if t)
        self._names[client_id] = (name, tokens)
        self._undate(client_id)
        dates = profile.get("dates") or {}
        if dates:  # pairs of an interned kind: half the memory of a dict per client
            self._dates[client_id] = tuple((sys.intern(k), v) for k, v in dates.items())
            for _, day in self._dates[client_id]:
                self._by_day.setdefault(_month_day(day), set()).add(client_id)
        self._put_associates(client_id, profile.get("primary_associate"),
                             profile.get("secondary_associate"))
        quiet = tuple({"from": p.get("from"), "to": p.get("to")}
                      for p in profile.get("do_not_contact") or ())
        if quiet:  # her do-not-contact periods (days only): the follow-ups respect them
            self._quiet[client_id] = quiet
        else:
            self._quiet.pop(client_id, None)

    def _put_associates(self, client_id: str, primary: str | None,
                        secondary: str | None) -> None:
        for staff_id in self._associates.pop(client_id, ()):
            if staff_id and staff_id in self._books:
                self._books[staff_id].discard(client_id)
                if not self._books[staff_id]:
                    del self._books[staff_id]
        if primary or secondary:  # interned: a few staff ids shared by thousands of clients
            pair = (sys.intern(primary) if primary else None,
                    sys.intern(secondary) if secondary else None)
            self._associates[client_id] = pair
            for staff_id in pair:
                if staff_id:
                    self._books.setdefault(staff_id, set()).add(client_id)

    def _undate(self, client_id: str) -> None:
        for _, day in self._dates.pop(client_id, ()):
            on_day = self._by_day.get(_month_day(day))
            if on_day is not None:
                on_day.discard(client_id)
                if not on_day:
                    del self._by_day[_month_day(day)]

    def drop(self, client_id: str) -> None:
        self._names.pop(client_id, None)
        self._undate(client_id)
        self._quiet.pop(client_id, None)
        self._put_associates(client_id, None, None)

    def associates_of(self, client_id: str) -> tuple[str | None, str | None]:
        """Her primary and second associate (None where she has none)."""
        return self._associates.get(client_id, (None, None))

    def book_of(self, staff_id: str) -> list[str]:
        """The clients whose primary or second associate `staff_id` is, by client id."""
        return sorted(self._books.get(staff_id, ()))

    def names(self) -> dict[str, tuple[str, tuple[str, ...]]]:
        """Each active client's name and its folded words (the duplicates compare them)."""
        return dict(self._names)

    def quiet_on(self, client_id: str, today: date) -> bool:
        """Whether she asked not to be contacted on `today` (a do-not-contact period)."""
        periods = self._quiet.get(client_id)
        return bool(periods) and do_not_contact_on({"do_not_contact": periods},
                                                   today) is not None

    def name_of(self, client_id: str) -> str | None:
        entry = self._names.get(client_id)
        return entry[0] if entry else None

    def dates_of(self, client_id: str) -> tuple[tuple[str, str], ...]:
        return self._dates.get(client_id, ())

    def dated_on(self, days: Iterable[tuple[int, int]]
                 ) -> list[tuple[str, tuple[tuple[str, str], ...]]]:
        """The clients with a date on one of `days` ((month, day) pairs), and their dates."""
        found: set[str] = set()
        for day in days:
            found |= self._by_day.get(day, set())
        return [(cid, self._dates[cid]) for cid in sorted(found)]

    def dated(self) -> list[tuple[str, tuple[tuple[str, str], ...]]]:
        """Every active client with dates kept, and those dates as (kind, day) pairs."""
        return list(self._dates.items())

    def search(self, query: str, limit: int = 20) -> list[tuple[str, str]]:
        words = [_fold(w) for w in re.split(r"[\s\-']+", query) if w]
        if not words:
            return []
        hits = [(name, cid) for cid, (name, tokens) in self._names.items()
                if all(any(t.startswith(w) for t in tokens) for w in words)]
        hits.sort(key=lambda h: _fold(h[0]))
        return [(cid, name) for name, cid in hits[:limit]]

    def __len__(self) -> int:
        return len(self._names)


# -- projections ------------------------------------------------------------------------------

def _index_contacts(tx: Tx, client_id: str, profile: dict[str, Any]) -> None:
    tx.execute("DELETE FROM client_lookup WHERE client_id = ?", (client_id,))
    blinds = {tx.keyring.blind("email", e) for e in profile.get("emails", [])}
    blinds |= {tx.keyring.blind("phone", normalise_phone(p)) for p in profile.get("phones", [])}
    tx.conn.executemany("INSERT OR IGNORE INTO client_lookup (blind, client_id) VALUES (?, ?)",
                        [(b, client_id) for b in sorted(blinds)])


def _client_id(entry: Entry) -> str:
    return entry.subject.split(":", 1)[1]


def _on_profile(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    client_id = _client_id(entry)
    if p is None:
        # The client's key was destroyed: a later client.forgotten entry settles the row.
        return
    card = seal_card(tx.keyring, client_id, entry.key_version, p["profile"])
    tx.execute(
        "INSERT INTO clients (client_id, status, profile_seq, created_seq, updated_seq, card)"
        " VALUES (?, 'active', ?, ?, ?, ?) ON CONFLICT(client_id) DO UPDATE SET"
        " profile_seq = excluded.profile_seq, updated_seq = excluded.updated_seq,"
        " card = excluded.card", (client_id, entry.seq, entry.seq, entry.seq, card))
    _index_contacts(tx, client_id, p["profile"])


def _on_forgotten(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    client_id = _client_id(entry)
    tx.execute("DELETE FROM client_lookup WHERE client_id = ?", (client_id,))
    tx.execute(
        "INSERT INTO clients (client_id, status, profile_seq, created_seq, updated_seq)"
        " VALUES (?, 'forgotten', NULL, ?, ?) ON CONFLICT(client_id) DO UPDATE SET"
        " status = 'forgotten', profile_seq = NULL, card = NULL,"
        " updated_seq = excluded.updated_seq",
        (client_id, (p or {}).get("created_seq", entry.seq), entry.seq))


def _on_merged(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    """The merged client's id points to the one kept; her sales are the kept client's (the
    kept profile itself is the `client.updated` entry that follows in the transaction)."""
    assert p is not None  # ids only: never sealed
    keep, gone = p["client_id"], p["merged_id"]
    tx.execute("DELETE FROM client_lookup WHERE client_id = ?", (gone,))
    tx.execute(
        "INSERT INTO clients (client_id, status, profile_seq, created_seq, updated_seq,"
        " merged_into) VALUES (?, 'merged', NULL, ?, ?, ?) ON CONFLICT(client_id) DO UPDATE"
        " SET status = 'merged', profile_seq = NULL, card = NULL,"
        " updated_seq = excluded.updated_seq,"
        " merged_into = excluded.merged_into", (gone, p["created_seq"], entry.seq, keep))
    tx.execute("UPDATE clients SET merged_into = ? WHERE merged_into = ?", (keep, gone))
    tx.execute("UPDATE sales SET client_id = ? WHERE client_id = ?", (keep, gone))


PROJECTIONS = {
    "client.created": _on_profile,
    "client.updated": _on_profile,
    "client.forgotten": _on_forgotten,
    "client.merged": _on_merged,
}


# A layer's part of a merge, in its transaction (her loyalty points join the kept client's).
MergeHook = Callable[[Tx, str, str, str], None]  # (tx, kept id, merged id, actor)
# A part of her erasure, in its transaction once its entry is appended (her files go).
ForgetHook = Callable[[Tx, str, str], None]  # (tx, client id, actor)


class Roster(Protocol):
    """What the client book asks of the staff roster (`hub.core.staff.Staff`)."""

    def get(self, staff_id: str) -> Any: ...


class Clients:
    def __init__(self, ledger: Ledger, roster: Roster | None = None) -> None:
        self.ledger = ledger
        self.names = NameIndex()
        # The staff roster, to check a new associate link; the store sets it (`Store`).
        self.roster = roster
        self.merge_hooks: list[MergeHook] = []  # the layers' parts of a merge
        self.forget_hooks: list[ForgetHook] = []  # the parts of an erasure (her files)

    async def load_index(self) -> int:
        """Open every active client's index card once at start to build the name index."""
        # A few thousand cards a read, opened on a thread: one read per client cost more in
        # round trips than the decryption itself (20,000 clients: ~4 s of a start); a card
        # is a sixth of her profile's bytes, the rest of which the index never reads.
        after, unread = 0, []
        while rows := await self.ledger.fetch(
                "SELECT rowid, client_id, card, profile_seq FROM clients"
                " WHERE status = 'active' AND rowid > ? ORDER BY rowid LIMIT ?",
                (after, _INDEX_READ)):
            after = rows[-1][0]
            opened, failed = await asyncio.to_thread(self._open_cards, rows)
            for client_id, card in opened:
                self.names.put(client_id, card)
            unread += failed
        if unread:
            # A card missing or not opening (damaged, or of another version): her profile
            # in the journal says the same, slower; a rebuild writes the cards again.
            log.warning("%d client index cards did not open: their profiles were read"
                        " instead; `loupe ledger rebuild` writes the cards again",
                        len(unread), extra={"clients": len(unread)})
            for client_id, seq in unread:
                if (profile := await self._profile_at(seq)) is not None:
                    self.names.put(client_id, profile)
        return len(self.names)

    def _open_cards(self, rows: list[Any]
                    ) -> tuple[list[tuple[str, dict[str, Any]]], list[tuple[str, int]]]:
        """(client id, card) of each row whose card opens; (client id, profile seq) of the
        others. A client whose key was destroyed meanwhile (forgotten) is in neither."""
        keyring = self.ledger.keyring
        opened, failed = [], []
        for _, client_id, sealed, seq in rows:
            try:
                card = open_card(keyring, client_id, sealed) if sealed is not None else None
            except (InvalidTag, ValueError):
                sealed = None
            if sealed is None:
                failed.append((client_id, seq))
            elif card is not None:  # None: her key destroyed (she is forgotten)
                opened.append((client_id, card))
        return opened, failed

    async def _profile_at(self, seq: int) -> dict[str, Any] | None:
        payload = await self.ledger.payload_at(seq)
        return None if payload is None else upgrade_profile(payload["profile"])

    def _profile_in(self, tx: Tx, client_id: str) -> dict[str, Any] | None:
        """An active client's current profile inside a transaction (None: no such active
        client): the books as this transaction has them, its own entries included."""
        row = tx.one("SELECT status, profile_seq FROM clients WHERE client_id = ?",
                     (client_id,))
        if row is None or row["status"] != "active":
            return None
        found = tx.one(f"SELECT {ENTRY_COLUMNS} FROM journal WHERE seq = ?",
                       (row["profile_seq"],))
        payload = None if found is None else self.ledger.decrypt(Entry.from_row(tuple(found)))
        return None if payload is None else upgrade_profile(payload["profile"])

    def active_in(self, tx: Tx, client_id: str) -> bool:
        """Whether `client_id` is an active client, as this transaction has the books."""
        return self._status_in(tx, client_id) == "active"

    def _status_in(self, tx: Tx, client_id: str) -> str | None:
        row = tx.one("SELECT status FROM clients WHERE client_id = ?", (client_id,))
        return None if row is None else row["status"]

    # -- links: partner and household, both sides --------------------------------------------

    def _linked_changes(self, tx: Tx, client_id: str, old: dict[str, Any],
                        new: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """The other clients' profiles that change because of this one's links: a partner
        set here is her partner's partner there; a household member listed as a child lists
        her as a parent. Checks every new link first (not herself, an active client, a
        partner free to be hers) and writes nothing."""
        others: dict[str, dict[str, Any]] = {}

        def other(cid: str) -> dict[str, Any] | None:
            if cid not in others:
                current = self._profile_in(tx, cid)
                if current is None:
                    return None
                others[cid] = {**current, "household": list(current.get("household") or [])}
            return others[cid]

        def check_new(cid: str, field: str) -> None:
            if cid == client_id:
                raise Invalid("a client cannot be linked to their own profile", field)
            status = self._status_in(tx, cid)
            if status is None:
                raise Invalid("no client {client_id}", field, client_id=cid)
            if status != "active":
                raise Invalid("client {client_id} was erased", field, client_id=cid)

        old_partner, partner = old.get("partner_id"), new.get("partner_id")
        if partner and partner != old_partner:
            check_new(partner, "partner_id")
            theirs = other(partner)
            assert theirs is not None
            if theirs.get("partner_id") not in (None, client_id):
                raise Invalid("client {client_id} already has a partner: unlink them first",
                              "partner_id", client_id=partner)
            theirs["partner_id"] = client_id
        if old_partner and old_partner != partner:
            theirs = other(old_partner)
            if theirs is not None and theirs.get("partner_id") == client_id:
                theirs["partner_id"] = None

        before = {m["client_id"]: m["relation"] for m in old.get("household") or ()}
        after = {m["client_id"]: m["relation"] for m in new.get("household") or ()}
        for i, (cid, relation) in enumerate(after.items()):
            if before.get(cid) == relation:
                continue
            if cid not in before:
                check_new(cid, f"household[{i}].client_id")
            theirs = other(cid)
            if theirs is None:
                continue
            mirrored = {"client_id": client_id, "relation": RELATIONS[relation]}
            kept = [m for m in theirs["household"] if m["client_id"] != client_id]
            if len(kept) >= MAX_HOUSEHOLD:
                raise Invalid("the household of client {client_id} is full",
                              f"household[{i}].client_id", client_id=cid)
            theirs["household"] = [*kept, mirrored]
        for cid in before.keys() - after.keys():
            theirs = other(cid)
            if theirs is not None:
                theirs["household"] = [m for m in theirs["household"]
                                       if m["client_id"] != client_id]
        return {cid: p for cid, p in others.items() if p != self._profile_in(tx, cid)}

    def _write(self, tx: Tx, kind: str, client_id: str, profile: dict[str, Any], actor: str,
               **why: Any) -> Entry:
        key_id = f"client:{client_id}"
        entry = tx.append(kind, key_id, {"profile": profile, **why}, actor=actor,
                          key_id=key_id)
        tx.after_commit.append(lambda: self.names.put(client_id, profile))
        return entry

    def _write_linked(self, tx: Tx, client_id: str, others: dict[str, dict[str, Any]],
                      actor: str) -> None:
        for cid in sorted(others):
            self._write(tx, "client.updated", cid, others[cid], actor, linked_from=client_id)

    # -- associates ------------------------------------------------------------------------

    def check_associates(self, profile: dict[str, Any], old: dict[str, Any] | None) -> None:
        """A new associate link names an active member of the roster. One already linked to
        her may stay after leaving (her book is reassigned when the manager decides), so an
        edit of her phone number never fails because her associate left."""
        kept = {(old or {}).get("primary_associate"), (old or {}).get("secondary_associate")}
        problems = [problem for slot in ("primary_associate", "secondary_associate")
                    if profile.get(slot) and profile[slot] not in kept
                    and (problem := self._not_working_here(profile[slot], slot))]
        if problems:
            raise Invalid.many(problems)

    def _not_working_here(self, staff_id: str, field: str) -> Invalid | None:
        if self.roster is None:
            return None
        member = self.roster.get(staff_id)
        if member is None:
            return Invalid("no staff member “{staff_id}”", field, staff_id=staff_id)
        if member.status != "active":
            return Invalid("{staff_id} has left the store: choose someone who works here",
                           field, staff_id=staff_id)
        return None

    # -- writing -------------------------------------------------------------------------------

    def create_in(self, tx: Tx, profile: dict[str, Any], actor: str,
                  client_id: str | None = None) -> str:
        """Record a new client (a validated profile) inside a transaction, and her links on
        the other side."""
        client_id = client_id or new_client_id()
        others = self._linked_changes(tx, client_id, {}, profile)
        key_id = f"client:{client_id}"
        tx.create_key(key_id)
        self._write(tx, "client.created", client_id, profile, actor)
        self._write_linked(tx, client_id, others, actor)
        return client_id

    def _prepared(self, raw: Any, current: dict[str, Any] | None, actor: str,
                  at: str, *, imported: bool = False) -> dict[str, Any]:
        """A person's input (a whole new profile, or a current one with her changes) as a
        valid profile: consent answers become changes in the history, every problem at once."""
        if not isinstance(raw, dict):
            raise Invalid("a client profile must be an object")
        merged = {**(current or {}), **raw}
        problems: list[Invalid] = []
        if "consent" in raw:
            merged["consent"], problems = consent_change(
                (current or {}).get("consent"), raw["consent"], by=actor, at=at,
                history_ok=imported)
        try:
            profile = validate_profile(merged)
        except Invalid as exc:
            raise Invalid.many(problems + exc.problems) from None
        if problems:
            raise Invalid.many(problems)
        self.check_associates(profile, current)
        return profile

    async def create(self, raw: dict[str, Any], actor: str) -> dict[str, Any]:
        profile = self._prepared(raw, None, actor, utc_now())
        client_id = await self.ledger.transact(lambda tx: self.create_in(tx, profile, actor))
        return {"client_id": client_id, "status": "active", "profile": profile}

    async def create_many(self, raws: list[dict[str, Any]], actor: str) -> list[str]:
        """Many new clients at once, all or none (a CSV import's rows)."""
        at = utc_now()
        profiles = [self._prepared(r, None, actor, at, imported=True) for r in raws]
        return await self.ledger.transact(
            lambda tx: [self.create_in(tx, p, actor) for p in profiles])

    def update_in(self, tx: Tx, client_id: str, profile: dict[str, Any], actor: str) -> Entry:
        """Record a client's whole new (validated) profile inside a transaction, and what
        her links change on the other side."""
        old = self._profile_in(tx, client_id)
        if old is None:
            raise NotFound("no client {client_id}", client_id=client_id)
        others = self._linked_changes(tx, client_id, old, profile)
        entry = self._write(tx, "client.updated", client_id, profile, actor)
        self._write_linked(tx, client_id, others, actor)
        return entry

    async def update(self, client_id: str, raw: dict[str, Any], actor: str) -> dict[str, Any]:
        """Apply a partial change; the entry carries the whole new profile."""
        current = await self.get(client_id)
        if current["profile"] is None:
            raise NotFound("client {client_id} was erased", client_id=client_id)
        profile = self._prepared(raw, current["profile"], actor, utc_now())
        await self.ledger.transact(lambda tx: self.update_in(tx, client_id, profile, actor))
        return {"client_id": client_id, "status": "active", "profile": profile}

    async def set_consent(self, client_id: str, channel: Any, marketing: Any, how: Any,
                          actor: str) -> dict[str, Any]:
        """Her yes or no to marketing on one channel, and how she gave it: a new change at
        the end of that channel's history (the others stay as they are)."""
        f = Form({"channel": channel, "how": how}, allowed=("channel", "how"))
        channel = f.choice("channel", CHANNELS, required=True, vocabulary="channel",
                           lower=False)
        how = f.choice("how", CONSENT_HOW, required=True, vocabulary="consent_how",
                       lower=False)
        if not isinstance(marketing, bool):
            f.problem("marketing", "say yes or no")
        f.done()
        change = {"marketing": marketing, "at": utc_now(), "by": actor, "how": how}

        def command(tx: Tx) -> dict[str, Any]:
            profile = self._erasure_checked(tx, client_id)
            consent = dict(profile.get("consent") or {})
            consent[channel] = [*consent.get(channel, []), change][-MAX_CONSENT_CHANGES:]
            updated = {**profile, "consent": consent}
            self._write(tx, "client.updated", client_id, updated, actor,
                        consent_changed=channel)
            return updated

        profile = await self.ledger.transact(command)
        return {"client_id": client_id, "status": "active", "profile": profile}

    def _erasure_checked(self, tx: Tx, client_id: str) -> dict[str, Any]:
        profile = self._profile_in(tx, client_id)
        if profile is None:
            if self._status_in(tx, client_id) is None:
                raise NotFound("no client {client_id}", client_id=client_id)
            raise NotFound("client {client_id} was erased", client_id=client_id)
        return profile

    def book_of(self, staff_id: str) -> list[str]:
        """The client ids whose primary or second associate is `staff_id` (from memory)."""
        return self.names.book_of(staff_id)

    async def reassign(self, from_staff: Any, to_staff: Any, actor: str) -> dict[str, Any]:
        """A manager gives one associate's book to another (she left, or moved store): every
        client of `from_staff`, primary or second, now has `to_staff` there instead, each
        profile a new entry, all in one transaction. Returns who changed."""
        f = Form({"from_staff": from_staff, "to_staff": to_staff})
        from_staff = f.identifier("from_staff", pattern=_STAFF_ID, what="a staff id")
        to_staff = f.identifier("to_staff", pattern=_STAFF_ID, what="a staff id")
        if from_staff and from_staff == to_staff:
            f.problem("to_staff", "the book goes to someone else")
        f.done()
        assert from_staff is not None and to_staff is not None
        if (problem := self._not_working_here(to_staff, "to_staff")) is not None:
            raise problem
        candidates = self.book_of(from_staff)

        def command(tx: Tx) -> list[str]:
            moved = []
            for cid in candidates:
                profile = self._profile_in(tx, cid)
                if profile is None:
                    continue
                new = dict(profile)
                for slot in ("primary_associate", "secondary_associate"):
                    if new.get(slot) == from_staff:
                        new[slot] = to_staff
                if new.get("secondary_associate") == new.get("primary_associate"):
                    new["secondary_associate"] = None  # the second became the first
                if new != profile:
                    self._write(tx, "client.updated", cid, new, actor,
                                reassigned={"from": from_staff, "to": to_staff})
                    moved.append(cid)
            return moved

        moved = await self.ledger.transact(command) if candidates else []
        return {"from_staff": from_staff, "to_staff": to_staff, "clients": moved}

    async def merge(self, keep_id: Any, merged_id: Any, actor: str) -> dict[str, Any]:
        """Fold `merged_id` into `keep_id` (see `hub.core.merge`): refused, with nothing
        written, for the same client twice, an unknown, erased or already merged one."""
        f = Form({"keep": keep_id, "merge": merged_id})
        keep = f.identifier("keep", pattern=_CLIENT_ID, what="a client id")
        gone = f.identifier("merge", pattern=_CLIENT_ID, what="a client id")
        if keep and keep == gone:
            f.problem("merge", "a client cannot be merged with herself")
        f.done()
        assert keep is not None and gone is not None

        def command(tx: Tx) -> dict[str, Any]:
            for cid, field in ((keep, "keep"), (gone, "merge")):
                row = tx.one("SELECT status, merged_into FROM clients WHERE client_id = ?",
                             (cid,))
                if row is None:
                    raise NotFound("no client {client_id}", client_id=cid, field=field)
                if row["status"] == "forgotten":
                    raise Refused("client_erased", "client {client_id} was erased: an erased"
                                  " client is merged with no one", client_id=cid, field=field)
                if row["status"] == "merged":
                    raise Refused("client_merged", "client {client_id} was already merged"
                                  " into {other}", client_id=cid, other=row["merged_into"],
                                  field=field)
            mine, theirs = self._profile_in(tx, keep), self._profile_in(tx, gone)
            assert mine is not None and theirs is not None
            merged = merge_profiles(mine, theirs, keep_id=keep, gone_id=gone)
            # Her partner and household see one client where there were two.
            others = self._linked_changes(tx, gone, theirs, {"partner_id": None,
                                                             "household": []})
            created = tx.one("SELECT created_seq FROM clients WHERE client_id = ?", (gone,))
            tx.append("client.merged", f"client:{keep}",
                      {"client_id": keep, "merged_id": gone,
                       "created_seq": created["created_seq"]}, actor=actor)
            others.pop(keep, None)
            links = self._linked_changes(tx, keep, mine, merged)
            for cid, profile in links.items():
                others[cid] = profile if cid not in others else {**others[cid], **{
                    k: profile[k] for k in ("partner_id", "household")}}
            self._write(tx, "client.updated", keep, merged, actor, merged_from=gone)
            self._write_linked(tx, keep, others, actor)
            for hook in self.merge_hooks:
                hook(tx, keep, gone, actor)
            tx.after_commit.append(lambda: self.names.drop(gone))
            return merged

        profile = await self.ledger.transact(command)
        return {"client_id": keep, "merged_id": gone, "status": "active", "profile": profile}

    async def duplicates(self, limit: int = 200) -> list[dict[str, Any]]:
        """Possible duplicates among the active clients: pairs sharing an e-mail or phone
        (their blind indexes are equal) or with alike names (in memory), with why."""
        rows = await self.ledger.fetch(
            "SELECT a.client_id AS first, b.client_id AS second FROM client_lookup a"
            " JOIN client_lookup b ON a.blind = b.blind AND a.client_id < b.client_id"
            " GROUP BY a.client_id, b.client_id LIMIT ?", (limit,))
        found: dict[tuple[str, str], list[str]] = {}
        for r in rows:
            found.setdefault((r["first"], r["second"]), []).append("same_contact")
        for a, b, why in similar_names(self.names.names(), limit):
            found.setdefault((min(a, b), max(a, b)), []).append(why)
        out = []
        for (a, b), why in sorted(found.items())[:limit]:
            name_a, name_b = self.names.name_of(a), self.names.name_of(b)
            if name_a is not None and name_b is not None:
                out.append({"client_ids": [a, b], "names": [name_a, name_b], "why": why})
        return out

    async def forget(self, client_id: str, actor: str, reason: str = "erasure request") -> int:
        """Right to erasure: shred the client's key; returns the seq of the forget entry.
        Her partner and household no longer point to her (a new entry on each)."""

        def command(tx: Tx) -> int:
            row = tx.one("SELECT status, created_seq FROM clients WHERE client_id = ?",
                         (client_id,))
            if row is None:
                raise NotFound("no client {client_id}", client_id=client_id)
            if row["status"] == "forgotten":
                raise Refused("already_forgotten", "client {client_id} was already erased",
                              client_id=client_id)
            profile = self._profile_in(tx, client_id) or {}
            others = self._linked_changes(tx, client_id, profile,
                                          {"partner_id": None, "household": []})
            entry = tx.append("client.forgotten", f"client:{client_id}",
                              {"client_id": client_id, "created_seq": row["created_seq"],
                               "reason": reason}, actor=actor)
            tx.destroy_key(f"client:{client_id}")
            for merged in tx.all("SELECT client_id FROM clients WHERE merged_into = ?",
                                 (client_id,)):  # her older records' entries go with her
                tx.destroy_key(f"client:{merged['client_id']}")
            self._write_linked(tx, client_id, others, actor)
            for hook in self.forget_hooks:
                hook(tx, client_id, actor)
            tx.after_commit.append(lambda: self.names.drop(client_id))
            return entry.seq

        return await self.ledger.transact(command)

    async def get(self, client_id: str) -> dict[str, Any]:
        row = await self.ledger.fetch_one("SELECT * FROM clients WHERE client_id = ?",
                                          (client_id,))
        if row is None:
            raise NotFound("no client {client_id}", client_id=client_id)
        if row["status"] == "merged":
            return {"client_id": client_id, "status": "merged", "profile": None,
                    "merged_into": row["merged_into"]}
        if row["status"] != "active":
            return {"client_id": client_id, "status": row["status"], "profile": None}
        return {"client_id": client_id, "status": "active",
                "profile": await self._profile_at(row["profile_seq"])}

    async def find_by_contact(self, contact: str) -> list[str]:
        """Exact look-up by e-mail or phone through the blind index."""
        if "@" in contact:
            blind = self.ledger.keyring.blind("email", normalise_email(contact))
        else:
            blind = self.ledger.keyring.blind("phone", normalise_phone(contact))
        rows = await self.ledger.fetch(
            "SELECT client_id FROM client_lookup WHERE blind = ? ORDER BY client_id", (blind,))
        return [r["client_id"] for r in rows]

    async def search(self, query: str, limit: int = 20) -> list[dict[str, Any]]:
        query = (query or "").strip()
        if not query:
            return []
        if "@" in query or (sum(ch.isdigit() for ch in query) >= 6 and not any(
                ch.isalpha() for ch in query)):
            ids = await self.find_by_contact(query)
            out = []
            for cid in ids[:limit]:
                client = await self.get(cid)
                out.append({"client_id": cid, "name": display_name(client["profile"] or {})})
            return out
        return [{"client_id": cid, "name": name} for cid, name in self.names.search(query, limit)]
