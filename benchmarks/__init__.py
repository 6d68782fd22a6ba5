"""`make bench` measurements: one module per measurement, found by name at run time.

A measurement is an ``async def`` decorated with ``@measurement(order)``: it gets the shared
``Context`` (an embedded broker, an SMTP sink, a scratch folder, the figures measured before
it) and returns ``Figure``s. A figure that has a limit names the figure it is compared with
(e.g. the service's throughput against the raw Kafka rate), and the report prints the ratio.
To add one, drop a module in this package; benchmarks/report.py imports every module here.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Figure:
    key: str  # stable id, the JSON key
    label: str  # what the table says
    value: float
    unit: str
    limit: str | None = None  # key of the figure this one is bounded by
    note: str = ""


@dataclass
class Context:
    bootstrap: str
    smtp_host: str
    smtp_port: int
    scratch: Path
    figures: dict[str, Figure] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)  # raw details, written to the JSON as is

    def limit_of(self, key: str) -> float | None:
        found = self.figures.get(key)
        return found.value if found else None


Measure = Callable[[Context], Awaitable[list[Figure]]]


@dataclass(frozen=True)
class Measurement:
    name: str
    order: int
    run: Measure


REGISTRY: list[Measurement] = []


def measurement(order: int) -> Callable[[Measure], Measure]:
    """Register a measurement; lower orders run first (limits before what they bound)."""
    def register(function: Measure) -> Measure:
        REGISTRY.append(Measurement(f"{function.__module__.rsplit('.', 1)[-1]}.{function.__name__}", order, function))
        return function
    return register


def discover() -> list[Measurement]:
    for module in pkgutil.iter_modules(__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"{__name__}.{module.name}")
    return sorted(REGISTRY, key=lambda m: (m.order, m.name))
