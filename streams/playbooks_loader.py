"""Read the rule pack's playbooks (``playbooks.toml`` beside the Sigma rules in deploy/rules): the
checklists every controller's incidents get besides its profile's own (issue 17: playbooks "per
regime and breach type, profile- and rule-pack-defined"). Validated by the profiles' parser, so a
bad playbook stops the worker naming the file and the key, like a bad profile."""

from __future__ import annotations

import tomllib
from pathlib import Path

from incident.errors import ProfileError
from incident.playbooks import Playbook, parse_playbooks
from incident.regimes import REGIMES

FILE = "playbooks.toml"


def load_playbooks(rules_dir: Path) -> tuple[Playbook, ...]:
    """The pack's playbooks; none when the folder has no playbooks.toml. Unlike a profile's, they
    may name any regime (each applies to the incidents of a controller under it)."""
    path = rules_dir / FILE
    if not path.is_file():
        return ()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"not valid TOML: {exc}", source=str(path), key="(syntax)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"cannot be read: {exc}", source=str(path), key="(file)") from None
    extra = sorted(set(data) - {"playbooks"})
    if extra:
        raise ProfileError("only [[playbooks]] tables belong here", source=str(path), key=extra[0])
    return parse_playbooks(data.get("playbooks"), source=str(path), regimes=tuple(REGIMES))
