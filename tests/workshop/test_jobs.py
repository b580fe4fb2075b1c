"""Jobs through their services on a real store: a repair from intake to pick-up (deposit,
stages, the balance sold through a sale with the deposit applied, weighed again, signed),
a custom order through its quote to a new piece sold with every payment applied, and the
refusals of the issue's bad input, each leaving the books as they were."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from hub.core.approvals import ApprovalNeeded
from hub.core.errors import Invalid, NotFound, Refused
from hub.ledger.ledger import dump_projections
from hub.store import Store, init_store
from hub.workshop.deposits import Deposits
from hub.workshop.jobs import Jobs, WorkshopSettings, custom_machine, next_move
from tests.builders import cash, client, png

SIGNATURE = png()


async def open_shop(path, settings: WorkshopSettings | None = None):
    config = init_store(path / "s", "paris-01", "Maison", "EUR", "Europe/Paris")
    store = await Store.open(config)
    for staff_id, name, role in (("sophie", "Sophie Martin", "associate"),
                                 ("hugo", "Hugo Bench", "associate"),
                                 ("mona", "Mona Laurent", "manager")):
        await store.staff.enroll(staff_id, name, role, "135790", actor="test")
    deposits = Deposits(store.ledger, store.accounts, "EUR")
    jobs = Jobs(store, deposits, settings or WorkshopSettings())
    deposits.holders["J"] = jobs
    store.sales.extensions.extend((deposits, jobs))
    store.sales.services["job"] = jobs
    her = (await store.clients.create(client("Camille", "Durand"), "test"))["client_id"]
    return store, jobs, her


@pytest.fixture
async def shop(tmp_path):
    store, jobs, her = await open_shop(tmp_path)
    yield store, jobs, her
    await store.close()


def ring(her: str, **over):
    promised = (date.today() + timedelta(days=10)).isoformat()
    return {"kind": "repair", "client_id": her, "item_kind": "ring",
            "description": "yellow metal ring, white centre stone, worn prongs",
            "condition": "small scratch on the shank", "declared_value": 150000,
            "weight_mg": 4210, "stone_count": 5,
            "services": [{"service": "resize", "detail": "to 54", "price": 4500},
                         {"service": "retip", "detail": "4 prongs", "price": 6000},
                         {"service": "engraving", "detail": "C & J 12.06.2027",
                          "font": "script", "price": 3000}],
            "estimate": "call_first", "promised": promised, "assignee": "hugo",
            "deposit": {"register_id": "R1", "tenders": cash(5000)}, **over}


def books(store: Store):
    return store.ledger.seq, dump_projections(store.ledger.db_path, store.ledger.schemas)


async def test_repair_from_intake_to_pickup(shop):
    store, jobs, her = shop
    job = await jobs.open(ring(her), actor="sophie")
    assert job["stage"] == "received" and job["price"] == 13500 and job["held"] == 5000
    assert job["balance"] == 8500 and job["client_name"] == "Camille Durand"
    assert job["services"][2]["detail"] == "C & J 12.06.2027"
    for move in ("to_bench", "to_quality_check", "to_ready"):
        job = await jobs.move(job["job_id"], move, actor="hugo")
    assert job["stage"] == "ready"
    done = await jobs.collect(job["job_id"], {"register_id": "R1", "weight_mg": 4215,
                                              "stone_count": 5, "tenders": cash(8500)},
                              actor="sophie", signature=SIGNATURE)
    assert done["stage"] == "collected" and done["sale_id"]
    sale = await store.sales.get(done["sale_id"])
    assert sale["total"] == 13500 and sale["client_id"] == her
    assert sorted((t["type"], t["amount"]) for t in sale["tenders"]) == [
        ("cash", 8500), ("deposit", 5000)]
    assert await store.accounts.balance("deposit:" + job["job_id"]) == 0
    report = (await store.closures.report())["totals"]
    assert report["deposits"]["taken"] == {"cash": 5000}
    assert report["deposits"]["applied"] == 5000 and report["deposits"]["held"] == 0
    assert report["sales_total"] == 13500
    assert [m["move"] for m in done["timeline"]] == ["to_bench", "to_quality_check",
                                                     "to_ready", "collect"]


async def test_pickup_difference_needs_a_manager(shop):
    store, jobs, her = shop
    job = await jobs.open(ring(her, deposit=None), actor="sophie")
    for move in ("to_bench", "to_quality_check", "to_ready"):
        await jobs.move(job["job_id"], move, actor="hugo")
    asked = {"register_id": "R1", "weight_mg": 3900, "stone_count": 4,
             "tenders": cash(13500)}
    before = books(store)
    with pytest.raises(ApprovalNeeded) as exc:
        await jobs.collect(job["job_id"], asked, actor="sophie", signature=SIGNATURE)
    assert books(store) == before
    approval = await store.approvals.decide(exc.value.action, "mona", "135790",
                                            requested_by="sophie")
    done = await jobs.collect(job["job_id"], {**asked, "approval_id": approval["approval_id"]},
                              actor="sophie", signature=SIGNATURE)
    assert done["stage"] == "collected"


async def test_bad_input_is_refused_and_changes_nothing(shop):
    store, jobs, her = shop
    job = await jobs.open(ring(her), actor="sophie")
    number = job["job_id"]
    before = books(store)
    with pytest.raises(Refused):  # skipping stages
        await jobs.move(number, "to_ready", actor="hugo")
    with pytest.raises(Refused):  # collecting before it is ready
        await jobs.collect(number, {"register_id": "R1", "weight_mg": 4210, "stone_count": 5,
                                    "tenders": cash(8500)}, actor="sophie",
                           signature=SIGNATURE)
    with pytest.raises(Refused):  # a payment above the balance
        await jobs.pay(number, {"register_id": "R1", "tenders": cash(9000)}, actor="sophie")
    with pytest.raises(Invalid):  # no client
        await jobs.open(ring("C999"), actor="sophie")
    with pytest.raises(Invalid):  # a repair with nothing to do
        await jobs.open(ring(her, services=[]), actor="sophie")
    with pytest.raises(NotFound):
        await jobs.get("J99999")
    assert books(store) == before
    for move in ("to_bench", "to_quality_check", "to_ready"):
        await jobs.move(number, move, actor="hugo")
    before = books(store)
    with pytest.raises(Refused):  # collecting with a balance due
        await jobs.collect(number, {"register_id": "R1", "weight_mg": 4210, "stone_count": 5,
                                    "tenders": cash(1000)}, actor="sophie",
                           signature=SIGNATURE)
    with pytest.raises(Invalid):  # no signature
        await jobs.collect(number, {"register_id": "R1", "weight_mg": 4210, "stone_count": 5,
                                    "tenders": cash(8500)}, actor="sophie")
    assert books(store) == before
    await jobs.move(number, "cancel", "she changed her mind", actor="mona")
    with pytest.raises(Refused):  # a deposit on a cancelled job
        await jobs.pay(number, {"register_id": "R1", "tenders": cash(100)}, actor="sophie")
    with pytest.raises(Refused):  # an associate may not cancel
        other = await jobs.open(ring(her, deposit=None), actor="sophie")
        await jobs.move(other["job_id"], "cancel", "why", actor="sophie")


async def test_cancelled_job_refunds_its_deposit_with_a_manager(shop):
    store, jobs, her = shop
    job = await jobs.open(ring(her), actor="sophie")
    await jobs.move(job["job_id"], "cancel", "she changed her mind", actor="mona")
    asked = {"register_id": "R1", "tenders": cash(5000)}
    with pytest.raises(ApprovalNeeded) as exc:
        await jobs.refund(job["job_id"], asked, actor="sophie")
    approval = await store.approvals.decide(exc.value.action, "mona", "135790",
                                            requested_by="sophie")
    done = await jobs.refund(job["job_id"], {**asked, "approval_id": approval["approval_id"]},
                             actor="sophie")
    assert done["held"] == 0
    report = (await store.closures.report())["totals"]["deposits"]
    assert report["taken"] == {"cash": 5000} and report["refunded"] == {"cash": 5000}


async def test_custom_order_quote_to_new_piece_sold(shop):
    store, jobs, her = shop
    order = {"kind": "custom", "client_id": her, "item_kind": "ring",
             "description": "solitaire engagement ring, oval centre", "price": 600000,
             "specs": {"metal": "gold", "fineness": 750, "size": "52",
                       "stones": [{"type": "diamond", "carat_cents": 120, "colour": "F",
                                   "clarity": "VS1", "shape": "oval"}]}}
    job = await jobs.open(order, actor="sophie")
    number = job["job_id"]
    assert job["stage"] == "enquiry" and job["sizes"] == "52"
    await jobs.move(number, "to_consultation", actor="sophie")
    job = await jobs.move(number, "to_deposit", actor="sophie")
    with pytest.raises(Refused):  # no deposit yet
        await jobs.move(number, "to_stone_sourcing", actor="sophie")
    await jobs.pay(number, {"register_id": "R1", "tenders": cash(100000)}, actor="sophie")
    for move in ("to_stone_sourcing", "to_cad", "to_approval"):
        await jobs.move(number, move, actor="hugo")
    with pytest.raises(Refused):  # no quote accepted
        await jobs.move(number, "to_setting", actor="hugo")
    await jobs.quote(number, {"amount": 620000}, actor="sophie")
    await jobs.quote(number, {"amount": 640000}, actor="sophie")
    with pytest.raises(Refused):
        await jobs.accept_quote(number, 1, actor="sophie")
    job = await jobs.accept_quote(number, 2, actor="sophie")
    assert job["price"] == 640000
    await jobs.pay(number, {"register_id": "R1", "tenders": cash(200000)}, actor="sophie")
    for move in ("to_setting", "to_polish", "to_ready"):
        await jobs.move(number, move, actor="hugo")
    done = await jobs.collect(number, {"register_id": "R1", "tenders": cash(340000),
                                       "piece": {"item_id": "CUSTOM-1",
                                                 "metal_weight_mg": 3800,
                                                 "description": "Oval solitaire"}},
                              actor="sophie", signature=SIGNATURE)
    assert done["stage"] == "collected" and done["item_id"] == "CUSTOM-1"
    piece = await store.items.get("CUSTOM-1")
    assert piece["status"] == "sold"
    sale = await store.sales.get(done["sale_id"])
    assert sum(t["amount"] for t in sale["tenders"] if t["type"] == "deposit") == 300000


def test_custom_stages_can_be_switched_off():
    machine = custom_machine(("stone_sourcing", "cad"))
    assert "cad" not in machine.stages
    assert machine.after("deposit", "to_approval") == "approval"
    assert machine.after("approval", "revise") == "deposit"
    assert next_move(machine, "enquiry").target == "consultation"


async def test_rebuild_gives_the_same_books(shop):
    store, jobs, her = shop
    job = await jobs.open(ring(her), actor="sophie")
    await jobs.move(job["job_id"], "to_bench", actor="hugo")
    await jobs.move(job["job_id"], "hold", "waiting for a stone", actor="hugo")
    before = books(store)
    await store.rebuild()
    assert books(store) == before


def test_a_scan_moves_a_repair_on_as_the_story_goes():
    from hub.workshop.jobs import REPAIR, SPECIAL

    stage, path = REPAIR.initial, []
    while (move := next_move(REPAIR, stage)) is not None:
        stage = move.target
        path.append(stage)
    assert path == ["at_bench", "at_vendor", "quality_check", "ready"]
    assert next_move(REPAIR, "at_bench", ("at_vendor",)).target == "quality_check"
    assert next_move(REPAIR, "on_hold") is None and next_move(REPAIR, "ready") is None
    assert next_move(SPECIAL, "ordered").target == "arrived"


async def test_special_order_piece_is_set_aside_then_sold_to_her(shop):
    store, jobs, her = shop
    job = await jobs.open({"kind": "special", "client_id": her, "item_kind": "bracelet",
                           "description": "rigid bangle, size 17", "price": 420000,
                           "deposit": {"register_id": "R1", "tenders": cash(100000)}},
                          actor="sophie")
    number = job["job_id"]
    await jobs.move(number, "to_ordered", actor="sophie")
    await jobs.move(number, "to_arrived", actor="sophie")
    job = await jobs.set_piece(number, {"piece": {"item_id": "BANGLE-17", "sku": "BG-17",
                                                  "description": "Rigid bangle 17"}},
                               actor="sophie")
    assert job["item_id"] == "BANGLE-17"
    other = (await store.clients.create(client("Ines", "Roy"), "test"))["client_id"]
    with pytest.raises(Refused) as held:  # nobody else can buy it off the counter
        await store.sales.complete(register_id="R1", actor="sophie", client_id=other,
                                   lines=[{"item_id": "BANGLE-17"}], tenders=cash(420000))
    assert held.value.code == "held"
    await jobs.move(number, "to_ready", actor="sophie")
    done = await jobs.collect(number, {"register_id": "R1", "tenders": cash(320000)},
                              actor="sophie", signature=SIGNATURE)
    assert done["stage"] == "collected"
    assert (await store.items.get("BANGLE-17"))["status"] == "sold"
    assert await store.holds.of("BANGLE-17") is None
