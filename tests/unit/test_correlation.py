"""Correlation: signals join incidents by shared entities in event time; duplicates, late
events and state size are handled as docs/rules.md states."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from incident.commands import AttachSignal, MergeIncident
from incident.correlation import Config, Correlator, Window, correlate, correlate_batch
from incident.signals import SecurityEvent
from tests.unit.builders import T0, event

SPAN = timedelta(hours=24)


def ids(commands: list) -> list[str]:  # type: ignore[type-arg]
    return [c.incident_id for c in commands]


def test_signals_on_one_asset_within_the_window_join_one_incident() -> None:
    w1, c1 = correlate(None, event("a", at=T0))
    w2, c2 = correlate(w1, event("b", at=T0 + timedelta(hours=3)))
    assert c1[0].incident_id == c2[0].incident_id == w2.incident_id
    assert c1[0].evidence.reason.startswith("SIEM alert (no rule of the pack claims it); opened for host.name#")
    assert "joined by shared host.name#" in c2[0].evidence.reason and "within 24 h" in c2[0].evidence.reason
    assert "fingerprint fp:" in c2[0].evidence.reason


def test_a_signal_after_the_window_opens_a_new_incident() -> None:
    w1, c1 = correlate(None, event("a", at=T0))
    _, c2 = correlate(w1, event("b", at=T0 + timedelta(hours=25)))
    assert c1[0].incident_id != c2[0].incident_id


def test_a_duplicate_event_id_is_ignored() -> None:
    w1, _ = correlate(None, event("a"))
    w2, commands = correlate(w1, event("a"))
    assert commands == [] and w2.seen == w1.seen and w2.incidents == w1.incidents


def test_the_same_alert_resent_under_a_new_id_is_ignored_by_its_fingerprint() -> None:
    w1, _ = correlate(None, event("a", user="alice", source_ip="198.51.100.7"))
    _, again = correlate(w1, event("a-copy", user="alice", source_ip="198.51.100.7"))
    _, other = correlate(w1, event("b", user="bob", source_ip="198.51.100.7"))
    assert again == [] and len(other) == 1


def test_the_fingerprint_fields_are_configurable() -> None:
    coarse = Config(fingerprint=("host.name",))  # one alert per host per window, whatever it says
    w1, _ = correlate(None, event("a", user="alice"), config=coarse)
    _, commands = correlate(w1, event("b", user="bob", at=T0 + timedelta(minutes=5)), config=coarse)
    assert commands == []


def test_incident_ids_are_deterministic_and_do_not_depend_on_which_event_arrived_first() -> None:
    early, late = event("a", at=T0), event("z", at=T0 + timedelta(hours=2))
    _, forward = correlate_batch(None, [early, late])
    _, backward = correlate_batch(None, [late, early])
    assert set(ids(forward)) == set(ids(backward)) and len(set(ids(forward))) == 1
    assert correlate(None, event("a"))[0].incident_id == correlate(None, event("a"))[0].incident_id


def test_the_key_is_the_controller_and_unknown_assets_are_kept_and_flagged() -> None:
    w, commands = correlate(None, event("a", asset="printer-7"))
    assert w.key == "unmapped|printer-7"
    assert commands[0].controller is None and "(no profile declares the asset)" in commands[0].evidence.reason
    known, _ = correlate(None, event("b"))
    assert known.key == "acme"


def test_signals_on_two_hosts_sharing_a_user_join_one_incident_and_say_by_what_kind() -> None:
    w, c1 = correlate(None, event("a", asset="acme-crm-db", user="alice"))
    _, c2 = correlate(w, event("b", asset="acme-auth", user="alice", at=T0 + timedelta(minutes=5)))
    assert ids(c1) == ids(c2)
    assert "joined by shared user.name#" in c2[0].evidence.reason


def test_a_signal_sharing_entities_with_two_incidents_merges_them() -> None:
    w, c1 = correlate_batch(None, [event("a", asset="acme-crm-db", user="alice"),
                                   event("b", asset="acme-auth", user="bob", at=T0 + timedelta(minutes=1))])
    assert len(set(ids(c1))) == 2
    first = c1[0].incident_id  # the older incident survives
    w, c2 = correlate(w, event("c", asset="acme-auth", user="alice", at=T0 + timedelta(minutes=2)))
    (attached,) = [c for c in c2 if isinstance(c, AttachSignal)]
    (merge,) = [c for c in c2 if isinstance(c, MergeIncident)]
    assert attached.incident_id == first and "merges incident " + c1[1].incident_id in attached.evidence.reason
    # The absorbed incident is told where its evidence goes, and why: kinds and hashes, never values.
    assert merge.incident_id == c1[1].incident_id and merge.into == first
    assert merge.reason.startswith("signal c shares host.name#")
    assert f"with incident {first} within 24 h" in merge.reason
    assert "user.name#" in merge.reason and "alice" not in merge.reason and "acme-auth" not in merge.reason
    _, c3 = correlate(w, event("d", asset="acme-auth", user="bob", at=T0 + timedelta(minutes=3)))
    assert ids(c3) == [first]  # the merged one takes no new signals, and is not merged twice


def test_reasons_name_kinds_and_hashes_never_the_personal_data() -> None:
    w, c1 = correlate(None, event("a", user="alice.martin", source_ip="198.51.100.7"))
    _, c2 = correlate(w, event("b", user="alice.martin", source_ip="198.51.100.7", at=T0 + timedelta(minutes=1)))
    for command in (*c1, *c2):
        assert "alice" not in command.evidence.reason and "198.51" not in command.evidence.reason


def test_the_salt_changes_the_hashes() -> None:
    _, plain = correlate(None, event("a", user="alice"))
    _, salted = correlate(None, event("a", user="alice"), config=Config(salt="s3cret"))
    assert plain[0].evidence.reason != salted[0].evidence.reason


def test_a_late_event_is_still_attached_and_its_reason_says_late() -> None:
    w, _ = correlate(None, event("new", at=T0 + timedelta(hours=5)))
    _, within = correlate(w, event("recent", at=T0 + timedelta(hours=4, minutes=30)))
    _, late = correlate(w, event("old", at=T0 + timedelta(hours=2)))
    assert "late" not in within[0].evidence.reason
    assert len(late) == 1 and "late: 3 h behind the newest signal" in late[0].evidence.reason


def test_a_clock_far_in_the_future_cannot_expire_the_state() -> None:
    w, _ = correlate(None, event("a"))
    future = SecurityEvent(event_id="f", source_format="canonical", title="t", occurred_at=T0 + timedelta(days=400),
                           ingested_at=T0 + timedelta(minutes=3), asset="acme-crm-db", controller="acme")
    w, _ = correlate(w, future)
    assert w.watermark == T0 + timedelta(minutes=3) and len(w.incidents) >= 1


def test_a_duplicate_older_than_the_dedup_memory_still_reaches_its_own_incident() -> None:
    w, (first,) = correlate(None, event("a", user="alice"))
    w, _ = correlate(w, event("b", user="bob", at=T0 + timedelta(hours=3)))
    assert "a" not in {s.event_id for s in w.seen}
    _, (again,) = correlate(w, event("a", user="alice"))
    assert again.incident_id == first.incident_id  # where the aggregate ignores an id it holds


def test_expired_windows_are_dropped() -> None:
    w, _ = correlate(None, event("a", user="alice"))
    w, _ = correlate(w, event("b", asset="acme-auth", at=T0 + timedelta(days=3)))
    assert len(w.incidents) == 1 and [s.event_id for s in w.seen] == ["b"]


events_on_one_host = st.lists(
    st.tuples(st.integers(0, 59), st.sampled_from(["alice", "bob", None]), st.sampled_from(["10.0.0.1", None])),
    min_size=1, max_size=25)


def build(items: list[tuple[int, str | None, str | None]]) -> list[SecurityEvent]:
    # Distinct seconds: otherwise two equal alerts are duplicates and which one is kept depends on order.
    return [event(f"e{i}", at=T0 + timedelta(minutes=m, seconds=i), user=u, source_ip=ip)
            for i, (m, u, ip) in enumerate(items)]


@settings(max_examples=60, deadline=None)
@given(events_on_one_host, st.randoms(use_true_random=False))
def test_within_the_lateness_bound_arrival_order_does_not_matter(items, rnd) -> None:  # type: ignore[no-untyped-def]
    events = build(items)
    shuffled = list(events)
    rnd.shuffle(shuffled)
    _, in_order = correlate_batch(None, events)
    _, any_order = correlate_batch(None, shuffled)
    assert sorted((c.incident_id, c.evidence.event_id) for c in in_order) == \
        sorted((c.incident_id, c.evidence.event_id) for c in any_order)


@settings(max_examples=60, deadline=None)
@given(events_on_one_host)
def test_replaying_a_batch_changes_nothing(items) -> None:  # type: ignore[no-untyped-def]
    events = build(items)
    w1, first = correlate_batch(None, events)
    w2, again = correlate_batch(w1, events)
    assert again == [] and (w2.incidents, w2.seen, w2.hits, w2.held) == (w1.incidents, w1.seen, w1.hits, w1.held)
    assert len({c.evidence.event_id for c in first}) == len(first)  # each signal attached once


@settings(max_examples=40, deadline=None)
@given(events_on_one_host, st.integers(1, 7))
def test_a_live_correlator_gives_the_commands_of_a_batch_by_batch_state(items, size) -> None:  # type: ignore[no-untyped-def]
    # The agent keeps a Correlator between batches and saves its snapshot now and then; the
    # commands must be those of decoding, correlating and freezing the window every batch.
    events = build(items)
    config = Config(span=timedelta(hours=1), lateness=timedelta(minutes=10), max_seen=20)
    live = Correlator(Window(key="acme"), config=config)
    window: Window | None = Window(key="acme")
    for start in range(0, len(events), size):
        batch = events[start:start + size]
        window, expected = correlate_batch(window, batch, config=config)
        assert live.add(batch) == expected
    assert window is not None and live.snapshot().incidents == window.incidents


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 600), st.integers(0, 40)), min_size=50, max_size=200))
def test_state_stays_bounded_on_an_endless_stream(steps) -> None:  # type: ignore[no-untyped-def]
    config = Config(span=timedelta(hours=1), lateness=timedelta(minutes=10), max_incidents=50, max_seen=300)
    window: Window | None = None
    at = T0
    for n, (minutes, user) in enumerate(steps):
        at += timedelta(minutes=minutes)
        window, _ = correlate(window, event(f"s{n}", at=at, user=f"user{user}"), config=config)
        assert window is not None
        assert len(window.incidents) <= 50 and len(window.seen) <= 300
        # Nothing older than watermark - lateness - span survives a batch.
        assert window.watermark is not None
        horizon = window.watermark - config.lateness - config.span
        assert all(o.last_at >= horizon for o in window.incidents)
        assert all(s.at >= window.watermark - config.lateness for s in window.seen)  # dedup memory: the bound


def test_a_trimmed_window_keeps_the_newest_half_and_shrinks_to_nothing() -> None:
    w, _ = correlate_batch(None, [event(f"t{i}", at=T0 + timedelta(seconds=i), user=f"u{i}") for i in range(9)])
    smaller = w.trimmed()
    assert [s.event_id for s in smaller.seen] == [f"t{i}" for i in range(5, 9)]
    while smaller.seen:
        smaller = smaller.trimmed()
    assert smaller.incidents == w.incidents  # few open incidents are never dropped by trimming
