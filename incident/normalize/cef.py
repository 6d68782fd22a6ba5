"""ArcSight Common Event Format, with or without a syslog prefix (RFC 3164 or RFC 5424).

    [syslog prefix] CEF:Version|Device Vendor|Device Product|Device Version|Signature ID|Name|Severity|Extension

Written here rather than taken from PyPI: ``pycef`` breaks on an escaped ``\\|`` in the
header (research/ecosystem.md §1.1). Escapes follow the implementation standard: in the
header ``\\|`` and ``\\\\``; in the extension ``\\=``, ``\\\\``, ``\\n`` and ``\\r``. An
unknown escape (``NTAUTHORITY\\SYSTEM``) is kept as written, as vendors emit it.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from datetime import datetime

from incident.errors import InvalidEvent
from incident.normalize._fields import MAX_TEXT, fingerprint, instant, int_at, text_at
from incident.normalize.cef_time import UTC_ASSUMED, cef_time
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
# What vendors write where a user name is not known: no user, rather than a user named "n/a".
_NO_USER = frozenset({"", "-", "n/a", "na", "none", "null", "unknown", "(no user)", "multiple"})


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
    if "\\" not in value:
        return value  # most values escape nothing: no walk over their characters
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


def _unquote(value: str) -> str:
    """CyberArk and others wrap values in double quotes (act="Logon"): the value is inside."""
    if len(value) >= 2 and value[0] == value[-1] == '"' and '"' not in value[1:-1]:
        return value[1:-1]
    return value


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
        out[match[1]] = _unquote(_unescape(text[match.end():end].rstrip()))
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


def _occurred(cef: Cef, received_at: datetime) -> tuple[datetime, tuple[str, ...]]:
    """The event time and the tags that say how sure it is (cef_time, time:received)."""
    for key in ("rt", "end", "start"):
        if cef.extension.get(key):
            when, assumed = cef_time(cef.extension[key], key, received_at, cef.extension.get("dtz"))
            return when, (UTC_ASSUMED,) if assumed else ()
    if cef.syslog_rfc == 5424 and cef.syslog_time and cef.syslog_time != "-":
        return instant(cef.syslog_time, "syslog timestamp"), ()
    # An RFC 3164 prefix has no year and no zone: rather than guess them, the event time is
    # the moment the record reached us, and the event says so (tag "time:received").
    return received_at, ("time:received",)


def _internal(address: str | None) -> bool:
    """A private (RFC 1918, ULA…) address: one of the controller's own systems, not the Internet."""
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return False
    return ip.is_private and not (ip.is_loopback or ip.is_unspecified or ip.is_link_local)


def _asset(cef: Cef) -> str:
    """The device that logged the record; failing that, the side of the flow that is internal
    (an outbound alert names the controller's host as its source, not the Internet address)."""
    ext = cef.extension
    device = text_at(ext, "dvchost", "dvc") or cef.syslog_host
    if device:
        return device
    destination, source = text_at(ext, "dst", "c6a3"), text_at(ext, "src", "c6a2")
    if not _internal(destination) and _internal(source):
        return text_at(ext, "shost") or source or _no_asset()
    return text_at(ext, "dhost") or destination or _no_asset()


def _user(ext: dict[str, str]) -> str | None:
    for key in ("suser", "duser"):
        value = text_at(ext, key)
        if value is not None and value.strip().lower() not in _NO_USER:
            return value
    return None


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
    occurred, time_tags = _occurred(cef, received_at)
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
        asset=_asset(cef),
        severity=_severity(header["severity"]),
        category=text_at(ext, "cat"),
        rule_id=header["signature_id"].strip() or None,
        user=_user(ext),
        source_ip=text_at(ext, "src", "c6a2"),
        destination_ip=text_at(ext, "dst", "c6a3"),
        action=text_at(ext, "act"),
        outcome=_outcome(text_at(ext, "outcome", "categoryOutcome")),
        bytes_out=int_at(ext, "out"),
        destination_domain=text_at(ext, "dhost"),
        tags=time_tags,
        source_port=int_at(ext, "spt", high=65535),
        destination_port=int_at(ext, "dpt", high=65535),
        observer_vendor=header["device_vendor"].strip()[:MAX_TEXT] or None,
        observer_product=header["device_product"].strip()[:MAX_TEXT] or None,
        file_name=text_at(ext, "fname"),
    )


def _no_asset() -> str:
    raise InvalidEvent("missing field 'dvchost' (nor dvc, a syslog host, dhost or dst): no asset to attribute")
