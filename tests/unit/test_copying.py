"""evolve() is dataclasses.replace, faster: the same value for every field it may change."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime, timedelta

import pytest

from incident.copying import evolve
from incident.signals import Evidence, SecurityEvent

AT = datetime(2026, 3, 1, 9, tzinfo=UTC)


def _distinct(cls: type, base: object) -> dict[str, object]:
    """A value for every field that differs from ``base``'s, of the field's kind."""
    out: dict[str, object] = {}
    for f in fields(cls):  # type: ignore[arg-type]
        old = getattr(base, f.name)
        if isinstance(old, bool):
            out[f.name] = not old
        elif isinstance(old, datetime):
            out[f.name] = old + timedelta(minutes=7)
        elif isinstance(old, int):
            out[f.name] = old + 3
        elif isinstance(old, tuple):
            out[f.name] = (*old, f"{f.name}-x")
        else:
            out[f.name] = f"{f.name}-new"
    return out


EVENT = SecurityEvent(event_id="e-1", source_format="canonical", title="Export", occurred_at=AT, ingested_at=AT,
                      asset="crm-db", severity=3, user="alice", tags=("a",), breach_types=("confidentiality",))
EVIDENCE = Evidence.of(EVENT, "why")


@pytest.mark.parametrize("base", [EVENT, EVIDENCE], ids=["SecurityEvent", "Evidence"])
def test_each_field_changes_alone_as_replace_does(base: object) -> None:
    for name, value in _distinct(type(base), base).items():
        copy = evolve(base, **{name: value})
        assert copy == replace(base, **{name: value})  # type: ignore[type-var]
        assert type(copy) is type(base)
        assert getattr(copy, name) == value and getattr(base, name) != value


@pytest.mark.parametrize("base", [EVENT, EVIDENCE], ids=["SecurityEvent", "Evidence"])
def test_every_field_at_once_and_none(base: object) -> None:
    changes = _distinct(type(base), base)
    assert evolve(base, **changes) == replace(base, **changes)  # type: ignore[type-var]
    same = evolve(base)
    assert same == base and same is not base
    assert hash(same) == hash(base)


def test_the_copy_stays_frozen_and_the_original_untouched() -> None:
    copy = evolve(EVENT, raw_ref="security-events:0:1")
    with pytest.raises(AttributeError):
        copy.asset = "other"  # type: ignore[misc]
    assert EVENT.raw_ref is None


def test_an_unknown_field_is_refused_like_replace() -> None:
    with pytest.raises(TypeError, match="nope"):
        evolve(EVENT, nope=1)


def test_classes_whose_init_does_more_than_store_are_refused() -> None:
    @dataclass(frozen=True, slots=True)
    class Checked:
        a: int
        b: int = 0

        def __post_init__(self) -> None:
            assert self.a >= 0

    @dataclass(frozen=True)
    class NoSlots:
        a: int
        b: int = 0

    for obj in (Checked(1), NoSlots(1)):
        with pytest.raises(TypeError, match="evolve"):
            evolve(obj, a=2)


def test_one_field_classes_are_copied_too() -> None:
    @dataclass(frozen=True, slots=True)
    class One:
        a: int

    assert evolve(One(1), a=2) == One(2)
    assert evolve(One(1)) == One(1)
