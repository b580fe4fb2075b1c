"""The travel layer's services as one runtime member, and how they join a store's sales
(the part, the demo and the tests use the same `travel_of`)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from hub.ledger.ledger import Tx
from hub.store import Store
from hub.travel.exchange import FOREIGN_TENDERS, MESSAGE, Exchange, RatesMessage
from hub.travel.taxfree import TaxFree

TenderCheck = Callable[[Tx, dict[str, Any], list[dict[str, Any]], str | None], None]


@dataclass
class Travel:
    """`runtime.travel`: foreign currency tenders and tax-free forms."""

    exchange: Exchange
    tax_free: TaxFree


def _checking(exchange: Exchange, before: TenderCheck | None) -> TenderCheck:
    """The cart's check of a cash or card tender: a foreign one against the rate in force,
    then whatever check another layer had for that type."""
    def check(tx: Tx, tender: dict[str, Any], taken: list[dict[str, Any]],
              client_id: str | None) -> None:
        exchange.check_in(tx, tender, "amount")
        if before is not None:
            before(tx, tender, taken, client_id)
    return check


@contextlib.contextmanager
def travel_of(store: Store, exchange: Exchange | None = None,
              tax_free: TaxFree | None = None) -> Iterator[Travel]:
    """The travel services on a store's sales and HQ messages while inside."""
    travel = Travel(exchange or Exchange(store), tax_free or TaxFree(store))
    sales = store.sales
    before = {t: sales.tender_checks.get(t) for t in FOREIGN_TENDERS}
    sales.extensions += [travel.exchange, travel.tax_free]
    for t in FOREIGN_TENDERS:
        sales.tender_checks[t] = _checking(travel.exchange, before[t])
    store.hq.layer_messages[MESSAGE] = RatesMessage(travel.exchange)
    try:
        yield travel
    finally:
        store.hq.layer_messages.pop(MESSAGE, None)
        for t in FOREIGN_TENDERS:
            if before[t] is None:
                sales.tender_checks.pop(t, None)
            else:
                sales.tender_checks[t] = before[t]
        sales.extensions.remove(travel.tax_free)
        sales.extensions.remove(travel.exchange)
