"""`breach users` and `breach tokens`: passwords from a prompt or standard input (never argv),
argon2 hashes in a private file, tokens shown once and kept as digests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from console.users import TokenStore, UserStore
from streams.settings import ROOT


def breach(tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BREACH_DATA_DIR": str(tmp_path)}
    return subprocess.run([sys.executable, "-m", "streams.cli", *args], input=stdin, text=True, env=env, cwd=ROOT,
                          capture_output=True, timeout=60, check=False)


def test_a_user_is_added_with_the_password_from_standard_input(tmp_path: Path) -> None:
    added = breach(tmp_path, "users", "add", "alice", "--role", "dpo", stdin="correct horse battery\n")
    assert added.returncode == 0, added.stderr
    assert "alice (dpo)" in added.stdout and "correct horse" not in added.stdout + added.stderr
    users_file = tmp_path / "console-users.json"
    assert users_file.stat().st_mode & 0o777 == 0o600
    stored = users_file.read_text()
    assert "$argon2id$" in stored and "correct horse" not in stored
    store = UserStore(users_file)
    assert store.verify("alice", "correct horse battery") is not None
    assert store.verify("alice", "wrong horse battery") is None
    assert breach(tmp_path, "users", "list").stdout.split() == ["alice", "dpo", "*"]  # every controller


def test_a_user_and_a_token_are_granted_controllers(tmp_path: Path) -> None:
    added = breach(tmp_path, "users", "add", "amelie", "--role", "viewer", "--controller", "ama",
                   "--controller", "ampere", stdin="long enough\n")
    assert added.returncode == 0 and "amelie (viewer, controllers ama,ampere)" in added.stdout, added.stderr
    user = UserStore(tmp_path / "console-users.json").get("amelie")
    assert user is not None and user.controllers == {"ama", "ampere"}
    assert breach(tmp_path, "users", "list").stdout.split() == ["amelie", "viewer", "ama,ampere"]
    # A new password keeps the grant (a reset never widens it); '*' widens it on purpose.
    def grant() -> object:
        found = UserStore(tmp_path / "console-users.json").get("amelie")
        return found.controllers if found else "missing"

    assert breach(tmp_path, "users", "add", "amelie", "--role", "viewer", "--replace", stdin="a new one!\n"
                  ).returncode == 0
    assert grant() == {"ama", "ampere"}
    assert breach(tmp_path, "users", "add", "amelie", "--role", "viewer", "--replace", "--controller", "*",
                  stdin="a new one!\n").returncode == 0
    assert grant() is None
    issued = breach(tmp_path, "tokens", "add", "ama-dashboard", "--role", "viewer", "--controller", "ama")
    token = TokenStore(tmp_path / "console-tokens.json").verify(issued.stdout.strip())
    assert token is not None and token.controllers == {"ama"}
    assert breach(tmp_path, "tokens", "list").stdout.splitlines()[1].endswith("\tama")
    bad = breach(tmp_path, "users", "add", "eve", "--role", "viewer", "--controller", "no such/id",
                 stdin="long enough\n")
    assert bad.returncode == 2 and "invalid controller id" in bad.stderr


def test_bad_users_are_refused_with_a_reason_and_nothing_changes(tmp_path: Path) -> None:
    assert breach(tmp_path, "users", "add", "bob", "--role", "responder", stdin="long enough\n").returncode == 0
    before = (tmp_path / "console-users.json").read_text()
    short = breach(tmp_path, "users", "add", "carol", "--role", "viewer", stdin="short\n")
    assert short.returncode == 2 and "at least 8 characters" in short.stderr
    again = breach(tmp_path, "users", "add", "bob", "--role", "dpo", stdin="another password\n")
    assert again.returncode == 2 and "--replace" in again.stderr
    bad_name = breach(tmp_path, "users", "add", "Bob Smith", "--role", "dpo", stdin="another password\n")
    assert bad_name.returncode == 2 and "invalid name" in bad_name.stderr
    assert (tmp_path / "console-users.json").read_text() == before
    role = breach(tmp_path, "users", "add", "bob", "--role", "superuser", stdin="x\n")
    assert role.returncode == 2 and "invalid choice" in role.stderr
    replaced = breach(tmp_path, "users", "add", "bob", "--role", "dpo", "--replace", stdin="another password\n")
    assert replaced.returncode == 0 and UserStore(tmp_path / "console-users.json").get("bob").role == "dpo"
    assert breach(tmp_path, "users", "remove", "bob").returncode == 0
    assert UserStore(tmp_path / "console-users.json").get("bob") is None


def test_a_token_is_printed_once_and_kept_as_a_digest(tmp_path: Path) -> None:
    issued = breach(tmp_path, "tokens", "add", "siem-bridge", "--role", "responder", "--scope", "read",
                    "--scope", "act")
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip()
    assert token.startswith("brt_") and len(token) > 40
    assert token not in (tmp_path / "console-tokens.json").read_text()
    user = TokenStore(tmp_path / "console-tokens.json").verify(token)
    assert user is not None and (user.actor, user.role, user.scopes) == ("token:siem-bridge", "responder",
                                                                        ("read", "act"))
    assert TokenStore(tmp_path / "console-tokens.json").verify(token[:-1] + "x") is None
    admin = breach(tmp_path, "tokens", "add", "root", "--role", "admin")
    assert admin.returncode == 2
