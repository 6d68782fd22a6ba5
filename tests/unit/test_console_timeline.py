"""The timeline in the reader's language (console/views.describe): times as people read them (no ISO
timestamps), keys as words ("notification à l'autorité", not ``authority_notification``), a task by
its title and an obligation by its legal reference; never an address."""

from __future__ import annotations

from datetime import UTC, datetime

from console import i18n
from console.domain_text import signal_reason
from console.views import describe
from incident import reasons
from incident.events import (
    AwarenessRecorded,
    IncidentMerged,
    IncidentReopened,
    NoticeRequested,
    ObligationActed,
    ReminderDue,
    TaskChecked,
)
from incident.notices import NoticeDraft
from incident.reminders import TRIAGE_REF, TRIAGE_REF_FR, TRIAGE_RULE

AT = datetime(2026, 11, 20, 9, 12, 30, 123456, tzinfo=UTC)


def test_times_are_read_as_people_read_them_in_each_language() -> None:
    event = AwarenessRecorded(incident_id="i", version=2, at=AT, aware_at=AT, by="user:dora", evidence=())
    assert describe(event, "fr") == "Prise de connaissance enregistrée par dora le 20 nov. 2026 09:12 UTC"
    assert describe(event, "en") == "Awareness recorded by user:dora at 20 Nov 2026 09:12 UTC"


def test_keys_read_as_words_and_no_address_is_shown() -> None:
    draft = NoticeDraft(notice_id="n", kind="authority_notification", regime="gdpr", locale="fr",
                        audience="dpo-review", recipients=("dpo@acme.example",), context={})
    line = describe(NoticeRequested(incident_id="i", version=3, at=AT, draft=draft), "fr")
    assert line == "Notification demandée : notification à l'autorité (fr, relecture par le DPO, 1 destinataire(s))"
    assert "dpo@acme.example" not in line
    assert i18n.word("data_subjects", "fr") == "personnes concernées" and i18n.word("data_subjects", "en") == \
        "data subjects"
    assert i18n.word("severity 5", "fr") == "sévérité 5"


def test_a_task_by_its_title_and_an_obligation_by_its_legal_reference() -> None:
    names = {"gdpr-breach/contain": "Contenir", "GDPR:art33_authority@1": "GDPR Art. 33(1)"}
    checked = TaskChecked(incident_id="i", version=4, at=AT, task="gdpr-breach/contain", done=True, by="user:rita")
    assert describe(checked, "fr", names) == "Tâche « Contenir » faite, cochée par rita"
    assert describe(checked, "en") == "Task gdpr-breach/contain done, checked by user:rita"  # no title known
    acted = ObligationActed(incident_id="i", version=5, at=AT, obligation="GDPR:art33_authority@1", action="approve",
                            by="user:dora", acted_at=AT, channel="", reference="", text="", late=False)
    assert describe(acted, "fr", names) == "GDPR Art. 33(1) : approbation par dora"


def test_a_french_reader_sees_who_acted_and_why_a_signal_joined_in_french() -> None:
    # The log keeps the ids and the correlator's English; the French page says them in words.
    automatic = AwarenessRecorded(incident_id="i", version=2, at=AT, aware_at=AT, by="rule:confirmed-signal",
                                  evidence=())
    assert describe(automatic, "fr").startswith("Prise de connaissance enregistrée par règle : signal confirmé le")
    assert describe(automatic, "en").startswith("Awareness recorded by rule:confirmed-signal at")
    reason = ("SIEM alert confirming a breach (rule successful_logon matched); joined by shared host.name#ab12 "
              "within 24 h; fingerprint f00d")
    assert signal_reason(reason, "fr") == ("alerte SIEM confirmant une violation (règle successful_logon déclenchée) "
                                           "; rattaché par hôte #ab12 en commun, en 24 h ; empreinte f00d")
    assert signal_reason(reason, "en") == reason
    assert signal_reason("something the correlator never wrote", "fr") == "something the correlator never wrote"

    merged = "signal e-1 shares host.name#ab with it and user.name#cd with incident 1234 within 24 h"
    assert signal_reason(merged, "fr") == ("le signal e-1 partage hôte #ab avec lui et utilisateur #cd avec "
                                           "l'incident 1234, en 24 h")


def test_reasons_with_codes_are_worded_from_them_and_older_ones_by_their_english() -> None:
    # A shape the old patterns never knew (an unmapped signal linked by a shared address): its codes.
    why = (("unmapped_link",), ("joined_by", "source.ip#ab", "24 h"), ("unmapped",), ("fingerprint", "fp:1"))
    english = reasons.say(why)
    assert signal_reason(english, "fr").startswith("a signal on an asset")  # without its codes: partly English
    assert signal_reason(english, "fr", why) == (
        "un signal sur un actif qu'aucun profil ne déclare, rattaché à l'incident ouvert de ce responsable de "
        "traitement ; rattaché par IP source #ab en commun, en 24 h (aucun profil ne déclare l'actif) ; empreinte fp:1")
    assert signal_reason(english, "en", why) == english
    # The timeline: a hand link by the person's name, a merge of old, a reopening the domain made.
    link = (("linked_by_hand", "user:rita", "le même portable"),)
    merged = IncidentMerged(incident_id="i", version=3, at=AT, into="j", reason=reasons.say(link), why=link)
    assert describe(merged, "fr") == "Fusionné dans l'incident j : rattaché à la main par rita : le même portable"
    assert describe(merged, "en") == "Merged into incident j: linked by hand by user:rita: le même portable"
    old = IncidentMerged(incident_id="i", version=3, at=AT, into="j", reason="signal e-1 shares host.name#ab with it "
                         "and user.name#cd with incident j within 24 h")
    assert describe(old, "fr") == ("Fusionné dans l'incident j : le signal e-1 partage hôte #ab avec lui et "
                                   "utilisateur #cd avec l'incident j, en 24 h")
    for why in ((("confirms_breach", "e-9"),), ()):  # with its codes, and an event recorded before them
        reopened = IncidentReopened(incident_id="i", version=4, at=AT, reason="signal e-9 confirms a breach",
                                    by="rule:confirmed-signal", why=why)
        assert describe(reopened, "fr") == "Rouvert par règle : signal confirmé : le signal e-9 confirme une violation"
    withdrawal = (("level_withdrawal", "unlikely"), ("dpo_override", "Appareil retrouvé scellé."))
    acted = ObligationActed(incident_id="i", version=5, at=AT, obligation="o", action="withdraw", by="user:dora",
                            acted_at=AT, channel="", reference="", text=reasons.say(withdrawal), late=False,
                            why=withdrawal)
    assert describe(acted, "fr") == ("o : retrait par dora — non requise au niveau désormais en vigueur (risque "
                                     "improbable) : décision du DPO : Appareil retrouvé scellé.")
    by_hand = IncidentReopened(incident_id="i", version=4, at=AT, reason="signal e-9 confirms a breach", by="user:rita")
    assert describe(by_hand, "fr").endswith(": signal e-9 confirms a breach")  # a person's words, as written


def test_the_awareness_escalation_is_named_in_french() -> None:
    escalated = ReminderDue(incident_id="i", version=3, at=AT, controller="acme", rule_ref=TRIAGE_RULE,
                            legal_ref=TRIAGE_REF, deadline=AT, step="overdue", skipped=())
    assert describe(escalated, "fr") == f"Rappel délai dépassé pour {TRIAGE_REF_FR}"
    assert describe(escalated, "en") == f"Reminder overdue for {TRIAGE_REF}"
