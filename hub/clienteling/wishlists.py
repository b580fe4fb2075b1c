"""Wish lists: the pieces and styles a client wishes for, kept in store or arriving from the
web shop through head office, and the wishes others keep for her (a partner's gift list).

An entry is a piece of this store (its serial: not personal) or a style in her words
("emerald drop earrings, rose gold": free text about a client, so personal). Every
`wishlist.added` entry is sealed under the list keeper's key, so once she is forgotten her
wishes can no longer be read; the projection keeps opaque ids only (whose list, for whom,
which piece), and her erasure drops her rows. `wishlist.removed` names ids only.

`wish_events` is what lets the follow-ups call her when a wish-listed piece comes back in
stock or changes price. It is a projection of the core's piece entries (`item.status`,
`item.inspected`, `sale.voided`: back in stock; `item.updated` with a new tag price:
repriced): the projector runs every area's handlers of a kind, the core's first, so this
area keeps its own record of what happened to the pieces on its lists, in the entry's
transaction, from the entry's payload and its own `wishlist` rows alone. A rebuild replays
the same entries over the same lists and yields the same rows, and nothing is journaled
twice.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from hub.clienteling.rules import FollowUp, Rules, wish_followups
from hub.core.entries import piece_changes
from hub.core.errors import Invalid, NotFound, Refused
from hub.core.fields import Form
from hub.core.items import row_dicts
from hub.ledger.journal import Entry
from hub.ledger.ledger import Tx
from hub.ledger.schema import Migration, Schema
from hub.words import N_

if TYPE_CHECKING:  # the layer declares this area: no import of the store at load
    from hub.store import Store

SOURCES = ("in_store", "web_shop")
EVENTS = ("back_in_stock", "repriced")
STYLE_MAX = 200
MAX_ENTRIES = 200  # a list longer than this is a catalogue, not a wish list

SCHEMA = Schema("wishlists", (Migration(1, """
CREATE TABLE wishlist (
    entry_id      TEXT PRIMARY KEY,     -- "W" and the seq of its wishlist.added entry
    client_id     TEXT NOT NULL,        -- whose list: who keeps the wish
    for_client_id TEXT,                 -- a gift: the client it is for (his list for her)
    item_id       TEXT,                 -- a piece of this store; NULL: a style (sealed)
    source        TEXT NOT NULL,        -- in_store | web_shop
    seq           INTEGER NOT NULL,
    ts            TEXT NOT NULL,
    actor         TEXT NOT NULL
);
CREATE INDEX wishlist_client ON wishlist(client_id, seq);
CREATE INDEX wishlist_for ON wishlist(for_client_id, seq);
CREATE INDEX wishlist_item ON wishlist(item_id);

CREATE TABLE wish_events (
    seq       INTEGER NOT NULL,         -- the piece's entry: back in stock, or a new price
    client_id TEXT NOT NULL,            -- whose list holds the piece
    item_id   TEXT NOT NULL,
    what      TEXT NOT NULL,            -- back_in_stock | repriced
    ts        TEXT NOT NULL,
    PRIMARY KEY (seq, client_id, item_id)
);
CREATE INDEX wish_events_ts ON wish_events(ts);
CREATE INDEX wish_events_client ON wish_events(client_id, seq);
"""),), projections=("wishlist", "wish_events"))


def entry_id_of(seq: int) -> str:
    return f"W{seq}"


def _client_of(entry: Entry) -> str:
    return entry.subject.split(":", 1)[1]


# -- projections ------------------------------------------------------------------------------

def _on_added(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    if p is None:  # sealed under the key of a client since forgotten: her list is gone
        return
    tx.execute("INSERT INTO wishlist (entry_id, client_id, for_client_id, item_id, source, seq,"
               " ts, actor) VALUES (?,?,?,?,?,?,?,?)",
               (entry_id_of(entry.seq), p["client_id"], p.get("for_client_id"),
                p.get("item_id"), p["source"], entry.seq, entry.ts, entry.actor))


def _on_removed(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute("DELETE FROM wishlist WHERE entry_id = ? AND client_id = ?",
               (p["entry_id"], p["client_id"]))


def _on_forgotten(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    client_id = _client_of(entry)
    tx.execute("DELETE FROM wishlist WHERE client_id = ?", (client_id,))
    tx.execute("DELETE FROM wish_events WHERE client_id = ?", (client_id,))


def _note(tx: Tx, entry: Entry, item_id: str, what: str) -> None:
    tx.execute("INSERT OR IGNORE INTO wish_events (seq, client_id, item_id, what, ts)"
               " SELECT DISTINCT ?, client_id, item_id, ?, ? FROM wishlist WHERE item_id = ?",
               (entry.seq, what, entry.ts, item_id))


def _on_back(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    """A piece set back in stock: a status change (from memo, repair, a hold, missing...),
    a returned piece inspected back to stock, a voided sale's pieces."""
    for change in piece_changes(entry.kind, p):
        if change.status == "in_stock":
            _note(tx, entry, change.item_id, "back_in_stock")


def _on_updated(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    """A new tag price (in store, or HQ's price list: both are `item.updated`)."""
    assert p is not None
    changes, before = p.get("changes") or {}, p.get("before") or {}
    if "tag_price" in changes and changes["tag_price"] != before.get("tag_price"):
        _note(tx, entry, p["item_id"], "repriced")


def _on_merged(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    """A merged client's wishes, and those kept for her, are the kept client's."""
    assert p is not None
    keep, gone = p["client_id"], p["merged_id"]
    for column in ("client_id", "for_client_id"):
        tx.execute(f"UPDATE wishlist SET {column} = ? WHERE {column} = ?", (keep, gone))
    tx.execute("UPDATE wishlist SET for_client_id = NULL WHERE client_id = for_client_id")
    tx.execute("UPDATE wish_events SET client_id = ? WHERE client_id = ?", (keep, gone))


PROJECTIONS = {
    "client.merged": _on_merged,
    "wishlist.added": _on_added,
    "wishlist.removed": _on_removed,
    "client.forgotten": _on_forgotten,
    "item.status": _on_back,
    "item.inspected": _on_back,
    "sale.voided": _on_back,
    "item.updated": _on_updated,
}

_PIECE_COLUMNS = ("description", "category", "designer", "collection", "status", "tag_price",
                  "sku")


# -- the service ------------------------------------------------------------------------------

class Wishlists:
    """The clients' wish lists: what each keeps, what others keep for her, who watches a
    piece, and what happened to the pieces they wish for."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def _active(self, client_id: Any, field: str | None = None) -> dict[str, Any]:
        """The client (an unknown id: NotFound, or refused as `field` when she is named in
        the request's body; a forgotten one: refused, she has no list)."""
        if not isinstance(client_id, str) or not client_id:
            raise Invalid("this is not a client id", field or "client_id")
        try:
            client = await self.store.clients.get(client_id)
        except NotFound:
            if field is None:
                raise
            raise Invalid("no client {client_id}", field, client_id=client_id) from None
        if client["profile"] is None:
            raise Refused("client_forgotten", "client {client_id} was erased: she has no wish"
                          " list any more", client_id=client_id, field=field)
        return client

    async def add(self, client_id: Any, raw: Any, *, actor: str,
                  source: str = "in_store") -> dict[str, Any]:
        """Add a piece (`item_id`) or a style (`style`, her words) to her list, for herself
        or for someone else (`for_client_id`: a gift). Refused, with nothing written: an
        unknown piece, a piece already on her list, a forgotten client, an empty style."""
        f = Form(raw, allowed=("item_id", "style", "for_client_id"))
        item_id = f.identifier("item_id", required=False, what="a serial")
        style = f.text("style", max_len=STYLE_MAX)
        for_client_id = f.identifier("for_client_id", required=False, what="a client id")
        if item_id and style:
            f.problem("style", "a wish is a piece or a style, not both")
        elif not item_id and not style and not any(p.field in ("item_id", "style")
                                                   for p in f.problems):
            f.problem("style", "describe the style she wishes for, or name a piece")
        if source not in SOURCES:
            raise ValueError(f"wish lists: no source {source!r}")
        f.done()
        client = await self._active(client_id)
        client_id = client["client_id"]
        if for_client_id is not None:
            if for_client_id == client_id:
                raise Invalid("this is the client whose list it is: leave it empty for a wish"
                              " of her own", "for_client_id")
            await self._active(for_client_id, "for_client_id")
        payload = {"client_id": client_id, "for_client_id": for_client_id,
                   "item_id": item_id, "style": style, "source": source}
        entry = await self.store.ledger.transact(lambda tx: self.add_in(tx, payload, actor))
        return {"entry_id": entry_id_of(entry.seq), "seq": entry.seq, "ts": entry.ts,
                "actor": actor, **payload}

    def add_in(self, tx: Tx, payload: dict[str, Any], actor: str) -> Entry:
        """Journal a checked wish inside a transaction (in store, or from head office)."""
        client_id, item_id, items = payload["client_id"], payload["item_id"], self.store.items
        if item_id is not None:
            if items.status_in(tx, item_id) is None:
                raise Invalid("no piece with serial “{item_id}”", "item_id",
                              item_id=item_id)
            if tx.one("SELECT 1 FROM wishlist WHERE client_id = ? AND item_id = ?",
                      (client_id, item_id)) is not None:
                raise Refused("already_wished", "piece {item_id} is already on this wish"
                              " list", item_id=item_id, field="item_id")
        kept = tx.one("SELECT COUNT(*) AS n FROM wishlist WHERE client_id = ?",
                      (client_id,))["n"]
        if kept >= MAX_ENTRIES:
            raise Refused("wishlist_full", "a wish list holds at most {max} wishes",
                          max=MAX_ENTRIES)
        return tx.append("wishlist.added", f"client:{client_id}", payload, actor=actor,
                         key_id=f"client:{client_id}")

    # -- head office's "wishlist" messages (hub.core.hq.LayerMessage) ------------------------

    def validate(self, body: dict[str, Any]) -> dict[str, Any]:
        """A wish made on the web shop, as head office sends it: {client_id, wish: {item_id,
        for_client_id}}. A piece only: the message is kept as it came (under the store's
        key), so no words of hers travel in it."""
        f = Form(body.get("wish"), "wish", allowed=("item_id", "for_client_id"))
        item_id = f.identifier("item_id", what="a serial")
        for_client_id = f.identifier("for_client_id", required=False, what="a client id")
        f.done()
        return {"client_id": body["client_id"], "for_client_id": for_client_id,
                "item_id": item_id, "style": None, "source": "web_shop"}

    def apply_in(self, tx: Tx, checked: dict[str, Any]) -> None:
        clients = self.store.clients
        for field in ("client_id", "for_client_id"):
            cid = checked[field]
            if cid is not None and not clients.active_in(tx, cid):
                raise Invalid("no client {client_id}", field, client_id=cid)
        self.add_in(tx, checked, "hq")

    async def add_from_web(self, client_id: str, *, item_id: str | None = None,
                           style: str | None = None, for_client_id: str | None = None,
                           actor: str = "hq") -> dict[str, Any]:
        """A wish made on the web shop, as head office passes it on: the same checks and
        entry as in store, its source "web shop". The sync path calls this for each wish
        (the web shop's "wishlisted" activity already reaches the recommendations)."""
        raw = {k: v for k, v in (("item_id", item_id), ("style", style),
                                 ("for_client_id", for_client_id)) if v is not None}
        return await self.add(client_id, raw, actor=actor, source="web_shop")

    async def remove(self, client_id: Any, entry_id: Any, *, actor: str) -> dict[str, Any]:
        """Take a wish off her list (granted, or no longer wished)."""
        client = await self._active(client_id)
        client_id = client["client_id"]
        if not isinstance(entry_id, str) or not entry_id:
            raise Invalid("this is not a wish", "entry_id")

        def command(tx: Tx) -> Entry:
            if tx.one("SELECT 1 FROM wishlist WHERE entry_id = ? AND client_id = ?",
                      (entry_id, client_id)) is None:
                raise NotFound("no wish “{entry_id}” on this wish list", entry_id=entry_id)
            return tx.append("wishlist.removed", f"client:{client_id}",
                             {"client_id": client_id, "entry_id": entry_id}, actor=actor)

        entry = await self.store.ledger.transact(command)
        return {"entry_id": entry_id, "client_id": client_id, "removed_seq": entry.seq}

    # -- reads ----------------------------------------------------------------------------

    async def of(self, client_id: str) -> dict[str, Any]:
        """Her list (`entries`, newest first) and the wishes others keep for her (`for_her`),
        each with the piece as it stands now (status, price) or the style in words, and
        whose list it is / whom it is for by name. A forgotten client has neither."""
        client = await self.store.clients.get(client_id)
        if client["profile"] is None:
            return {"client_id": client_id, "entries": [], "for_her": []}
        mine = row_dicts(await self.store.ledger.fetch(
            "SELECT * FROM wishlist WHERE client_id = ? ORDER BY seq DESC LIMIT ?",
            (client_id, MAX_ENTRIES)))
        theirs = row_dicts(await self.store.ledger.fetch(
            "SELECT * FROM wishlist WHERE for_client_id = ? ORDER BY seq DESC LIMIT ?",
            (client_id, MAX_ENTRIES)))
        theirs = [w for w in theirs if w["client_id"] != client_id]
        await self._described(mine + theirs)
        return {"client_id": client_id, "entries": mine, "for_her": theirs}

    async def _described(self, wishes: list[dict[str, Any]]) -> None:
        names = self.store.clients.names
        pieces = await self.store.items.columns_of(
            {w["item_id"] for w in wishes if w["item_id"]}, _PIECE_COLUMNS)
        for w in wishes:
            piece = pieces.get(w["item_id"]) if w["item_id"] else None
            w["piece"] = {k: piece[k] for k in _PIECE_COLUMNS} if piece is not None else None
            w["style"] = None
            if not w["item_id"]:  # her words, from her sealed entry
                payload = await self.store.ledger.payload_at(w["seq"])
                w["style"] = (payload or {}).get("style")
            w["client_name"] = names.name_of(w["client_id"])
            w["for_name"] = names.name_of(w["for_client_id"]) if w["for_client_id"] else None

    async def item_ids_of(self, client_id: str) -> list[str]:
        """The pieces on her own list (for the recommendations), newest first."""
        rows = await self.store.ledger.fetch(
            "SELECT item_id FROM wishlist WHERE client_id = ? AND item_id IS NOT NULL"
            " ORDER BY seq DESC LIMIT ?", (client_id, MAX_ENTRIES))
        return [r["item_id"] for r in rows]

    async def watching(self, item_id: str) -> list[str]:
        """The clients with this piece on their list, in the order they wished for it."""
        rows = await self.store.ledger.fetch(
            "SELECT client_id, MIN(seq) AS first FROM wishlist WHERE item_id = ?"
            " GROUP BY client_id ORDER BY first", (item_id,))
        return [r["client_id"] for r in rows]

    async def events_between(self, first_ts: str, last_ts: str,
                             client_ids: Collection[str] | None = None) -> list[dict[str, Any]]:
        """What happened to wish-listed pieces from `first_ts` up to `last_ts` (ISO moments or
        days, both included; a day covers its whole day): `client_id`, `item_id`, `what`
        (back_in_stock | repriced), `seq`, `ts`, oldest first."""
        rows = row_dicts(await self.store.ledger.fetch(
            "SELECT client_id, item_id, what, seq, ts FROM wish_events WHERE ts >= ? AND ts < ?"
            " ORDER BY seq, client_id", (first_ts, f"{last_ts}~")))  # '~' sorts after 'T...'
        if client_ids is not None:
            wanted = set(client_ids)
            rows = [r for r in rows if r["client_id"] in wanted]
        return rows

    # -- for the other parts of the layer ---------------------------------------------------

    async def followups(self, today: date, rules: Rules,
                        client_id: str | None) -> list[FollowUp]:
        """The follow-ups' source: a wish-listed piece back in stock or repriced, due the
        day it happened (`hub.clienteling.rules.wish_followups`)."""
        back, ahead = rules.horizon
        events = await self.events_between((today - timedelta(days=back)).isoformat(),
                                           (today + timedelta(days=ahead)).isoformat(),
                                           None if client_id is None else (client_id,))
        return wish_followups(events, today, rules)

    async def in_words(self, client_id: str) -> list[str]:
        """Her list as lines for the call sheet: each piece (description and serial) or
        style, and whom a gift is for."""
        words = self.store.words
        out = []
        for w in (await self.of(client_id))["entries"]:
            if w["piece"] is not None:
                wish = words.render(N_("{description} ({item_id})"), {
                    "description": w["piece"]["description"], "item_id": w["item_id"]})
            else:
                wish = w["style"] or w["item_id"] or ""
            if w["for_client_id"]:
                wish = words.render(N_("{wish}, for {name}"), {
                    "wish": wish, "name": w["for_name"] or words.render(N_("an erased client"))})
            out.append(wish)
        return out

    async def export_section(self, client_id: str) -> tuple[str, list[dict[str, Any]]]:
        """Her wish list, for the export of her own data."""
        return "", [{"since": w["ts"], "piece": w["item_id"],
                     "description": (w["piece"] or {}).get("description"),
                     "style": w["style"], "for": w["for_name"], "source": w["source"]}
                    for w in (await self.of(client_id))["entries"]]
