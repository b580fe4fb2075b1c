"""The parts HQ is made of beyond the receiver, in order: each owns its tables and facts
(`hub.sync.hqstore.HQPart`). `open_hq` opens storage with all of them."""

from __future__ import annotations

from hub.sync.hqstore import HQPart

HQ_PARTS: tuple[HQPart, ...] = ()
