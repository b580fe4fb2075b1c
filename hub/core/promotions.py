"""Head office's promotions, checked strictly and applied in the cart by the price function.

A `promotion` message carries a rule:

    {"percent_bp": 1000}  or  {"percent_off": 10}  or  {"amount_off": 5000}   (one of them)
    "category", "designer", "collection", "tier": a word or a list (all given must match)
    "exclusive": true (applies alone) | false (stacks, the default)
    "priority": 0-1000 (higher first), "cap_per_line", "cap_per_sale": amounts

within `starts` .. `ends` (days or moments, in the store's time; a bare `ends` day runs to
its end). On a line, the matching promotions are taken by priority (then id): when the first
is exclusive it applies alone, else every stackable one does (exclusive ones left out).
Percentages are of the line's gross, rounded half up to the minor unit; an amount off is per
piece; a line never goes below zero, each promotion's caps hold (per sale: in line order).
Everything here is pure: the same promotions, lines and moment give the same amounts.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, tzinfo
from typing import Any

from hub.core.errors import Invalid
from hub.core.fields import Form
from hub.core.prices import BP, moment
from hub.ledger.ledger import Tx
from hub.money import round_half_up_div

RULE_KEYS = ("percent_bp", "percent_off", "amount_off", "category", "designer", "collection",
             "tier", "exclusive", "priority", "cap_per_line", "cap_per_sale")
MATCHED = ("category", "designer", "collection", "tier")


def _words(value: Any, field: str) -> list[str] | None:
    if value is None:
        return None
    values = [value] if isinstance(value, str) else value
    if (not isinstance(values, list) or not values or len(values) > 50
            or not all(isinstance(v, str) and v.strip() and len(v) <= 120 for v in values)):
        raise Invalid("this is a word or a list of words", field)
    return sorted({v.strip() for v in values})


def validate_rule(rule: Any) -> dict[str, Any]:
    """A promotion's rule, every problem at once; normalised (percent as basis points,
    match lists sorted, defaults written) so the books keep exactly what applies."""
    f = Form(rule, "rule", allowed=RULE_KEYS)
    bp = f.whole("percent_bp", lo=1, hi=BP)
    pct = f.whole("percent_off", lo=1, hi=100)
    off = f.amount("amount_off")
    given = [x for x in (bp, pct, off) if x is not None]
    if len(given) != 1:
        f.problem(None, "a promotion takes a percentage or an amount off, one of them")
    if off == 0:
        f.problem("amount_off", "an amount off is more than zero")
    out: dict[str, Any] = {"percent_bp": bp if bp is not None else (pct * 100 if pct else None),
                           "amount_off": off}
    for key in MATCHED:
        out[key] = f.check(_words, f.get(key), f.path(key))
    out["exclusive"] = bool(f.boolean("exclusive"))
    out["priority"] = f.whole("priority", lo=0, hi=1000) or 0
    out["cap_per_line"] = f.amount("cap_per_line")
    out["cap_per_sale"] = f.amount("cap_per_sale")
    f.done()
    return out


def validate_promotion(body: dict[str, Any], tz: tzinfo = UTC) -> dict[str, Any]:
    """A whole `promotion` message body: its dates read in the store's time, ends after
    starts, the rule strict."""
    f = Form(body, allowed=("promotion_id", "name", "starts", "ends", "rule"))
    f.text("promotion_id", required=True, max_len=60)
    f.text("name", required=True, max_len=120)
    starts = f.text("starts", required=True, max_len=40)
    ends = f.text("ends", required=True, max_len=40)
    rule = f.check(validate_rule, f.get("rule"))
    f.done()
    try:
        begin, end = moment(starts or "", tz), moment(ends or "", tz, end_of_day=True)
    except ValueError:
        raise Invalid("a promotion's dates are days or moments, such as 2026-12-01",
                      "starts") from None
    if end < begin:
        raise Invalid("a promotion must end after it starts", "ends")
    return rule


def running_in(tx: Tx, at: datetime, tz: tzinfo) -> list[dict[str, Any]]:
    """The promotions HQ sent that run at `at`, by priority."""
    out = []
    for row in tx.all("SELECT * FROM hq_promotions ORDER BY promotion_id"):
        if moment(row["starts"], tz) <= at <= moment(row["ends"], tz, end_of_day=True):
            out.append({"promotion_id": row["promotion_id"], "name": row["name"],
                        "rule": {**_DEFAULTS, **json.loads(row["rule"])}})
    return out


_DEFAULTS = {"percent_bp": None, "amount_off": None, "category": None, "designer": None,
             "collection": None, "tier": None, "exclusive": False, "priority": 0,
             "cap_per_line": None, "cap_per_sale": None}


def _matches(rule: dict[str, Any], piece: dict[str, Any], tier: str | None) -> bool:
    for key in ("category", "designer", "collection"):
        wanted = rule.get(key)
        if wanted is not None:
            wanted = [wanted] if isinstance(wanted, str) else wanted
            if (piece.get(key) or "").casefold() not in {w.casefold() for w in wanted}:
                return False
    wanted = rule.get("tier")
    if wanted is not None:
        wanted = [wanted] if isinstance(wanted, str) else wanted
        if tier is None or tier.casefold() not in {w.casefold() for w in wanted}:
            return False
    return True


def apply(promotions: list[dict[str, Any]], lines: list[dict[str, Any]],
          tier: str | None) -> list[list[dict[str, Any]]]:
    """Each line's promotions [{promotion_id, name, amount}], for `lines` of {piece (its row,
    or None for a stock line or a service), gross, quantity}."""
    order = sorted(promotions, key=lambda p: (-p["rule"]["priority"], p["promotion_id"]))
    left_in_sale = {p["promotion_id"]: p["rule"].get("cap_per_sale") for p in order}
    out: list[list[dict[str, Any]]] = []
    for line in lines:
        piece, gross = line.get("piece"), line["gross"]
        taken: list[dict[str, Any]] = []
        if piece is not None and gross > 0:
            matching = [p for p in order if _matches(p["rule"], piece, tier)]
            if matching and matching[0]["rule"]["exclusive"]:
                matching = matching[:1]
            else:
                matching = [p for p in matching if not p["rule"]["exclusive"]]
            room = gross
            for promo in matching:
                rule = promo["rule"]
                # `percent_off`: whole percent, as messages kept from before had it.
                bp = rule.get("percent_bp") or (rule.get("percent_off") or 0) * 100
                if bp:
                    amount = round_half_up_div(gross * bp, BP)
                else:
                    amount = (rule.get("amount_off") or 0) * line["quantity"]
                if rule.get("cap_per_line") is not None:
                    amount = min(amount, rule["cap_per_line"])
                left = left_in_sale[promo["promotion_id"]]
                if left is not None:
                    amount = min(amount, left)
                amount = min(amount, room)
                if amount <= 0:
                    continue
                if left is not None:
                    left_in_sale[promo["promotion_id"]] = left - amount
                room -= amount
                taken.append({"promotion_id": promo["promotion_id"], "name": promo["name"],
                              "amount": amount})
        out.append(taken)
    return out
