"""A person's own token (console/personal_tokens.py): signed, expiring, and worth the role and grant
the user had when they logged in only while those (and the password) stay as they were."""

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


def issue(users: UserStore, name: str = "rita", secret: str = SECRET) -> str:
    user = users.get(name)
    assert user is not None
    return personal_tokens.issue(secret, user, users.stamp(name) or "", hours=2, now=NOW).token


def test_a_token_names_its_person_until_it_expires(users: UserStore) -> None:
    rita = users.get("rita")
    assert rita is not None
    issued = personal_tokens.issue(SECRET, rita, users.stamp("rita") or "", hours=2, now=NOW)
    assert issued.token.startswith("brp_") and issued.expires_at == NOW + 7200
    assert personal_tokens.verify(SECRET, issued.token, users, now=NOW + 7199) == User("rita", "responder")
    assert personal_tokens.verify(SECRET, issued.token, users, now=NOW + 7200) is None


def test_a_password_role_or_grant_change_or_a_removal_ends_the_token(users: UserStore) -> None:
    token = issue(users)
    users.add("rita", "a-new-password", "responder", replace=True)  # the password
    assert personal_tokens.verify(SECRET, token, users, now=NOW) is None
    token = issue(users)
    users.add("rita", "a-new-password", "viewer", replace=True)  # the role
    assert personal_tokens.verify(SECRET, token, users, now=NOW) is None
    token = issue(users)
    assert personal_tokens.verify(SECRET, token, users, now=NOW) == User("rita", "viewer")
    users.add("rita", "a-new-password", "viewer", replace=True, controllers=["ama"])  # the grant
    assert personal_tokens.verify(SECRET, token, users, now=NOW) is None
    token = issue(users)
    assert personal_tokens.verify(SECRET, token, users, now=NOW) == User("rita", "viewer",
                                                                        controllers=frozenset({"ama"}))
    users.remove("rita")
    assert personal_tokens.verify(SECRET, token, users, now=NOW) is None


def test_a_token_without_a_stamp_is_refused(users: UserStore) -> None:
    """Tokens issued before stamps (or forged without one by a holder of the secret) name no state to check."""
    from itsdangerous import URLSafeSerializer

    old = "brp_" + URLSafeSerializer(SECRET, salt="breach-personal-token").dumps({"name": "rita", "exp": int(NOW) + 60})
    assert personal_tokens.verify(SECRET, old, users, now=NOW) is None


def test_another_secret_or_a_machine_cannot_make_one(users: UserStore) -> None:
    token = issue(users, secret="another-console-secret-" + "x" * 30)
    assert personal_tokens.verify(SECRET, token, users, now=NOW) is None
    assert personal_tokens.verify(SECRET, "brt_" + token[4:], users, now=NOW) is None
    with pytest.raises(ValueError, match="only a person"):
        personal_tokens.issue(SECRET, User("robot", "dpo", kind="token"), "", hours=2, now=NOW)
