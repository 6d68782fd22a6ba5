"""No evidence dropped (issue 15): a held signal (one that only feeds a correlation) joins an
open incident it shares an entity with at once, and its reason says it was held."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from incident.commands import AttachSignal
from incident.correlation import Correlator, Window, correlate_batch
from incident.rules import AllOf, CorrelationRule, DetectionRule, Equals, FieldIs, RulePack
from incident.signals import SecurityEvent
from tests.unit.builders import T0, event

READ = DetectionRule(id="read", name="data_store_read", title="Read", level="low",
                     condition=AllOf((FieldIs("event.action", Equals("download")),)), source="t")
DUMP = DetectionRule(id="dump", name="database_dump", title="Dump", level="high",
                     condition=AllOf((FieldIs("event.action", Equals("dump")),)), source="t")
MASS = CorrelationRule(id="mass", name="mass_download", title="Mass", level="high", type="event_count",
                       rules=("read",), group_by=("user.name", "data_store.name"), timespan=timedelta(hours=1),
                       condition=(("gte", 5),))
PACK = RulePack.of([READ, DUMP], [MASS])


def read(n: int, *, user: str = "eve", minutes: int = 10, asset: str = "acme-crm-db") -> SecurityEvent:
    return event(f"r{n}", at=T0 + timedelta(minutes=minutes, seconds=n), action="download", user=user,
                 data_store="crm.customers", asset=asset)


def attached(commands: list[object]) -> dict[str, AttachSignal]:
    return {c.evidence.event_id: c for c in commands if isinstance(c, AttachSignal)}


def test_a_read_alone_is_held_and_dropped_as_before() -> None:
    window, commands = correlate_batch(None, [read(1)], pack=PACK)
    assert commands == [] and [h.evidence.event_id for h in window.held] == ["r1"]


def test_a_held_read_sharing_the_user_of_an_open_incident_joins_it_at_once() -> None:
    dump = event("dump", at=T0, action="dump", user="eve", asset="acme-auth")
    window, first = correlate_batch(None, [dump], pack=PACK)
    (opened,) = first
    window, commands = correlate_batch(window, [read(1)], pack=PACK)  # another host, same account
    joined = attached(commands)["r1"]
    assert joined.incident_id == opened.incident_id
    assert "held for correlation mass_download" in joined.evidence.reason
    assert "joined by shared user.name#" in joined.evidence.reason
    assert window.held == () or "r1" not in {h.evidence.event_id for h in window.held}


def test_a_held_read_on_the_host_of_an_open_incident_joins_it_in_the_same_batch() -> None:
    dump = event("dump", at=T0, action="dump", user="mallory", asset="acme-crm-db")
    _, commands = correlate_batch(None, [dump, read(1, user="eve")], pack=PACK)
    found = attached(commands)
    assert found["r1"].incident_id == found["dump"].incident_id
    assert "joined by shared host.name#" in found["r1"].evidence.reason


def test_a_held_read_sharing_nothing_with_an_open_incident_stays_held() -> None:
    dump = event("dump", at=T0, action="dump", user="mallory", asset="acme-auth")
    window, commands = correlate_batch(None, [dump, read(1, user="eve")], pack=PACK)
    assert set(attached(commands)) == {"dump"} and [h.evidence.event_id for h in window.held] == ["r1"]


def test_a_held_read_long_after_the_incident_stays_held() -> None:
    dump = event("dump", at=T0, action="dump", user="eve", asset="acme-auth")
    late = read(1, minutes=60 * 30)  # beyond the 24 h span
    window, commands = correlate_batch(None, [dump, late], pack=PACK)
    assert set(attached(commands)) == {"dump"} and [h.evidence.event_id for h in window.held] == ["r1"]


def test_the_correlation_still_fires_for_reads_that_joined_early() -> None:
    # Reads by eve on the CRM host: the first two before any incident (held), the dump opens one
    # on the host, the next two join it at once, the fifth makes the count: it and the two still
    # held are released by the correlation.
    reads = [read(n, minutes=0) for n in range(5)]
    dump = event("dump", at=T0 + timedelta(seconds=2, milliseconds=500), action="dump", user="mallory")
    _, commands = correlate_batch(None, [*reads[:2], dump, *reads[2:]], pack=PACK)
    found = attached(commands)
    assert set(found) == {"dump", "r0", "r1", "r2", "r3", "r4"}
    assert len({c.incident_id for c in found.values()}) == 1
    assert all("correlation mass_download fired" in found[r].evidence.reason for r in ("r0", "r1", "r4"))
    assert all("held for correlation mass_download" in found[r].evidence.reason for r in ("r2", "r3"))
    assert len(commands) == 6  # each signal once


steps = st.lists(st.tuples(st.integers(0, 90), st.sampled_from(["read", "dump"]), st.sampled_from(["eve", "bob"]),
                           st.sampled_from(["acme-crm-db", "acme-auth"])), min_size=1, max_size=40)


@settings(max_examples=60, deadline=None)
@given(steps, st.integers(1, 7))
def test_held_signals_are_attached_once_and_batches_do_not_matter(items, size) -> None:  # type: ignore[no-untyped-def]
    events = [event(f"{kind}{i}", at=T0 + timedelta(minutes=m, seconds=i), user=user, asset=asset,
                    action="download" if kind == "read" else "dump", data_store="crm.customers")
              for i, (m, kind, user, asset) in enumerate(items)]
    window, whole = correlate_batch(None, events, pack=PACK)
    attached_ids = [c.evidence.event_id for c in whole if isinstance(c, AttachSignal)]
    assert len(attached_ids) == len(set(attached_ids))
    assert not set(attached_ids) & {h.evidence.event_id for h in window.held}  # attached or held, not both
    live = Correlator(Window(key="acme"), pack=PACK)
    in_batches = [c for start in range(0, len(events), size) for c in live.add(events[start:start + size])]
    assert in_batches == whole
