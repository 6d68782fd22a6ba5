"""Playbooks: the checklists a controller follows for a breach, as data in its profile.

A profile's ``[[playbooks]]`` each name the regimes and breach types they are for (none: any)
and their ``[[playbooks.tasks]]``, each with a ``when`` that says from which point of the
incident it is due (``opened``, ``aware``, ``risk``, ``high_risk``). incident/tasks.py adds a
task to an incident when the incident reaches that point; people check it there. Parsed here
(pure, raising :class:`ProfileError` with the dotted key) so a profile with a bad playbook is
refused when it loads, like any other bad key. Documented in docs/profiles.md.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from incident.errors import ProfileError

# From which point a task is due, in the order an incident reaches them.
WHEN = ("opened", "aware", "risk", "high_risk")
LANGUAGES = ("en", "fr")  # the console's; a task's text in one of them at least
BREACH_TYPES = ("confidentiality", "integrity", "availability")  # incident.signals'
MAX_TEXT = 300
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")


@dataclass(frozen=True, slots=True, kw_only=True)
class Task:
    """One step of a playbook: ``texts`` by language (en, fr); ``when`` from WHEN."""

    id: str
    texts: dict[str, str]
    when: str = "opened"

    def text(self, lang: str) -> str:
        return self.texts.get(lang) or next(iter(self.texts.values()))


@dataclass(frozen=True, slots=True, kw_only=True)
class Playbook:
    id: str
    titles: dict[str, str]
    regimes: tuple[str, ...]  # empty: whatever the controller's regimes
    breach_types: tuple[str, ...]  # empty: any breach
    tasks: tuple[Task, ...]


def parse_playbooks(items: Any, *, source: str, regimes: Sequence[str]) -> tuple[Playbook, ...]:
    """Validate a profile's ``playbooks`` array (``regimes``: the regimes a playbook may name)."""
    if items is None:
        return ()
    if not isinstance(items, list):
        raise ProfileError("must be an array of tables", source=source, key="playbooks")
    out: list[Playbook] = []
    for index, item in enumerate(items):
        at = f"playbooks[{index}]"
        data = _table(item, source, at)
        _allow(data, source, at, ("id", "title", "regimes", "breach_types", "tasks"))
        pid = _slug(data.get("id"), source, f"{at}.id")
        tasks_data = data.get("tasks")
        if not isinstance(tasks_data, list) or not tasks_data:
            raise ProfileError("must be a non-empty array of tables", source=source, key=f"{at}.tasks")
        tasks = tuple(_task(t, source, f"{at}.tasks[{n}]") for n, t in enumerate(tasks_data))
        _unique([t.id for t in tasks], source, f"{at}.tasks")
        out.append(Playbook(id=pid, titles=_texts(data.get("title"), source, f"{at}.title"),
                            regimes=_codes(data.get("regimes"), regimes, source, f"{at}.regimes"),
                            breach_types=_codes(data.get("breach_types"), BREACH_TYPES, source, f"{at}.breach_types"),
                            tasks=tasks))
    _unique([p.id for p in out], source, "playbooks")
    return tuple(out)


def _task(item: Any, source: str, at: str) -> Task:
    data = _table(item, source, at)
    _allow(data, source, at, ("id", "text", "when"))
    when = data.get("when", "opened")
    if when not in WHEN:
        raise ProfileError(f"{when!r} is not one of {', '.join(WHEN)}", source=source, key=f"{at}.when")
    return Task(id=_slug(data.get("id"), source, f"{at}.id"), texts=_texts(data.get("text"), source, f"{at}.text"),
                when=when)


def _table(item: Any, source: str, at: str) -> Mapping[str, Any]:
    if not isinstance(item, Mapping):
        raise ProfileError("must be a table", source=source, key=at)
    return item


def _allow(data: Mapping[str, Any], source: str, at: str, keys: tuple[str, ...]) -> None:
    for key in data:
        if key not in keys:
            raise ProfileError(f"unknown key (allowed: {', '.join(keys)})", source=source, key=f"{at}.{key}")


def _slug(value: Any, source: str, at: str) -> str:
    if not isinstance(value, str) or not _SLUG.match(value):
        raise ProfileError("is required: lower-case letters, digits and dashes", source=source, key=at)
    return value


def _texts(value: Any, source: str, at: str) -> dict[str, str]:
    """A text in one language (a string: English) or several (a table by language)."""
    texts = {"en": value} if isinstance(value, str) else value
    if not isinstance(texts, Mapping) or not texts:
        raise ProfileError("is required: a string, or a table of en/fr strings", source=source, key=at)
    for lang, text in texts.items():
        if lang not in LANGUAGES:
            raise ProfileError(f"{lang!r} is not one of {', '.join(LANGUAGES)}", source=source, key=f"{at}.{lang}")
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
            raise ProfileError(f"must be a non-empty string of at most {MAX_TEXT} characters", source=source,
                               key=f"{at}.{lang}")
    return {lang: " ".join(text.split()) for lang, text in texts.items()}


def _codes(value: Any, allowed: Sequence[str], source: str, at: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ProfileError("must be a list of strings", source=source, key=at)
    for index, item in enumerate(value):
        if item not in allowed:
            raise ProfileError(f"{item!r} is not one of {', '.join(allowed)}", source=source, key=f"{at}[{index}]")
    return tuple(value)


def _unique(ids: list[str], source: str, at: str) -> None:
    seen: set[str] = set()
    for index, value in enumerate(ids):
        if value in seen:
            raise ProfileError(f"duplicate id {value!r}", source=source, key=f"{at}[{index}].id")
        seen.add(value)
