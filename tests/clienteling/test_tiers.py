"""Client tiers: thresholds as properties (more spend or more visits never lowers a tier; a
configuration that is not increasing is refused naming its key), and over the real books:
each change journaled once as sales and returns happen, a return lowering a tier, a rebuild
giving the same rows; rising clients from sales in two years' windows."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.clienteling.part import part
from hub.clienteling.tiers import (
    MEASURES,
    TIERS,
    Measures,
    Threshold,
    TierRules,
    Windows,
    check_increasing,
    is_rising,
    rank,
    tier_rules_of,
)
from hub.config import ConfigError, load_config, parse_config
from hub.layers import LAYERS
from hub.ledger.ledger import dump_projections
from hub.runtime import Options, Runtime
from hub.store import Store
from tests.builders import cash, piece

amounts = st.integers(0, 5_000_000)
visits = st.integers(0, 12)
measures = st.builds(Measures, lifetime=amounts, last_12_months=amounts, visits=visits)
thresholds = st.builds(Threshold, lifetime=amounts, last_12_months=amounts, visits=visits)


@st.composite
def increasing_rules(draw) -> TierRules:
    """Three thresholds, each at least the one below on every measure, more on one."""
    found, lower = [], Threshold()
    for name in TIERS[1:]:
        up = {k: getattr(lower, k) + draw(st.integers(0, 1_000_000 if k != "visits" else 4))
              for k in MEASURES}
        if all(up[k] == getattr(lower, k) for k in MEASURES):
            up[draw(st.sampled_from(MEASURES))] += 1
        lower = Threshold(**up)
        found.append((name, lower))
    return TierRules(tuple(found))


def _increasing(found: list[tuple[str, Threshold]]) -> bool:
    lower = Threshold()
    for _, t in found:
        if any(getattr(t, k) < getattr(lower, k) for k in MEASURES) or t == lower:
            return False
        lower = t
    return True


@given(rules=increasing_rules(), m=measures, more=measures)
def test_more_spend_or_visits_never_lowers_a_tier(rules, m, more):
    bigger = Measures(m.lifetime + more.lifetime, m.last_12_months + more.last_12_months,
                      m.visits + more.visits)
    assert rank(rules.tier_of(bigger)) >= rank(rules.tier_of(m))
    # Meeting a tier is meeting every tier below it.
    reached = rank(rules.tier_of(m))
    for name, threshold in rules.thresholds:
        assert threshold.met_by(m) == (rank(name) <= reached)


@given(found=st.lists(thresholds, min_size=3, max_size=3))
def test_a_configuration_that_is_not_increasing_is_refused_naming_its_key(found):
    named = list(zip(TIERS[1:], found, strict=True))
    if _increasing(named):
        check_increasing(named)
        return
    with pytest.raises(ConfigError) as refused:
        check_increasing(named)
    assert str(refused.value).startswith("tiers.")
    assert str(refused.value).split(":")[0].split(".")[1] in TIERS[1:]


def _config(tmp_path, tiers: dict | None):
    doc = {"store": {"id": "t-01", "name": "T", "currency": "EUR"},
           "registers": [{"id": "R1"}]}
    if tiers is not None:
        doc["tiers"] = tiers
    return parse_config(doc, tmp_path)


def test_the_tiers_section_is_read_key_by_key(tmp_path):
    rules = tier_rules_of(_config(tmp_path, {"vip": {"lifetime": 9_000_000,
                                                     "last_12_months": 500_000,
                                                     "visits": 4}}))
    assert dict(rules.thresholds)["vip"] == Threshold(9_000_000, 500_000, 4)
    assert dict(rules.thresholds)["new"] == Threshold(visits=1)  # the default
    assert tier_rules_of(_config(tmp_path, None)) == TierRules()
    with pytest.raises(ConfigError, match=r"^tiers\.vip\.lifetime: must be at least"
                                          r" tiers\.loyal\.lifetime"):
        tier_rules_of(_config(tmp_path, {"loyal": {"lifetime": 500_000, "visits": 2},
                                         "vip": {"lifetime": 100, "visits": 3}}))
    with pytest.raises(ConfigError, match=r"^tiers\.loyal: asks no more than tiers\.new"):
        tier_rules_of(_config(tmp_path, {"new": {"visits": 1}, "loyal": {"visits": 1}}))
    with pytest.raises(ConfigError, match=r"^tiers\.gold: unknown key"):
        tier_rules_of(_config(tmp_path, {"gold": {"visits": 1}}))
    with pytest.raises(ConfigError, match=r"^tiers\.vip\.visits: must be a whole number"):
        tier_rules_of(_config(tmp_path, {"vip": {"visits": "many"}}))


def test_is_rising_means_a_client_of_last_year_doing_more_this_year():
    assert is_rising(Windows(recent=200, recent_visits=1, earlier=100, earlier_visits=1))
    assert is_rising(Windows(recent=100, recent_visits=3, earlier=500, earlier_visits=2))
    assert not is_rising(Windows(recent=100, recent_visits=1, earlier=100, earlier_visits=1))
    assert not is_rising(Windows(recent=9_000, recent_visits=3))  # new this year: not rising
    assert not is_rising(Windows(recent=50, recent_visits=1, earlier=100, earlier_visits=2))


@given(w=st.builds(Windows, recent=amounts, recent_visits=visits, earlier=amounts,
                   earlier_visits=visits), more=amounts, again=visits)
def test_more_this_year_keeps_a_rising_client_rising(w, more, again):
    if is_rising(w):
        assert is_rising(Windows(w.recent + more, w.recent_visits + again, w.earlier,
                                 w.earlier_visits))


# -- over the real books --------------------------------------------------------------------

TOML = """
[tiers]
new = { visits = 1 }
loyal = { lifetime = 1000000, visits = 2 }
vip = { lifetime = 2000000, last_12_months = 1000000, visits = 3 }
"""


@pytest.fixture
async def tiered(make_config):
    """A store whose loupe.toml sets its `[tiers]`."""
    config = make_config("tiered")
    with (config.data_dir / "loupe.toml").open("a", encoding="utf-8") as f:
        f.write(TOML)
    store = await Store.open(load_config(config.data_dir))
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
async def running(tiered):
    """The clienteling part running over that store, with six pieces in stock."""
    runtime = Runtime(tiered.config, tiered, tiered.bus, Options(), LAYERS)
    await tiered.items.receive_many([piece(f"T{n}", sku=f"S-{n}", tag_price=1_000_000)
                                     for n in range(1, 7)], "test")
    async with part(runtime):
        yield runtime


async def _sell(store, client_id: str, serial: str) -> str:
    sale = await store.sales.complete(register_id="R1", actor="anna",
                                      lines=[{"item_id": serial}], tenders=cash(1_000_000),
                                      client_id=client_id)
    return sale["sale_id"]


async def _changes(store) -> list[tuple[str, str]]:
    out = []
    for entry in await store.ledger.entries(0, 10_000):
        if entry.kind == "client.tier_changed":
            p = store.ledger.decrypt(entry)
            out.append((p["from"], p["to"]))
    return out


async def test_each_change_is_journaled_once_and_a_return_lowers_the_tier(running):
    tiers, store = running.tiers, running.store
    client = await store.clients.create({"first_name": "Hélène", "last_name": "Fontaine"},
                                        "test")
    cid = client["client_id"]
    await tiers.settled()
    assert (await tiers.of(cid))["tier"] == "prospect" and await _changes(store) == []
    first = await _sell(store, cid, "T1")
    await tiers.settled()
    assert (await tiers.of(cid))["tier"] == "new"
    await _sell(store, cid, "T2")
    # Settled between the two: sales close together are recomputed once (new -> vip).
    await tiers.settled()
    third = await _sell(store, cid, "T3")
    await tiers.settled()
    assert (await tiers.of(cid))["tier"] == "vip"
    assert await _changes(store) == [("prospect", "new"), ("new", "loyal"), ("loyal", "vip")]
    # Asked again, nothing changed: nothing journaled.
    assert await tiers.recompute(cid) is None and await tiers.recompute_all() == 0
    assert len(await _changes(store)) == 3
    await store.sales.return_lines(third, register_id="R1", actor="mona", reason="too big")
    await tiers.settled()
    assert (await tiers.of(cid))["tier"] == "loyal"
    await store.sales.void(first, register_id="R1", actor="mona", reason="mistake")
    await tiers.settled()
    assert (await tiers.of(cid))["tier"] == "new"
    assert await _changes(store) == [("prospect", "new"), ("new", "loyal"), ("loyal", "vip"),
                                     ("vip", "loyal"), ("loyal", "new")]
    entry = [e for e in await store.ledger.entries(0, 10_000)
             if e.kind == "client.tier_changed"][-1]
    assert store.ledger.decrypt(entry)["why"] == {"lifetime": 1_000_000,
                                                  "last_12_months": 1_000_000, "visits": 1}
    before = dump_projections(store.ledger.db_path, store.ledger.schemas)
    assert before["client_tiers"]
    await store.rebuild()
    await tiers.settled()  # the rebuild asks for the whole book again: nothing changes
    assert dump_projections(store.ledger.db_path, store.ledger.schemas) == before
    assert len(await _changes(store)) == 5


async def test_sales_at_once_journal_a_chain_of_changes_never_the_same_twice(running):
    tiers, store = running.tiers, running.store
    cid = (await store.clients.create({"first_name": "Amara", "last_name": "Okafor"},
                                      "test"))["client_id"]
    await asyncio.gather(*(_sell(store, cid, f"T{n}") for n in range(1, 5)))
    await tiers.settled()
    changes = await _changes(store)
    assert changes and changes[-1][1] == "vip" and len(changes) <= 3
    assert all(was != now for was, now in changes)
    assert all(a[1] == b[0] for a, b in zip(changes, changes[1:], strict=False))
    assert changes[0][0] == "prospect"


async def test_clients_without_a_tier_get_one_at_start(store):
    client = await store.clients.create({"first_name": "Inès", "last_name": "Roux"}, "test")
    await store.items.receive_many([piece("U1", tag_price=1_000_000)], "test")
    await _sell(store, client["client_id"], "U1")  # while the clienteling part is not running
    runtime = Runtime(store.config, store, store.bus, Options(), LAYERS)
    async with part(runtime):
        await runtime.tiers.settled()
        assert (await runtime.tiers.of(client["client_id"]))["tier"] == "new"
        assert (await runtime.tiers.counts())["new"] == 1
        [listed] = await runtime.tiers.book("new")
        assert (listed["name"], listed["lifetime"], listed["visits"]) == ("Inès Roux",
                                                                          1_000_000, 1)
    async with part(runtime):  # a second start: nothing new to say
        await runtime.tiers.settled()
    assert await _changes(store) == [("prospect", "new")]


async def test_a_threshold_configuration_that_is_not_increasing_stops_the_start(store):
    config = parse_config({**store.config.raw, "tiers": {
        "loyal": {"lifetime": 900_000, "visits": 2}, "vip": {"lifetime": 800_000,
                                                            "visits": 3}}},
        store.config.data_dir)
    runtime = Runtime(config, store, store.bus, Options(), LAYERS)
    with pytest.raises(ConfigError, match="tiers.vip.lifetime"):
        async with part(runtime):
            pass
    assert runtime.tiers is None


async def test_rising_clients_spent_more_or_came_more_often_than_the_year_before(
        running, monkeypatch):
    tiers, store = running.tiers, running.store
    made = {}
    for first in ("Rising", "Steady", "Newcomer"):
        made[first] = (await store.clients.create({"first_name": first, "last_name": "Client"},
                                                  "test"))["client_id"]
    now = datetime.now(UTC)
    ago = (now - timedelta(days=500)).strftime("%Y-%m-%dT%H:%M:%S.000000Z")
    monkeypatch.setattr(store.ledger, "clock", lambda: ago)  # sales of last year
    await _sell(store, made["Rising"], "T1")
    await _sell(store, made["Steady"], "T2")
    monkeypatch.undo()
    await _sell(store, made["Rising"], "T3")  # and this year
    await _sell(store, made["Rising"], "T4")
    await _sell(store, made["Steady"], "T5")
    await _sell(store, made["Newcomer"], "T6")
    await tiers.settled()
    rising = await tiers.rising()
    assert [c["name"] for c in rising] == ["Rising Client"]
    [r] = rising
    assert (r["recent"], r["recent_visits"], r["earlier"], r["earlier_visits"]) == (
        2_000_000, 2, 1_000_000, 1)
    # A year on, this year's sales are the year before: nobody is rising.
    assert await tiers.rising(today=now.date() + timedelta(days=366)) == []
