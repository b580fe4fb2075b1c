"""Follow-ups in words, and the week's call sheet: one document (hub.documents) per associate
or for the whole store, printed on A4 or on the receipt printer.

For each client to call this week: why (each follow-up in words), how to reach her, her
sizes, preferences and last purchases, and her wish list when the wish lists run. What the
book does not know yet is printed as a prompt (a line to fill in during the call), so the
call also completes the profile. The sheet holds personal data: it is built in memory for
the paper or the browser and never written to disk.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hub.core.clients import display_name
from hub.documents import Document
from hub.words import N_, Words

# The sizes a call sheet asks for when the profile lacks them (finger labels as the client
# form offers them).
ASKED_SIZES = (N_("left ring"), N_("right ring"))


def describe(f: Mapping[str, Any], words: Words) -> str:
    """What a listed follow-up (`FollowUps._shown`) is about, in the store's words."""
    _ = words._
    kind = f["kind"]
    if kind == "date":
        return f"{words.field_label(f['about'])}, {words.day(f['on'])}"
    if kind in ("purchase", "bridal"):
        message = (_("After a purchase of %(amount)s on %(day)s") if kind == "purchase"
                   else _("After a bridal purchase of %(amount)s on %(day)s"))
        return message % {"amount": words.money(f["amount"], f["currency"]),
                          "day": words.day(f["on"])}
    if kind == "lapsed":
        return _("No purchase since %(day)s") % {"day": words.day(f["on"])}
    if kind == "appointment":
        return _("After the appointment of %(day)s") % {"day": words.day(f["on"])}
    if kind == "wish":
        what = words.term("wish_event", f["followup_id"].split(":")[3])
        return _("A wish-listed piece, %(what)s") % {"what": what} + f" · {f['about']}"
    return words.term("followup_kind", kind)


@dataclass
class ClientCall:
    """One client's part of the sheet: her profile, why she is called, what she bought."""

    client_id: str
    profile: dict[str, Any]
    followups: list[Mapping[str, Any]]
    purchases: list[dict[str, Any]] = field(default_factory=list)  # Sales.get, newest first
    wishes: list[str] = field(default_factory=list)  # each wish in words


def call_sheet(calls: Sequence[ClientCall], words: Words, *, store_name: str, week: str,
               associate: str | None, currency: str) -> Document:
    """The week's calls as one document; `associate` names whose book it is (None: the
    whole store's)."""
    _ = words._
    doc = Document(_("Call sheet"))
    doc.add("title", f"{store_name} · {_('Call sheet')}", center=True)
    doc.add("text", associate or _("The whole store"), center=True)
    doc.add("small", _("Week of %(day)s") % {"day": words.day(week, "long")}, center=True)
    if not calls:
        doc.add("blank")
        doc.add("text", _("No one to call this week."), center=True)
    for call in calls:
        p = call.profile
        doc.add("rule")
        doc.add("heading", " ".join(x for x in (p.get("title"), display_name(p)) if x))
        for f in call.followups:
            doc.add("text", f"• {describe(f, words)}", bold=True)
        reach = [*p.get("phones", []), *p.get("emails", [])]
        if reach:
            doc.add("pair", _("Contact"), ", ".join(reach))
        else:
            doc.add("prompt", _("Phone or e-mail"))
        sizes = p.get("ring_sizes") or {}
        for finger, size in sizes.items():
            doc.add("pair", words.field_label(finger) if finger in ASKED_SIZES else finger, size)
        for finger in ASKED_SIZES:
            if finger not in sizes:
                doc.add("prompt", _("Ring size, %(finger)s") % {"finger": _(finger)})
        dates = p.get("dates") or {}
        for kind, day in dates.items():
            doc.add("pair", words.field_label(kind), words.day(day))
        for kind in ("birthday", "anniversary"):
            if kind not in dates:
                doc.add("prompt", words.field_label(kind))
        prefs = {k: v for k, v in (p.get("preferences") or {}).items() if v}
        for topic, values in prefs.items():
            shown = values if isinstance(values, str) else ", ".join(map(str, values))
            doc.add("pair", words.field_label(topic), shown)
        if not prefs:
            doc.add("prompt", _("Favourite designers, metals, stones"))
        for sale in call.purchases:
            pieces = ", ".join(line["description"] for line in sale.get("lines", []))
            doc.add("pair", f"{words.day(sale['ts'])} · {pieces}",
                    words.money(sale["total"], sale.get("currency", currency)))
        if not call.purchases:
            doc.add("small", _("No purchase yet."))
        for wish in call.wishes:
            doc.add("pair", _("Wish list"), wish)
        doc.add("prompt", _("How it went"))
        doc.add("prompt", "")
    return doc
