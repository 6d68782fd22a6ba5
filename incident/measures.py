"""Measures taken and proposed (GDPR Art. 33(3)(d), and 34(2) which refers to it): what the DPO
writes, per language, for the authority and, separately, for the people affected.

The authority's notification and the notice to the people say different things in different
words (a technical account for one, what it changes for them for the other), so each audience
has its own set; each set holds one text per language the notices are written in. Recording a
set replaces that audience's previous one: the notices always show the DPO's latest wording.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from incident.errors import CommandRejected

AUDIENCES = ("authority", "data_subjects")
MAX_ITEMS = 50
MAX_CHARS = 2000  # one measure: a paragraph, never a document


@dataclass(frozen=True, slots=True, kw_only=True)
class MeasureText:
    """The measures in one language: each item one measure, as the DPO wrote it."""

    locale: str
    taken: tuple[str, ...] = ()
    proposed: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Measures:
    audience: str  # authority | data_subjects
    texts: tuple[MeasureText, ...]
    by: str
    at: datetime

    def in_locale(self, locale: str) -> MeasureText | None:
        return next((t for t in self.texts if t.locale == locale), None)


def cleaned(texts: tuple[MeasureText, ...]) -> tuple[MeasureText, ...]:
    """Items trimmed, blank ones dropped, languages without any measure left out, one text per
    language (the last given wins), in the order given."""
    by_locale: dict[str, MeasureText] = {}
    for text in texts:
        taken = tuple(m.strip() for m in text.taken if m.strip())
        proposed = tuple(m.strip() for m in text.proposed if m.strip())
        if taken or proposed:
            by_locale[text.locale.strip()] = MeasureText(locale=text.locale.strip(), taken=taken, proposed=proposed)
    return tuple(by_locale.values())


def check(audience: str, texts: tuple[MeasureText, ...], locales: tuple[str, ...]) -> None:
    """Refuse measures that cannot be recorded; ``locales`` are the languages the controller's
    notices are written in."""
    if audience not in AUDIENCES:
        raise CommandRejected(f"audience must be one of {', '.join(AUDIENCES)}")
    if not texts:
        raise CommandRejected("give at least one measure taken or proposed, in at least one language")
    for text in texts:
        if text.locale not in locales:
            raise CommandRejected(f"language {text.locale!r} is not one the notices are written in "
                                  f"({', '.join(locales)})")
        if len(text.taken) + len(text.proposed) > MAX_ITEMS:
            raise CommandRejected(f"at most {MAX_ITEMS} measures per language")
        if any(len(m) > MAX_CHARS for m in (*text.taken, *text.proposed)):
            raise CommandRejected(f"a measure is at most {MAX_CHARS} characters")
