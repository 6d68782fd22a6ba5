"""What people may ask of an incident: one builder per action, from a plain mapping (a JSON body or
a form) to one command, and who may ask it.

The acting user always comes from the authenticated principal, never from the request body,
so the events record who really acted. The incident agent decides; the console's role check
is the first of two (the domain refuses on its own too: a non-DPO approval, withdrawal, override,
or correction of facts that lowers the risk).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from console import refusals
from console.users import User
from incident.commands import (
    ActOnObligation,
    ClassifyIncident,
    Command,
    CorrectFacts,
    OverrideRisk,
    RecordAwareness,
    RecordFormAnswers,
    RecordMeasures,
    SendSubjectNotice,
    StartTriage,
)
from incident.measures import MeasureText
from incident.notification_form import FormAnswers, LocalText

RESPONDERS = frozenset({"responder", "dpo", "admin"})
DPO = frozenset({"dpo"})
# Obligation steps only the DPO takes: what goes out in their name.
DPO_STEPS = frozenset({"approve", "submit", "correct", "close"})  # what goes out, or ends, in the DPO's name
OBLIGATION_STEPS = ("approve", "submit", "complement", "correct", "delay_reasons", "close", "withdraw")


class ActionError(ValueError):
    """The request cannot become a command; the message says which field and why."""


Clock = Callable[[], datetime]
Builder = Callable[[Mapping[str, Any], str, User, Clock], Command]


def _instant(body: Mapping[str, Any], key: str, clock: Clock) -> datetime:
    """A time a person gives (ISO 8601 with its offset), or now; a naive time is refused."""
    raw = body.get(key)
    if not raw:
        return clock()
    if not isinstance(raw, str):
        raise ActionError(f"{key} must be an ISO 8601 string")
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise ActionError(f"{key}: {raw!r} is not an ISO 8601 time") from None
    if value.tzinfo is None:
        raise ActionError(f"{key} needs a UTC offset")
    return value


def text_field(body: Mapping[str, Any], key: str, *, required: bool = False) -> str:
    value = body.get(key, "")
    if not isinstance(value, str):
        raise ActionError(f"{key} must be a string")
    if required and not value.strip():
        raise ActionError(f"{key} is required")
    return value


def awareness(body: Mapping[str, Any], incident_id: str, user: User, clock: Clock) -> Command:
    evidence = body.get("evidence", [])
    if isinstance(evidence, str):  # a form's single text field
        evidence = [evidence] if evidence.strip() else []
    if not isinstance(evidence, list):
        raise ActionError("evidence must be a list of event ids or notes")
    return RecordAwareness(incident_id=incident_id, aware_at=_instant(body, "aware_at", clock), by=user.actor,
                           evidence=tuple(str(e) for e in evidence))


def facts(body: Mapping[str, Any], incident_id: str, user: User, clock: Clock) -> Command:
    changes = body.get("changes")
    if isinstance(changes, str):  # a form's JSON text area
        try:
            changes = json.loads(changes)
        except ValueError as exc:
            raise ActionError(f"changes: not JSON ({exc})") from None
    if not isinstance(changes, dict) or not changes:
        raise ActionError("changes must be a non-empty object of facts fields (docs/risk.md)")
    return CorrectFacts(incident_id=incident_id, changes=changes, by=user.actor, reason=text_field(body, "reason"),
                        role=user.role)


def override(body: Mapping[str, Any], incident_id: str, user: User, clock: Clock) -> Command:
    return OverrideRisk(incident_id=incident_id, level=text_field(body, "level", required=True),
                        justification=text_field(body, "justification", required=True), by=user.actor, role=user.role)


def triage(body: Mapping[str, Any], incident_id: str, user: User, clock: Clock) -> Command:
    return StartTriage(incident_id=incident_id, by=user.actor, at=clock())


def classification(body: Mapping[str, Any], incident_id: str, user: User, clock: Clock) -> Command:
    return ClassifyIncident(incident_id=incident_id, classification=text_field(body, "classification", required=True),
                            by=user.actor, at=_instant(body, "at", clock))


def obligation(body: Mapping[str, Any], incident_id: str, user: User, clock: Clock) -> Command:
    action = text_field(body, "action", required=True)
    if action not in OBLIGATION_STEPS:
        raise ActionError(f"action must be one of {', '.join(OBLIGATION_STEPS)}")
    return ActOnObligation(incident_id=incident_id, obligation=text_field(body, "obligation", required=True),
                           action=action, by=user.actor, role=user.role, at=_instant(body, "at", clock),
                           channel=text_field(body, "channel"), reference=text_field(body, "reference"),
                           text=text_field(body, "text"))


def measures(body: Mapping[str, Any], key: str) -> tuple[str, ...]:
    """A list of measures: a JSON list of strings, or a form's text area, one measure a line."""
    value = body.get(key, [])
    if isinstance(value, str):
        value = value.splitlines()
    if not isinstance(value, list) or not all(isinstance(m, str) for m in value):
        raise ActionError(f"{key} must be a list of texts")
    return tuple(m.strip() for m in value if m.strip())


def subject_notice(body: Mapping[str, Any], incident_id: str, user: User, clock: Clock) -> Command:
    return SendSubjectNotice(incident_id=incident_id, list_id=text_field(body, "list_id", required=True), by=user.actor,
                             role=user.role, measures_taken=measures(body, "measures_taken"),
                             measures_proposed=measures(body, "measures_proposed"))


def _measure_texts(body: Mapping[str, Any]) -> tuple[MeasureText, ...]:
    """``texts``: a JSON list of {locale, taken, proposed}; or a form's text areas ``taken_<locale>``
    and ``proposed_<locale>``, one measure a line."""
    if "texts" in body:
        texts = body["texts"]
        if not isinstance(texts, list) or not all(isinstance(t, dict) for t in texts):
            raise ActionError("texts must be a list of objects {locale, taken, proposed}")
        return tuple(MeasureText(locale=text_field(t, "locale", required=True), taken=measures(t, "taken"),
                                 proposed=measures(t, "proposed")) for t in texts)
    locales = dict.fromkeys(k.split("_", 1)[1] for k in body if k.startswith(("taken_", "proposed_")))
    return tuple(MeasureText(locale=locale, taken=measures(body, f"taken_{locale}"),
                             proposed=measures(body, f"proposed_{locale}")) for locale in locales)


def measures_written(body: Mapping[str, Any], incident_id: str, user: User, clock: Clock) -> Command:
    return RecordMeasures(incident_id=incident_id, audience=text_field(body, "audience", required=True),
                          texts=_measure_texts(body), by=user.actor, role=user.role)


def _stated_time(body: Mapping[str, Any], key: str) -> datetime | None:
    """A time the DPO states, or None (not stated): absent, null or an empty form field."""
    return None if body.get(key) in (None, "") else _instant(body, key, lambda: datetime.min.replace(tzinfo=UTC))


def _stated_text(body: Mapping[str, Any], key: str) -> str | None:
    value = text_field(body, key) if body.get(key) is not None else ""
    return value.strip() or None


def _stated_flag(body: Mapping[str, Any], key: str) -> bool | None:
    """true/false (JSON) or yes/no (a form's select); absent, null or empty: not stated."""
    value = body.get(key)
    if value is None or value == "" or isinstance(value, bool):
        return value if isinstance(value, bool) else None
    if isinstance(value, str) and value.lower() in ("yes", "no", "true", "false"):
        return value.lower() in ("yes", "true")
    raise ActionError(f"{key} must be true, false or empty")


def _member_states(body: Mapping[str, Any]) -> tuple[str, ...] | None:
    """A list of country codes (or a form's "DE, BE"); [] or "none": none; absent or empty: not stated."""
    value = body.get("member_states")
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = [] if value.strip().lower() == "none" else [v for v in value.replace(";", ",").split(",") if v.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ActionError("member_states must be a list of country codes")
    return tuple(v.strip().upper() for v in value)


def _safeguards(body: Mapping[str, Any]) -> tuple[LocalText, ...] | None:
    """The measures in place before the breach, per language: ``safeguards`` as {locale: [lines]}
    (or a text, one line each), or as the API shows them back ([{locale, items}]); else a form's
    text areas ``safeguards_<locale>``. Blank lines dropped; none at all: not stated."""
    value = body.get("safeguards")
    if isinstance(value, list):
        if not all(isinstance(t, dict) for t in value):
            raise ActionError("safeguards must be an object {locale: [lines]} or a list of {locale, items}")
        value = {text_field(t, "locale", required=True): t.get("items", []) for t in value}
    if value is None or value == "":
        value = {k.removeprefix("safeguards_"): v for k, v in body.items() if k.startswith("safeguards_")}
    if not isinstance(value, dict):
        raise ActionError("safeguards must be an object {locale: [lines]} or a list of {locale, items}")
    texts = tuple(LocalText(locale=str(locale).strip(), items=items) for locale, lines in value.items()
                  if (items := measures({f"safeguards ({locale})": lines or []}, f"safeguards ({locale})")))
    return texts or None


def form_answers(body: Mapping[str, Any], incident_id: str, user: User, clock: Clock) -> Command:
    answers = FormAnswers(started_at=_stated_time(body, "started_at"), ended_at=_stated_time(body, "ended_at"),
                          ongoing=_stated_flag(body, "ongoing"), origin=_stated_text(body, "origin"),
                          intent=_stated_text(body, "intent"), member_states=_member_states(body),
                          notification_type=_stated_text(body, "notification_type"),
                          police_complaint=_stated_flag(body, "police_complaint"),
                          anssi_report=_stated_flag(body, "anssi_report"),
                          contact_name=_stated_text(body, "contact_name"),
                          contact_details=_stated_text(body, "contact_details"),
                          safeguards=_safeguards(body))
    return RecordFormAnswers(incident_id=incident_id, answers=answers, by=user.actor, role=user.role)


BUILDERS: dict[str, Builder] = {
    "triage": triage, "classification": classification, "awareness": awareness, "facts": facts,
    "override": override, "obligations": obligation, "subject_notice": subject_notice,
    "measures": measures_written, "form": form_answers,
}


def allowed(action: str, body: Mapping[str, Any], user: User) -> str | None:
    """None if ``user`` may ask this, else why not (shown to them)."""
    if action == "override" and user.role not in DPO:
        return refusals.OVERRIDE
    if action == "obligations" and body.get("action") == "withdraw" and user.role not in DPO:
        return refusals.WITHDRAW
    if action == "obligations" and body.get("action") in DPO_STEPS and user.role not in DPO:
        return refusals.APPROVE_OR_SUBMIT
    if action == "form" and user.role not in DPO:
        return refusals.FORM
    if action == "measures" and user.role not in DPO:
        return refusals.MEASURES
    if action == "subject_notice" and user.role not in DPO:
        return refusals.SUBJECT_NOTICE
    if user.role not in RESPONDERS:
        return refusals.read_only_role(user.role)
    return None
