"""How `loupe run` starts: the collector paused while the books are read into memory."""

from __future__ import annotations

import asyncio
import gc

import pytest

from hub.daemon import collector_paused, when_loaded


@pytest.fixture
def collector():
    yield
    gc.unfreeze()  # what a test froze goes back to the collector
    gc.enable()


def test_the_collector_waits_for_the_start_then_leaves_what_it_made_alone(collector):
    before = gc.get_freeze_count()
    with collector_paused() as started:
        assert not gc.isenabled()
        kept = [{"piece": n} for n in range(1000)]  # what a start reads and keeps
        started()
        assert gc.isenabled()
        assert gc.get_freeze_count() >= before + len(kept)
        started()  # once is enough: a second call changes nothing
        assert gc.isenabled()
    assert gc.isenabled()


def test_a_start_that_fails_gives_the_collector_back(collector):
    with pytest.raises(OSError), collector_paused():
        assert not gc.isenabled()
        raise OSError("the port is taken")
    assert gc.isenabled()


async def test_the_collector_comes_back_once_the_parts_loads_are_done():
    """The counts read their pieces after the hub answers: the collector resumes after that
    load too, whether it worked or failed."""
    loads = [asyncio.get_running_loop().create_future() for _ in range(2)]
    resumed: list[bool] = []
    waiting = asyncio.ensure_future(when_loaded(loads, lambda: resumed.append(True)))
    loads[0].set_result(None)
    await asyncio.sleep(0)
    assert not resumed and not waiting.done()
    loads[1].set_exception(OSError("disk I/O error"))
    await waiting
    assert resumed == [True]
