"""The console's refusals are worded in one module, and each one a page can show has its French."""

from __future__ import annotations

from console import i18n, refusals


def test_every_refusal_of_the_console_reads_in_french() -> None:
    worded = {k: v for k, v in vars(refusals).items() if k.isupper() and isinstance(v, str)}
    worded.pop("NO_SSO")  # a plain-text answer to a misconfigured deployment, not a page
    made = [refusals.read_only_role("viewer"), refusals.no_task("contain/isolate"),
            refusals.merged_elsewhere("BR-0000"), refusals.no_list("l1"), refusals.invalid("why")]
    untranslated = [text for text in [*worded.values(), *made] if not i18n.translated(text)]
    assert not untranslated
    assert i18n.refusal(refusals.READ_ONLY, "fr") == "cette console est en lecture seule"
