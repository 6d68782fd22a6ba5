"""incident-events: NoticeRequested → render → send to each recipient → RecordDelivery command;
SubjectNoticeRequested → fan-out to every affected person (streams/agents/deliver.py).

A reaction, not a decision: failures become failed deliveries on the incident (with a
reason a person can act on), and the stream moves on.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import faust
import jinja2
import structlog

from incident.commands import RecordDelivery
from incident.events import NoticeRequested, ReminderDue, SubjectNoticeRequested
from incident.notices import NoticeDraft, reference
from incident.reminders import TRIAGE_REF, TRIAGE_REF_FR
from streams import metrics
from streams.deps import Deps
from streams.kafka import codec
from streams.kafka.dlq import dead_letter, letter_key
from streams.kafka.topics import INCIDENT_EVENTS_DLQ, Tables, Topics
from streams.mail.mailer import Disposition, MailError, OutgoingMessage, message_id_for
from streams.mail.render import TemplateMissing
from streams.oncall.pager import language

log = structlog.get_logger("breach.notify")
# What one event may raise that no retry can mend (an SMTP outage is retried, not listed here).
READ_OR_RENDER_ERRORS = (codec.DecodeError, jinja2.TemplateError, TemplateMissing, LookupError, TypeError,
                         ValueError, ArithmeticError)

MAX_BACKOFF = 30.0  # seconds between two attempts while the relay is unreachable
SENDING = "sending:"  # a ledger value: handed to the relay at that time, its answer not recorded yet
IN_DOUBT = ("in doubt: a worker stopped between handing this message to the SMTP relay and recording its "
            "answer; check the mailbox before sending it again")


async def _nothing() -> None:
    """No broker to flush (benchmarks and tests with a plain dict as the ledger)."""


def register(app: faust.App, topics: Topics, tables: Tables, deps: Deps,
             fan_out: Callable[[SubjectNoticeRequested], Awaitable[int]] | None = None) -> None:
    durable = app.producer.flush  # table writes are buffered: this puts them on the broker

    @app.agent(topics.events, name="notify")
    async def notify(stream: Any) -> None:
        async for event_record in stream.events():
            raw = event_record.value
            try:
                await act_on(codec.decode(raw))
            except READ_OR_RENDER_ERRORS as exc:
                # This event's failure alone (an unreadable record, a reminder whose template
                # fails): kept with its reason, and the next events are still acted on. An SMTP
                # outage is not one of these: sending retries, then records the failure.
                msg = event_record.message
                ref = f"{msg.topic}:{msg.partition}:{msg.offset}"
                reason = f"could not be acted on: {type(exc).__name__}"
                await topics.events_dlq.send(key=letter_key(msg.key), value=dead_letter(
                    raw, reason, ref, deps.clock(), stage="notify"))
                metrics.dead_letter(INCIDENT_EVENTS_DLQ, reason)
                log.error("event.not_acted_on", source=ref, error=type(exc).__name__)

    async def act_on(event: Any) -> None:
        if isinstance(event, SubjectNoticeRequested) and fan_out is not None:
            await _fan_out(event, fan_out)
        elif isinstance(event, ReminderDue):
            await remind(event, deps, tables.ledger, durable)
        elif isinstance(event, NoticeRequested):
            for command in await deliver(event.incident_id, event.draft, deps, tables.ledger, durable):
                await topics.commands.send(key=command.incident_id.encode(), value=codec.encode(command))


async def _fan_out(event: SubjectNoticeRequested, fan_out: Callable[[SubjectNoticeRequested], Awaitable[int]],
                   ) -> None:
    """A failed fan-out leaves the notice pending (shown by `breach notices status`); replaying
    the event fans out again and the delivery ledger skips whoever was already sent to."""
    try:
        await fan_out(event)
    except (jinja2.TemplateError, TemplateMissing, ValueError, TimeoutError, MailError) as exc:
        log.error("notice.fan_out_failed", incident_id=event.incident_id, notice_id=event.notice_id,
                  error=type(exc).__name__, detail=str(exc) if isinstance(exc, TimeoutError) else None)


async def remind(event: ReminderDue, deps: Deps, ledger: MutableMapping[str, Any],
                 durable: Callable[[], Awaitable[None]] = _nothing) -> None:
    """E-mail the on-call rota (or the controller's DPO) that a deadline step is reached."""
    profile = deps.directory.profiles.get(event.controller or "")
    if deps.webhook is not None:
        error = await deps.webhook.post({
            "type": "breach.reminder", "incident_id": event.incident_id, "reference": reference(event.incident_id),
            "controller": event.controller, "obligation": event.rule_ref, "legal_ref": event.legal_ref,
            "deadline": event.deadline.isoformat(), "step": event.step, "skipped": list(event.skipped),
            "url": f"{deps.console_url}/incidents/{event.incident_id}"})
        log.info("reminder.webhook", incident_id=event.incident_id, step=event.step, error=error)
    recipients = deps.oncall or ((profile.dpo.email,) if profile else ())
    if not recipients:
        log.warning("reminder.no_recipient", incident_id=event.incident_id, step=event.step)
        return
    # The on-call team reads the controller's language, as the pages they get (streams/oncall/pager.py).
    lang = language(profile.languages if profile else (), deps, kind="reminder")
    french = lang == "fr"
    legal_ref = TRIAGE_REF_FR if french and event.legal_ref == TRIAGE_REF else event.legal_ref
    context = {
        "notice": {"reader_tz": profile.timezone if profile else "UTC"},
        "reminder": {"step": event.step, "skipped": list(event.skipped), "legal_ref": legal_ref,
                     "deadline": event.deadline.isoformat(), "overdue": event.step == "overdue"},
        "incident": {"id": event.incident_id, "reference": reference(event.incident_id),
                     "url": f"{deps.console_url}/incidents/{event.incident_id}"},
        "controller": {"name": profile.name if profile else "an unmapped asset"},
    }
    rendered = deps.renderer.render(regime="internal", locale=lang, kind="reminder", context=context)
    notice_id = f"reminder-{event.incident_id}-{event.rule_ref}-{event.step}"
    for index, recipient in enumerate(recipients):
        message = OutgoingMessage(message_id=message_id_for(notice_id, recipient), recipient=recipient,
                                  subject=rendered.subject, text=rendered.text, html=rendered.html,
                                  notice_id=notice_id)
        error = await _send_once(message, deps, ledger, durable)
        metrics.REMINDERS.labels(outcome="sent" if error is None else "failed").inc()
        log.info("reminder.sent" if error is None else "reminder.failed", incident_id=event.incident_id,
                 step=event.step, rule=event.rule_ref, recipient_index=index, error=error)


async def deliver(incident_id: str, draft: NoticeDraft, deps: Deps, ledger: MutableMapping[str, Any],
                  durable: Callable[[], Awaitable[None]] = _nothing) -> list[RecordDelivery]:
    """Render once, send to each recipient; one RecordDelivery per recipient, sent or failed."""
    try:
        rendered = deps.renderer.render(regime=draft.regime, locale=draft.locale, kind=draft.kind,
                                        context=draft.context)
    except (jinja2.TemplateError, TemplateMissing, ValueError) as exc:
        reason = f"render failed: {type(exc).__name__}: {exc}"
        log.error("notice.render_failed", incident_id=incident_id, notice_id=draft.notice_id, kind=draft.kind,
                  error=type(exc).__name__)
        return [RecordDelivery(incident_id=incident_id, notice_id=draft.notice_id, recipient=r, delivered=False,
                               message_id="", detail=reason) for r in draft.recipients]
    results = []
    for index, recipient in enumerate(draft.recipients):
        message = OutgoingMessage(message_id=message_id_for(draft.notice_id, recipient), recipient=recipient,
                                  subject=rendered.subject, text=rendered.text, html=rendered.html,
                                  notice_id=draft.notice_id)
        error = await _send_once(message, deps, ledger, durable)
        results.append(RecordDelivery(incident_id=incident_id, notice_id=draft.notice_id, recipient=recipient,
                                      delivered=error is None, message_id=message.message_id,
                                      detail=error or "accepted by the SMTP server"))
        metrics.NOTICES.labels(kind=draft.kind, outcome="sent" if error is None else "failed").inc()
        log.info("notice.sent" if error is None else "notice.failed", incident_id=incident_id,
                 notice_id=draft.notice_id, kind=draft.kind, recipient_index=index, error=error)
    return results


async def _send_once(message: OutgoingMessage, deps: Deps, ledger: MutableMapping[str, Any],
                     durable: Callable[[], Awaitable[None]]) -> str | None:
    """Send unless the ledger knows this Message-ID: a replayed event (restart, rebalance) never
    mails twice. The intent is recorded, and on the broker, before the relay sees the message;
    a message left "sending" by a crashed worker is in doubt and not sent again on its own (the
    incident records why), since the relay may have accepted it."""
    seen = ledger.get(message.message_id)
    if seen is not None:
        if str(seen).startswith(SENDING):
            log.warning("delivery.in_doubt", notice_id=message.notice_id)
            return IN_DOUBT
        log.info("delivery.already_sent", notice_id=message.notice_id)
        return None
    ledger[message.message_id] = SENDING + deps.clock().isoformat()
    await durable()
    error = await _send_with_retries(message, deps)
    if error is None:
        ledger[message.message_id] = deps.clock().isoformat()
    else:
        del ledger[message.message_id]  # never accepted: a later replay may try again
    return error


send_once = _send_once  # the page agent sends its e-mails the same way (streams/agents/page.py)


async def _send_with_retries(message: OutgoingMessage, deps: Deps) -> str | None:
    """A refused message fails at once; a relay that cannot be reached is tried again, with
    back-off, for at least ``send_attempts`` attempts and ``retry_seconds`` (an outage of the
    relay delays the notices of this partition, it does not lose them)."""
    delay = deps.retry_delay
    give_up_at = time.monotonic() + deps.retry_seconds
    attempt = 0
    while True:
        attempt += 1
        try:
            await deps.mailer.send(message)
            return None
        except MailError as exc:
            out_of_time = attempt >= deps.send_attempts and time.monotonic() + delay > give_up_at
            if exc.disposition is Disposition.PERMANENT or out_of_time:
                return f"{exc.reason} ({exc.disposition.value}, attempt {attempt})"
            log.warning("notice.retry", notice_id=message.notice_id, attempt=attempt, reason=exc.reason)
            await asyncio.sleep(delay)  # back-off before the next attempt, not a wait for a result
            delay = min(delay * 2, MAX_BACKOFF)
