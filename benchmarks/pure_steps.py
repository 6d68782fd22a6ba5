"""CPU per event of each pure step of the hot path (issue 19's table), in process, no broker:
what normalising, correlating and the incident's decide + fold + saved state cost on the bench's
own records (canonical events on five assets of the sample profiles, the sample rule pack),
each the minimum of a few runs (this machine's load moves single runs by tens of per cent).

The shell around them (faust, the broker) is measured by the end-to-end rows; these say how much
of an event's budget the domain itself takes, and the wire codecs beside it: a signal written by
ingest and read by the correlator (packed per key, as ingest packs them), a command written by the
correlator and read by the incident agent.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson

from benchmarks import Context, Figure, measurement
from benchmarks._support import canonical
from incident.commands import AttachSignal, MergeIncident
from incident.correlation import Correlator, Window, correlation_key
from incident.decide import decide
from incident.errors import InvalidEvent
from incident.model import Incident, fold
from incident.signals import SecurityEvent
from streams.deps import Deps
from streams.kafka import codec
from streams.mail.mailer import RecordingMailer
from streams.mail.render import NoticeRenderer
from streams.pipeline.ingest import SIGNALS_BYTES, normalise
from streams.pipeline.signal_batches import decode_signals, encode_signals
from streams.profiles_loader import load_directory
from streams.rules_loader import load_rules
from streams.settings import ROOT

N = 3_000
RUNS = 5
BATCH = 500  # signals per Correlator.add, as a batch of the correlation agent
SAVE_EVERY = 50  # signals per incident-agent batch: the state is encoded after each
ASSETS = ("ampere-crm-db", "ampere-web-01", "ama-app-01", "atometrics-atometrix-db", "publisher-2018-db-01")


def _deps() -> Deps:
    deploy = ROOT / "deploy"
    return Deps(directory=load_directory(deploy / "profiles"), mailer=RecordingMailer(),
                renderer=NoticeRenderer(ROOT / "templates" / "notices"), rule_pack=load_rules(deploy / "rules"))


def _cpu_us(step: Callable[[], Any], count: int) -> float:
    """The least CPU per event over RUNS runs of ``step``."""
    best = float("inf")
    for _ in range(RUNS):
        started = time.process_time()
        step()
        best = min(best, time.process_time() - started)
    return best / count * 1e6


def steps(count: int = N) -> dict[str, float]:
    """CPU µs per event of each step, keyed by step."""
    deps, t0 = _deps(), datetime.now(UTC)
    raws = [canonical(i, ASSETS[i % len(ASSETS)], t0) for i in range(count)]

    def normalised() -> list[SecurityEvent]:
        return [r for i, raw in enumerate(raws) for _, r in normalise(raw, t0, f"security-events:0:{i}", deps)
                if not isinstance(r, InvalidEvent)]

    signals = normalised()
    by_key: dict[str, list[SecurityEvent]] = {}
    for signal in signals:
        by_key.setdefault(correlation_key(signal), []).append(signal)

    def correlated() -> list[AttachSignal | MergeIncident]:
        out: list[AttachSignal | MergeIncident] = []
        for key, batch in by_key.items():
            correlator = Correlator(Window(key=key), pack=deps.rule_pack, config=deps.correlation)
            for start in range(0, len(batch), BATCH):
                out.extend(correlator.add(batch[start:start + BATCH]))
        return out

    commands = correlated()
    rules = deps.rules

    def incidents() -> None:
        states: dict[str, Incident | None] = {}
        for n, command in enumerate(commands):
            state = states.get(command.incident_id)
            state = states[command.incident_id] = fold(state, decide(command, state, now=t0, rules=rules))
            if n % SAVE_EVERY == SAVE_EVERY - 1:
                orjson.dumps(codec.as_table_value(state))

    def signals_wire() -> None:
        for batch in by_key.values():
            for record in encode_signals(batch, limit=SIGNALS_BYTES):
                decode_signals(record)

    def commands_wire() -> None:
        for command in commands:
            codec.decode(codec.encode(command))

    if len(signals) != count or len(commands) != count:
        raise RuntimeError(f"the bench's records gave {len(signals)} signals and {len(commands)} commands, "
                           f"not {count}: the sample profiles or rules changed")
    return {"normalise": _cpu_us(normalised, count), "correlate": _cpu_us(correlated, count),
            "incident": _cpu_us(incidents, count), "signals_codec": _cpu_us(signals_wire, count),
            "commands_codec": _cpu_us(commands_wire, count)}


@measurement(order=26)  # in process: no limit to wait for, beside the corpus row
async def pure_steps(ctx: Context) -> list[Figure]:
    found = steps()
    total = found["normalise"] + found["correlate"] + found["incident"]
    ctx.extra["pure_steps"] = {"events": N, "runs": RUNS, "cpu_us": found}
    note = f"min of {RUNS} runs of {N:,} canonical events, one core"
    return [Figure("pure_normalise_cpu_us", "CPU per event: normalise (adapters, envelope, attribution)",
                   found["normalise"], "µs", note=note),
            Figure("pure_correlate_cpu_us", "CPU per event: correlate (rules, dedup, entities, incidents)",
                   found["correlate"], "µs", note=note),
            Figure("pure_incident_cpu_us", "CPU per event: decide + fold + saved state (every 50)",
                   found["incident"], "µs", note=note),
            Figure("pure_total_cpu_us", "CPU per event: the three pure steps", total, "µs",
                   note="no codec, no broker, no faust"),
            Figure("wire_signals_cpu_us", "CPU per event: signals encode + decode (packed per key)",
                   found["signals_codec"], "µs", note=note),
            Figure("wire_commands_cpu_us", "CPU per event: commands encode + decode", found["commands_codec"], "µs",
                   note=note)]
