"""The memo's money rule over random sequences of memo in, sell, return, void, back to the
vendor and pay: a vendor's payable is always what its memo pieces sold (and not taken back)
owe, less what it was paid; refused steps write nothing; and a rebuild gives the same rows."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.core.errors import Refused
from hub.ledger.ledger import dump_projections
from hub.memo.book import payable_account
from hub.memo.part import memo_of
from hub.store import Store, init_store
from tests.builders import cash, piece

OPS = st.lists(st.one_of(
    st.tuples(st.just("receive"), st.integers(1, 9) .map(lambda n: n * 10_000)),
    st.tuples(st.just("sell"), st.integers(0, 7)),
    st.tuples(st.just("return"), st.integers(0, 7)),
    st.tuples(st.just("void"), st.integers(0, 7)),
    st.tuples(st.just("back"), st.integers(0, 7)),
    st.tuples(st.just("pay"), st.integers(1, 40).map(lambda n: n * 5_000)),
), min_size=1, max_size=14)


async def run(ops: list[tuple[str, int]], path: Path) -> None:
    config = init_store(path / "s", "paris-01", "Maison", "EUR", "Europe/Paris")
    store = await Store.open(config)
    try:
        with memo_of(store) as memo:
            vendor = (await memo.add_vendor({"name": "Vendôme", "terms_days": 30},
                                            actor="test"))["vendor_id"]
            pieces: list[str] = []
            owed: dict[str, int] = {}
            sold: dict[str, str] = {}  # serial -> the sale that has it now
            paid = 0
            for op, arg in ops:
                seq = store.ledger.seq
                try:
                    if op == "receive":
                        serial = f"M-{len(pieces)}"
                        await memo.receive({"vendor_id": vendor, "memo_ref": "M1", "pieces": [
                            piece(serial, cost=arg, tag_price=arg * 3)]}, actor="test")
                        pieces.append(serial)
                        owed[serial] = arg
                    elif not pieces and op != "pay":
                        continue
                    elif op == "sell":
                        serial = pieces[arg % len(pieces)]
                        sale = await store.sales.complete(
                            register_id="R1", actor="test", lines=[{"item_id": serial}],
                            tenders=cash(owed[serial] * 3))
                        sold[serial] = sale["sale_id"]
                    elif op in ("return", "void"):
                        serial = pieces[arg % len(pieces)]
                        if serial not in sold:
                            continue
                        if op == "return":
                            await store.sales.return_lines(sold[serial], register_id="R1",
                                                           actor="test", reason="back")
                        else:
                            await store.sales.void(sold[serial], register_id="R1",
                                                   actor="test", reason="wrong")
                        del sold[serial]
                        if op == "return":  # inspected, back in the showcase
                            await store.items.inspect(serial, "in_stock", None, "test")
                    elif op == "back":
                        serial = pieces[arg % len(pieces)]
                        await memo.return_to_vendor(serial, {}, actor="test")
                        pieces.remove(serial)
                    elif op == "pay":
                        await memo.pay_vendor(vendor, {"amount": arg, "method": "cheque",
                                                       "reference": "C1"}, actor="test")
                        paid += arg
                except Refused:
                    assert store.ledger.seq == seq  # a refusal writes nothing
                expected = sum(owed[s] for s in sold) - paid
                assert await store.accounts.balance(payable_account(vendor)) == expected
                assert expected >= 0
            before = dump_projections(store.ledger.db_path, store.ledger.schemas)
            await store.rebuild()
            assert dump_projections(store.ledger.db_path, store.ledger.schemas) == before
    finally:
        await store.close()


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(OPS)
def test_payable_is_what_sold_memo_pieces_owe_less_paid(ops):
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(run(ops, Path(tmp)))
