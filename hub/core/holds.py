"""Pieces held for a purpose: on a tray for a client's appointment today, set aside on a
layaway or for a client's special order. An area of the core's own (`holds`).

A hold does not change a piece's status: a held piece is still in stock, on a tray in a salon
rather than in its showcase. What it changes is what the books say of it: a sale of a held
piece asks first (the cart and the sale refuse it with code `held` and a sentence saying where
it is, unless the line says `confirm_held`), selling it releases the hold in the same
transaction, and a stock count that does not read it says where it is instead of "missing".

A piece has one hold at a time, and only a piece in stock can be held. `item.held` {item_id,
purpose, ref, detail} and `item.released` {item_id, purpose, ref, reason} are the entries;
`holds` is the projection of the holds standing now. Nothing in them is personal (a purpose,
an opaque reference, where the tray is and when it is needed), so they are sealed under the
store's key and a piece's history shows them.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import datetime
from typing import Any

from babel import dates as babel_dates

from hub.core import fields
from hub.core.errors import Refused
from hub.core.items import WHY_NOT_SELLABLE, load_piece_tx, row_dict
from hub.core.projector import touch_item
from hub.ledger.journal import Entry
from hub.ledger.ledger import Ledger, Tx
from hub.ledger.schema import Migration, Schema
from hub.words import ENGLISH, N_, Words

SCHEMA = Schema("holds", (Migration(1, """
CREATE TABLE holds (
    item_id TEXT PRIMARY KEY,               -- one hold per piece at a time
    purpose TEXT NOT NULL,                  -- appointment | layaway ...
    ref     TEXT NOT NULL,                  -- what holds it: appointment:A12
    detail  TEXT NOT NULL,                  -- JSON: where it is (tray, place), for when (at)
    seq     INTEGER NOT NULL,
    ts      TEXT NOT NULL,
    actor   TEXT NOT NULL
);
CREATE INDEX holds_ref ON holds(ref);
"""),), projections=("holds",))

PURPOSES = ("appointment", "layaway", "order")
# Why a held piece cannot simply be sold, by purpose: {at} is when the purpose needs it.
HELD_BECAUSE = {
    "appointment": N_("piece {item_id} is on tray {tray} in {place} for an appointment at"
                      " {at}"),
    "layaway": N_("piece {item_id} is set aside on layaway {ref}"),
    "order": N_("piece {item_id} is set aside for a client's special order {ref}"),
}
# Where a held piece is, by purpose (the piece page, the count's report).
HELD_WHERE = {
    "appointment": N_("on tray {tray}, {place}"),
    "layaway": N_("set aside on layaway {ref}"),
    "order": N_("set aside for special order {ref}"),
}
_CHUNK = 900


def clock(words: Words, moment: datetime) -> str:
    """A time of day in the store's zone and the locale's short form (14:00, 2:00 PM)."""
    return babel_dates.format_time(moment.astimezone(words.tz), "short", locale=words.locale)


def _on_held(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute("INSERT INTO holds (item_id, purpose, ref, detail, seq, ts, actor)"
               " VALUES (?,?,?,?,?,?,?)",
               (p["item_id"], p["purpose"], p["ref"], json.dumps(p["detail"], sort_keys=True),
                entry.seq, entry.ts, entry.actor))
    touch_item(tx, p["item_id"], entry.seq)


def _on_released(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute("DELETE FROM holds WHERE item_id = ?", (p["item_id"],))
    touch_item(tx, p["item_id"], entry.seq)


PROJECTIONS = {"item.held": _on_held, "item.released": _on_released}


def _hold(row: Any) -> dict[str, Any]:
    out = row_dict(row)
    out["detail"] = json.loads(out["detail"])
    return out


class Holds:
    """The holds on pieces: taken and released inside a caller's transaction, read by
    anyone (the cart, the counts, the piece page)."""

    def __init__(self, ledger: Ledger, words: Words = ENGLISH) -> None:
        self.ledger = ledger
        self.words = words  # the store's: a refusal says when, in the store's time

    # -- inside a transaction ---------------------------------------------------------------

    def of_in(self, tx: Tx, item_id: str) -> dict[str, Any] | None:
        row = tx.one("SELECT * FROM holds WHERE item_id = ?", (item_id,))
        return _hold(row) if row else None

    def among_in(self, tx: Tx, item_ids: Collection[str]) -> dict[str, dict[str, Any]]:
        ids, out = tuple(item_ids), {}
        for i in range(0, len(ids), _CHUNK):
            part = ids[i:i + _CHUNK]
            for row in tx.all(f"SELECT * FROM holds WHERE item_id IN ({','.join('?' * len(part))})",
                              part):
                out[row["item_id"]] = _hold(row)
        return out

    def all_in(self, tx: Tx) -> list[dict[str, Any]]:
        """Every hold standing (a handful: the trays out, the layaways)."""
        return [_hold(r) for r in tx.all("SELECT * FROM holds ORDER BY seq")]

    def holdable_in(self, tx: Tx, item_id: str) -> dict[str, Any]:
        """The piece, if it can be held now: in stock and held by nothing else. A sold, a
        reserved, a repaired... or an already held piece is refused, naming it and why."""
        piece = load_piece_tx(tx, item_id)
        if piece["status"] != "in_stock":
            why = WHY_NOT_SELLABLE.get(piece["status"], N_("piece {item_id} is not in stock"))
            code = f"item_{piece['status']}"
            raise Refused(code, why, item_id=piece["item_id"], ref=piece["status_ref"] or "")
        hold = self.of_in(tx, piece["item_id"])
        if hold is not None:
            raise self.refusal(hold)
        return piece

    def hold_in(self, tx: Tx, item_id: str, *, purpose: str, ref: str,
                detail: dict[str, str], actor: str) -> Entry:
        """Hold a piece for `purpose` (`ref` says what holds it; `detail` where it is and
        for when: `tray`, `place`, `at` for an appointment)."""
        fields.choice(purpose, "purpose", PURPOSES, required=True, lower=False)
        piece = self.holdable_in(tx, item_id)
        return tx.append("item.held", f"item:{piece['item_id']}",
                         {"item_id": piece["item_id"], "purpose": purpose, "ref": ref,
                          "detail": dict(detail)}, actor=actor)

    def release_in(self, tx: Tx, item_id: str, *, actor: str, reason: str,
                   ref: str | None = None, extra: dict[str, Any] | None = None) -> Entry:
        """End a piece's hold (`reason`: back to its showcase, sold...); with `ref`, only
        the hold that `ref` took. `extra` joins the entry (the sale that sold it)."""
        hold = self.of_in(tx, item_id)
        if hold is None or (ref is not None and hold["ref"] != ref):
            raise Refused("not_held", "piece {item_id} is not held here", item_id=item_id)
        return tx.append("item.released", f"item:{item_id}",
                         {"item_id": item_id, "purpose": hold["purpose"], "ref": hold["ref"],
                          "reason": reason, **(extra or {})}, actor=actor)

    # -- reads ------------------------------------------------------------------------------

    async def of(self, item_id: str) -> dict[str, Any] | None:
        """The hold on a piece now, or None."""
        row = await self.ledger.fetch_one("SELECT * FROM holds WHERE item_id = ?", (item_id,))
        return _hold(row) if row else None

    async def held_among(self, item_ids: Collection[str]) -> dict[str, dict[str, Any]]:
        """item_id -> its hold, for those of `item_ids` that are held."""
        return await self.ledger.read(lambda tx: self.among_in(tx, item_ids))

    async def held_for(self, ref: str) -> list[dict[str, Any]]:
        """Every piece `ref` holds, in the order they were held."""
        rows = await self.ledger.fetch("SELECT * FROM holds WHERE ref = ? ORDER BY seq", (ref,))
        return [_hold(r) for r in rows]

    # -- in words ---------------------------------------------------------------------------

    def _params(self, hold: dict[str, Any]) -> dict[str, Any]:
        detail = hold.get("detail") or {}
        params: dict[str, Any] = {"item_id": hold["item_id"], "ref": hold["ref"],
                                  "tray": detail.get("tray", ""),
                                  "place": detail.get("place", "")}
        at = detail.get("at")
        if at:
            moment = datetime.fromisoformat(at.replace("Z", "+00:00")).astimezone(self.words.tz)
            today = datetime.now(self.words.tz).date()
            params["at"] = (clock(self.words, moment) if moment.date() == today
                            else self.words.when(moment))
        else:
            params["at"] = ""
        return params

    def refusal(self, hold: dict[str, Any]) -> Refused:
        """Why a held piece is not simply sold or held again: where it is, for what."""
        message = HELD_BECAUSE.get(hold["purpose"], N_("piece {item_id} is held ({ref})"))
        return Refused("held", message, **self._params(hold))

    def where(self, hold: dict[str, Any]) -> str:
        """Where a held piece is, in the store's words ("on tray T3, Salon 2")."""
        message = HELD_WHERE.get(hold["purpose"], N_("held ({ref})"))
        return self.words.render(message, self._params(hold))

    def shown(self, hold: dict[str, Any] | None) -> dict[str, Any] | None:
        """A hold as the API and the piece page show it: its facts and where, in words."""
        if hold is None:
            return None
        return {"purpose": hold["purpose"], "ref": hold["ref"], "detail": hold["detail"],
                "since": hold["ts"], "by": hold["actor"], "where": self.where(hold)}
