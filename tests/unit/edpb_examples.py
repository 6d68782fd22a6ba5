"""The 18 cases of EDPB Guidelines 01/2021 on Examples regarding Personal Data Breach Notification
(v2.0, adopted 14 December 2021), each as the facts our risk method reads, with the EDPB's answer.

A table, not a test: tests/unit/test_edpb_examples.py runs each case through ``incident.risk.assess``
and checks docs/risk.md's table against what it computes; ``python -m tests.unit.edpb_examples``
prints that table (``--write`` puts it into docs/risk.md between its markers).

How sure the EDPB side is: each case's ``source`` says what it was checked against, and
docs/risk.md shows it beside the case. Only Case No. 01 was read in a copy of the guidelines' text
(a truncated one: the table of contents, whose headings the cases use, and Case 01;
``SOURCE_READ``). The answers of Cases 08 and 11 are as hrlaw.pl's summary of v2.0 gives them
(``SOURCE_HRLAW``), those of 09, 13, 14 and 16 as ije.be's table quoting v2.0 does ("postal
dispatch error: notify the DPA, not the people unless the data is sensitive"; ``SOURCE_IJE``);
their facts are recalled. 03 and 18 agree only with summaries of the 2021 draft (03: Baker
McKenzie, 4 February 2021, "high risk ... requiring both" notifications; ``SOURCE_DRAFT``). The
others, 02, 04–07, 10, 12, 15 and 17, are written from the guidelines as remembered, unchecked
(``SOURCE_RECALLED``). A search in December 2026 of the stored pages, documentation and code
(the EDPB PDF, mirrors of it, law-firm pages, verbatim sentences of the cases) found no copy of
the v2.0 text past Case 01, so nothing could be corrected against it. Re-read them against
https://www.edpb.europa.eu/system/files/2022-01/edpb_guidelines_012021_pdbnotification_adopted_en.pdf
before relying on one.

Facts are what the case says, no more: a case that does not say who holds the data leaves
``recipients`` out (read as unknown), and so on. Where reading a case took a choice, ``reading``
says which.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from incident.facts import parse_facts
from incident.risk import Assessment, assess

GUIDELINES = "EDPB Guidelines 01/2021 v2.0"
# What each case's EDPB side was checked against (docs/risk.md shows it beside the case).
SOURCE_READ = "the v2.0 text (a stored copy)"
SOURCE_IJE = "answer: ije.be's table quoting v2.0; facts recalled"
SOURCE_HRLAW = "answer: hrlaw.pl's summary of v2.0; facts recalled"
SOURCE_DRAFT = "not v2.0: a summary of the 2021 draft agrees"
SOURCE_RECALLED = "nothing: recalled, unchecked"
SOURCES = (SOURCE_READ, SOURCE_IJE, SOURCE_HRLAW, SOURCE_DRAFT, SOURCE_RECALLED)


@dataclass(frozen=True, slots=True)
class Example:
    number: int
    title: str  # the guidelines' heading for the case
    summary: str  # the case in one line, as docs/risk.md shows it
    facts: dict[str, Any]
    notify_authority: bool  # the EDPB's answer (its "Actions necessary" table)
    notify_people: bool
    source: str = SOURCE_RECALLED
    reading: str = ""  # a choice made in turning the case into facts, if any

    @property
    def cite(self) -> str:
        return f"{GUIDELINES}, Case No. {self.number:02d} ({self.title})"


EXAMPLES: tuple[Example, ...] = (
    Example(
        1, "Ransomware with proper backup and without exfiltration",
        "Ransomware at a small manufacturer; the data was encrypted at rest, key safe, nothing taken; "
        "restored from backup within hours.",
        {"breach_types": ["availability"], "data_categories": ["identity", "contact"], "subjects_count": 36,
         "encrypted": True, "key_compromised": False, "backup_available": True, "unavailability_hours": 3,
         "exfiltration": "none", "recipients": "none", "malicious": True, "mitigations": ["backup_restored"]},
        False, False, source=SOURCE_READ),
    Example(
        2, "Ransomware without proper backup",
        "Ransomware on an agricultural company's computer, no backup; employees' and clients' data rebuilt "
        "from paper over five days; nothing taken.",
        {"breach_types": ["availability"], "data_categories": ["identity", "contact"],
         "backup_available": False, "unavailability_hours": 120, "exfiltration": "none", "recipients": "none",
         "malicious": True},
        True, False),
    Example(
        3, "Ransomware with backup and without exfiltration in a hospital",
        "Ransomware stops a hospital's information system; patients' records back from backup after two "
        "days, care delayed; nothing taken.",
        {"breach_types": ["availability"], "data_categories": ["identity", "health"],
         "vulnerable_subjects": ["patients"], "backup_available": True, "unavailability_hours": 48,
         "exfiltration": "none", "recipients": "none", "malicious": True},
        True, True, source=SOURCE_DRAFT),
    Example(
        4, "Ransomware without backup and with exfiltration",
        "Ransomware at a public transport company, no backup, data taken first: clients' identity card "
        "numbers and card details among it.",
        {"breach_types": ["availability", "confidentiality"],
         "data_categories": ["identity", "contact", "official_id", "payment_card"], "subjects_count": 5000,
         "backup_available": False, "unavailability_hours": None, "exfiltration": "confirmed",
         "recipients": "unknown", "malicious": True},
        True, True, reading="'several thousand' people: 5000."),
    Example(
        5, "Exfiltration of job application data from a website",
        "Malicious code on an employment agency's website exposes 213 application forms (CV, contact "
        "details), no special categories.",
        {"breach_types": ["confidentiality"], "data_categories": ["identity", "contact"], "subjects_count": 213,
         "exfiltration": "suspected", "recipients": "unknown", "malicious": True},
        True, True),
    Example(
        6, "Exfiltration of hashed password from a website",
        "SQL injection on a cooking website takes 1,200 users' passwords, hashed with a strong salted "
        "algorithm; users are known by pseudonyms.",
        {"breach_types": ["confidentiality"], "data_categories": ["credentials"], "subjects_count": 1200,
         "ease_of_identification": "limited", "encrypted": True, "key_compromised": False,
         "exfiltration": "confirmed", "recipients": "unknown", "malicious": True},
        False, False, reading="Strong salted hashing is 'unintelligible' (docs/risk.md), the salt is the 'key'."),
    Example(
        7, "Credential stuffing attack on a banking website",
        "Attackers try a trivial password on a bank's login: identity data and tax codes of ~100,000 leak, "
        "~2,000 accounts are entered.",
        {"breach_types": ["confidentiality"],
         "data_categories": ["identity", "official_id", "credentials", "financial"], "subjects_count": 100000,
         "exfiltration": "confirmed", "recipients": "unknown", "malicious": True},
        True, True, reading="The fiscal code is an ID number (`official_id`)."),
    Example(
        8, "Exfiltration of business data by an employee",
        "An employee copies the client list (basic contact data) before leaving, to canvass the clients "
        "for his new business.",
        {"breach_types": ["confidentiality"], "data_categories": ["identity", "contact"],
         "exfiltration": "confirmed", "recipients": "known", "malicious": True},
        True, False, source=SOURCE_HRLAW, reading="The recipient is one identified person: `known`."),
    Example(
        9, "Accidental transmission of data to a trusted third party",
        "An insurance agent bound by professional secrecy receives two dozen other customers' data by "
        "mistake, reports it and confirms deletion in writing.",
        {"breach_types": ["confidentiality"], "data_categories": ["identity", "contact", "financial"],
         "subjects_count": 24, "recipients": "trusted_known", "malicious": False,
         "mitigations": ["recipient_confirmed_deletion"]},
        False, False, source=SOURCE_IJE, reading="Insurance contract data counted as `financial`."),
    Example(
        10, "Stolen material storing encrypted personal data",
        "Two tablets stolen from a day-care centre: children's names, birth dates and education data, "
        "encrypted, strong passwords, backup, wiped remotely.",
        {"breach_types": ["confidentiality", "availability"], "data_categories": ["identity", "children"],
         "vulnerable_subjects": ["children"], "encrypted": True, "key_compromised": False,
         "backup_available": True, "recipients": "unknown", "malicious": True,
         "mitigations": ["device_wiped_remotely"]},
        False, False),
    Example(
        11, "Stolen material storing non-encrypted personal data",
        "A service provider's employee's notebook, no password, holding names, addresses and birth dates of "
        "over 100,000 customers, is stolen; daily backups.",
        {"breach_types": ["confidentiality", "availability"], "data_categories": ["identity", "contact"],
         "subjects_count": 100000, "encrypted": False, "backup_available": True, "recipients": "unknown",
         "malicious": True},
        True, True, source=SOURCE_HRLAW),
    Example(
        12, "Stolen paper files with sensitive data",
        "A drug-rehabilitation centre's paper logbook (patients' identities and health data) is stolen; "
        "there is no copy.",
        {"breach_types": ["confidentiality", "availability"], "data_categories": ["identity", "health"],
         "vulnerable_subjects": ["patients"], "backup_available": False, "unavailability_hours": None,
         "recipients": "unknown", "malicious": True},
        True, True),
    Example(
        13, "Postal mail mistake",
        "Two shoe orders' packing bills are swapped: each of two customers receives the other's name, "
        "address and order; the retailer recalls them.",
        {"breach_types": ["confidentiality"], "data_categories": ["identity", "contact"], "subjects_count": 2,
         "recipients": "known", "malicious": False},
        False, False, source=SOURCE_IJE),
    Example(
        14, "Highly confidential personal data sent by mail by mistake",
        "An employment office e-mails its job seekers a file with every job seeker's name, addresses and "
        "social security number: over 60,000 people.",
        {"breach_types": ["confidentiality"], "data_categories": ["identity", "contact", "official_id"],
         "subjects_count": 60000, "recipients": "known", "malicious": False},
        True, True, source=SOURCE_IJE,
        reading="The recipients are the job seekers themselves, each identified: `known`."),
    Example(
        15, "Personal data sent by mail by mistake",
        "A course's participant list (names, e-mail addresses, meal preferences) goes to 15 former "
        "participants instead of the hotel; they are asked to delete it.",
        {"breach_types": ["confidentiality"], "data_categories": ["identity", "contact"], "subjects_count": 15,
         "recipients": "known", "malicious": False},
        False, False,
        reading="Two participants' meal preference (lactose intolerance) is not encoded as `health`: with it, "
                "our method says high (rule 1)."),
    Example(
        16, "Postal mail mistake",
        "An enveloping machine puts another policyholder's car-insurance letter (name, address, birth date, "
        "plate, premium, mileage) in a customer's envelope.",
        {"breach_types": ["confidentiality"], "data_categories": ["identity", "contact", "financial"],
         "subjects_count": 1, "recipients": "known", "malicious": False},
        True, False, source=SOURCE_IJE,
        reading="The premium counted as `financial` data; no bank details, no health data."),
    Example(
        17, "Identity theft",
        "A caller posing as a telecom customer, with his tax number and address, has the bills sent to a new "
        "e-mail address and reads them.",
        {"breach_types": ["confidentiality", "integrity"],
         "data_categories": ["identity", "contact", "financial", "communications"], "subjects_count": 1,
         "recipients": "unknown", "malicious": True},
        True, True),
    Example(
        18, "Email exfiltration",
        "Rules planted in a hypermarket chain's mailboxes forward every e-mail about invoices, payments and "
        "bank details to an outside address.",
        {"breach_types": ["confidentiality", "integrity"],
         "data_categories": ["identity", "contact", "financial", "communications"],
         "exfiltration": "confirmed", "recipients": "unknown", "malicious": True},
        True, True, source=SOURCE_DRAFT),
)

# Cases where the project answers differently from the EDPB on purpose, and why (docs/risk.md
# shows the reason). A disagreement not listed here fails tests/unit/test_edpb_examples.py.
KNOWN_DIFFERENCES: dict[int, str] = {}


def answer(example: Example) -> Assessment:
    return assess(parse_facts(example.facts))


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


TABLE_START = "<!-- edpb-01-2021:start (generated by `python -m tests.unit.edpb_examples --write`) -->"
TABLE_END = "<!-- edpb-01-2021:end -->"


def render_table() -> str:
    """docs/risk.md's table of the cases: the EDPB's answer beside the project's, as computed."""
    lines = ["| Case | What happened | EDPB: authority / people | EDPB side checked against | Project: level "
             "| Project: authority / people | Decided by | Same? |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for ex in EXAMPLES:
        got = answer(ex)
        same = (got.notify_authority, got.notify_data_subjects) == (ex.notify_authority, ex.notify_people)
        rule = got.factors[-1].params["rule"]
        lines.append(f"| {ex.number:02d} {ex.title} | {ex.summary} | {_yes(ex.notify_authority)} / "
                     f"{_yes(ex.notify_people)} | {ex.source} | {got.level} | {_yes(got.notify_authority)} / "
                     f"{_yes(got.notify_data_subjects)} | `{rule}` | "
                     + ("yes" if same else "no, see below") + " |")
    return "\n".join(lines)


def render_differences() -> str:
    if not KNOWN_DIFFERENCES:
        return "The project differs from the EDPB on no case."
    return "Where the project differs on purpose:\n\n" + "\n".join(
        f"- **Case {number:02d}**: {why}" for number, why in sorted(KNOWN_DIFFERENCES.items()))


def render_readings() -> str:
    return "How the cases were read into facts:\n\n" + "\n".join(
        f"- Case {ex.number:02d}: {ex.reading}" for ex in EXAMPLES if ex.reading)


def render_block() -> str:
    return "\n\n".join((TABLE_START, render_table(), render_differences(), render_readings(), TABLE_END))


DOC = Path(__file__).resolve().parents[2] / "docs" / "risk.md"


def doc_block(text: str) -> str:
    start, end = text.index(TABLE_START), text.index(TABLE_END) + len(TABLE_END)
    return text[start:end]


def main(argv: list[str]) -> int:
    if argv == ["--write"]:
        text = DOC.read_text()
        DOC.write_text(text.replace(doc_block(text), render_block()))
        return 0
    print(render_block())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
