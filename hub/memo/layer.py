"""Memo and consignment as a layer: its area (vendors, memos, approvals, consignments), its
part (a sale extension, the consignor's agreed price, overdue approvals as follow-ups) and
its screens."""

from __future__ import annotations

from hub.memo import book
from hub.runtime import Area, Layer
from hub.words import N_

MANAGE = "memo.manage"
OUT = "memo.out"

LAYER = Layer(
    "memo",
    areas=(Area("memo", book.SCHEMA, book.PROJECTIONS, closure_section=book.closure_section),),
    part="hub.memo.part", web="hub.memo.web",
    permissions={
        MANAGE: N_("Receive pieces on memo or consignment, give them back, pay vendors and"
                   " consignors"),
        OUT: N_("Send a piece out on approval with a client and take it back"),
    },
    grants={"associate": (OUT,), "manager": (MANAGE, OUT)},
)
