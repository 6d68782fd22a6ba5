"""Outside `breach up`, no process that sends or decides people's commands runs without
BREACH_COMMAND_KEYS: each stops at once with a message naming it (no broker is reached)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from streams.settings import ROOT


def _breach(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "BREACH_COMMAND_KEYS"}
    env.update(BREACH_BROKER_URL="kafka://127.0.0.1:1", BREACH_DATA_DIR=str(tmp_path),
               BREACH_CONSOLE_USERS="alice:a-long-password:dpo", BREACH_CONSOLE_PORT="1")
    return subprocess.run([sys.executable, "-m", "streams.cli", *args], capture_output=True, text=True, env=env,
                          timeout=60, cwd=ROOT, check=False)


# (The CLI holds no key: its people's commands go through the console, in the logged-in person's
# name — tests/integration/test_cli_login.py.)
@pytest.mark.parametrize("args", [("worker",), ("console",)])
def test_without_a_command_key_it_refuses_to_start_naming_the_variable(tmp_path: Path, args: tuple[str, ...]) -> None:
    result = _breach(tmp_path, *args)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "breach: BREACH_COMMAND_KEYS is not set" in result.stderr
    assert not (tmp_path / "command-key").exists()  # only `breach up` makes one


def test_a_malformed_key_list_is_refused_at_start(tmp_path: Path) -> None:
    env = {**os.environ, "BREACH_COMMAND_KEYS": "k1:dG9vIHNob3J0", "BREACH_BROKER_URL": "kafka://127.0.0.1:1"}
    result = subprocess.run([sys.executable, "-m", "streams.cli", "worker"], capture_output=True, text=True, env=env,
                            timeout=60, cwd=ROOT, check=False)
    assert result.returncode == 2
    assert "BREACH_COMMAND_KEYS: key 'k1' has 9 bytes" in result.stderr
    assert "dG9vIHNob3J0" not in result.stderr  # the key is never echoed
