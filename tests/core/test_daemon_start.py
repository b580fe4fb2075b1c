"""How `loupe run` starts: the collector paused while the books are read into memory."""

from __future__ import annotations

import gc

import pytest

from hub.daemon import collector_paused


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
