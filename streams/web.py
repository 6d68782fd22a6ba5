"""The worker's operations endpoints on BREACH_WEB_HOST:BREACH_WEB_PORT (faust's own web
server stays off: its defaults clash between workers on one host).

- /healthz: 200 while the app runs, 503 once it crashed or is stopping (liveness: restart me);
- /readyz: 200 only when the worker holds its partitions with their tables recovered, each
  batch stage (streams/kafka/batch_in.py) is in its group and no agent or stage is down; 503 while
  a group rebalances or tables recover (readiness: a rollout waits for it), and from an
  agent's or a stage's crash until it takes a record again (streams/agent_health.py);
- /metrics: Prometheus text (streams/metrics.py).
"""

from __future__ import annotations

from typing import Any

import structlog
from aiohttp import web

from streams import agent_health
from streams.kafka import batch_in
from streams.metrics import WorkerMetrics

log = structlog.get_logger("breach.web")


def healthy(app: Any) -> tuple[bool, str]:
    if app.crashed:
        return False, "crashed"
    if app.should_stop:
        return False, "stopping"
    if not app.started:
        return False, "starting"
    return True, "ok"


def ready(app: Any) -> tuple[bool, str]:
    alive, why = healthy(app)
    if not alive:
        return False, why
    if app.rebalancing:
        return False, "rebalancing"
    if app.in_recovery or not app.tables.recovery.completed.is_set():
        return False, "recovering tables"
    health = agent_health.of(app)
    down = health.problem() if health is not None else None
    if down:
        return False, down
    for stage in batch_in.stages(app):  # its own consumer group, beside faust's
        if problem := stage.problem():
            return False, problem
    return True, "ok"


def create_web(app: Any, metrics: WorkerMetrics) -> web.Application:
    def probe(check: Any) -> Any:
        async def handler(request: web.Request) -> web.Response:
            ok, why = check(app)
            return web.Response(status=200 if ok else 503, text=why + "\n")
        return handler

    async def metrics_page(request: web.Request) -> web.Response:
        return web.Response(body=metrics.exposition(), headers={"Content-Type": "text/plain; version=0.0.4"})

    web_app = web.Application()
    web_app.router.add_get("/healthz", probe(healthy))
    web_app.router.add_get("/readyz", probe(ready))
    web_app.router.add_get("/metrics", metrics_page)
    return web_app


class WebServer:
    def __init__(self, app: Any, metrics: WorkerMetrics, host: str, port: int) -> None:
        self.runner = web.AppRunner(create_web(app, metrics), access_log=None)
        self.host, self.port = host, port

    async def start(self) -> None:
        await self.runner.setup()
        await web.TCPSite(self.runner, self.host, self.port).start()
        log.info("web.listening", port=self.port, paths=["/healthz", "/readyz", "/metrics"])

    async def stop(self) -> None:
        await self.runner.cleanup()
