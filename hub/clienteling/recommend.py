"""Recommendations for a client, each with its reasons in words.

The rules are pure (`recommend`): given what the books know of her taste (the pieces she
keeps, her sizes, her preferred metals, stones and designers, her wish list, what she
viewed or wish-listed on the web shop) and the pieces on offer (in stock here, or at
another store through head office's stock), each offer earns the reasons that apply and
their weight:

- on her wish list; on her web-shop wish list; viewed on the web shop;
- a complement from the collection of a piece she keeps (earrings for her bracelet, a
  bracelet for her ring: `COMPLEMENTS`); else the same collection; else the same designer;
- a designer she loves; a metal or a stone she prefers; a ring in her size (a ring whose
  description names its size).

An offer with no reason is not recommended, nor one above her budget (unless she wished for
it or looked at it), nor a piece she was ever sold (nor one of the same style), nor one not
for sale (here: not in stock; elsewhere: none left). The best score
comes first; at equal score, in stock here before another store; then by serial or style, so
the same books give the same list; and no more than `ALIKE` pieces of one kind from one
collection, so six stacking rings do not hide her earrings.

`Recommendations` gathers those inputs through the areas' services (the client book, her
sales, her wish list, the pieces through `Items.search`, HQ's activity and stock) without
reading the whole stock: a few indexed searches, each a page.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hub.core.items import CATEGORIES, COLOURS, METALS
from hub.money import minor_units
from hub.words import N_, Term
from hub.words.labels import STONE

if TYPE_CHECKING:
    from hub.clienteling.wishlists import Wishlists
    from hub.store import Store

# What goes with what: for a piece she keeps, the categories that match it.
COMPLEMENTS: dict[str, tuple[str, ...]] = {
    "bracelet": ("earrings", "necklace", "ring"),
    "necklace": ("earrings", "bracelet"),
    "pendant": ("earrings", "bracelet"),
    "ring": ("bracelet", "earrings"),
    "earrings": ("necklace", "pendant", "bracelet", "ring"),
    "brooch": ("earrings",),
    "watch": ("cufflinks",),
    "cufflinks": ("watch",),
}

# Each reason: its weight, and its words ({values} filled when shown).
REASONS: dict[str, tuple[int, str]] = {
    "wish_list": (50, N_("on her wish list")),
    "wishlisted_online": (45, N_("on her wish list on the web shop")),
    "viewed_online": (40, N_("the {category} she viewed on the web shop")),
    "viewed_online_style": (40, N_("the style she viewed on the web shop")),
    "complement": (30, N_("matching {category} from the collection of her {hers}")),
    "same_collection": (20, N_("from the {collection} collection, like her {hers}")),
    "ring_size": (15, N_("a ring in her size ({size})")),
    "same_designer": (10, N_("by {designer}, like her {hers}")),
    "preferred_designer": (10, N_("by {designer}, a designer she loves")),
    "preferred_metal": (6, N_("in {metal}, as she prefers")),
    "preferred_metal_colour": (6, N_("in {colour} {metal}, as she prefers")),
    "preferred_stone": (6, N_("with {stone}, a stone she loves")),
}
HERE = N_("in stock here")
ELSEWHERE = N_("at the {store} store")
SENTENCE = N_("{reason}, {where}")  # the first reason and where the piece is...
MORE = N_("{sentence}; {reason}")  # ...then each other reason
LIMIT = 8
ASKED = frozenset({"wish_list", "wishlisted_online", "viewed_online", "viewed_online_style"})
ALIKE = 2  # pieces of one kind, house and collection in a list: the rest are more of them


def fold(text: str | None) -> str:
    decomposed = unicodedata.normalize("NFKD", (text or "").casefold())
    return " ".join("".join(ch for ch in decomposed if not unicodedata.combining(ch)).split())


_SIZE = re.compile(r"\b(?:size|taille|gr(?:ö|oe)sse|misura|talla)\s*(\d{1,2}(?:[.,]5)?)\b", re.I)


def size_named(description: str | None) -> str | None:
    """The ring size a description names ("... ring, size 52"), if any."""
    found = _SIZE.search(description or "")
    return found.group(1).replace(",", ".") if found else None


def metal_wish(text: str) -> tuple[str, str | None] | None:
    """A preferred metal as the profile keeps it ("gold", "platinum"; an old profile's
    "rose gold") as (metal, colour)."""
    words = fold(text).split()
    metal = next((w for w in words if w in METALS), None)
    if metal is None:
        return None
    colour = next((w for w in words if w in COLOURS), None)
    return metal, colour


def preferred_metals(metals: Iterable[str], colours: Iterable[str]) -> tuple[
        tuple[str, str | None], ...]:
    """Her preferred metals as (metal, colour) pairs, the closest first: gold in each colour
    she prefers before gold of any colour."""
    colours = [c for c in (fold(c) for c in colours) if c in COLOURS]
    out: list[tuple[str, str | None]] = []
    for text in metals:
        wish = metal_wish(text)
        if wish is None:
            continue
        metal, colour = wish
        shades = [colour] if colour else colours if metal == "gold" else []
        out += [(metal, c) for c in shades] + [(metal, None)]
    return tuple(dict.fromkeys(out))


@dataclass(frozen=True)
class Piece:
    """A piece on offer or one she keeps. `item_id` None: a style known by its SKU only (a
    piece at another store)."""

    item_id: str | None
    sku: str | None = None
    category: str | None = None
    designer: str | None = None
    collection: str | None = None
    metal: str | None = None
    metal_colour: str | None = None
    stones: tuple[str, ...] = ()
    size: str | None = None
    status: str = "in_stock"
    description: str | None = None
    tag_price: int | None = None


@dataclass(frozen=True)
class Offer:
    """A piece for sale: in stock here (`store` None), or `count` of its style at `store`."""

    piece: Piece
    store: str | None = None
    count: int = 1

    @property
    def for_sale(self) -> bool:
        return self.piece.status == "in_stock" if self.store is None else self.count > 0

    @property
    def key(self) -> tuple[int, str, str]:
        return (self.store is not None, self.store or "", self.piece.item_id or self.piece.sku
                or "")


@dataclass(frozen=True)
class Taste:
    """What the books know of her."""

    kept: tuple[Piece, ...] = ()  # the pieces she keeps, newest first
    bought_ids: frozenset[str] = frozenset()  # every piece she was sold (returned ones too)
    bought_skus: frozenset[str] = frozenset()
    ring_sizes: tuple[str, ...] = ()
    metals: tuple[tuple[str, str | None], ...] = ()  # (metal, colour), closest first
    stones: tuple[str, ...] = ()  # folded
    designers: tuple[str, ...] = ()  # folded
    wished: frozenset[str] = frozenset()  # serials and SKUs on her wish list
    web_wished: frozenset[str] = frozenset()  # serials and SKUs wish-listed on the web shop
    viewed: frozenset[str] = frozenset()  # serials and SKUs viewed on the web shop
    budget_max: int | None = None  # the top of her budget band, minor units


@dataclass(frozen=True)
class Reason:
    code: str
    params: tuple[tuple[str, str], ...] = ()

    @property
    def weight(self) -> int:
        return REASONS[self.code][0]


@dataclass(frozen=True)
class Recommendation:
    offer: Offer
    score: int
    reasons: tuple[Reason, ...] = field(default=())


def _refs(piece: Piece) -> set[str]:
    return {r for r in (piece.item_id, piece.sku) if r}


def reasons_for(piece: Piece, taste: Taste) -> list[Reason]:
    """Every reason this piece suits her, strongest kinds first."""
    out: list[Reason] = []
    refs = _refs(piece)
    if refs & taste.wished:
        out.append(Reason("wish_list"))
    if refs & taste.web_wished:
        out.append(Reason("wishlisted_online"))
    if refs & taste.viewed:
        out.append(Reason("viewed_online", (("category", piece.category),))
                   if piece.category else Reason("viewed_online_style"))
    collection = fold(piece.collection)
    designer = fold(piece.designer)
    matched = None
    if collection and designer:
        for mine in taste.kept:
            if (fold(mine.collection), fold(mine.designer)) == (collection, designer):
                hers = mine.category or "other"
                if piece.category in COMPLEMENTS.get(hers, ()):
                    matched = Reason("complement", (("category", piece.category or "other"),
                                                    ("hers", hers)))
                    break
                if matched is None:
                    matched = Reason("same_collection", (("collection", piece.collection or ""),
                                                         ("hers", hers)))
    if matched is None and designer:
        mine = next((m for m in taste.kept if fold(m.designer) == designer), None)
        if mine is not None:
            matched = Reason("same_designer", (("designer", piece.designer or ""),
                                               ("hers", mine.category or "other")))
    if matched is not None:
        out.append(matched)
    if piece.category == "ring" and piece.size and piece.size in taste.ring_sizes:
        out.append(Reason("ring_size", (("size", piece.size),)))
    if matched is None and designer and designer in taste.designers:
        out.append(Reason("preferred_designer", (("designer", piece.designer or ""),)))
    for metal, colour in taste.metals:
        if piece.metal == metal and colour is None:
            out.append(Reason("preferred_metal", (("metal", metal),)))
            break
        if piece.metal == metal and piece.metal_colour == colour:
            out.append(Reason("preferred_metal_colour", (("metal", metal), ("colour", colour))))
            break
    stone = next((s for s in piece.stones if fold(s) in taste.stones), None)
    if stone is not None:
        out.append(Reason("preferred_stone", (("stone", stone),)))
    return out


def recommend(taste: Taste, offers: Iterable[Offer], limit: int = LIMIT) -> list[Recommendation]:
    """The offers that suit her best, each with at least one reason (see the module)."""
    # A total order, so that whichever of two offers of one style comes first is the same
    # however they were gathered.
    offers = sorted(offers, key=lambda o: (o.key, o.count, repr(o.piece)))
    here_skus = {o.piece.sku for o in offers if o.store is None and o.for_sale and o.piece.sku}
    seen: set[tuple[str | None, str]] = set()
    found = []
    for offer in offers:
        piece = offer.piece
        if not offer.for_sale:
            continue
        if piece.item_id in taste.bought_ids or (piece.sku and piece.sku in taste.bought_skus):
            continue
        if offer.store is not None and piece.sku in here_skus:
            continue  # the same style is in stock here: that one is offered
        style = (offer.store, piece.sku or piece.item_id or "")
        if piece.sku and style in seen:
            continue  # two of a style: one is enough
        seen.add(style)
        reasons = reasons_for(piece, taste)
        if (taste.budget_max is not None and (piece.tag_price or 0) > taste.budget_max
                and not any(r.code in ASKED for r in reasons)):
            continue  # above her budget, and she did not ask for it
        if reasons:
            found.append(Recommendation(offer, sum(r.weight for r in reasons), tuple(reasons)))
    found.sort(key=lambda r: (-r.score, r.offer.key))
    chosen, alike = [], {}
    for r in found:
        kind = (r.offer.piece.category, fold(r.offer.piece.designer),
                fold(r.offer.piece.collection))
        alike[kind] = alike.get(kind, 0) + 1
        if alike[kind] <= ALIKE:
            chosen.append(r)
    return chosen[:limit]


# -- the service ------------------------------------------------------------------------------

_COLUMNS = ("item_id", "sku", "category", "designer", "collection", "metal", "metal_colour",
            "status", "description", "tag_price")
_PAGE = 40  # candidates per search: a page, never the whole stock
# The reasons' values that are a machine value, and the words they read as.
_TERMS = {"category": "category", "hers": "category", "stone": "stone", "metal": "metal",
          "colour": "colour"}
_KNOWN = {"category": CATEGORIES, "hers": CATEGORIES, "stone": tuple(STONE),
          "metal": METALS, "colour": COLOURS}


def _piece(row: dict[str, Any], stones: tuple[str, ...] = (), *,
           elsewhere: bool = False) -> Piece:
    """A piece from its row; `elsewhere`: its style, at another store (no serial here)."""
    return Piece(item_id=None if elsewhere else row["item_id"], sku=row.get("sku"),
                 category=row.get("category"), designer=row.get("designer"),
                 collection=row.get("collection"), metal=row.get("metal"),
                 metal_colour=row.get("metal_colour"), stones=stones,
                 size=size_named(row.get("description")) if row.get("category") == "ring"
                 else None, status=row.get("status") or "in_stock",
                 description=row.get("description"), tag_price=row.get("tag_price"))


def budget_max(band: Any, currency: str) -> int | None:
    """The top of a budget band as the profile keeps it ("5000-15000", whole units of the
    store's currency; "50000-": no top), in minor units; None when there is none."""
    if not isinstance(band, str) or "-" not in band:
        return None
    top = band.split("-", 1)[1]
    return int(top) * 10 ** minor_units(currency) if top.isdigit() else None


def _texts(value: Any) -> list[str]:
    """A preference list read defensively (a profile may hold a word, a list, or nothing)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [v for v in value if isinstance(v, str) and v.strip()]
    return []


class Recommendations:
    """A client's recommendations, from the books as they are now."""

    def __init__(self, store: Store, wishlists: Wishlists) -> None:
        self.store, self.wishlists = store, wishlists

    async def taste_of(self, client_id: str, profile: dict[str, Any]) -> Taste:
        sales, items = self.store.sales, self.store.items
        bought = await sales.pieces_bought(client_id)
        kept_ids = list(dict.fromkeys(b["item_id"] for b in bought if b["kept"]))[:100]
        rows = await items.columns_of(kept_ids, _COLUMNS[1:])
        kept = tuple(_piece(dict(rows[i])) for i in kept_ids if i in rows)
        prefs = profile.get("preferences") if isinstance(profile.get("preferences"), dict) \
            else {}
        sizes = profile.get("ring_sizes") if isinstance(profile.get("ring_sizes"), dict) else {}
        wished = await self.wishlists.item_ids_of(client_id)
        wished_skus = {r["sku"] for r in (await items.columns_of(wished, ("sku",))).values()
                       if r["sku"]}
        activity = await self.store.hq.activity_of(client_id, 30)
        return Taste(
            kept=kept, bought_ids=frozenset(b["item_id"] for b in bought),
            bought_skus=frozenset(b["sku"] for b in bought if b["sku"]),
            ring_sizes=tuple(str(s).replace(",", ".") for s in sizes.values()),
            metals=preferred_metals(_texts(prefs.get("metals"))[:5],
                                    _texts(prefs.get("colours"))[:5]),
            stones=tuple(fold(s) for s in _texts(prefs.get("stones"))[:5]),
            designers=tuple(fold(d) for d in _texts(prefs.get("designers"))[:5]),
            wished=frozenset(wished) | frozenset(wished_skus),
            web_wished=frozenset(a["ref"] for a in activity if a["action"] == "wishlisted"),
            viewed=frozenset(a["ref"] for a in activity if a["action"] == "viewed"),
            budget_max=budget_max(profile.get("budget"), self.store.config.currency))

    async def _search(self, taste: Taste, **filters: Any) -> list[dict[str, Any]]:
        """A page of pieces in stock, within her budget."""
        page = await self.store.items.search(status="in_stock", limit=_PAGE,
                                             price_max=taste.budget_max, **filters)
        return page.items

    async def _candidates(self, taste: Taste, profile: dict[str, Any]) -> list[Offer]:
        items, hq = self.store.items, self.store.hq
        rows: dict[str, dict[str, Any]] = {}

        def add(found: Iterable[dict[str, Any]]) -> None:
            for r in found:
                rows.setdefault(r["item_id"], r)

        collections = list(dict.fromkeys((p.designer, p.collection) for p in taste.kept
                                         if p.designer and p.collection))[:6]
        for designer, collection in collections:
            add(r for r in await self._search(taste, text=collection, designer=designer)
                if fold(r["collection"]) == fold(collection))
        prefs = profile.get("preferences") if isinstance(profile.get("preferences"), dict) \
            else {}
        designers = list(dict.fromkeys([p.designer for p in taste.kept if p.designer][:20]
                                       + _texts(prefs.get("designers"))))[:6]
        for designer in designers:
            add(await self._search(taste, designer=designer))
        for metal, colour in taste.metals[:3]:
            add(r for r in await self._search(taste, text=colour, metal=metal)
                if colour is None or r["metal_colour"] == colour)
        for stone in taste.stones[:3]:
            add(await self._search(taste, stone=stone))
        for size in list(dict.fromkeys(taste.ring_sizes))[:2]:
            if re.fullmatch(r"\d{1,2}(\.5)?", size):
                add(r for r in await self._search(taste, text=size, category="ring")
                    if size_named(r["description"]) == size)
        # Her wishes and what she looked at online: here when in stock, else elsewhere.
        refs = sorted(taste.wished | taste.web_wished | taste.viewed)[:30]
        known = await items.columns_of(refs, _COLUMNS[1:])
        skus: dict[str, dict[str, Any] | None] = {}
        for ref in refs:
            row = known.get(ref)
            if row is not None and row["status"] == "in_stock":
                add([{"item_id": ref, **dict(row)}])
            elif row is not None:
                if row["sku"]:
                    skus.setdefault(row["sku"], {"item_id": ref, **dict(row)})
            elif ref not in taste.bought_ids:
                skus.setdefault(ref, None)
        stones = await items.stone_types_of(list(rows))
        offers = [Offer(_piece(r, stones.get(i, ()))) for i, r in rows.items()]
        for sku, row in sorted(skus.items())[:10]:
            if row is None:  # a SKU: one of its pieces here, in stock or the last one known
                found = await items.by_sku(sku)
                if found is not None and found["status"] == "in_stock":
                    offers.append(Offer(_piece(found, tuple(s["type"] for s in found["stones"]))))
                    continue
                row = found
            elsewhere = await hq.stock_elsewhere(sku)
            store, count = next(((s, n) for s, n in sorted(elsewhere.items()) if n > 0),
                                (None, 0))
            if store is None:
                continue
            shape = row or {"item_id": None, "sku": sku}
            piece = _piece({**shape, "sku": sku, "status": "in_stock"},
                           tuple(s["type"] for s in shape.get("stones", [])), elsewhere=True)
            offers.append(Offer(piece, store=store, count=count))
        return offers

    async def for_client(self, client_id: str, limit: int = LIMIT) -> dict[str, Any]:
        """Her recommendations, best first, each with its reasons and where it is, in the
        store's words. An erased client has none."""
        client = await self.store.clients.get(client_id)
        profile = client["profile"]
        if profile is None:
            return {"client_id": client["client_id"], "recommendations": []}
        taste = await self.taste_of(client["client_id"], profile)
        chosen = recommend(taste, await self._candidates(taste, profile), limit)
        return {"client_id": client["client_id"],
                "recommendations": [self._shown(r) for r in chosen]}

    def _shown(self, r: Recommendation) -> dict[str, Any]:
        words, piece = self.store.words, r.offer.piece
        reasons = []
        for reason in r.reasons:
            params = dict(reason.params)
            shown = {k: Term(_TERMS[k], v) if k in _TERMS and v in _KNOWN[k] else v
                     for k, v in params.items()}
            reasons.append({"code": reason.code, "params": params,
                            "text": words.render(REASONS[reason.code][1], shown)})
        where = (words.render(HERE) if r.offer.store is None
                 else words.render(ELSEWHERE, {"store": r.offer.store}))
        # Filled here, not by `words.render`, which cuts a quoted value short.
        sentence = words._(SENTENCE).format(reason=reasons[0]["text"], where=where)
        for more in reasons[1:]:
            sentence = words._(MORE).format(sentence=sentence, reason=more["text"])
        return {"item_id": piece.item_id, "sku": piece.sku, "description": piece.description,
                "category": piece.category, "designer": piece.designer,
                "collection": piece.collection, "tag_price": piece.tag_price,
                "currency": self.store.config.currency, "store": r.offer.store,
                "count": r.offer.count if r.offer.store else None, "score": r.score,
                "reasons": reasons, "where": where,
                "sentence": sentence[:1].upper() + sentence[1:]}
