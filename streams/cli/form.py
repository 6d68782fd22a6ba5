"""`breach form`: the DPO's answers to the notification form (the CNIL's questions the incident
cannot answer itself, the contact for this notification, the measures in place before the breach)
and the measures taken and proposed, shown and set from the terminal through the console's API as
the person logged in (streams/cli/common.py), so the console checks that they are the DPO.

Setting merges over what is recorded: the console replaces the whole set of answers (and each
audience's measures), so the command sends the recorded answers with the given ones over them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from streams.cli.common import accepted, person
from streams.cli.console_client import CliError, Console, incident_id, quoted

# The form's fields as POST /api/incidents/{id}/form takes them (console/actions.py form_answers).
FIELDS = ("notification_type", "started_at", "ended_at", "ongoing", "origin", "intent", "member_states",
          "police_complaint", "anssi_report", "contact_name", "contact_details", "safeguards")
AUDIENCES = ("authority", "data_subjects")
NOT_STATED = "—"


def _detail(console: Console, found: str) -> dict[str, Any]:
    detail: dict[str, Any] = console.get(f"/api/incidents/{quoted(found)}")
    return detail


def _shown(value: Any) -> str:
    if value is None or value == "":
        return NOT_STATED
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(value) if value else "none"
    return str(value)


def show(detail: dict[str, Any]) -> list[str]:
    """The recorded answers and measures as lines; a field not stated shows as a dash (the
    notices then say "not known yet", or what the incident itself shows)."""
    form = detail.get("form") or {}
    lines = [f"notification form of {detail.get('reference', detail.get('id'))}"
             + ("" if form else " (no answer recorded yet)")]
    for field in FIELDS:
        if field == "safeguards":
            texts = form.get("safeguards") or []
            if not texts:
                lines.append(f"  {field:<18} {NOT_STATED}")
            for text in texts:
                lines += [f"  {field} ({text['locale']})"] + [f"    - {item}" for item in text["items"]]
            continue
        lines.append(f"  {field:<18} {_shown(form.get(field))}")
    for audience in AUDIENCES:
        written = (detail.get("measures") or {}).get(audience)
        if not written:
            lines.append(f"measures for the {audience.replace('_', ' ')}: {NOT_STATED}")
            continue
        lines.append(f"measures for the {audience.replace('_', ' ')} (by {written['by']}, {written['at'][:16]} UTC)")
        for text in written["texts"]:
            lines += ([f"  {text['locale']} taken"] + [f"    - {m}" for m in text["taken"]]
                      + [f"  {text['locale']} proposed"] + [f"    - {m}" for m in text["proposed"]])
    return lines


def _read_file(name: str) -> dict[str, Any]:
    try:
        raw = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CliError(f"{name}: no such file") from None
    except OSError as exc:
        raise CliError(f"{name}: cannot read it ({exc.strerror})") from None
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise CliError(f"{name}: not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise CliError(f"{name}: a JSON object of the form's fields (and \"measures\") is expected")
    return data


def _given(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any]]:
    """The answers and the measures the command gives (file first, then --set and --safeguards)."""
    data = _read_file(args.file) if args.file else {}
    measures = data.pop("measures", {}) or {}
    answers = dict(data)
    for pair in args.set:
        key, sep, value = pair.partition("=")
        if not sep:
            raise CliError(f"--set {pair!r}: KEY=VALUE expected (an empty VALUE clears the answer)")
        answers[key.strip()] = value.strip() or None
    if args.safeguards:
        by_locale: dict[str, list[str]] = {}
        for locale, line in args.safeguards:
            by_locale.setdefault(locale, []).append(line)
        answers["safeguards"] = {**_safeguards_by_locale(answers.get("safeguards")), **by_locale}
    unknown = sorted(set(answers) - set(FIELDS))
    if unknown:
        raise CliError(f"not a field of the form: {', '.join(unknown)} (the fields: {', '.join(FIELDS)})")
    if not isinstance(measures, dict) or not set(measures) <= set(AUDIENCES):
        raise CliError(f"\"measures\" is an object of {' and '.join(AUDIENCES)}, each {{locale: {{taken, proposed}}}}")
    return answers, measures


def _safeguards_by_locale(value: Any) -> dict[str, Any]:
    """The measures in place before as {locale: lines}, from either shape the console takes."""
    if isinstance(value, list):
        return {t["locale"]: t["items"] for t in value if isinstance(t, dict) and "locale" in t}
    return dict(value) if isinstance(value, dict) else {}


def cmd_form(args: argparse.Namespace) -> int:
    console = person()
    found = incident_id(console, args.incident)
    detail = _detail(console, found)
    if not (args.file or args.set or args.safeguards):
        print("\n".join(show(detail)))
        return 0
    answers, measures = _given(args)
    if "safeguards" in answers and args.safeguards:
        # Languages --safeguards did not name keep what is recorded.
        recorded = _safeguards_by_locale((detail.get("form") or {}).get("safeguards"))
        answers["safeguards"] = {**recorded, **answers["safeguards"]}
    if answers:
        console.post_json(f"/api/incidents/{quoted(found)}/form", {**(detail.get("form") or {}), **answers})
        accepted(found, "form answers")
    for audience, texts in measures.items():
        if not isinstance(texts, dict) or not all(isinstance(t, dict) for t in texts.values()):
            raise CliError(f"measures for {audience}: {{locale: {{\"taken\": [...], \"proposed\": [...]}}}}")
        recorded = {t["locale"]: t for t in ((detail.get("measures") or {}).get(audience) or {}).get("texts", [])}
        merged = {**recorded, **{locale: {"locale": locale, **t} for locale, t in texts.items()}}
        console.post_json(f"/api/incidents/{quoted(found)}/measures",
                          {"audience": audience, "texts": list(merged.values())})
        accepted(found, f"measures for the {audience.replace('_', ' ')}")
    return 0


def register(sub: Any) -> None:
    """`breach form`, on `breach`'s parser (streams/cli/__init__.py)."""
    form = sub.add_parser(
        "form", help="the DPO's answers to the notification form and the measures: shown, or set with "
        "--set KEY=VALUE, --safeguards LOCALE LINE or --file (merged over what is recorded)",
        description="Without options: shows the recorded answers. Fields: " + ", ".join(FIELDS) + ". "
        "Times in ISO 8601 with their offset; yes/no for ongoing, police_complaint, anssi_report; "
        "member_states as DE,BE or none. The file is a JSON object of these fields, and \"measures\": "
        "{\"authority\"|\"data_subjects\": {LOCALE: {\"taken\": [...], \"proposed\": [...]}}}.")
    form.add_argument("incident", help="the incident id or reference (BR-…)")
    form.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                      help="one answer (repeatable); an empty VALUE clears it")
    form.add_argument("--safeguards", action="append", nargs=2, default=[], metavar=("LOCALE", "LINE"),
                      help="a security measure in place before the breach, in that language (repeatable: the "
                           "lines given for a language replace its recorded ones)")
    form.add_argument("--file", "-f", help="a .json file of answers and measures, or - for standard input")
    form.set_defaults(func=cmd_form)
