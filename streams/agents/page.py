"""incident-events: Paged → the on-call team's e-mail and webhooks (streams/oncall/pager.py).

A reaction, not a decision, beside the notify agent on the same topic (a webhook that hangs
does not hold up the notices). A page a channel could not take after its retries is
dead-lettered on incident-events.dlq with the reasons (stage "page"), counted and logged; the
incident's repeats go on until someone acknowledges it.
"""

from __future__ import annotations

from typing import Any

import faust
import structlog

from incident.events import Paged
from streams import metrics
from streams.agents.notify import send_once
from streams.deps import Deps
from streams.kafka import codec
from streams.kafka.dlq import dead_letter, letter_key
from streams.kafka.topics import INCIDENT_EVENTS_DLQ, Tables, Topics
from streams.mail.mailer import OutgoingMessage
from streams.oncall.pager import send

log = structlog.get_logger("breach.page")
_PAGED = b'"type":"Paged"'  # most events are not pages: skip them without decoding


def register(app: faust.App, topics: Topics, tables: Tables, deps: Deps) -> None:
    pager = deps.pager
    if pager is None:
        return
    durable = app.producer.flush  # the ledger's intent is on the broker before a channel is paged

    async def send_mail(message: OutgoingMessage) -> str | None:
        return await send_once(message, deps, tables.ledger, durable)

    @app.agent(topics.events, name="page")
    async def page(stream: Any) -> None:
        async for event_record in stream.events():
            raw = event_record.value
            if _PAGED not in raw[:64]:
                continue
            try:
                event = codec.decode(raw)
            except codec.DecodeError:
                continue  # the notify agent dead-letters what it cannot read
            if not isinstance(event, Paged):
                continue
            failures = await send(event, deps, pager, tables.ledger, durable, send_mail)
            if failures:
                msg = event_record.message
                ref = f"{msg.topic}:{msg.partition}:{msg.offset}"
                reason = f"page not delivered: {'; '.join(failures)}"
                await topics.events_dlq.send(key=letter_key(msg.key), value=dead_letter(
                    raw, reason, ref, deps.clock(), stage="page"))
                metrics.dead_letter(INCIDENT_EVENTS_DLQ, reason)
                log.error("page.dead_lettered", incident_id=event.incident_id, page_id=event.page.page_id,
                          repeat=event.repeat, source=ref, reason=reason)
