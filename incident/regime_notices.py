"""Which notice template each obligation of a regime other than the GDPR is drafted from.

The GDPR's notices are drafted by the level in force (incident/tape.py: the authority notification,
the notice to the people, the public communication). Every other regime's obligation gets a draft
of its own when its clock runs and the level in force calls for it, from
``templates/notices/<template>/<locale>/<kind>.{subject,txt,html}.j2``: its own legal basis, its
own deadline, its own recipient — never another regime's words.

The table is keyed by ``<regime>:<obligation id>``, the regime as ``incident.regimes.REGIMES``
names it. An obligation missing from it is an error (``NoNoticeTemplate``), which a test turns
into a failure for every obligation of every regime: never a silent skip.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from incident.regimes import REGIMES

if TYPE_CHECKING:
    from incident.deadlines import Clock

AUTHORITY, PEOPLE = "authority", "data_subjects"  # whose measures a notice tells (incident/measures.py)


@dataclass(frozen=True, slots=True)
class RegimeNotice:
    template: str  # templates/notices/<template>/
    kind: str  # <kind>.{subject,txt,html}.j2, and the draft's kind
    audience: str  # AUTHORITY (an authority, a CSIRT, a controller, the press) or PEOPLE
    locales: tuple[str, ...] = ("en", "fr")  # the languages its templates are written in


def _n(regime: str, kind: str, audience: str = AUTHORITY, locales: tuple[str, ...] = ("en", "fr")) -> RegimeNotice:
    return RegimeNotice(regime, kind, audience, locales)


REGIME_NOTICES: dict[str, RegimeNotice] = {
    "uk-gdpr:art33_ico": _n("uk-gdpr", "art33_ico"),
    "uk-gdpr:art34_individuals": _n("uk-gdpr", "art34_individuals", PEOPLE),
    "uk-gdpr:art33_2_controller": _n("uk-gdpr", "art33_2_controller"),
    "eprivacy:611_authority": _n("eprivacy", "611_authority"),
    "eprivacy:611_subscribers": _n("eprivacy", "611_subscribers", PEOPLE),
    "nis2:early_warning": _n("nis2", "early_warning"),
    "nis2:incident_notification": _n("nis2", "incident_notification"),
    "nis2:final_report": _n("nis2", "final_report"),
    "dora:initial_notification": _n("dora", "initial_notification"),
    # The two ids DORA's initial notification had before Delegated Reg. 2025/301 Art. 5 was read as
    # one obligation (issue 16): incidents recorded with them still get the one initial notification.
    "dora:initial_from_classification": _n("dora", "initial_notification"),
    "dora:initial_from_awareness": _n("dora", "initial_notification"),
    "dora:intermediate_report": _n("dora", "intermediate_report"),
    "dora:final_report": _n("dora", "final_report"),
    "ch-fadp:art24_fdpic": _n("ch-fadp", "art24_fdpic"),
    "ch-fadp:art24_4_data_subjects": _n("ch-fadp", "art24_4_data_subjects", PEOPLE),
    "lgpd:art6_anpd": _n("lgpd", "art6_anpd", locales=("en", "fr", "pt-BR")),
    "lgpd:art9_data_subjects": _n("lgpd", "art9_data_subjects", PEOPLE, ("en", "fr", "pt-BR")),
    "hipaa:individuals": _n("hipaa", "individuals", PEOPLE),
    "hipaa:hhs": _n("hipaa", "hhs"),
    "hipaa:media": _n("hipaa", "media"),
    "hipaa:business_associate": _n("hipaa", "business_associate"),
    "california:residents": _n("california", "residents", PEOPLE),
    "california:attorney_general": _n("california", "attorney_general"),
}

# The regime whose notices are drafted by the level in force, not from this table.
GDPR = "gdpr"


class NoNoticeTemplate(LookupError):
    """An obligation of a regime other than the GDPR that no template in REGIME_NOTICES drafts."""

    def __init__(self, key: str) -> None:
        super().__init__(f"no notice template for the obligation {key!r}: add it to "
                         "incident/regime_notices.py REGIME_NOTICES with its templates")
        self.key = key


def regime_key(clock: Clock) -> str | None:
    """``<regime>:<obligation id>`` of a clock started from a regime's obligation (None for one of
    the controller's own promises, which no regime holds)."""
    for key, obligations in REGIMES.items():
        if any(o.regime == clock.regime and o.id == clock.obligation for o in obligations):
            return f"{key}:{clock.obligation}"
    return None


def notice_for(key: str) -> RegimeNotice:
    try:
        return REGIME_NOTICES[key]
    except KeyError:
        raise NoNoticeTemplate(key) from None


def drafted_for(clock: Clock) -> RegimeNotice | None:
    """The notice a clock's obligation is drafted as: None for the GDPR's (drafted by level) and
    the controller's promises; NoNoticeTemplate for an obligation nobody wrote a template for."""
    key = regime_key(clock)
    if key is None or key.split(":", 1)[0] == GDPR:
        return None
    return notice_for(key)


def locale_for(notice: RegimeNotice, wanted: str) -> str:
    """The language to draft in: the one wanted (the authority's or the people's), else one of the
    same language ("pt" → "pt-BR"), else the first the templates are written in."""
    if wanted in notice.locales:
        return wanted
    language = wanted.split("-")[0].split("_")[0].lower()
    return next((loc for loc in notice.locales if loc.split("-")[0].lower() == language), notice.locales[0])
