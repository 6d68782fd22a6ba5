"""Prometheus metrics of a worker: faust's own sensor (messages, tables, commits, rebalances)
plus ours. Served at /metrics by streams/web.py.

Counters the agents bump (one line each): records in, signals and incident events out,
dead letters by reason class, notices and reminders by outcome. Gauges computed when scraped
from what this worker holds: incidents by state and clocks by state (its partitions of the
incidents table; sum over workers in Prometheus), and consumer lag per partition.
Labels never carry personal data: reason classes drop the values quoted from a record.
"""

from __future__ import annotations

import re
from collections import Counter as Tally
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from incident.model import Incident
from streams.kafka import codec

# Ours: one registry for the process (agents of every app in it share the counters).
REGISTRY = CollectorRegistry(auto_describe=True)
SECURITY_EVENTS_IN = Counter("breach_security_events_in", "Records read from security-events", registry=REGISTRY)
SIGNALS_OUT = Counter("breach_signals_out", "Normalised signals published", registry=REGISTRY)
INCIDENT_EVENTS_OUT = Counter("breach_incident_events_out", "Domain events published to incident-events",
                              ["type"], registry=REGISTRY)
DEAD_LETTERS = Counter("breach_dead_letters", "Records dead-lettered, by topic and reason class",
                       ["topic", "reason"], registry=REGISTRY)
NOTICES = Counter("breach_notices", "Notice deliveries by kind and outcome (sent, failed; mass notices also "
                  "bounced, in_doubt)", ["kind", "outcome"], registry=REGISTRY)
# The kind of the notices the delivery agent sends to the people affected, one per person (the
# notify agent's `data_subject_notice` is the draft of it, sent to the DPO).
MASS_SUBJECT_NOTICE = "mass_subject_notice"
WINDOW_BYTES = Counter("breach_window_bytes_written", "Bytes the correlator wrote to its windows table, by kind "
                       "(delta, snapshot, tombstone)", ["kind"], registry=REGISTRY)


def window_bytes_written() -> float:
    """Every byte the correlators of this process wrote to their windows table (the bench's ratio)."""
    return sum(sample.value for metric in WINDOW_BYTES.collect() for sample in metric.samples
               if sample.name.endswith("_total"))


REMINDERS = Counter("breach_reminders", "Reminder e-mails by outcome", ["outcome"], registry=REGISTRY)
PAGES = Counter("breach_pages", "Pages to the on-call team by channel (email, json, slack, teams) and outcome",
                ["channel", "outcome"], registry=REGISTRY)


_QUOTED = re.compile(r"""(?<!field )('[^']*'|"[^"]*")""")
_NUMBER = re.compile(r"\d+")


def reason_class(reason: str) -> str:
    """A bounded label for a dead-letter reason: the text before any ':' detail, values quoted
    from the record replaced (field names, which are ours, kept), numbers folded."""
    head = reason.split(":", 1)[0]
    return _NUMBER.sub("N", _QUOTED.sub("…", head)).strip()[:60] or "unknown"


def dead_letter(topic: str, reason: str) -> None:
    DEAD_LETTERS.labels(topic=topic, reason=reason_class(reason)).inc()


def clock_state(incident: Incident, index: int, now: datetime) -> str:
    obligation = incident.obligations[index] if index < len(incident.obligations) else None
    status = obligation.status if obligation else "running"
    if status == "running" and incident.clocks[index].deadline <= now:
        return "overdue"
    return status


class StateCollector(Collector):
    """Incidents and clocks by state, and consumer lag, read from a running app when scraped."""

    def __init__(self, app: Any, incidents: Any, clock: Callable[[], datetime]) -> None:
        self.app, self.incidents, self.clock = app, incidents, clock

    def collect(self) -> Iterator[GaugeMetricFamily]:
        by_state: Tally[str] = Tally()
        clocks: Tally[tuple[str, str]] = Tally()
        now = self.clock()
        for incident in self._incidents():
            by_state[incident.status] += 1
            for i, clock in enumerate(incident.clocks):
                clocks[(clock.regime, clock_state(incident, i, now))] += 1
        gauge = GaugeMetricFamily("breach_incidents", "Incidents held by this worker, by state", labels=["state"])
        for state, count in sorted(by_state.items()):
            gauge.add_metric([state], count)
        yield gauge
        gauge = GaugeMetricFamily("breach_clocks", "Regulatory clocks held by this worker, by regime and state",
                                  labels=["regime", "state"])
        for (regime, state), count in sorted(clocks.items()):
            gauge.add_metric([regime, state], count)
        yield gauge
        gauge = GaugeMetricFamily("breach_consumer_lag", "Records not yet read, per assigned partition",
                                  labels=["topic", "partition"])
        for topic, partition, lag in self._lag():
            gauge.add_metric([topic, str(partition)], lag)
        yield gauge

    def _incidents(self) -> Iterable[Incident]:
        try:
            values = list(self.incidents.values())
        except (KeyError, RuntimeError):  # the table is recovering or being reassigned
            return []
        return [i for i in (codec.decode(v) for v in values) if isinstance(i, Incident)]

    def _lag(self) -> Iterable[tuple[str, int, int]]:
        consumer = self.app.consumer
        try:
            assignment = sorted(consumer.assignment())
        except Exception:  # not started, or between assignments: no lag to report yet
            return []
        out = []
        for tp in assignment:
            highwater = consumer.highwater(tp)
            read = consumer._read_offset.get(tp)  # faust keeps no public "position"
            if highwater is not None and highwater >= 0:
                out.append((tp.topic, tp.partition, max(0, highwater - ((read + 1) if read is not None else 0))))
        # The batch stages' consumers (ingest): not faust's. Imported here: batch_in counts its
        # crashes in this module's registry.
        from streams.kafka import batch_in

        for stage in batch_in.stages(self.app):
            out += stage.lag()
        return out


class WorkerMetrics:
    """One worker's metrics: faust's sensor in a registry of its own (two apps in one process,
    as in the tests, would clash in a shared one), ours, and the state collector."""

    def __init__(self, app: Any, incidents: Any, clock: Callable[[], datetime]) -> None:
        from faust.sensors.prometheus import FaustMetrics, PrometheusMonitor

        self.faust_registry = CollectorRegistry(auto_describe=True)
        app.monitor = PrometheusMonitor(metrics=FaustMetrics.create(self.faust_registry, "faust"))
        self.faust_registry.register(StateCollector(app, incidents, clock))

    def exposition(self) -> bytes:
        return generate_latest(REGISTRY) + generate_latest(self.faust_registry)
