"""Read deploy/profiles/*.toml and validate each with incident.profiles.parse_profile."""

from __future__ import annotations

import tomllib
from pathlib import Path

from incident.errors import ProfileError
from incident.profiles import Directory, Profile, parse_profile


def load_profile(path: Path) -> Profile:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"not valid TOML: {exc}", source=str(path), key="(syntax)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"cannot be read: {exc}", source=str(path), key="(file)") from None
    return parse_profile(data, source=str(path), expected_id=path.stem)


def load_directory(folder: Path) -> Directory:
    paths = sorted(folder.glob("*.toml"))
    if not paths:
        raise ProfileError("no *.toml profile found", source=str(folder), key="(folder)")
    return Directory.of(load_profile(p) for p in paths)
