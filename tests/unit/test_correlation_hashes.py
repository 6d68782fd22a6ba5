"""The correlator hashes each entity once while it recurs: the reasons still carry exactly what
entity_hash gives (what the console's search looks for), whatever the salt and the cache's size."""

from __future__ import annotations

from datetime import timedelta

import pytest

from incident.correlation import Config, Correlator, Window, _Work, entity_hash
from tests.unit.builders import T0, event

SALTS = ["", "pepper", "s" * 100]  # a salt past blake2b's 64-byte key is cut as entity_hash cuts it


@pytest.mark.parametrize("salt", SALTS)
def test_reasons_name_entities_by_entity_hash(salt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_Work, "MAX_ENTITY_CACHE", 3)  # the cache is emptied and refilled on the way
    correlator = Correlator(Window(key="acme"), config=Config(salt=salt))
    users = [f"user-{n % 5}" for n in range(12)]
    commands = correlator.add([event(f"e{n}", at=T0 + timedelta(minutes=n), user=user, source_ip=f"10.0.0.{n % 4}")
                               for n, user in enumerate(users)])
    assert len(commands) == 12
    for n, (command, user) in enumerate(zip(commands, users, strict=True)):
        reason = command.evidence.reason  # type: ignore[union-attr]
        wanted = [f"user.name#{entity_hash(user, salt)}", f"source.ip#{entity_hash(f'10.0.0.{n % 4}', salt)}",
                  f"host.name#{entity_hash('acme-crm-db', salt)}"]
        assert any(w in reason for w in wanted), reason
    first = commands[0].evidence.reason  # type: ignore[union-attr]
    assert f"user.name#{entity_hash('user-0', salt)}" in first
    assert f"host.name#{entity_hash('acme-crm-db', salt)}" in first
