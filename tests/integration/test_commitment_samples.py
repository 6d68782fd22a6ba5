"""The shipped profiles' own promises on the shipped samples (tests/sample_incidents.py: the samples
through the real domain, profiles and rule pack): Atometrics' 72 h e-mail to every person from the
leak's discovery, the Publisher's "as soon as possible"; and what the authority notification says
of them when the risk is not high (the law then asks nothing of the people, the promise does)."""

from __future__ import annotations

import pathlib
from dataclasses import replace
from datetime import timedelta

import pytest

from incident.commands import Tick
from incident.decide import Rules, decide
from incident.events import ReminderDue
from incident.model import Override
from incident.notices import AUTHORITY_NOTIFICATION, DATA_SUBJECT_NOTICE, draft
from streams.calendars import HolidaysCalendar
from streams.mail.render import NoticeRenderer
from tests.sample_incidents import SampleIncident, directory, sample_incidents

ROOT = pathlib.Path(__file__).resolve().parents[2]
SAMPLES = {s.profile.id: s for s in sample_incidents()}
ATOMETRICS = "Policy:email-subjects-72h@1"


def test_the_atometrics_sample_owes_every_person_an_email_72_hours_from_discovery() -> None:
    sample = SAMPLES["atometrics"]
    state = sample.state
    assert state.awareness is not None
    clock = next(c for c in state.clocks if c.rule_ref == ATOMETRICS)
    assert (clock.recipient, clock.anchor, clock.unit) == ("data_subjects", "discovery", "hours")
    assert (clock.anchor_at, clock.deadline) == (state.awareness.aware_at,
                                                 state.awareness.aware_at + timedelta(hours=72))
    # Its legal reference is the policy's own words (seeds/004_3b7b47bedc2c1f56.txt, "Procédures mises
    # en oeuvre en cas de fuite de données").
    assert clock.legal_ref == ("Politique de Confidentialité (2019-11-21): \u201cNous envoyons un email, dans les "
                               "72h suivant la constatation, à la personne concernée pour l\u2019informer de la "
                               "fuite\u201d")
    assert [step for step, _ in clock.reminder_times()] == ["T-48h", "T-24h", "T-6h", "T-1h", "overdue"]
    assert state.obligation(ATOMETRICS) is not None and DATA_SUBJECT_NOTICE in [n.kind for n in state.notices]

    rules = Rules(directory(), HolidaysCalendar())
    at = clock.deadline - timedelta(hours=6)
    events = decide(Tick(incident_id=state.id, at=at), state, now=at, rules=rules)
    assert (ATOMETRICS, "T-6h") in [(e.rule_ref, e.step) for e in events if isinstance(e, ReminderDue)]


def test_the_publisher_sample_owes_its_users_notice_as_soon_as_possible() -> None:
    state = SAMPLES["publisher-2018"].state
    assert state.awareness is not None
    promised = {c.rule_ref: c for c in state.clocks if c.regime == "Policy"}
    assert set(promised) == {"Policy:notify-users-asap@1", "Policy:inform-users-of-causes@1"}
    assert all(c.unit == "asap" and c.anchor_at == state.awareness.aware_at for c in promised.values())


@pytest.mark.parametrize(("controller", "locale", "words", "not_high"), [
    ("atometrics", "fr", "la politique de confidentialité du responsable du traitement s'engage à les informer dans "
     "les 72 heures par courriel ;", "le risque élevé retenu"),
    ("atometrics", "en", "the controller's privacy policy promises to tell them within 72 hours by e-mail;",
     "the high risk assessed"),
    # The Publisher's policy names no delay and no means: "as soon as possible", nothing said of how.
    ("publisher-2018", "fr", "s'engage à les informer dans les meilleurs délais ; un projet", "le risque élevé retenu"),
    ("publisher-2018", "en", "promises to tell them as soon as possible; a draft", "the high risk assessed"),
])
def test_the_notification_says_the_people_are_told_by_promise_when_the_risk_is_not_high(
        controller: str, locale: str, words: str, not_high: str) -> None:
    sample: SampleIncident = SAMPLES[controller]
    state = replace(sample.state, override=Override(level="risk", justification="test", by="dpo", at=sample.now))
    context = draft(AUTHORITY_NOTIFICATION, state, sample.profile, sample.now).context
    notice = NoticeRenderer(ROOT / "templates" / "notices").render(regime="gdpr", locale=locale,
                                                                   kind=AUTHORITY_NOTIFICATION, context=context)
    text = " ".join(notice.text.split())
    assert words in text and not_high not in text
