"""The day's follow-ups: listed from what the books know (the client book's dates to
remember, kept in memory; the sales projection), and settled by a `followup.done` entry
each (`hub.clienteling.model`)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from hub.clienteling.rules import (
    OUTCOMES,
    Due,
    FollowUp,
    Rules,
    date_followups,
    purchase_followups,
    purchase_window,
)
from hub.core import fields
from hub.core.errors import NotFound, Refused
from hub.core.items import row_dicts
from hub.ledger.journal import Entry
from hub.ledger.ledger import Tx
from hub.store import Store


class FollowUps:
    """The store's follow-ups under its `Rules`."""

    def __init__(self, store: Store, rules: Rules) -> None:
        self.store, self.rules = store, rules

    def today(self) -> date:
        return datetime.now(self.store.words.tz).date()

    async def _candidates(self, today: date, client_id: str | None = None) -> list[FollowUp]:
        """Every follow-up within the listed horizon; only one client's with `client_id`."""
        first, last = purchase_window(today, self.rules)
        purchases = await self.store.sales.client_purchases_between(
            first.isoformat(), last.isoformat(), self.rules.after_purchase_min)
        names = self.store.clients.names
        if client_id is None:
            dated = names.dated()
        else:
            dated = [(client_id, names.dates_of(client_id))]
            purchases = [p for p in purchases if p["client_id"] == client_id]
        found = (date_followups(dated, today, self.rules)
                 + purchase_followups(purchases, today, self.rules))
        return [f for f in found if names.name_of(f.client_id)]  # an erased client has none

    async def day(self, today: date | None = None) -> dict[str, Any]:
        """Today's, the upcoming and the overdue follow-ups, each soonest due first, with
        the client's name; and those done in the last week, newest first."""
        today = today or self.today()
        candidates = await self._candidates(today)
        done = await self._done_since(today)
        lists: dict[str, list[dict[str, Any]]] = {d.value: [] for d in Due}
        for f in sorted(candidates, key=lambda f: (f.due, f.followup_id)):
            stands = f.stands(today, self.rules)
            if stands is not None and f.followup_id not in done:
                lists[stands.value].append(self._shown(f, today))
        since = (today - timedelta(days=7)).isoformat()
        recent = row_dicts(await self.store.ledger.fetch(
            "SELECT * FROM followup_outcomes WHERE ts >= ? ORDER BY seq DESC LIMIT 200",
            (since,)))
        for row in recent:
            row["client_name"] = self.store.clients.names.name_of(row["client_id"])
        return {"day": today.isoformat(), **lists, "done": recent}

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
        followup_id = fields.text(followup_id, "followup_id", required=True, max_len=200)
        outcome = fields.choice(outcome, "outcome", OUTCOMES, required=True,
                                vocabulary="followup_outcome")
        today = today or self.today()
        # The id names its client (`date:<client>:...`, `purchase:<client>:...`): only her
        # follow-ups are looked at, not the whole book's.
        client_id = (followup_id or "").split(":")[1] if ":" in (followup_id or "") else ""
        listed = {f.followup_id: f for f in await self._candidates(today, client_id)
                  if f.stands(today, self.rules) is not None}
        found = listed.get(followup_id or "")
        if found is None:
            raise NotFound("no follow-up “{followup_id}” is listed today",
                           followup_id=followup_id)

        def command(tx: Tx) -> Entry:
            if tx.one("SELECT 1 FROM followup_outcomes WHERE followup_id = ?",
                      (found.followup_id,)) is not None:
                raise Refused("followup_done", "this follow-up was done already")
            return tx.append("followup.done", f"client:{found.client_id}",
                             {"followup_id": found.followup_id, "client_id": found.client_id,
                              "kind": found.kind, "about": found.about, "outcome": outcome},
                             actor=actor)

        entry = await self.store.ledger.transact(command)
        return {"seq": entry.seq, **self._shown(found, today), "outcome": outcome}

    async def log_of(self, client_id: str) -> list[dict[str, Any]]:
        """A client's follow-ups done, newest first (her contact log, as far as it goes)."""
        return row_dicts(await self.store.ledger.fetch(
            "SELECT * FROM followup_outcomes WHERE client_id = ? ORDER BY seq DESC LIMIT 100",
            (client_id,)))
