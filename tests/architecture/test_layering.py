"""incident/ is the pure domain: standard library only, no clock, no environment."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

DOMAIN = Path(__file__).resolve().parents[2] / "incident"
ALLOWED_STDLIB = set(sys.stdlib_module_names) - {"asyncio", "socket", "subprocess", "logging", "os", "http",
                                                 "urllib", "smtplib", "email", "sqlite3", "threading", "shutil"}
PURE_SUBMODULES = {"urllib.parse"}  # string functions only (an adapter splits a URL it was given)


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


def test_the_domain_imports_only_itself_and_pure_stdlib() -> None:
    offenders = [
        f"{path.relative_to(DOMAIN.parent)}: {name}"
        for path in sorted(DOMAIN.rglob("*.py")) for name in _imports(path)
        if name.split(".")[0] not in ALLOWED_STDLIB | {"incident", "__future__"} and name not in PURE_SUBMODULES
    ]
    assert offenders == []


def _call(name: str) -> re.Pattern[str]:
    """``name`` as a whole name: the domain's reopen() of a dismissed incident opens no file."""
    return re.compile(r"(?<!\w)" + re.escape(name))


def test_the_domain_never_reads_the_clock_or_the_environment() -> None:
    forbidden = ("datetime.now(", "datetime.utcnow(", "time.time(", "date.today(", "os.environ", "open(")
    hits = [f"{p.name}: {f}" for p in DOMAIN.rglob("*.py") for f in forbidden if _call(f).search(p.read_text())]
    assert hits == []


def test_the_clock_check_tells_a_name_from_a_longer_one() -> None:
    pattern = _call("open(")
    assert pattern.search("with open(path) as f:") and pattern.search("Path(p).open(")
    assert not pattern.search("return reopen(command, state, now)")


def test_the_check_would_catch_a_framework_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import faust\nfrom aiokafka import AIOKafkaProducer\n")
    assert _imports(bad) == ["faust", "aiokafka"]


def test_lint_and_types_are_clean() -> None:
    """`make lint` as a test, so CI (which runs `make test`) keeps main ruff- and mypy-clean."""
    import subprocess

    root = DOMAIN.parent
    bin_dir = Path(sys.executable).parent
    for command in ([str(bin_dir / "ruff"), "check", "incident", "streams", "console", "benchmarks",
                     "tests"],
                    [str(bin_dir / "mypy")]):
        result = subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)
        assert result.returncode == 0, f"{command[0]} found problems:\n{result.stdout[-3000:]}"
