"""Complete French on the list, an incident, its report (issue 17): no raw keys (``dpo-review``,
``authority_notification``, ``data_subjects``), no ISO timestamps, no English countdown; the
pages' words and the domain's keys both read in French. The world is test_console_work's (a
suspected incident, and an aware one with its clocks, drafts and page)."""

from __future__ import annotations

import html
import re

import pytest

from tests.integration.test_console_work import World, world  # noqa: F401 - the fixture

RAW = ("dpo-review", "authority_notification", "data_subject_notice", "data_subjects", "awareness)", " left",
       "overdue by", "without undue delay", "not assessed")
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")


def text_of(page: str) -> str:
    """What a reader sees: no tags, scripts or attribute values (ISO times stay in datetime="…")."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


@pytest.mark.asyncio
async def test_the_list_an_incident_and_its_report_read_in_french(world: tuple[World, object]) -> None:  # noqa: F811
    w, app = world
    async with w.client(app, "dora", "fr") as dora:
        for path in ("/", f"/incidents/{w.aware}", f"/incidents/{w.suspected}", f"/incidents/{w.aware}/report",
                     f"/incidents/{w.aware}/report.md"):
            answer = await dora.get(path)
            assert answer.status_code == 200, path
            seen = text_of(answer.text) if not path.endswith(".md") else answer.text
            assert not [word for word in RAW if word in seen], (path, [word for word in RAW if word in seen])
            assert not ISO.search(seen), (path, ISO.findall(seen)[:3])
        page = text_of((await dora.get(f"/incidents/{w.aware}")).text)
        assert "relecture par le DPO" in page and "notification à l'autorité" in page
        assert re.search(r"\d+ h \d\d min restant", page) and "prise de connaissance" in page
        listed = text_of((await dora.get("/")).text)
        assert "alerte non acquittée" in listed and "restant" in listed
