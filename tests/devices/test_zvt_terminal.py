"""The card terminal: the real driver and books against the ZVT simulator over TCP."""

from __future__ import annotations

import asyncio
import contextlib
import re

import pytest
from device_helpers import PIECE, wait_until

from hub.core.approvals import ApprovalNeeded
from hub.core.errors import Refused
from hub.demo import seed_demo_staff
from hub.devices.config import parse_devices
from hub.devices.manager import DeviceManager
from hub.devices.profiles import load_profiles
from hub.devices.sim.zvt import ZvtTerminalSim
from hub.devices.zvt.payments import TerminalPayments

PRICE = PIECE["tag_price"]


@contextlib.asynccontextmanager
async def rig(store, **overrides):
    sim = ZvtTerminalSim()
    await sim.start()
    table = {"model": "ingenico-move5000-zvt", "register": "R1", "host": "127.0.0.1",
             "port": sim.port, "check_interval": 5.0, "retry_initial": 0.02,
             "retry_cap": 0.1, "ack_timeout_s": 2.0, "answer_timeout_s": 2.0,
             "resolve_wait_s": 5.0, **overrides}
    specs = parse_devices({"terminal-1": table}, load_profiles(), {"R1"})
    manager = DeviceManager(specs, store.bus, store)
    await manager.start()
    terminal = manager.devices["terminal-1"]
    payments = TerminalPayments(store, store.bus, {"R1": terminal})
    payments.start()
    await wait_until(lambda: terminal.state == "connected")
    try:
        yield sim, terminal, payments
    finally:
        await payments.stop()
        await manager.stop()
        await sim.stop()


async def kinds(store, prefix="terminal."):
    rows = await store.ledger.fetch("SELECT kind FROM journal WHERE kind LIKE ? ORDER BY seq",
                                    (prefix + "%",))
    return [r["kind"] for r in rows]


async def basket(store):
    await store.carts.add("R1", item_id=PIECE["item_id"], by="admin")


async def test_payment_approved_into_the_cart(store):
    statuses = []
    store.bus.listen("device.terminal", lambda e: statuses.append(e.data["message"]))
    async with rig(store) as (sim, terminal, payments):
        await basket(store)
        out = await payments.pay("R1", PRICE, actor="admin")
        assert out["payment"]["status"] == "approved"
        tender = out["cart"]["tenders"][0]
        assert tender["type"] == "card" and tender["amount"] == PRICE
        detail = tender["detail"]
        assert len(detail["last4"]) == 4 and detail["brand"] and detail["auth_code"]
        assert detail["terminal_ref"] == out["payment"]["terminal_ref"]
        assert len(sim.approved) == 1 and sim.unacked == 0
        assert "insert or tap the card" in statuses  # the terminal's intermediate statuses
        assert await kinds(store) == ["terminal.payment_started", "terminal.payment_ended"]
        ended = await store.ledger.fetch_one("SELECT seq FROM journal WHERE kind ="
                                             " 'terminal.payment_ended'")
        payload = await store.ledger.payload_at(ended["seq"])
        assert any("AMOUNT" in line for line in payload["lines"])
        assert not any(re.search(r"\d{12}", line) for line in payload["lines"])


async def test_declined_leaves_the_cart_unpaid(store):
    async with rig(store) as (sim, terminal, payments):
        await basket(store)
        out = await payments.pay("R1", PRICE - 49, actor="admin")  # minor units end in 51
        assert out["payment"]["status"] == "declined" and out["cart"] is None
        assert "insufficient funds" in out["message"]
        assert (await store.carts.get("R1"))["tenders"] == [] and sim.approved == []


@pytest.mark.parametrize("fault", ["cut_after_authorising", "garbage", "late"])
async def test_interrupted_payment_is_resolved_with_exactly_one_charge(store, fault):
    async with rig(store, answer_timeout_s=0.5) as (sim, terminal, payments):
        sim.late_s = 1.5
        await basket(store)
        sim.fault = fault
        out = await payments.pay("R1", PRICE, actor="admin")
        # The terminal charged her once; the hub asked it and booked that charge, once.
        assert len(sim.approved) == 1
        assert out["payment"]["status"] == "approved"
        assert len(out["cart"]["tenders"]) == 1
        assert await kinds(store) == ["terminal.payment_started", "terminal.payment_unknown",
                                      "terminal.payment_ended"]
        ended = await store.ledger.fetch_one("SELECT seq FROM journal WHERE kind ="
                                             " 'terminal.payment_ended'")
        assert (await store.ledger.payload_at(ended["seq"]))["resolved_by"] == \
            "last_transaction"
        # Paying again is refused: nothing more is due, the client is not charged twice.
        with pytest.raises(Refused):
            await payments.pay("R1", PRICE, actor="admin")
        assert len(sim.approved) == 1


async def test_cut_before_the_bank_said_yes_is_not_charged(store):
    async with rig(store) as (sim, terminal, payments):
        await basket(store)
        first = await payments.pay("R1", 1000, actor="admin")  # an earlier, real charge
        assert first["payment"]["status"] == "approved"
        sim.fault = "cut_before_authorising"
        out = await payments.pay("R1", 1000, actor="admin")  # the same amount, again
        # The terminal's last transaction is the first payment, already in the books.
        assert out["payment"]["status"] == "not_charged" and out["cart"] is None
        assert len(sim.approved) == 1
        assert len((await store.carts.get("R1"))["tenders"]) == 1


async def test_answer_twice_is_recorded_once(store):
    async with rig(store) as (sim, terminal, payments):
        await basket(store)
        sim.fault = "twice"
        out = await payments.pay("R1", PRICE, actor="admin")
        assert out["payment"]["status"] == "approved"
        assert await kinds(store) == ["terminal.payment_started", "terminal.payment_ended"]
        await wait_until(lambda: terminal.late_messages >= 1)  # the second completion
        assert terminal.problems >= 1 and len(out["cart"]["tenders"]) == 1


async def test_unreachable_terminal_keeps_the_payment_unknown(store):
    async with rig(store, resolve_wait_s=0.3) as (sim, terminal, payments):
        await basket(store)
        sim.fault = "cut_after_authorising"
        port = sim.port
        task = asyncio.create_task(payments.pay("R1", PRICE, actor="admin"))
        await wait_until(lambda: sim.approved)
        await sim.stop()  # the terminal is gone before the hub can ask it
        with pytest.raises(Refused, match="unknown"):
            await task
        problems = await payments.problems()
        assert [p["status"] for p in problems] == ["unknown"]
        with pytest.raises(Refused, match="unknown"):  # nothing new goes to the terminal
            await payments.pay("R1", PRICE, actor="admin")
        sim.port = port
        await sim.start()  # back: the next attempt asks first, and books the one charge
        await wait_until(lambda: terminal.state == "connected")
        row = await payments.resolve(problems[0]["payment_id"], actor="admin")
        assert row["status"] == "approved" and len(sim.approved) == 1


async def test_void_reverses_on_the_terminal(store):
    await seed_demo_staff(store)
    alerts = []
    store.bus.listen("device.alert", lambda e: alerts.append(e.data))
    async with rig(store) as (sim, terminal, payments):
        await basket(store)
        out = await payments.pay("R1", PRICE, actor="admin")
        sale = await store.registers.complete("R1", actor="admin")
        await store.sales.void(sale["sale_id"], register_id="R1", actor="admin",
                               reason="client changed her mind")
        row = await wait_until(lambda: sim.charges[0].reversed)
        assert row
        await wait_until(lambda: payments._background == set())
        got = await payments.get(out["payment"]["payment_id"])
        assert got["status"] == "reversed" and got["sale_id"] == sale["sale_id"]
        assert sim.approved == [] and alerts == []
        # A second reversal of the same payment is refused, nothing sent.
        with pytest.raises(Refused):
            await payments.reverse(got["payment_id"], sale_id=None, actor="admin", why="again")


async def test_failed_reversal_is_a_problem_a_manager_sees(store):
    alerts = []
    store.bus.listen("device.alert", lambda e: alerts.append(e.data))
    async with rig(store) as (sim, terminal, payments):
        await basket(store)
        out = await payments.pay("R1", PRICE, actor="admin")
        sim.charges[0].reversed = True  # reversed on the terminal's own keypad meanwhile
        row = await payments.reverse(out["payment"]["payment_id"], sale_id="S1",
                                     actor="admin", why="test")
        assert row["status"] == "reversal_failed"
        assert [p["payment_id"] for p in await payments.problems()] == [row["payment_id"]]
        assert alerts and "could not be reversed" in alerts[0]["message"]


async def test_end_of_day_totals_in_the_books(store):
    async with rig(store) as (sim, terminal, payments):
        await basket(store)
        await payments.pay("R1", 5000, actor="admin")
        await payments.pay("R1", 7000, actor="admin")
        day = await payments.end_of_day("R1", actor="admin")
        assert day["total"] == 12000 and day["count"] == 2
        report = await store.closures.report()
        section = report["totals"]["terminals"]
        assert section["end_of_day"][0]["total"] == 12000
        assert sum(b["amount"] for b in section["approved_by_brand"].values()) == 12000


async def test_keyed_card_needs_a_manager_at_a_terminal_register(store):
    async with rig(store) as (sim, terminal, payments):
        await basket(store)
        tender = {"type": "card", "amount": 1000, "last4": "4242", "brand": "Visa"}
        with pytest.raises(ApprovalNeeded) as asked:
            await store.carts.add_tender("R1", tender, by="admin")
        assert asked.value.action["kind"] == "card_keyed"
        assert (await store.carts.get("R1"))["tenders"] == []
    # Without a terminal at the register, a keyed card is an ordinary tender.
    cart = await store.carts.add_tender("R1", tender, by="admin")
    assert cart["tenders"][0]["amount"] == 1000


async def test_pay_refuses_more_than_is_due_and_sends_nothing(store):
    async with rig(store) as (sim, terminal, payments):
        await basket(store)
        with pytest.raises(Refused):
            await payments.pay("R1", PRICE + 1, actor="admin")
        assert sim.charges == [] and await kinds(store) == []
