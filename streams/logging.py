"""structlog set-up: JSON lines in production, readable lines on a terminal.

Log ids, counts and types, never personal data or notice bodies: the agents only ever
pass those as keyword values (see each agent), and faust/aiokafka logs go through the
same processors.
"""

from __future__ import annotations

import logging
import sys

import structlog

from streams.settings import Settings


def configure_logging(settings: Settings) -> None:
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
    handler = logging.StreamHandler()
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    ))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    # aiosmtpd's "mail.log" writes envelope addresses at INFO: personal data, never logged.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    for chatty in ("aiokafka", "faust", "mode"):
        logging.getLogger(chatty).setLevel(max(root.level, logging.WARNING))
