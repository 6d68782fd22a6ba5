"""Reproducible installs (issue 18): every dependency the project declares is pinned, with its
hashes, in the lock files the Makefile, CI and the Docker image install from."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^ \\]+)")


def pins(lock: str) -> dict[str, str]:
    """name -> version of each pinned package; each must carry at least one sha256 hash."""
    found: dict[str, str] = {}
    text = (ROOT / lock).read_text()
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        match = PIN.match(block)
        if match:
            assert "--hash=sha256:" in block, f"{lock}: {match.group(1)} has no hash"
            found[canonicalize_name(match.group(1))] = match.group(2)
    assert "file://" not in text and "/opt/" not in text, f"{lock} names this machine's own package folders"
    return found


def declared(*extras: str) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = list(project["dependencies"])
    for extra in extras:
        names += project["optional-dependencies"][extra]
    return [Requirement(r) for r in names]


def test_the_runtime_lock_pins_every_runtime_dependency_within_its_range() -> None:
    locked = pins("requirements.lock")
    for requirement in declared("production"):
        version = locked.get(canonicalize_name(requirement.name))
        assert version, f"requirements.lock does not pin {requirement.name}: run `make lock`"
        assert requirement.specifier.contains(version, prereleases=True), (
            f"requirements.lock pins {requirement.name}=={version}, outside {requirement.specifier}: run `make lock`")


def test_the_dev_lock_pins_everything_and_agrees_with_the_runtime_lock() -> None:
    dev, runtime = pins("requirements-dev.lock"), pins("requirements.lock")
    for requirement in declared("dev", "production"):
        version = dev.get(canonicalize_name(requirement.name))
        assert version and requirement.specifier.contains(version, prereleases=True), requirement.name
    # The image runs what the suite was run with.
    assert {name: dev.get(name) for name in runtime} == runtime


def test_installs_go_through_the_locks() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "--require-hashes -r requirements-dev.lock" in makefile and "--no-deps -e ." in makefile
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    assert "--require-hashes -r requirements.lock" in dockerfile and "pip install --no-deps ." in dockerfile
