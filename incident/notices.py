"""Notice drafts: which template, which language, to whom, with what facts — plain data.

The shell renders a draft with Jinja; nothing here knows about templates beyond their key.
Drafts go to the controller's DPO for review. Only a submission the DPO approved and a person
asked for (ActOnObligation "submit" by "email") goes to the authority's submission address:
this service never writes to an authority or to the people affected on its own authority.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from incident.measures import Measures
from incident.notification_form import form_context
from incident.profiles import LANGUAGES, Profile
from incident.regime_notices import PEOPLE, RegimeNotice, locale_for
from incident.register_words import SUBJECT_KINDS_FR

if TYPE_CHECKING:
    from incident.deadlines import Clock
    from incident.model import Incident

AUTHORITY_NOTIFICATION = "authority_notification"
DATA_SUBJECT_NOTICE = "data_subject_notice"
PUBLIC_COMMUNICATION = "public_communication"
AUTHORITY_COMPLEMENT = "authority_complement"
DPO_REVIEW = "dpo-review"  # the audience of a draft: the DPO, before any approval


@dataclass(frozen=True, slots=True, kw_only=True)
class NoticeDraft:
    notice_id: str
    kind: str
    regime: str
    locale: str
    audience: str  # "dpo-review" until approval exists
    recipients: tuple[str, ...]
    context: dict[str, Any]  # JSON values only: it travels in the NoticeRequested event


def notice_id(incident_id: str, regime: str, kind: str, seq: int = 1) -> str:
    return str(uuid.uuid5(uuid.UUID(incident_id), f"{regime}:{kind}:{seq}"))


def reference(incident_id: str) -> str:
    """A short reference a person can read out on the phone."""
    return "BR-" + incident_id.replace("-", "")[:8].upper()


# Regimes whose authority notification we have templates for (templates/notices/<key>/).
SUBMISSION_TEMPLATES = {"GDPR": "gdpr"}


def submission(state: Incident, profile: Profile, clock: Clock, delay_reasons: str, now: datetime,
               ) -> NoticeDraft:
    """The notification itself, for the authority's submission address: the approved content, no
    draft banner, with the reasons for any delay. Its id is fixed per obligation, so a replayed
    command never sends a second notification."""
    if clock.recipient != "authority" or clock.regime not in SUBMISSION_TEMPLATES:
        raise ValueError(f"we send only GDPR authority notifications by e-mail, not {clock.rule_ref}")
    if not profile.authority.email:
        raise ValueError(f"{profile.authority.name} has no submission address in the profile")
    template = SUBMISSION_TEMPLATES[clock.regime]
    nid = notice_id(state.id, template, f"{AUTHORITY_NOTIFICATION}:submission:{clock.rule_ref}")
    context = _context(nid, AUTHORITY_NOTIFICATION, state, profile, now, profile.authority.language, clock=clock)
    context["notice"]["draft"] = False
    context["clock"]["delay_reasons"] = delay_reasons
    return NoticeDraft(notice_id=nid, kind=AUTHORITY_NOTIFICATION, regime=template, locale=profile.authority.language,
                       audience="authority", recipients=(profile.authority.email,), context=context)


def draft(kind: str, state: Incident, profile: Profile, now: datetime, *, seq: int = 1,
          correction: dict[str, Any] | None = None) -> NoticeDraft:
    """A draft for the DPO. ``seq`` > 1 is a later version of the same draft (its own id, so the
    delivery ledger sends it); ``correction`` says what changed since the last one and why (the
    templates show it as a banner), JSON values only."""
    locale = profile.authority.language if kind == AUTHORITY_NOTIFICATION else profile.languages[0]
    nid = notice_id(state.id, "gdpr", kind, seq)
    context = _context(nid, kind, state, profile, now, locale)
    if correction is not None:
        context["notice"]["correction"] = correction
    return NoticeDraft(notice_id=nid, kind=kind, regime="gdpr", locale=locale, audience=DPO_REVIEW,
                       recipients=(profile.dpo.email,), context=context)


def draft_regime_notice(notice: RegimeNotice, state: Incident, profile: Profile, clock: Clock, now: datetime,
                        *, seq: int = 1) -> NoticeDraft:
    """The draft of a non-GDPR obligation's own notice (``notice``: incident/regime_notices.py's
    drafted_for(clock)), for the DPO, in the authority's or the people's language. One per
    obligation: its id is fixed by the template it is drafted from; ``seq`` > 1 is a later
    version of it (the DPO's answers changed before it was sent)."""
    wanted = profile.languages[0] if notice.audience == PEOPLE else profile.authority.language
    locale = locale_for(notice, wanted)
    nid = notice_id(state.id, notice.template, notice.kind, seq)
    context = _context(nid, notice.kind, state, profile, now, locale, clock=clock)
    if notice.audience == PEOPLE:  # the people's measures, not the authority's
        context["measures"], context["measures_by_locale"] = _measures(state.measures_for(PEOPLE), locale)
    context["regime"] = {"key": f"{notice.template}:{clock.obligation}", "template": notice.template,
                         "audience": notice.audience}
    return NoticeDraft(notice_id=nid, kind=notice.kind, regime=notice.template, locale=locale, audience=DPO_REVIEW,
                       recipients=(profile.dpo.email,), context=context)


def complement(state: Incident, profile: Profile, clock: Clock, text: str, now: datetime) -> NoticeDraft:
    """Art. 33(4): what the DPO adds to a submitted notification, drafted for their review as the
    numbered complementary notification to send the authority; ``state`` has the complement
    recorded (its number is the count so far). Its lines are the DPO's own words."""
    obligation = state.obligation(clock.rule_ref)
    assert obligation is not None and obligation.submitted_at is not None, "a complement follows a submission"
    sequence = max(obligation.complements, 1)
    nid = notice_id(state.id, "gdpr", AUTHORITY_COMPLEMENT, sequence)
    locale = profile.authority.language
    context = _context(nid, AUTHORITY_COMPLEMENT, state, profile, now, locale, clock=clock)
    context["complement"] = {"sequence": sequence, "initial_submitted_at": obligation.submitted_at.isoformat(),
                             "initial_reference": obligation.reference or None,
                             "new_information": [line.strip() for line in text.splitlines() if line.strip()]}
    context["delay_reasons"] = obligation.delay_reasons or None
    return NoticeDraft(notice_id=nid, kind=AUTHORITY_COMPLEMENT, regime="gdpr", locale=locale, audience=DPO_REVIEW,
                       recipients=(profile.dpo.email,), context=context)


def draft_clock(state: Incident) -> Clock:
    """The clock a draft speaks of (its deadline): the first owed to an authority."""
    return next((c for c in state.clocks if c.recipient == "authority"), state.clocks[0])


def subject_notice_id(incident_id: str, list_id: str) -> str:
    return str(uuid.uuid5(uuid.UUID(incident_id), f"gdpr:{DATA_SUBJECT_NOTICE}:list:{list_id}"))


def subject_notice_context(state: Incident, profile: Profile, now: datetime, *, list_id: str,
                           measures_taken: tuple[str, ...], measures_proposed: tuple[str, ...]) -> dict[str, Any]:
    """The context of the approved data-subject notice: final (no draft banner), with the
    measures the DPO wrote: those given with the approval, in the notice's default language,
    over those recorded for the people affected (RecordMeasures), which give the other languages
    (each recipient reads the notice in theirs). The same function serves the preview, so the
    preview is the notice."""
    nid = subject_notice_id(state.id, list_id)
    default = profile.languages[0]
    context = _context(nid, DATA_SUBJECT_NOTICE, state, profile, now, default)
    context["notice"]["draft"] = False
    if measures_taken or measures_proposed:
        given = {"taken": list(measures_taken), "proposed": list(measures_proposed)}
        context["measures"] = given
        context["measures_by_locale"][default] = given
    return context


def read_in(context: dict[str, Any], locale: str) -> dict[str, Any]:
    """A draft's context for a reader of another language (the console's preview): the measures
    the DPO wrote in that language, none when none were (another language's words never stand
    in), and so the measures in place before the breach; everything else is codes and quoted
    text, which the templates write in any language."""
    read = {**context, "measures": context.get("measures_by_locale", {}).get(locale, {"taken": [], "proposed": []})}
    form = context.get("form")
    if isinstance(form, dict) and "safeguards_by_locale" in form:  # a draft recorded before it: as it was
        read["form"] = {**form, "safeguards": form["safeguards_by_locale"].get(locale)}
    return read


def profile_words(state: Incident, profile: Profile, locales: Iterable[str]) -> dict[str, dict[str, list[str]]]:
    """The incident's systems and kinds of people as the profile names them, for each reader's
    language: theirs where the profile gives it, else the profile's own, else as given (issue 16)."""
    own = profile.languages[0]
    systems = [s for s in profile.systems if s.id in state.systems]
    return {lang: {"systems": [s.name_in(lang, own) for s in systems],
                   "subject_kinds": list(dict.fromkeys(k for s in systems
                                                       for k in s.subjects_in(lang, own, SUBJECT_KINDS_FR)))}
            for lang in dict.fromkeys(locales)}


def in_language(context: Mapping[str, Any], locale: str) -> dict[str, Any]:
    """A notice's context for a reader of ``locale``: the profile's names in their language when
    the draft holds them (drafts recorded before it hold one language: they stay as they were).
    Every render goes through it, so a notice read in several languages quotes each one's."""
    incident, data, controller = context.get("incident"), context.get("data"), context.get("controller")
    out = dict(context)
    if isinstance(controller, Mapping):
        out["controller"] = controller = dict(controller)
        for key in ("name", "address"):
            if locale in (controller.get(f"{key}_by_locale") or {}):
                controller[key] = controller[f"{key}_by_locale"][locale]
        dpo = controller.get("dpo")
        if isinstance(dpo, Mapping) and locale in (dpo.get("name_by_locale") or {}):
            controller["dpo"] = {**dpo, "name": dpo["name_by_locale"][locale]}
    if isinstance(incident, Mapping) and locale in (incident.get("systems_by_locale") or {}):
        out["incident"] = {**incident, "systems": incident["systems_by_locale"][locale]}
    if isinstance(data, Mapping) and locale in (data.get("subject_kinds_by_locale") or {}):
        out["data"] = {**data, "subject_kinds": data["subject_kinds_by_locale"][locale]}
    return out


def audience_of(kind: str) -> str:
    """Whose measures a notice of this kind tells (incident/measures.py)."""
    return "data_subjects" if kind in (DATA_SUBJECT_NOTICE, PUBLIC_COMMUNICATION) else "authority"


def _measures(recorded: Measures | None, locale: str) -> tuple[dict[str, list[str]], dict[str, dict[str, list[str]]]]:
    """The measures in the notice's language (none when the DPO wrote none in it: another
    language's words never stand in), and every language's, for notices read in several."""
    by_locale = {t.locale: {"taken": list(t.taken), "proposed": list(t.proposed)}
                 for t in (recorded.texts if recorded else ())}
    return by_locale.get(locale, {"taken": [], "proposed": []}), by_locale


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _context(nid: str, kind: str, state: Incident, profile: Profile, now: datetime, locale: str, *,
             clock: Clock | None = None) -> dict[str, Any]:
    assessment, awareness = state.assessment, state.awareness
    assert assessment is not None and awareness is not None, "a notice needs awareness and an assessment"
    clock = clock or draft_clock(state)
    obligation = state.obligation(clock.rule_ref)
    words = profile_words(state, profile, (locale, *LANGUAGES))
    measures, measures_by_locale = _measures(state.measures_for(audience_of(kind)), locale)
    return {
        "notice": {"id": nid, "kind": kind, "draft": True, "generated_at": now.isoformat(),
                   "reader_tz": profile.timezone},
        "controller": {"id": profile.id, "name": profile.name_in(locale), "address": profile.address_in(locale),
                       "name_by_locale": {lang: profile.name_in(lang) for lang in words},
                       "address_by_locale": {lang: profile.address_in(lang) for lang in words},
                       "dpo": {"name": profile.dpo.name_in(locale, profile.languages[0]),
                               "name_by_locale": {lang: profile.dpo.name_in(lang, profile.languages[0])
                                                  for lang in words},
                               "email": profile.dpo.email, "postal": profile.dpo.postal,
                               "phone": profile.dpo.phone, "is_dpo": profile.dpo.is_dpo}},
        "authority": {"name": profile.authority.name, "address": profile.authority.address},
        "incident": {
            "id": state.id, "reference": reference(state.id), "opened_at": state.opened_at.isoformat(),
            "first_event_at": _iso(state.first_event_at), "last_event_at": _iso(state.last_event_at),
            "awareness_at": awareness.aware_at.isoformat(), "awareness_by": awareness.by,
            "assets": list(state.assets), "systems": words[locale]["systems"],
            # The profile's names in each language, for a reader of another one (in_language).
            "systems_by_locale": {lang: w["systems"] for lang, w in words.items()},
            "signal_count": state.signal_count,
            "breach_types": list(assessment.breach_types),
            "summary": list(state.signals.titles),
            # The titles above are the detection tools' own, in their language: a notice in
            # another language describes the signals from these codes instead (issue 16).
            "signal_categories": list(state.signals.categories),
        },
        "data": {"categories": list(assessment.data_categories), "subjects_estimate": assessment.subjects_estimate,
                 "records_estimate": state.records_estimate,
                 "subject_kinds": words[locale]["subject_kinds"],
                 "subject_kinds_by_locale": {lang: w["subject_kinds"] for lang, w in words.items()}},
        "risk": {"level": state.level, "method": assessment.method_version,
                 "factors": [{"name": f.name, "value": f.value, "reason": f.reason, "params": f.params}
                             for f in assessment.factors],
                 "consequences": list(assessment.consequences)},
        "clock": {"regime": clock.regime, "obligation": clock.obligation, "legal_ref": clock.legal_ref,
                  "rule_ref": clock.rule_ref, "deadline": clock.deadline.isoformat(),
                  "late": clock.timed and now > clock.deadline, "timed": clock.timed,
                  "delay_reasons": obligation.delay_reasons if obligation else ""},
        "form": form_context(state, profile, locale),
        "measures": measures,
        "measures_by_locale": measures_by_locale,
        "advice": list(assessment.advice),
    }
