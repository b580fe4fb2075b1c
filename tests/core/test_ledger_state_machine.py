"""A Hypothesis state machine over the services: receive, sell, return, void, create and forget
clients, close and reopen. After every step the books hold their invariants."""

import asyncio
import sqlite3
import tempfile
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from hub.core.errors import Refused
from hub.layers import areas, schemas
from hub.ledger.ledger import dump_projections, verify_database
from hub.store import Store, init_store
from tests.builders import client, piece

PRICES = st.integers(1, 2_000_000)


class Books(RuleBasedStateMachine):
    pieces = Bundle("pieces")
    clients = Bundle("clients")
    sales = Bundle("sales")

    def __init__(self) -> None:
        super().__init__()
        self.runner = asyncio.Runner()
        self.tmp = tempfile.TemporaryDirectory()
        self.config = init_store(Path(self.tmp.name) / "s", "paris-01", "Maison", "EUR")
        self.store = self.run(Store.open(self.config))
        self.n = 0
        self.status: dict[str, str] = {}  # the model: piece -> expected status
        self.forgotten: set[str] = set()

    def run(self, coro):
        return self.runner.run(coro)

    def teardown(self) -> None:
        self.run(self.store.close())
        self.runner.close()
        self.tmp.cleanup()

    @rule(target=pieces, price=PRICES)
    def receive(self, price):
        self.n += 1
        p = self.run(self.store.items.receive(piece(self.n, tag_price=price), "admin"))
        self.status[p["item_id"]] = "in_stock"
        return p["item_id"]

    @rule(target=clients)
    def new_client(self):
        return self.run(self.store.clients.create(client(), "anna"))["client_id"]

    @rule(target=sales, items=st.lists(pieces, min_size=1, max_size=3, unique=True),
          who=st.none() | clients, register=st.sampled_from(["R1", "R2"]),
          discount_pct=st.integers(0, 30))
    def sell(self, items, who, register, discount_pct):
        prices = {i: self.run(self.store.items.get(i))["tag_price"] for i in items}
        discount = sum(prices.values()) * discount_pct // 100
        try:
            sale = self.run(self.store.sales.complete(
                register_id=register, actor="anna", lines=[{"item_id": i} for i in items],
                tenders=[{"type": "cash", "amount": sum(prices.values()) - discount + 500}],
                discount=discount, client_id=who))
        except Refused as exc:
            sellable = all(self.status[i] == "in_stock" for i in items)
            assert not sellable or who in self.forgotten, f"refused a valid sale: {exc}"
            return None
        assert all(self.status[i] == "in_stock" for i in items), "sold a piece not in stock"
        assert sale["total"] == sum(prices.values()) - discount
        for i in items:
            self.status[i] = "sold"
        return (sale["sale_id"], tuple(items))

    @rule(sale=sales, void=st.booleans())
    def undo(self, sale, void):
        if sale is None:
            return
        sale_id, items = sale
        current = self.run(self.store.sales.get(sale_id))
        try:
            if void:
                self.run(self.store.sales.void(sale_id, register_id="R1", actor="m",
                                               reason="keyed wrong"))
            else:
                self.run(self.store.sales.return_lines(sale_id, register_id="R2", actor="m",
                                                       reason="changed mind"))
        except Refused:
            assert current["status"] != "completed" or not void
            return
        assert current["status"] in ("completed", "partly_returned")
        for i in items:
            self.status[i] = "in_stock" if void else "returned"

    @rule(item=pieces)
    def restock(self, item):
        if self.status[item] == "returned":
            self.run(self.store.items.change_status(item, "in_stock", "m", reason="inspected"))
            self.status[item] = "in_stock"

    @rule(who=clients)
    def forget(self, who):
        if who in self.forgotten:
            return
        self.run(self.store.clients.forget(who, "manager"))
        self.forgotten.add(who)

    @rule()
    def reopen(self):
        # Caches (keyring, chain tip, name index) are rebuilt from disk. A real crash
        # (SIGKILL mid-append) is tested in test_ledger_crash.py.
        self.run(self.store.close())
        self.store = self.run(Store.open(self.config))

    @invariant()
    def books_hold(self):
        db = self.config.db_path
        verdict = verify_database(db)
        assert verdict.ok, str(verdict)
        assert verdict.count == self.store.ledger.seq
        before = dump_projections(db, schemas(areas()))
        self.run(self.store.ledger.rebuild())
        assert dump_projections(db, schemas(areas())) == before, "projections differ from a rebuild"
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            for item_id, status in conn.execute("SELECT item_id, status FROM items"):
                assert self.status[item_id] == status, item_id
            # A piece is on at most one live sale line.
            rows = conn.execute(
                "SELECT l.item_id, COUNT(*) FROM sale_lines l JOIN sales s USING (sale_id)"
                " WHERE s.status != 'voided' AND l.returned_qty < l.quantity"
                " GROUP BY l.item_id HAVING COUNT(*) > 1").fetchall()
            assert rows == []
            # Document numbers are gapless per register, sales and returns together.
            for (register,) in conn.execute("SELECT DISTINCT register_id FROM register_counters"):
                numbers = sorted(n for (n,) in conn.execute(
                    "SELECT receipt_no FROM sales WHERE register_id = ? UNION ALL"
                    " SELECT receipt_no FROM returns WHERE register_id = ?",
                    (register, register)))
                assert numbers == list(range(1, len(numbers) + 1)), register
        finally:
            conn.close()


Books.TestCase.settings = settings(max_examples=25, stateful_step_count=20, deadline=None)
TestBooks = Books.TestCase
