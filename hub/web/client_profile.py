"""The client profile as a person reads it (the client page) and fills it in (the new-client
and edit forms): every field in words — the vocabularies' labels, lengths and budgets in the
store's number and money formats, partners and household by name, associates by name — and
what the forms offer (chips from the vocabularies, the store's own designers first)."""

from __future__ import annotations

from datetime import date
from typing import Any

from hub.core.clients import (
    BUDGET_BANDS,
    CHANNELS,
    CONSENT_HOW,
    CONVERSATION_TOPICS,
    LENGTHS,
    PREFERENCE_CHOICES,
    RELATIONS,
    budget_amounts,
    consent_now,
    do_not_contact_on,
)
from hub.money import Money
from hub.store import Store
from hub.words import N_, Words

# The fingers a ring size is usually kept for (the form offers them; any label is accepted).
FINGERS = (N_("left ring"), N_("right ring"), N_("left middle"), N_("right middle"),
           N_("left index"), N_("right index"), N_("left little"), N_("right little"),
           N_("thumb"))
# The vocabulary lists of the preferences, in the order the page shows them.
CHOSEN = (("metals", N_("Metals")), ("stones", N_("Stones")), ("colours", N_("Colours")),
          ("styles", N_("Styles")))


def length_text(words: Words, measure: dict[str, Any]) -> str:
    """17.5 cm, 45 cm, 172 mm: in the unit she was measured in, the store's way."""
    mm = measure["mm"]
    if measure.get("unit") == "mm":
        return f"{words.number(mm)}\u00a0mm"
    shown = words.number(mm // 10) if mm % 10 == 0 else words.decimal(mm, 1)
    return f"{shown}\u00a0cm"


def length_typed(words: Words, measure: dict[str, Any] | None) -> str:
    """A length as the form shows it in its field (the number, without its unit)."""
    if not measure:
        return ""
    mm = measure["mm"]
    if measure.get("unit") == "mm":
        return str(mm)
    return str(mm // 10) if mm % 10 == 0 else words.decimal(mm, 1).replace(
        words.group_symbol, "")


def budget_text(words: Words, band: str | None, currency: str) -> str | None:
    if not band or band not in BUDGET_BANDS:
        return None
    low, high = budget_amounts(band, currency)
    if high is None:
        return words.render(N_("{low} and more"), {"low": Money(low, currency)})
    if low == 0:
        return words.render(N_("up to {high}"), {"high": Money(high, currency)})
    return words.render(N_("{low} to {high}"), {"low": Money(low, currency),
                                                "high": Money(high, currency)})


def _someone(store: Store, client_id: str) -> dict[str, Any]:
    name = store.clients.names.name_of(client_id)
    return {"client_id": client_id, "name": name, "erased": name is None}


def _associate(store: Store, staff_id: str | None) -> dict[str, Any] | None:
    if not staff_id:
        return None
    member = store.staff.get(staff_id)
    return {"staff_id": staff_id, "name": member.name if member else staff_id,
            "left": member is None or member.status != "active"}


def profile_view(store: Store, profile: dict[str, Any], today: date) -> dict[str, Any]:
    """What the client page shows of a profile, every value ready to read."""
    words, currency = store.words, store.config.currency
    prefs = profile.get("preferences") or {}
    consent = []
    for channel in CHANNELS:
        changes = (profile.get("consent") or {}).get(channel) or []
        consent.append({"channel": channel, "said": consent_now(profile, channel),
                        "last": changes[-1] if changes else None, "changes": len(changes)})
    quiet = do_not_contact_on(profile, today)
    return {
        "lengths": [(kind, length_text(words, profile["lengths"][kind]))
                    for kind in LENGTHS if kind in (profile.get("lengths") or {})],
        "chosen": [(topic, title, PREFERENCE_CHOICES[topic][0], prefs.get(topic) or [])
                   for topic, title in CHOSEN],
        "designers": prefs.get("designers") or [],
        "taste": prefs.get("note"),
        "budget": budget_text(words, profile.get("budget"), currency),
        "partner": _someone(store, profile["partner_id"]) if profile.get("partner_id")
        else None,
        "household": [{**_someone(store, m["client_id"]), "relation": m["relation"]}
                      for m in profile.get("household") or ()],
        "conversation": [(topic, (profile.get("conversation") or {}).get(topic))
                         for topic in CONVERSATION_TOPICS],
        "primary": _associate(store, profile.get("primary_associate")),
        "secondary": _associate(store, profile.get("secondary_associate")),
        "consent": consent,
        "do_not_contact": [{**p, "now": p is quiet} for p in profile.get("do_not_contact") or ()],
    }


async def form_context(store: Store, client: dict[str, Any] | None) -> dict[str, Any]:
    """What the new-client and edit forms show: her profile's fields, and the choices."""
    p = (client or {}).get("profile") or {}
    words = store.words
    prefs = p.get("preferences") or {}
    designers = await store.items.designers()
    hers = prefs.get("designers") or []
    staff = [m for m in store.staff.all() if m.status == "active"]
    for slot in ("primary_associate", "secondary_associate"):  # one who left may stay
        if p.get(slot) and all(m.staff_id != p[slot] for m in staff):
            member = store.staff.get(p[slot])
            if member is not None:
                staff.append(member)
    sizes = list((p.get("ring_sizes") or {}).items())
    dates = p.get("dates") or {}
    form = {
        "title": p.get("title") or "", "first_name": p.get("first_name") or "",
        "last_name": p.get("last_name") or "",
        "emails": "\n".join(p.get("emails") or []),
        "phones": "\n".join(p.get("phones") or []),
        "address": (p.get("addresses") or [{}])[0],
        # Two empty rows under the sizes already known, so a new finger needs no extra step.
        "ring_sizes": sizes + [("", "")] * 2,
        "lengths": {kind: {"typed": length_typed(words, (p.get("lengths") or {}).get(kind)),
                           "unit": ((p.get("lengths") or {}).get(kind) or {}).get("unit", "cm")}
                    for kind in LENGTHS},
        "birthday": dates.get("birthday") or "", "anniversary": dates.get("anniversary") or "",
        "chosen": {topic: set(prefs.get(topic) or ()) for topic in PREFERENCE_CHOICES},
        "designers": set(hers),
        "other_designers": "\n".join(d for d in hers if d not in designers),
        "taste": prefs.get("note") or "",
        "budget": p.get("budget") or "",
        "partner": _someone(store, p["partner_id"]) if p.get("partner_id") else None,
        "household": [{**_someone(store, m["client_id"]), "relation": m["relation"]}
                      for m in p.get("household") or ()],
        "conversation": p.get("conversation") or {},
        "primary_associate": p.get("primary_associate") or "",
        "secondary_associate": p.get("secondary_associate") or "",
        "consent": {channel: {"said": consent_now(p, channel),
                              "last": ((p.get("consent") or {}).get(channel) or [None])[-1]}
                    for channel in CHANNELS},
        # One empty row under the periods kept, for a new one.
        "do_not_contact": [*(p.get("do_not_contact") or ()), {"from": "", "to": "",
                                                              "reason": ""}],
        "notes": p.get("notes") or "",
    }
    return {
        "client": client, "form": form, "fingers": FINGERS,
        "choices": [(topic, title, PREFERENCE_CHOICES[topic][0], PREFERENCE_CHOICES[topic][1])
                    for topic, title in CHOSEN],
        "designer_choices": designers,
        "budget_bands": [(band, budget_text(words, band, store.config.currency))
                         for band in BUDGET_BANDS],
        "staff": staff, "lengths": tuple(LENGTHS), "channels": CHANNELS,
        "consent_how": CONSENT_HOW, "relations": tuple(RELATIONS),
        "conversation_topics": CONVERSATION_TOPICS,
    }
