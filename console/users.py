"""Who may use the console: local users (argon2 password hashes) and scoped API tokens for machines.

Both live in JSON files under the data directory (mode 0600), written whole and renamed into
place so a crash never leaves half a file. A store built from ``BREACH_CONSOLE_USERS`` (or the
embedded logins) lives in memory only. Passwords and tokens are never stored in clear:
passwords as argon2id hashes, tokens as SHA-256 digests (they are long random strings, so a
fast hash is enough and lets every API call be checked cheaply).

Each user and token is granted the controllers whose incidents it sees (``controllers`` in its
entry: profile ids); an entry without one — every file written before grants — is granted all of
them (console/tenants.py applies the grant).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# Ordered from the least to the most trusted for reading; dpo and admin are different powers:
# only a dpo approves or submits a notification, only an admin manages users.
ROLES = ("viewer", "responder", "dpo", "admin")
SCOPES = ("read", "act")  # read: GET routes; act: commands (POST)
_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
_CONTROLLER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_hasher = PasswordHasher()


class UserError(ValueError):
    """A bad name, role, password or scope; the message says which and why."""


@dataclass(frozen=True, slots=True)
class User:
    """An authenticated principal: a person (``user:NAME``) or a machine token (``token:LABEL``)."""

    name: str
    role: str
    kind: str = "user"  # user | token
    scopes: tuple[str, ...] = SCOPES
    # The controllers whose incidents this principal reads and acts on (its grant); None: all of them.
    controllers: frozenset[str] | None = None

    @property
    def actor(self) -> str:
        """What commands (and so the events) record as the acting party."""
        return f"{self.kind}:{self.name}"

    @property
    def every_controller(self) -> bool:
        return self.controllers is None

    def sees(self, controller: str | None) -> bool:
        """Whether the grant covers an incident of ``controller`` (None: not attributed yet, which
        only a user of every controller sees)."""
        return self.controllers is None or (controller is not None and controller in self.controllers)


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise UserError(f"invalid name {name!r}: lower-case letters, digits, '.', '_' or '-', at most 64")
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise UserError(f"invalid role {role!r}: one of {', '.join(ROLES)}")
    return role


class Unchanged:
    """``UserStore.add``'s "keep the grant the user has" (None means every controller)."""


UNCHANGED = Unchanged()


def check_controllers(controllers: Iterable[str] | None) -> frozenset[str] | None:
    """A grant: None (or "*" among them) for every controller, else the controller ids it names."""
    if controllers is None:
        return None
    named = {c.strip() for c in controllers if c.strip()}
    if "*" in named:
        return None
    if not named:
        raise UserError("a grant names at least one controller (or '*' for all of them)")
    for controller in named:
        if not _CONTROLLER.fullmatch(controller):
            raise UserError(f"invalid controller id {controller!r}")
    return frozenset(named)


def parse_controllers(text: str) -> frozenset[str] | None:
    """'atometrics+ama' or 'atometrics, ama' → a grant; '' or '*' → every controller."""
    parts = [p for p in re.split(r"[+,\s]+", text) if p]
    return check_controllers(parts) if parts else None


def grant_label(controllers: frozenset[str] | None) -> str:
    return "*" if controllers is None else ",".join(sorted(controllers))


def check_password(password: str) -> str:
    if len(password) < 8:
        raise UserError("a password needs at least 8 characters")
    return password


class UserStore:
    """Local users: name → (argon2 hash, role), kept in ``path`` (None: nothing on disk), plus
    ``fixed`` users from a 'name:password:role,...' spec (BREACH_CONSOLE_USERS, the embedded
    logins) held in memory only. Short fixed passwords are accepted: they are for loopback demos."""

    def __init__(self, path: Path | None = None, fixed: str = "") -> None:
        self.path = path
        self._users: dict[str, dict[str, Any]] = {}
        self._fixed: dict[str, dict[str, Any]] = {}
        self._mtime: float | None = None
        self._lock = threading.Lock()
        for entry in filter(None, (e.strip() for e in fixed.split(","))):
            name, password, role, grant = _spec_entry(entry)
            self._fixed[check_name(name)] = _record(_hasher.hash(password), check_role(role), grant)
        self._reload()

    @classmethod
    def from_spec(cls, spec: str) -> UserStore:
        store = cls(None, spec)
        if not len(store):
            raise UserError("BREACH_CONSOLE_USERS is empty: the console refuses to run without users")
        return store

    def _reload(self) -> None:
        """Pick up changes made by `breach users` while the console runs (the file's mtime)."""
        if self.path is None or not self.path.exists():
            return
        mtime = self.path.stat().st_mtime
        if mtime == self._mtime:
            return
        data = json.loads(self.path.read_text(encoding="utf-8"))
        self._users = {name: dict(v) for name, v in data.get("users", {}).items()}
        self._mtime = mtime

    def _entry(self, name: str) -> dict[str, Any] | None:
        with self._lock:
            self._reload()
            return self._fixed.get(name) or self._users.get(name)

    def _save(self) -> None:
        if self.path is None:
            raise UserError("this console keeps no user file: users come from BREACH_CONSOLE_USERS")
        _write_private(self.path, {"version": 1, "users": self._users})
        self._mtime = self.path.stat().st_mtime

    def add(self, name: str, password: str, role: str, *, replace: bool = False,
            controllers: Iterable[str] | Unchanged | None = None) -> User:
        """``controllers``: the user's grant (None: every controller; UNCHANGED: a replaced user's
        grant as it was, a new user's every controller — a password reset never widens a grant)."""
        check_name(name), check_password(password), check_role(role)
        with self._lock:
            self._reload()
            if name in self._users and not replace:
                raise UserError(f"user {name!r} exists (use --replace to change the password or role)")
            if isinstance(controllers, Unchanged):
                grant = _grant_of(self._users[name]) if name in self._users else None
            else:
                grant = check_controllers(controllers)
            self._users[name] = _record(_hasher.hash(password), role, grant)
            self._save()
        return User(name, role, controllers=grant)

    def seed(self, spec: str) -> bool:
        """Write the logins of ``spec`` to a new user file (the embedded stack's first start);
        an existing file is left alone, so a changed password stays changed. True if written."""
        with self._lock:
            if self.path is None or self.path.exists():
                return False
            for entry in filter(None, (e.strip() for e in spec.split(","))):
                name, password, role, grant = _spec_entry(entry)
                self._users[check_name(name)] = _record(_hasher.hash(password), check_role(role), grant)
            self._save()
        return True

    def remove(self, name: str) -> None:
        with self._lock:
            self._reload()
            if self._users.pop(name, None) is None:
                raise UserError(f"no user {name!r} in {self.path}")
            self._save()

    def stamp(self, name: str) -> str | None:
        """A fingerprint of the user's password hash, role and grant (None: no such user): a session
        and a personal token keep the one of their login, and a changed password, role or grant makes
        it differ, which ends them."""
        found = self._entry(name)
        if found is None:
            return None
        text = f"{found['hash']}\0{found['role']}"
        if found.get("controllers") is not None:  # only then: a user of every controller keeps the stamp of old
            text += "\0" + ",".join(sorted(found["controllers"]))
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def get(self, name: str) -> User | None:
        found = self._entry(name)
        return None if found is None else _user(name, found)

    def list(self) -> list[User]:
        with self._lock:
            self._reload()
            every = {**self._users, **self._fixed}
        return [_user(n, v) for n, v in sorted(every.items())]

    def __len__(self) -> int:
        return len(self.list())

    def verify(self, name: str, password: str) -> User | None:
        """The user if the password is right. An unknown name costs a hash too, so timing tells nothing."""
        found = self._entry(name)
        try:
            if found is None:
                _hasher.verify(_DUMMY_HASH, password)
                return None
            _hasher.verify(found["hash"], password)
        except (VerificationError, InvalidHashError):
            return None
        return _user(name, found)


_DUMMY_HASH = _hasher.hash("not a password anyone has")


def _spec_entry(entry: str) -> tuple[str, str, str, frozenset[str] | None]:
    """'name:password:role' (every controller) or 'name:password:role:ctrl+ctrl' → its parts."""
    parts = entry.split(":")
    if len(parts) not in (3, 4) or not all(parts[:3]):
        raise UserError("BREACH_CONSOLE_USERS entries must be name:password:role[:controller+controller]")
    return parts[0], parts[1], parts[2], parse_controllers(parts[3]) if len(parts) == 4 else None


def _record(hashed: str, role: str, grant: frozenset[str] | None) -> dict[str, Any]:
    """A user's entry in the file; no "controllers" key: every controller (the files of old)."""
    record: dict[str, Any] = {"hash": hashed, "role": role}
    if grant is not None:
        record["controllers"] = sorted(grant)
    return record


def _grant_of(entry: dict[str, Any]) -> frozenset[str] | None:
    named = entry.get("controllers")
    return None if named is None else frozenset(str(c) for c in named)


def _user(name: str, entry: dict[str, Any]) -> User:
    return User(name, entry["role"], controllers=_grant_of(entry))


class TokenStore:
    """API tokens for machines: label → (sha256 of the token, role, scopes, created, expires, last
    used). Shown once, when made; an expired or revoked token is refused."""

    PREFIX = "brt_"

    def __init__(self, path: Path | None = None, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.path = path
        self.clock = clock
        self._tokens: dict[str, dict[str, Any]] = {}
        self._mtime: int | None = None
        self._lock = threading.Lock()
        self._reload()

    def _reload(self) -> None:
        """Pick up tokens issued or revoked by `breach tokens` while the console runs."""
        if self.path is None or not self.path.exists() or self.path.stat().st_mtime_ns == self._mtime:
            return
        self._mtime = self.path.stat().st_mtime_ns
        self._tokens = json.loads(self.path.read_text(encoding="utf-8")).get("tokens", {})

    def _save(self) -> None:
        if self.path is not None:
            _write_private(self.path, {"version": 1, "tokens": self._tokens})
            self._mtime = self.path.stat().st_mtime_ns

    def issue(self, label: str, role: str, scopes: tuple[str, ...], expires: timedelta | None = None,
              controllers: Iterable[str] | None = None) -> str:
        """``controllers``: the token's grant (None: every controller)."""
        check_name(label), check_role(role)
        grant = check_controllers(controllers)
        if not scopes or any(s not in SCOPES for s in scopes):
            raise UserError(f"scopes must be some of {', '.join(SCOPES)}")
        if role == "admin":
            raise UserError("a token cannot be an admin: people manage users")
        if expires is not None and expires <= timedelta(0):
            raise UserError("a token's lifetime must be positive")
        token = self.PREFIX + secrets.token_urlsafe(32)
        now = self.clock()
        with self._lock:
            self._reload()
            self._tokens[label] = {"sha256": _digest(token), "role": role, "scopes": list(scopes),
                                   "created": now.isoformat(), "expires": (now + expires).isoformat() if expires
                                   else None, "last_used": None}
            if grant is not None:
                self._tokens[label]["controllers"] = sorted(grant)
            self._save()
        return token

    def revoke(self, label: str) -> None:
        with self._lock:
            self._reload()
            if self._tokens.pop(label, None) is None:
                raise UserError(f"no token {label!r}")
            self._save()

    def list(self) -> list[dict[str, Any]]:
        """Every token's label, role, scopes, created, expires and last use: never its digest."""
        with self._lock:
            self._reload()
            return [{"label": label, "role": e["role"], "scopes": list(e["scopes"]), "created": e.get("created"),
                     "expires": e.get("expires"), "last_used": e.get("last_used"),
                     "controllers": e.get("controllers")}
                    for label, e in sorted(self._tokens.items())]

    def check(self, token: str) -> tuple[User | None, str]:
        """(the token's principal, "") or (None, why: unknown or expired); a use is recorded (its
        time written at most once a minute, so an API call costs no file write)."""
        digest = _digest(token)
        now = self.clock()
        with self._lock:
            self._reload()
            label = next((k for k, e in self._tokens.items() if hmac.compare_digest(e["sha256"], digest)), None)
            if label is None:
                return None, "unknown or revoked token"
            entry = self._tokens[label]
            if entry.get("expires") and now >= datetime.fromisoformat(entry["expires"]):
                return _token_user(label, entry), "expired token"
            last = entry.get("last_used")
            if last is None or now - datetime.fromisoformat(last) >= LAST_USED_STEP:
                entry["last_used"] = now.isoformat()
                self._save()
        return _token_user(label, entry), ""

    def verify(self, token: str) -> User | None:
        user, why = self.check(token)
        return None if why else user


LAST_USED_STEP = timedelta(minutes=1)


def _token_user(label: str, entry: dict[str, Any]) -> User:
    return User(label, entry["role"], kind="token", scopes=tuple(entry["scopes"]), controllers=_grant_of(entry))


def parse_lifetime(text: str) -> timedelta:
    """'30d', '12h', '90m' → a timedelta (a token's --expires)."""
    units = {"d": "days", "h": "hours", "m": "minutes"}
    number, unit = text[:-1], text[-1:]
    if unit not in units or not number.isdigit() or int(number) <= 0:
        raise UserError(f"invalid lifetime {text!r}: a positive whole number of days, hours or minutes (30d, 12h)")
    return timedelta(**{units[unit]: int(number)})


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _write_private(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(data, out, indent=2, sort_keys=True)
    os.replace(tmp, path)


def secret_for(path: Path) -> str:
    """The console's cookie-signing secret, made once and kept in ``path`` (0600)."""
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    secret = secrets.token_urlsafe(48)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(secret + "\n")
    return secret
