"""The host stage (issue 19): today's correlator restricted to one host; what it cannot decide
alone goes to the linkers and the rule stages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from incident.commands import AttachSignal
from incident.correlation import correlate
from incident.host_stage import HostStage
from incident.stage_messages import EntitySeen, FiredAsk, HeldAsk, Release, RuleHit
from tests.unit.builders import T0, event
from tests.unit.test_correlation_held import PACK, read


def host() -> HostStage:
    return HostStage("acme", "acme-crm-db", pack=PACK)


def attaches(records: Sequence[object]) -> dict[str, str]:
    return {r.evidence.event_id: r.incident_id for r in records if isinstance(r, AttachSignal)}


def test_an_incident_has_the_id_one_worker_gives_it() -> None:
    _, (opened,) = correlate(None, event("a", user="alice"))
    out = host().add(event("a", user="alice"))
    assert attaches(out) == {"a": opened.incident_id}
    (seen,) = [r for r in out if isinstance(r, EntitySeen)]  # the host is linked here, the account by its linker
    assert seen.entity.startswith("user.name#") and seen.incident_id == opened.incident_id


def test_a_duplicate_by_id_or_fingerprint_is_dropped() -> None:
    stage = host()
    stage.add(event("a", user="alice"))
    assert stage.add(event("a", user="alice")) == []
    assert stage.add(event("b", user="alice")) == []  # the same alert under a new id


def test_a_held_signal_sends_its_questions_and_its_hits() -> None:
    out = host().add(read(1))
    assert attaches(out) == {}
    (asked_user, asked_store) = [r for r in out if isinstance(r, HeldAsk)]
    assert asked_user.entity.startswith("user.name#") and asked_store.entity.startswith("data_store.name#")
    (hit,) = [r for r in out if isinstance(r, RuleHit)]
    assert (hit.correlation, hit.rule, hit.key) == ("mass", "read", "read:r1") and hit.sources[0].held
    (fired,) = [r for r in out if isinstance(r, FiredAsk)]
    assert fired.correlation == "mass" and fired.group == hit.group


def test_a_held_signal_joins_its_hosts_incident_opened_before_it_in_any_arrival_order() -> None:
    dump = event("dump", at=T0 + timedelta(minutes=5), action="dump", user="mallory")
    early, late = read(1, minutes=1), read(2, minutes=20)
    for order in ([dump, early, late], [late, early, dump], [early, late, dump]):
        stage = host()
        found = {k: v for e in order for k, v in attaches(stage.add(e)).items()}
        assert set(found) == {"dump", "r2"}, order  # r1 came before the incident: still held
        assert found["r2"] == found["dump"]


def test_a_release_read_twice_changes_nothing_and_an_earlier_one_is_passed_on() -> None:
    stage = host()
    stage.add(read(1))
    why = "correlation mass_download fired (…)"
    release = Release(controller="acme", host="acme-crm-db", event_id="r1", at=T0 + timedelta(minutes=30), why=why)
    first = stage.release(release)
    assert set(attaches(first)) == {"r1"} and first[0].evidence.reason.startswith(why)  # type: ignore[union-attr]
    assert stage.release(release) == []
    earlier = stage.release(Release(controller="acme", host="acme-crm-db", event_id="r1",
                                    at=T0 + timedelta(minutes=15), joined_by="user.name#x"))
    assert attaches(earlier) == {} and {r.attached_at for r in earlier if isinstance(r, EntitySeen)} == {
        T0 + timedelta(minutes=15)}


def test_state_stays_bounded_on_an_endless_stream() -> None:
    stage, sizes = host(), []
    for n in range(1_500):
        stage.add(event(f"e{n}", at=T0 + timedelta(minutes=10 * n), user=f"u{n % 7}",
                        action=("dump", "download")[n % 2], data_store="crm.customers"))
        stage.expire()
        sizes.append(len(stage.signals) + len(stage.prints) + len(stage.joined) + len(stage.incidents))
    # span 24 h + lateness 1 h of signals every 10 min: 150 of each, at most.
    assert max(sizes) <= 4 * 160 and len(stage.incidents) <= 2
