"""Server-side console sessions: the browser holds a random id, the console holds the rest.

A session is ``id → user, role, how they logged in, created, last seen`` plus the little a page
keeps between requests (CSRF token, language, a flash message). Because the console holds it, a
session can be ended: logging out deletes it (a copied cookie is then worth nothing), and an
admin's "log out everywhere" (the users page, ``breach users logout NAME``) deletes all of a
user's. A password or role change ends them too: each session keeps a stamp of the user's
password hash and role as they were at login, and a session whose stamp no longer matches is over.

Each session ends at the first of an absolute lifetime from its login and an idle timeout from
its last request. The sessions live in memory and, when the console has a data directory, in
``console-sessions.json`` beside the user file (0600, written whole and renamed into place), so
a restart keeps them and ``breach users logout`` — another process — reaches the console's.
Writers take an exclusive lock on a file beside it, so the console and the CLI never lose each
other's changes; a request's "last seen" is written at most once a minute per session.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SEEN_WRITE_SECONDS = 60.0  # "last seen" reaches the file at most this often per session


class Keep:
    """``update``'s "leave the grant as it is" (None means every controller)."""


KEEP = Keep()


class IdpUnreachable(Exception):
    """The identity provider could not be asked to refresh a session (network, its metadata): not a refusal."""


@dataclass(frozen=True)
class Lifetimes:
    absolute: float = 12 * 3600.0  # seconds from the login
    idle: float = 30 * 60.0  # seconds from the last request
    oidc_absolute: float = 3600.0  # OIDC logins: the IdP's role is read again at the next login


class SessionStore:
    """``start`` at login, ``get`` on each request (None when over), ``end`` at logout, ``end_user``
    for "log out everywhere". ``path`` None: memory only (a console built without settings)."""

    def __init__(self, path: Path | None = None, lifetimes: Lifetimes | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.lifetimes = lifetimes or Lifetimes()
        self.clock = clock
        self._sessions: dict[str, dict[str, Any]] = {}
        self._seen_written: dict[str, float] = {}
        self._signature: tuple[int, int, int] | None = None
        self._lock = threading.Lock()
        with self._lock:
            self._reload()

    # --- the file ----------------------------------------------------------------------------------
    def _reload(self) -> None:
        """Pick up what another process (``breach users logout``) wrote since the last look."""
        if self.path is None:
            return
        try:
            info = self.path.stat()
        except FileNotFoundError:
            if self._signature is not None:  # removed: every session with it
                self._sessions, self._signature = {}, None
            return
        signature = (info.st_ino, info.st_mtime_ns, info.st_size)
        if signature == self._signature:
            return
        self._sessions = json.loads(self.path.read_text(encoding="utf-8")).get("sessions", {})
        self._signature = signature

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """Under the thread lock and the file lock: the latest file, then the change, then the file."""
        with self._lock:
            if self.path is None:
                yield
                self._prune()
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path.with_name(self.path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                self._signature = None  # re-read whatever is there: the lock makes it current
                self._reload()
                yield
                self._prune()
                tmp = self.path.with_name(self.path.name + ".tmp")
                out = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(out, "w", encoding="utf-8") as handle:
                    json.dump({"version": 1, "sessions": self._sessions}, handle, indent=1, sort_keys=True)
                os.replace(tmp, self.path)
                info = self.path.stat()
                self._signature = (info.st_ino, info.st_mtime_ns, info.st_size)
            finally:
                os.close(fd)  # releases the lock

    def _prune(self) -> None:
        """Forget the sessions that are over (so neither memory nor the file grows with old logins)."""
        now = self.clock()
        self._sessions = {k: v for k, v in self._sessions.items() if self._over(v, now) is None}
        self._seen_written = {k: v for k, v in self._seen_written.items() if k in self._sessions}

    # --- sessions ----------------------------------------------------------------------------------
    def _over(self, session: dict[str, Any], now: float) -> str | None:
        """Why ``session`` is over at ``now`` (None: it is not)."""
        # An OIDC session whose role the console re-reads (it holds a refresh token) lives as long as a
        # local one; otherwise its role is the provider's at login, trusted for the shorter lifetime.
        refreshed = bool(session.get("data", {}).get("oidc", {}).get("refresh_token"))
        short = session.get("via") == "oidc" and not refreshed
        absolute = self.lifetimes.oidc_absolute if short else self.lifetimes.absolute
        if now >= session["created"] + absolute:
            return "lifetime"
        if now >= session["seen"] + self.lifetimes.idle:
            return "idle"
        return None

    def start(self, name: str, role: str, via: str, stamp: str, data: dict[str, Any],
              controllers: list[str] | None = None) -> str:
        """A new session for ``name`` (its id, for the cookie); ``stamp``: see ``UserStore.stamp``;
        ``controllers``: the grant an identity provider gave (None: every controller; a local
        user's grant is read from the user file at each request)."""
        sid = secrets.token_urlsafe(32)
        now = self.clock()
        with self._writing():
            self._sessions[sid] = {"name": name, "role": role, "via": via, "stamp": stamp, "created": now,
                                   "seen": now, "data": data, "controllers": controllers}
        self._seen_written[sid] = now
        return sid

    def get(self, sid: str) -> dict[str, Any] | None:
        """The live session ``sid`` (a copy), its "last seen" moved to now; None if unknown or over."""
        now = self.clock()
        with self._lock:
            self._reload()
            session = self._sessions.get(sid)
            if session is None:
                return None
            over = self._over(session, now)
            if over is None:
                session["seen"] = now
                stale = now - self._seen_written.get(sid, 0.0) >= SEEN_WRITE_SECONDS
        if over is not None:
            self.end(sid)
            return None
        if stale and self.path is not None:
            self.update(sid)
        return {**session, "data": dict(session["data"])}

    def update(self, sid: str, data: dict[str, Any] | None = None, role: str | None = None,
               controllers: list[str] | Keep | None = KEEP) -> None:
        """Write the session's "last seen" and, if given, its page data (CSRF, language, flash) and
        its role and grant (read again from the identity provider)."""
        now = self.clock()
        with self._writing():
            session = self._sessions.get(sid)
            if session is not None:  # not ended meanwhile by another process
                session["seen"] = max(session["seen"], now)
                if data is not None:
                    session["data"] = data
                if role is not None:
                    session["role"] = role
                if not isinstance(controllers, Keep):
                    session["controllers"] = controllers
        self._seen_written[sid] = now

    def end(self, sid: str) -> None:
        with self._writing():
            self._sessions.pop(sid, None)
        self._seen_written.pop(sid, None)

    def end_user(self, name: str) -> int:
        """Log ``name`` out everywhere; how many sessions ended."""
        with self._writing():
            ended = [sid for sid, s in self._sessions.items() if s["name"] == name]
            for sid in ended:
                del self._sessions[sid]
        return len(ended)

    def of_user(self) -> dict[str, int]:
        """Live sessions per user name (the users page)."""
        now = self.clock()
        with self._lock:
            self._reload()
            counts: dict[str, int] = {}
            for session in self._sessions.values():
                if self._over(session, now) is None:
                    counts[session["name"]] = counts.get(session["name"], 0) + 1
        return counts
