"""What the console's pages read, as plain functions of HQ's storage: each runs whole on
HQ's storage thread (`Console.call`), never on the event loop."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from hub.core.search import fold, singular, with_store_words, words
from hub.hq import clients as hq_clients
from hub.hq import deliveries, ops, transfers
from hub.sync.hqstore import HQStorage

STOCK_SHOWN = 300  # pieces listed for one search (a style is rarely in more boutiques)


def stores(storage: HQStorage, now: datetime | None = None) -> list[dict[str, Any]]:
    """Each store's position at HQ: contact, backlog, lag, clock skew, chain verdict.

    Lag is now minus the time of the store's last entry HQ holds. Clock skew is HQ's last
    contact with the store minus that entry's time, i.e. how far the store's clock looks from
    HQ's when it last sent; it reads true while the store is busy (its last batch carried that
    entry) and grows with idleness, which the page says.
    """
    now = now or datetime.now(UTC)
    rows = storage.query(
        "SELECT s.store_id, s.head_seq, s.entries, s.last_contact, s.online, s.problem,"
        " s.held, s.held_since, s.public_key, e.ts AS last_ts, v.hub_version,"
        " c.head_seq AS checked_head, c.verdict, c.checked_at"
        " FROM stores s LEFT JOIN entries e ON e.store_id = s.store_id AND e.seq = s.head_seq"
        " LEFT JOIN console_hub_versions v ON v.store_id = s.store_id"
        " LEFT JOIN store_verdicts c ON c.store_id = s.store_id ORDER BY s.store_id")
    out = []
    for r in rows:
        last = ops.moment(r["last_ts"])
        contact = ops.moment(r["last_contact"])
        verdict = None
        if r["checked_head"] is not None:
            verdict = {"ok": r["verdict"].startswith("ok"), "head_seq": r["checked_head"],
                       "current": r["checked_head"] == r["head_seq"], "text": r["verdict"],
                       "at": r["checked_at"]}
        out.append({
            "store_id": r["store_id"], "online": bool(r["online"]),
            "enrolled": r["public_key"] is not None, "problem": r["problem"],
            "head_seq": r["head_seq"], "entries": r["entries"], "held": r["held"],
            "last_contact": r["last_contact"], "last_entry_ts": r["last_ts"],
            "lag_s": int((now - last).total_seconds()) if last else None,
            "skew_s": int((contact - last).total_seconds()) if last and contact else None,
            "hub_version": r["hub_version"], "verdict": verdict})
    return out


def verify(hq: Any, store_id: str) -> dict[str, Any]:
    """Read every entry of a store again (hashes and signatures): `ops.verify`, which keeps
    the verdict with the head it was computed at (the stores page and `loupe hq stores`
    show the same one)."""
    row = hq.storage.store(store_id)
    if row is None or row.public_key is None:
        raise LookupError(store_id)
    text = ops.verify(hq, store_id)
    return {"ok": text.startswith("ok"), "head_seq": row.head_seq, "text": text}


def _piece_words(row: Mapping[str, Any]) -> set[str]:
    text = " ".join(str(row.get(k) or "") for k in ("sku", "description", "category"))
    return set(words(fold(text)))


def stock_search(storage: HQStorage, text: str,
                 synonyms: Mapping[str, str]) -> list[dict[str, Any]]:
    """The store's search over HQ's `items` across the chain, ordered as a store orders it:
    pieces whose SKU or serial is the text in full, then pieces holding every word of the
    text as a whole word (or its singular), then pieces where a word only starts one."""
    text = (text or "").strip()[:200]
    if not words(text):
        return []
    exact = fold(text)
    wanted = words(with_store_words(text, synonyms))
    tiers: list[list[dict[str, Any]]] = [[], [], []]
    for row in storage.query("SELECT store_id, item_id, sku, description, category,"
                             " tag_price, currency, status FROM items"
                             " ORDER BY sku, store_id, item_id"):
        if exact in (fold(row["sku"] or ""), fold(row["item_id"])):
            tiers[0].append(row)
            continue
        have = _piece_words(row)
        if all(w in have or singular(w) in have for w in wanted):
            tiers[1].append(row)
        elif all(any(h.startswith(w) for h in have) for w in wanted):
            tiers[2].append(row)
    return [r for tier in tiers for r in tier][:STOCK_SHOWN]


def clients(storage: HQStorage, limit: int = 500) -> list[dict[str, Any]]:
    return storage.query("SELECT store_id, client_id, status FROM clients"
                         " ORDER BY store_id, client_id LIMIT ?", (limit,))


def client_history(storage: HQStorage, store_id: str, client_id: str) -> list[dict[str, Any]]:
    """What the store's journal says happened to her, by kind and time (no contents)."""
    return storage.query("SELECT seq, ts, kind, actor FROM entries WHERE store_id = ? AND"
                         " subject = ? ORDER BY seq", (store_id, f"client:{client_id}"))


def sales_by_day(storage: HQStorage, day: str) -> list[dict[str, Any]]:
    """Per store and currency: completed sales of the day (UTC), their total, and voids."""
    return storage.query(
        "SELECT store_id, currency, SUM(CASE WHEN status = 'completed' THEN 1 ELSE 0 END)"
        " AS sales, SUM(CASE WHEN status = 'completed' THEN total ELSE 0 END) AS total,"
        " SUM(CASE WHEN status = 'completed' THEN 0 ELSE 1 END) AS other"
        " FROM sales WHERE ts >= ? AND ts < ? GROUP BY store_id, currency"
        " ORDER BY store_id, currency", (day, day + "T99"))


def conflicts(storage: HQStorage, limit: int = 500) -> list[dict[str, Any]]:
    return storage.query(
        "SELECT c.id, c.at, c.source, c.store_id, c.kind, c.item_id, c.ref, c.detail,"
        " r.resolution, r.note, r.resolved_by, r.resolved_at FROM conflicts c"
        " LEFT JOIN conflict_resolutions r ON r.conflict_id = c.id"
        " ORDER BY c.id DESC LIMIT ?", (limit,))


def messages(storage: HQStorage, limit: int = 200) -> dict[str, Any]:
    """HQ's messages, with their delivery per store."""
    return {"rows": deliveries.outgoing(storage, limit)}


def in_transit(storage: HQStorage) -> dict[str, Any]:
    """Transfers between stores, and the web shop's orders shipped from a store."""
    return {"rows": transfers.transfers(storage),
            "orders": storage.query("SELECT order_id, store_id, item_id, paid, currency,"
                                    " status, carrier, tracking, created_at FROM"
                                    " online_orders ORDER BY created_at DESC, order_id"
                                    " LIMIT 200")}


def proposals(storage: HQStorage) -> list[dict[str, Any]]:
    """Cross-store client matches waiting for a decision."""
    return hq_clients.proposals(storage)
