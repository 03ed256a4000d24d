"""The engine writes server-sent events a few at a time, without losing, reordering or
holding back the first one."""

import time

from local_engine.sse import coalesced


def slow_events(count: int, gap_s: float):
    for i in range(count):
        yield b"data: %d\n\n" % i
        time.sleep(gap_s)


def test_every_event_arrives_in_order_and_the_first_at_once() -> None:
    events = [b"data: %d\n\n" % i for i in range(200)]
    written = list(coalesced(iter(events), window_s=0.01))
    assert b"".join(written) == b"".join(events)
    assert written[0] == events[0]  # time to first token is not traded for fewer writes
    assert len(written) < 10  # events ready at once share writes


def test_events_further_apart_than_the_window_are_not_held_together() -> None:
    written = list(coalesced(slow_events(5, 0.03), window_s=0.01))
    assert len(written) >= 4 and b"".join(written) == b"".join(b"data: %d\n\n" % i for i in range(5))
