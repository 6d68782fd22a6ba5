"""structlog set-up: JSON lines in production, readable lines on a terminal.

Log ids, counts and types, never personal data or notice bodies: the agents only ever
pass those as keyword values (see each agent), and faust/aiokafka logs go through the
same processors. As a second line of defence every line is redacted before it is written
(`redact`): values of keys that name personal data, and e-mail and IP addresses anywhere —
in messages of other libraries and inside formatted tracebacks too, whose exception
messages may quote a record.
"""

from __future__ import annotations

import logging
import re
import sys
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
                    structlog.processors.format_exc_info, redact, renderer],
    ))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    # aiosmtpd's "mail.log" writes envelope addresses at INFO: personal data, never logged.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    for chatty in ("aiokafka", "faust", "mode"):
        logging.getLogger(chatty).setLevel(max(root.level, logging.WARNING))
