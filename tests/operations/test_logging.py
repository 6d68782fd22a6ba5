"""JSON logs with personal data redacted: keys that name it, e-mail and IP addresses anywhere,
also in other libraries' messages and inside formatted tracebacks."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from streams.logging import configure_logging, scrub
from streams.settings import load_settings


@pytest.fixture
def json_logs() -> Iterator[Any]:
    root = logging.getLogger()
    handlers, level, hook = root.handlers[:], root.level, sys.excepthook
    out = io.StringIO()
    configure_logging(load_settings({}, log_format="json", log_level="info"), stream=out)

    def lines() -> list[dict[str, Any]]:
        return [json.loads(line) for line in out.getvalue().splitlines()]

    yield lines
    root.handlers[:], root.level, sys.excepthook = handlers, level, hook
    structlog.reset_defaults()


def test_keys_that_name_personal_data_are_redacted_and_ids_are_kept(json_logs: Any) -> None:
    structlog.get_logger("breach.test").info("notice.sent", incident_id="inc-42", recipient="alice@example.org",
                                             src_ip="203.0.113.9", name="Alice Martin", recipient_index=0)
    [line] = json_logs()
    assert (line["event"], line["incident_id"], line["recipient_index"]) == ("notice.sent", "inc-42", 0)
    assert line["recipient"] == line["src_ip"] == line["name"] == "[redacted]"


def test_addresses_inside_any_value_are_scrubbed(json_logs: Any) -> None:
    structlog.get_logger("breach.test").warning(
        "event.rejected", reason="unknown user bob@corp.example from 198.51.100.7 and 2001:db8::1",
        at="2026-11-22T10:00:00+01:00", nested={"who": ["carol@example.net"]})
    [line] = json_logs()
    assert line["reason"] == "unknown user [email] from [ip] and [ip]"
    assert line["at"] == "2026-11-22T10:00:00+01:00"  # times survive
    assert line["nested"] == {"who": ["[email]"]}


RECORD = {"title": "Logon of jdupont on crm-db", "user": "jdupont"}  # what a SIEM sent


def test_a_traceback_keeps_its_frames_and_withholds_what_a_data_error_quotes(json_logs: Any) -> None:
    def parse(record: dict[str, str]) -> None:
        try:
            int(record["title"])
        except ValueError as error:
            raise KeyError(f"no user in {record}") from error

    try:
        parse(RECORD)
    except KeyError:
        structlog.get_logger("breach.test").exception("command.failed", incident_id="inc-7")
    [line] = json_logs()
    trace = line["exception"]
    assert trace.count("Traceback (most recent call last)") == 2 and "in parse" in trace
    assert trace.index("ValueError (message withheld") < trace.index("KeyError (message withheld")
    assert "jdupont" not in json.dumps(line) and "Logon" not in json.dumps(line)


def test_an_uncaught_exception_goes_through_the_same_formatter(json_logs: Any) -> None:
    try:
        int(RECORD["title"])
    except ValueError as error:
        sys.excepthook(type(error), error, error.__traceback__)
    [line] = json_logs()
    assert (line["event"], line["level"]) == ("uncaught", "critical")
    assert "ValueError (message withheld" in line["exception"] and "jdupont" not in json.dumps(line)


def test_other_libraries_log_lines_go_through_the_same_redaction(json_logs: Any) -> None:
    try:
        raise ConnectionError("refused by mx for erin@example.org")
    except ConnectionError:
        logging.getLogger("aiokafka").error("lost %s at %s", "frank@example.org", "10.0.0.8", exc_info=True)
    [line] = json_logs()
    assert line["event"] == "lost [email] at [ip]" and line["logger"] == "aiokafka"
    assert "[email]" in line["exception"] and "erin@" not in line["exception"]


@pytest.mark.parametrize(("text", "expected"), [
    ("10:00:00", "10:00:00"),
    ("version 1.2.3", "version 1.2.3"),
    ("fe80::1%eth0", "[ip]%eth0"),
    ("2001:0db8:85a3:0000:0000:8a2e:0370:7334", "[ip]"),
    ("security-events:3:1042", "security-events:3:1042"),
    ("<notice-1.abc@breach-response>", "<notice-1.abc@breach-response>"),
    ("x.y@mail.example.co.uk", "[email]"),
    ("kafka://127.0.0.1:9092", "kafka://[ip]:9092"),
    ("listening on :8080", "listening on :8080"),
    ("[2001:db8::7]:443", "[[ip]]:443"),
])
def test_scrub_takes_addresses_and_leaves_times_refs_and_versions(text: str, expected: str) -> None:
    assert scrub(text) == expected
