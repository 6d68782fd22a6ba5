"""Notices to the people affected, from outside the worker (CLI, tests): import a list, preview,
approve, read bounces, report status. The worker does the sending (streams/agents/deliver.py).

Personal data of recipients: addresses and names go to ``affected-subjects`` and
``notice-deliveries`` only (kept ``BREACH_SUBJECTS_RETENTION_DAYS``), never to the incident's
history (counts only), never to a log. Invalid lines are reported by number and reason.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from email.message import Message
from typing import Any

from aiokafka import AIOKafkaProducer

from incident.commands import RecordSubjects, SendSubjectNotice
from incident.model import Incident, SubjectNotice
from incident.notices import DATA_SUBJECT_NOTICE, subject_notice_context, subject_notice_id
from incident.profiles import Profile
from incident.recipients import RecipientList, parse
from streams.agents.deliver import body_locale, delivery_key, read_subjects, subject_chunks
from streams.kafka.command_signing import Keyring
from streams.kafka.commands_out import CommandSender
from streams.kafka.topics import AFFECTED_SUBJECTS, NOTICE_DELIVERIES
from streams.mail.render import NoticeRenderer, RenderedNotice

_OUR_MESSAGE_ID = re.compile(r"<([0-9a-f-]{36})\.[0-9a-f]{16}@breach-response>")


def list_id_for(incident_id: str, data: bytes) -> str:
    """The same file imported twice for one incident is one list."""
    return str(uuid.uuid5(uuid.UUID(incident_id), "subjects:" + hashlib.sha256(data).hexdigest()))


def format_of(path: str) -> str:
    return "jsonl" if path.lower().endswith((".jsonl", ".ndjson", ".json")) else "csv"


@dataclass(frozen=True)
class Imported:
    list_id: str
    parsed: RecipientList


def _read(incident_id: str, data: bytes, fmt: str, default_locale: str) -> tuple[RecipientList, str, list[bytes]]:
    """A list of people parsed, its id, and the records that carry its valid recipients."""
    parsed = parse(data.decode("utf-8-sig"), fmt=fmt, default_locale=default_locale)
    list_id = list_id_for(incident_id, data)
    recipients = [{"address": r.address, "name": r.name, "locale": r.locale} for r in parsed.recipients]
    return parsed, list_id, subject_chunks(incident_id, list_id, recipients) if recipients else []


async def import_subjects(bootstrap: str, incident_id: str, data: bytes, *, fmt: str, default_locale: str,
                          by: str, keys: Keyring, **security: Any) -> Imported:
    """Parse, publish the valid recipients (in chunks keyed by incident), then tell the incident.
    ``keys`` sign the command (BREACH_COMMAND_KEYS); ``security`` (here and below): Kafka TLS/SASL
    options (streams.kafka.kafka_security.security_options)."""
    # A million lines take seconds to read and encode: in a thread, so the console serving this
    # import goes on answering everyone else meanwhile.
    parsed, list_id, chunks = await asyncio.to_thread(_read, incident_id, data, fmt, default_locale)
    if parsed.recipients:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", max_request_size=4 * 1024 * 1024,
                                    **security)
        await producer.start()
        try:
            for chunk in chunks:
                await producer.send(AFFECTED_SUBJECTS, chunk, key=incident_id.encode())
            await producer.flush()
        finally:
            await producer.stop()
        await _command(bootstrap, RecordSubjects(incident_id=incident_id, list_id=list_id,
                                                 count=len(parsed.recipients), invalid=len(parsed.invalid), by=by),
                       keys, **security)
    return Imported(list_id=list_id, parsed=parsed)


async def approve(bootstrap: str, incident_id: str, list_id: str, *, by: str, role: str, keys: Keyring,
                  measures_taken: tuple[str, ...], measures_proposed: tuple[str, ...] = (), **security: Any) -> None:
    await _command(bootstrap, SendSubjectNotice(incident_id=incident_id, list_id=list_id, by=by, role=role,
                                                measures_taken=measures_taken, measures_proposed=measures_proposed),
                   keys, **security)


async def _command(bootstrap: str, command: RecordSubjects | SendSubjectNotice, keys: Keyring,
                   **security: Any) -> None:
    sender = CommandSender(bootstrap, keys=keys, **security)
    await sender.start()
    try:
        await sender.send(command)
    finally:
        await sender.stop()


def preview(renderer: NoticeRenderer, state: Incident, profile: Profile, *, now: datetime, list_id: str,
            locale: str | None, measures_taken: tuple[str, ...] = (),
            measures_proposed: tuple[str, ...] = ()) -> RenderedNotice:
    """Exactly what the recipients get: once approved, rendered from the context fixed in the
    approval event (the same call the worker makes); before, from the same function the approval
    will run, with the measures given."""
    approved = state.subject_notice(subject_notice_id(state.id, list_id))
    if approved is not None:
        context, default = approved.context, approved.default_locale
    else:
        context = subject_notice_context(state, profile, now, list_id=list_id, measures_taken=measures_taken,
                                         measures_proposed=measures_proposed)
        default = profile.languages[0]
    return renderer.render(regime="gdpr", locale=locale or default, kind=DATA_SUBJECT_NOTICE, context=context)


@dataclass(frozen=True)
class Bounces:
    published: int
    problems: tuple[str, ...]  # safe to print: no address


def read_bounce(raw: bytes) -> tuple[set[str], str | None]:
    """The permanently failed addresses of a delivery status notification (flufl.bounce) and the
    notice id from the returned message's Message-ID, if it is one of ours."""
    from flufl.bounce import scan_message

    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    addresses = {a.decode() if isinstance(a, bytes) else str(a) for a in scan_message(message)}
    notice_id = None
    for part in message.walk():
        if part.get_content_type() in ("message/rfc822", "text/rfc822-headers"):
            text = _part_text(part)
            found = _OUR_MESSAGE_ID.search(text)
            if found:
                notice_id = found.group(1)
                break
    return addresses, notice_id


def _part_text(part: Message) -> str:
    payload = part.get_payload()
    if isinstance(payload, list):
        return "\n".join(str(p) for p in payload)
    if isinstance(payload, str):
        return payload
    return str(payload)


async def publish_bounces(bootstrap: str, incident: Incident, messages: list[bytes], **security: Any) -> Bounces:
    """Each bounced recipient of one of this incident's notices, as a bounce on notice-deliveries
    (keyed like the delivery, so the worker holding its ledger entry marks it)."""
    known = {n.notice_id for n in incident.subject_notices}
    problems: list[str] = []
    records: list[tuple[bytes, bytes]] = []
    for number, raw in enumerate(messages, start=1):
        addresses, notice_id = read_bounce(raw)
        if not addresses:
            problems.append(f"message {number}: no permanently failed recipient found (not a DSN?)")
        elif notice_id is None or notice_id not in known:
            problems.append(f"message {number}: returned Message-ID is not one of this incident's notices")
        else:
            for address in sorted(addresses):
                record = {"type": "bounce", "incident_id": incident.id, "notice_id": notice_id,
                          "address": address, "name": "", "locale": "", "reason": "bounced (DSN)"}
                records.append((delivery_key(address), json.dumps(record).encode()))
    if records:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", **security)
        await producer.start()
        try:
            for key, value in records:
                await producer.send(NOTICE_DELIVERIES, value, key=key)
            await producer.flush()
        finally:
            await producer.stop()
    return Bounces(published=len(records), problems=tuple(problems))


async def resend_in_doubt(bootstrap: str, renderer: NoticeRenderer, incident: Incident,
                          notice: SubjectNotice, **security: Any) -> int:
    """Every recipient of the notice's list again, marked "resend": the workers send to those
    whose delivery is in doubt (a worker died mid-send) and skip everyone else. Some of those in
    doubt may have received it already: that is the DPO's call, which is why it is never automatic."""
    recipients = await read_subjects(bootstrap, incident.id, notice.list_id, **security)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", **security)
    await producer.start()
    try:
        for r in recipients:
            locale = body_locale(renderer, "gdpr", DATA_SUBJECT_NOTICE, r["locale"], notice.default_locale)
            record = {"type": "resend", "incident_id": incident.id, "notice_id": notice.notice_id,
                      "locale": locale, "address": r["address"], "name": r["name"]}
            await producer.send(NOTICE_DELIVERIES, json.dumps(record, ensure_ascii=False).encode(),
                                key=delivery_key(r["address"]))
        await producer.flush()
    finally:
        await producer.stop()
    return len(recipients)


def progress_bar(notice: SubjectNotice, width: int = 40) -> str:
    done = notice.total - notice.pending
    filled = int(width * done / notice.total) if notice.total else width
    return f"[{'#' * filled}{'.' * (width - filled)}] {done}/{notice.total}"


def status_lines(state: Incident) -> list[str]:
    lines = []
    for listed in state.subject_lists:
        lines.append(f"list {listed.list_id}: {listed.count} recipient(s), {listed.invalid} invalid line(s), "
                     f"imported {listed.at.isoformat(timespec='seconds')} by {listed.by}")
    for n in state.subject_notices:
        lines.append(f"notice {n.notice_id} (list {n.list_id}), approved by {n.by} "
                     f"{n.requested_at.isoformat(timespec='seconds')}")
        lines.append(f"  sent {n.sent}  pending {n.pending}  failed {n.failed}  bounced {n.bounced}  "
                     f"in doubt {n.in_doubt}  (total {n.total})")
        lines.append("  " + progress_bar(n))
    return lines or ["no list of affected people imported for this incident"]
