"""Notice throughput: one real notice draft (made by the service from a confirmed breach),
rendered once and sent to N recipients through the notify agent's delivery path and the real
SMTP mailer, to the local sink. Compared with the raw SMTP rate."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime

from benchmarks import Context, Figure, measurement
from benchmarks._support import canonical, produce, read_events
from incident.events import NoticeRequested
from streams.agents.notify import deliver
from streams.deps import Deps
from streams.embedded.services import Broker, free_port
from streams.kafka.command_signing import new_key
from streams.mail.mailer import RecordingMailer, SmtpMailer
from streams.mail.render import NoticeRenderer
from streams.profiles_loader import load_directory
from streams.settings import Settings, load_settings
from streams.worker import running

RECIPIENTS = 1_000


@measurement(order=50)
async def notice_fanout(ctx: Context) -> list[Figure]:
    broker = Broker(port=free_port())  # its own: the earlier measurements' records stay out of it
    broker.start()
    try:
        requested, deps, settings = await _one_draft(broker, ctx)
    finally:
        broker.stop()
    draft = replace(requested.draft, recipients=tuple(f"person-{n}@bench.example" for n in range(RECIPIENTS)))
    smtp = replace(deps, mailer=SmtpMailer(settings))
    started = time.perf_counter()
    results = await deliver(requested.incident_id, draft, smtp, {})
    rate = sum(r.delivered for r in results) / (time.perf_counter() - started)
    return [Figure("notices_per_s", f"notice fan-out ({draft.kind}, {RECIPIENTS:,} recipients)", rate, "msg/s",
                   limit="raw_smtp_per_s")]


async def _one_draft(broker: Broker, ctx: Context) -> tuple[NoticeRequested, Deps, Settings]:
    settings = load_settings({}, broker_url=f"kafka://{broker.bootstrap}", data_dir=ctx.scratch / "notices",
                             session_timeout=2.0, heartbeat_interval=0.5, smtp_host=ctx.smtp_host,
                             smtp_port=ctx.smtp_port, app_id="bench-notices", command_keys=new_key("bench"))
    deps = Deps(directory=load_directory(settings.profiles_dir), mailer=RecordingMailer(),
                renderer=NoticeRenderer(settings.templates_dir / "notices"))
    async with running(settings, deps, app_id="bench-notices"):
        await produce(broker.bootstrap, [canonical(0, "ampere-crm-db", datetime.now(UTC), confirms=True)])
        [requested] = await read_events(broker.bootstrap, NoticeRequested, 1)
    return requested, deps, settings
