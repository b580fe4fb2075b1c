"""Clienteling outcomes against what was done: for any generated set of appointments (held,
no-show, cancelled, still booked), thank-you follow-ups done after some, and sales to the
clients before, during and after them (some voided, some partly or wholly returned), all
made through the real services on a ledger whose clock walks through the past months, the
report's figures equal a recomputation from what the services answered; the groupings add up
to the totals, a rebuild changes nothing, and a bad range is refused."""

from __future__ import annotations

import asyncio
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.clienteling.appointments import Appointments
from hub.clienteling.book import FollowUps
from hub.clienteling.rules import Rules
from hub.core.errors import Invalid
from hub.core.sales import validate_lines
from hub.ledger.ledger import utc_now
from hub.reports.outcomes import ask_outcomes, outcomes_glance, outcomes_report
from hub.store import Store, init_store
from tests.builders import cash, client, piece

ZONE = "Europe/Paris"
TZ = ZoneInfo(ZONE)
STAFF = (("sophie", "Sophie Martin", "associate"), ("alex", "Alex Roy", "associate"))
WHO = ("sophie", "alex")
STATUSES = ("done", "done", "arrived", "no_show", "cancelled", "booked")

# (client, associate, day, hour, status, followed up, how)
APPOINTMENT = st.tuples(st.integers(0, 2), st.integers(0, 1), st.integers(0, 50),
                        st.integers(10, 17), st.sampled_from(STATUSES), st.booleans(),
                        st.sampled_from(["called", "message_left", "visited"]))
# (client, day, hour, minute, lines, what happens to it)
SALE = st.tuples(st.integers(0, 2), st.integers(0, 90), st.integers(9, 19), st.integers(0, 59),
                 st.integers(1, 2), st.sampled_from(["kept", "kept", "void", "return_one",
                                                     "return_all"]))
PLANS = st.tuples(st.lists(APPOINTMENT, max_size=8, unique_by=lambda a: (a[2], a[3])),
                  st.lists(SALE, max_size=10))


def _moment(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=TZ)


def _clock(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


async def open_shop(root: Path) -> tuple[Store, Appointments, FollowUps, list[str]]:
    store = await Store.open(init_store(root / "s", "paris-01", "Maison", "EUR", ZONE))
    for staff_id, name, role in STAFF:
        await store.staff.enroll(staff_id, name, role, "135790", actor="test")
    await store.items.receive_many(
        [piece(f"P-{n}", tag_price=100_000 + 1_000 * n) for n in range(40)], "test")
    clients = [(await store.clients.create(client(first, "Fontaine"), "test"))["client_id"]
               for first in ("Hélène", "Inès", "Zoé")]
    appointments = Appointments(store)
    followups = FollowUps(store, Rules())  # what the clienteling part does at start
    followups.sources.append(appointments.followups)
    return store, appointments, followups, clients


async def make(store: Store, appointments: Appointments, followups: FollowUps,
               clients: list[str], plan, base: date) -> dict:
    """Do the plan in time order (the ledger's clock set to each moment) and say what the
    services answered: each appointment's start and status, each follow-up's moment, each
    sale's moment, client and what it kept."""
    booked_at = _moment(base - timedelta(days=1), 9)
    appointments.now = lambda: booked_at
    store.ledger.clock = lambda: _clock(booked_at)
    held, done_followups, sales, events = [], [], [], []
    for who, associate, day, hour, status, follow, how in plan[0]:
        start = _moment(base + timedelta(days=day), hour)
        a = await appointments.book({"kind": "private_viewing", "client_id": clients[who],
                                     "associate": WHO[associate], "salon": "Salon 1",
                                     "start": start.replace(tzinfo=None).isoformat(),
                                     "duration_min": 45}, actor=WHO[associate])
        events.append((start, 0, ("appointment", a, status, follow, how)))
    for who, day, hour, minute, lines, fate in plan[1]:
        events.append((_moment(base + timedelta(days=day), hour, minute, 17), 2,
                       ("sale", who, lines, fate)))
    free = [f"P-{n}" for n in range(40)]
    events.sort(key=lambda e: (e[0], e[1]))
    while events:
        moment, order, what = events.pop(0)
        store.ledger.clock = lambda m=moment: _clock(m)
        if what[0] == "appointment":
            _, a, status, follow, how = what
            moves = {"done": ("arrive", "finish"), "arrived": ("arrive",),
                     "no_show": ("no_show",), "cancelled": ("cancel",), "booked": ()}[status]
            for move in moves:
                await appointments.move(a["appointment_id"], move,
                                        "She is travelling" if move == "cancel" else None,
                                        actor=a["associate"])
            held.append({**a, "status": status})
            if status == "done" and follow:  # the thank-you call, two days later
                day = moment.astimezone(TZ).date() + timedelta(days=2)
                events.append((_moment(day, 12, 30), 1, ("followup", a, how)))
                events.sort(key=lambda e: (e[0], e[1]))
        elif what[0] == "followup":
            _, a, how = what
            day = moment.astimezone(TZ).date()
            fid = f"appointment:{a['client_id']}:{a['appointment_id']}"
            await followups.done(fid, how, actor=a["associate"], today=day)
            done_followups.append({"moment": moment, "client_id": a["client_id"],
                                   "associate": a["associate"], "how": how})
        else:
            _, who, lines, fate = what
            items = [free.pop() for _ in range(lines)]
            priced = await store.ledger.read(lambda tx, li=items: store.sales.price_in(
                tx, validate_lines([{"item_id": i} for i in li]), 0, None))
            made = await store.sales.complete(
                register_id="R1", actor="sophie", lines=[{"item_id": i} for i in items],
                client_id=clients[who], tenders=cash(priced["total"]))
            kept = made["total"]
            if fate == "void":
                await store.sales.void(made["sale_id"], register_id="R1", actor="sophie",
                                       reason="a mistake")
                kept = None
            elif fate == "return_one" and lines == 2:
                back = await store.sales.return_lines(made["sale_id"], register_id="R1",
                                                      actor="sophie", reason="too large",
                                                      lines=[{"line_no": 1}])
                kept -= back["refund"]
            elif fate.startswith("return"):
                await store.sales.return_lines(made["sale_id"], register_id="R1",
                                               actor="sophie", reason="changed her mind")
                kept = None
            sales.append({"moment": moment, "client_id": clients[who], "kept": kept})
    store.ledger.clock = utc_now
    return {"appointments": held, "followups": done_followups, "sales": sales}


def expected(made: dict, first: date, last: date) -> dict:
    """The figures recomputed from what the services answered, by the report's rules."""
    def followed(client_id: str, since: datetime) -> list[int]:
        end = since.astimezone(TZ).date() + timedelta(days=30)
        return [s["kept"] for s in made["sales"] if s["client_id"] == client_id
                and s["kept"] is not None and s["moment"] >= since
                and s["moment"].astimezone(TZ).date() <= end]

    a_totals = {"held": 0, "cancelled": 0, "no_show": 0, "waiting": 0, "converted": 0,
                "sales": 0, "net": 0}
    by_associate: dict[str, list[int]] = {}
    for a in made["appointments"]:
        start = datetime.fromisoformat(a["start"].replace("Z", "+00:00"))
        if not first <= start.astimezone(TZ).date() <= last:
            continue
        if a["status"] in ("done", "arrived"):
            nets = followed(a["client_id"], start)
            a_totals["held"] += 1
            a_totals["converted"] += bool(nets)
            a_totals["sales"] += len(nets)
            a_totals["net"] += sum(nets)
            by_associate.setdefault(a["associate"], []).append(sum(nets))
        else:
            a_totals["waiting" if a["status"] == "booked" else a["status"]] += 1
    f_totals = {"done": 0, "converted": 0, "sales": 0, "net": 0}
    by_how: dict[str, int] = {}
    for f in made["followups"]:
        if not first <= f["moment"].astimezone(TZ).date() <= last:
            continue
        nets = followed(f["client_id"], f["moment"])
        f_totals["done"] += 1
        f_totals["converted"] += bool(nets)
        f_totals["sales"] += len(nets)
        f_totals["net"] += sum(nets)
        by_how[f["how"]] = by_how.get(f["how"], 0) + 1
    return {"appointments": a_totals, "followups": f_totals,
            "by_associate": {k: sum(v) for k, v in by_associate.items()}, "by_how": by_how}


def _check(out: dict, want: dict) -> None:
    a, f = out["appointments"], out["followups"]
    assert {k: a["totals"][k] for k in want["appointments"]} == want["appointments"]
    assert {k: f["totals"][k] for k in want["followups"]} == want["followups"]
    held = a["totals"]["held"]
    assert a["totals"]["share_bp"] == (a["totals"]["converted"] * 10_000 // held
                                       if held else None)
    assert {r["key"]: r["net"] for r in a["by_associate"] if r["held"]} == want["by_associate"]
    assert {r["key"]: r["done"] for r in f["by_outcome"]} == want["by_how"]
    for part, counted, groupings in (("appointments", "held", ("by_associate", "by_kind")),
                                     ("followups", "done", ("by_associate", "by_kind",
                                                            "by_outcome"))):
        for grouping in groupings:  # every grouping adds up to the totals
            for figure in (counted, "converted", "sales", "net", "open"):
                assert sum(r[figure] for r in out[part][grouping]) == \
                    out[part]["totals"][figure]
    assert all(r["key"] == "appointment" for r in f["by_kind"])
    assert a["totals"]["open"] == f["totals"]["open"] == 0  # all 30 days are past


async def _run(plan, root: Path) -> None:
    store, appointments, followups, clients = await open_shop(root)
    try:
        today = datetime.now(TZ).date()
        base = today - timedelta(days=150)
        made = await make(store, appointments, followups, clients, plan, base)
        for first, last in ((base, base + timedelta(days=60)),
                            (base + timedelta(days=10), base + timedelta(days=30))):
            asked = ask_outcomes({"from": first.isoformat(), "to": last.isoformat()}, today)
            out = await store.ledger.read(
                lambda tx, r=asked: outcomes_report(tx, ZONE, "EUR", r, today))
            _check(out, expected(made, first, last))
        wide = ask_outcomes({"from": base.isoformat(), "to": today.isoformat()}, today)
        before = await store.ledger.read(lambda tx: outcomes_report(tx, ZONE, "EUR", wide,
                                                                    today))
        await store.rebuild()
        assert await store.ledger.read(lambda tx: outcomes_report(tx, ZONE, "EUR", wide,
                                                                  today)) == before
    finally:
        await store.close()


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(PLANS)
def test_every_figure_is_what_was_done_recomputed(plan):
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(_run(plan, Path(tmp)))


async def test_a_sale_during_the_visit_counts_and_one_after_thirty_days_does_not(tmp_path):
    store, appointments, followups, clients = await open_shop(tmp_path)
    try:
        today = datetime.now(TZ).date()
        base = today - timedelta(days=10)
        her = clients[0]
        plan = ([(0, 0, 0, 15, "done", True, "called"), (1, 1, 1, 11, "done", False, "called"),
                 (2, 0, 2, 11, "no_show", False, "called")],
                [(0, 0, 15, 20, 1, "kept"),      # during her visit
                 (0, 0, 14, 50, 1, "kept"),      # the same day, before it: not its outcome
                 (1, 1, 11, 5, 1, "return_all")])  # given back in full: leads to nothing
        made = await make(store, appointments, followups, clients, plan, base)
        r = ask_outcomes({"from": base.isoformat()}, today)
        out = await store.ledger.read(lambda tx: outcomes_report(tx, ZONE, "EUR", r, today))
        a, f = out["appointments"]["totals"], out["followups"]["totals"]
        during = made["sales"][1]  # the events ran in time order: 14:50 first
        assert during["moment"].hour == 15 and during["client_id"] == her
        assert (a["held"], a["no_show"], a["converted"], a["sales"], a["net"]) == (
            2, 1, 1, 1, during["kept"])
        assert a["share_bp"] == 5_000 and a["open"] == 2  # their 30 days are not over
        assert (f["done"], f["converted"], f["open"]) == (1, 0, 1)  # nothing after the call
        glance = await store.ledger.read(lambda tx: outcomes_glance(tx, ZONE, today))
        assert glance == {"from": (today - timedelta(days=29)).isoformat(),
                          "to": today.isoformat(),
                          "appointments": {"held": 2, "converted": 1, "share_bp": 5_000},
                          "followups": {"done": 1, "converted": 0, "share_bp": 0}}
        # 31 days after Inès's appointment (the clock set ahead), a sale is out of its reach.
        late = _moment(base + timedelta(days=32), 12)
        store.ledger.clock = lambda: _clock(late)
        priced = await store.ledger.read(lambda tx: store.sales.price_in(
            tx, validate_lines([{"item_id": "P-0"}]), 0, None))
        await store.sales.complete(register_id="R1", actor="sophie",
                                   lines=[{"item_id": "P-0"}], client_id=clients[1],
                                   tenders=cash(priced["total"]))
        store.ledger.clock = utc_now
        again = await store.ledger.read(lambda tx: outcomes_report(tx, ZONE, "EUR", r, today))
        assert again["appointments"]["totals"]["converted"] == 1
    finally:
        store.ledger.clock = utc_now
        await store.close()


@pytest.mark.parametrize("query, field, words", [
    ({"from": "2026-12-10", "to": "2026-12-01"}, "from", "ends before it begins"),
    ({"from": "2020-01-01", "to": "2026-12-01"}, "to", "at most"),
    ({"from": "yesterday"}, "from", "is not a date"),
    ({"from": "2027-01-01", "to": "2027-01-31"}, "from", "after today")])
def test_a_range_reversed_or_absurd_is_refused(query, field, words):
    with pytest.raises(Invalid) as refused:
        ask_outcomes(query, date(2026, 12, 3))
    assert field in {p.field for p in refused.value.problems}
    assert words in str(refused.value.problems[0].message)


def test_the_default_range_is_the_last_ninety_days():
    r = ask_outcomes({}, date(2026, 12, 3))
    assert (r.first, r.last) == (date(2026, 9, 5), date(2026, 12, 3))
