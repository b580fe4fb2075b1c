"""Client tiers (prospect, new, loyal, VIP) from what her purchases add up to, and the
rising clients.

**Thresholds** are `[tiers]` in loupe.toml (head office sets them later), one table per tier
above the prospect, each naming what a client needs on every measure at once: `lifetime`
and `last_12_months` spend (minor units of the store's currency, net of returns, as the
headline counts them) and `visits` (her sales not voided nor wholly returned)::

    [tiers]
    new = { visits = 1 }
    loyal = { lifetime = 500000, visits = 2 }
    vip = { lifetime = 2500000, last_12_months = 500000, visits = 3 }

Her tier is the highest whose every threshold she meets; a higher tier must ask at least as
much as the one below on every measure and strictly more on one (otherwise it is refused at
start, naming the key), so meeting a tier means meeting every tier below it, and more spend
or more visits never lowers a tier.

**Changes** are `client.tier_changed` entries (client id, from, to, and why: the measures),
projected into `client_tiers` (opaque ids, no row: a prospect). The part follows the bus:
each sale, return or void of a client recomputes that client alone (`Sales.client_totals`),
one after another in one task, and journals only a change, so each change is journaled once.
At start, and each night (the last 12 months move on without a sale), every client with a
purchase or a tier is recomputed from one pass over the sales (`Sales.totals_by_client`).

**Rising clients**: she bought in the 12 months before the last 12 (at least one visit
then), and in the last 12 months she spent more, or came more often, than in those 12
months before. The windows are days in the store's time: the last 12 months are the sales
from this day a year ago on (as the headline counts them), the 12 before them the sales from
this day two years ago up to that day.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from hub.bus import Event, EventBus
from hub.config import Config, ConfigError, Section
from hub.core.errors import NotFound
from hub.ledger.journal import Entry
from hub.ledger.ledger import Tx
from hub.ledger.schema import Migration, Schema

if TYPE_CHECKING:  # the layer declares this area: no import of the store at load
    from hub.store import Store

log = logging.getLogger(__name__)

TIERS = ("prospect", "new", "loyal", "vip")  # lowest first
MEASURES = ("lifetime", "last_12_months", "visits")
ACTOR = "hub"

SCHEMA = Schema("tiers", (Migration(1, """
CREATE TABLE client_tiers (
    client_id TEXT PRIMARY KEY,
    tier      TEXT NOT NULL,            -- prospect | new | loyal | vip
    seq       INTEGER NOT NULL,         -- the client.tier_changed entry
    ts        TEXT NOT NULL
);
CREATE INDEX client_tiers_tier ON client_tiers(tier, client_id);
"""),), projections=("client_tiers",))


def _on_changed(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute("INSERT INTO client_tiers (client_id, tier, seq, ts) VALUES (?,?,?,?)"
               " ON CONFLICT(client_id) DO UPDATE SET tier = excluded.tier,"
               " seq = excluded.seq, ts = excluded.ts",
               (p["client_id"], p["to"], entry.seq, entry.ts))


def _on_merged(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    """A merged client has no tier of her own: the kept client's is recomputed."""
    assert p is not None
    tx.execute("DELETE FROM client_tiers WHERE client_id = ?", (p["merged_id"],))


PROJECTIONS = {"client.tier_changed": _on_changed, "client.merged": _on_merged}


# -- the rules (pure) ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Measures:
    """What a client's purchases add up to."""

    lifetime: int = 0
    last_12_months: int = 0
    visits: int = 0


@dataclass(frozen=True)
class Threshold:
    """What a tier asks, on every measure at once."""

    lifetime: int = 0
    last_12_months: int = 0
    visits: int = 0

    def met_by(self, m: Measures) -> bool:
        return (m.lifetime >= self.lifetime and m.last_12_months >= self.last_12_months
                and m.visits >= self.visits)


DEFAULT_THRESHOLDS = {
    "new": Threshold(visits=1),
    "loyal": Threshold(lifetime=500_000, visits=2),
    "vip": Threshold(lifetime=2_500_000, last_12_months=500_000, visits=3),
}


@dataclass(frozen=True)
class TierRules:
    """The thresholds of each tier above the prospect, lowest first."""

    thresholds: tuple[tuple[str, Threshold], ...] = tuple(DEFAULT_THRESHOLDS.items())

    def tier_of(self, m: Measures) -> str:
        found = TIERS[0]
        for name, threshold in self.thresholds:
            if threshold.met_by(m):
                found = name
        return found


def rank(tier: str) -> int:
    return TIERS.index(tier)


def check_increasing(thresholds: Iterable[tuple[str, Threshold]]) -> None:
    """Each tier asks at least as much as the one below on every measure, and strictly
    more on one (the prospect below them all asks nothing); a ConfigError names the key."""
    lower_name, lower = TIERS[0], Threshold()
    for name, threshold in thresholds:
        for key in MEASURES:
            mine, below = getattr(threshold, key), getattr(lower, key)
            if mine < below:
                raise ConfigError(f"tiers.{name}.{key}: must be at least tiers.{lower_name}"
                                  f".{key} ({below}), got {mine}: a higher tier asks at"
                                  " least as much as the one below")
        if threshold == lower:
            raise ConfigError(f"tiers.{name}: asks no more than"
                              f" {'nothing' if lower_name == TIERS[0] else 'tiers.' + lower_name}"
                              f": it must ask more on one of {', '.join(MEASURES)}")
        lower_name, lower = name, threshold


def tier_rules_of(config: Config, hq: dict[str, Any] | None = None) -> TierRules:
    """From `[tiers]` (every tier optional: its defaults), with what head office set
    (`hq`) over it; a problem names `tiers.<key>`."""
    section = config.section("tiers", hq)
    found = []
    for name in TIERS[1:]:
        d = DEFAULT_THRESHOLDS[name]
        if section.has(name):
            table = Section(f"tiers.{name}", section.table(name))
            threshold = Threshold(
                lifetime=table.whole("lifetime", 0, 0, 10**12),
                last_12_months=table.whole("last_12_months", 0, 0, 10**12),
                visits=table.whole("visits", 0, 0, 10**6))
            table.done()
        else:
            threshold = d
        found.append((name, threshold))
    section.done()
    check_increasing(found)
    return TierRules(tuple(found))


@dataclass(frozen=True)
class Windows:
    """Her spend (net of returns) and visits in the last 12 months and the 12 before."""

    recent: int = 0
    recent_visits: int = 0
    earlier: int = 0
    earlier_visits: int = 0


def is_rising(w: Windows) -> bool:
    """A client of the year before who spent more, or came more often, this year."""
    return w.earlier_visits >= 1 and (w.recent > w.earlier or w.recent_visits > w.earlier_visits)


def windows_of(row: dict[str, int]) -> Windows:
    return Windows(row["recent"], row["recent_visits"], row["earlier"], row["earlier_visits"])


def _measures(row: dict[str, int]) -> Measures:
    return Measures(row["lifetime"], row["recent"], row["visits"])


# -- the service --------------------------------------------------------------------------------

class Tiers:
    """Each client's tier, kept as her purchases change, and the book browsed by tier."""

    def __init__(self, store: Store, rules: TierRules, bus: EventBus | None = None) -> None:
        self.store, self.rules = store, rules
        self.bus = bus or store.bus
        self._queue: asyncio.Queue[tuple[str, str | None]] = asyncio.Queue()
        self._pending: set[tuple[str, str | None]] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._unlisten: list[Any] = []
        self._heard_seq = 0  # the last entry heard on the bus
        self._heard = asyncio.Event()

    def today(self) -> date:
        return datetime.now(self.store.words.tz).date()

    def _cuts(self, today: date | None = None) -> tuple[str, str]:
        """The first days of the last 12 months (as the headline counts them) and of the 12
        months before them."""
        today = today or self.today()
        return ((today - timedelta(days=365)).isoformat(),
                (today - timedelta(days=730)).isoformat())

    # -- following the books ----------------------------------------------------------------

    async def start(self) -> None:
        """Recompute the book once (in the task), then follow every sale, return and void."""
        self._unlisten = [self.bus.listen("journal.sale.completed", self._on_sale),
                          self.bus.listen("journal.sale.returned", self._on_return),
                          self.bus.listen("journal.sale.voided", self._on_return),
                          self.bus.listen("journal.client.merged", self._on_sale),
                          self.bus.listen("books.rebuilt", self._on_rebuilt),
                          self.bus.listen("journal.*", self._on_entry)]
        self._heard_seq = self.store.ledger.seq
        self._ask(("all", None))
        self._tasks = [asyncio.create_task(self._work(), name="tiers"),
                       asyncio.create_task(self._nightly(), name="tiers-nightly")]

    async def stop(self) -> None:
        for unlisten in self._unlisten:
            unlisten()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def settled(self) -> None:
        """Once every entry committed so far has been heard, and every sale, return and void
        among them followed (the bus hears of a commit just after its caller does)."""
        while self._heard_seq < self.store.ledger.seq:
            self._heard.clear()
            await self._heard.wait()
        await self._queue.join()

    def _on_entry(self, event: Event) -> None:
        self._heard_seq = max(self._heard_seq, event.data.get("seq") or 0)
        self._heard.set()

    def _ask(self, job: tuple[str, str | None]) -> None:
        if job not in self._pending:
            self._pending.add(job)
            self._queue.put_nowait(job)

    def _on_sale(self, event: Event) -> None:
        client_id = (event.data.get("payload") or {}).get("client_id")
        if client_id:
            self._ask(("client", client_id))

    def _on_return(self, event: Event) -> None:
        sale_id = (event.data.get("payload") or {}).get("sale_id")
        if sale_id:
            self._ask(("sale", sale_id))

    def _on_rebuilt(self, event: Event) -> None:
        self._ask(("all", None))

    def set_rules(self, rules: TierRules) -> None:
        """New thresholds (head office set them): every client is recomputed under them."""
        if rules != self.rules:
            self.rules = rules
            self._ask(("all", None))

    async def _work(self) -> None:
        while True:
            job = await self._queue.get()
            self._pending.discard(job)
            try:
                kind, ref = job
                if kind == "all":
                    await self.recompute_all()
                elif kind == "sale":
                    sale = await self.store.sales.get(ref or "")
                    if sale.get("client_id"):
                        await self.recompute(sale["client_id"])
                elif ref:
                    await self.recompute(ref)
            except asyncio.CancelledError:
                raise
            except NotFound:
                pass
            except Exception:  # one client's trouble must not stop the others'
                log.exception("tier recompute failed", extra={"job": job[0]})
            finally:
                self._queue.task_done()

    async def _nightly(self) -> None:
        """The last 12 months move on each night: the whole book again, past midnight."""
        while True:
            now = datetime.now(self.store.words.tz)
            tomorrow = datetime.combine(now.date() + timedelta(days=1), time(0, 5),
                                        tzinfo=self.store.words.tz)
            await asyncio.sleep(max(60.0, (tomorrow - now).total_seconds()))
            self._ask(("all", None))

    # -- recomputing ----------------------------------------------------------------------

    async def measures(self, client_id: str, today: date | None = None) -> Measures:
        since, _ = self._cuts(today)
        totals = await self.store.sales.client_totals(client_id, since)
        return Measures(totals["lifetime"], totals["last_12_months"], totals["purchases"])

    def _change_in(self, tx: Tx, client_id: str, tier: str,
                   m: Measures) -> Entry | None:
        row = tx.one("SELECT tier FROM client_tiers WHERE client_id = ?", (client_id,))
        was = row["tier"] if row else TIERS[0]
        if was == tier:
            return None
        return tx.append("client.tier_changed", f"client:{client_id}", {
            "client_id": client_id, "from": was, "to": tier,
            "why": {"lifetime": m.lifetime, "last_12_months": m.last_12_months,
                    "visits": m.visits}}, actor=ACTOR)

    async def recompute(self, client_id: str, today: date | None = None) -> str | None:
        """Her tier from her purchases now; journaled when it changed (the new tier)."""
        if self.store.clients.names.name_of(client_id) is None:
            return None  # erased (or never here): her tier stays as it was
        m = await self.measures(client_id, today)
        tier = self.rules.tier_of(m)
        entry = await self.store.ledger.transact(
            lambda tx: self._change_in(tx, client_id, tier, m))
        return tier if entry is not None else None

    async def recompute_all(self, today: date | None = None) -> int:
        """Every client with a purchase or a tier; returns how many changed tier."""
        since, before = self._cuts(today)
        totals = await self.store.sales.totals_by_client(since, before)
        current = {r["client_id"]: r["tier"] for r in await self.store.ledger.fetch(
            "SELECT client_id, tier FROM client_tiers")}
        names = self.store.clients.names
        changes = []
        for client_id in sorted(set(totals) | set(current)):
            if names.name_of(client_id) is None:
                continue
            row = totals.get(client_id)
            m = _measures(row) if row else Measures()
            tier = self.rules.tier_of(m)
            if tier != current.get(client_id, TIERS[0]):
                changes.append((client_id, tier, m))
        done = 0
        for i in range(0, len(changes), 500):
            batch = changes[i:i + 500]
            done += await self.store.ledger.transact(lambda tx, batch=batch: sum(
                self._change_in(tx, c, t, m) is not None for c, t, m in batch))
        return done

    # -- reads ----------------------------------------------------------------------------

    def tier_in(self, tx: Tx, client_id: str) -> str:
        """Her tier now, inside a transaction (a sale's loyalty points follow it)."""
        row = tx.one("SELECT tier FROM client_tiers WHERE client_id = ?", (client_id,))
        return row["tier"] if row else TIERS[0]

    async def of(self, client_id: str) -> dict[str, Any]:
        """Her tier and since when (a client with no tier yet is a prospect)."""
        row = await self.store.ledger.fetch_one(
            "SELECT tier, seq, ts FROM client_tiers WHERE client_id = ?", (client_id,))
        if row is None:
            return {"tier": TIERS[0], "since": None}
        return {"tier": row["tier"], "since": row["ts"]}

    async def counts(self) -> dict[str, int]:
        """How many clients of the book are in each tier (prospects: all the others)."""
        names = self.store.clients.names
        rows = await self.store.ledger.fetch("SELECT client_id, tier FROM client_tiers")
        out = dict.fromkeys(TIERS, 0)
        for r in rows:
            if names.name_of(r["client_id"]) is not None and r["tier"] != TIERS[0]:
                out[r["tier"]] = out.get(r["tier"], 0) + 1
        out[TIERS[0]] = max(0, len(names) - sum(out[t] for t in TIERS[1:]))
        return out

    async def book(self, tier: str, limit: int = 200) -> list[dict[str, Any]]:
        """The clients of a tier above the prospect, biggest lifetime first: id, name,
        lifetime, last 12 months, visits, and since when in the tier."""
        rows = await self.store.ledger.fetch(
            "SELECT client_id, ts FROM client_tiers WHERE tier = ?", (tier,))
        names = self.store.clients.names
        since = {r["client_id"]: r["ts"] for r in rows if names.name_of(r["client_id"])}
        cut, before = self._cuts()
        totals = await self.store.sales.totals_by_client(cut, before, since)
        out = [{"client_id": cid, "name": names.name_of(cid), "since": ts,
                "lifetime": totals.get(cid, {}).get("lifetime", 0),
                "last_12_months": totals.get(cid, {}).get("recent", 0),
                "visits": totals.get(cid, {}).get("visits", 0)} for cid, ts in since.items()]
        out.sort(key=lambda c: (-c["lifetime"], c["name"] or "", c["client_id"]))
        return out[:limit]

    async def rising(self, today: date | None = None, limit: int = 200) -> list[dict[str, Any]]:
        """The rising clients (see the module), the biggest growth in spend first."""
        since, before = self._cuts(today)
        totals = await self.store.sales.totals_by_client(since, before)
        names = self.store.clients.names
        tiers = {r["client_id"]: r["tier"] for r in await self.store.ledger.fetch(
            "SELECT client_id, tier FROM client_tiers")}
        out = []
        for client_id, row in totals.items():
            name = names.name_of(client_id)
            if name is None or not is_rising(windows_of(row)):
                continue
            out.append({"client_id": client_id, "name": name,
                        "tier": tiers.get(client_id, TIERS[0]), **row,
                        "growth": row["recent"] - row["earlier"]})
        out.sort(key=lambda c: (-c["growth"], -c["recent_visits"], c["name"], c["client_id"]))
        return out[:limit]

    async def export_section(self, client_id: str) -> tuple[str, list[dict[str, Any]]]:
        """Her tier and since when, for the export of her own data."""
        return "", [await self.of(client_id)]
