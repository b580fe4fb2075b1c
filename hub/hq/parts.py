"""The parts HQ is made of beyond the receiver, in order: each owns its tables and facts
(`hub.sync.hqstore.HQPart`). `open_hq` opens storage with all of them."""

from __future__ import annotations

from hub.hq import clients, deliveries, ops, reports, shop, transfers
from hub.hq.console import part as console
from hub.sync.hqstore import HQPart

HQ_PARTS: tuple[HQPart, ...] = (
    transfers.PART,
    deliveries.PART,
    ops.PART,
    clients.PART,
    console.PART,
    shop.PART,
    reports.PART,
)
