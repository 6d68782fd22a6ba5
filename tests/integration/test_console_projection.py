"""The console's projection outlives a broker that stops answering (a restart, an overloaded node)."""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs

from console.projection import Projection
from console.read_model import ReadModel
from streams.embedded.samples import publish
from streams.embedded.services import Broker
from tests.support import eventually


@pytest.mark.asyncio
async def test_the_projection_keeps_running_when_the_broker_goes_away(broker: Broker) -> None:
    await publish(broker.bootstrap, [b"{}"], topic="incident-events")  # a topic to assign
    projection = Projection(broker.bootstrap, ReadModel())
    with capture_logs() as logs:
        await projection.start()
        try:
            broker.stop()
            await eventually(lambda: any(e["event"] == "projection.metadata_unavailable" for e in logs),
                             what="a rescan that found no broker")
            assert projection._task is not None and not projection._task.done()
        finally:
            await projection.stop()  # and it stops cleanly, without the broker's error
