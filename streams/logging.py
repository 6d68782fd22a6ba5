"""structlog set-up: JSON lines in production, readable lines on a terminal.

Log ids, counts and types, never personal data or notice bodies: the agents only ever
pass those as keyword values (see each agent), and faust/aiokafka logs go through the
same processors. As a second line of defence every line is redacted before it is written
(`redact`): values of keys that name personal data, and e-mail and IP addresses anywhere —
in messages of other libraries and inside formatted tracebacks too. A traceback keeps its
frames and exception types, but the message of an exception raised on data (ValueError,
KeyError, UnicodeError…: they quote the record — a user name, an alert title) is withheld
(`format_exc_withheld`); the network and I/O errors an SRE needs keep theirs, scrubbed.
"""

from __future__ import annotations

import logging
import re
import sys
import traceback
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog

from streams.settings import Settings

REDACTED = "[redacted]"
# Keys whose values are personal data whatever they hold.
PII_KEYS = frozenset({"email", "emails", "recipient", "recipients", "to", "cc", "bcc", "mail_from", "rcpt_tos",
                      "name", "full_name", "first_name", "last_name", "user", "username", "user_name", "phone",
                      "address", "ip", "src_ip", "source_ip", "client_ip", "subject", "body", "text", "html"})
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])")
# Four or more groups, or a '::': never a time of day such as 10:00:00, nor a port.
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){3,7}[0-9A-Fa-f]{1,4}(?![\w:])"
                   r"|(?<![\w:])(?=[0-9A-Fa-f:]*::)(?:[0-9A-Fa-f]{1,4}:){0,6}:(?::?[0-9A-Fa-f]{1,4}){1,7}(?![\w:])")


def scrub(text: str) -> str:
    return _IPV6.sub("[ip]", _IPV4.sub("[ip]", _EMAIL.sub("[email]", text)))


def _redact_value(key: str, value: Any) -> Any:
    if key.lower() in PII_KEYS and value not in (None, "", [], ()):
        return REDACTED
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {k: _redact_value(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_value("", v) for v in value]
    return value


def redact(logger: Any, method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor; runs after tracebacks are formatted, so it scrubs them as well."""
    for key in list(event_dict):
        if not key.startswith("_"):
            event_dict[key] = _redact_value(key, event_dict[key])
    return event_dict


# Exceptions whose message says what failed in the machine, not what was in a record.
_INFRASTRUCTURE_MODULES = ("aiokafka", "kafka", "faust", "mode", "aiosmtplib", "ssl", "asyncio", "concurrent")


def _message_kept(error: BaseException) -> bool:
    module = type(error).__module__.split(".")[0]
    return isinstance(error, OSError | TimeoutError) or module in _INFRASTRUCTURE_MODULES


def without_data(error: BaseException) -> str:
    """The traceback of ``error`` and its causes, frames and types only where the message may quote data."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        kind = type(current)
        name = kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
        message = str(current)
        last = (f"{name}: {message}" if message and _message_kept(current)
                else f"{name} (message withheld: {len(message)} characters that may quote a record)")
        parts.insert(0, "Traceback (most recent call last):\n" + "".join(traceback.format_tb(current.__traceback__))
                     + last + "\n")
        cause = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
        if cause is not None:
            parts.insert(0, "")  # keeps the order: causes first, as Python prints them
        current = cause
    return "\nThe above exception led to the following one:\n\n".join(p for p in parts if p)


def format_exc_withheld(logger: Any, method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor in place of ``format_exc_info``: see the module's docstring."""
    exc_info = event_dict.pop("exc_info", None)
    if exc_info:
        error = exc_info if isinstance(exc_info, BaseException) else (
            exc_info[1] if isinstance(exc_info, tuple) else sys.exc_info()[1])
        if error is not None:
            event_dict["exception"] = without_data(error)
    return event_dict


def configure_logging(settings: Settings, stream: TextIO | None = None) -> None:
    """``stream``: where lines go (standard error by default)."""
    as_json = settings.log_format == "json" or (settings.log_format == "auto" and not sys.stderr.isatty())
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if as_json else structlog.dev.ConsoleRenderer(colors=False)
    )
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    format_exc_withheld, redact, renderer],
    ))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    # An exception nothing caught would be printed whole on standard error (the worker's log):
    # through the same formatter instead.
    sys.excepthook = lambda kind, error, tb: logging.getLogger("breach").critical(
        "uncaught", exc_info=(kind, error, tb))
    root.setLevel(settings.log_level.upper())
    # aiosmtpd's "mail.log" writes envelope addresses at INFO: personal data, never logged.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    for chatty in ("aiokafka", "faust", "mode"):
        logging.getLogger(chatty).setLevel(max(root.level, logging.WARNING))
