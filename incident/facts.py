"""Breach facts: what a risk assessment reads (documented field by field in docs/risk.md).

``parse_facts(mapping)`` validates a decoded JSON object (from `breach assess FILE`, or a
responder's correction) and raises :class:`FactsError` naming the field. Every field but
``breach_types`` is optional: a missing fact is ``None``, and the assessment then says which
conservative reading it applied, instead of guessing quietly.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from incident.errors import BreachError
from incident.profiles import DATA_CATEGORIES
from incident.signals import BREACH_TYPES

EASE_OF_IDENTIFICATION = {"negligible": 0.25, "limited": 0.5, "significant": 0.75, "maximum": 1.0}
EXFILTRATION = ("none", "suspected", "confirmed")
RECIPIENTS = ("none", "trusted_known", "known", "unknown", "public")
MITIGATIONS = ("data_recovered_and_deleted", "credentials_reset", "accounts_locked", "key_rotated",
               "recipient_confirmed_deletion", "device_wiped_remotely", "backup_restored")


class FactsError(BreachError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


@dataclass(frozen=True, slots=True, kw_only=True)
class Facts:
    breach_types: tuple[str, ...]
    controller: str | None = None
    data_categories: tuple[str, ...] = ()
    subjects_count: int | None = None
    vulnerable_subjects: tuple[str, ...] | None = None  # () = none; ("yes",) when only a bool was given
    ease_of_identification: str | None = None
    encrypted: bool | None = None
    key_compromised: bool | None = None
    backup_available: bool | None = None
    unavailability_hours: float | None = None
    permanent_loss: bool = False  # `unavailability_hours: null` says the loss is permanent
    exfiltration: str | None = None
    recipients: str | None = None
    malicious: bool | None = None
    mitigations: tuple[str, ...] = ()
    subjects_contactable: bool | None = None
    publicly_available: bool | None = None  # the data was public before the breach (ENISA: lowers DPC)
    unmapped_assets: tuple[str, ...] = ()
    # The tables, buckets and repositories its signals read or exported (derived from the signals,
    # never a facts file's): what the notification names as the data concerned, and how the
    # profile's systems holding them came to be involved.
    data_stores: tuple[str, ...] = ()

    def corrected(self, changes: Mapping[str, Any]) -> Facts:
        """These facts with a responder's corrections applied (validated like a facts file)."""
        merged = {**to_mapping(self), **changes}
        return replace(parse_facts(merged), unmapped_assets=self.unmapped_assets, data_stores=self.data_stores)


def to_mapping(facts: Facts) -> dict[str, Any]:
    """The facts as the JSON a facts file would hold (round-trips through parse_facts)."""
    out: dict[str, Any] = {}
    for f in fields(facts):
        value = getattr(facts, f.name)
        if f.name in ("permanent_loss", "unmapped_assets", "data_stores") or value is None or value == ():
            continue
        out[f.name] = list(value) if isinstance(value, tuple) else value
    vulnerable = facts.vulnerable_subjects
    if vulnerable is not None:  # a bare true/false was given as () or ("yes",)
        out["vulnerable_subjects"] = bool(vulnerable) if vulnerable in ((), ("yes",)) else list(vulnerable)
    if facts.permanent_loss:
        out["unavailability_hours"] = None
    return out


def _codes(data: Mapping[str, Any], name: str, allowed: tuple[str, ...], *, required: bool = False) -> tuple[str, ...]:
    value = data.get(name)
    if value is None:
        if required:
            raise FactsError(name, "is required")
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise FactsError(name, "must be a list of strings")
    for index, item in enumerate(value):
        if item not in allowed:
            raise FactsError(f"{name}[{index}]", f"{item!r} is not one of {', '.join(allowed)}")
    if required and not value:
        raise FactsError(name, "must name at least one of " + ", ".join(allowed))
    return tuple(dict.fromkeys(value))


def _flag(data: Mapping[str, Any], name: str) -> bool | None:
    value = data.get(name)
    if value is not None and not isinstance(value, bool):
        raise FactsError(name, "must be true or false")
    return value


def _choice(data: Mapping[str, Any], name: str, allowed: tuple[str, ...]) -> str | None:
    value = data.get(name)
    if value is not None and value not in allowed:
        raise FactsError(name, f"{value!r} is not one of {', '.join(allowed)}")
    return value


def parse_facts(data: Mapping[str, Any]) -> Facts:
    known = {f.name for f in fields(Facts)} - {"permanent_loss", "unmapped_assets", "data_stores"}
    for name in data:
        if name not in known:
            raise FactsError(name, f"unknown field (known: {', '.join(sorted(known))})")
    count = data.get("subjects_count")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 0):
        raise FactsError("subjects_count", "must be a non-negative integer")
    vulnerable = data.get("vulnerable_subjects")
    if isinstance(vulnerable, bool):
        vulnerable_codes: tuple[str, ...] | None = ("yes",) if vulnerable else ()
    elif isinstance(vulnerable, list) and all(isinstance(v, str) and v for v in vulnerable):
        vulnerable_codes = tuple(vulnerable)
    elif vulnerable is None:
        vulnerable_codes = None
    else:
        raise FactsError("vulnerable_subjects", "must be true, false or a list of groups (e.g. [\"children\"])")
    hours = data.get("unavailability_hours")
    if hours is not None and (isinstance(hours, bool) or not isinstance(hours, int | float) or hours < 0
                              or not math.isfinite(hours)):
        raise FactsError("unavailability_hours", "must be a non-negative number, or null for a permanent loss")
    controller = data.get("controller")
    if controller is not None and not isinstance(controller, str):
        raise FactsError("controller", "must be a profile id")
    return Facts(
        controller=controller,
        breach_types=_codes(data, "breach_types", BREACH_TYPES, required=True),
        data_categories=_codes(data, "data_categories", DATA_CATEGORIES),
        subjects_count=count,
        vulnerable_subjects=vulnerable_codes,
        ease_of_identification=_choice(data, "ease_of_identification", tuple(EASE_OF_IDENTIFICATION)),
        encrypted=_flag(data, "encrypted"),
        key_compromised=_flag(data, "key_compromised"),
        backup_available=_flag(data, "backup_available"),
        unavailability_hours=float(hours) if hours is not None else None,
        permanent_loss="unavailability_hours" in data and hours is None,
        exfiltration=_choice(data, "exfiltration", EXFILTRATION),
        recipients=_choice(data, "recipients", RECIPIENTS),
        malicious=_flag(data, "malicious"),
        mitigations=_codes(data, "mitigations", MITIGATIONS),
        subjects_contactable=_flag(data, "subjects_contactable"),
        publicly_available=_flag(data, "publicly_available"),
    )
