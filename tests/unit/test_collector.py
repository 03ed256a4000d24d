"""Full garbage collections wait until no script runs (components/collector.py)."""

import gc
import time
import weakref

import pytest

from components.collector import IdleCollector


class Cycle:
    def __init__(self) -> None:
        self.me = self  # freed only by a collection


def old_garbage() -> weakref.ref:
    """A cycle in the oldest generation (which only a full collection scans), no longer used."""
    cycle = Cycle()
    gc.collect(1)  # the young generations' survivors move to the oldest
    return weakref.ref(cycle)


@pytest.fixture
def restored_gc():
    threshold = gc.get_threshold()
    yield
    gc.set_threshold(*threshold)
    gc.unfreeze()


def wait_until(condition, timeout: float) -> bool:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_a_full_collection_waits_for_the_scripts_end_then_frees_cycles(restored_gc):  # noqa: ARG001
    collector = IdleCollector(quiet_s=0.3, at_most_s=60.0)
    with collector.script():  # the first run: starts the thread, freezes what start-up made
        pass
    full = []
    gc.callbacks.append(hook := lambda phase, info: full.append(info) if phase == "stop" and info["generation"] == 2 else None)
    try:
        wait_until(lambda: collector.full_collections >= 1, 3.0)
        full.clear()
        with collector.script():
            garbage = old_garbage()
            kept = [[] for _ in range(300_000)]  # enough survivors that CPython would start a full collection itself
            time.sleep(1.0)  # more than quiet_s, but a script runs
            assert not full and garbage() is not None
            del kept
        assert wait_until(lambda: garbage() is None, 3.0)  # collected once the script has ended
        assert full
    finally:
        gc.callbacks.remove(hook)


def test_while_scripts_keep_running_a_full_collection_still_comes(restored_gc):  # noqa: ARG001
    collector = IdleCollector(quiet_s=10.0, at_most_s=0.5)
    with collector.script():
        garbage = old_garbage()
        assert wait_until(lambda: garbage() is None, 3.0)
