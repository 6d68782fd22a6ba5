"""Reminders and the awareness escalation reach the on-call team in the controller's language, as
the pages do (issue 17, item 8): the notify agent's ``remind`` sends through SMTP to the embedded
mail catcher (aiosmtpd on loopback), and the message is read back as it arrived."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage

import pytest

from incident.events import ReminderDue
from incident.profiles import Directory, parse_profile
from incident.reminders import TRIAGE_REF, TRIAGE_RULE
from streams.agents.notify import remind
from streams.deps import Deps
from streams.embedded.services import MailCatcher
from streams.mail.mailer import SmtpMailer
from streams.mail.render import NoticeRenderer
from streams.settings import ROOT, load_settings
from tests.unit.builders import T0, profile_doc

ONCALL = "oncall@acme.example"
ENGLISH_WORDS = ("for incident", " is due", "was due", "Open the incident", "OVERDUE", "Overdue",
                 "reasons for the delay", "Awareness decision", "Earlier reminders")


def deps_for(catcher: MailCatcher, languages: list[str]) -> Deps:
    profile = parse_profile(profile_doc(languages=languages), source="acme.toml")
    return Deps(directory=Directory.of([profile]), renderer=NoticeRenderer(ROOT / "templates" / "notices"),
                mailer=SmtpMailer(load_settings({}, smtp_port=catcher.port)), oncall=(ONCALL,), retry_delay=0.01)


def reminder(step: str, *, rule_ref: str = "GDPR:art33_authority@1", legal_ref: str = "GDPR Art. 33(1)") -> ReminderDue:
    return ReminderDue(incident_id="0b1c2d3e-aaaa-4bbb-8ccc-000000000001", version=3, at=T0, controller="acme",
                       rule_ref=rule_ref, legal_ref=legal_ref, deadline=T0 + timedelta(hours=72), step=step,
                       skipped=())


def read(catcher: MailCatcher) -> list[tuple[str, str, str]]:
    out = []
    for caught in catcher.messages:
        parsed = caught.parsed()
        assert isinstance(parsed, EmailMessage) and caught.recipients == [ONCALL]
        text = parsed.get_body(preferencelist=("plain",)).get_content()
        html = parsed.get_body(preferencelist=("html",)).get_content()
        out.append((str(parsed["Subject"]), text, html))
    return out


@pytest.mark.asyncio
async def test_a_french_controllers_reminders_and_escalation_arrive_in_french(catcher: MailCatcher) -> None:
    deps = deps_for(catcher, ["fr", "en"])
    await remind(reminder("T-6h"), deps, {})
    await remind(reminder("overdue"), deps, {})
    await remind(reminder("overdue", rule_ref=TRIAGE_RULE, legal_ref=TRIAGE_REF), deps, {})
    (t6, overdue, escalation) = read(catcher)

    assert t6[0].startswith("T-6h · GDPR Art. 33(1)") and "arrive à échéance le" in t6[1]
    assert "motifs du retard" in t6[1] and "Ouvrir l'incident" in t6[1] and '<html lang="fr">' in t6[2]
    assert overdue[0].startswith("DÉPASSÉ · ") and "est DÉPASSÉE" in overdue[1]
    assert escalation[0].startswith("DÉPASSÉ · Décision sur la prise de connaissance en retard")
    assert "lignes directrices 9/2022 de l'EDPB" in escalation[1]
    for subject, text, html in (t6, overdue, escalation):
        seen = [w for w in ENGLISH_WORDS if w in subject or w in text or w in html]
        assert not seen, (subject, seen)
        assert "décembre" in text or "novembre" in text  # the deadline as a French reader says it


@pytest.mark.asyncio
async def test_an_english_only_controllers_reminder_stays_english(catcher: MailCatcher) -> None:
    deps = deps_for(catcher, ["en"])
    await remind(reminder("overdue", rule_ref=TRIAGE_RULE, legal_ref=TRIAGE_REF), deps, {})
    ((subject, text, _),) = read(catcher)
    assert subject.startswith("OVERDUE · Awareness decision overdue") and "Open the incident" in text
