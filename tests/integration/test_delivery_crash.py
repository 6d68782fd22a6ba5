"""A worker killed (SIGKILL) in the middle of a mass delivery and started again: nobody gets the
notice twice. Real processes: the embedded broker, two `breach worker` subprocesses one after the
other, and an aiosmtpd server on loopback counting every Message-ID it accepts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from incident.model import Incident, SubjectNotice
from streams.embedded.samples import publish
from streams.embedded.services import Broker, free_port
from streams.mail import mass
from streams.mail.mailer import message_id_for
from streams.mail.render import NoticeRenderer
from streams.settings import ROOT
from tests.integration.smtp_sink import SmtpSink
from tests.support import COMMAND_KEYS, KEYS, Watcher, eventually

TOTAL = 3_000
RENDERER = NoticeRenderer(ROOT / "templates" / "notices")


class Workers:
    def __init__(self, broker: Broker, smtp_port: int, data_dir: Path) -> None:
        self.env = {**os.environ, "BREACH_BROKER_URL": f"kafka://{broker.bootstrap}", "BREACH_DATA_DIR": str(data_dir),
                    "BREACH_SESSION_TIMEOUT": "2", "BREACH_HEARTBEAT_INTERVAL": "0.5",
                    "BREACH_SMTP_PORT": str(smtp_port), "BREACH_PROGRESS_SECONDS": "0.3",
                    "BREACH_LOG_LEVEL": "info", "BREACH_LOG_FORMAT": "json", "BREACH_COMMAND_KEYS": COMMAND_KEYS}
        self.data_dir = data_dir
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self) -> subprocess.Popen[bytes]:
        log = (self.data_dir / f"worker-{len(self.processes)}.log").open("wb")
        process = subprocess.Popen([sys.executable, "-m", "streams.cli", "worker"], env=self.env, cwd=ROOT,
                                   stdout=log, stderr=subprocess.STDOUT)
        self.processes.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait(10)


@pytest.fixture
def workers(broker: Broker, tmp_path: Path) -> Iterator[Workers]:
    w = Workers(broker, free_port(), tmp_path)
    try:
        yield w
    finally:
        w.stop_all()


@pytest.mark.asyncio
async def test_a_worker_killed_mid_run_and_restarted_sends_no_message_twice(broker: Broker,
                                                                             workers: Workers) -> None:
    sink = SmtpSink(int(workers.env["BREACH_SMTP_PORT"]))
    await sink.start()
    first = workers.start()
    async with Watcher(broker.bootstrap) as watcher:
        def incident() -> Incident | None:
            return next(iter(watcher.model.incidents.values()), None)

        def notice() -> SubjectNotice | None:
            i = incident()
            return i.subject_notices[0] if i and i.subject_notices else None

        record = {"id": "k1", "time": datetime(2026, 11, 22, 10, tzinfo=UTC).isoformat(), "title": "Export",
                  "host": "ampere-crm-db", "confirms_breach": True}
        await publish(broker.bootstrap, [json.dumps(record).encode()])
        state: Incident = await eventually(lambda: (i := incident()) and i.assessment and i, timeout=60,
                                           what="the worker assessing the incident")
        rows = "address,name\n" + "".join(f"p{i}@example.org,P {i}\n" for i in range(TOTAL))
        imported = await mass.import_subjects(broker.bootstrap, state.id, rows.encode(), fmt="csv",
                                              default_locale="fr", by="test", keys=KEYS)
        await eventually(lambda: (i := incident()) and i.subject_lists, what="the list recorded")
        await mass.approve(broker.bootstrap, state.id, imported.list_id, by="dpo", role="dpo", keys=KEYS,
                           measures_taken=("Export account disabled.",))

        await eventually(lambda: sum(sink.received.values()) >= 600, timeout=120, what="600 messages received")
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        killed_at = sum(sink.received.values())
        assert killed_at < TOTAL, "the run ended before the kill: nothing was tested"
        workers.start()

        final: SubjectNotice = await eventually(lambda: (n := notice()) and n.pending == 0 and n, timeout=240,
                                                what="every delivery settled after the restart")
        received_before_resend = dict(sink.received)
        assert sink.duplicates == {}  # the point: nobody got it twice
        expected = {message_id_for(final.notice_id, f"p{i}@example.org") for i in range(TOTAL)}
        received = len(expected & set(sink.received))  # (the DPO's drafts reach the same relay)
        assert final.failed == 0
        assert final.accepted + final.in_doubt == TOTAL
        # Everything recorded as accepted arrived; what did not arrive is among the in-doubt ones.
        assert received >= final.accepted
        assert TOTAL - received <= final.in_doubt
        assert sum(sink.received.values()) > killed_at  # the second worker did send the rest

        # The DPO sends again to those in doubt: now everyone has it; only they may have it twice.
        await mass.resend_in_doubt(broker.bootstrap, RENDERER, state, final)
        done: SubjectNotice = await eventually(lambda: (n := notice()) and n.accepted == TOTAL and n, timeout=120,
                                               what="the in-doubt recipients sent to again")
        assert done.in_doubt == 0
        assert expected <= set(sink.received)
        twice = {mid for mid, n in sink.received.items() if n > 1}
        assert len(twice) <= final.in_doubt
        assert all(received_before_resend.get(mid) == 1 for mid in twice)
    await sink.stop()

    # The workers logged what they did (ids, counts), never whom they wrote to.
    logs = "".join((workers.data_dir / f"worker-{n}.log").read_text() for n in range(2))
    assert "delivery.progress" in logs and "notice.fanned_out" in logs
    assert "@example.org" not in logs and '"P 1' not in logs
