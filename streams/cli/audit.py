"""``breach audit verify``: every incident's audit chain checked against incident-events.

Reads the whole topic with a plain consumer (no group, nothing committed), judges each incident's
links in log order (incident/chain.py) and prints one line per incident: reference, id, verdict,
counts and, where a chain breaks, the version, event type, partition@offset and the two hashes.
Ids, versions, types and hashes only: no event content, so the output can go in a ticket.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from incident.chain import BROKEN, NOT_CHAINED, VERIFIED, ChainCheck, Verdict
from incident.notices import reference
from streams.cli.replay import read_topic
from streams.kafka import audit_chain
from streams.kafka.topics import INCIDENT_EVENTS
from streams.settings import Settings

SHORT = 12  # hex digits of a hash shown: enough to tell two apart, short enough to read out


@dataclass
class Audit:
    checks: dict[str, ChainCheck] = field(default_factory=dict)  # incident id -> its chain, in log order
    unreadable: int = 0  # records that are not JSON envelopes: counted, they name no incident

    def add(self, raw: bytes, where: str) -> None:
        try:
            tree = audit_chain.parse(raw)
        except ValueError:
            self.unreadable += 1
            return
        item = audit_chain.link_of(tree, where)
        data = tree.get("data") if isinstance(tree, dict) else None
        incident_id = data.get("incident_id") if isinstance(data, dict) else None
        if item is None or not isinstance(incident_id, str):
            return  # a CommandRejected: no version, outside the chain
        self.checks.setdefault(incident_id, ChainCheck()).add(item)

    def verdicts(self, incident: str | None = None) -> list[tuple[str, Verdict]]:
        """Every incident's verdict (or the one named, by id or BR- reference), sorted by id."""
        return [(i, c.verdict) for i, c in sorted(self.checks.items())
                if incident is None or incident == i or incident.upper() == reference(i)]


async def read_audit(settings: Settings) -> Audit:
    audit = Audit()
    async for record in read_topic(settings, INCIDENT_EVENTS):
        audit.add(record.value or b"", f"{INCIDENT_EVENTS}/{record.partition}@{record.offset}")
    return audit


def _short(value: str) -> str:
    return value[:SHORT] + "…" if len(value) > SHORT else value


def line(incident_id: str, v: Verdict) -> str:
    """One incident, one line, e.g. ``BR-3F2A9C1D 3f2a9c1d-…  verified  12 events, v1-v12``."""
    counts = f"{v.events} events, v1-v{v.versions}" if v.versions else f"{v.events} events"
    if v.replays:
        counts += f", {v.replays} replayed"
    if v.forks:
        counts += f", {len(v.forks)} forked copies (v{', v'.join(str(f) for f in v.forks)})"
    head = f"{reference(incident_id)} {incident_id}  "
    if v.status != BROKEN:
        return f"{head}{v.label}  {counts}"
    return (f"{head}BROKEN at v{v.broken_at}  {v.kind} at {v.where}: {v.reason} "
            f"(expected {_short(v.expected)}, found {_short(v.found)}); {v.events} events")


def summary(verdicts: list[tuple[str, Verdict]], unreadable: int) -> str:
    by = {s: sum(1 for _, v in verdicts if v.status == s) for s in (VERIFIED, BROKEN, NOT_CHAINED)}
    text = (f"{len(verdicts)} incident(s): {by[VERIFIED]} verified, {by[BROKEN]} broken, "
            f"{by[NOT_CHAINED]} not chained")
    return text + (f"; {unreadable} unreadable record(s) on {INCIDENT_EVENTS}" if unreadable else "")


def report(audit: Audit, incident: str | None = None) -> tuple[str, int]:
    """The text to print and the exit code: 1 when a chain is broken, 2 when the incident named
    has no events, else 0."""
    verdicts = audit.verdicts(incident)
    if incident is not None and not verdicts:
        return f"no events for incident {incident} on {INCIDENT_EVENTS}", 2
    lines = [line(i, v) for i, v in verdicts]
    lines.append(summary(verdicts, audit.unreadable))
    return "\n".join(lines), 1 if any(v.status == BROKEN for _, v in verdicts) else 0
