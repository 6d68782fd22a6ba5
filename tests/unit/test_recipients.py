"""Lists of affected people: CSV and JSONL, every bad line reported by number, never fatal."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incident.recipients import Invalid, Recipient, address_problem, parse


def test_csv_with_header_names_and_languages() -> None:
    text = "Email,Name,Language\nann@example.org,Ann Dupont,fr-FR\nbob@example.org,,\n"
    result = parse(text, fmt="csv", default_locale="en")
    assert result.recipients == (Recipient("ann@example.org", "Ann Dupont", "fr"),
                                 Recipient("bob@example.org", "", "en"))
    assert result.invalid == ()


def test_bad_lines_are_reported_by_number_without_the_address_and_the_rest_is_kept() -> None:
    text = ("address,name,language\n"
            "ok@example.org,Ok,en\n"
            "not-an-address,X,en\n"
            "\"multi\n@example.org\",Y,en\n"
            "OK@example.org,Again,en\n"
            "z@example.org,Z,klingon!\n"
            "w@example.org,W,en,extra\n"
            "last@example.org,Last,fr\n")
    result = parse(text, fmt="csv", default_locale="en")
    assert [r.address for r in result.recipients] == ["ok@example.org", "last@example.org"]
    assert [i.line for i in result.invalid] == [3, 4, 6, 7, 8]
    assert result.invalid[2] == Invalid(6, "duplicate of line 2")
    for invalid in result.invalid:
        assert "example.org" not in invalid.reason and "not-an-address" not in invalid.reason


def test_a_csv_without_an_address_column_says_so() -> None:
    result = parse("mail,name\na@b.example,A\n", fmt="csv", default_locale="en")
    assert result.recipients == () and result.invalid[0].line == 1 and "address" in result.invalid[0].reason


def test_jsonl() -> None:
    text = ('{"address": "a@example.org", "name": "A", "language": "en"}\n'
            "\n"
            "{not json\n"
            '["a list"]\n'
            '{"email": "b@example.org", "name": 7}\n'
            '{"email": "c@example.org", "locale": "FR"}\n')
    result = parse(text, fmt="jsonl", default_locale="en")
    assert [(r.address, r.locale) for r in result.recipients] == [("a@example.org", "en"), ("c@example.org", "fr")]
    assert [i.line for i in result.invalid] == [3, 4, 5]


def test_a_name_is_one_line_whatever_the_file_holds() -> None:
    text = '{"address": "a@example.org", "name": "Ann\\r\\nBcc: all@evil.example\\u2028x"}\n'
    (recipient,) = parse(text, fmt="jsonl", default_locale="en").recipients
    assert recipient.name == "Ann Bcc: all@evil.example x"


@pytest.mark.parametrize("address", ["a@b", "a b@c.org", "a@@b.org", ".a@b.org", "a..b@c.org", "a@-b.org",
                                     "a@b.123", "a@b.org\r\nBcc: x@y.org", "", "x" * 65 + "@b.org",
                                     "a@" + "b" * 250 + ".org"])
def test_undeliverable_addresses(address: str) -> None:
    assert address_problem(address) is not None


@pytest.mark.parametrize("address", ["a@b.org", "first.last+tag@sub.example.co.uk", "o'neil@example.ie",
                                     "a@xn--caf-dma.fr", "a@café.fr"])
def test_deliverable_addresses(address: str) -> None:
    assert address_problem(address) is None


@given(st.text(max_size=80))
def test_any_text_is_an_answer_never_a_crash(text: str) -> None:
    for fmt in ("csv", "jsonl"):
        result = parse(text, fmt=fmt, default_locale="en")
        for recipient in result.recipients:
            assert address_problem(recipient.address) is None
            assert "\n" not in recipient.name and "\r" not in recipient.name
