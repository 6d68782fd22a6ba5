"""A rebalance does not wait for ever on a record two agents read (streams/faust_revoke.py).

faust's own objects (the app's flow control, its agents' buffers, its consumer's bookkeeping of
unacknowledged records), as a rebalance leaves them: notify and page both read incident-events;
the rebalance empties their buffers, then waits until no record is unacknowledged."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import faust
import pytest
from faust.events import Event
from faust.types.tuples import Message

from streams.app import create_app
from streams.settings import load_settings


@pytest.fixture
def app() -> Iterator[faust.App]:
    yield create_app(load_settings({}, broker_url="kafka://127.0.0.1:1"))  # never started: no broker asked


def consumer(app: faust.App) -> Any:
    return app.consumer  # faust's Consumer: its bookkeeping is not on the ConsumerT interface


def record(app: faust.App, offset: int) -> Message:
    """A record faust handed to both agents (counted twice) that one of them has started on."""
    message = Message("incident-events", 0, offset, 0.0, 0, None, b"k", b"v", None)
    message.incref(2)
    app.consumer.track_message(message)
    return message


def buffered(app: faust.App, message: Message) -> Any:
    """An agent's buffer (its channel's queue, which the agent's channel keeps) holding the record."""
    buffer = app.FlowControlQueue(maxsize=10, clear_on_resume=True)
    buffer.put_nowait(Event(app, b"k", b"v", {}, message))
    return buffer


def rebalance_starts(app: faust.App) -> None:
    """What faust's revoke does before its wait: stop the flow, empty the agents' buffers."""
    app.flow_control.suspend()
    app.flow_control.clear()
    gc.collect()
    consumer(app)._clean_unacked_messages()  # what its wait does each second


def waited_for(app: faust.App) -> set[int]:
    return {m.offset for m in consumer(app)._unacked_messages}


def test_a_record_one_agent_finished_and_the_other_had_buffered_is_not_waited_for(app: faust.App) -> None:
    message = record(app, 5)
    pages_latest = Event(app, b"k", b"v", {}, message)  # page's stream keeps it until its next event
    message.ack(app.consumer)  # page is done with it
    notify = buffered(app, message)  # notify, busy with earlier records, had not taken it yet
    rebalance_starts(app)
    assert waited_for(app) == set()
    # Not acknowledged for that: its offset is not committed, the partition's next owner reads it.
    assert not message.acked and message.refcount == 1
    assert pages_latest.message is message and notify.empty()


def test_a_record_an_agent_holds_in_hand_is_waited_for_until_it_is_done(app: faust.App) -> None:
    message = record(app, 7)
    page = buffered(app, message)  # page's copy, dropped by the rebalance
    rebalance_starts(app)  # notify has the record in hand, sending its notice
    assert waited_for(app) == {7} and page.empty()
    message.ack(app.consumer)  # notify is done
    consumer(app)._clean_unacked_messages()
    assert waited_for(app) == set()
    assert not message.acked  # page never acted on it: read again after the rebalance


def test_without_a_rebalance_nothing_is_dropped(app: faust.App) -> None:
    message = record(app, 9)
    message.ack(app.consumer)
    consumer(app)._clean_unacked_messages()
    assert waited_for(app) == {9}  # the other agent has it in hand or buffered: waited for
