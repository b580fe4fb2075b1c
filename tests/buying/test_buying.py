"""Buying gold and trade-ins on a real store: the price formula (exact, monotonic, never
above the spot value, deterministic), her identity document needed and an expired one
refused, no rate refused, the hold enforced then released to the melt and to stock, the
trade-in tender on a sale and its void, payouts (cash in the Z report's section, store credit
on her account), the offered price above the computed one needing a manager, the register of
purchases and its encrypted export, and the ID number never in the database in clear."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import pyrage
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.buying.book import lot_value, price_of
from hub.buying.part import buying_of
from hub.core import metals
from hub.core.approvals import ApprovalNeeded
from hub.core.errors import Invalid, Refused
from hub.giftcards.credit import account_of as credit_account
from hub.store import Store, init_store
from tests.builders import cash, client, piece, png

ID_NUMBER = "XK7Q93C4NARY"  # the canary: never on disk in clear
FINE_GOLD = 6_000  # 60.00 EUR a gram of fine gold


def rates_message(n: int, per_gram: int = FINE_GOLD, *, hours: int = 8) -> dict:
    now = datetime.now(UTC)
    stamp = lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    return {"id": f"m-rates-{n:04d}", "type": "rates", "chain": "maison", "store": "paris-01",
            "issued_at": stamp(now), "body": {"rates": [
                {"metal": "gold", "fineness": 1000, "per_gram": per_gram, "currency": "EUR",
                 "valid_from": stamp(now - timedelta(hours=1 + max(0, -hours) * 2)),
                 "valid_until": stamp(now + timedelta(hours=hours))}]}}


@pytest.fixture
async def shop(tmp_path: Path):
    config = init_store(tmp_path / "s", "paris-01", "Maison", "EUR", "Europe/Paris")
    store = await Store.open(config)
    for staff_id, name, role in (("sophie", "Sophie Martin", "associate"),
                                 ("mona", "Mona Laurent", "manager")):
        await store.staff.enroll(staff_id, name, role, "135790", actor="test")
    with buying_of(store) as buying:
        yield store, buying
    await store.close()


async def seller(store: Store, expiry: str = "2031-05-01") -> str:
    made = await store.clients.create(client(identity_documents=[
        {"type": "passport", "number": ID_NUMBER, "expiry": expiry, "country": "FR"}]), "test")
    return made["client_id"]


def lot(weight_mg: int = 12_500, fineness: int = 750, **over) -> dict:
    return {"description": "Old curb bracelet", "metal": "gold", "fineness": fineness,
            "weight_mg": weight_mg, "test": "touchstone", **over}


# -- the formula ---------------------------------------------------------------------------

weights = st.integers(1, 5_000_000)
finenesses = st.integers(1, 1000)
rates = st.integers(1, 20_000)
bps = st.integers(0, 5000)


@given(weights, finenesses, rates, bps, bps)
def test_price_is_exact_deterministic_and_never_above_spot(w, f, r, refining, margin):
    exact = Fraction(w * f * r * max(0, 10_000 - refining - margin), 1000 * 1000 * 10_000)
    assert lot_value(w, f, r, refining, margin) == exact
    price = price_of([(w, f, r)], refining, margin)
    assert price == exact.numerator // exact.denominator  # rounded down once
    assert price == price_of([(w, f, r)], refining, margin)
    spot = metals.metal_value(w, f, r, 1000)
    assert price <= spot


@given(weights, weights, finenesses, finenesses, rates, bps)
def test_price_grows_with_weight_and_fineness(w1, w2, f1, f2, r, margin):
    lo_w, hi_w = sorted((w1, w2))
    lo_f, hi_f = sorted((f1, f2))
    assert price_of([(lo_w, lo_f, r)], 300, margin) <= price_of([(hi_w, lo_f, r)], 300, margin)
    assert price_of([(lo_w, lo_f, r)], 300, margin) <= price_of([(lo_w, hi_f, r)], 300, margin)


# -- buying from her -------------------------------------------------------------------------

async def test_buying_needs_her_document_a_valid_one_and_a_rate(shop):
    store, buying = shop
    nobody = (await store.clients.create(client("Ana", "Roux"), "test"))["client_id"]
    with pytest.raises(Refused) as e:
        await buying.buy({"client_id": nobody, "lots": [lot()], "payout": "bank_transfer",
                          "reference": "VIR-1"}, actor="sophie")
    assert e.value.code == "no_identity"
    expired = await seller(store, expiry="2020-01-31")
    with pytest.raises(Refused) as e:
        await buying.buy({"client_id": expired, "lots": [lot()], "payout": "bank_transfer",
                          "reference": "VIR-1"}, actor="sophie")
    assert e.value.code == "identity_expired" and "expired on" in str(e.value)
    her = await seller(store)
    seq = store.ledger.seq
    with pytest.raises(Refused) as e:
        await buying.buy({"client_id": her, "lots": [lot()], "payout": "bank_transfer",
                          "reference": "VIR-1"}, actor="sophie")
    assert e.value.code == "no_rate" and store.ledger.seq == seq  # nothing written
    await store.hq.apply(rates_message(1, hours=-2), "ab")  # already over
    with pytest.raises(Refused) as e:
        await buying.quote([lot()])
    assert e.value.code == "stale_rate"
    with pytest.raises(Invalid) as e:
        await buying.buy({"client_id": her, "payout": "bank_transfer", "lots": [
            lot(fineness=751, test="hallmark"), {"metal": "tin"}]}, actor="sophie")
    fields_ = {p.field for p in e.value.problems}
    assert {"reference", "lots[0].fineness", "lots[1].metal"} <= fields_


async def test_a_purchase_paid_in_cash_held_then_released(shop):
    store, buying = shop
    await store.hq.apply(rates_message(1), "ab")
    her = await seller(store)
    photo = await store.attachments.store(png(), owner=f"client:{her}", kind="photo",
                                          name="bracelet.png", actor="sophie")
    done = await buying.buy({"client_id": her, "register_id": "R1", "payout": "cash",
                             "lots": [lot(photos=[photo["hash"]]),
                                      lot(3_100, 583, test="xrf", description="Ring")]},
                            actor="sophie")
    # 12.5 g × 0.750 × 60.00 = 562.50; 3.1 g × 0.583 × 60.00 = 108.438; less 15 %: 570.2973, paid 570.29
    expected = price_of([(12_500, 750, FINE_GOLD), (3_100, 583, FINE_GOLD)], 300, 1200)
    assert done["computed"] == done["price"] == expected == 57_029
    assert done["document"] == {"type": "passport", "last": "…NARY", "country": "FR",
                                "expiry": "2031-05-01"}
    assert done["lots"][0]["photos"] == [photo["hash"]] and not done["releasable"]
    section = (await store.closures.report())["totals"]["buying"]
    assert section["cash_paid_out"] == expected
    assert section["cash_paid_out_by_register"] == {"R1": expected}
    with pytest.raises(Refused) as e:  # the hold: no melt, no stock before its end
        await buying.release(done["buyin_id"], 1, {"to": "melt"}, actor="mona")
    assert e.value.code == "on_hold" and "until" in str(e.value)
    with pytest.raises(Refused):
        await buying.release(done["buyin_id"], 1, {"to": "melt"}, actor="sophie")
    assert [h["buyin_id"] for h in await buying.held()] == [done["buyin_id"]] * 2
    buying.now = lambda: datetime.now(UTC) + timedelta(days=15)
    await buying.release(done["buyin_id"], 1, {"to": "melt", "lot": "M-12"}, actor="mona")
    after = await buying.release(done["buyin_id"], 2, {"to": "stock", "category": "ring",
                                                       "description": "Vintage ring",
                                                       "tag_price": 45_000}, actor="mona")
    assert [lt["status"] for lt in after["lots"]] == ["melt", "stock"]
    ring = await store.items.get(f"{done['buyin_id']}-2")
    assert ring["status"] == "in_stock" and ring["fineness"] == 583
    assert ring["metal_weight_mg"] == 3_100
    with pytest.raises(Refused):
        await buying.release(done["buyin_id"], 1, {"to": "stock"}, actor="mona")
    assert await buying.held() == []


async def test_price_above_computed_needs_a_manager(shop):
    store, buying = shop
    await store.hq.apply(rates_message(1), "ab")
    her = await seller(store)
    quote = await buying.quote([lot()])
    less = await buying.buy({"client_id": her, "lots": [lot()], "payout": "bank_transfer",
                             "reference": "VIR-7", "offered": quote["computed"] - 500},
                            actor="sophie")
    assert less["price"] == quote["computed"] - 500
    body = {"client_id": her, "lots": [lot()], "payout": "bank_transfer",
            "reference": "VIR-8", "offered": quote["computed"] + 1000}
    with pytest.raises(ApprovalNeeded) as e:
        await buying.buy(body, actor="sophie")
    granted = await store.approvals.decide(e.value.action, "mona", "135790",
                                           requested_by="sophie")
    done = await buying.buy({**body, "approval_id": granted["approval_id"]}, actor="sophie")
    assert done["price"] == quote["computed"] + 1000 and done["approved_by"] == "mona"


async def test_store_credit_payout_lands_on_her_account(shop):
    store, buying = shop
    await store.hq.apply(rates_message(1), "ab")
    her = await seller(store)
    done = await buying.buy({"client_id": her, "lots": [lot()], "payout": "store_credit"},
                            actor="sophie")
    assert await store.accounts.balance(credit_account(her)) == done["price"]


async def test_trade_in_tender_on_a_sale_and_its_void(shop):
    store, buying = shop
    await store.hq.apply(rates_message(1), "ab")
    await store.items.receive_many([piece("P-1", tag_price=150_000)], "test")
    her = await seller(store)
    other = await seller(store)
    trade = await buying.buy({"client_id": her, "lots": [lot()], "payout": "trade_in"},
                             actor="sophie")
    value = trade["price"]
    assert trade["trade_in_left"] == value
    assert [t["buyin_id"] for t in await buying.open_trade_ins(her)] == [trade["buyin_id"]]
    tender = {"type": "trade_in", "amount": value, "reference": trade["buyin_id"]}
    lines = [{"item_id": "P-1"}]
    for who, tenders, code in ((other, [tender, *cash(150_000 - value)], "trade_in_elsewhere"),
                               (her, [{**tender, "amount": value + 1},
                                      *cash(150_000 - value - 1)], "trade_in_short"),
                               (her, [{**tender, "reference": "B999"},
                                      *cash(150_000 - value)], "no_trade_in")):
        seq = store.ledger.seq
        with pytest.raises(Refused) as e:
            await store.sales.complete(register_id="R1", actor="sophie", lines=lines,
                                       tenders=tenders, client_id=who)
        assert e.value.code == code and store.ledger.seq == seq
    sale = await store.sales.complete(register_id="R1", actor="sophie", lines=lines,
                                      tenders=[tender, *cash(150_000 - value)], client_id=her)
    assert (await buying.get(trade["buyin_id"]))["trade_in_left"] == 0
    assert await buying.open_trade_ins(her) == []
    await store.sales.void(sale["sale_id"], register_id="R1", actor="mona", reason="mistake")
    assert (await buying.get(trade["buyin_id"]))["trade_in_left"] == value  # open again


async def test_register_of_purchases_and_its_encrypted_export(shop):
    store, buying = shop
    await store.hq.apply(rates_message(1), "ab")
    her = await seller(store)
    done = await buying.buy({"client_id": her, "lots": [lot()], "payout": "bank_transfer",
                             "reference": "VIR-3"}, actor="sophie")
    today = buying.today().isoformat()
    rows = await buying.report(today, today)
    assert [r["buyin_id"] for r in rows] == [done["buyin_id"]]
    assert rows[0]["document"]["last"] == "…NARY" and rows[0]["lots"][0]["test"] == "touchstone"
    with pytest.raises(Invalid):
        await buying.export(today, today, "short", actor="mona")
    sealed = await buying.export(today, today, "correct horse battery", actor="mona")
    text = pyrage.passphrase.decrypt(sealed, "correct horse battery").decode()
    assert done["buyin_id"] in text and "…NARY" in text and ID_NUMBER not in text
    last = (await store.ledger.entries(store.ledger.seq - 1))[-1]
    assert last.kind == "buyin.report_exported"


async def test_the_id_number_never_on_disk_in_clear(shop, tmp_path):
    store, buying = shop
    await store.hq.apply(rates_message(1), "ab")
    her = await seller(store)
    await buying.buy({"client_id": her, "lots": [lot()], "payout": "cash",
                      "register_id": "R1"}, actor="sophie")
    needle = ID_NUMBER.encode()
    for path in (tmp_path / "s").rglob("*"):
        if path.is_file():
            assert needle not in path.read_bytes(), path
            assert ID_NUMBER[-4:].encode() + b"\"" not in path.read_bytes(), path


async def test_a_document_shown_at_the_counter_goes_into_her_profile(shop):
    store, buying = shop
    await store.hq.apply(rates_message(1), "ab")
    her = (await store.clients.create(client("Inès", "Blanc"), "test"))["client_id"]
    doc = {"type": "identity_card", "number": "ZZ9911", "expiry": "2030-03-03",
           "country": "be"}
    done = await buying.buy({"client_id": her, "lots": [lot()], "payout": "store_credit",
                             "new_document": doc}, actor="sophie")
    assert done["document"]["type"] == "identity_card" and done["document"]["country"] == "BE"
    profile = (await store.clients.get(her))["profile"]
    assert profile["identity_documents"][0]["number"] == "ZZ9911"
