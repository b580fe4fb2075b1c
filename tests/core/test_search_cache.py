"""The search page cache: never stale, whatever the order of searches and changes; emptied by
the writer in the commit that changes a piece, and only then; pages read before a commit are
not kept after it; the least recently asked page goes first."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.core.search import PageCache, SearchPage
from hub.core.search import search as search_pieces
from hub.store import Store, init_store
from tests.builders import client, piece

PIECES = [piece(f"C-{n}", description=desc, category=cat, designer=designer, location=where,
                tag_price=price)
          for n, (desc, cat, designer, where, price) in enumerate([
              ("Ruby brooch", "brooch", "Maison Aurore", "showcase-1", 500_000),
              ("Diamond ring", "ring", "Kōno", "showcase-1", 800_000),
              ("Pearl strand", "necklace", "Castellane", "showcase-2", 150_000),
              ("Sapphire ring", "ring", "Verdier", "window", 650_000),
              ("Gold hoops", "earrings", "Kōno", "showcase-2", 90_000),
              ("Emerald brooch", "brooch", "Verdier", "safe", 1_200_000),
          ], start=1)]
TEXTS = (None, "ring", "brooch", "Kōno", "ruby", "gold", "xyzzy")
PLACES = ("showcase-1", "showcase-2", "window", "safe")


class LoopThread:
    """A store opened on an event loop of its own thread, so a Hypothesis test (which is
    synchronous) can drive it example after example."""

    def __init__(self, tmp: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        config = init_store(tmp / "store", "paris-01", "Maison Test", "EUR")
        self.store: Store = self.run(Store.open(config))
        self.run(self.store.items.receive_many(PIECES, "admin"))
        self.received = len(PIECES)

    def run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    def close(self) -> None:
        self.run(self.store.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopThread]:
    shop = LoopThread(tmp_path_factory.mktemp("cache"))
    try:
        yield shop
    finally:
        shop.close()


searches = st.fixed_dictionaries({
    "text": st.sampled_from(TEXTS),
    "category": st.sampled_from((None, "ring", "brooch")),
    "location": st.sampled_from((None, *PLACES)),
    "status": st.sampled_from((None, "in_stock", "reserved")),
    "limit": st.sampled_from((1, 2, 20)),
    "offset": st.sampled_from((0, 1)),
})
changes = st.one_of(
    st.tuples(st.just("move"), st.integers(1, 6), st.sampled_from(PLACES)),
    st.tuples(st.just("price"), st.integers(1, 6), st.integers(1, 2_000_000)),
    st.tuples(st.just("reserve"), st.integers(1, 6), st.none()),
    st.tuples(st.just("receive"), st.none(), st.sampled_from(("ring", "brooch"))),
    st.tuples(st.just("client"), st.none(), st.none()),  # touches no piece
)


async def change(shop: LoopThread, what: tuple[str, Any, Any]) -> None:
    items = shop.store.items
    kind, n, value = what
    serial = f"C-{n}"
    try:
        if kind == "move":
            await items.move(serial, value, "admin")
        elif kind == "price":
            await items.update(serial, {"tag_price": value}, "admin")
        elif kind == "reserve":
            status = (await items.get(serial))["status"]
            await items.change_status(serial, "in_stock" if status == "reserved" else "reserved",
                                      "admin")
        elif kind == "receive":
            shop.received += 1
            await items.receive(piece(f"C-{shop.received}", category=value,
                                      description=f"New {value}"), "admin")
        else:
            await shop.store.clients.create(client(), "admin")
    except Exception as exc:  # a refused change (already there) changes nothing
        assert "already" in str(exc) or "cannot become" in str(exc), exc


async def compare(shop: LoopThread, query: dict[str, Any]) -> None:
    cached = await shop.store.items.search(**query)
    fresh = await search_pieces(shop.store.ledger, synonyms=shop.store.items.search_synonyms,
                                **query)
    assert cached == fresh  # `derived` is left out of the comparison


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.one_of(st.tuples(st.just("search"), searches),
                                st.tuples(st.just("change"), changes)), max_size=25))
def test_a_cached_search_always_reads_like_a_fresh_one(shop, steps):
    for step, arg in steps:
        if step == "search":
            shop.run(compare(shop, arg))
            shop.run(compare(shop, arg))  # the second from the cache, where it was kept
        else:
            shop.run(change(shop, arg))


def test_the_writer_empties_the_cache_only_for_a_change_to_a_piece(shop):
    pages = shop.store.items.pages
    assert pages is not None
    first = shop.run(shop.store.items.search(text="ring", limit=20))
    assert shop.run(shop.store.items.search(text="ring", limit=20)) is first
    clears = pages.clears
    shop.run(shop.store.clients.create(client("Inès", "Roux"), "admin"))
    assert pages.clears == clears
    assert shop.run(shop.store.items.search(text="ring", limit=20)) is first

    shop.run(shop.store.items.move("C-2", "safe" if first.items[0]["location"] != "safe"
                                   else "window", "admin"))
    # Emptied before `move` returned: the mover's next search reads the books.
    assert pages.clears == clears + 1 and len(pages) == 0
    again = shop.run(shop.store.items.search(text="ring", limit=20))
    assert again is not first

    shop.run(shop.store.ledger.rebuild())
    assert pages.clears == clears + 2


def test_a_page_read_before_a_commit_is_not_kept_after_it():
    pages = PageCache()
    page = SearchPage([], 0, False, 0, 20, None)
    started = pages.generation
    pages.clear()  # the writer committed a change while the page was read
    pages.keep(("q",), started, page)
    assert pages.get(("q",)) is None
    pages.keep(("q",), pages.generation, page)
    assert pages.get(("q",)) is page and (pages.hits, pages.misses) == (1, 1)


def test_the_least_recently_asked_page_goes_first():
    pages = PageCache(capacity=2)
    made = {k: SearchPage([], 0, False, 0, 20, None) for k in "abc"}
    pages.keep("a", 0, made["a"])
    pages.keep("b", 0, made["b"])
    assert pages.get("a") is made["a"]  # asked again: "b" is now the oldest
    pages.keep("c", 0, made["c"])
    assert pages.get("b") is None and pages.get("a") is made["a"]
    assert pages.get("c") is made["c"] and len(pages) == 2
