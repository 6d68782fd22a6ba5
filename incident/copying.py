"""``evolve``: ``dataclasses.replace`` for the frozen slots dataclasses on the per-event path.

``replace`` walks the class's field objects and calls the generated ``__init__`` (one
``object.__setattr__`` per field of a frozen class): ~11 µs for a 50-field SecurityEvent,
paid once or twice per signal. ``evolve`` copies the slots through their descriptors instead
(~4 µs). It is exact only where ``__init__`` merely stores its arguments, so a class with a
``__post_init__``, an ``init=False`` field or no slots is refused when first used, and a
name that is no field raises ``TypeError`` as ``replace`` does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from operator import attrgetter
from types import MemberDescriptorType
from typing import Any, TypeVar

T = TypeVar("T")

# Per class: a getter of all the fields' values at once, and each field's slot setter, in order.
Plan = tuple[Callable[[Any], tuple[Any, ...]], dict[str, Callable[[Any, Any], None]]]
_PLANS: dict[type, Plan] = {}


def evolve(obj: T, /, **changes: Any) -> T:
    """A copy of ``obj`` with ``changes``: what ``dataclasses.replace(obj, **changes)`` returns."""
    cls = type(obj)
    values_of, setters = _PLANS.get(cls) or _plan(cls)
    out = object.__new__(cls)
    for setter, value in zip(setters.values(), values_of(obj), strict=True):
        setter(out, value)
    for name, value in changes.items():
        change = setters.get(name)
        if change is None:
            raise TypeError(f"{cls.__name__}.__init__() got an unexpected keyword argument {name!r}")
        change(out, value)
    return out


def _plan(cls: type) -> Plan:
    if not dataclasses.is_dataclass(cls) or "__slots__" not in cls.__dict__ or hasattr(cls, "__post_init__"):
        raise TypeError(f"evolve() takes slots dataclasses without __post_init__, not {cls.__name__}")
    fields = dataclasses.fields(cls)
    slots = {f.name: getattr(cls, f.name, None) for f in fields}
    if any(not f.init for f in fields):
        raise TypeError(f"evolve() takes dataclasses whose every field is an __init__ argument, not {cls.__name__}")
    # A slot's member descriptor sets the value without the frozen class's __setattr__ guard,
    # which is what the generated __init__ bypasses too (object.__setattr__).
    setters: dict[str, Callable[[Any, Any], None]] = {}
    for name, slot in slots.items():
        if not isinstance(slot, MemberDescriptorType):
            raise TypeError(f"evolve() takes dataclasses whose fields are all slots, not {cls.__name__}")
        setters[name] = slot.__set__
    names = tuple(slots)
    getter = attrgetter(*names)
    plan: Plan = (getter if len(names) > 1 else lambda o: (getter(o),), setters)
    _PLANS[cls] = plan
    return plan
