"""Issue 19 with the shipped rule pack (deploy/rules, loaded as the worker loads it): bursts of
the breach patterns on a few hosts, split over k simulated workers, give one worker's incidents."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incident.correlation import Config
from incident.signals import SecurityEvent
from streams.rules_loader import load_rules
from streams.settings import ROOT
from tests.unit.builders import T0, event
from tests.unit.spread import groups, one_worker, spread

PACK = load_rules(ROOT / "deploy" / "rules")
CONFIG = Config()
HOSTS = ("acme-auth", "acme-crm-db", "acme-files", "acme-vpn")
USERS = ("alice", "bob", "eve")
ADDRESSES = ("203.0.113.9", "198.51.100.4")

bursts = st.lists(st.tuples(
    st.sampled_from(["fail", "success", "stuff", "read", "rename", "transfer", "alert"]),
    st.integers(0, 40),  # start minute
    st.integers(0, 1),  # size: below or at the correlation's threshold
    st.sampled_from(HOSTS), st.sampled_from(USERS), st.sampled_from(ADDRESSES)), min_size=1, max_size=5)


def build(items: list[tuple[str, int, int, str, str, str]]) -> list[SecurityEvent]:
    out: list[SecurityEvent] = []

    def add(at: timedelta, host: str, **fields: Any) -> None:
        n = len(out)  # distinct ids and times: equal alerts would be duplicates of each other
        e = event(f"s{n}", asset=host, at=T0 + at + timedelta(milliseconds=n), located=False, **fields)
        out.append(e.located("acme", "crm"))

    for kind, minute, full, host, user, ip in items:
        start = timedelta(minutes=minute)
        match kind:
            case "fail":
                for i in range(5 + 5 * full):
                    add(start + timedelta(seconds=30 * i), host, category="authentication", outcome="failure",
                        user=user, source_ip=ip)
            case "success":
                add(start, host, category="authentication", outcome="success", user=user, source_ip=ip)
            case "stuff":
                for i in range(19 + full):
                    add(start + timedelta(seconds=10 * i), "acme-auth", category="authentication", outcome="failure",
                        user=f"user{i}", source_ip=ip)
            case "read":
                for i in range(49 + full):
                    add(start + timedelta(seconds=20 * i), host, action="download", data_store="hr.payroll", user=user)
            case "rename":
                for i in range(99 + full):
                    add(start + timedelta(milliseconds=500 * i), host, action="file-rename")
            case "transfer":
                for i in range(4 + full):
                    add(start + timedelta(minutes=5 * i), host, bytes_out=20_000_000,
                        destination_domain="files.example.net")
            case "alert":
                add(start, host, action=("file-encrypt", "device-stolen")[full], user=user)
    return out


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.large_base_example,
                                                                 HealthCheck.too_slow, HealthCheck.data_too_large])
@given(bursts, st.integers(1, 3), st.randoms(use_true_random=False), st.randoms(use_true_random=False))
def test_k_workers_give_one_workers_incidents_with_the_shipped_pack(items, k, arrival, scheduler) -> None:  # type: ignore[no-untyped-def]
    events = build(items)
    shuffled = list(events)
    arrival.shuffle(shuffled)
    one = one_worker(events, pack=PACK, config=CONFIG)
    split = spread(shuffled, pack=PACK, config=CONFIG, k=k, rnd=scheduler, reread=0.1)
    assert set(split.attached) == set(one.attached)
    assert all(n == 1 for n in split.attach_count.values())
    assert groups(split.final()) == groups(one.final())
