"""`make bench`, mass-delivery part: the notice to 100,000 people, end to end, against the raw
limit measured in the same run on the same local SMTP server.

- raw: a pool of BREACH_SMTP_POOL aiosmtplib connections sending pre-built messages (bytes,
  `sendmail`) — what the SMTP client and server can do here, with nothing else to do;
- end to end: a list of 100,000 imported, the notice approved, then the worker's fan-out,
  ledger, pool and progress reports until the incident counts 100,000 accepted.

The SMTP server is an aiosmtpd process of its own (memory handler, counting by Message-ID), so
client and server do not share an event loop; they do share the machine's cores with the broker.
"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosmtplib

from console.projection import Projection
from console.read_model import ReadModel
from streams.deps import Deps
from streams.embedded.samples import publish
from streams.embedded.services import free_port
from streams.kafka.command_signing import command_keys, new_key
from streams.mail import mass
from streams.mail.mailer import RecordingMailer, message_id_for, prepare
from streams.mail.render import NoticeRenderer, RenderedNotice
from streams.profiles_loader import load_directory
from streams.settings import load_settings
from streams.worker import running

RECIPIENTS = 100_000
RAW = 20_000  # messages for the raw rate (a rate, not a total: 20,000 is plenty to be steady)
_MESSAGE_ID = re.compile(rb"^Message-ID:\s*(<[^>]+>)", re.MULTILINE | re.IGNORECASE)


def sink(port: int) -> None:
    """The SMTP server process: counts messages by Message-ID; prints the counts on SIGTERM."""
    from aiosmtpd.smtp import SMTP

    counts: collections.Counter[str] = collections.Counter()

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            found = _MESSAGE_ID.search(envelope.original_content or b"")
            counts[found.group(1).decode() if found else "-"] += 1
            return "250 OK"

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: SMTP(Handler(), hostname="bench", decode_data=False),
                                          "127.0.0.1", port)
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        print("ready", flush=True)
        await stop.wait()
        server.close()
        print(json.dumps({"messages": sum(counts.values()), "distinct": len(counts),
                          "duplicates": sum(n - 1 for n in counts.values() if n > 1)}), flush=True)

    asyncio.run(serve())


class Sink:
    def __init__(self) -> None:
        self.port = free_port()
        self.process = subprocess.Popen([sys.executable, "-m", "benchmarks._delivery", "sink", str(self.port)],  # noqa: S603
                                        stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        if self.process.stdout.readline().strip() != "ready":
            raise RuntimeError("the bench SMTP server did not start")

    def stop(self) -> dict[str, int]:
        self.process.send_signal(signal.SIGTERM)
        out, _ = self.process.communicate(timeout=30)
        counts: dict[str, int] = json.loads(out.strip().splitlines()[-1])
        return counts


async def raw_rate(port: int, pool: int, messages: list[bytes]) -> float:
    queue = collections.deque(messages)

    async def worker() -> None:
        smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False)
        await smtp.connect()
        try:
            while queue:
                await smtp.sendmail("breach@localhost", ["person@example.org"], queue.popleft())
        finally:
            await smtp.quit()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(pool)))
    return len(messages) / (time.perf_counter() - started)


def _bench_messages(rendered: RenderedNotice, count: int) -> list[bytes]:
    prepared = prepare("bench", rendered, sender="breach@localhost", date=datetime.now(UTC))
    return [prepared.for_recipient(address=f"p{i}@example.org", name=f"P {i}",
                                   message_id=message_id_for("raw", f"p{i}@example.org")) for i in range(count)]


async def end_to_end(bootstrap: str, port: int, data_dir: Path) -> dict[str, Any]:
    settings = load_settings({}, broker_url=f"kafka://{bootstrap}", data_dir=data_dir, session_timeout=2.0,
                             heartbeat_interval=0.5, smtp_port=port, log_level="warning",
                             command_keys=new_key("bench"))
    keys = command_keys(settings)
    deps = Deps(directory=load_directory(settings.profiles_dir), mailer=RecordingMailer(),
                renderer=NoticeRenderer(settings.templates_dir / "notices"))
    model = ReadModel()
    projection = Projection(bootstrap, model)
    async with running(settings, deps):
        await projection.start()
        try:
            record = {"id": "bench-1", "time": datetime.now(UTC).isoformat(), "title": "Bulk export",
                      "host": "ampere-crm-db", "confirms_breach": True}
            await publish(bootstrap, [json.dumps(record).encode()])
            incident = await _until(lambda: next((i for i in model.incidents.values() if i.assessment), None), 120)
            rows = "address,name,language\n" + "".join(
                f"p{i}@example.org,Person {i},{'en' if i % 4 == 0 else 'fr'}\n" for i in range(RECIPIENTS))
            imported = await mass.import_subjects(bootstrap, incident.id, rows.encode(), fmt="csv",
                                                  default_locale="fr", by="bench", keys=keys)
            await _until(lambda: model.incidents[incident.id].subject_lists, 60)
            started = time.perf_counter()
            await mass.approve(bootstrap, incident.id, imported.list_id, by="bench", role="dpo", keys=keys,
                               measures_taken=("Export account disabled.",))
            notice = await _until(lambda: (n := model.incidents[incident.id].subject_notices) and
                                  n[0].accepted + n[0].failed + n[0].in_doubt >= RECIPIENTS and n[0], 3600)
            elapsed = time.perf_counter() - started
            # The raw rate is measured afterwards with this very notice, so both send the same bytes.
            state = model.incidents[incident.id]
            profile = deps.directory.profiles[state.controller or ""]
            rendered = mass.preview(deps.renderer, state, profile, now=datetime.now(UTC), list_id=imported.list_id,
                                    locale="fr")
        finally:
            await projection.stop()
    return {"rendered": rendered, "recipients": RECIPIENTS, "seconds": elapsed, "emails_per_s": RECIPIENTS / elapsed,
            "accepted": notice.accepted, "failed": notice.failed, "in_doubt": notice.in_doubt,
            "pool": settings.smtp_pool, "progress_events": model.incidents[incident.id].version}


async def _until(condition: Any, within: float) -> Any:
    deadline = time.monotonic() + within
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise TimeoutError("bench condition not reached")
        await asyncio.sleep(0.1)  # polling the read model
    return value


async def bench_delivery(bootstrap: str) -> dict[str, Any]:
    pool = load_settings(os.environ).smtp_pool
    server = Sink()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            service = await end_to_end(bootstrap, server.port, Path(tmp))
        messages = _bench_messages(service.pop("rendered"), RAW)
        raw = await raw_rate(server.port, pool, messages)
    finally:
        counts = server.stop()
    received = counts["messages"] - RAW
    return {**service, "message_bytes": len(messages[0]), "raw_pool_per_s": raw, "raw_messages": RAW,
            "ratio_to_raw": service["emails_per_s"] / raw,
            "received_end_to_end": received, "duplicates": counts["duplicates"]}




async def main() -> None:
    from streams.embedded.services import Broker
    from streams.logging import configure_logging

    configure_logging(load_settings({}, log_level="warning"))
    broker = Broker(port=free_port())
    broker.start()
    try:
        figures = await bench_delivery(broker.bootstrap)
    finally:
        broker.stop()
    print(json.dumps(figures, indent=2, default=str))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "sink":
        sink(int(sys.argv[2]))
    else:
        asyncio.run(main())
