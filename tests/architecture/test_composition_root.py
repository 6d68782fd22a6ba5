"""The composition root (streams/cli/, the `breach` command) is the only part of streams/ that imports
console/; the console may use streams' adapters, never the root that wires it."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def _offenders(package: str, forbidden: str, allowed: str | None = None) -> list[str]:
    return [f"{path.relative_to(ROOT)}: {name}"
            for path in sorted((ROOT / package).rglob("*.py"))
            if allowed is None or not path.relative_to(ROOT).as_posix().startswith(allowed)
            for name in sorted(_imported(path)) if name == forbidden or name.startswith(forbidden + ".")]


def test_only_the_composition_root_of_streams_imports_the_console() -> None:
    assert _offenders("streams", "console", allowed="streams/cli/") == []


def test_the_console_never_imports_the_composition_root() -> None:
    assert _offenders("console", "streams.cli") == []


def test_the_check_sees_an_import_inside_a_function(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from console.app import create_console\n")
    assert _imported(module) == {"console.app"}
