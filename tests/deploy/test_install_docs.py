"""The production install as the README and docs/deploy.md tell it: every file they name exists,
every `breach` command they show is one the CLI accepts, every BREACH_* variable is a setting."""

from __future__ import annotations

import argparse
import re
import shlex
from pathlib import Path

import pytest

from streams.cli import parser
from streams.settings import variable_names

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"


def _section(text: str, heading: str) -> str:
    start = text.index(heading)
    following = text.find("\n## ", start + len(heading))
    return text[start:following if following != -1 else len(text)]


def _install_texts() -> dict[str, str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return {"README: Pointing it at a real Kafka cluster": _section(readme, "## Pointing it at a real Kafka cluster"),
            "README: Production deployment": _section(readme, "## Production deployment"),
            "docs/deploy.md": (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")}


@pytest.mark.parametrize("where", sorted(_install_texts()))
def test_the_files_named_exist(where: str) -> None:
    text = _install_texts()[where]
    paths = set(re.findall(r"\b((?:deploy|docs|streams)/[\w./-]*\w)", text))
    manifests = set(re.findall(r"`([\w-]+\.yaml)`", text))
    for path in paths:
        assert (ROOT / path).exists(), f"{where} names {path}, which does not exist"
    for name in manifests - {"compose.yaml"}:
        assert (K8S / name).exists(), f"{where} names {name}, which is not in deploy/k8s"


@pytest.mark.parametrize("where", sorted(_install_texts()))
def test_the_variables_named_are_settings(where: str) -> None:
    named = set(re.findall(r"\bBREACH_[A-Z0-9_]*[A-Z0-9]\b", _install_texts()[where]))
    assert named
    assert named - variable_names() == set(), where


def _commands(text: str) -> list[list[str]]:
    """`breach …` in inline code, and the lines of shell blocks that run breach."""
    found = re.findall(r"`breach ([^`]+)`", text)
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.DOTALL):
        found += re.findall(r"^(?:\.venv/bin/)?breach ([^#\n]+)", block, flags=re.MULTILINE)
    return [shlex.split(command.replace("…", "x").replace("<", "").replace(">", "")) for command in found]


@pytest.mark.parametrize("where", sorted(_install_texts()))
def test_the_breach_commands_shown_exist(where: str) -> None:
    """Each command's subcommands are the CLI's, and each --option it shows is one of theirs."""
    commands = _commands(_install_texts()[where])
    assert commands
    for words in commands:
        command = parser()
        for word in words:
            if word.startswith("-"):
                options = {o for action in command._actions for o in action.option_strings}
                assert word.split("=")[0] in options, f"{where}: breach {' '.join(words)}: no option {word}"
                continue
            subparsers = [a for a in command._actions if isinstance(a, argparse._SubParsersAction)]
            if not subparsers:
                break  # an argument of the command, not a subcommand
            assert word in subparsers[0].choices, f"{where}: breach {' '.join(words)}: no subcommand {word}"
            command = subparsers[0].choices[word]


def test_the_compose_stack_and_every_manifest_are_described() -> None:
    docs = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    for manifest in K8S.glob("*.yaml"):
        if manifest.name not in ("kustomization.yaml", "namespace.yaml"):
            assert manifest.name in docs or manifest.stem.replace(".example", "") in docs, manifest.name
