"""A person's own token (console/personal_tokens.py): signed, expiring, and worth the role the user
has now, not the one they had when they logged in."""

from __future__ import annotations

from pathlib import Path

import pytest

from console import personal_tokens
from console.users import User, UserStore

SECRET = "s" * 48
NOW = 1_800_000_000.0


@pytest.fixture
def users(tmp_path: Path) -> UserStore:
    store = UserStore(tmp_path / "users.json")
    store.add("rita", "responder-password", "responder")
    return store


def test_a_token_names_its_person_until_it_expires(users: UserStore) -> None:
    issued = personal_tokens.issue(SECRET, User("rita", "responder"), hours=2, now=NOW)
    assert issued.token.startswith("brp_") and issued.expires_at == NOW + 7200
    assert personal_tokens.verify(SECRET, issued.token, users, now=NOW + 7199) == User("rita", "responder")
    assert personal_tokens.verify(SECRET, issued.token, users, now=NOW + 7200) is None


def test_the_role_is_the_users_current_one_and_a_removed_user_is_out(users: UserStore) -> None:
    token = personal_tokens.issue(SECRET, User("rita", "responder"), hours=2, now=NOW).token
    users.add("rita", "responder-password", "viewer", replace=True)
    assert personal_tokens.verify(SECRET, token, users, now=NOW) == User("rita", "viewer")
    users.remove("rita")
    assert personal_tokens.verify(SECRET, token, users, now=NOW) is None


def test_another_secret_or_a_machine_cannot_make_one(users: UserStore) -> None:
    token = personal_tokens.issue("another-console-secret-" + "x" * 30, User("rita", "responder"), hours=2,
                                  now=NOW).token
    assert personal_tokens.verify(SECRET, token, users, now=NOW) is None
    assert personal_tokens.verify(SECRET, "brt_" + token[4:], users, now=NOW) is None
    with pytest.raises(ValueError, match="only a person"):
        personal_tokens.issue(SECRET, User("robot", "dpo", kind="token"), hours=2, now=NOW)
