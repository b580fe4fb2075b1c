"""What a journal entry means beyond its own area, said once.

- `piece_changes(kind, payload)`: what an entry does to pieces (their status, location,
  fields). The core's projections set statuses from it, the sync layer tells HQ from it,
  stock counts refresh their index from it: a new kind that moves pieces is one case here.
- `browser_entry(entry)`: what a staff member's browser may see of an entry (the item
  history on a piece's page and the live WebSocket alike). An allowlist: a kind not listed
  goes out as its header only, so a new kind leaks nothing until someone decides it may.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class PieceChange:
    item_id: str
    status: str | None = None  # the piece's status after the entry (None: unchanged)
    ref: str | None = None  # what holds it in that status (a sale, a return, a reservation)
    location: str | None = None  # where it was moved to
    fields: frozenset[str] = frozenset()  # other fields the entry changed


def _lines(p: dict[str, Any], status: str, ref: str | None) -> tuple[PieceChange, ...]:
    return tuple(PieceChange(line["item_id"], status, ref) for line in p.get("lines") or ()
                 if isinstance(line, dict) and line.get("item_id"))


def piece_changes(kind: str, p: dict[str, Any] | None) -> tuple[PieceChange, ...]:
    """The pieces an entry of `kind` with payload `p` changes, and how."""
    if not p:
        return ()
    match kind:
        case "item.received":
            piece = p["piece"]
            return (PieceChange(piece["item_id"], "in_stock", fields=frozenset(piece)),)
        case "item.updated":
            return (PieceChange(p["item_id"], fields=frozenset(p["changes"])),)
        case "item.moved":
            return (PieceChange(p["item_id"], location=p["location"]),)
        case "item.status":
            return (PieceChange(p["item_id"], p["status"], p.get("ref")),)
        case "item.inspected":  # back to stock, to repair, or written off
            return (PieceChange(p["item_id"], p["outcome"], p.get("ref")),)
        case "sale.completed":
            return _lines(p, "sold", p["sale_id"])
        case "sale.returned":  # back, but awaiting a manager's inspection
            return _lines(p, "returned", p["return_id"])
        case "sale.voided":  # never left the shop
            return _lines(p, "in_stock", p["return_id"])
        case "transfer.shipped":  # out of the sender's stock, in nobody's count (hub/transfers)
            return (PieceChange(p["item_id"], "in_transit", f"transfer:{p['transfer_id']}"),)
        case "transfer.received":  # in the receiver's stock (a new record: item.received first)
            return (PieceChange(p["item_id"], "in_stock"),)
        case "transfer.settled" if p.get("piece_status"):  # the sender's piece arrived elsewhere
            return (PieceChange(p["item_id"], p["piece_status"], f"transfer:{p['transfer_id']}"),)
        case "hq.reservation_collected" | "hq.order_shipped":  # the hold ends; the sale
            return (PieceChange(p["item_id"], "in_stock"),)     # that follows sells it
        case "hq.online_order":  # held for an online client until it is shipped
            return (PieceChange(p["item_id"], "reserved", f"order:{p['order_id']}"),)
        case "hq.message" if p.get("outcome") == "applied":
            message = p["message"]
            if message["type"] == "reservation":
                body = message["body"]
                return (PieceChange(body["item_id"], "reserved",
                                    f"reservation:{body['reservation_id']}"),)
            # A cancellation names only its reservation: the hq area frees the piece it
            # holds (`hub/core/hq.py`), and its readers ask the hq book which one that is.
    return ()


# Kinds whose payload a browser may see, by prefix; any other kind goes out as a header.
# Client and staff entries are never among them: a profile or a PIN hash never leaves.
BROWSER_KINDS = ("item.", "stock.", "sale.", "approval.", "register.", "count.", "price.")
_HEADER = ("seq", "kind", "subject", "actor", "ts")
_COST_KEYS = frozenset({"cost"})


def _without_cost(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_cost(v) for k, v in value.items() if k not in _COST_KEYS}
    if isinstance(value, list):
        return [_without_cost(v) for v in value]
    return value


def browser_entry(entry: dict[str, Any], *, cost_ok: bool) -> dict[str, Any]:
    """An entry (`seq, kind, subject, actor, ts, payload`) as a browser may see it: the
    payload only for the kinds listed, and without costs unless `cost_ok`."""
    out = {k: entry.get(k) for k in _HEADER}
    if str(entry.get("kind", "")).startswith(BROWSER_KINDS):
        payload = entry.get("payload")
        out["payload"] = payload if cost_ok else _without_cost(payload)
    else:
        out["payload"] = None
    return out
