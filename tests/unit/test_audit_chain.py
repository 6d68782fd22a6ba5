"""The audit chain: links written by streams/kafka/audit_chain.py, judged by incident/chain.py."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from incident.chain import GENESIS, ChainCheck, Link, verify
from incident.events import IncidentOpened, TriageStarted
from streams.kafka import audit_chain, codec

AT = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def event(version: int, *, minutes: int = 0, by: str = "soc") -> Any:
    at = AT + timedelta(minutes=minutes)
    if version == 1:
        return IncidentOpened(incident_id="i-1", version=1, at=at, controller="acme", correlation_key="k",
                              profile_ref=None)
    return TriageStarted(incident_id="i-1", version=version, at=at, by=by, started_at=at)


def published(events: list[Any], head: str = GENESIS) -> tuple[list[bytes], str]:
    """What the agent puts on incident-events for these events, and the head it then saves."""
    records = []
    for e in events:
        record, head = audit_chain.stamp(codec.encode(e), head)
        records.append(record)
    return records, head


def links(records: list[bytes]) -> list[Link]:
    out = [audit_chain.link_of(audit_chain.parse(r), f"0@{offset}") for offset, r in enumerate(records)]
    return [x for x in out if x is not None]


def edited(record: bytes, **data: Any) -> bytes:
    tree = json.loads(record)
    tree["data"].update(data)
    return json.dumps(tree).encode()


def test_a_chain_written_in_order_verifies() -> None:
    records, head = published([event(v) for v in range(1, 6)])
    verdict = verify(links(records))
    assert (verdict.status, verdict.label, verdict.events, verdict.versions) == ("verified", "verified", 5, 5)
    assert json.loads(records[-1])["chain"]["hash"] == head
    assert json.loads(records[0])["chain"]["prev"] == GENESIS


def test_each_link_names_the_hash_of_the_one_before() -> None:
    records, _ = published([event(v) for v in range(1, 4)])
    trees = [json.loads(r) for r in records]
    assert [t["chain"]["prev"] for t in trees[1:]] == [t["chain"]["hash"] for t in trees[:-1]]


def test_chained_records_still_decode_as_before() -> None:
    records, _ = published([event(1)])
    assert codec.decode(records[0]) == event(1)


def test_out_of_order_breaks_at_the_first_version_out_of_place() -> None:
    records, _ = published([event(v) for v in range(1, 5)])
    verdict = verify(links([records[0], records[2], records[1], records[3]]))
    assert (verdict.status, verdict.broken_at, verdict.reason) == ("broken", 3, "v2 missing")


def test_a_crash_replay_publishes_identical_hashes_and_verifies() -> None:
    # v1-v2 saved; v3-v4 published, then a crash before the state and head were saved: the
    # replay decides the same commands against the saved state and head and publishes v3-v4 again.
    saved, head = published([event(1), event(2)])
    first, head_first = published([event(3), event(4)], head)
    again, head_again = published([event(3), event(4)], head)
    assert again == first and head_again == head_first
    after, _ = published([event(5)], head_again)
    verdict = verify(links(saved + first + again + after))
    assert (verdict.label, verdict.replays, verdict.forks) == ("verified", 2, ())


def test_a_replay_decided_at_a_later_time_is_a_fork_that_verifies_and_is_named() -> None:
    saved, head = published([event(1), event(2)])
    first, _ = published([event(3), event(4)], head)
    later, head_later = published([event(3, minutes=5), event(4, minutes=5)], head)  # the clock moved
    after, _ = published([event(5)], head_later)  # the agent continues from what it saved
    verdict = verify(links(saved + first + later + after))
    assert (verdict.status, verdict.label, verdict.forks) == ("verified", "verified, forked at v3", (3, 4))


def test_a_tampered_event_breaks_at_its_version_with_expected_and_found() -> None:
    records, _ = published([event(v) for v in range(1, 6)])
    records[2] = edited(records[2], by="someone else")
    verdict = verify(links(records))
    assert (verdict.status, verdict.label, verdict.kind, verdict.where) == ("broken", "broken at v3", "TriageStarted",
                                                                            "0@2")
    assert verdict.reason == "content does not give its hash"
    assert verdict.found == json.loads(records[2])["chain"]["hash"] and verdict.expected != verdict.found


def test_an_event_whose_hash_was_recomputed_breaks_the_link_after_it() -> None:
    records, _ = published([event(v) for v in range(1, 6)])
    tree = json.loads(edited(records[2], by="someone else"))
    forged, _ = audit_chain.stamp(audit_chain.canonical(tree), tree["chain"]["prev"])
    records[2] = forged
    verdict = verify(links(records))
    assert (verdict.broken_at, verdict.reason) == (4, "previous hash is not the hash of the event before")
    assert verdict.expected == json.loads(forged)["chain"]["hash"]
    assert verdict.found == json.loads(records[3])["chain"]["prev"]


def test_a_removed_event_breaks_where_it_is_missing() -> None:
    records, _ = published([event(v) for v in range(1, 6)])
    verdict = verify(links(records[:2] + records[3:]))
    assert (verdict.label, verdict.reason) == ("broken at v4", "v3 missing")


def test_an_inserted_event_breaks_the_chain() -> None:
    records, _ = published([event(v) for v in range(1, 4)])
    inserted, _ = published([event(3, by="intruder")], "f" * 64)  # a link to nothing in this chain
    verdict = verify(links(records[:2] + inserted + records[2:]))
    assert (verdict.label, verdict.kind, verdict.where) == ("broken at v3", "TriageStarted", "0@2")


def test_renumbered_events_after_an_insertion_break_at_the_insertion() -> None:
    records, _ = published([event(v) for v in range(1, 5)])
    # An event slipped in as v3 with the original v3 and v4 renumbered v4 and v5, chain fields kept.
    inserted, _ = published([event(3, by="intruder")], json.loads(records[1])["chain"]["hash"])
    shifted = [edited(r, version=v) for r, v in ((records[2], 4), (records[3], 5))]
    verdict = verify(links(records[:2] + inserted + shifted))
    assert (verdict.label, verdict.reason) == ("broken at v4", "content does not give its hash")


def test_events_from_before_chaining_are_not_chained_and_the_chain_starts_after_them() -> None:
    old = [codec.encode(event(v)) for v in (1, 2)]
    assert verify(links(old)).label == "not chained"
    new, _ = published([event(3), event(4)])  # the agent found no head with the saved state
    verdict = verify(links(old + new))
    assert (verdict.label, verdict.chained_from) == ("verified from v3", 3)


def test_an_old_unchained_event_delivered_again_after_chaining_began_is_a_replay() -> None:
    old = [codec.encode(event(v)) for v in (1, 2)]
    new, _ = published([event(3)])
    verdict = verify(links([*old, *new, old[1]]))
    assert (verdict.label, verdict.replays) == ("verified from v3", 1)


def test_an_unchained_event_after_a_chained_one_breaks() -> None:
    records, _ = published([event(1), event(2)])
    verdict = verify(links([*records, codec.encode(event(3))]))
    assert (verdict.label, verdict.reason) == ("broken at v3", "not chained after chaining began")


def test_a_re_serialised_copy_still_verifies() -> None:
    records, _ = published([event(v) for v in range(1, 4)])
    pretty = [json.dumps(json.loads(r), indent=2, sort_keys=False).encode() for r in records]
    assert verify(links(pretty)).label == "verified"


def test_the_check_folds_one_link_at_a_time_and_stops_at_the_first_break() -> None:
    records, _ = published([event(v) for v in range(1, 5)])
    records[1] = edited(records[1], by="x")
    records[3] = edited(records[3], by="y")
    check = ChainCheck()
    for item in links(records):
        check.add(item)
    assert (check.verdict.broken_at, check.verdict.events) == (2, 4)  # all read, the first break kept


def test_records_outside_any_chain_are_not_links() -> None:
    rejected = b'{"type":"CommandRejected","v":1,"data":{"incident_id":"i-1","at":"x","command":"c","reason":"r"}}'
    assert audit_chain.link_of(audit_chain.parse(rejected), "0@0") is None


def test_the_head_is_kept_in_the_table_value_and_read_back() -> None:
    value = audit_chain.with_head(codec.as_table_value(event(1)), "ab" * 32)
    assert audit_chain.head_of(value) == "ab" * 32
    assert audit_chain.head_of(codec.as_table_value(event(1))) == GENESIS  # saved before chaining
    assert audit_chain.head_of(None) == GENESIS


def test_the_register_and_the_read_model_say_whether_each_chain_verifies() -> None:
    from console.read_model import ReadModel
    from incident.register import csv_row

    records, _ = published([event(1), event(2)])
    model = ReadModel()
    for offset, record in enumerate(records):
        model.apply(*audit_chain.decode(record, f"incident-events/0@{offset}"))
    assert [e["audit_chain"] for e in model.register()] == ["verified"]
    model.reset()
    for offset, record in enumerate([records[0], edited(records[1], by="x")]):
        model.apply(*audit_chain.decode(record, f"incident-events/0@{offset}"))
    (entry,) = model.register()
    assert csv_row(entry)["audit_chain"] == "broken at v2"
    assert model.incidents["i-1"].version == 2  # the register still shows the incident: it says what to doubt


def test_a_model_fed_without_records_says_not_checked() -> None:
    from console.read_model import ReadModel

    model = ReadModel()
    model.apply(event(1))
    assert model.register()[0]["audit_chain"] == "not checked"


def test_the_report_is_one_line_an_incident_then_the_counts_and_its_exit_code() -> None:
    from streams.cli.audit import Audit, report

    audit = Audit()
    saved, head = published([event(1), event(2)])
    first, _ = published([event(3)], head)
    later, _ = published([event(3, minutes=5)], head)
    for offset, raw in enumerate([*saved, *first, *first, *later, b"{not json"]):
        audit.add(raw, f"incident-events/0@{offset}")
    text, code = report(audit)
    assert code == 0 and text.splitlines() == [
        "BR-I1 i-1  verified, forked at v3  5 events, v1-v3, 1 replayed, 1 forked copies (v3)",
        "1 incident(s): 1 verified, 0 broken, 0 not chained; 1 unreadable record(s) on incident-events"]
    assert report(audit, "BR-i1")[1] == 0 and report(audit, "i-2") == ("no events for incident i-2 on "
                                                                        "incident-events", 2)
