"""The obligation workflow: running → approved (DPO only) → submitted (e-mail, or a portal with
its reference) → complements (Art. 33(4)) and corrections (each with a reason) → closed; or
withdrawn with a reason (DPO only). A late
submission needs the reasons for the delay, which may be recorded ahead."""

from __future__ import annotations

from datetime import datetime

from incident.commands import ActOnObligation
from incident.errors import CommandRejected
from incident.events import Event, ObligationActed
from incident.model import Incident

DPO_ROLE = "dpo"


# email: sent by us to the recipient's configured address; portal: the authority's online form,
# with the reference it gave; other: sent some other way a person describes (letters, a CRM
# mailing, a phone call to the customer's DPO), in the reference.
CHANNELS = ("email", "portal", "other")


def act(cmd: ActOnObligation, state: Incident | None, now: datetime) -> list[Event]:
    """One step of an obligation's workflow. Submitting late needs the reasons for the delay
    (Art. 33(1)); they can be recorded ahead, as soon as the deadline is at risk."""
    if state is None:
        raise CommandRejected(f"no incident {cmd.incident_id}")
    current = state.obligation(cmd.obligation)
    clock = next((c for c in state.clocks if c.rule_ref == cmd.obligation), None)
    if current is None or clock is None:
        known = ", ".join(o.rule_ref for o in state.obligations) or "none"
        raise CommandRejected(f"no obligation {cmd.obligation} on this incident (it has: {known})")
    if cmd.at > now:
        raise CommandRejected("a workflow step cannot be dated in the future")
    late = False
    match cmd.action:
        case "approve":
            if cmd.role != DPO_ROLE:
                raise CommandRejected("only the DPO may approve a notification")
            if current.status == "approved":
                return []
            if current.status != "running":
                raise CommandRejected(f"cannot approve: the obligation is {current.status}")
        case "submit":
            if current.status == "submitted" and current.submitted_at == cmd.at:
                return []  # the same submission recorded twice
            if current.status != "approved":
                raise CommandRejected(f"cannot submit: the obligation is {current.status}; the DPO approves first")
            if cmd.channel not in CHANNELS:
                raise CommandRejected(f"channel must be one of {', '.join(CHANNELS)}")
            if cmd.channel == "portal" and not cmd.reference.strip():
                raise CommandRejected("a portal submission needs the reference the portal gave")
            if cmd.channel == "other" and not cmd.reference.strip():
                raise CommandRejected("say how it was sent, in the reference (letters, a mailing, a call…)")
            late = clock.timed and cmd.at > clock.deadline
            if late and not (cmd.text.strip() or current.delay_reasons):
                raise CommandRejected(f"submitted after the deadline ({clock.deadline.isoformat()}): give the "
                                      "reasons for the delay (" + clock.legal_ref + ")")
        case "complement":
            if current.status != "submitted":
                raise CommandRejected("complementary information follows a submission")
            if not cmd.text.strip():
                raise CommandRejected("say what the complementary information is")
        case "correct":
            if current.status not in ("submitted", "closed"):
                raise CommandRejected("a correction fixes what was submitted: submit first")
            if not cmd.text.strip():
                raise CommandRejected("a correction needs its reason (what was wrong, what is right)")
        case "delay_reasons":
            if current.settled or not cmd.text.strip():
                raise CommandRejected("delay reasons need a text, before the obligation is settled")
        case "close":
            if cmd.role != DPO_ROLE:  # the end of a legal duty: the DPO's decision, as a withdrawal is
                raise CommandRejected("only the DPO may close a legal obligation")
            if current.status != "submitted":
                raise CommandRejected("close an obligation once it is submitted (or withdraw it, with a reason)")
        case "withdraw":
            if cmd.role != DPO_ROLE:  # no notification at all: the DPO's decision, with its reason
                raise CommandRejected("only the DPO may withdraw a legal obligation")
            if current.status == "withdrawn":
                return []
            if not cmd.text.strip():
                raise CommandRejected("a withdrawal needs a reason")
        case _:
            raise CommandRejected(f"unknown action {cmd.action!r}")
    return [ObligationActed(incident_id=state.id, version=state.version + 1, at=now, obligation=cmd.obligation,
                            action=cmd.action, by=cmd.by, acted_at=cmd.at, channel=cmd.channel,
                            reference=cmd.reference.strip(), text=cmd.text.strip(), late=late)]
