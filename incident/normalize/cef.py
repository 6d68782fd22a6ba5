"""ArcSight Common Event Format, with or without a syslog prefix (RFC 3164 or RFC 5424).

    [syslog prefix] CEF:Version|Device Vendor|Device Product|Device Version|Signature ID|Name|Severity|Extension

Written here rather than taken from PyPI: ``pycef`` breaks on an escaped ``\\|`` in the
header (research/ecosystem.md §1.1). Escapes follow the implementation standard: in the
header ``\\|`` and ``\\\\``; in the extension ``\\=``, ``\\\\``, ``\\n`` and ``\\r``. An
unknown escape (``NTAUTHORITY\\SYSTEM``) is kept as written, as vendors emit it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from incident.errors import InvalidEvent
from incident.normalize._fields import MAX_TEXT, epoch_millis, fingerprint, instant, int_at, text_at
from incident.signals import SecurityEvent

HEADER = ("version", "device_vendor", "device_product", "device_version", "signature_id", "name", "severity")
SEVERITY_NAMES = {"unknown": 0, "low": 2, "medium": 3, "high": 4, "very-high": 5}
MAX_LINE = 65_536

_RFC5424 = re.compile(r"<\d{1,3}>1 (?P<time>\S+) (?P<host>\S+) ")
_RFC3164 = re.compile(r"(?:<\d{1,3}>)?(?P<time>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) (?P<host>\S+) ")
# A key is a run of word characters (and . [ ] -) after whitespace, directly before "=".
# "\=" inside a value is preceded by a backslash, so it never starts a key.
_KEY = re.compile(r"(?:^|(?<=\s))([A-Za-z0-9_.\[\]-]+)=")
_EXT_ESCAPES = {"=": "=", "\\": "\\", "n": "\n", "r": "\r", "|": "|"}
_RT_TEXT = re.compile(r"(?P<when>[A-Z][a-z]{2} \d{1,2} \d{4} \d\d:\d\d:\d\d(?:\.\d{1,6})?) "
                      r"(?:GMT|UTC)(?P<offset>[+-]\d\d:\d\d)?")


@dataclass(frozen=True, slots=True)
class Cef:
    """One parsed CEF line: the seven header fields, the extension and the syslog prefix."""

    header: dict[str, str]
    extension: dict[str, str] = field(default_factory=dict)
    syslog_time: str | None = None
    syslog_host: str | None = None
    syslog_rfc: int | None = None  # 3164 or 5424


def is_cef(text: str) -> bool:
    return "CEF:" in text[:1024]


def decode(line: str) -> Cef:
    """Split a CEF line (with any syslog prefix) into its parts; InvalidEvent names what is wrong."""
    if len(line) > MAX_LINE:
        raise InvalidEvent(f"CEF line is longer than {MAX_LINE} characters")
    start = line.find("CEF:")
    if start < 0:
        raise InvalidEvent("not a CEF line: no 'CEF:' marker")
    prefix, body = line[:start], line[start + 4:].rstrip("\r\n")
    header, rest = _header(body)
    syslog = _RFC5424.match(prefix) or _RFC3164.match(prefix)
    return Cef(header=header, extension=_extension(rest),
               syslog_time=syslog["time"] if syslog else None, syslog_host=syslog["host"] if syslog else None,
               syslog_rfc=(5424 if syslog.re is _RFC5424 else 3164) if syslog else None)


def _header(body: str) -> tuple[dict[str, str], str]:
    fields: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(body) and len(fields) < len(HEADER):
        char = body[i]
        if char == "\\" and i + 1 < len(body) and body[i + 1] in "|\\":
            current.append(body[i + 1])
            i += 2
            continue
        if char == "|":
            fields.append("".join(current))
            current = []
        else:
            current.append(char)
        i += 1
    if len(fields) < len(HEADER):
        raise InvalidEvent(f"CEF header has {len(fields)} of its 7 fields "
                           "(Version|Device Vendor|Device Product|Device Version|Signature ID|Name|Severity|)")
    header = dict(zip(HEADER, fields, strict=True))
    if not header["version"].strip().isdigit():
        raise InvalidEvent(f"CEF header field 'version' must be a number, got {header['version'][:10]!r}")
    return header, body[i:]


def _unescape(value: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(value):
        if value[i] == "\\" and i + 1 < len(value) and value[i + 1] in _EXT_ESCAPES:
            out.append(_EXT_ESCAPES[value[i + 1]])
            i += 2
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


def _extension(text: str) -> dict[str, str]:
    text = text.strip()
    keys = list(_KEY.finditer(text))
    if text and not keys:
        raise InvalidEvent("CEF extension holds no key=value pair")
    if keys and text[:keys[0].start()].strip():
        raise InvalidEvent("CEF extension must start with key=value")
    out: dict[str, str] = {}
    for n, match in enumerate(keys):
        end = keys[n + 1].start() if n + 1 < len(keys) else len(text)
        out[match[1]] = _unescape(text[match.end():end].rstrip())
    # csNLabel=Reason cs1=… becomes Reason=… as well, so the vendor's own names can be read.
    for key in [k for k in out if k.endswith("Label")]:
        base, label = key[: -len("Label")], out[key]
        if base in out and label and label not in out:
            out[label] = out[base]
    return out


def _severity(value: str) -> int:
    value = value.strip()
    if value.isdigit() and int(value) <= 10:
        level = int(value)
        return 2 if level <= 3 else 3 if level <= 6 else 4 if level <= 8 else 5
    if value.lower() in SEVERITY_NAMES:
        return SEVERITY_NAMES[value.lower()]
    raise InvalidEvent("CEF header field 'severity' must be 0-10 or Unknown, Low, Medium, High, Very-High")


def _rt(value: str, name: str) -> datetime:
    if value.isdigit():
        return epoch_millis(value, name)
    text = _RT_TEXT.fullmatch(value)
    if text:
        try:
            stamp = f"{text['when']} {text['offset'] or '+00:00'}"  # "GMT"/"UTC" alone is +00:00
            if "." in text["when"]:
                return datetime.strptime(stamp, "%b %d %Y %H:%M:%S.%f %z")
            return datetime.strptime(stamp, "%b %d %Y %H:%M:%S %z")
        except ValueError:
            raise InvalidEvent(f"CEF extension '{name}' is not a valid time: {value[:40]!r}") from None
    return instant(value, name)


def _occurred(cef: Cef, received_at: datetime) -> tuple[datetime, bool]:
    """The event time and whether it was only the time the record reached us."""
    for key in ("rt", "end", "start"):
        if cef.extension.get(key):
            return _rt(cef.extension[key], key), False
    if cef.syslog_rfc == 5424 and cef.syslog_time and cef.syslog_time != "-":
        return instant(cef.syslog_time, "syslog timestamp"), False
    # An RFC 3164 prefix has no year and no zone: rather than guess them, the event time is
    # the moment the record reached us, and the event says so (tag "time:received").
    return received_at, True


def _outcome(value: str | None) -> str | None:
    if value is None:
        return None
    word = value.strip("/ ").lower()
    return "success" if word.startswith("succe") else "failure" if word.startswith("fail") else "unknown"


def parse(line: object, received_at: datetime) -> SecurityEvent:
    if not isinstance(line, str):
        raise InvalidEvent("expected a CEF line (text)")
    cef = decode(line)
    header, ext = cef.header, cef.extension
    occurred, received_only = _occurred(cef, received_at)
    name = header["name"].strip()
    if not name:
        raise InvalidEvent("CEF header field 'name' is empty")
    if len(name) > MAX_TEXT:
        raise InvalidEvent(f"CEF header field 'name' is longer than {MAX_TEXT} characters")
    return SecurityEvent(
        event_id=text_at(ext, "externalId") or fingerprint("cef", line),
        source_format="cef",
        title=name,
        occurred_at=occurred,
        ingested_at=received_at,
        asset=text_at(ext, "dvchost", "dvc") or cef.syslog_host or text_at(ext, "dhost", "dst") or _no_asset(),
        severity=_severity(header["severity"]),
        category=text_at(ext, "cat"),
        rule_id=header["signature_id"].strip() or None,
        user=text_at(ext, "suser", "duser"),
        source_ip=text_at(ext, "src", "c6a2"),
        destination_ip=text_at(ext, "dst", "c6a3"),
        action=text_at(ext, "act"),
        outcome=_outcome(text_at(ext, "outcome")),
        bytes_out=int_at(ext, "out"),
        destination_domain=text_at(ext, "dhost"),
        tags=("time:received",) if received_only else (),
        source_port=int_at(ext, "spt", high=65535),
        destination_port=int_at(ext, "dpt", high=65535),
        observer_vendor=header["device_vendor"].strip()[:MAX_TEXT] or None,
        observer_product=header["device_product"].strip()[:MAX_TEXT] or None,
        file_name=text_at(ext, "fname"),
    )


def _no_asset() -> str:
    raise InvalidEvent("missing field 'dvchost' (nor dvc, a syslog host, dhost or dst): no asset to attribute")
