"""The people affected by a breach, as the controller lists them: parsing and checking only.

A list comes as CSV (a header row naming ``address`` or ``email``, optionally ``name`` and
``language``/``locale``) or JSONL (one object per line with the same keys). Every line is
either a Recipient or an Invalid entry (line number and reason); a bad line never stops the
import. Reasons never repeat the address: they end up in terminals and logs.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass

MAX_ADDRESS = 254  # RFC 5321 path limit minus the angle brackets
MAX_LOCAL = 64
_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+")
_LABEL = re.compile(r"(?!-)[^\W_](?:[\w-]{0,61}[^\W_])?", re.UNICODE)
_LOCALE = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*")


@dataclass(frozen=True, slots=True)
class Recipient:
    address: str  # as given, trimmed; compared case-insensitively
    name: str  # one line, possibly empty
    locale: str  # language code, lower case ("fr", "en")


@dataclass(frozen=True, slots=True)
class Invalid:
    line: int
    reason: str


@dataclass(frozen=True, slots=True)
class RecipientList:
    recipients: tuple[Recipient, ...]
    invalid: tuple[Invalid, ...]


def address_problem(address: str) -> str | None:
    """Why this is not a deliverable address (without quoting it), or None."""
    if not address:
        return "empty address"
    if len(address) > MAX_ADDRESS:
        return f"address longer than {MAX_ADDRESS} characters"
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in address):
        return "address contains a space or a control character"
    if address.count("@") != 1:
        return "address must contain exactly one @"
    local, domain = address.split("@")
    if not local or len(local) > MAX_LOCAL:
        return f"the part before @ must have 1 to {MAX_LOCAL} characters"
    if not _LOCAL.fullmatch(local) or local.startswith(".") or local.endswith(".") or ".." in local:
        return "invalid character or dot placement before @"
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        return "invalid domain after @"
    if labels[-1].isdigit():
        return "invalid domain after @"
    return None


def one_line(text: str) -> str:
    """Names end up in a mail header: no control characters, one line, single spaces."""
    return " ".join("".join(" " if ord(ch) < 32 or ord(ch) == 127 or ch in "\u2028\u2029\x85" else ch
                            for ch in text).split())


def _locale(value: str, default: str) -> str | None:
    value = value.strip()
    if not value:
        return default
    if not _LOCALE.fullmatch(value):
        return None
    return value.replace("_", "-").split("-")[0].lower()


class _Collector:
    def __init__(self, default_locale: str) -> None:
        self.default_locale = default_locale
        self.recipients: list[Recipient] = []
        self.invalid: list[Invalid] = []
        self.seen: dict[str, int] = {}

    def add(self, line: int, address: object, name: object, locale: object) -> None:
        if not isinstance(address, str) or not isinstance(name, str) or not isinstance(locale, str):
            self.invalid.append(Invalid(line, "address, name and language must be text"))
            return
        address = address.strip()
        problem = address_problem(address)
        if problem is not None:
            self.invalid.append(Invalid(line, problem))
            return
        language = _locale(locale, self.default_locale)
        if language is None:
            self.invalid.append(Invalid(line, "language is not a language code such as fr or en-GB"))
            return
        key = address.lower()
        if key in self.seen:
            self.invalid.append(Invalid(line, f"duplicate of line {self.seen[key]}"))
            return
        self.seen[key] = line
        self.recipients.append(Recipient(address=address, name=one_line(name), locale=language))

    def result(self) -> RecipientList:
        return RecipientList(tuple(self.recipients), tuple(self.invalid))


def _pick(row: dict[str, object], *names: str) -> object:
    for name in names:
        if name in row and row[name] is not None:
            return row[name]
    return ""


def parse_csv(text: str, default_locale: str) -> RecipientList:
    collector = _Collector(default_locale)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    fields = [f.strip().lower() for f in reader.fieldnames or []]
    if "address" not in fields and "email" not in fields:
        collector.invalid.append(Invalid(1, "the header row must name an 'address' or 'email' column"))
        return collector.result()
    reader.fieldnames = fields
    last = reader.line_num
    for row in reader:
        line, last = last + 1, reader.line_num  # where the record starts (a quoted field may span lines)
        if None in row:
            collector.invalid.append(Invalid(line, "more fields than the header names"))
            continue
        if not any((v or "").strip() for v in row.values()):
            continue  # blank line
        collector.add(line, _pick(row, "address", "email"), _pick(row, "name"), _pick(row, "language", "locale"))
    return collector.result()


def parse_jsonl(text: str, default_locale: str) -> RecipientList:
    collector = _Collector(default_locale)
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            row = json.loads(raw)
        except json.JSONDecodeError as exc:
            collector.invalid.append(Invalid(number, f"not JSON ({exc.msg})"))
            continue
        if not isinstance(row, dict):
            collector.invalid.append(Invalid(number, "not a JSON object"))
            continue
        collector.add(number, _pick(row, "address", "email"), _pick(row, "name"), _pick(row, "language", "locale"))
    return collector.result()


def parse(text: str, *, fmt: str, default_locale: str) -> RecipientList:
    """``fmt`` is "csv" or "jsonl"."""
    if fmt == "csv":
        return parse_csv(text, default_locale)
    if fmt == "jsonl":
        return parse_jsonl(text, default_locale)
    raise ValueError(f"unknown recipient list format {fmt!r} (csv or jsonl)")
