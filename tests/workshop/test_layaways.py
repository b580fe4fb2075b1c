"""Layaways through their services on a real store: a piece set aside, paid in instalments
and sold to her with every payment applied; the held piece sold to no one else; payments
above the balance and a delivery with a balance due refused (nothing written); giving it up
by the store's policy; the sale voided (open again, held again) or returned (paid back);
overdue instalments raising follow-ups for her associate; the Z report's deposit lines; and
a Hypothesis state machine over open, pay, complete, cancel and void keeping the money
straight."""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from hub.clienteling.book import FollowUps
from hub.clienteling.rules import MARKETING, Due, Rules
from hub.config import ConfigError
from hub.core.errors import Invalid, NotFound, Refused
from hub.layers import LAYERS
from hub.ledger.ledger import dump_projections
from hub.runtime import Options, Runtime
from hub.store import Store, init_store
from hub.web.app import create_app
from hub.workshop.deposits import Deposits
from hub.workshop.jobs import Jobs
from hub.workshop.layaways import (
    MACHINE,
    Layaways,
    LayawaySettings,
    add_months,
    cancel_fee,
    layaway_settings_of,
    split_schedule,
    standing,
)
from tests.builders import cash, client, piece

PRICE = 300_000  # €3,000.00: the pieces' tag price
CARD = [{"type": "card", "amount": 0, "last4": "4242"}]


def card(amount: int) -> list[dict]:
    return [{**CARD[0], "amount": amount}]


async def open_shop(path: Path, layaway_settings: LayawaySettings | None = None):
    config = init_store(path / "s", "paris-01", "Maison", "EUR", "Europe/Paris")
    store = await Store.open(config)
    for staff_id, name, role in (("sophie", "Sophie Martin", "associate"),
                                 ("alex", "Alex Roy", "associate"),
                                 ("mona", "Mona Laurent", "manager")):
        await store.staff.enroll(staff_id, name, role, "135790", actor="test")
    await store.items.receive_many([piece(f"P-{n}", tag_price=PRICE,
                                          description=f"Sapphire pendant {n}")
                                    for n in range(1, 7)], "test")
    # As the workshop's part puts them together: the deposits first, then the layaways.
    deposits = Deposits(store.ledger, store.accounts, "EUR")
    jobs = Jobs(store, deposits)
    layaways = Layaways(store, deposits, layaway_settings or LayawaySettings())
    deposits.holders.update(J=jobs, L=layaways)
    store.sales.extensions.extend((deposits, jobs, layaways))
    her = (await store.clients.create(client("Camille", "Durand",
                                             primary_associate="sophie"), "test"))["client_id"]
    other = (await store.clients.create(client("Inès", "Roy"), "test"))["client_id"]
    return store, layaways, her, other


@pytest.fixture
async def shop(tmp_path):
    store, layaways, her, other = await open_shop(tmp_path)
    yield store, layaways, her, other
    await store.close()


def today() -> date:
    return datetime.now(ZoneInfo("Europe/Paris")).date()  # the store's day


def days(n: int) -> str:
    return (today() + timedelta(days=n)).isoformat()


def months(n: int, after: int = 30) -> str:
    return add_months(today() + timedelta(days=after), n).isoformat()


def books(store: Store):
    return store.ledger.seq, dump_projections(store.ledger.db_path, store.ledger.schemas)


def asking(her: str, item: str = "P-1", **over) -> dict:
    return {"client_id": her, "item_id": item,
            "schedule": {"instalments": 3, "first_due": days(30)},
            "first_payment": {"register_id": "R1", "tenders": cash(60_000)}, **over}


async def refused(store: Store, coro) -> Refused:
    """The refusal a call meets, having checked it wrote nothing."""
    before = books(store)
    with pytest.raises(Refused) as exc:
        await coro
    assert books(store) == before, "a refusal wrote something"
    return exc.value


# -- the schedule, pure --------------------------------------------------------------------

def test_a_schedule_by_count_splits_what_is_left_monthly():
    today = date(2026, 1, 15)
    assert split_schedule(100_000, 0, 3, date(2026, 1, 31), today) == [
        {"due": "2026-01-31", "amount": 33_334}, {"due": "2026-02-28", "amount": 33_333},
        {"due": "2026-03-31", "amount": 33_333}]
    assert split_schedule(100_000, 40_000, 2, date(2026, 2, 15), today) == [
        {"due": "2026-01-15", "amount": 40_000}, {"due": "2026-02-15", "amount": 30_000},
        {"due": "2026-03-15", "amount": 30_000}]
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)


def test_what_is_paid_goes_to_the_earliest_instalments():
    schedule = [{"due": "2026-01-15", "amount": 40_000}, {"due": "2026-02-15", "amount": 30_000},
                {"due": "2026-03-15", "amount": 30_000}]
    early = standing(schedule, 50_000, date(2026, 2, 1))
    assert [i["status"] for i in early["instalments"]] == ["paid", "due", "due"]
    assert early["instalments"][1]["paid"] == 10_000 and not early["overdue"]
    assert early["next_due"] == {"due": "2026-02-15", "amount": 20_000}
    late = standing(schedule, 50_000, date(2026, 3, 20))
    assert late["overdue"] and late["overdue_amount"] == 50_000
    assert late["overdue_since"] == "2026-02-15" and late["next_due"] is None
    on_the_day = standing(schedule, 40_000, date(2026, 2, 15))  # due today: not late yet
    assert not on_the_day["overdue"]


def test_the_store_policy_on_giving_up():
    assert cancel_fee(100_000, LayawaySettings()) == 10_000
    assert cancel_fee(100_000, LayawaySettings(cancel_fee_max=5_000)) == 5_000
    assert cancel_fee(5, LayawaySettings(cancel_fee_pct=10)) == 1  # rounded half up
    assert cancel_fee(0, LayawaySettings()) == 0
    assert cancel_fee(100_000, LayawaySettings(cancel_fee_pct=0)) == 0


def test_the_layaway_section_of_the_config(make_config):
    config = make_config()
    assert layaway_settings_of(config) == LayawaySettings()
    tuned = replace(config, raw={**config.raw, "layaway": {"cancel_fee_pct": 15,
                                                           "cancel_fee_max": 20_000}})
    assert layaway_settings_of(tuned) == LayawaySettings(15, 20_000)
    for wrong in ({"cancel_fee_pct": 120}, {"cancel_fee": 10}, {"max_days": "a year"}):
        with pytest.raises(ConfigError, match="layaway"):
            layaway_settings_of(replace(config, raw={**config.raw, "layaway": wrong}))


# -- through the services ------------------------------------------------------------------

async def test_set_aside_paid_in_instalments_and_sold_to_her(shop):
    store, layaways, her, _ = shop
    opened = await layaways.open(asking(her), actor="sophie")
    number = opened["layaway_id"]
    assert number.startswith("L") and opened["stage"] == "open"
    assert opened["price"] == PRICE and opened["held"] == 60_000
    assert opened["balance"] == 240_000 and opened["client_name"] == "Camille Durand"
    assert [(s["amount"], s["status"]) for s in opened["schedule"]] == [
        (60_000, "paid"), (80_000, "due"), (80_000, "due"), (80_000, "due")]
    assert opened["schedule"][1]["due"] == days(30) and not opened["overdue"]
    hold = await store.holds.of("P-1")
    assert hold["purpose"] == "layaway" and hold["ref"] == number
    assert (await store.items.get("P-1"))["status"] == "in_stock"  # set aside, not gone

    paid = await layaways.pay(number, {"register_id": "R1", "tenders": cash(80_000)},
                              actor="alex")
    assert paid["held"] == 140_000 and paid["next_due"] == {"due": months(1), "amount": 80_000}
    assert [p["amount"] for p in paid["payments"]] == [60_000, 80_000]

    exc = await refused(store, layaways.pay(number, {"register_id": "R1",
                                                     "tenders": cash(200_000)}, actor="alex"))
    assert exc.code == "over_balance"
    exc = await refused(store, layaways.complete(number, {"register_id": "R1"},
                                                 actor="sophie"))
    assert exc.code == "underpaid"  # €1,600.00 still to pay and no tender for it
    exc = await refused(store, layaways.complete(number, {"register_id": "R1",
                                                          "tenders": cash(100_000)},
                                                 actor="sophie"))
    assert exc.code == "underpaid"

    done = await layaways.complete(number, {"register_id": "R1", "tenders": card(160_000)},
                                   actor="sophie")
    assert done["stage"] == "completed" and done["held"] == 0 and done["balance"] == 0
    assert [m["move"] for m in done["timeline"]] == ["complete"]
    sale = await store.sales.get(done["sale_id"])
    assert sale["total"] == PRICE and sale["client_id"] == her
    assert sorted((t["type"], t["amount"]) for t in sale["tenders"]) == [
        ("card", 160_000), ("deposit", 140_000)]
    assert (await store.items.get("P-1"))["status"] == "sold"
    assert await store.holds.of("P-1") is None
    assert await store.accounts.balance(f"deposit:{number}") == 0

    totals = (await store.closures.report())["totals"]
    assert totals["deposits"]["taken"] == {"cash": 140_000}  # apart from the day's sales
    assert totals["deposits"]["applied"] == 140_000 and totals["deposits"]["refunded"] == {}
    assert totals["deposits"]["held"] == 0
    assert totals["sales_total"] == PRICE

    exc = await refused(store, layaways.pay(number, {"register_id": "R1",
                                                     "tenders": cash(100)}, actor="alex"))
    assert exc.code == "layaway_closed"
    exc = await refused(store, layaways.cancel(number, {"note": "too late"}, actor="mona"))
    assert exc.code == "layaway_closed"
    before = dump_projections(store.ledger.db_path, store.ledger.schemas)
    await store.rebuild()
    assert dump_projections(store.ledger.db_path, store.ledger.schemas) == before


async def test_the_piece_set_aside_is_sold_to_no_one_else(shop):
    store, layaways, her, other = shop
    number = (await layaways.open(asking(her), actor="sophie"))["layaway_id"]
    for client_id, confirm in ((other, False), (other, True), (None, True)):
        line = {"item_id": "P-1", **({"confirm_held": True} if confirm else {})}
        exc = await refused(store, store.sales.complete(
            register_id="R1", actor="alex", lines=[line], tenders=cash(PRICE),
            client_id=client_id))
        assert exc.code == "held" and number in str(exc)
    exc = await refused(store, layaways.open(asking(other), actor="alex"))
    assert exc.code == "held"  # a piece is set aside once
    exc = await refused(store, store.sales.complete(  # to her, but not at the locked price
        register_id="R1", actor="alex", client_id=her, tenders=cash(PRICE + 60_000),
        lines=[{"item_id": "P-1", "confirm_held": True, "unit_price": PRICE + 60_000}]))
    assert exc.code == "layaway_price"
    exc = await refused(store, store.sales.complete(  # to her, leaving her payment aside
        register_id="R1", actor="alex", client_id=her, tenders=cash(PRICE),
        lines=[{"item_id": "P-1", "confirm_held": True}]))
    assert exc.code == "layaway_unapplied"
    # At the register, to her, with what she paid applied: the layaway is delivered so.
    sale = await store.sales.complete(
        register_id="R2", actor="alex", client_id=her,
        lines=[{"item_id": "P-1", "confirm_held": True}],
        tenders=[{"type": "deposit", "amount": 60_000, "reference": number},
                 *cash(PRICE - 60_000)])
    done = await layaways.get(number)
    assert done["stage"] == "completed" and done["sale_id"] == sale["sale_id"]


async def test_bad_input_is_refused_and_changes_nothing(shop):
    store, layaways, her, _ = shop
    cases = [
        asking("C999"),                                           # no such client
        asking(her, "P-404"),                                     # no such piece
        asking(her, schedule=None),                               # no schedule
        asking(her, schedule={"instalments": 0}),
        asking(her, schedule={"instalments": 3, "first_due": days(0)}),  # not after today
        asking(her, schedule={"instalments": 3, "first_due": days(400)}),  # too far
        asking(her, schedule=[{"due": days(10), "amount": 100_000}]),  # not the price
        asking(her, schedule=[{"due": days(-1), "amount": PRICE}]),   # a day passed
        asking(her, schedule=[{"due": days(20), "amount": 100_000},   # out of order
                              {"due": days(10), "amount": 200_000}]),
        asking(her, schedule="monthly"),
        asking(her, first_payment={"register_id": "R9", "tenders": cash(100)}),
        asking(her, first_payment={"register_id": "R1", "tenders": cash(PRICE + 1)}),
        asking(her, first_payment={"register_id": "R1",
                                   "tenders": [{"type": "loyalty", "amount": 100}]}),
        asking(her, first_payment={"register_id": "R1"}),
        asking(her, first_payment="cash"),
        asking(her, colour="blue"),
    ]
    for raw in cases:
        await refused(store, layaways.open(raw, actor="sophie"))
    sold = await store.sales.complete(register_id="R1", actor="alex", lines=[{"item_id": "P-2"}],
                                      tenders=cash(PRICE))
    assert sold["sale_id"]
    exc = await refused(store, layaways.open(asking(her, "P-2"), actor="sophie"))
    assert exc.code == "item_sold"
    with pytest.raises(NotFound):
        await layaways.get("L99999")
    with pytest.raises(Invalid):
        await layaways.get("J12")
    # Explicit instalments that add up to the price, the first today.
    opened = await layaways.open(asking(her, schedule=[
        {"due": days(0), "amount": 100_000}, {"due": days(45), "amount": 200_000}],
        first_payment=None), actor="sophie")
    assert opened["held"] == 0 and [s["amount"] for s in opened["schedule"]] == [100_000, 200_000]


async def test_giving_it_up_pays_back_all_but_the_stores_fee(shop):
    store, layaways, her, other = shop
    number = (await layaways.open(asking(her), actor="sophie"))["layaway_id"]
    await layaways.pay(number, {"register_id": "R1", "tenders": card(40_000)}, actor="sophie")
    shown = await layaways.get(number)
    assert shown["if_cancelled"] == {"fee": 10_000, "refund": 90_000}
    exc = await refused(store, layaways.cancel(number, {"note": "she moved away",
                                                        "register_id": "R1"}, actor="sophie"))
    assert exc.code == "move_not_permitted"  # a manager's decision
    await refused(store, layaways.cancel(number, {"register_id": "R1"}, actor="mona"))  # no note
    await refused(store, layaways.cancel(number, {"note": "she moved away"},
                                         actor="mona"))  # where she is paid back
    exc = await refused(store, layaways.cancel(number, {"note": "she moved away",
                                                        "register_id": "R1",
                                                        "tenders": cash(100_000)},
                                               actor="mona"))
    assert exc.code == "refund_mismatch"  # the fee is the store's

    gone = await layaways.cancel(number, {"note": "she moved away", "register_id": "R1",
                                          "tenders": [*cash(50_000), *card(40_000)]},
                                 actor="mona")
    assert gone["stage"] == "cancelled" and gone["held"] == 0
    assert (gone["paid"], gone["fee"], gone["refunded"]) == (100_000, 10_000, 90_000)
    assert gone["timeline"][-1]["note"] == "she moved away"  # sealed under her key
    assert await store.holds.of("P-1") is None
    assert await store.accounts.balance(f"deposit:{number}") == 0
    totals = (await store.closures.report())["totals"]
    assert totals["deposits"]["taken"] == {"cash": 60_000, "card": 40_000}
    assert totals["deposits"]["refunded"] == {"cash": 50_000, "card": 40_000}
    assert totals["deposits"]["applied"] == 0 and totals["deposits"]["held"] == 0
    kept = {(m["kind"], m["movement"]): m["amount"] for m in totals["accounts"]["movements"]}
    assert kept[("deposit", "expired")] == -10_000  # what the store kept, apart
    # The piece is free for anyone now; the cancelled layaway takes nothing more.
    await store.sales.complete(register_id="R1", actor="alex", lines=[{"item_id": "P-1"}],
                               tenders=cash(PRICE), client_id=other)
    exc = await refused(store, layaways.pay(number, {"register_id": "R1",
                                                     "tenders": cash(100)}, actor="sophie"))
    assert exc.code == "layaway_closed"
    wal = store.ledger.db_path.with_suffix(".db-wal")
    raw = store.ledger.db_path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    assert b"she moved away" not in raw


async def test_nothing_paid_nothing_to_pay_back(tmp_path):
    store, layaways, her, _ = await open_shop(tmp_path, LayawaySettings(cancel_fee_pct=0))
    try:
        number = (await layaways.open(asking(her, first_payment=None),
                                      actor="sophie"))["layaway_id"]
        gone = await layaways.cancel(number, {"note": "changed her mind"}, actor="mona")
        assert (gone["paid"], gone["fee"], gone["refunded"]) == (0, 0, 0)
        number = (await layaways.open(asking(her, "P-2"), actor="sophie"))["layaway_id"]
        gone = await layaways.cancel(number, {"note": "changed her mind", "register_id": "R1"},
                                     actor="mona")  # no fee: all of it back, in cash
        assert gone["refunded"] == 60_000
        assert (await layaways.deposits.payments(number))[-1]["tenders"][0]["type"] == "cash"
    finally:
        await store.close()


async def test_a_voided_delivery_sets_the_piece_aside_again(shop):
    store, layaways, her, other = shop
    number = (await layaways.open(asking(her), actor="sophie"))["layaway_id"]
    done = await layaways.complete(number, {"register_id": "R1", "tenders": cash(240_000)},
                                   actor="sophie")
    await store.sales.void(done["sale_id"], register_id="R1", actor="mona",
                           reason="wrong card terminal")
    again = await layaways.get(number)
    assert again["stage"] == "open" and again["sale_id"] is None
    assert again["held"] == 60_000  # what she had paid before, held again
    assert [m["move"] for m in again["timeline"]] == ["complete", "reopen"]
    hold = await store.holds.of("P-1")
    assert hold is not None and hold["ref"] == number
    exc = await refused(store, store.sales.complete(
        register_id="R1", actor="alex", lines=[{"item_id": "P-1", "confirm_held": True}],
        tenders=cash(PRICE), client_id=other))
    assert exc.code == "held"
    done = await layaways.complete(number, {"register_id": "R1", "tenders": card(240_000)},
                                   actor="sophie")
    assert done["stage"] == "completed"


async def test_what_a_return_leaves_on_a_layaway_is_paid_back(shop):
    store, layaways, her, _ = shop
    number = (await layaways.open(asking(her), actor="sophie"))["layaway_id"]
    done = await layaways.complete(number, {"register_id": "R1", "tenders": cash(240_000)},
                                   actor="sophie")
    await store.sales.return_lines(done["sale_id"], register_id="R1", actor="mona",
                                   reason="she changed her mind")
    back = await layaways.get(number)
    assert back["stage"] == "completed" and back["held"] == 60_000  # the deposit's share
    exc = await refused(store, layaways.refund(number, {"register_id": "R1",
                                                        "tenders": cash(60_000)},
                                               actor="sophie"))
    assert exc.code == "move_not_permitted"
    exc = await refused(store, layaways.refund(number, {"register_id": "R1",
                                                        "tenders": cash(70_000)},
                                               actor="mona"))
    assert exc.code == "over_held"
    paid_back = await layaways.refund(number, {"register_id": "R1", "tenders": cash(60_000)},
                                      actor="mona")
    assert paid_back["held"] == 0


async def test_an_overdue_instalment_is_a_call_for_her_associate(shop):
    store, layaways, her, _ = shop
    opened = await layaways.open(asking(her), actor="sophie")
    number = opened["layaway_id"]
    book = FollowUps(store, Rules())
    book.sources.append(layaways.followups)
    first_due = date.fromisoformat(days(30))
    assert await layaways.overdue(first_due) == []  # due today is not late
    late = first_due + timedelta(days=3)
    [overdue] = await layaways.overdue(late)
    assert overdue["layaway_id"] == number and overdue["overdue_amount"] == 80_000
    layaways.now = lambda: datetime.combine(late, datetime.min.time(), UTC) + timedelta(hours=12)
    listed = await layaways.open_ones()
    assert listed[0]["overdue"] and listed[0]["overdue_since"] == first_due.isoformat()

    day = await book.day(late, associate="sophie")
    [call] = [f for f in day["today"] if f["kind"] == "payment_due"]
    assert call["client_id"] == her and call["about"] == number
    assert call["amount"] == 80_000 and call["due"] == (first_due + timedelta(1)).isoformat()
    assert "payment_due" not in MARKETING  # care: never held back after a purchase
    assert not [f for f in (await book.day(late, associate="alex"))["today"]
                if f["kind"] == "payment_due"]  # not in another associate's book
    done = await book.done(call["followup_id"], "called", actor="sophie", today=late)
    assert done["kind"] == "payment_due"

    await layaways.pay(number, {"register_id": "R1", "tenders": cash(80_000)}, actor="sophie")
    assert await layaways.overdue(late) == []
    assert await layaways.followups(late, Rules()) == []
    later = date.fromisoformat(months(1)) + timedelta(days=2)  # the next one missed
    [f] = await layaways.followups(later, Rules(), her)
    assert f.on.isoformat() == months(1) and f.stands(later, Rules()) == Due.TODAY


# -- the state machine ---------------------------------------------------------------------

class Counter(RuleBasedStateMachine):
    """Any sequence of openings, payments, deliveries, cancellations and voids (allowed or
    not): every deposit balance at or above zero, the deposits held equal to what was paid
    less what was paid back, applied or kept, the piece held exactly while its layaway is
    open, a cancelled layaway cancelled for good, and a refused step writing nothing."""

    made = Bundle("layaways")

    def __init__(self) -> None:
        super().__init__()
        self.runner = asyncio.Runner()
        self.tmp = tempfile.TemporaryDirectory()
        self.store, self.layaways, self.her, self.other = self.run(open_shop(
            Path(self.tmp.name), LayawaySettings(cancel_fee_pct=10, cancel_fee_max=15_000)))
        self.paid = 0  # the model: taken, less refunded, applied and kept
        self.taken = self.refunded = self.applied = self.kept = self.voided = 0
        self.cancelled: set[str] = set()

    def run(self, coro):
        return self.runner.run(coro)

    def teardown(self) -> None:
        self.run(self.store.close())
        self.runner.close()
        self.tmp.cleanup()

    def books(self):
        return books(self.store)

    def attempt(self, coro):
        """The call's answer, or None when refused (and then nothing was written)."""
        before = self.books()
        try:
            return self.run(coro)
        except Refused:
            assert self.books() == before, "a refusal wrote something"
            return None

    @rule(target=made, item=st.integers(1, 6), first=st.integers(0, 400_000),
          count=st.integers(1, 4))
    def open(self, item, first, count):
        raw = asking(self.her, f"P-{item}", schedule={"instalments": count,
                                                      "first_due": days(20)},
                     first_payment={"register_id": "R1", "tenders": cash(first)}
                     if first else None)
        got = self.attempt(self.layaways.open(raw, actor="sophie"))
        if got is None:
            return "L0"
        assert first <= PRICE
        self.paid += first
        self.taken += first
        return got["layaway_id"]

    @rule(layaway=made, amount=st.integers(1, 300_000))
    def pay(self, layaway, amount):
        if layaway == "L0":
            return
        if self.attempt(self.layaways.pay(layaway, {"register_id": "R1",
                                                    "tenders": cash(amount)},
                                          actor="alex")) is not None:
            self.paid += amount
            self.taken += amount

    @rule(layaway=made, extra=st.integers(0, 300_000), rest=st.booleans())
    def complete(self, layaway, extra, rest):
        if layaway == "L0":
            return
        held = self.run(self.layaways.get(layaway))["held"]
        if rest:  # what is left, and change on it
            extra = PRICE - held + extra % 5_000
        got = self.attempt(self.layaways.complete(
            layaway, {"register_id": "R1", "tenders": cash(extra) if extra else []},
            actor="sophie"))
        if got is not None:
            assert held + extra >= PRICE  # nothing handed over with a balance due
            self.paid -= held
            self.applied += held

    @rule(layaway=made)
    def cancel(self, layaway):
        if layaway == "L0":
            return
        before = self.run(self.layaways.get(layaway))
        got = self.attempt(self.layaways.cancel(layaway, {"note": "given up",
                                                          "register_id": "R2"},
                                                actor="mona"))
        if got is not None:
            assert before["stage"] == "open"
            assert got["fee"] == min((before["held"] * 10 + 50) // 100, 15_000)
            assert got["refunded"] == before["held"] - got["fee"]
            self.paid -= before["held"]
            self.refunded += got["refunded"]
            self.kept += got["fee"]
            self.cancelled.add(layaway)

    @rule(layaway=made)
    def void(self, layaway):
        if layaway == "L0":
            return
        got = self.run(self.layaways.get(layaway))
        if got["stage"] != "completed" or not got["sale_id"]:
            return
        sale = self.run(self.store.sales.get(got["sale_id"]))
        self.run(self.store.sales.void(got["sale_id"], register_id="R1", actor="mona",
                                       reason="wrong client"))
        back = sum(t["amount"] for t in sale["tenders"] if t["type"] == "deposit")
        self.paid += back
        self.voided += back

    @invariant()
    def money_and_pieces_add_up(self):
        def read(tx):
            return ([r["balance"] for r in tx.all(
                "SELECT balance FROM accounts WHERE kind = 'deposit'")],
                [dict(r) for r in tx.all("SELECT layaway_id, item_id, stage FROM layaways")],
                {r["item_id"]: r["ref"] for r in tx.all(
                    "SELECT item_id, ref FROM holds WHERE purpose = 'layaway'")})
        balances, rows, holds = self.run(self.store.ledger.read(read))
        assert all(b >= 0 for b in balances)
        assert sum(balances) == self.paid == (self.taken - self.refunded - self.applied
                                              + self.voided - self.kept)
        for row in rows:
            assert row["stage"] in MACHINE.stages
            assert (holds.get(row["item_id"]) == row["layaway_id"]) == (row["stage"] == "open")
            if row["layaway_id"] in self.cancelled:
                assert row["stage"] == "cancelled" and MACHINE.is_final("cancelled")
        totals = self.run(self.store.closures.report())["totals"]["deposits"]
        assert sum(totals["taken"].values()) == self.taken
        assert sum(totals["refunded"].values()) == self.refunded
        assert totals["applied"] == self.applied  # a void gives back; what was applied, was
        assert totals["held"] == self.paid


Counter.TestCase.settings = settings(max_examples=25, stateful_step_count=20, deadline=None,
                                     suppress_health_check=[HealthCheck.too_slow])
TestCounter = Counter.TestCase


# -- the API -------------------------------------------------------------------------------

async def test_the_api_opens_pays_and_hands_over(tmp_path):
    config = init_store(tmp_path / "s", "test-01", "Maison Test", "EUR", "Europe/Paris")
    store = await Store.open(config)
    pins = {"alex": "246810", "mona": "135790"}
    await store.staff.enroll("alex", "Alex Roy", "associate", pins["alex"], actor="test")
    await store.staff.enroll("mona", "Mona Laurent", "manager", pins["mona"], actor="test")
    await store.items.receive_many([piece("P-1", tag_price=PRICE), piece("P-2",
                                                                         tag_price=PRICE)],
                                   "test")
    her = (await store.clients.create(client("Camille", "Durand"), "test"))["client_id"]
    runtime = Runtime(config, store, store.bus, Options(host="127.0.0.1", port=0,
                                                        insecure_http=True, zeroconf=False),
                      LAYERS)
    deposits = Deposits(store.ledger, store.accounts, "EUR")  # what the part does at start
    runtime.layaways = Layaways(store, deposits)
    deposits.holders["L"] = runtime.layaways
    store.sales.extensions.extend((deposits, runtime.layaways))
    try:
        async with TestClient(TestServer(create_app(runtime))) as web:
            async def sign_in(staff_id: str) -> dict[str, str]:
                r = await web.post("/api/v1/session", json={
                    "staff_id": staff_id, "pin": pins[staff_id], "register_id": "R1"})
                assert r.status == 200, await r.text()
                return {"X-CSRF-Token": (await r.json())["csrf"]}

            h = await sign_in("alex")
            r = await web.post("/api/v1/layaways", json=asking(her), headers=h)
            assert r.status == 201, await r.text()
            number = (await r.json())["layaway_id"]
            r = await web.post("/api/v1/layaways", json=asking(her, "P-2", schedule=[
                {"due": days(10), "amount": 1}]), headers=h)
            assert r.status == 400 and (await r.json())["error"] == "invalid"
            listed = await (await web.get("/api/v1/layaways")).json()
            assert [(x["layaway_id"], x["overdue"]) for x in listed["layaways"]] == [
                (number, False)]
            assert (await (await web.get("/api/v1/layaways?overdue=true")).json())[
                "layaways"] == []
            assert (await web.get("/api/v1/layaways?overdue=maybe")).status == 400
            mine = await (await web.get(f"/api/v1/layaways?client_id={her}")).json()
            assert len(mine["layaways"]) == 1
            r = await web.post(f"/api/v1/layaways/{number}/payments",
                               json={"register_id": "R1", "tenders": cash(900_000)}, headers=h)
            assert r.status == 409 and (await r.json())["error"] == "over_balance"
            r = await web.post(f"/api/v1/layaways/{number}/payments",
                               json={"register_id": "R1", "tenders": cash(40_000)}, headers=h)
            assert r.status == 200 and (await r.json())["held"] == 100_000
            r = await web.post(f"/api/v1/layaways/{number}/cancel",
                               json={"note": "no", "register_id": "R1"}, headers=h)
            assert r.status == 403  # a manager's
            r = await web.post(f"/api/v1/layaways/{number}/complete",
                               json={"register_id": "R1", "tenders": cash(200_000)},
                               headers=h)
            assert r.status == 200, await r.text()
            shown = await (await web.get(f"/api/v1/layaways/{number}")).json()
            assert shown["stage"] == "completed" and shown["sale_id"]
            assert (await web.get("/api/v1/layaways/L99999")).status == 404
            assert (await web.get("/api/v1/layaways/nonsense")).status == 400
    finally:
        await store.close()
