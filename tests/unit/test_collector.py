"""Full garbage collections wait until no script runs (components/collector.py)."""

import gc
import time
import weakref

import pytest

from components.collector import IdleCollector

SEEN: dict = {}  # what a script run by Streamlit's test runner saw


class Cycle:
    def __init__(self) -> None:
        self.me = self  # freed only by a collection


def old_garbage() -> weakref.ref:
    """A cycle in the oldest generation (which only a full collection scans), no longer used."""
    cycle = Cycle()
    gc.collect(1)  # the young generations' survivors move to the oldest
    return weakref.ref(cycle)


@pytest.fixture
def new_collector():
    """IdleCollector(...) for one test; its thread ends with the test, and the thresholds are restored."""
    threshold = gc.get_threshold()
    made = []
    yield lambda **kwargs: made.append(IdleCollector(**kwargs)) or made[-1]
    for collector in made:
        collector.close()
    gc.set_threshold(*threshold)
    gc.unfreeze()


def wait_until(condition, timeout: float) -> bool:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_a_full_collection_waits_for_the_scripts_end_then_frees_cycles(new_collector):
    collector = new_collector(quiet_s=0.3, at_most_s=60.0)
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


def test_while_scripts_keep_running_a_full_collection_still_comes(new_collector):
    collector = new_collector(quiet_s=10.0, at_most_s=0.5)
    with collector.script():
        garbage = old_garbage()
        assert wait_until(lambda: garbage() is None, 3.0)


def test_a_run_of_streamlits_script_thread_alone_defers_it_too(new_collector):
    """A fragment's own rerun runs on Streamlit's script thread, without the app's script (and
    its `collector.script()`) around it; here, Streamlit's test runner runs a script that way."""
    from streamlit.testing.v1 import AppTest

    collector = new_collector(quiet_s=0.3, at_most_s=60.0)
    with collector.script():
        pass
    wait_until(lambda: collector.full_collections >= 1, 3.0)
    done = collector.full_collections

    def script() -> None:
        import time

        import tests.unit.test_collector as here

        here.SEEN["garbage"] = here.old_garbage()
        time.sleep(1.5)  # more than quiet_s
        here.SEEN["alive_at_end"] = here.SEEN["garbage"]() is not None

    from streamlit import config

    config.set_option("runner.postScriptGC", False)  # as the app's .streamlit/config.toml has it
    try:
        AppTest.from_function(script, default_timeout=30).run()
    finally:
        config.set_option("runner.postScriptGC", True)
    assert SEEN["alive_at_end"] and collector.full_collections == done
    assert wait_until(lambda: SEEN["garbage"]() is None, 3.0)  # collected once the run has ended
