"""The day's follow-ups: listed from what the books know (the client book's dates to
remember, kept in memory; the sales projection), and settled by a `followup.done` entry
each (`hub.clienteling.model`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from typing import Any

from hub.clienteling.callsheet import ClientCall, call_sheet
from hub.clienteling.rules import (
    MARKETING,
    OUTCOMES,
    Due,
    FollowUp,
    Rules,
    cooling_off,
    date_days,
    date_followups,
    lapsed_followups,
    lapsed_window,
    purchase_followups,
    purchase_window,
)
from hub.core import fields
from hub.core.errors import Invalid, NotFound, Refused
from hub.core.items import row_dicts
from hub.documents import Document
from hub.ledger.journal import Entry
from hub.ledger.ledger import Tx
from hub.store import Store


def _not_done_in(tx: Tx, found: FollowUp) -> None:
    """Refuse to settle or put off a follow-up that was done already."""
    if tx.one("SELECT 1 FROM followup_outcomes WHERE followup_id = ?",
              (found.followup_id,)) is not None:
        raise Refused("followup_done", "this follow-up was done already")


# Another source of follow-ups (appointments done, wish-listed pieces...): the follow-ups
# due within the horizon of `today`, under the rules; only one client's when one is named.
Source = Callable[[date, Rules, str | None], Awaitable[list[FollowUp]]]


class FollowUps:
    """The store's follow-ups under its `Rules`: the core's books give the dates, purchases,
    bridal purchases and lapsed clients; other parts add their `sources`."""

    def __init__(self, store: Store, rules: Rules) -> None:
        self.store, self.rules = store, rules
        self.sources: list[Source] = []
        # A client's wish list in words, for the call sheet (the wish lists' part sets it).
        self.wishes_of: Callable[[str], Awaitable[list[str]]] | None = None

    def today(self) -> date:
        return datetime.now(self.store.words.tz).date()

    async def _candidates(self, today: date, client_id: str | None = None) -> list[FollowUp]:
        """Every follow-up within the listed horizon; only one client's with `client_id`.
        Each source is one indexed look-up by day (or the in-memory dates), not a scan."""
        rules, sales = self.rules, self.store.sales
        found: list[FollowUp] = []
        # One narrow window of days per lag (+180, +335...), not one wide one across them.
        for lag in rules.after_purchase_days:
            first, last = purchase_window(today, rules, (lag,))
            found += purchase_followups(await sales.client_purchases_between(
                first.isoformat(), last.isoformat(), rules.after_purchase_min), today, rules)
        for lag in rules.bridal_days:
            first, last = purchase_window(today, rules, (lag,))
            found += purchase_followups(await sales.bridal_purchases_between(
                first.isoformat(), last.isoformat(), rules.bridal_collections), today, rules,
                "bridal")
        if rules.lapsed_months:
            first, last = lapsed_window(today, rules)
            found += lapsed_followups(await sales.last_purchases_between(
                first.isoformat(), last.isoformat()), today, rules)
        names = self.store.clients.names
        if client_id is None:
            found += date_followups(names.dated_on(date_days(today, rules)), today, rules)
        else:
            found = [f for f in found if f.client_id == client_id]
            found += date_followups([(client_id, names.dates_of(client_id))], today, rules)
        for source in self.sources:
            found += await source(today, rules, client_id)
        # An erased client has none; one who asked not to be contacted has none for now.
        found = [f for f in {f.followup_id: f for f in found}.values()  # windows may meet
                 if names.name_of(f.client_id) and not names.quiet_on(f.client_id, today)]
        if rules.cooling_off_days and any(f.kind in MARKETING for f in found):
            since = today - timedelta(days=rules.cooling_off_days - 1)
            bought: dict[str, date] = {}
            for sale in await sales.client_purchases_between(since.isoformat(),
                                                             today.isoformat(), 0):
                bought[sale["client_id"]] = date.fromisoformat(sale["ts"][:10])
            found = [f for f in found
                     if not cooling_off(f, bought.get(f.client_id), today, rules)]
        return found

    async def _snoozed(self, today: date) -> dict[str, str]:
        """The follow-ups put off past today, and the day each comes back."""
        rows = await self.store.ledger.fetch(
            "SELECT followup_id, until FROM followup_snoozes WHERE until > ?",
            (today.isoformat(),))
        return {r["followup_id"]: r["until"] for r in rows}

    async def day(self, today: date | None = None, *,
                  associate: str | None = None) -> dict[str, Any]:
        """Today's, the upcoming and the overdue follow-ups, each soonest due first, with
        the client's name; and those done in the last week, newest first. With `associate`
        only her book's (the clients she is primary or second associate of)."""
        today = today or self.today()
        candidates = await self._candidates(today)
        if associate is not None:
            book = set(self.store.clients.names.book_of(associate))
            candidates = [f for f in candidates if f.client_id in book]
        done = await self._done_since(today)
        snoozed = await self._snoozed(today)
        lists: dict[str, list[dict[str, Any]]] = {d.value: [] for d in Due}
        lists["snoozed"] = []
        for f in sorted(candidates, key=lambda f: (f.due, f.followup_id)):
            stands = f.stands(today, self.rules)
            if stands is None or f.followup_id in done:
                continue
            if f.followup_id in snoozed:
                lists["snoozed"].append({**self._shown(f, today),
                                         "until": snoozed[f.followup_id]})
            else:
                lists[stands.value].append(self._shown(f, today))
        since = (today - timedelta(days=7)).isoformat()
        recent = row_dicts(await self.store.ledger.fetch(
            "SELECT * FROM followup_outcomes WHERE ts >= ? ORDER BY seq DESC LIMIT 200",
            (since,)))
        if associate is not None:
            recent = [r for r in recent if r["client_id"] in book]
        for row in recent:
            row["client_name"] = self.store.clients.names.name_of(row["client_id"])
        return {"day": today.isoformat(), "associate": associate, "tomorrow": (today + timedelta(days=1)).isoformat(),
                **lists, "done": recent}

    def _shown(self, f: FollowUp, today: date) -> dict[str, Any]:
        return {"followup_id": f.followup_id, "kind": f.kind, "client_id": f.client_id,
                "client_name": self.store.clients.names.name_of(f.client_id),
                "about": f.about, "on": f.on.isoformat(), "due": f.due.isoformat(),
                "days": (f.due - today).days, "days_to": (f.on - today).days,
                "amount": f.amount,
                "currency": self.store.config.currency}

    async def _done_since(self, today: date) -> set[str]:
        """The follow-ups done that may still be listed: one can be done from when it is
        upcoming, and stays listed until it drops off, so its outcome is at most that old
        (a day more for the store's time zone)."""
        back, _ = self.rules.horizon
        since = today - timedelta(days=back + self.rules.upcoming_days + 1)
        rows = await self.store.ledger.fetch(
            "SELECT followup_id FROM followup_outcomes WHERE ts >= ?", (since.isoformat(),))
        return {r["followup_id"] for r in rows}

    async def done(self, followup_id: Any, outcome: Any, *, actor: str,
                   today: date | None = None) -> dict[str, Any]:
        """Settle a listed follow-up (today's, upcoming or overdue) with how it went."""
        outcome = fields.choice(outcome, "outcome", OUTCOMES, required=True,
                                vocabulary="followup_outcome")
        today = today or self.today()
        found = await self._listed(followup_id, today)

        def command(tx: Tx) -> Entry:
            _not_done_in(tx, found)
            return tx.append("followup.done", f"client:{found.client_id}",
                             {"followup_id": found.followup_id, "client_id": found.client_id,
                              "kind": found.kind, "about": found.about, "outcome": outcome},
                             actor=actor)

        entry = await self.store.ledger.transact(command)
        return {"seq": entry.seq, **self._shown(found, today), "outcome": outcome}

    async def _listed(self, followup_id: Any, today: date) -> FollowUp:
        """The follow-up of that id listed today (today's, upcoming, overdue or snoozed)."""
        followup_id = fields.text(followup_id, "followup_id", required=True, max_len=200)
        # The id names its client (`date:<client>:...`, `purchase:<client>:...`): only her
        # follow-ups are looked at, not the whole book's.
        parts = (followup_id or "").split(":")
        client_id = parts[1] if len(parts) > 1 else ""
        for f in await self._candidates(today, client_id):
            if f.followup_id == followup_id and f.stands(today, self.rules) is not None:
                return f
        raise NotFound("no follow-up “{followup_id}” is listed today", followup_id=followup_id)

    async def snooze(self, followup_id: Any, until: Any, *, actor: str,
                     today: date | None = None) -> dict[str, Any]:
        """Put a listed follow-up off until a later day, at most its last listed day."""
        today = today or self.today()
        until_day = fields.day(until, "until")
        if until_day is None:
            raise Invalid("say until which day to put it off", "until")
        found = await self._listed(followup_id, today)
        last = found.due + timedelta(days=self.rules.open_days + self.rules.overdue_days - 1)
        if not today < date.fromisoformat(until_day) <= last:
            raise Invalid("a follow-up can be put off until a day from tomorrow to {last}",
                          "until", last=last.isoformat())

        def command(tx: Tx) -> Entry:
            _not_done_in(tx, found)
            return tx.append("followup.snoozed", f"client:{found.client_id}",
                             {"followup_id": found.followup_id, "client_id": found.client_id,
                              "until": until_day}, actor=actor)

        entry = await self.store.ledger.transact(command)
        return {"seq": entry.seq, **self._shown(found, today), "until": until_day}

    async def call_sheet(self, *, associate: str | None = None,
                         today: date | None = None) -> Document:
        """This week's calls (today's, the overdue and the coming days' follow-ups), one
        section per client in the order they are due (see `hub.clienteling.callsheet`)."""
        today = today or self.today()
        week = await self.day(today, associate=associate)
        by_client: dict[str, list[dict[str, Any]]] = {}
        for f in sorted(week["overdue"] + week["today"] + week["upcoming"],
                        key=lambda f: (f["due"], f["followup_id"])):
            by_client.setdefault(f["client_id"], []).append(f)
        calls = []
        for client_id, listed in by_client.items():
            client = await self.store.clients.get(client_id)
            if client["profile"] is None:
                continue
            purchases = [await self.store.sales.get(s["sale_id"])
                         for s in await self.store.sales.for_client(client_id, 3)]
            wishes = await self.wishes_of(client_id) if self.wishes_of else []
            calls.append(ClientCall(client_id, client["profile"], listed, purchases, wishes))
        staff = self.store.staff.get(associate) if associate else None
        return call_sheet(calls, self.store.words, store_name=self.store.config.store_name,
                          week=today.isoformat(), associate=staff.name if staff else None,
                          currency=self.store.config.currency)

    async def log_contact(self, client_id: Any, outcome: Any, note: Any, *,
                          actor: str) -> dict[str, Any]:
        """A call, visit or message outside the follow-ups, with a note (sealed: hers)."""
        outcome = fields.choice(outcome, "outcome", OUTCOMES, required=True,
                                vocabulary="followup_outcome")
        note = fields.text(note, "note", max_len=2000, multiline=True) or ""
        client = await self.store.clients.get(client_id)
        if client["profile"] is None:
            raise Refused("client_erased", "this client was erased: nothing more is logged")
        key_id = f"client:{client['client_id']}"
        entry = await self.store.ledger.transact(lambda tx: tx.append(
            "contact.logged", key_id, {"client_id": client["client_id"], "outcome": outcome,
                                       "note": note}, actor=actor, key_id=key_id))
        return {"seq": entry.seq, "client_id": client["client_id"], "outcome": outcome,
                "note": note, "ts": entry.ts, "actor": actor}

    async def log_section(self, client_id: str) -> tuple[str, list[dict[str, Any]]]:
        """Her contact log, for the export of her data."""
        return "", [{k: r[k] for k in ("ts", "outcome", "note", "followup_id", "actor") if k in r}
                    for r in await self.log_of(client_id)]

    async def log_of(self, client_id: str) -> list[dict[str, Any]]:
        """A client's contact log, newest first: the follow-ups done (what about) and the
        contacts logged (with their note, read from her sealed entries)."""
        done = row_dicts(await self.store.ledger.fetch(
            "SELECT * FROM followup_outcomes WHERE client_id = ? ORDER BY seq DESC LIMIT 100",
            (client_id,)))
        logged = row_dicts(await self.store.ledger.fetch(
            "SELECT * FROM contacts WHERE client_id = ? ORDER BY seq DESC LIMIT 100",
            (client_id,)))
        for row in logged:
            payload = await self.store.ledger.payload_at(row["seq"])
            row["note"] = (payload or {}).get("note") or ""
        return sorted(done + logged, key=lambda r: -r["seq"])[:100]
