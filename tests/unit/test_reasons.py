"""Reasons as codes (issue 17): every reason the correlator gives for attaching a signal or merging
two incidents, an absorbed signal's, a hand link's and a reopening the domain made carries its
parts (code and parameters) beside the English text, which the parts word again exactly; French
is worded from the same parts, whatever the reason's shape."""

from __future__ import annotations

import re
from datetime import timedelta

from incident import reasons
from incident.commands import AttachSignal, DismissIncident, LinkIncidents, MergeIncident
from incident.correlation import correlate_batch
from incident.decide import decide
from incident.events import FactsCorrected, IncidentMerged, IncidentReopened, ObligationActed
from incident.model import fold
from incident.register_prose import closing_reason
from incident.signals import Evidence
from tests.unit.builders import T0, event
from tests.unit.test_attribution import link_only
from tests.unit.test_correlation_held import PACK, read
from tests.unit.test_dpo_decisions import LOWERING, correct, settle
from tests.unit.test_merge import RULES, two_then_linked
from tests.unit.test_register import aware_incident

# English words of the reasons that French never says (rule and entity names aside).
ENGLISH = re.compile(r"\b(matched|held|joined|opened|shares|within|merges|merged from|attached there|late|behind|"
                     r"fingerprint|no profile|linked|confirms|was a breach|with it|into this one)\b")


def every_evidence() -> list[Evidence]:
    """Signals attached every way the correlator attaches them."""
    found: list[Evidence] = []

    def keep(commands: list[object]) -> None:
        found.extend(c.evidence for c in commands if isinstance(c, AttachSignal))

    window, commands = correlate_batch(None, [event("dump", at=T0, action="dump", user="eve", asset="acme-auth")],
                                       pack=PACK)  # a rule matched, opened for its entities
    keep(commands)
    window, commands = correlate_batch(window, [read(1)], pack=PACK)  # held, joined at once
    keep(commands)
    _, commands = correlate_batch(None, [read(n, user="zoe", asset="acme-hr") for n in range(5)],
                                  pack=PACK)  # the correlation fired
    keep(commands)
    window, commands = correlate_batch(None, [event("a", at=T0 + timedelta(hours=5)), event("late", at=T0),
                                              event("printer", asset="printer-7")])  # late; no profile's asset
    keep(commands)
    attacked = event("login", asset="acme-auth", user="alice", source_ip="203.0.113.9")
    window, commands = correlate_batch(None, [attacked])
    keep(commands)
    _, commands = correlate_batch(window, [link_only(event("ids", asset="sensor-7", source_ip="203.0.113.9",
                                                           at=T0 + timedelta(minutes=5), located=False))])
    keep(commands)  # an unmapped signal linked to the controller's incident
    world, older, _, _ = two_then_linked()  # joined by a shared user, merging two incidents
    found.extend(world.states[older].evidence)  # absorbed evidence among them
    return found


def test_every_attached_signal_carries_its_reason_as_codes_that_say_it_again() -> None:
    evidence = every_evidence()
    codes = {part[0] for e in evidence for part in e.why}
    assert {"rule_matched", "held_joined", "correlation_fired", "late", "unmapped", "unmapped_link", "opened_for",
            "joined_by", "merges", "merged_from", "attached_there", "fingerprint"} <= codes, codes
    for e in evidence:
        assert e.why and reasons.say(e.why) == e.reason, e.reason
        french = reasons.say(e.why, "fr")
        assert not ENGLISH.search(french), french
        assert "#" not in french or re.search(r"(hôte|utilisateur|IP source) #", french)


def test_the_merge_reason_is_codes_too_and_french_names_the_entity_kinds() -> None:
    world, older, younger, _ = two_then_linked()
    (merge,) = [c for c in world.handled if isinstance(c, MergeIncident)]
    assert merge.why[0][0] == "merge_shares" and reasons.say(merge.why) == merge.reason
    assert world.states[younger].merge_why == merge.why
    french = reasons.say(merge.why, "fr")
    assert french.startswith("le signal c partage hôte #") and "avec lui et utilisateur #" in french
    assert french.endswith(f"avec l'incident {older}, en 24 h")


def test_a_hand_link_and_the_domain_s_reopenings_say_who_and_why_in_french() -> None:
    opened = fold(None, decide(correlate_batch(None, [event("z")])[1][0], None, now=T0, rules=RULES))
    assert opened is not None
    (merged,) = decide(LinkIncidents(incident_id=opened.id, into="other", reason="same laptop", by="user:rita",
                                     role="responder"), opened, now=T0, rules=RULES)
    assert isinstance(merged, IncidentMerged) and merged.reason == "linked by hand by user:rita: same laptop"
    assert reasons.say(merged.why, "fr") == "rattaché à la main par rita : same laptop"  # the person's words
    dismissed = fold(opened, decide(DismissIncident(incident_id=opened.id, outcome="false_positive", reason="test",
                                                    by="user:rita", role="responder"), opened, now=T0, rules=RULES))
    assert dismissed is not None
    confirming = correlate_batch(None, [event("y", confirms=True)])[1][0]
    assert isinstance(confirming, AttachSignal)
    again = AttachSignal(incident_id=opened.id, controller="acme", correlation_key="acme", evidence=confirming.evidence)
    (reopened,) = [e for e in decide(again, dismissed, now=T0, rules=RULES) if isinstance(e, IncidentReopened)]
    assert reopened.reason == "signal y confirms a breach" and reasons.say(reopened.why) == reopened.reason
    assert reasons.say(reopened.why, "fr") == "le signal y confirme une violation"


def test_a_reason_recorded_before_the_codes_is_worded_by_the_reader_or_kept() -> None:
    old = (("merged_from", "i-1"), ("recorded", "signal c shares host.name#ab with it"), ("attached_there",),
           ("recorded", "opened for its asset"))
    assert reasons.say(old) == ("merged from incident i-1: signal c shares host.name#ab with it; attached there "
                                "because: opened for its asset")
    assert reasons.say(old, "fr", recorded=str.upper).endswith("rattachée là-bas car : OPENED FOR ITS ASSET")
    assert "opened for its asset" in reasons.say(old, "fr")  # no reader's patterns: as recorded, never lost
    assert reasons.say((("as_written", "opened for x"),), "fr", recorded=str.upper) == "opened for x"  # a person's


def test_every_code_is_worded_in_both_languages() -> None:
    for code, (english, french) in reasons.WORDS.items():
        assert english and french
        if code not in ("recorded", "as_written"):
            assert english != french, code


def test_a_level_s_withdrawal_and_a_confirmed_proposal_carry_their_codes() -> None:
    proposed = correct(aware_incident(), LOWERING, "responder")
    events = settle(proposed, proposed.proposals[0].number, True, reason="vu le rapport")
    corrected = next(e for e in events if isinstance(e, FactsCorrected))
    assert corrected.reason == "user:responder's proposal confirmed by the DPO: " + \
        f"{proposed.proposals[0].reason} (vu le rapport)"  # the English, as before the codes
    assert reasons.say(corrected.why) == corrected.reason
    assert reasons.say(corrected.why, "fr").startswith("proposition de responder confirmée par le DPO : ")
    (withdrawn,) = [e for e in events if isinstance(e, ObligationActed) and e.action == "withdraw"]
    assert reasons.say(withdrawn.why) == withdrawn.text and withdrawn.text.startswith(
        "not required at the level now in force (unlikely): facts corrected: user:responder's proposal")
    french = reasons.say(withdrawn.why, "fr")
    assert french.startswith("non requise au niveau désormais en vigueur (risque improbable) : faits corrigés : "
                             "proposition de responder confirmée par le DPO : ") and not ENGLISH.search(
        french.replace(proposed.proposals[0].reason, ""))
    after = fold(proposed, events)
    assert after is not None
    (obligation,) = [o for o in after.obligations if o.status == "withdrawn"]
    assert obligation.closing_why == withdrawn.why  # the register words it from there
    assert closing_reason(obligation.closing_reason, "fr", obligation.closing_why) == french
    assert closing_reason(obligation.closing_reason, "en", obligation.closing_why) == withdrawn.text
