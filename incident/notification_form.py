"""The CNIL's online notification form, as a model the authority notification renders.

The form asks more than Art. 33(3) lists: when the breach started and whether it has ended, when
it was discovered as well as when the controller became aware, its cause (internal or external,
malicious or accidental), the other Member States concerned, whether this is an initial or a
complete notification, whether and how the people were informed, and whether a complaint was
filed with the police or the incident reported to ANSSI.

Each field is what the DPO stated (``FormAnswers``, recorded by ``RecordFormAnswers``), else what
the incident shows (its signals, its assessment, its notices to the people), else ``None``: the
templates then write "not known yet" in the reader's language — a field is never left empty.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from incident.commitments import POLICY_REGIME
from incident.deadlines import in_force
from incident.errors import CommandRejected
from incident.measures import MAX_CHARS, MAX_ITEMS

if TYPE_CHECKING:
    from incident.model import Incident
    from incident.profiles import Profile

ORIGINS = ("internal", "external")
INTENTS = ("malicious", "accidental")
NOTIFICATION_TYPES = ("initial", "complete")
# EU and EEA states (ISO 3166-1 alpha-2; Greece as GR): the "other Member States concerned".
MEMBER_STATES = ("AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV",
                 "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO")


@dataclass(frozen=True, slots=True, kw_only=True)
class LocalText:
    """Free text of the form in one language: each item one line, as the DPO wrote it."""

    locale: str
    items: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class FormAnswers:
    """What the DPO states for the form; ``None``: not stated (the incident's own facts, or "not
    known yet"). ``member_states`` () means none; ``ongoing`` True means no end yet."""

    started_at: datetime | None = None
    ended_at: datetime | None = None
    ongoing: bool | None = None
    origin: str | None = None  # internal | external
    intent: str | None = None  # malicious | accidental
    member_states: tuple[str, ...] | None = None
    notification_type: str | None = None  # initial | complete
    police_complaint: bool | None = None
    anssi_report: bool | None = None
    # Art. 33(3)(b): the person the authority deals with for this notification, as the DPO states
    # it (their own name; an e-mail or telephone line of theirs); else the profile's DPO.
    contact_name: str | None = None
    contact_details: str | None = None
    # The security measures in place before the breach (the CNIL form's question), one text per
    # language the notices are read in; the notices quote the text of their own language only.
    safeguards: tuple[LocalText, ...] | None = None


CONTACT_MAX = 200  # characters of the contact's name, and of their details: one line each


def check(answers: FormAnswers, *, now: datetime) -> None:
    """Refuse answers that cannot be true or that the form does not know."""
    if answers.origin is not None and answers.origin not in ORIGINS:
        raise CommandRejected(f"origin must be one of {', '.join(ORIGINS)}")
    if answers.intent is not None and answers.intent not in INTENTS:
        raise CommandRejected(f"intent must be one of {', '.join(INTENTS)}")
    if answers.notification_type is not None and answers.notification_type not in NOTIFICATION_TYPES:
        raise CommandRejected(f"notification_type must be one of {', '.join(NOTIFICATION_TYPES)}")
    unknown = [s for s in answers.member_states or () if s not in MEMBER_STATES]
    if unknown:
        raise CommandRejected(f"not EU/EEA country codes: {', '.join(unknown)}")
    for moment in (answers.started_at, answers.ended_at):
        if moment is not None and (moment.tzinfo is None or moment > now):
            raise CommandRejected("the breach's start and end are past times with their UTC offset")
    if answers.ended_at is not None and answers.ongoing:
        raise CommandRejected("a breach that has ended is not ongoing")
    if answers.started_at and answers.ended_at and answers.ended_at < answers.started_at:
        raise CommandRejected("the breach cannot end before it started")
    for name, value in (("contact_name", answers.contact_name), ("contact_details", answers.contact_details)):
        if value is not None and (not value.strip() or len(value) > CONTACT_MAX or not value.isprintable()):
            raise CommandRejected(f"{name} is one line of at most {CONTACT_MAX} characters")
    for text in answers.safeguards or ():
        if not text.items or any(not item.strip() for item in text.items):
            raise CommandRejected("the measures in place before the breach: no empty language or line")
        if len(text.items) > MAX_ITEMS or any(len(item) > MAX_CHARS for item in text.items):
            raise CommandRejected(f"the measures in place before the breach: at most {MAX_ITEMS} lines of "
                                  f"{MAX_CHARS} characters per language")
    if answers.safeguards and len({t.locale for t in answers.safeguards}) < len(answers.safeguards):
        raise CommandRejected("the measures in place before the breach: one text per language")


def check_locales(answers: FormAnswers, locales: tuple[str, ...]) -> None:
    """Refuse free text in a language the controller's notices are not written in (``locales``)."""
    for text in answers.safeguards or ():
        if text.locale not in locales:
            raise CommandRejected(f"language {text.locale!r} is not one the notices are written in "
                                  f"({', '.join(locales)})")


def safeguards_in(answers: FormAnswers | None, locale: str) -> list[str] | None:
    """The measures in place before the breach in ``locale`` (another language's words never stand
    in): None when the DPO wrote none in it."""
    found = next((t for t in (answers.safeguards if answers else None) or () if t.locale == locale), None)
    return list(found.items) if found is not None else None


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def form_context(state: Incident, profile: Profile, locale: str | None = None) -> dict[str, Any]:
    """The form's fields for the templates, JSON values only; ``None`` where nothing is known.
    ``locale``: the notice's language, which its free-text answers are quoted in."""
    answers = state.form or FormAnswers()
    aware = state.awareness
    assert aware is not None, "a notification needs awareness"
    # Discovery: when the first signal of it reached us (a person's awareness may come first, from
    # elsewhere: then that is when it was discovered). Never later than awareness.
    discovered = min(filter(None, (state.signals.first_ingested_at, state.opened_at, aware.aware_at)))
    started, started_from = ((answers.started_at, "dpo") if answers.started_at is not None else
                             (state.first_event_at, "signals") if state.first_event_at is not None else (None, None))
    if answers.ended_at is not None:
        end: dict[str, Any] = {"status": "ended", "at": answers.ended_at.isoformat()}
    elif answers.ongoing:
        end = {"status": "ongoing", "at": None}
    else:
        end = {"status": None, "at": None}
    intent = answers.intent
    if intent is None and state.assessment is not None:
        circumstances = next((f for f in state.assessment.factors if f.name == "severity_of_consequences"), None)
        if circumstances is not None and circumstances.params.get("malicious") is True:
            intent = "malicious"  # the signals came from an attack (authentication, exfiltration, malware…)
    return {
        "notification_type": answers.notification_type or "initial",
        "started_at": _iso(started), "started_from": started_from,
        "end": end,
        "discovered_at": discovered.isoformat(),
        "aware_at": aware.aware_at.isoformat(),
        "origin": answers.origin,
        "intent": intent, "intent_from": "dpo" if answers.intent is not None else ("signals" if intent else None),
        "established_in": profile.established_in,
        "member_states": None if answers.member_states is None else [
            s for s in answers.member_states if s != profile.established_in],
        "people_informed": _people_informed(state, profile),
        "police_complaint": answers.police_complaint,
        "anssi_report": answers.anssi_report,
        "contact": {"name": answers.contact_name, "details": answers.contact_details},
        "safeguards": safeguards_in(answers, locale or profile.authority.language),
        "safeguards_by_locale": {t.locale: list(t.items) for t in answers.safeguards or ()},
    }


def _people_informed(state: Incident, profile: Profile | None = None) -> dict[str, Any]:
    """Whether and how the people were told: a notice sent to them, one owed, or none owed."""
    sent = [n for n in state.subject_notices]
    if sent:
        first = min(sent, key=lambda n: n.requested_at)
        return {"status": "informed", "how": "email", "at": first.requested_at.isoformat(),
                "count": sum(n.total for n in sent)}
    if state.level == "high":
        return {"status": "planned", "how": None, "at": None, "count": None, "because": "high_risk"}
    # Not high, yet owed all the same: the controller's own policy promised to tell them.
    promise = next((c for c in state.clocks if c.recipient == "data_subjects" and c.regime == POLICY_REGIME
                    and in_force(c, state.level)), None)
    if promise is not None:
        # How the policy says they are told ("any": it names no means, so nothing is said of it).
        channel = next((c.channel for c in (profile.commitments if profile else ()) if c.id == promise.obligation),
                       "any")
        return {"status": "planned", "how": None if channel == "any" else channel, "at": None, "count": None,
                "because": "promise", "within_hours": promise.amount if promise.timed else None}
    return {"status": "not_required", "how": None, "at": None, "count": None}
