"""Memo and consignment: the store's service (`runtime.memo`).

- **Vendors** send pieces on memo: in the showcase and sellable, never the store's. Selling
  one owes its vendor at once (the account `vendor_payable:<vendor_id>`, kind
  `vendor_payable`, issued in the sale's transaction with the sale as ref); a return or a
  void takes it back; a manager's payment applies it. Giving a piece back to its vendor
  closes its memo (piece status `returned_to_vendor`, never sold again).
- **On approval**: a piece leaves with a client until a day (status `memo_out`); she buys
  it (a sale to her, through the explicit memo line `Sales.price_in` accepts) or brings it
  back. Overdue ones are a follow-up for her associate.
- **Consignment**: a client leaves a piece to sell, at a commission (basis points), an
  agreed minimum (below it a manager approves: `Sales.minimum_of`) and a term. Its sale
  credits her account `consignor:<client_id>` with the line's net (after discounts, less
  tax) less the commission, rounded once; paying her out applies it.

A return or a void of a sale whose vendor or consignor was paid since cannot take the
balance below zero: it is refused in words, and nothing is written.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hub.clienteling.rules import FollowUp, Rules
from hub.core import fields
from hub.core.accounts import Movement
from hub.core.approvals import ApprovalNeeded
from hub.core.carts import ASKED, price_approval
from hub.core.errors import Invalid, NotFound, Refused
from hub.core.fields import Form
from hub.core.items import load_piece_tx, row_dict, row_dicts
from hub.core.sales import validate_tenders
from hub.ledger.journal import Entry
from hub.ledger.ledger import Tx
from hub.memo.book import (
    CONSIGNOR,
    FOLLOWUP_KIND,
    METHODS,
    PAYABLE,
    TERMS,
    consignment_credit,
    consignor_account,
    due_after,
    payable_account,
)
from hub.money import Money
from hub.store import Store
from hub.words import Term

MAX_APPROVAL_DAYS = 90  # a piece on approval comes back within this
MAX_TERM_DAYS = 730  # a consignment runs at most two years
_VENDOR_ID = fields.ID


class Memo:
    """Vendors' memos, pieces on approval and consignments; a `SaleExtension` of sales."""

    tenders: frozenset[str] = frozenset()  # it takes no tender of its own

    def __init__(self, store: Store) -> None:
        self.store, self.ledger, self.words = store, store.ledger, store.words
        self.items, self.accounts = store.items, store.accounts
        self.currency = store.config.currency
        self.now: Callable[[], datetime] = lambda: datetime.now(UTC)  # tests move it

    def today(self) -> date:
        return self.now().astimezone(self.words.tz).date()

    def money(self, amount: int) -> Money:
        return Money(amount, self.currency)

    # -- vendors ------------------------------------------------------------------------------

    async def add_vendor(self, raw: Any, *, actor: str) -> dict[str, Any]:
        """A vendor: its name and usual terms (net 30, 60 or 90 days)."""
        f = Form(raw, allowed=("name", "terms_days"))
        name = f.text("name", required=True, max_len=120)
        terms = f.whole("terms_days", required=True)
        if terms is not None and terms not in TERMS:
            f.problem("terms_days", "memo terms are net 30, 60 or 90 days")
        f.done()

        def command(tx: Tx) -> str:
            if tx.one("SELECT 1 FROM memo_vendors WHERE lower(name) = lower(?)", (name,)):
                raise Refused("vendor_known", "{name} is already a vendor", name=name,
                              field="name")
            n = tx.one("SELECT COUNT(*) AS n FROM memo_vendors")["n"] + 1
            vendor_id = f"V{n}"
            tx.append("vendor.added", f"vendor:{vendor_id}",
                      {"vendor_id": vendor_id, "name": name, "terms_days": terms},
                      actor=actor)
            return vendor_id

        return await self.vendor(await self.ledger.transact(command))

    def _vendor_in(self, tx: Tx, vendor_id: Any) -> dict[str, Any]:
        vendor_id = fields.identifier(vendor_id, "vendor_id", what="a vendor id")
        row = tx.one("SELECT * FROM memo_vendors WHERE vendor_id = ?", (vendor_id,))
        if row is None:
            raise NotFound("no vendor “{vendor_id}”", vendor_id=vendor_id)
        return row_dict(row)

    async def vendors(self) -> list[dict[str, Any]]:
        """Every vendor with its pieces on memo now and what the store owes it."""
        rows = await self.ledger.fetch(
            "SELECT v.*, (SELECT COUNT(*) FROM memo_pieces p WHERE p.vendor_id = v.vendor_id"
            " AND p.state = 'on_memo') AS on_memo FROM memo_vendors v ORDER BY v.name")
        out = []
        for r in row_dicts(rows):
            out.append({**r, "payable": await self.accounts.balance(
                payable_account(r["vendor_id"])), "currency": self.currency})
        return out

    async def vendor(self, vendor_id: Any) -> dict[str, Any]:
        """A vendor's page: its pieces (on memo, sold, given back), what it is owed, its
        payments and the day book of its memos."""
        vendor = await self.ledger.read(lambda tx: self._vendor_in(tx, vendor_id))
        rows = row_dicts(await self.ledger.fetch(
            "SELECT * FROM memo_pieces WHERE vendor_id = ? ORDER BY state = 'on_memo' DESC,"
            " due, item_id", (vendor["vendor_id"],)))
        pieces = await self._with_pieces(rows)
        today = self.today().isoformat()
        for p in pieces:
            p["overdue"] = p["state"] == "on_memo" and p["due"] < today
        events = row_dicts(await self.ledger.fetch(
            "SELECT * FROM memo_events WHERE party = ? ORDER BY seq DESC, pos LIMIT 100",
            (f"vendor:{vendor['vendor_id']}",)))
        return {**vendor, "currency": self.currency, "pieces": pieces, "events": events,
                "payable": await self.accounts.balance(payable_account(vendor["vendor_id"]))}

    async def _with_pieces(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Rows naming pieces, with each piece's description, cost, tag price and status
        (asked of the core's `Items`)."""
        found = await self.items.columns_of({r["item_id"] for r in rows},
                                            ("description", "cost", "tag_price", "status"))
        return [{**r, **{k: found[r["item_id"]][k] for k in ("description", "cost",
                                                               "tag_price", "status")}}
                for r in rows if r["item_id"] in found]

    # -- memo in ------------------------------------------------------------------------------

    async def receive(self, raw: Any, *, actor: str) -> dict[str, Any]:
        """Pieces in on memo from a vendor: `vendor_id`, the vendor's `memo_ref`, `terms_days`
        (30, 60 or 90: the vendor's own when left out) or a `due` day (not past), and the
        `pieces` (each a piece as received; `owed`, what the vendor is paid once it sells,
        is its cost unless given). One transaction: all pieces or none."""
        f = Form(raw, allowed=("vendor_id", "memo_ref", "terms_days", "due", "pieces"))
        vendor_id = f.identifier("vendor_id", what="a vendor id")
        memo_ref = f.text("memo_ref", required=True, max_len=60)
        terms = f.whole("terms_days")
        if terms is not None and terms not in TERMS:
            f.problem("terms_days", "memo terms are net 30, 60 or 90 days")
        due = f.day("due")
        today = self.today()
        if due is not None and due < today.isoformat():
            f.problem("due", "the due date {day} is already past", day=due)
        pieces = f.get("pieces")
        if not isinstance(pieces, list) or not pieces:
            f.problem("pieces", "a memo brings at least one piece")
            pieces = []
        if len(pieces) > 200:
            f.problem("pieces", "a memo brings at most {max} pieces", max=200)
            pieces = []
        checked: list[tuple[dict[str, Any], int]] = []
        for i, raw_piece in enumerate(pieces):
            where = f"pieces[{i}]"
            if not isinstance(raw_piece, dict):
                f.problem(where, "this must be an object")
                continue
            owed_raw = raw_piece.get("owed")
            body = {k: v for k, v in raw_piece.items() if k != "owed"}
            body.update(ownership="memo", vendor=body.get("vendor") or "memo")
            try:
                piece = self.items.validate(body)
            except Invalid as exc:
                f.problems += _under(where, exc)
                continue
            owed = (fields.amount(owed_raw, f"{where}.owed") if owed_raw is not None
                    else piece["cost"])
            checked.append((piece, owed))
        f.done()

        def command(tx: Tx) -> list[str]:
            vendor = self._vendor_in(tx, vendor_id)
            days = terms or vendor["terms_days"]
            due_day = due or due_after(today, days).isoformat()
            for piece, owed in checked:
                piece = {**piece, "vendor": vendor["name"]}
                self.items.receive_in(tx, piece, actor)
                tx.append("memo.received", f"item:{piece['item_id']}",
                          {"item_id": piece["item_id"], "vendor_id": vendor["vendor_id"],
                           "memo_ref": memo_ref, "terms_days": days, "due": due_day,
                           "owed": owed}, actor=actor)
            return [p["item_id"] for p, _ in checked]

        received = await self.ledger.transact(command)
        return {"vendor_id": vendor_id, "memo_ref": memo_ref, "received": received}

    async def return_to_vendor(self, item_id: Any, raw: Any, *, actor: str) -> dict[str, Any]:
        """Give a piece back to its vendor: its memo is closed, the piece is never sold
        again. Only a piece on memo, in the store (in stock, or back from a sale)."""
        item_id = fields.identifier(item_id, "item_id", what="a serial")
        f = Form(raw or {}, allowed=("note",))
        note = f.text("note", max_len=500, multiline=True) or ""
        f.done()

        def command(tx: Tx) -> Entry:
            piece = load_piece_tx(tx, item_id)
            row = tx.one("SELECT * FROM memo_pieces WHERE item_id = ?", (item_id,))
            if row is None or row["state"] != "on_memo":
                raise Refused("not_on_memo", "piece {item_id} is not on memo from a vendor:"
                              " there is nothing to send back", item_id=item_id)
            if piece["status"] not in ("in_stock", "returned"):
                raise Refused("not_here", "piece {item_id} is {status}: only a piece in the"
                              " store goes back to its vendor", item_id=item_id,
                              status=Term("status", piece["status"]))
            holds = self.store.holds
            if (hold := holds.of_in(tx, item_id)) is not None:
                raise holds.refusal(hold)
            self.items.change_status_in(tx, item_id, "returned_to_vendor", actor,
                                        ref=row["vendor_id"], reason=note)
            return tx.append("memo.returned_to_vendor", f"item:{item_id}",
                             {"item_id": item_id, "vendor_id": row["vendor_id"],
                              "memo_ref": row["memo_ref"], "note": note}, actor=actor)

        await self.ledger.transact(command)
        return await self.items.get(item_id)

    async def pay_vendor(self, vendor_id: Any, raw: Any, *, actor: str) -> dict[str, Any]:
        """A manager pays a vendor what its sold memo pieces are owed: at most the payable,
        with how (`method`) and the payment's `reference`."""
        amount, method, reference = self._payment(raw)

        def command(tx: Tx) -> Entry:
            vendor = self._vendor_in(tx, vendor_id)
            account = payable_account(vendor["vendor_id"])
            owed = self.accounts.balance_in(tx, account)
            if amount > owed:
                raise Refused("over_payable", "{vendor} is owed {owed}, less than {amount}",
                              vendor=vendor["name"], owed=self.money(owed),
                              amount=self.money(amount), field="amount")
            n = tx.one("SELECT COUNT(*) AS n FROM memo_events WHERE kind = 'paid'")["n"] + 1
            payment_id = f"VP{n}"
            entry = tx.append("memo.vendor_paid", f"vendor:{vendor['vendor_id']}",
                              {"payment_id": payment_id, "party_id": vendor["vendor_id"],
                               "amount": amount, "method": method, "reference": reference},
                              actor=actor)
            self.accounts.move_in(tx, Movement(account, PAYABLE, f"vendor:{vendor['vendor_id']}",
                                               self.currency, "applied", amount, payment_id),
                                  actor=actor)
            return entry

        await self.ledger.transact(command)
        return await self.vendor(vendor_id)

    def _payment(self, raw: Any) -> tuple[int, str, str]:
        f = Form(raw, allowed=("amount", "method", "reference"))
        amount = f.amount("amount", required=True)
        if amount == 0:
            f.problem("amount", "a payment must be more than zero")
        method = f.choice("method", METHODS, required=True, lower=False,
                          vocabulary="memo_method")
        reference = f.text("reference", required=True, max_len=60)
        f.done()
        assert amount is not None and method is not None and reference is not None
        return amount, method, reference

    async def aging(self) -> list[dict[str, Any]]:
        """Pieces on memo by the day their memo falls due, overdue first (the earliest)."""
        rows = row_dicts(await self.ledger.fetch(
            "SELECT p.*, v.name AS vendor_name FROM memo_pieces p JOIN memo_vendors v USING"
            " (vendor_id) WHERE p.state = 'on_memo' ORDER BY p.due, p.item_id"))
        today = self.today()
        out = await self._with_pieces(rows)
        for p in out:
            p["days_left"] = (date.fromisoformat(p["due"]) - today).days
            p["overdue"] = p["days_left"] < 0
        return out

    # -- on approval --------------------------------------------------------------------------

    async def _active_client(self, client_id: Any) -> str:
        client_id = fields.identifier(client_id, "client_id", what="a client id") or ""
        try:
            client = await self.store.clients.get(client_id)
        except NotFound:
            raise Invalid("no client {client_id}", "client_id", client_id=client_id) from None
        if client["status"] != "active":
            raise Invalid("client {client_id} is no longer in the book", "client_id",
                          client_id=client_id)
        return client_id

    async def send_out(self, raw: Any, *, actor: str) -> dict[str, Any]:
        """A piece leaves on approval with her (`client_id`) until `due` (a day from today
        to 90 days on)."""
        f = Form(raw, allowed=("item_id", "client_id", "due"))
        item_id = f.identifier("item_id", what="a serial")
        due = f.day("due")
        today = self.today()
        if f.get("due") in (None, ""):
            f.problem("due", "say the day it is due back")
        elif due is not None and due < today.isoformat():
            f.problem("due", "the due date {day} is already past", day=due)
        elif due is not None and date.fromisoformat(due) > today + timedelta(
                days=MAX_APPROVAL_DAYS):
            f.problem("due", "a piece goes on approval for at most {max} days",
                      max=MAX_APPROVAL_DAYS)
        f.done()
        client_id = await self._active_client((raw or {}).get("client_id"))
        assert item_id is not None and due is not None

        def command(tx: Tx) -> str:
            piece = load_piece_tx(tx, item_id)
            if piece["status"] != "in_stock":
                raise Refused("not_in_stock", "piece {item_id} is {status}: only a piece in"
                              " stock goes out on approval", item_id=item_id,
                              status=Term("status", piece["status"]))
            holds = self.store.holds
            if (hold := holds.of_in(tx, item_id)) is not None:
                raise holds.refusal(hold)
            n = tx.one("SELECT COUNT(*) AS n FROM memo_outs")["n"] + 1
            memo_out_id = f"MO{n}"
            tx.append("memo.out", f"item:{item_id}",
                      {"memo_out_id": memo_out_id, "item_id": item_id,
                       "client_id": client_id, "due": due}, actor=actor)
            self.items.change_status_in(tx, item_id, "memo_out", actor, ref=memo_out_id)
            return memo_out_id

        return await self.out(await self.ledger.transact(command))

    def _out_in(self, tx: Tx, memo_out_id: Any) -> dict[str, Any]:
        memo_out_id = fields.identifier(memo_out_id, "memo_out_id", what="an approval number")
        row = tx.one("SELECT * FROM memo_outs WHERE memo_out_id = ?", (memo_out_id,))
        if row is None:
            raise NotFound("no piece on approval “{memo_out_id}”", memo_out_id=memo_out_id)
        return row_dict(row)

    def _still_out(self, tx: Tx, memo_out_id: Any) -> dict[str, Any]:
        row = self._out_in(tx, memo_out_id)
        if row["state"] != "out":
            raise Refused("approval_closed", "{memo_out_id} is closed: the piece was {state}",
                          memo_out_id=row["memo_out_id"], state=Term("memo_out_state",
                                                                     row["state"]))
        return row

    async def out(self, memo_out_id: Any) -> dict[str, Any]:
        row = await self.ledger.read(lambda tx: self._out_in(tx, memo_out_id))
        return (await self._outs_view([row]))[0]

    async def _outs_view(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        names = self.store.clients.names
        today = self.today().isoformat()
        out = await self._with_pieces(rows)
        for o in out:
            o["client_name"] = names.name_of(o["client_id"])
            o["overdue"] = o["state"] == "out" and o["due"] < today
            o["currency"] = self.currency
        return out

    async def come_back(self, memo_out_id: Any, *, actor: str) -> dict[str, Any]:
        """She brings it back: the piece is in stock again."""

        def command(tx: Tx) -> None:
            row = self._still_out(tx, memo_out_id)
            tx.append("memo.back", f"item:{row['item_id']}",
                      {"memo_out_id": row["memo_out_id"], "item_id": row["item_id"]},
                      actor=actor)
            self.items.change_status_in(tx, row["item_id"], "in_stock", actor)

        await self.ledger.transact(command)
        return await self.out(memo_out_id)

    async def sell_out(self, memo_out_id: Any, raw: Any, *, actor: str) -> dict[str, Any]:
        """She keeps it: a sale to her of the piece at its price now, paid by `tenders`, in
        one transaction with the approval's close. What a cart would ask a manager for (a
        stale rate, a consignor's agreed price) is asked here too (`approval_id`)."""
        f = Form(raw, allowed=("register_id", "tenders", "approval_id"))
        register_id = f.check(self.store.sales.check_register, f.get("register_id"))
        tenders = f.check(validate_tenders, f.get("tenders"))
        approval_id = f.text("approval_id", max_len=40)
        f.done()
        assert register_id is not None and tenders is not None

        def command(tx: Tx) -> Entry:
            row = self._still_out(tx, memo_out_id)
            line = {"item_id": row["item_id"], "sku": None, "quantity": 1, "unit_price": None,
                    "discount": 0, "memo_out": row["memo_out_id"]}
            basket = self.store.sales.price_in(tx, [line], 0, row["client_id"])
            asked = price_approval(register_id, basket["lines"])
            if asked is not None:
                if not approval_id:  # the cart's own question, on the same screen
                    raise ApprovalNeeded(asked, ASKED[asked["kind"]])
                self.store.approvals.spend_in(tx, approval_id, asked, actor=actor)
            return self.store.sales.complete_in(
                tx, register_id=register_id, actor=actor, lines=[line], tenders=tenders,
                client_id=row["client_id"], discount=0,
                note=f"on approval {row['memo_out_id']}")

        entry = await self.ledger.transact(command)
        return await self.store.sales.document(entry)

    async def outs(self, *, overdue: bool = False) -> list[dict[str, Any]]:
        """Pieces out on approval, the soonest due first (or only the overdue ones)."""
        rows = row_dicts(await self.ledger.fetch(
            "SELECT * FROM memo_outs WHERE state = 'out' ORDER BY due, memo_out_id"))
        listed = await self._outs_view(rows)
        return [o for o in listed if o["overdue"]] if overdue else listed

    async def followups(self, today: date, rules: Rules,
                        client_id: str | None = None) -> list[FollowUp]:
        """A piece on approval past its day: a call from her associate the day after (a
        source of the clienteling layer's `FollowUps`; care, never held back)."""
        where, params = "state = 'out' AND due < ?", (today.isoformat(),)
        if client_id is not None:
            where, params = f"{where} AND client_id = ?", (*params, client_id)
        rows = await self.ledger.fetch(f"SELECT memo_out_id, client_id, due FROM memo_outs"
                                       f" WHERE {where}", params)
        out = []
        for r in rows:
            on = date.fromisoformat(r["due"])
            f = FollowUp(f"{FOLLOWUP_KIND}:{r['client_id']}:{r['memo_out_id']}", FOLLOWUP_KIND,
                         r["client_id"], r["memo_out_id"], on, on + timedelta(days=1))
            if f.stands(today, rules) is not None:
                out.append(f)
        return out

    # -- consignment --------------------------------------------------------------------------

    async def consign(self, raw: Any, *, actor: str) -> dict[str, Any]:
        """She leaves a piece to sell: `client_id`, `commission_bp` (basis points of the
        net), `minimum` (the agreed least price, at most its tag price), `term_days` and
        the `piece` as received (its cost is what she would get at the minimum)."""
        f = Form(raw, allowed=("client_id", "commission_bp", "minimum", "term_days", "piece"))
        commission_bp = f.whole("commission_bp", lo=0, hi=10_000, required=True)
        minimum = f.amount("minimum", required=True)
        if minimum == 0:
            f.problem("minimum", "the agreed price must be more than zero")
        term_days = f.whole("term_days", lo=1, hi=MAX_TERM_DAYS, required=True)
        body = f.get("piece")
        piece: dict[str, Any] | None = None
        if not isinstance(body, dict):
            f.problem("piece", "this must be an object")
        elif commission_bp is not None and minimum:
            body = {**body, "ownership": "consignment", "vendor": "consignment",
                    "cost": consignment_credit(minimum, commission_bp)[1]}
            try:
                piece = self.items.validate(body)
            except Invalid as exc:
                f.problems += _under("piece", exc)
            if piece is not None and piece["tag_price"] < minimum:
                f.problem("minimum", "the agreed price {minimum} is above the tag price"
                          " {price}", minimum=self.money(minimum),
                          price=self.money(piece["tag_price"]))
        f.done()
        client_id = await self._active_client((raw or {}).get("client_id"))
        assert piece is not None and term_days is not None
        until = (self.today() + timedelta(days=term_days)).isoformat()

        def command(tx: Tx) -> str:
            n = tx.one("SELECT COUNT(*) AS n FROM consignments")["n"] + 1
            consignment_id = f"CN{n}"
            # The piece names its consignment, never her: a piece's page is no place for
            # her name, and the consignment's number leads to it for those who may see it.
            self.items.receive_in(tx, {**piece, "vendor": consignment_id}, actor)
            tx.append("consignment.received", f"item:{piece['item_id']}",
                      {"consignment_id": consignment_id, "item_id": piece["item_id"],
                       "client_id": client_id, "commission_bp": commission_bp,
                       "minimum": minimum, "until": until}, actor=actor)
            return consignment_id

        return await self.consignment(await self.ledger.transact(command))

    def _consignment_in(self, tx: Tx, consignment_id: Any) -> dict[str, Any]:
        consignment_id = fields.identifier(consignment_id, "consignment_id",
                                           what="a consignment number")
        row = tx.one("SELECT * FROM consignments WHERE consignment_id = ?", (consignment_id,))
        if row is None:
            raise NotFound("no consignment “{consignment_id}”", consignment_id=consignment_id)
        return row_dict(row)

    async def consignment(self, consignment_id: Any) -> dict[str, Any]:
        row = await self.ledger.read(lambda tx: self._consignment_in(tx, consignment_id))
        return (await self._consignments_view([row]))[0]

    async def _consignments_view(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        names = self.store.clients.names
        today = self.today().isoformat()
        out = await self._with_pieces(rows)
        for c in out:
            c["client_name"] = names.name_of(c["client_id"])
            c["ended"] = c["state"] == "held" and c["until"] < today
            c["currency"] = self.currency
        return out

    async def consignments(self) -> list[dict[str, Any]]:
        """Pieces held on consignment, the soonest term's end first."""
        return await self._consignments_view(row_dicts(await self.ledger.fetch(
            "SELECT * FROM consignments WHERE state = 'held' ORDER BY until, consignment_id")))

    async def give_back(self, consignment_id: Any, *, actor: str) -> dict[str, Any]:
        """The consigned piece goes back to her (unsold, or the term ended)."""

        def command(tx: Tx) -> None:
            row = self._consignment_in(tx, consignment_id)
            if row["state"] != "held":
                raise Refused("consignment_closed", "consignment {consignment_id} is closed",
                              consignment_id=row["consignment_id"])
            piece = load_piece_tx(tx, row["item_id"])
            if piece["status"] not in ("in_stock", "returned"):
                raise Refused("not_here", "piece {item_id} is {status}: only a piece in the"
                              " store goes back to its owner", item_id=row["item_id"],
                              status=Term("status", piece["status"]))
            if (hold := self.store.holds.of_in(tx, row["item_id"])) is not None:
                raise self.store.holds.refusal(hold)
            self.items.change_status_in(tx, row["item_id"], "returned_to_vendor", actor,
                                        ref=row["consignment_id"])
            tx.append("consignment.returned", f"item:{row['item_id']}",
                      {"consignment_id": row["consignment_id"], "item_id": row["item_id"],
                       "client_id": row["client_id"]}, actor=actor)

        await self.ledger.transact(command)
        return await self.consignment(consignment_id)

    async def pay_consignor(self, client_id: Any, raw: Any, *, actor: str) -> dict[str, Any]:
        """Pay her out what her sold pieces credited her (at most her credit)."""
        client_id = fields.identifier(client_id, "client_id", what="a client id")
        amount, method, reference = self._payment(raw)

        def command(tx: Tx) -> Entry:
            account = consignor_account(client_id)
            credit = self.accounts.balance_in(tx, account)
            if amount > credit:
                raise Refused("over_credit", "her credit is {credit}, less than {amount}",
                              credit=self.money(credit), amount=self.money(amount),
                              field="amount")
            n = tx.one("SELECT COUNT(*) AS n FROM memo_events WHERE kind = 'paid_out'")["n"] + 1
            payment_id = f"CP{n}"
            entry = tx.append("consignment.paid", f"client:{client_id}",
                              {"payment_id": payment_id, "party_id": client_id,
                               "amount": amount, "method": method, "reference": reference},
                              actor=actor)
            self.accounts.move_in(tx, Movement(account, CONSIGNOR, f"client:{client_id}",
                                               self.currency, "applied", amount, payment_id),
                                  actor=actor)
            return entry

        await self.ledger.transact(command)
        return await self.of_client(client_id)

    # -- what the store holds that is not its own ---------------------------------------------

    async def exposure(self) -> dict[str, Any]:
        """Value out on memo per vendor (count, cost, retail, due days, the payable), on
        approval per client, and held on consignment per consignor (with her credit)."""
        today = self.today().isoformat()
        memo = await self._with_pieces(row_dicts(await self.ledger.fetch(
            "SELECT p.item_id, p.vendor_id, p.due, p.owed, v.name AS vendor_name FROM"
            " memo_pieces p JOIN memo_vendors v USING (vendor_id) WHERE p.state = 'on_memo'")))
        vendors: dict[str, dict[str, Any]] = {}
        for p in memo:
            v = vendors.setdefault(p["vendor_id"], {
                "vendor_id": p["vendor_id"], "name": p["vendor_name"], "pieces": 0, "cost": 0,
                "retail": 0, "first_due": p["due"], "last_due": p["due"], "overdue": 0})
            v["pieces"] += 1
            v["cost"] += p["owed"]
            v["retail"] += p["tag_price"] or 0
            v["first_due"], v["last_due"] = min(v["first_due"], p["due"]), max(v["last_due"],
                                                                               p["due"])
            v["overdue"] += p["due"] < today
        for r in await self.ledger.fetch("SELECT vendor_id, name FROM memo_vendors"):
            owed = await self.accounts.balance(payable_account(r["vendor_id"]))
            if owed or r["vendor_id"] in vendors:
                vendors.setdefault(r["vendor_id"], {
                    "vendor_id": r["vendor_id"], "name": r["name"], "pieces": 0, "cost": 0,
                    "retail": 0, "first_due": None, "last_due": None, "overdue": 0})
                vendors[r["vendor_id"]]["payable"] = owed
        clients: dict[str, dict[str, Any]] = {}
        for o in await self.outs():
            c = clients.setdefault(o["client_id"], {
                "client_id": o["client_id"], "client_name": o["client_name"], "pieces": 0,
                "retail": 0, "cost": 0, "first_due": o["due"], "overdue": 0})
            c["pieces"] += 1
            c["retail"] += o["tag_price"] or 0
            c["cost"] += o["cost"] or 0
            c["first_due"] = min(c["first_due"], o["due"])
            c["overdue"] += o["overdue"]
        consignors: dict[str, dict[str, Any]] = {}
        held = await self._consignments_view(row_dicts(await self.ledger.fetch(
            "SELECT * FROM consignments WHERE state = 'held'")))
        for c in held:
            k = consignors.setdefault(c["client_id"], {
                "client_id": c["client_id"], "client_name": c["client_name"], "pieces": 0,
                "retail": 0, "minimum": 0})
            k["pieces"] += 1
            k["retail"] += c["tag_price"] or 0
            k["minimum"] += c["minimum"]
        for r in await self.ledger.fetch("SELECT DISTINCT client_id FROM consignments"):
            credit = await self.accounts.balance(consignor_account(r["client_id"]))
            if credit or r["client_id"] in consignors:
                consignors.setdefault(r["client_id"], {
                    "client_id": r["client_id"],
                    "client_name": self.store.clients.names.name_of(r["client_id"]),
                    "pieces": 0, "retail": 0, "minimum": 0})
                consignors[r["client_id"]]["credit"] = credit
        by_due = sorted(vendors.values(), key=lambda v: (v["first_due"] or "9999", v["name"]))
        return {"currency": self.currency, "vendors": by_due,
                "clients": sorted(clients.values(), key=lambda c: c["first_due"]),
                "consignors": sorted(consignors.values(),
                                     key=lambda c: (c["client_name"] or "", c["client_id"])),
                "totals": {"memo_cost": sum(v["cost"] for v in vendors.values()),
                           "memo_retail": sum(v["retail"] for v in vendors.values()),
                           "payable": sum(v.get("payable", 0) for v in vendors.values()),
                           "approval_retail": sum(c["retail"] for c in clients.values()),
                           "consigned_retail": sum(c["retail"] for c in consignors.values()),
                           "credit": sum(c.get("credit", 0) for c in consignors.values())}}

    async def of_client(self, client_id: str) -> dict[str, Any]:
        """What she has on approval and in consignment, and what the store owes her."""
        outs = await self._outs_view(row_dicts(await self.ledger.fetch(
            "SELECT * FROM memo_outs WHERE client_id = ? ORDER BY state = 'out' DESC, due DESC"
            " LIMIT 50", (client_id,))))
        consigned = await self._consignments_view(row_dicts(await self.ledger.fetch(
            "SELECT * FROM consignments WHERE client_id = ? ORDER BY state = 'held' DESC, seq"
            " DESC LIMIT 50", (client_id,))))
        return {"client_id": client_id, "currency": self.currency, "outs": outs,
                "consignments": consigned,
                "credit": await self.accounts.balance(consignor_account(client_id))}

    # -- a sale's part (SaleExtension) and the consignor's agreed price ------------------------

    def minimum_in(self, tx: Tx, item_id: str) -> int | None:
        """The agreed least price of a consigned piece (`Sales.minimum_of`)."""
        row = tx.one("SELECT minimum FROM consignments WHERE item_id = ? AND state = 'held'",
                     (item_id,))
        return row["minimum"] if row else None

    def sold_in(self, tx: Tx, sale: dict[str, Any], actor: str) -> None:
        """A memo piece sold owes its vendor, a consigned one credits her, a piece on
        approval sells to her only (and closes its approval)."""
        sale_id = sale["sale_id"]
        memo, consigned, outs = [], [], []
        for line in sale["lines"]:
            item_id = line.get("item_id")
            if not item_id:
                continue
            if m := tx.one("SELECT vendor_id, owed FROM memo_pieces WHERE item_id = ? AND"
                           " state = 'on_memo'", (item_id,)):
                memo.append({"item_id": item_id, "vendor_id": m["vendor_id"],
                             "owed": m["owed"]})
            if c := tx.one("SELECT * FROM consignments WHERE item_id = ? AND state = 'held'",
                           (item_id,)):
                net = line["total"] - line["tax"]
                commission, credit = consignment_credit(net, c["commission_bp"])
                consigned.append({"item_id": item_id, "consignment_id": c["consignment_id"],
                                  "client_id": c["client_id"], "net": net,
                                  "commission": commission, "credit": credit})
            if o := tx.one("SELECT memo_out_id, client_id FROM memo_outs WHERE item_id = ?"
                           " AND state = 'out'", (item_id,)):
                if sale.get("client_id") != o["client_id"]:
                    raise Refused("on_approval", "piece {item_id} is out on approval"
                                  " ({ref}) with another client", item_id=item_id,
                                  ref=o["memo_out_id"])
                outs.append(o["memo_out_id"])
        if not (memo or consigned or outs):
            return
        tx.append("memo.sold", f"sale:{sale_id}", {"sale_id": sale_id, "memo": memo,
                                                   "consigned": consigned, "outs": outs},
                  actor=actor)
        for m in memo:
            if m["owed"]:
                self.accounts.move_in(tx, Movement(
                    payable_account(m["vendor_id"]), PAYABLE, f"vendor:{m['vendor_id']}",
                    self.currency, "issued", m["owed"], f"{sale_id}/{m['item_id']}"),
                    actor=actor)
        for c in consigned:
            if c["credit"]:
                self.accounts.move_in(tx, Movement(
                    consignor_account(c["client_id"]), CONSIGNOR, f"client:{c['client_id']}",
                    self.currency, "issued", c["credit"], f"{sale_id}/{c['item_id']}"),
                    actor=actor)

    def returned_in(self, tx: Tx, sale: dict[str, Any], back: dict[str, Any],
                    actor: str) -> None:
        """A return or a void takes back what the sale owed the vendor or credited her."""
        sale_id, return_id = back["sale_id"], back["return_id"]
        void = back.get("sale_status") == "voided"
        memo, consigned, outs = [], [], []
        for line in back["lines"]:
            item_id = line.get("item_id")
            if not item_id:
                continue
            if m := tx.one("SELECT vendor_id FROM memo_pieces WHERE item_id = ? AND"
                           " state = 'sold' AND sale_id = ?", (item_id, sale_id)):
                account = payable_account(m["vendor_id"])
                owed = self.accounts.moved_in(tx, account, "issued", f"{sale_id}/{item_id}")
                if owed > self.accounts.balance_in(tx, account):
                    raise Refused("vendor_paid", "piece {item_id} came on memo and its vendor"
                                  " has been paid for it since: settle it with the vendor"
                                  " before taking it back", item_id=item_id)
                memo.append({"item_id": item_id, "vendor_id": m["vendor_id"], "owed": owed})
            if c := tx.one("SELECT consignment_id, client_id, credit FROM consignments WHERE"
                           " item_id = ? AND state = 'sold' AND sale_id = ?", (item_id, sale_id)):
                account = consignor_account(c["client_id"])
                if c["credit"] > self.accounts.balance_in(tx, account):
                    raise Refused("consignor_paid", "piece {item_id} was consigned and its"
                                  " consignor has been paid for it since: settle it with her"
                                  " before taking it back", item_id=item_id)
                consigned.append({"item_id": item_id, "consignment_id": c["consignment_id"],
                                  "client_id": c["client_id"], "credit": c["credit"]})
            if void and (o := tx.one("SELECT memo_out_id FROM memo_outs WHERE item_id = ? AND"
                                     " state = 'sold' AND sale_id = ?", (item_id, sale_id))):
                outs.append(o["memo_out_id"])
        if not (memo or consigned or outs):
            return
        tx.append("memo.unsold", f"sale:{sale_id}",
                  {"sale_id": sale_id, "return_id": return_id, "void": void, "memo": memo,
                   "consigned": consigned, "outs": outs}, actor=actor)
        for m in memo:
            if m["owed"]:
                self.accounts.move_in(tx, Movement(
                    payable_account(m["vendor_id"]), PAYABLE, f"vendor:{m['vendor_id']}",
                    self.currency, "reversed", m["owed"], f"{return_id}/{m['item_id']}"),
                    actor=actor)
        for c in consigned:
            if c["credit"]:
                self.accounts.move_in(tx, Movement(
                    consignor_account(c["client_id"]), CONSIGNOR, f"client:{c['client_id']}",
                    self.currency, "reversed", c["credit"], f"{return_id}/{c['item_id']}"),
                    actor=actor)

    voided_in = returned_in


def _under(where: str, exc: Invalid) -> list[Invalid]:
    """A piece's problems named under the form field that holds it (`pieces[0].sku`)."""
    out = []
    for problem in exc.problems:
        moved = copy.copy(problem)
        moved.field = f"{where}.{problem.field}" if problem.field else where
        out.append(moved)
    return out
