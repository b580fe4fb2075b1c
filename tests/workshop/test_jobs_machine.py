"""The jobs' stage machines and money as a Hypothesis state machine on a real store: any
sequence of moves, payments, refunds, pick-ups and voids (allowed or not) keeps every
deposit balance at or above zero, the deposits held equal to what was paid and not yet
applied or refunded, each job in a stage of its machine, and a refused step leaves the books
exactly as they were."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from hub.core.approvals import ApprovalNeeded
from hub.core.errors import Refused
from hub.ledger.ledger import dump_projections
from hub.store import Store, init_store
from hub.workshop.deposits import Deposits
from hub.workshop.jobs import Jobs, WorkshopSettings
from tests.builders import cash, client, png

SIGNATURE = png()
MOVES = ("to_bench", "to_vendor", "to_quality_check", "to_ready", "hold", "cancel",
         "to_consultation", "to_deposit", "to_stone_sourcing", "to_cad", "to_approval",
         "to_setting", "to_polish", "revise", "resume", "to_ordered", "to_arrived", "next")


class Workshop(RuleBasedStateMachine):
    jobs_made = Bundle("jobs")

    def __init__(self) -> None:
        super().__init__()
        self.runner = asyncio.Runner()
        self.tmp = tempfile.TemporaryDirectory()
        config = init_store(Path(self.tmp.name) / "s", "paris-01", "Maison", "EUR")
        self.store = self.run(Store.open(config))
        self.run(self.store.staff.enroll("mona", "Mona Laurent", "manager", "135790",
                                         actor="test"))
        self.deposits = Deposits(self.store.ledger, self.store.accounts, "EUR")
        self.jobs = Jobs(self.store, self.deposits, WorkshopSettings(weight_tolerance_mg=0))
        self.deposits.holders["J"] = self.jobs
        self.store.sales.extensions.extend((self.deposits, self.jobs))
        self.store.sales.services["job"] = self.jobs
        self.her = self.run(self.store.clients.create(client("Ines", "Roy"), "t"))["client_id"]
        self.paid = 0  # what the model says was taken, less what was refunded or applied
        self.n = 0

    def run(self, coro):
        return self.runner.run(coro)

    def teardown(self) -> None:
        self.run(self.store.close())
        self.runner.close()
        self.tmp.cleanup()

    def books(self):
        return self.store.ledger.seq, dump_projections(self.store.ledger.db_path,
                                                       self.store.ledger.schemas)

    def refused(self, coro) -> bool:
        before = self.books()
        try:
            self.run(coro)
        except Refused:
            assert self.books() == before, "a refusal wrote something"
            return True
        return False

    @rule(target=jobs_made, kind=st.sampled_from(("repair", "custom", "special")),
          price=st.integers(0, 50_000), deposit=st.integers(0, 60_000))
    def open(self, kind, price, deposit):
        raw = {"kind": kind, "client_id": self.her, "item_kind": "ring",
               "description": "a ring", "weight_mg": 3000, "stone_count": 1}
        if kind == "repair":
            raw["services"] = [{"service": "polish", "price": price}]
        else:
            raw["price"] = price
        if deposit:
            raw["deposit"] = {"register_id": "R1", "tenders": cash(deposit)}
        try:
            job = self.run(self.jobs.open(raw, actor="mona"))
        except Refused:
            return "J0"
        self.paid += deposit
        return job["job_id"]

    @rule(job=jobs_made, move=st.sampled_from(MOVES))
    def move(self, job, move):
        if job == "J0":
            return
        note = "because" if move in ("hold", "cancel", "revise") else None
        self.refused(self.jobs.move(job, move, note, actor="mona"))

    @rule(job=jobs_made, amount=st.integers(1, 60_000))
    def pay(self, job, amount):
        if job != "J0" and not self.refused(self.jobs.pay(
                job, {"register_id": "R1", "tenders": cash(amount)}, actor="mona")):
            self.paid += amount

    @rule(job=jobs_made)
    def quote_and_accept(self, job):
        if job == "J0" or self.refused(self.jobs.quote(job, {"amount": 40_000}, actor="mona")):
            return
        versions = self.run(self.jobs.get(job))["quotes"]
        self.refused(self.jobs.accept_quote(job, versions[-1]["version"], actor="mona"))

    @rule(job=jobs_made, extra=st.integers(0, 60_000))
    def collect(self, job, extra):
        if job == "J0":
            return
        got = self.run(self.jobs.get(job))
        raw = {"register_id": "R1", "weight_mg": 3000, "stone_count": 1,
               "tenders": cash(extra) if extra else [],
               "piece": {"item_id": f"N{job}", "description": "A ring"}}
        held = got["held"]
        if not self.refused(self.jobs.collect(job, raw, actor="mona", signature=SIGNATURE)):
            self.paid -= held  # applied to the sale that handed it over

    @rule(job=jobs_made, amount=st.integers(1, 60_000))
    def refund(self, job, amount):
        if job == "J0":
            return
        asked = {"register_id": "R1", "tenders": cash(amount)}
        try:
            self.run(self.jobs.refund(job, asked, actor="mona"))
        except ApprovalNeeded as exc:
            approval = self.run(self.store.approvals.decide(exc.action, "mona", "135790",
                                                            requested_by="mona"))
            if not self.refused(self.jobs.refund(
                    job, {**asked, "approval_id": approval["approval_id"]}, actor="mona")):
                self.paid -= amount
        except Refused:
            pass

    @rule(job=jobs_made)
    def void_pickup(self, job):
        if job == "J0":
            return
        got = self.run(self.jobs.get(job))
        if got["stage"] != "collected" or not got["sale_id"]:
            return
        sale = self.run(self.store.sales.get(got["sale_id"]))
        if sale["status"] != "completed":
            return
        self.run(self.store.sales.void(got["sale_id"], register_id="R1", actor="mona",
                                       reason="wrong client"))
        self.paid += sum(t["amount"] for t in sale["tenders"] if t["type"] == "deposit")
        assert self.run(self.jobs.get(job))["stage"] == "ready"  # open again, paid as before

    @invariant()
    def money_adds_up(self):
        def read(tx):
            return ([r["balance"] for r in tx.all(
                "SELECT balance FROM accounts WHERE kind = 'deposit'")],
                [dict(r) for r in tx.all("SELECT job_id, kind, stage FROM jobs")])
        balances, jobs = self.run(self.store.ledger.read(read))
        assert all(b >= 0 for b in balances)
        assert sum(balances) == self.paid
        for job in jobs:
            assert job["stage"] in self.jobs.settings.machine(job["kind"]).stages
            if job["stage"] == "cancelled":
                assert self.jobs.settings.machine(job["kind"]).is_final("cancelled")


Workshop.TestCase.settings = settings(max_examples=25, stateful_step_count=25, deadline=None,
                                      suppress_health_check=[HealthCheck.too_slow])
TestWorkshop = Workshop.TestCase
