"""Search over pieces: the full-text index (`items_fts`) and the paged, counted query.

The index holds each piece's non-personal text only (serial, SKU, description, category,
metal and colour, designer, collection, stone types); the item handlers keep it in the same
transaction as the `items` row. A search lists, in this order: pieces whose serial, SKU or
EPC is the text typed in full; pieces where every word of the text is a whole word; then
pieces where some word only starts a word ("ring" finds "ringed" after "ring"). Words match
in any order, accents and case fold, and the user's text never reaches FTS5 as syntax: it is
cut into runs of letters and digits, each quoted.
"""

from __future__ import annotations

import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hub.core.errors import Invalid
from hub.epc import EpcError, normalise_epc
from hub.ledger.ledger import Ledger, Tx

# Counting walks every match, and with a filter reads each one's row: past this many, a
# search says "more than 200" instead (at 100,000 pieces a two-filter list still costs ~3x
# its page to count to 200, against ~11x to 1,000).
COUNT_CAP = 200
TEXT_MAX = 200
PREFIX_INDEXED = 8  # the longest prefix `items_fts` indexes (core schema v5)
PAGES_KEPT = 1024  # search pages the cache keeps by default (~48 kB each with their JSON)
_COLUMNS = "serial, sku, description, category, metal, designer, collection, stones"


@dataclass(frozen=True)
class SearchPage:
    """One page of pieces, and how many matched in all (`total_is_capped`: more than that)."""

    items: list[dict[str, Any]]
    total: int
    total_is_capped: bool
    offset: int
    limit: int
    next_offset: int | None
    # What consumers made of this page (the API's JSON body), kept with it in `PageCache`
    # and dropped with it. A cached page is shared: read its pieces, never change them.
    derived: dict[Hashable, Any] = field(default_factory=dict, compare=False, repr=False)


class PageCache:
    """Pages already answered, by their question, most recently asked kept.

    Every change to a piece goes through the ledger's one writer, which empties this cache
    (`Ledger.watch` on `items`) right after the commit and before anyone hears of it. A
    search that began before such a commit may read the books as they were: it offers its
    page with the generation it started under, and a page from an older generation is not
    kept. The lock makes the writer's clear and a search's check-and-keep one step each.
    """

    def __init__(self, capacity: int = PAGES_KEPT) -> None:
        self.capacity = capacity
        self.generation = 0
        self.hits = self.misses = self.clears = 0
        self._pages: OrderedDict[Hashable, SearchPage] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._pages)

    def get(self, key: Hashable) -> SearchPage | None:
        with self._lock:
            page = self._pages.get(key)
            if page is None:
                self.misses += 1
                return None
            self._pages.move_to_end(key)
            self.hits += 1
            return page

    def keep(self, key: Hashable, generation: int, page: SearchPage) -> None:
        with self._lock:
            if generation != self.generation:
                return  # the books changed while it was read
            self._pages[key] = page
            if len(self._pages) > self.capacity:
                self._pages.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self.generation += 1
            self.clears += 1
            self._pages.clear()


# -- the index ------------------------------------------------------------------------------

def _metal_text(piece: dict[str, Any]) -> str | None:
    karat = f"{piece['karat']}k" if piece.get("karat") else None
    parts = (piece.get("fineness"), karat, piece.get("metal_colour"), piece.get("metal"))
    return " ".join(str(p) for p in parts if p) or None


def index_row(piece: dict[str, Any], stone_types: Iterable[str]) -> tuple[Any, ...]:
    """The indexed text of one piece, in `items_fts` column order."""
    stones = " ".join(dict.fromkeys(stone_types)) or None  # each type once, centre first
    return (piece["item_id"], piece["sku"], piece["description"], piece["category"],
            _metal_text(piece), piece.get("designer"), piece.get("collection"), stones)


def index_piece(tx: Tx, received_seq: int, piece: dict[str, Any],
                stone_types: Iterable[str]) -> None:
    tx.execute(f"INSERT INTO items_fts (rowid, {_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?)",
               (received_seq, *index_row(piece, stone_types)))


def reindex_piece(tx: Tx, item_id: str) -> None:
    """Index a piece again from its projection rows (after an edit)."""
    row = tx.one("SELECT * FROM items WHERE item_id = ?", (item_id,))
    if row is None:
        return
    piece = {k: row[k] for k in row.keys()}
    types = [r[0] for r in tx.all("SELECT type FROM item_stones WHERE item_id = ? ORDER BY pos",
                                  (item_id,))]
    tx.execute("DELETE FROM items_fts WHERE rowid = ?", (piece["received_seq"],))
    index_piece(tx, piece["received_seq"], piece, types)


# -- the user's text ------------------------------------------------------------------------

def _word_char(ch: str) -> bool:
    # What FTS5's unicode61 tokenizer keeps in a token: letters, digits, private use, and
    # combining marks (removed with the diacritics). Everything else separates tokens.
    cat = unicodedata.category(ch)
    return cat[0] in "LN" or cat in ("Co", "Mn")


def words(text: str) -> list[str]:
    """The words of a search: runs of letters and digits ("R-1042/A" is R, 1042 and A).

    Punctuation, quotes and FTS5 operators fall away, so no text can be FTS5 syntax.
    """
    return "".join(ch if _word_char(ch) else " " for ch in text).split()


def singular(word: str) -> str | None:
    """The English singular of a plural word, so "rings" also finds the word "ring"."""
    w = word.lower()
    if len(w) < 4 or not w.isalpha():
        return None
    if w.endswith("ies"):
        return w[:-3] + "y"
    if w.endswith(("ches", "shes", "sses", "xes", "zes")):
        return w[:-2]
    if w.endswith("s") and not w.endswith(("ss", "us", "is")):
        return w[:-1]
    return None


def fold(text: str) -> str:
    """Case and accents folded, as the index keeps its words."""
    return "".join(c for c in unicodedata.normalize("NFKD", text.casefold())
                   if unicodedata.category(c) != "Mn")


def with_store_words(text: str, synonyms: Mapping[str, str]) -> str:
    """A phrase in the store's language for a category, metal, colour or stone ("boucles
    d'oreilles", "pierre sur papier") becomes the index's word for it before the words are
    cut (the index holds the pieces' data, in English)."""
    folded = " ".join(words(fold(text)))
    for phrase in sorted((p for p in synonyms if " " in p), key=len, reverse=True):
        if f" {phrase} " in f" {folded} ":
            folded = f" {folded} ".replace(f" {phrase} ", f" {synonyms[phrase]} ").strip()
    return folded


def match_expressions(text: str, whole_only: Iterable[str] = (),
                      synonyms: Mapping[str, str] | None = None
                      ) -> tuple[str, str | None] | None:
    """FTS5 queries for (every word whole, every word whole or as a prefix), or None.

    The second is None when no word can be a prefix: one-letter words match whole only (a
    one-letter prefix would list nearly every piece), and so do `whole_only` words (those
    no longer word in the index starts with).
    """
    whole, loose = [], []
    skip = set(whole_only)
    for word in words(text):
        forms = [f'"{word}"']
        if (one := singular(word)) is not None:
            forms.append(f'"{one}"')
        same = (synonyms or {}).get(fold(word))  # "bague" is also "ring"
        if same is not None and same != fold(word):
            forms.append("(" + " AND ".join(f'"{w}"' for w in same.split()) + ")")
        whole.append(forms[0] if len(forms) == 1 else f"({' OR '.join(forms)})")
        if len(word) > 1 and word not in skip:
            forms[0] += "*"
        loose.append(forms[0] if len(forms) == 1 else f"({' OR '.join(forms)})")
    if not whole:
        return None
    exact, prefixed = " AND ".join(whole), " AND ".join(loose)
    return exact, (prefixed if prefixed != exact else None)


def _folded(token: str) -> str | None:
    """A token as the index keeps it (case and accents folded), when Python can tell for
    sure: plain ASCII letters and digits after folding; None otherwise."""
    folded = fold(token)
    return folded if folded.isascii() and folded.isalnum() else None


async def _without_longer_words(ledger: Ledger, text: str) -> set[str]:
    """The words of `text`, longer than the prefix indexes, that no longer word starts.

    FTS5 answers a prefix longer than its prefix indexes (8 letters) by merging the doclists
    of every word it starts, the word's own included: when the index holds no longer word,
    the prefix is the whole word and costs nothing.
    """
    checked = {}
    for word in words(text):
        token = _folded(word)
        if token is not None and len(token) > PREFIX_INDEXED:
            checked[word] = token
    if not checked:
        return set()
    # One query; "\x01" past the word: fts5vocab reads the doclist of each word it visits,
    # so start after the word itself, at its first completion.
    probe = ("(SELECT count(*) FROM (SELECT 1 FROM items_fts_terms WHERE term >= ?"
             " AND term < ? LIMIT 1))")
    row = await ledger.fetch_one("SELECT " + ", ".join([probe] * len(checked)),
                                 tuple(p for t in checked.values()
                                       for p in (t + "\x01", t + "\U0010ffff")))
    return {word for word, longer in zip(checked, row, strict=True) if not longer}


# -- the query ------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Tier:
    sql: str            # FROM ... WHERE ..., with the rows of `items` as `i`
    params: tuple[Any, ...]
    order: str
    count_sql: str | None = None  # the same set without `items`, when the index can count it
    # The same set asked more cheaply, for when the tier before it turned out empty.
    after_empty: _Tier | None = None


def _filters(category: str | None, metal: str | None, fineness: int | None,
             stone: str | None, designer: str | None, price_min: int | None,
             price_max: int | None, location: str | None,
             status: str | None) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    for col, value in (("category", category), ("metal", metal), ("fineness", fineness),
                       ("designer", designer), ("location", location), ("status", status)):
        if value is not None and value != "":
            where.append(f"i.{col} = ?")
            params.append(value)
    if price_min is not None:
        where.append("i.tag_price >= ?")
        params.append(price_min)
    if price_max is not None:
        where.append("i.tag_price <= ?")
        params.append(price_max)
    if stone:
        # Correlated EXISTS: checked row by row while walking in serial order, so a
        # common stone (diamond) stops after one page instead of listing every match.
        # (`+s.type`: look the piece's stones up by its serial, not every stone by type.)
        where.append("EXISTS (SELECT 1 FROM item_stones s WHERE s.item_id = i.item_id"
                     " AND +s.type = ?)")
        params.append(stone.lower())
    return where, params


def _code_match(text: str) -> tuple[str, list[Any]]:
    """Pieces whose serial, SKU or EPC is exactly the text (serials and SKUs in any case)."""
    variants = [text, text.upper()]
    sql = "(i.item_id IN (?, ?) OR i.sku IN (?, ?)"
    params: list[Any] = [*variants, *variants]
    try:
        epc = normalise_epc(text)
    except EpcError:
        epc = None
    if epc:
        sql += " OR i.epc = ?"
        params.append(epc)
    return sql + ")", params


def _indexed_filters(category: str | None, metal: str | None, fineness: int | None,
                     stone: str | None, designer: str | None) -> str:
    """The filters the index holds as words, as FTS5 column filters (`category : ("ring")`).

    They narrow what the index yields before each piece is read; the SQL filters still
    decide (a designer's words may appear in a longer name).
    """
    out = []
    for column, value in (("category", category), ("metal", metal), ("metal", fineness),
                          ("designer", designer), ("stones", stone)):
        quoted = [f'"{w}"' for w in words(str(value))] if value not in (None, "") else []
        if quoted:
            out.append(f" AND {column} : ({' AND '.join(quoted)})")
    return "".join(out)


def _tiers(text: str | None, where: list[str], params: list[Any], narrow: str = "",
           whole_only: Iterable[str] = (), synonyms: Mapping[str, str] | None = None
           ) -> tuple[list[_Tier], list[_Tier]]:
    """The tiers a page walks in order, and the disjoint sets that count every match (the
    whole-word and prefix tiers are counted as one: one pass over the index, not two)."""
    if not text:
        sql = "FROM items i" + (" WHERE " + " AND ".join(where) if where else "")
        tiers = [_Tier(sql, tuple(params), "ORDER BY i.item_id")]
        return tiers, tiers
    codes, code_params = _code_match(text)
    # `+`: the filters only check the few pieces the codes find, never drive the query.
    checks = [w.replace("i.", "+i.", 1) if w.startswith("i.") else w for w in where]
    tiers = [_Tier("FROM items i WHERE " + " AND ".join([codes, *checks]),
                   (*code_params, *params), "ORDER BY i.item_id")]
    if synonyms:
        text = with_store_words(text, synonyms)
    expressions = match_expressions(text, whole_only, synonyms)
    if expressions is None:
        return tiers, tiers
    exact, prefixed = expressions
    exact, prefixed = f"({exact}){narrow}", (f"({prefixed}){narrow}" if prefixed else None)
    # Pieces listed by their code are not listed again (the subquery runs once).
    fts = ("items_fts MATCH ? AND items_fts.rowid NOT IN"
           f" (SELECT i.received_seq FROM items i WHERE {codes})")
    # CROSS JOIN keeps the index as the outer loop: it yields pieces in the order they were
    # received (rowid = received_seq) with no sort, so a page stops early even for a broad
    # word. (Ascending: FTS5 skips through a long doclist forwards, not backwards.)
    sql = ("FROM items_fts CROSS JOIN items i ON i.received_seq = items_fts.rowid WHERE "
           + " AND ".join([fts, *where]))
    # Without filters the index counts alone, ten times faster than joining each piece.
    count_sql = None if where else "FROM items_fts WHERE " + fts
    order = "ORDER BY items_fts.rowid"
    whole = _Tier(sql, (exact, *code_params, *params), order, count_sql)
    if prefixed is None:
        return [*tiers, whole], [*tiers, whole]
    either = _Tier(sql, (prefixed, *code_params, *params), order, count_sql)
    started = _Tier(sql, (f"({prefixed}) NOT ({exact})", *code_params, *params), order,
                    count_sql, after_empty=either)  # no whole-word match: no NOT to check
    return [*tiers, whole, started], [*tiers, either]


async def search(ledger: Ledger, *, text: str | None = None, category: str | None = None,
                 metal: str | None = None, fineness: int | None = None,
                 stone: str | None = None, designer: str | None = None,
                 price_min: int | None = None, price_max: int | None = None,
                 location: str | None = None, status: str | None = None,
                 limit: int = 50, offset: int = 0,
                 synonyms: Mapping[str, str] | None = None) -> SearchPage:
    """One page of pieces matching the text and every filter, and how many matched.
    `synonyms` maps words a person of the store's language types (folded) to the index's
    words for the same thing."""
    if text is not None and not isinstance(text, str):
        raise Invalid("this must be text", "text")
    # A search box forgives: control characters separate words like spaces do.
    text = "".join(" " if ord(ch) < 32 or ord(ch) == 127 else ch for ch in text or "").strip()
    if len(text) > TEXT_MAX:
        raise Invalid("this is longer than {max} characters", "text", max=TEXT_MAX)
    if not text.isascii():
        try:
            text.encode()
        except UnicodeEncodeError:  # a lone surrogate: SQLite could not take it
            raise Invalid("this is not valid text", "text") from None
    limit, offset = max(1, min(limit, 500)), max(0, offset)
    where, params = _filters(category, metal, fineness, stone, designer, price_min, price_max,
                             location, status)
    narrow = _indexed_filters(category, metal, fineness, stone, designer)
    whole_only = await _without_longer_words(ledger, text) if text else set()
    tiers, counted = _tiers(text, where, params, narrow, whole_only, synonyms)

    async def count(tier: _Tier, cap: int) -> int:
        row = await ledger.fetch_one(
            f"SELECT count(*) FROM (SELECT 1 {tier.count_sql or tier.sql} LIMIT ?)",
            (*tier.params, cap))
        return row[0]

    # The page: the tiers one after another, asking one row more than the page to know
    # whether there is a next one. A tier the page skips entirely is counted (at most
    # `skip` rows) to know where the next tier starts.
    rows: list[Any] = []
    counts: list[int | None] = []  # exact count of each tier, where known
    need, skip = limit + 1, offset
    for tier in tiers:
        if need == 0:
            counts.append(None)
            continue
        if counts and counts[-1] == 0 and tier.after_empty is not None:
            tier = tier.after_empty
        got = await ledger.fetch(f"SELECT i.* {tier.sql} {tier.order} LIMIT ? OFFSET ?",
                                 (*tier.params, need, skip))
        if len(got) == need:
            rows += got
            counts.append(None)
            need, skip = 0, 0
            continue
        n = skip + len(got) if got else (await count(tier, skip) if skip else 0)
        counts.append(n)
        rows += got
        need, skip = need - len(got), max(0, skip - n)

    more = len(rows) > limit
    items = _dicts(rows[:limit])
    end = offset + len(items)
    total, capped = sum(n for n in counts if n is not None), False
    if more:
        # Count what the page did not, up to the cap (and always past this page: the
        # matches after those already counted are at least `end + 1 - total`).
        total = 0
        for i, tier in enumerate(counted):
            known = counts[i] if tier is tiers[i] else None  # a tier the page walked through
            if known is not None:
                total += known
                continue
            cap = max(COUNT_CAP + 1 - total, end + 1 - total, 1)
            n = await count(tier, cap)
            total += n
            if n == cap:
                total, capped = total - 1, True
                break
    return SearchPage(items, total, capped, offset, limit, end if more else None)


def _dicts(rows: list[Any]) -> list[dict[str, Any]]:
    if not rows:
        return []
    keys = rows[0].keys()
    return [dict(zip(keys, row, strict=True)) for row in rows]
