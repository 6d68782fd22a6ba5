"""The `breach` CLI's way to the console: who is logged in (a person's token in the user's config
directory, from `breach login`), where the console and the broker are (what `breach up` wrote in
the data directory), and the console's answers as one line each.

Every command that changes an incident goes through the console's API in the logged-in person's
name, so the console checks their role and the events record who acted: the CLI never writes
a person's command to Kafka itself.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from streams.settings import Settings, load_settings

ENDPOINTS_FILE = "endpoints.json"
CREDENTIALS_FILE = "credentials.json"
# A list of people is imported, or read back for a resend, before the console answers: minutes at worst.
TIMEOUT = 180.0
LOGIN_HINT = "run `breach login` (the CLI acts as the person logged in)"


class CliError(Exception):
    """A user's error or a refusal: printed as one line, exit code 2."""


# --- where things are -----------------------------------------------------------------------------

def config_dir(env: Mapping[str, str]) -> Path:
    """$XDG_CONFIG_HOME/breach, else ~/.config/breach (the XDG base directory default)."""
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME") or Path.home()) / ".config")
    return Path(base) / "breach"


def served_at(host: str, port: int) -> str:
    """The URL a console listening on host:port is reached at from this machine (a wildcard
    listen address is reached on loopback)."""
    if host in ("", "0.0.0.0", "::"):  # noqa: S104 - recognising the wildcard, not binding to it
        host = "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def write_endpoints(data_dir: Path, *, console_url: str, broker_url: str) -> Path:
    """What `breach up` listens on, for the CLI beside it (no secret in it)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / ENDPOINTS_FILE
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({"console_url": console_url, "broker_url": broker_url}, indent=2) + "\n",
                   encoding="utf-8")
    os.replace(tmp, path)
    return path


def read_endpoints(data_dir: Path) -> dict[str, str]:
    path = data_dir / ENDPOINTS_FILE
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CliError(f"{path}: unreadable ({exc}); remove it, or start `make up` again") from None
    return {k: v for k, v in data.items() if isinstance(v, str)} if isinstance(data, dict) else {}


def client_settings(env: Mapping[str, str]) -> Settings:
    """A client command's settings: the environment, and the broker the last `breach up` used unless
    BREACH_BROKER_URL says otherwise (`<data dir>/endpoints.json`)."""
    settings = load_settings(env)
    broker = read_endpoints(settings.data_dir).get("broker_url")
    if broker and not env.get("BREACH_BROKER_URL"):
        settings = replace(settings, broker_url=broker)
    return settings


def console_url(env: Mapping[str, str], data_dir: Path, host: str, port: int) -> str:
    """The console to talk to when nobody is logged in: BREACH_CONSOLE_URL, or BREACH_CONSOLE_HOST/PORT
    when set, else what the last `breach up` wrote, else the defaults."""
    if env.get("BREACH_CONSOLE_URL"):
        return env["BREACH_CONSOLE_URL"].rstrip("/")
    if not (env.get("BREACH_CONSOLE_PORT") or env.get("BREACH_CONSOLE_HOST")):
        written = read_endpoints(data_dir).get("console_url")
        if written:
            return written.rstrip("/")
    return served_at(host, port)


# --- who is logged in -----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Credentials:
    url: str
    token: str
    name: str
    role: str
    expires_at: str

    def expired(self, now: datetime) -> bool:
        try:
            return datetime.fromisoformat(self.expires_at) <= now
        except ValueError:
            return True


def save_credentials(path: Path, credentials: Credentials) -> None:
    """Written whole and renamed into place, readable by its owner only (0600, in a 0700 folder)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump({"url": credentials.url, "token": credentials.token, "name": credentials.name,
                   "role": credentials.role, "expires_at": credentials.expires_at}, out, indent=2)
    os.replace(tmp, path)


def load_credentials(path: Path) -> Credentials | None:
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Credentials(**{k: str(data[k]) for k in ("url", "token", "name", "role", "expires_at")})
    except (OSError, ValueError, KeyError, TypeError):
        raise CliError(f"{path}: unreadable; {LOGIN_HINT} again") from None


# --- talking to the console ----------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Console:
    url: str
    authorization: str  # the whole header value: "Bearer brp_…" or "Basic …"
    # personal: a login's token; login: a name and password being traded for one; demo: the
    # embedded stack's demo login, for reading without a login.
    via: str = "personal"

    @classmethod
    def basic(cls, url: str, name: str, password: str, via: str = "login") -> Console:
        return cls(url, "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode(), via)

    def get(self, path: str) -> Any:
        return self.call("GET", path)

    def post_json(self, path: str, body: Mapping[str, Any]) -> Any:
        return self.call("POST", path, json.dumps(body).encode(), "application/json")

    def text(self, path: str, accept: str = "text/plain") -> str:
        """A page that is not JSON (an incident's report), as text."""
        return str(self.call("GET", path, accept=accept))

    def call(self, method: str, path: str, data: bytes | None = None, content_type: str | None = None,
             accept: str = "application/json") -> Any:
        if not self.url.startswith(("http://", "https://")):
            raise CliError(f"the console's address must start with http:// or https://, not {self.url!r}")
        headers = {"Authorization": self.authorization, "Accept": accept}
        if content_type:
            headers["Content-Type"] = content_type
        request = urllib.request.Request(self.url + path, data=data, method=method,  # noqa: S310 - checked above
                                         headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310 - http(s) only
                if accept != "application/json":
                    return response.read().decode("utf-8")
                return json.load(response)
        except urllib.error.HTTPError as exc:
            raise CliError(self._refusal(exc)) from None
        except urllib.error.URLError as exc:
            raise CliError(f"cannot reach the console at {self.url} ({exc.reason}); is `make up` running?") from None
        except (OSError, http.client.HTTPException, ValueError) as exc:
            raise CliError(f"no usable answer from the console at {self.url} ({type(exc).__name__})") from None

    def _refusal(self, exc: urllib.error.HTTPError) -> str:
        try:
            error = str(json.load(exc).get("error") or "")
        except (ValueError, AttributeError, OSError):
            error = ""
        if exc.code == 401 and self.via == "personal":
            return f"the console at {self.url} no longer accepts your login (expired or revoked): {LOGIN_HINT}"
        if exc.code == 401 and self.via == "login":
            return f"the console at {self.url} refused the name or password"
        if exc.code == 401:
            return f"the console at {self.url} wants to know who you are: {LOGIN_HINT}"
        return f"refused by the console (HTTP {exc.code}): {error or exc.reason}"


def incident_id(console: Console, given: str) -> str:
    """An incident id, or the reference people read out (BR-…), resolved by the console."""
    if not given.upper().startswith("BR-"):
        return given
    matches = [i["id"] for i in console.get("/api/incidents")["incidents"] if i["reference"] == given.upper()]
    if len(matches) != 1:
        raise CliError(f"no incident with reference {given}")
    return str(matches[0])


def quoted(value: str) -> str:
    return urllib.parse.quote(value, safe="")
