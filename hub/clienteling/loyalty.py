"""Loyalty points: earned per amount spent, spent as a tender, taken back by a return. The
balance is a core account (`hub.core.accounts`, kind `loyalty`, owner `client:<id>`, unit
points), and every movement is made in the transaction of the sale, return or void it
belongs to (a `SaleExtension` of the core's sales), so a sale never exists without its points
and a replay never counts them twice (each movement names its sale or return).

`[loyalty]` holds the store's rules: how much is spent per point earned, what a point is worth
when spent, the fewest points spent at once, the most of a sale paid in points, and the perks
of each tier (an earning multiplier, in percent).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hub.config import Config, ConfigError
from hub.core.accounts import Accounts, Movement
from hub.core.errors import Refused
from hub.ledger.ledger import Tx
from hub.money import Money

TENDER = "loyalty"  # the tender type of points spent: its amount is money, a whole number of points


@dataclass(frozen=True)
class LoyaltyRules:
    """`[loyalty]` in loupe.toml (every key optional)."""

    enabled: bool = True
    spend_per_point: int = 100  # minor units spent per point earned: 1 point per 1.00
    point_value: int = 5        # minor units a point is worth when spent: 100 points = 5.00
    redeem_min: int = 100       # fewest points spent at once
    redeem_max_pct: int = 50    # at most this share of a sale paid in points
    tier_percent: Mapping[str, int] = field(default_factory=dict)  # vip = 200: twice the points

    def earned(self, amount: int, tier: str | None) -> int:
        """Points earned by `amount` (minor units) spent by a client of `tier`."""
        if amount <= 0:
            return 0
        return amount // self.spend_per_point * self.tier_percent.get(tier or "", 100) // 100


def loyalty_rules_of(config: Config) -> LoyaltyRules:
    section = config.section("loyalty")
    d = LoyaltyRules()
    percent = section.table("tier_percent")
    for tier, value in percent.items():
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1000:
            raise ConfigError(f"loyalty.tier_percent.{tier}: must be a whole percent from 0 to"
                              f" 1000, got {value!r}")
    rules = LoyaltyRules(
        enabled=section.flag("enabled", d.enabled),
        spend_per_point=section.whole("spend_per_point", d.spend_per_point, 1, 10**9),
        point_value=section.whole("point_value", d.point_value, 1, 10**6),
        redeem_min=section.whole("redeem_min", d.redeem_min, 1, 10**9),
        redeem_max_pct=section.whole("redeem_max_pct", d.redeem_max_pct, 1, 100),
        tier_percent=dict(percent))
    section.done()
    return rules


def account_of(client_id: str) -> str:
    return f"loyalty:{client_id}"


class Loyalty:
    """The points of every client, kept by the sales themselves (see the module)."""

    tenders = frozenset({TENDER})

    def __init__(self, accounts: Accounts, rules: LoyaltyRules, currency: str,
                 tier_in: Callable[[Tx, str], str | None] | None = None) -> None:
        self.accounts, self.rules, self.currency = accounts, rules, currency
        self.tier_in = tier_in  # her tier now, read in the sale's transaction

    def _movement(self, client_id: str, movement: str, points: int, ref: str) -> Movement:
        return Movement(account_of(client_id), "loyalty", f"client:{client_id}", "points",
                        movement, points, ref)

    # -- the sale's extension (hub.core.sales.SaleExtension) ---------------------------------

    def sold_in(self, tx: Tx, sale: dict[str, Any], actor: str) -> None:
        client_id = sale.get("client_id")
        spent = [t for t in sale["tenders"] if t["type"] == TENDER]
        if spent and not self.rules.enabled:
            raise Refused("loyalty_off", "this store does not take loyalty points")
        if spent and not client_id:
            raise Refused("loyalty_no_client", "points are spent by a client: attach her to"
                          " the sale first", field="tenders")
        if not client_id or not self.rules.enabled:
            return
        paid_in_points = 0
        for t in spent:
            points, value = self._points_of(t)
            if points < self.rules.redeem_min:
                raise Refused("loyalty_too_few", "at least {min} points are spent at once",
                              min=self.rules.redeem_min, field="tenders")
            paid_in_points += value
        if paid_in_points * 100 > sale["total"] * self.rules.redeem_max_pct:
            raise Refused("loyalty_too_much", "points may pay at most {pct}% of a sale:"
                          " {most} of this one", pct=self.rules.redeem_max_pct,
                          most=Money(sale["total"] * self.rules.redeem_max_pct // 100,
                                     self.currency), field="tenders")
        if paid_in_points:
            points = paid_in_points // self.rules.point_value
            balance = self.accounts.balance_in(tx, account_of(client_id))
            if points > balance:
                raise Refused("loyalty_short", "she has {balance} points, not {points}",
                              balance=balance, points=points, field="tenders")
            self.accounts.move_in(tx, self._movement(client_id, "applied", points,
                                                     sale["sale_id"]), actor=actor)
        tier = self.tier_in(tx, client_id) if self.tier_in else None
        earned = self.rules.earned(sale["total"] - paid_in_points, tier)
        if earned:
            self.accounts.move_in(tx, self._movement(client_id, "issued", earned,
                                                     sale["sale_id"]), actor=actor)

    def _points_of(self, tender: dict[str, Any]) -> tuple[int, int]:
        """The points a tender of points spends, and their worth (its amount must be that)."""
        value = self.rules.point_value
        if tender["amount"] % value:
            raise Refused("loyalty_value", "a point is worth {value}: {amount} is not a whole"
                          " number of points", value=Money(value, self.currency),
                          amount=Money(tender["amount"], self.currency), field="tenders")
        return tender["amount"] // value, tender["amount"]

    def returned_in(self, tx: Tx, sale: dict[str, Any], back: dict[str, Any],
                    actor: str) -> None:
        """A return (or a void: `back` is its payload) takes back the points its share of
        the sale earned, and gives back the points it refunds."""
        client_id = sale.get("client_id")
        if not client_id:
            return
        account = account_of(client_id)
        earned = self.accounts.moved_in(tx, account, "issued", sale["sale_id"])
        if earned and sale["total"]:
            share = earned * back["refund"] // sale["total"]
            taken = min(share, self.accounts.balance_in(tx, account))  # what is left of them
            if taken:
                self.accounts.move_in(tx, self._movement(client_id, "reversed", taken,
                                                         back["return_id"]), actor=actor)
        refunded = sum(t["amount"] for t in back["tenders"] if t["type"] == TENDER)
        if refunded:
            self.accounts.move_in(tx, self._movement(
                client_id, "refunded", refunded // self.rules.point_value, back["return_id"]),
                actor=actor)

    voided_in = returned_in

    def merged_in(self, tx: Tx, keep: str, gone: str, actor: str) -> None:
        """Two records of one client made one (`Clients.merge`): her points join."""
        points = self.accounts.balance_in(tx, account_of(gone))
        if points:
            ref = f"merge:{gone}"
            self.accounts.move_in(tx, self._movement(gone, "reversed", points, ref),
                                  actor=actor)
            self.accounts.move_in(tx, self._movement(keep, "issued", points, ref),
                                  actor=actor)

    # -- reads --------------------------------------------------------------------------------

    async def of(self, client_id: str) -> dict[str, Any]:
        """Her points: the balance, what they are worth, and the last movements."""
        account = account_of(client_id)
        balance = await self.accounts.balance(account)
        return {"client_id": client_id, "points": balance,
                "worth": balance * self.rules.point_value, "currency": self.currency,
                "movements": await self.accounts.movements(account, 20),
                "redeem_min": self.rules.redeem_min, "point_value": self.rules.point_value}
