"""Over any sequence of gift cards sold, spent, given back by returns and cancelled by voids,
what the books owe on gift cards is what was sold less what was spent and cancelled: card by
card (a model kept beside the real store), in total, and in the Z report's liabilities; no
card ever goes below zero, and a refused step changes nothing."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.core.errors import Refused
from hub.giftcards.cards import GiftCardSettings, account_of
from hub.giftcards.part import giftcards_of
from hub.store import Store, init_store

PRICE = 1_500  # a stock line: a polishing cloth
STEPS = st.lists(st.one_of(
    st.tuples(st.just("issue"), st.integers(1_000, 9_000)),
    st.tuples(st.just("redeem"), st.integers(0, 5), st.integers(1, 3)),
    st.tuples(st.just("return"), st.integers(0, 5)),
    st.tuples(st.just("void"), st.integers(0, 5)),
), min_size=1, max_size=14)


async def scenario(steps, root: Path) -> None:
    store = await Store.open(init_store(root / "s", "paris-01", "Maison", "EUR"))
    await store.items.receive_stock({"sku": "CLOTH", "description": "Polishing cloth",
                                     "unit_price": PRICE, "quantity": 1_000}, actor="t")
    model: dict[str, int] = {}  # what each card should hold
    card_sales: list[tuple[str, str]] = []  # (code, sale that sold it)
    spends: list[tuple[str, str, int]] = []  # (code, sale paid with it, amount)
    try:
        with giftcards_of(store, GiftCardSettings(1_000, 10_000, 0)) as cards:
            for step in steps:
                try:
                    if step[0] == "issue":
                        code = cards.new_code()
                        sale = await store.sales.complete(
                            register_id="R1", actor="t", tenders=[{"type": "cash",
                                                                   "amount": step[1]}],
                            lines=[{"service": f"giftcard:{code}", "unit_price": step[1]}])
                        model[code] = step[1]
                        card_sales.append((code, sale["sale_id"]))
                    elif step[0] == "redeem" and card_sales:
                        code = card_sales[step[1] % len(card_sales)][0]
                        due = PRICE * step[2]
                        take = min(model[code], due)
                        tenders = [{"type": "gift_card", "amount": take, "number": code}] \
                            if take else []
                        if due - take:
                            tenders.append({"type": "cash", "amount": due - take})
                        sale = await store.sales.complete(
                            register_id="R1", actor="t", tenders=tenders,
                            lines=[{"sku": "CLOTH", "quantity": step[2]}])
                        model[code] -= take
                        if take:
                            spends.append((code, sale["sale_id"], take))
                    elif step[0] == "return" and spends:
                        code, sale_id, take = spends.pop(step[1] % len(spends))
                        await store.sales.return_lines(sale_id, register_id="R1", actor="t",
                                                       reason="back")
                        model[code] += take
                    elif step[0] == "void" and card_sales:
                        code, sale_id = card_sales[step[1] % len(card_sales)]
                        before = store.ledger.seq
                        try:
                            await store.sales.void(sale_id, register_id="R1", actor="t",
                                                   reason="mistake")
                        except Refused:
                            assert store.ledger.seq == before  # spent, or voided already
                        else:
                            model[code] = 0
                except Refused as exc:
                    raise AssertionError(f"{step}: {exc}") from exc
                for code, expected in model.items():
                    assert await store.accounts.balance(account_of(code)) == expected
            report = (await store.closures.report())["totals"]
            owed = {r["kind"]: r["balance"] for r in report["accounts"]["liabilities"]}
            assert owed.get("gift_card", 0) == sum(model.values())
            section = report["giftcards"]
            assert section["outstanding"] == sum(model.values())
            assert (section["sold_total"] - section["redeemed"] + section["refunded"]
                    - section["cancelled"]) == sum(model.values())
            assert report["sales_total"] == report["gross"] - report["discounts"]
    finally:
        await store.close()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(STEPS)
def test_liabilities_are_sold_less_spent_and_cancelled(steps):
    with tempfile.TemporaryDirectory() as root:
        asyncio.run(scenario(steps, Path(root)))
