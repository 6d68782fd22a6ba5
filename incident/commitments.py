"""The controller's own promises as obligations, like the law's (issue 16).

A privacy policy may promise more than the law: Atometrics e-mails every person concerned within
72 h of establishing a leak, whatever the risk; the Publisher tells its users of any illegal
access as soon as possible, then of its causes. Each such promise to the people (a profile's
``[[commitments]]`` with audience ``data_subjects``) is an Obligation of the "Policy" regime: a
clock from its anchor, a draft notice, reminders, the workflow (approve, submit) and the register
— stricter than Art. 34 where promised, never in place of it (the law's obligations stay).
"""

from __future__ import annotations

from incident.profiles import Commitment, Profile
from incident.regimes import Obligation

POLICY_REGIME = "Policy"
# A commitment's trigger, in the Obligation vocabulary (incident/regimes.py).
_TRIGGERS = {"any_breach": "breach", "risk": "risk", "high_risk": "high_risk"}


def obligation_of(commitment: Commitment) -> Obligation:
    """The obligation a binding commitment makes: "within N hours" on the clock, "as soon as
    possible" like Art. 34's "without undue delay" (due from its anchor, never counted late).
    Its legal reference is the policy's own words; the profile's ``ref``, stored in the clock,
    says which version of the profile they were read from."""
    within = commitment.within_hours
    return Obligation(POLICY_REGIME, commitment.id, 1, _TRIGGERS[commitment.trigger], commitment.audience,
                      commitment.anchor, within or 0, "hours" if within else "asap", commitment.legal_ref)


def policy_obligations(profile: Profile | None) -> tuple[Obligation, ...]:
    """The obligations the controller's policy adds to its regimes' (none without a profile)."""
    return tuple(obligation_of(c) for c in profile.commitments if c.binding) if profile else ()
