"""The clients report: the book in aggregates, read from projections only.

- **Tiers now** (`client_tiers`, the clienteling layer's; every active client without a row
  is a prospect) and **their movement** over a range of the store's days: per client, her
  tier before her first change in the range against her tier after the last
  (`report_client_moves`, hub/reports/clients_book.py): up, down, and from which to which.
- **Lifetime value**: what each active client's purchases add up to, net of returns (as her
  tier counts it, `Sales.totals_by_client`), for the clients who bought (at least one sale
  neither voided nor wholly returned): how many and how much in bands of value, the average,
  and the share of all their spend that the top 10 % of them (by value) brought.
- **New clients** of the range (`report_clients`: the hour each joined).
- **Rising clients**: as the tiers define them (`hub.clienteling.tiers.is_rising`): a client
  of the year before the last 12 months who, in those 12 months, spent more or came more
  often. Counted today, whatever the range.
- **Lapsed VIPs**: clients of the top tier with no purchase, and no appointment kept or
  booked, in the last six months. Counted today, whatever the range.
- **Consent per channel** (`report_client_consent`): of the active clients, how many said
  yes to marketing on each channel, how many no, and the share who said yes.

Erased and merged-away clients never count: only `clients.status = 'active'` does, and the
report's own tables drop them. Money in minor units of the store's currency. The lists
with names (`named`) are for a staff screen only; nothing here writes them anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from hub.clienteling.appointments import FREE
from hub.clienteling.tiers import TIERS, is_rising, rank, windows_of
from hub.core.clients import CHANNELS
from hub.ledger.ledger import Tx
from hub.money import minor_units, round_half_up_div
from hub.reports.sales import ask

if TYPE_CHECKING:  # the report reads the store it is given; no import of it at load
    from hub.store import Store

TOP_TIER = TIERS[-1]
LAPSED_MONTHS = 6
TOP_PERCENT = 10
# Bands of lifetime value, in whole units of the store's currency: (from, up to; None: no
# upper end), as a jeweler sorts her book.
VALUE_BANDS: tuple[tuple[int, int | None], ...] = (
    (0, 1_000), (1_000, 5_000), (5_000, 25_000), (25_000, 100_000), (100_000, None))
NAMED_LIMIT = 200


@dataclass(frozen=True)
class Range:
    """A checked range of the store's days, both included."""

    first: date
    last: date


def ask_clients(query: dict[str, str], today: date) -> Range:
    """`from` and `to` (YYYY-MM-DD; the last 30 days by default), checked as the sales
    report checks them: a reversed or absurd range is refused in a sentence."""
    asked = ask({k: query[k] for k in ("from", "to") if k in query}, today)
    return Range(asked.first, asked.last)


def months_before(day: date, months: int) -> date:
    """The same day `months` months before (the month's last day when it has no such day)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("every month has 28 days")


class ClientsReport:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.ledger = store.ledger
        self.zone = ZoneInfo(store.config.timezone)
        self.currency = store.config.currency

    def today(self) -> date:
        return datetime.now(self.zone).date()

    def _utc(self, day: date) -> datetime:
        return datetime.combine(day, time(), self.zone).astimezone(UTC)

    def _hours(self, first: date, last: date) -> tuple[str, str]:
        end = self._utc(last + timedelta(days=1)) - timedelta(hours=1)
        return self._utc(first).strftime("%Y-%m-%dT%H"), end.strftime("%Y-%m-%dT%H")

    def _lapsed_since(self, today: date) -> str:
        return self._utc(months_before(today, LAPSED_MONTHS)).strftime("%Y-%m-%dT%H:%M:%S")

    async def _totals(self, today: date) -> dict[str, dict[str, int]]:
        # The windows of the tiers (`Tiers._cuts`): the last 12 months, the 12 before.
        return await self.store.sales.totals_by_client(
            (today - timedelta(days=365)).isoformat(), (today - timedelta(days=730)).isoformat())

    async def report(self, asked: Range, today: date | None = None) -> dict[str, Any]:
        """The aggregates (see the module), no name and no client id in them::

            {"from", "to", "today", "lapsed_since": ISO days, "currency": "EUR",
             "active": clients in the book,
             "tiers": [{"tier", "clients"}] (lowest first, prospects included),
             "movement": {"up", "down", "moves": [{"from", "to", "clients"}]},
             "new_clients", "rising", "lapsed_vips": counts,
             "lifetime": {"clients", "value", "average", "top_clients", "top_value",
                          "top_share_bp" (None: no spend), "bands": [{"from", "to"
                          (None: no upper end), "clients", "value"}]},
             "consent": [{"channel", "yes", "no", "share_bp"}]}"""
        today = today or self.today()
        totals = await self._totals(today)
        lo, hi = self._hours(asked.first, asked.last)
        since = self._lapsed_since(today)

        def read(tx: Tx) -> tuple[set[str], dict[str, Any]]:
            active = _active(tx)
            return active, {
                "active": len(active),
                "tiers": [{"tier": t, "clients": n} for t, n in _tiers(tx, active).items()],
                "movement": _movement(tx, lo, hi),
                "new_clients": tx.one(
                    "SELECT COUNT(*) AS n FROM report_clients r JOIN clients c USING"
                    " (client_id) WHERE c.status = 'active' AND r.joined BETWEEN ? AND ?",
                    (lo, hi))["n"],
                "lapsed_vips": len(_lapsed(tx, since)),
                "consent": _consent(tx, len(active))}

        active, out = await self.ledger.read(read)
        mine = {cid: row for cid, row in totals.items() if cid in active}
        return {"from": asked.first.isoformat(), "to": asked.last.isoformat(),
                "today": today.isoformat(),
                "lapsed_since": months_before(today, LAPSED_MONTHS).isoformat(),
                "currency": self.currency, **out,
                "lifetime": _lifetime(mine, self.currency),
                "rising": sum(is_rising(windows_of(r)) for r in mine.values())}

    async def named(self, today: date | None = None, limit: int = NAMED_LIMIT
                    ) -> dict[str, list[dict[str, Any]]]:
        """For a staff screen only: the lapsed VIPs (longest away first) and the rising
        clients (the biggest growth first), each with her id, name and figures."""
        today = today or self.today()
        totals = await self._totals(today)
        since = self._lapsed_since(today)

        def read(tx: Tx) -> tuple[set[str], list[dict[str, Any]], dict[str, str]]:
            tiers = {r["client_id"]: r["tier"] for r in tx.all(
                "SELECT client_id, tier FROM client_tiers")}
            return _active(tx), _lapsed(tx, since), tiers

        active, lapsed, tiers = await self.ledger.read(read)
        names = self.store.clients.names
        lapsed_out = [{**row, "name": name,
                       "lifetime": totals.get(row["client_id"], {}).get("lifetime", 0)}
                      for row in lapsed if (name := names.name_of(row["client_id"]))]
        lapsed_out.sort(key=lambda c: (c["last_purchase"] or "", -c["lifetime"], c["name"]))
        rising = [{"client_id": cid, "name": name, "tier": tiers.get(cid, TIERS[0]), **row,
                   "growth": row["recent"] - row["earlier"]}
                  for cid, row in totals.items()
                  if cid in active and is_rising(windows_of(row))
                  and (name := names.name_of(cid))]
        rising.sort(key=lambda c: (-c["growth"], -c["recent_visits"], c["name"], c["client_id"]))
        return {"lapsed_vips": lapsed_out[:limit], "rising": rising[:limit]}


async def clients_glance(store: Store, today: date | None = None) -> dict[str, Any]:
    """What the dashboard shows of the clients, counts only (no name, no id)::

        {"lapsed_vips": int,   # top-tier clients with no purchase nor appointment in 6 months
         "rising": int,        # rising clients today (see the module)
         "new_this_month": int,  # clients who joined from the 1st of this month to `today`
         "active": int,        # active clients in the book
         "tiers": [{"tier": "prospect" | "new" | "loyal" | "vip", "clients": int}],
         "consent": [{"channel": "email" | ..., "yes": int, "no": int, "share_bp": int}],
         "currency": "EUR", "month_from": ISO day, "today": ISO day}

    `today`: the store's day (its time zone) unless given."""
    report = ClientsReport(store)
    today = today or report.today()
    out = await report.report(Range(today.replace(day=1), today), today)
    return {"lapsed_vips": out["lapsed_vips"], "rising": out["rising"],
            "new_this_month": out["new_clients"], "active": out["active"],
            "tiers": out["tiers"], "consent": out["consent"], "currency": out["currency"],
            "month_from": out["from"], "today": out["today"]}


# -- the reads (inside one transaction) -------------------------------------------------------

def _active(tx: Tx) -> set[str]:
    return {r["client_id"] for r in tx.all(
        "SELECT client_id FROM clients WHERE status = 'active'")}


def _tiers(tx: Tx, active: set[str]) -> dict[str, int]:
    out = dict.fromkeys(TIERS, 0)
    for r in tx.all("SELECT t.tier, COUNT(*) AS n FROM client_tiers t JOIN clients c USING"
                    " (client_id) WHERE c.status = 'active' GROUP BY t.tier"):
        if r["tier"] in out and r["tier"] != TIERS[0]:
            out[r["tier"]] += r["n"]
    out[TIERS[0]] = max(0, len(active) - sum(out[t] for t in TIERS[1:]))
    return out


def _movement(tx: Tx, lo: str, hi: str) -> dict[str, Any]:
    """Per client, her tier before her first change of the range against her tier after
    its last: a client who went up and came back down did not move."""
    spans: dict[str, list[str]] = {}
    for r in tx.all("SELECT m.client_id, m.from_tier, m.to_tier FROM report_client_moves m"
                    " JOIN clients c USING (client_id) WHERE c.status = 'active'"
                    " AND m.hour BETWEEN ? AND ? ORDER BY m.seq", (lo, hi)):
        span = spans.setdefault(r["client_id"], [r["from_tier"], r["to_tier"]])
        span[1] = r["to_tier"]
    pairs: dict[tuple[str, str], int] = {}
    for was, now in spans.values():
        if was != now:
            pairs[(was, now)] = pairs.get((was, now), 0) + 1
    moves = sorted(({"from": a, "to": b, "clients": n} for (a, b), n in pairs.items()),
                   key=lambda m: (-rank(m["to"]), -rank(m["from"])))
    return {"up": sum(m["clients"] for m in moves if rank(m["to"]) > rank(m["from"])),
            "down": sum(m["clients"] for m in moves if rank(m["to"]) < rank(m["from"])),
            "moves": moves}


def _lapsed(tx: Tx, since: str) -> list[dict[str, Any]]:
    """The active top-tier clients with no sale (voided ones aside) and no appointment kept
    or booked (cancelled and missed ones aside) from `since` on; her last of each."""
    free = ",".join("?" * len(FREE))
    rows = tx.all(
        "SELECT t.client_id,"
        " (SELECT MAX(s.ts) FROM sales s WHERE s.client_id = t.client_id"
        "  AND s.status != 'voided') AS last_purchase,"
        f" (SELECT MAX(a.start_ts) FROM appointments a WHERE a.client_id = t.client_id"
        f"  AND a.status NOT IN ({free})) AS last_appointment"
        " FROM client_tiers t JOIN clients c USING (client_id)"
        " WHERE t.tier = ? AND c.status = 'active'", (*FREE, TOP_TIER))
    return [{"client_id": r["client_id"], "last_purchase": r["last_purchase"],
             "last_appointment": r["last_appointment"]} for r in rows
            if (r["last_purchase"] or "") < since and (r["last_appointment"] or "") < since]


def _consent(tx: Tx, active: int) -> list[dict[str, Any]]:
    said = {(r["channel"], r["marketing"]): r["n"] for r in tx.all(
        "SELECT k.channel, k.marketing, COUNT(*) AS n FROM report_client_consent k JOIN"
        " clients c USING (client_id) WHERE c.status = 'active' GROUP BY k.channel,"
        " k.marketing")}
    return [{"channel": ch, "yes": said.get((ch, 1), 0), "no": said.get((ch, 0), 0),
             "share_bp": said.get((ch, 1), 0) * 10_000 // active if active else 0}
            for ch in CHANNELS]


def _lifetime(totals: dict[str, dict[str, int]], currency: str) -> dict[str, Any]:
    """Lifetime value of the clients who bought (`totals`: the active clients' own)."""
    unit = 10 ** minor_units(currency)
    values = sorted((r["lifetime"] for r in totals.values() if r["visits"] >= 1),
                    reverse=True)
    value = sum(values)
    top = -(-len(values) * TOP_PERCENT // 100)  # rounded up: one client of nine is the top
    bands = []
    for low, high in VALUE_BANDS:
        inside = [v for v in values if v >= low * unit and (high is None or v < high * unit)
                  or (low == 0 and v < 0)]
        bands.append({"from": low * unit, "to": None if high is None else high * unit,
                      "clients": len(inside), "value": sum(inside)})
    return {"clients": len(values), "value": value,
            "average": round_half_up_div(value, len(values)) if values else 0,
            "top_clients": top, "top_value": sum(values[:top]),
            "top_share_bp": sum(values[:top]) * 10_000 // value if value > 0 else None,
            "bands": bands}
