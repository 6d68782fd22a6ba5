"""`breach topics create` against a real (embedded) broker: partitions, retention, compaction."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from streams.embedded.services import Broker
from streams.kafka.topics_admin import TopicsError, create_topics, topic_specs
from streams.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]


def _settings(broker: Broker, **overrides: object):  # type: ignore[no-untyped-def]
    return load_settings({}, broker_url=f"kafka://{broker.bootstrap}", **overrides)


@pytest.mark.asyncio
async def test_creates_every_topic_with_its_partitions_and_retention(broker: Broker) -> None:
    outcomes = {o.name: o for o in await create_topics(_settings(broker, partitions=6))}

    assert {s.name for s in topic_specs(_settings(broker))} == set(outcomes)
    assert all(o.created and o.partitions == 6 for o in outcomes.values())
    # Read back from the broker (DescribeConfigs), not echoed from our own request.
    size = {"max.message.bytes": str(4 * 1024 * 1024)}  # Kafka's 1 MB default would refuse a 4 MB state
    assert outcomes["incident-events"].configs == {"cleanup.policy": "delete", "retention.ms": "-1",
                                                   "retention.bytes": "-1"} | size
    assert outcomes["security-events.dlq"].configs["retention.ms"] == str(90 * 24 * 3600 * 1000)
    assert outcomes["breach-response-incidents-changelog"].configs == {"cleanup.policy": "compact"} | size
    changelogs = [n for n in outcomes if n.endswith("-changelog")]
    assert len(changelogs) >= 4 and all(outcomes[n].configs["cleanup.policy"] == "compact" for n in changelogs)


@pytest.mark.asyncio
async def test_mass_delivery_topics_keep_personal_data_only_as_long_as_the_setting_says(broker: Broker) -> None:
    settings = _settings(broker, partitions=2, subjects_retention_days=7.0, max_state_bytes=6_000_000)
    outcomes = {o.name: o for o in await create_topics(settings)}
    week = str(7 * 24 * 3600 * 1000)
    for name in ("affected-subjects", "notice-deliveries"):  # addresses and names
        assert outcomes[name].configs == {"cleanup.policy": "delete", "retention.ms": week,
                                          "max.message.bytes": "6100000"}
    for name in ("notice-ledger", "notice-bodies"):  # no personal data; the latest value per key is the state
        assert outcomes[name].configs["cleanup.policy"] == "compact"
    assert all(o.configs["max.message.bytes"] == "6100000" for o in outcomes.values())


@pytest.mark.asyncio
async def test_running_it_again_changes_nothing(broker: Broker) -> None:
    await create_topics(_settings(broker))
    again = await create_topics(_settings(broker))
    assert again and not any(o.created for o in again)


@pytest.mark.asyncio
async def test_an_existing_topic_with_another_partition_count_is_refused(broker: Broker) -> None:
    await create_topics(_settings(broker, partitions=4))
    with pytest.raises(TopicsError, match=r"has 4 partition.*BREACH_PARTITIONS is 8"):
        await create_topics(_settings(broker, partitions=8))


def test_the_cli_command_prints_what_it_created(broker: Broker) -> None:
    env = {**os.environ, "BREACH_BROKER_URL": f"kafka://{broker.bootstrap}", "BREACH_PARTITIONS": "2"}
    result = subprocess.run([sys.executable, "-m", "streams.cli", "topics", "create", "--json"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    rows = {row["topic"]: row for row in json.loads(result.stdout)}
    assert rows["incident-events"]["partitions"] == 2 and rows["incident-events"]["created"] is True


def test_a_bad_security_setting_stops_the_cli_with_its_name() -> None:
    env = {**os.environ, "BREACH_KAFKA_SECURITY_PROTOCOL": "SASL_SSL"}
    result = subprocess.run([sys.executable, "-m", "streams.cli", "topics", "create"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert "BREACH_KAFKA_SASL_USERNAME" in result.stderr
