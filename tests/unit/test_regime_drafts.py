"""Drafts of the notices of regimes other than the GDPR (issue 16): one per obligation, when its
clock runs and the level in force calls for it, from its regime's own template, for the DPO."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from incident.commands import ClassifyIncident
from incident.correlation import correlate
from incident.decide import Rules, decide
from incident.events import ClockStarted, NoticeRequested
from incident.model import Incident, fold
from incident.profiles import Directory, parse_profile
from tests.unit.builders import PROFILE, T0, FakeCalendar, event

NOW = T0 + timedelta(minutes=5)
CSIRT = {"id": "anssi", "name": "ANSSI (CERT-FR)", "address": "51 boulevard de La Tour-Maubourg, 75700 Paris",
         "language": "fr", "portal": "https://cyber.gouv.fr"}


def rules_for(**changes: Any) -> Rules:
    return Rules(Directory.of([parse_profile({**PROFILE, **changes}, source="acme.toml")]), FakeCalendar())


def aware(rules: Rules, asset: str = "acme-crm-db") -> tuple[Incident, list[Any]]:
    _, (command,) = correlate(None, event("a", asset=asset, confirms=True))
    events = decide(command, None, now=NOW, rules=rules)
    state = fold(None, events)
    assert state is not None
    return state, events


def drafts(events: list[Any]) -> list[tuple[str, str]]:
    return [(e.draft.regime, e.draft.kind) for e in events if isinstance(e, NoticeRequested)]


def test_a_significant_incident_drafts_the_csirts_early_warning_and_notification() -> None:
    rules = rules_for(entity_type="nis2-important", csirt=CSIRT)
    state, events = aware(rules)
    assert ("nis2", "early_warning") not in drafts(events)  # not significant yet: no NIS2 obligation
    later = NOW + timedelta(hours=1)
    classify = ClassifyIncident(incident_id=state.id, classification="significant", by="ciso", at=later)
    events = decide(classify, state, now=later, rules=rules)
    assert drafts(events) == [("nis2", "early_warning"), ("nis2", "incident_notification")]
    clocks = {e.clock.obligation: e.clock for e in events if isinstance(e, ClockStarted)}
    for e in (e for e in events if isinstance(e, NoticeRequested)):
        draft = e.draft
        assert draft.audience == "dpo-review" and draft.recipients == ("dpo@acme.example",)
        assert draft.locale == "fr"  # the authority's language; the templates exist in it
        clock = clocks[draft.kind]
        assert draft.context["clock"]["legal_ref"] == clock.legal_ref
        assert draft.context["clock"]["deadline"] == clock.deadline.isoformat()
        assert draft.context["regime"] == {"key": f"nis2:{draft.kind}", "template": "nis2", "audience": "authority"}
    state = fold(state, events)
    assert state is not None
    # the same classification again, or a later reassessment: no second draft of either
    assert decide(classify, state, now=later, rules=rules) == []
    assert len({n.notice_id for n in state.notices}) == len(state.notices)


def test_a_uk_controller_gets_the_uk_gdprs_notices_never_the_gdprs() -> None:
    rules = rules_for(established_in="GB", regimes=["uk-gdpr"])
    _, events = aware(rules, asset="acme-auth")  # credentials: high risk
    assert drafts(events) == [("uk-gdpr", "art33_ico"), ("uk-gdpr", "art34_individuals")]


def test_the_peoples_notice_is_in_their_language_and_tells_their_measures() -> None:
    rules = rules_for(established_in="BR", regimes=["lgpd"], languages=["en", "fr"])
    _, events = aware(rules)
    requested = {e.draft.kind: e.draft for e in events if isinstance(e, NoticeRequested)}
    assert set(requested) == {"art6_anpd", "art9_data_subjects"}
    assert requested["art6_anpd"].locale == "fr"  # the authority's language (the profile's CNIL, here)
    assert requested["art9_data_subjects"].locale == "en"  # the people's first language
    assert requested["art9_data_subjects"].context["regime"]["audience"] == "data_subjects"


def test_an_obligation_the_level_does_not_call_for_gets_no_draft() -> None:
    # revFADP Art. 24: only a high risk is reported to the FDPIC.
    rules = rules_for(established_in="CH", regimes=["ch-fadp"])
    _, events = aware(rules)  # contact and identity data, known: not high
    assert drafts(events) == []
    _, events = aware(rules, asset="acme-auth")
    assert ("ch-fadp", "art24_fdpic") in drafts(events)


def test_a_notice_is_drafted_in_the_readers_language_where_its_templates_speak_it() -> None:
    from incident.regime_notices import REGIME_NOTICES, locale_for

    anpd = REGIME_NOTICES["lgpd:art6_anpd"]
    assert [locale_for(anpd, wanted) for wanted in ("pt-BR", "pt", "fr", "de")] == ["pt-BR", "pt-BR", "fr", "en"]
    assert locale_for(REGIME_NOTICES["nis2:early_warning"], "pt") == "en"


def test_a_major_incident_gets_one_initial_notification_draft() -> None:
    rules = rules_for(regimes=["gdpr", "dora"])
    state, _ = aware(rules)
    later = NOW + timedelta(hours=1)
    events = decide(ClassifyIncident(incident_id=state.id, classification="major", by="ciso", at=later), state,
                    now=later, rules=rules)
    assert [c for c in drafts(events) if c[0] == "dora"] == [("dora", "initial_notification")]
