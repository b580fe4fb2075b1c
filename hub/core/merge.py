"""Two records of the same client: found (duplicates) and made one (a merge).

**Possible duplicates** come from what the book can compare without reading a profile: the
blind indexes of e-mails and phones (equal blinds, equal contacts) and, in memory, the names
(the same words once folded, or the same last name with a first name one slip apart).

**A merge** keeps one client and folds the other into her: the kept profile takes what the
other knew that she did not (contacts, sizes, dates, tastes, notes, consent history), one
`client.merged` entry sealed under the kept client's key records it, and the other id points
to the kept one from then on (its page leads there). Each area follows the entry in its own
tables: her sales, follow-ups, wish lists and appointments are hers now. Nothing is edited:
the merged client's old entries stay under her own key, which is destroyed with the kept
one's if she is erased later.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

# Fields whose lists are joined (each value once, the kept client's first).
_LISTS = ("emails", "phones", "addresses", "do_not_contact", "household")
# Fields that are maps of their own: the kept client's entries win, the other's fill gaps.
_MAPS = ("ring_sizes", "lengths", "dates", "conversation")


def _union(first: Iterable[Any], second: Iterable[Any]) -> list[Any]:
    out: list[Any] = []
    for value in (*first, *second):
        if value not in out:
            out.append(value)
    return out


def merge_profiles(keep: Mapping[str, Any], gone: Mapping[str, Any], *, keep_id: str,
                   gone_id: str) -> dict[str, Any]:
    """The kept client's profile, completed by what the other record knew. Her own values
    win wherever both have one; nothing either knew is lost (a second e-mail, a size, an
    older note)."""
    out: dict[str, Any] = dict(keep)
    for key, value in gone.items():
        if key in _LISTS or key in _MAPS or key in ("preferences", "consent", "notes"):
            continue
        if out.get(key) in (None, "", [], {}) and value not in (None, "", [], {}):
            out[key] = value
    for key in _LISTS:
        out[key] = _union(keep.get(key) or [], gone.get(key) or [])
    # Neither record is her own household member or partner once they are one.
    out["household"] = [m for m in out["household"]
                        if m.get("client_id") not in (keep_id, gone_id)]
    if out.get("partner_id") in (keep_id, gone_id):
        out["partner_id"] = None
    for key in _MAPS:
        out[key] = {**(gone.get(key) or {}), **(keep.get(key) or {})}
    prefs: dict[str, Any] = {}
    mine, theirs = keep.get("preferences") or {}, gone.get("preferences") or {}
    for topic in (*mine, *(t for t in theirs if t not in mine)):
        a, b = mine.get(topic), theirs.get(topic)
        if isinstance(a, list) or isinstance(b, list):
            prefs[topic] = _union(a or [], b or [])
        else:
            prefs[topic] = " · ".join(x for x in _union([a] if a else [], [b] if b else []))
    out["preferences"] = prefs
    consent: dict[str, list[Any]] = {}
    for channel in (*(keep.get("consent") or {}), *(gone.get("consent") or {})):
        changes = _union((keep.get("consent") or {}).get(channel) or [],
                         (gone.get("consent") or {}).get(channel) or [])
        consent[channel] = sorted(changes, key=lambda c: str(c.get("at") or ""))
    out["consent"] = consent  # each channel's history in order: the newest holds
    notes = [n for n in (keep.get("notes"), gone.get("notes")) if n]
    out["notes"] = "\n\n".join(dict.fromkeys(notes)) if notes else keep.get("notes")
    return out


def similar_names(names: Mapping[str, tuple[str, tuple[str, ...]]],
                  limit: int = 200) -> list[tuple[str, str, str]]:
    """Pairs of clients whose names are alike: (first id, second id, why). The same folded
    words (Hélène Fontaine, helene fontaine), or the same last name with first names at
    most one slip apart (Hélène, Helene; Caroline, Carolin). Compared within a last name,
    so the work grows with the book, not with its square."""
    by_last: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    for client_id, (_, tokens) in names.items():
        if len(tokens) >= 2:
            by_last.setdefault(tokens[-1], []).append((client_id, tokens))
    out: list[tuple[str, str, str]] = []
    for group in by_last.values():
        group.sort()
        for i, (a, ta) in enumerate(group):
            for b, tb in group[i + 1:]:
                if sorted(ta) == sorted(tb):
                    out.append((a, b, "same_name"))
                elif difflib.SequenceMatcher(None, " ".join(ta[:-1]),
                                             " ".join(tb[:-1])).ratio() >= 0.85:
                    out.append((a, b, "similar_name"))
                if len(out) >= limit:
                    return out
    return out
