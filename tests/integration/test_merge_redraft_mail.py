"""The corrected draft after a merge reaches the DPO's mailbox: B (aware earlier, automatically)
merges into A (aware later, recorded by a person, its draft already e-mailed); the notify
agent's delivery sends a second e-mail, a new version, that gives the new deadline and says why
it moved, in the authority's language, through the real templates, mailer and an aiosmtpd server.

The domain runs in-process (decide + reactions, as the worker applies them): the broker is not
what is under test here; the e-mail is."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_datetime

from incident.decide import Rules
from incident.events import NoticeRequested
from incident.model import Incident
from incident.notices import reference
from streams.agents.notify import deliver
from streams.embedded.services import MailCatcher
from tests.integration.test_notify_ledger import deps_for
from tests.unit.builders import T0, FakeCalendar, directory, merge_after_awareness

NOW = T0 + timedelta(hours=1)
RULES = Rules(directory(), FakeCalendar())
A_AWARE = T0 + timedelta(minutes=40)
BANNER = {"fr": ("[CORRIGÉ : échéance modifiée]", "PROJET CORRIGÉ : L'ÉCHÉANCE A CHANGÉ",
                 "a été fusionné avec celui-ci"),
          "en": ("[CORRECTED: deadline moved]", "CORRECTED DRAFT: THE DEADLINE HAS MOVED",
                 "was merged into this one")}


def merge_world() -> tuple[Incident, Incident, list[NoticeRequested]]:
    """The merge after a later recorded awareness (tests.unit.builders); A's authority-notification
    draft requests (its data-subject notice draft, high risk, is another test's business)."""
    states, older, younger, emitted = merge_after_awareness(RULES, NOW, A_AWARE)
    requests = [e for e in emitted if isinstance(e, NoticeRequested) and e.incident_id == older
                and e.draft.kind == "authority_notification"]
    return states[older], states[younger], requests


def _when(value: Any, locale: str) -> str:
    return str(format_datetime(value, format="long", tzinfo=ZoneInfo("Europe/Paris"), locale=locale))


@pytest.mark.asyncio
@pytest.mark.parametrize("locale", ["fr", "en"])  # the authority's language decides; both templates are used
async def test_the_corrected_draft_reaches_the_dpo_with_the_new_deadline(catcher: MailCatcher, locale: str) -> None:
    a, b, requests = merge_world()
    assert a.awareness is not None and b.awareness is not None and a.awareness.aware_at == b.awareness.aware_at
    old_deadline, new_deadline = A_AWARE + timedelta(hours=72), b.awareness.aware_at + timedelta(hours=72)
    assert a.clocks[0].deadline == new_deadline < old_deadline
    first, corrected = (replace(r.draft, locale=locale) for r in requests)
    deps = deps_for(catcher)
    ledger: dict[str, Any] = {}
    for draft in (first, corrected):
        (result,) = await deliver(a.id, draft, deps, ledger)
        assert result.delivered, result.detail
    assert len(catcher.messages) == 2 and first.notice_id != corrected.notice_id
    before, after = (m.full() for m in catcher.messages)
    subject_tag, heading, why = BANNER[locale]
    assert after["to"] == ["dpo@acme.example"] and after["notice_id"] == corrected.notice_id
    assert after["subject"].startswith(subject_tag) and not before["subject"].startswith(subject_tag)
    for part in ("text", "html"):
        assert _when(old_deadline, locale) in before[part] and _when(new_deadline, locale) not in before[part]
        assert _when(new_deadline, locale) in after[part] and why in after[part]
        assert reference(b.id) in after[part] and first.notice_id in after[part]
    assert heading in after["text"] and heading not in before["text"]
    # A replay of the correction (a restart) sends nothing twice.
    await deliver(a.id, corrected, deps, ledger)
    assert len(catcher.messages) == 2
