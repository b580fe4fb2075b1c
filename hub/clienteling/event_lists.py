"""Lists of clients for an event (a trunk show, a new collection): chosen by tier, taste and
the channel she agreed to hear from us on, shown to staff, and leaving the hub only as an
age-encrypted CSV or on paper. Each export or print is a `client_list.exported` entry: what
was asked, how many, how it left (no name in it).
"""

from __future__ import annotations

import asyncio
import csv
import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyrage

from hub.clienteling.privacy import MIN_PASSPHRASE
from hub.clienteling.tiers import TIERS, Tiers
from hub.core.clients import CHANNELS, display_name, may_contact
from hub.core.errors import Invalid
from hub.core.fields import Form
from hub.documents import Document
from hub.store import Store

MAX_LISTED = 500


@dataclass(frozen=True)
class Ask:
    """What the list is of: a tier or better, a taste, a channel she agreed to (marketing)."""

    tier: str | None = None
    metal: str | None = None
    stone: str | None = None
    designer: str | None = None
    channel: str | None = None

    def as_dict(self) -> dict[str, str]:
        return {k: v for k, v in self.__dict__.items() if v}


def ask_of(raw: Any, *, query: bool = False) -> Ask:
    """What a list is asked for (a query string's or a body's fields, every problem at once;
    the passphrase and the register travel beside it)."""
    f = Form(raw, allowed=("tier", "metal", "stone", "designer", "channel", "passphrase",
                           "register"), query=query)
    ask = Ask(tier=f.choice("tier", TIERS[1:], vocabulary="client_tier", lower=False),
              metal=f.text("metal", max_len=40) or None,
              stone=f.text("stone", max_len=40) or None,
              designer=f.text("designer", max_len=100) or None,
              channel=f.choice("channel", CHANNELS, vocabulary="channel", lower=False))
    f.done()
    return ask


class EventLists:
    def __init__(self, store: Store, tiers: Tiers | None) -> None:
        self.store, self.tiers = store, tiers

    async def select(self, ask: Ask) -> list[dict[str, Any]]:
        """The active clients the list holds (at most `MAX_LISTED`), by name: id, name,
        tier and, with a channel, her address on it. A tier means that tier or better."""
        names = self.store.clients.names
        tier_of: dict[str, str] = {}
        if self.tiers is not None:
            for tier in TIERS[1:]:
                for row in await self.tiers.book(tier, limit=10**6):
                    tier_of[row["client_id"]] = tier
        candidates = list(names.names())
        if ask.tier:
            wanted = set(TIERS[TIERS.index(ask.tier):])
            candidates = [c for c in candidates if tier_of.get(c, TIERS[0]) in wanted]
        today = datetime.now(self.store.words.tz).date()
        out = []
        for client_id in sorted(candidates, key=lambda c: (names.name_of(c) or "").casefold()):
            profile = (await self.store.clients.get(client_id))["profile"]
            if profile is None or not _tastes(profile, ask):
                continue
            row = {"client_id": client_id, "name": display_name(profile),
                   "tier": tier_of.get(client_id, TIERS[0]), "reach": ""}
            if ask.channel:
                if not may_contact(profile, ask.channel, "marketing", today):
                    continue
                row["reach"] = ", ".join(profile.get("emails") if ask.channel == "email"
                                         else profile.get("phones") or [])
            out.append(row)
            if len(out) >= MAX_LISTED:
                break
        return out

    async def export(self, ask: Ask, passphrase: Any, *, actor: str) -> bytes:
        """The list as CSV, age-encrypted with `passphrase`; journaled first."""
        if not isinstance(passphrase, str) or len(passphrase.strip()) < MIN_PASSPHRASE:
            raise Invalid("the passphrase needs at least {min} characters: it opens the file",
                          "passphrase", min=MIN_PASSPHRASE)
        rows = await self.select(ask)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["client_id", "name", "tier", "reach"])
        writer.writerows([r["client_id"], r["name"], r["tier"], r["reach"]] for r in rows)
        await self.record(ask, len(rows), "csv", actor)
        return await asyncio.to_thread(pyrage.passphrase.encrypt, out.getvalue().encode(),
                                       passphrase)

    async def printed(self, ask: Ask) -> tuple[Document, int]:
        """The list as a document for the receipt printer, and how many it names (the
        caller journals it once printed: `record`)."""
        rows = await self.select(ask)
        w = self.store.words
        doc = Document(w._("Client list"))
        doc.add("title", doc.title, center=True)
        for key, value in ask.as_dict().items():
            doc.add("pair", w.field_label(key), value)
        doc.add("rule")
        for r in rows:
            doc.add("pair", r["name"], w.term("client_tier", r["tier"]))
            if r["reach"]:
                doc.add("small", r["reach"])
        return doc, len(rows)

    async def record(self, ask: Ask, count: int, how: str, actor: str) -> None:
        """A list left the hub (`how`: csv or print): a `client_list.exported` entry."""
        await self.store.ledger.transact(lambda tx: tx.append(
            "client_list.exported", "clients:lists", {"ask": ask.as_dict(), "count": count,
                                                      "how": how}, actor=actor))


def _tastes(profile: dict[str, Any], ask: Ask) -> bool:
    prefs = profile.get("preferences") or {}

    def has(topic: str, value: str | None) -> bool:
        return value is None or value.casefold() in {str(v).casefold()
                                                     for v in prefs.get(topic) or ()}
    return has("metals", ask.metal) and has("stones", ask.stone) and has("designers",
                                                                          ask.designer)
